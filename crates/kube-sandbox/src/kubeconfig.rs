//! The kubeconfig of a sandbox: its server, bearer token, context `kubetutor-sandbox` and
//! namespace. Whoever writes it to a file keeps it private (the tutor writes it with mode 0600).

use serde_json::json;

use crate::consts::KUBECONFIG_CONTEXT as CONTEXT;

/// The kubeconfig YAML for a sandbox at `server` (e.g. `https://127.0.0.1:6443`), trusting the
/// PEM certificate authority `ca` when given.
pub(crate) fn render(server: &str, token: &str, namespace: &str, ca: Option<&str>) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubeconfig_parses() {
        let yaml = render("https://127.0.0.1:1234", "tok", "default", Some("-----BEGIN CERTIFICATE-----\n"));
        let kc: kube::config::Kubeconfig = serde_yaml::from_str(&yaml).unwrap();
        assert_eq!(kc.current_context.as_deref(), Some(CONTEXT));
        let cluster = kc.clusters[0].cluster.as_ref().unwrap();
        assert_eq!(cluster.certificate_authority_data.as_deref(), Some("LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg=="));
    }
}
