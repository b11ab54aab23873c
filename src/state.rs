//! Where kubetutor keeps what must survive a restart (progress, editor drafts, the sandbox
//! kubeconfig): the XDG state dir, written atomically so a crash never leaves half a file.

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// `$KUBETUTOR_STATE_DIR`, else `$XDG_STATE_HOME/kubetutor` (or `~/.local/state/kubetutor`).
/// Tests point `KUBETUTOR_STATE_DIR` at a temporary directory.
pub fn state_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("KUBETUTOR_STATE_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    dirs::state_dir()
        .or_else(|| dirs::home_dir().map(|h| h.join(".local/state")))
        .unwrap_or_else(std::env::temp_dir)
        .join("kubetutor")
}

/// Where `kubetutor sandbox` writes its kubeconfig unless told otherwise.
pub fn sandbox_kubeconfig() -> PathBuf {
    state_dir().join("sandbox.kubeconfig")
}

/// Replace `path` with `contents` atomically (write a temporary file, fsync, rename), mode 0600:
/// readable only by its owner, as a kubeconfig with a token must be.
pub fn write_atomic(path: &Path, contents: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp)?;
        f.write_all(contents.as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_files_are_private_and_replace_the_old_one() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a/b.kubeconfig");
        write_atomic(&p, "old").unwrap();
        write_atomic(&p, "new").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
        }
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "new");
        assert_eq!(std::fs::read_dir(dir.path().join("a")).unwrap().count(), 1, "no temporary file left");
    }
}
