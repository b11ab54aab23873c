//! The preflight doctor: can the lesson run on this cluster? Each finding is ok, warning or
//! blocking, with the fix. Checks the API and its version, the namespace, RBAC for every verb
//! the lesson needs (SelfSubjectAccessReview), a default StorageClass, cluster DNS and that the
//! lesson's images can be pulled (probe pods), and kubeconfig pitfalls.

use std::time::Duration;

use k8s_openapi::api::authorization::v1::{ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec};
use k8s_openapi::api::core::v1::{Namespace, Pod};
use k8s_openapi::api::storage::v1::StorageClass;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::ResourceExt;
use serde::Serialize;
use serde_json::json;

use super::errors::explain;
use super::{probe, Backend, Cluster};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Ok,
    Warning,
    Blocking,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// What was checked: `API server`, `RBAC`, `StorageClass`, ...
    pub check: &'static str,
    pub level: Level,
    pub message: String,
    /// What to do about it, when not ok.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Finding {
    fn ok(check: &'static str, message: impl Into<String>) -> Finding {
        Finding { check, level: Level::Ok, message: message.into(), fix: None }
    }
    fn warn(check: &'static str, message: impl Into<String>, fix: impl Into<String>) -> Finding {
        Finding { check, level: Level::Warning, message: message.into(), fix: Some(fix.into()) }
    }
    fn block(check: &'static str, message: impl Into<String>, fix: impl Into<String>) -> Finding {
        Finding { check, level: Level::Blocking, message: message.into(), fix: Some(fix.into()) }
    }
}

/// (group, resource, verbs) the lesson uses in its namespace.
pub const NEEDS: &[(&str, &str, &[&str])] = &[
    ("", "services", &["get", "list", "watch", "create", "patch", "delete"]),
    ("apps", "statefulsets", &["get", "list", "watch", "create", "patch", "delete"]),
    ("apps", "statefulsets/scale", &["patch"]),
    ("", "pods", &["get", "list", "watch", "create", "delete"]),
    ("", "pods/log", &["get"]),
    ("", "persistentvolumeclaims", &["get", "list", "watch", "delete"]),
    ("", "configmaps", &["get", "create", "patch"]),
    ("", "events", &["list", "watch"]),
];

/// What the lesson needs of the cluster besides RBAC.
#[derive(Debug, Clone)]
pub struct Needs {
    /// Images the lesson's pods use.
    pub images: Vec<String>,
    /// How long a probe pod may take (image pull on a real cluster).
    pub timeout: Duration,
}

/// Run every check, in order; a blocking API finding ends the run early (nothing else can work).
pub async fn run(cluster: &Cluster, needs: &Needs) -> Vec<Finding> {
    let mut out = Vec::new();
    out.extend(kubeconfig_pitfalls(cluster));
    match cluster.client.apiserver_version().await {
        Ok(v) => out.push(Finding::ok("API server", format!("reachable, Kubernetes {}", v.git_version))),
        Err(e) => {
            out.push(Finding::block("API server", format!("not reachable: {}", explain(&e)), unreachable_fix(cluster)));
            return out;
        }
    }
    out.push(namespace(cluster).await);
    out.push(rbac(cluster).await);
    out.push(storage_class(cluster).await);
    let (dns, images) = tokio::join!(dns(cluster, needs.timeout), images(cluster, needs));
    out.push(dns);
    out.extend(images);
    out
}

fn kubeconfig_pitfalls(cluster: &Cluster) -> Option<Finding> {
    let Backend::Kubeconfig { server, context } = &cluster.backend else { return None };
    let host = url::Url::parse(server).ok()?.host_str()?.to_string();
    (host == "0.0.0.0").then(|| {
        Finding::warn(
            "kubeconfig",
            format!("context {context} points at {server}: 0.0.0.0 means \"every address of this machine\", which works here but not from another machine or a container"),
            "use https://127.0.0.1:<port> in the kubeconfig (k3d: `k3d cluster create --api-port 127.0.0.1:6550`)",
        )
    })
}

fn unreachable_fix(cluster: &Cluster) -> String {
    match &cluster.backend {
        Backend::Sandbox { .. } => "restart kubetutor (the sandbox runs inside it)".into(),
        Backend::Kubeconfig { context, .. } if context == kube_sandbox::consts::KUBECONFIG_CONTEXT => {
            SANDBOX_GONE.to_string()
        }
        Backend::Kubeconfig { context, .. } => format!(
            "check that the cluster of context {context} is running (`kind get clusters`, `minikube status`, `k3d cluster list`) and that `kubectl --context {context} version` works"
        ),
    }
}

/// What to do when the kubeconfig is the sandbox's and nothing answers.
pub const SANDBOX_GONE: &str = "this kubeconfig is kubetutor's sandbox, which lives only while `kubetutor` or `kubetutor sandbox` runs: start one of them (it writes a fresh kubeconfig), then try again";

