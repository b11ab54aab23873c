//! The kubeconfig `kubetutor sandbox` writes: loopback server, bearer token, context
//! `kubetutor-sandbox`, namespace `default`; written atomically with mode 0600.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::json;

pub const CONTEXT: &str = "kubetutor-sandbox";

/// The kubeconfig YAML for a sandbox at `server` (e.g. `https://127.0.0.1:6443`), trusting the
/// PEM certificate authority `ca` when given.
pub fn render(server: &str, token: &str, namespace: &str, ca: Option<&str>) -> String {
    use base64::Engine as _;
    let mut cluster = json!({"server": server});
    if let Some(ca) = ca {
        cluster["certificate-authority-data"] = json!(base64::engine::general_purpose::STANDARD.encode(ca));
    }
    let doc = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": CONTEXT, "cluster": cluster}],
        "users": [{"name": CONTEXT, "user": {"token": token}}],
        "contexts": [{"name": CONTEXT, "context": {"cluster": CONTEXT, "user": CONTEXT, "namespace": namespace}}],
        "current-context": CONTEXT,
        "preferences": {},
    });
    serde_yaml::to_string(&doc).unwrap_or_default()
}

/// Write a file readable only by its owner, replacing any old one atomically.
pub fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
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

/// `$XDG_STATE_HOME/kubetutor/sandbox.kubeconfig` (or `~/.local/state/...`).
pub fn default_path() -> PathBuf {
    dirs::state_dir()
        .or_else(|| dirs::home_dir().map(|h| h.join(".local/state")))
        .unwrap_or_else(std::env::temp_dir)
        .join("kubetutor")
        .join("sandbox.kubeconfig")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubeconfig_parses_and_is_private() {
        let yaml = render("https://127.0.0.1:1234", "tok", "default", Some("-----BEGIN CERTIFICATE-----\n"));
        let kc: kube::config::Kubeconfig = serde_yaml::from_str(&yaml).unwrap();
        assert_eq!(kc.current_context.as_deref(), Some(CONTEXT));
        let cluster = kc.clusters[0].cluster.as_ref().unwrap();
        assert_eq!(cluster.certificate_authority_data.as_deref(), Some("LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg=="));
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a/b.kubeconfig");
        write_private(&p, &yaml).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
        }
        assert_eq!(std::fs::read_to_string(&p).unwrap(), yaml);
    }
}
