//! Where kubetutor keeps what must survive a restart (progress, editor drafts, the sandbox
//! kubeconfig): the XDG state dir, written atomically so a crash never leaves half a file.

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

/// Replace `path` with `contents` atomically (write a temporary file, fsync, rename), mode 0600.
pub fn write_atomic(path: &Path, contents: &str) -> std::io::Result<()> {
    crate::sandbox::kubeconfig::write_private(path, contents)
}