async fn namespace(cluster: &Cluster) -> Finding {
    let ns = &cluster.namespace;
    let api: Api<Namespace> = Api::all(cluster.client.clone());
    match api.get_opt(ns).await {
        Ok(Some(_)) => Finding::ok("namespace", format!("{ns} exists")),
        Ok(None) => Finding::warn(
            "namespace",
            format!("{ns} does not exist yet"),
            format!("kubetutor creates it when it starts, if allowed; or: kubectl create namespace {ns}"),
        ),
        // Attendees often may not read Namespace objects; their access review below says more.
        Err(kube::Error::Api(e)) if e.code == 403 => {
            Finding::ok("namespace", format!("{ns} (not allowed to read the Namespace object; fine for the lesson)"))
        }
        Err(e) => Finding::warn(
            "namespace",
            format!("cannot read namespace {ns}: {}", explain(&e)),
            "see the API server finding",
        ),
    }
}

async fn can(cluster: &Cluster, group: &str, resource: &str, verb: &str) -> Result<bool, kube::Error> {
    let (resource, sub) = match resource.split_once('/') {
        Some((r, s)) => (r, Some(s.to_string())),
        None => (resource, None),
    };
    let review = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                group: Some(group.into()),
                resource: Some(resource.into()),
                subresource: sub,
                verb: Some(verb.into()),
                namespace: Some(cluster.namespace.clone()),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    let api: Api<SelfSubjectAccessReview> = Api::all(cluster.client.clone());
    Ok(api.create(&PostParams::default(), &review).await?.status.is_some_and(|s| s.allowed))
}

async fn rbac(cluster: &Cluster) -> Finding {
    // Per resource, the verbs it lacks: "services (get, list, watch)".
    let mut missing = Vec::new();
    for (group, resource, verbs) in NEEDS {
        let mut lacks = Vec::new();
        for verb in *verbs {
            match can(cluster, group, resource, verb).await {
                Ok(true) => {}
                Ok(false) => lacks.push(*verb),
                Err(e) => {
                    return Finding::warn(
                        "RBAC",
                        format!("cannot ask the API server what this user may do: {}", explain(&e)),
                        "the lesson may still work; `kubectl auth can-i --list` shows your permissions",
                    )
                }
            }
        }
        if !lacks.is_empty() {
            let qualified = if group.is_empty() { resource.to_string() } else { format!("{resource}.{group}") };
            missing.push(format!("{qualified} ({})", lacks.join(", ")));
        }
    }
    if missing.is_empty() {
        return Finding::ok("RBAC", format!("every verb the lesson needs is allowed in {}", cluster.namespace));
    }
    Finding::block(
        "RBAC",
        format!("not allowed in namespace {}: {}", cluster.namespace, missing.join("; ")),
        "ask the cluster admin for the Role in assets/workshop-rbac.yaml (bound to you in this namespace), or pick another namespace with --namespace",
    )
}

async fn storage_class(cluster: &Cluster) -> Finding {
    let api: Api<StorageClass> = Api::all(cluster.client.clone());
    let classes = match api.list(&ListParams::default()).await {
        Ok(l) => l.items,
        Err(e) => {
            return Finding::warn(
                "StorageClass",
                format!("cannot list StorageClasses: {}", explain(&e)),
                "if the lesson's claims stay Pending, the cluster lacks a default StorageClass",
            )
        }
    };
    let default = classes.iter().find(|c| {
        let a = c.annotations();
        ["storageclass.kubernetes.io/is-default-class", "storageclass.beta.kubernetes.io/is-default-class"]
            .iter()
            .any(|k| a.get(*k).map(String::as_str) == Some("true"))
    });
    match default {
        Some(c) => Finding::ok("StorageClass", format!("default is {} ({})", c.name_any(), c.provisioner)),
        None => Finding::block(
            "StorageClass",
            match classes.len() {
                0 => "the cluster has no StorageClass: the lesson's PersistentVolumeClaims would stay Pending".to_string(),
                _ => format!(
                    "none of the StorageClasses ({}) is the default: claims without storageClassName would stay Pending",
                    classes.iter().map(ResourceExt::name_any).collect::<Vec<_>>().join(", ")
                ),
            },
            "kind and k3d ship one (`standard`, `local-path`); on minikube: `minikube addons enable storage-provisioner default-storageclass`; elsewhere install a provisioner such as local-path-provisioner and mark it default: kubectl patch storageclass NAME -p '{\"metadata\":{\"annotations\":{\"storageclass.kubernetes.io/is-default-class\":\"true\"}}}'",
        ),
    }
}

