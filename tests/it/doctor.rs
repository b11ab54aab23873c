//! The preflight doctor against served sandboxes, as against a real cluster: a healthy one, one
//! without a default StorageClass (blocking), an attendee pointed at someone else's namespace
//! (RBAC blocking, verbs listed), an image that does not exist, and a missing namespace.

use std::time::Duration;

use kube_sandbox::SandboxConfig;
use kubetutor::cluster::doctor::{self, Level, Needs};
use kubetutor::cluster::{self, KubeconfigOptions};

use super::support::{serve_with, server_of};

async fn connect(kubeconfig: &str, namespace: Option<&str>) -> (cluster::Cluster, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kubeconfig");
    std::fs::write(&path, kubeconfig).unwrap();
    let opts =
        KubeconfigOptions { kubeconfig: Some(path), namespace: namespace.map(str::to_string), ..Default::default() };
    (cluster::connect_kubeconfig(&opts).await.unwrap(), dir)
}

fn needs(images: &[&str]) -> Needs {
    Needs { images: images.iter().map(ToString::to_string).collect(), timeout: Duration::from_secs(10) }
}

fn finding<'a>(fs: &'a [doctor::Finding], check: &str) -> &'a doctor::Finding {
    fs.iter().find(|f| f.check == check).unwrap_or_else(|| panic!("no {check} finding in {fs:?}"))
}

#[tokio::test]
async fn a_healthy_sandbox_passes_and_a_bare_one_lacks_storage() {
    let served = serve_with(SandboxConfig { speed: f64::INFINITY, ..Default::default() }).await;
    let (cl, _d) = connect(&served.kubeconfig, None).await;
    let fs = doctor::run(&cl, &needs(&["nginx:mainline", "alpine:3.8", "nginx:no-such-tag"])).await;
    assert!(finding(&fs, "API server").message.contains("Kubernetes v1.33"), "{fs:?}");
    for check in ["namespace", "RBAC", "StorageClass", "cluster DNS"] {
        assert_eq!(finding(&fs, check).level, Level::Ok, "{fs:?}");
    }
    let images: Vec<_> = fs.iter().filter(|f| f.check == "image").collect();
    assert_eq!(images.len(), 3);
    assert_eq!(images[0].level, Level::Ok);
    assert_eq!(images[1].level, Level::Ok);
    assert_eq!(images[2].level, Level::Blocking);
    assert!(images[2].message.starts_with("nginx:no-such-tag cannot be pulled"), "{}", images[2].message);
    assert_eq!(doctor::worst(&fs), Level::Blocking);

    let bare =
        serve_with(SandboxConfig { speed: f64::INFINITY, default_storage_class: false, ..Default::default() }).await;
    let (cl, _d) = connect(&bare.kubeconfig, None).await;
    let fs = doctor::run(&cl, &needs(&["nginx:mainline"])).await;
    let sc = finding(&fs, "StorageClass");
    assert_eq!(sc.level, Level::Blocking);
    assert!(sc.message.contains("no StorageClass") && sc.message.contains("Pending"), "{}", sc.message);
    assert!(sc.fix.as_deref().unwrap().contains("minikube addons enable"), "{sc:?}");
    let text = doctor::render(&fs);
    assert!(text.contains("FAIL  StorageClass"), "{text}");
}

#[tokio::test]
async fn an_attendee_outside_its_namespace_lacks_every_verb() {
    let served = serve_with(SandboxConfig { speed: f64::INFINITY, attendees: 2, ..Default::default() }).await;
    let server = server_of(&served.kubeconfig);
    let attendee = served.sandbox.attendee_kubeconfig(&server, &served.sandbox.attendees()[0]);

    let (own, _d) = connect(&attendee, None).await;
    assert_eq!(own.namespace, "attendee-01");
    own.ensure_namespace().await.unwrap();
    let fs = doctor::run(&own, &needs(&[])).await;
    assert_eq!(finding(&fs, "RBAC").level, Level::Ok, "{fs:?}");
    assert_eq!(finding(&fs, "StorageClass").level, Level::Ok, "{fs:?}");

    let (other, _d) = connect(&attendee, Some("attendee-02")).await;
    let fs = doctor::run(&other, &needs(&[])).await;
    let rbac = finding(&fs, "RBAC");
    assert_eq!(rbac.level, Level::Blocking);
    assert!(
        rbac.message.starts_with(
            "not allowed in namespace attendee-02: services (get, list, watch, create, patch, delete); statefulsets.apps"
        ),
        "{}",
        rbac.message
    );
    assert!(rbac.message.contains("; pods/log (get); "), "{}", rbac.message);

    // A namespace that does not exist: the admin may create it; kubetutor does.
    let (admin, _d) = connect(&served.kubeconfig, Some("kubetutor")).await;
    let fs = doctor::run(&admin, &needs(&[])).await;
    assert_eq!(finding(&fs, "namespace").level, Level::Warning);
    admin.ensure_namespace().await.unwrap();
    let fs = doctor::run(&admin, &needs(&[])).await;
    assert_eq!(finding(&fs, "namespace").level, Level::Ok);
}

#[test]
fn the_workshop_role_grants_what_the_doctor_checks() {
    use k8s_openapi::api::rbac::v1::Role;
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/workshop-rbac.yaml")).unwrap();
    let docs: Vec<serde_json::Value> =
        serde_yaml::Deserializer::from_str(&text).map(|d| serde::Deserialize::deserialize(d).unwrap()).collect();
    let kinds: Vec<&str> = docs.iter().map(|d| d["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["Namespace", "ServiceAccount", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"]);
    let role: Role = serde_json::from_value(docs[2].clone()).unwrap();
    let rules = role.rules.unwrap();
    assert_eq!(doctor::missing_from_role(&rules), Vec::<String>::new());
    // The check can fail: without the pods/log rule, that verb is reported.
    let fewer: Vec<_> = rules.into_iter().filter(|r| r.resources.as_ref().unwrap() != &["pods/log"]).collect();
    assert_eq!(doctor::missing_from_role(&fewer), ["get pods/log"]);
}