async fn dns(cluster: &Cluster, timeout: Duration) -> Finding {
    // The full name: busybox's nslookup after 1.28 handles search domains poorly.
    let script = "nslookup kubernetes.default.svc.cluster.local";
    match probe::run(cluster, probe::PROBE_IMAGE, script, timeout).await {
        Ok(out) if out.log.contains("Name:") => {
            Finding::ok("cluster DNS", "answers (nslookup kubernetes.default.svc.cluster.local in a probe pod)")
        }
        Ok(out) => Finding::block(
            "cluster DNS",
            format!("a probe pod could not resolve kubernetes.default: {}", out.log.trim()),
            "check the cluster's DNS add-on (CoreDNS): kubectl -n kube-system get pods -l k8s-app=kube-dns",
        ),
        Err(e) => Finding::block(
            "cluster DNS",
            format!("the DNS probe failed: {e}"),
            "see the image findings; `kubectl get events` tells more",
        ),
    }
}

/// One pod per image; an image counts as pullable once a container of it started or ended.
async fn images(cluster: &Cluster, needs: &Needs) -> Vec<Finding> {
    let checks = needs.images.iter().map(|image| pull(cluster, image, needs.timeout));
    futures::future::join_all(checks).await
}

async fn pull(cluster: &Cluster, image: &str, timeout: Duration) -> Finding {
    let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"generateName": "kubetutor-pull-", "labels": {probe::MANAGED_BY.0: probe::MANAGED_BY.1, "kubetutor.dev/role": "probe"}},
        "spec": {"restartPolicy": "Never", "terminationGracePeriodSeconds": 0,
                 "containers": [{"name": "pull", "image": image}]}
    }))
    .expect("pull pod is well-formed");
    let created = match pods.create(&PostParams::default(), &pod).await {
        Ok(p) => p,
        Err(e) => {
            return Finding::block(
                "image",
                format!("{image}: cannot create a pod to pull it: {}", explain(&e)),
                "see the RBAC finding",
            )
        }
    };
    let name = created.name_any();
    let outcome = tokio::time::timeout(timeout, async {
        loop {
            if let Ok(Some(p)) = pods.get_opt(&name).await {
                for cs in p.status.iter().flat_map(|s| s.container_statuses.iter().flatten()) {
                    let state = cs.state.as_ref();
                    if state.is_some_and(|s| s.running.is_some() || s.terminated.is_some()) {
                        return Ok(());
                    }
                    if let Some(w) = state.and_then(|s| s.waiting.as_ref()) {
                        if matches!(w.reason.as_deref(), Some("ErrImagePull" | "ImagePullBackOff" | "InvalidImageName"))
                        {
                            return Err(w.message.clone().unwrap_or_else(|| w.reason.clone().unwrap_or_default()));
                        }
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await;
    let _ = pods.delete(&name, &DeleteParams { grace_period_seconds: Some(0), ..Default::default() }).await;
    match outcome {
        Ok(Ok(())) => Finding::ok("image", format!("{image} can be pulled")),
        Ok(Err(why)) => Finding::block(
            "image",
            format!("{image} cannot be pulled: {why}"),
            "check the cluster's access to Docker Hub (or a mirror) and the image name",
        ),
        Err(_) => Finding::warn(
            "image",
            format!("{image} was not pulled within {} s", timeout.as_secs()),
            "a slow registry: the lesson will wait longer for its pods",
        ),
    }
}

/// Whether the RBAC rules of a Role (the YAML of `assets/workshop-rbac.yaml`) grant every verb
/// the lesson needs; returns what is missing as `verb resource` pairs.
pub fn missing_from_role(rules: &[k8s_openapi::api::rbac::v1::PolicyRule]) -> Vec<String> {
    let mut missing = Vec::new();
    for (group, resource, verbs) in NEEDS {
        for verb in *verbs {
            let granted = rules.iter().any(|r| {
                let has = |list: &Option<Vec<String>>, want: &str| {
                    list.as_ref().is_some_and(|l| l.iter().any(|x| x == want || x == "*"))
                };
                has(&r.api_groups, group)
                    && has(&r.resources, resource)
                    && r.verbs.iter().any(|v| v == verb || v == "*")
            });
            if !granted {
                missing.push(format!("{verb} {resource}"));
            }
        }
    }
    missing
}

/// The findings as a table for the terminal: `ok   API server   reachable, ...` then the fix.
pub fn render(findings: &[Finding]) -> String {
    let mut out = String::new();
    for f in findings {
        let tag = match f.level {
            Level::Ok => "ok  ",
            Level::Warning => "WARN",
            Level::Blocking => "FAIL",
        };
        out.push_str(&format!("{tag}  {:<13} {}\n", f.check, f.message));
        if let Some(fix) = &f.fix {
            out.push_str(&format!("      {:<13} fix: {fix}\n", ""));
        }
    }
    out
}

/// The worst level among the findings.
pub fn worst(findings: &[Finding]) -> Level {
    findings.iter().map(|f| f.level).max().unwrap_or(Level::Ok)
}
