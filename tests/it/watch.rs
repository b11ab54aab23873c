//! The tutor's cluster layer against a served sandbox, as for a real cluster: connecting by
//! kubeconfig, the watch task's snapshots and history (ordered creation, deletion and
//! re-creation), recovering after the API server goes away, and probe pods.

use std::path::PathBuf;
use std::time::Duration;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::Service;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kubetutor::cluster::watch::{self, ClusterEvent, Connection};
use kubetutor::cluster::{self, probe, Backend, EntryKind, History, KubeconfigOptions};
use serde_json::json;
use tokio::sync::mpsc;

use super::support::{eventually, serve};

fn objects() -> (Service, StatefulSet) {
    let svc = serde_json::from_value(json!({
        "metadata": {"name": "nginx"},
        "spec": {"clusterIP": "None", "ports": [{"port": 80, "name": "web"}], "selector": {"app": "nginx"}}
    }))
    .unwrap();
    let sts = serde_json::from_value(json!({
        "metadata": {"name": "web"},
        "spec": {"serviceName": "nginx", "replicas": 2, "selector": {"matchLabels": {"app": "nginx"}},
            "template": {"metadata": {"labels": {"app": "nginx"}}, "spec": {
                "initContainers": [{"name": "setup", "image": "alpine:3.8",
                    "command": ["/bin/sh", "-c", "echo $(hostname) >> /work-dir/index.html"],
                    "volumeMounts": [{"name": "www", "mountPath": "/work-dir"}]}],
                "containers": [{"name": "nginx", "image": "nginx:mainline",
                    "ports": [{"containerPort": 80, "name": "web"}],
                    "volumeMounts": [{"name": "www", "mountPath": "/usr/share/nginx/html"}]}]}},
            "volumeClaimTemplates": [{"metadata": {"name": "www"}, "spec": {"accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "1Gi"}}}}]}
    }))
    .unwrap();
    (svc, sts)
}

fn kubeconfig_file(dir: &tempfile::TempDir, text: &str) -> PathBuf {
    let path = dir.path().join("kubeconfig");
    std::fs::write(&path, text).unwrap();
    path
}

/// Collect watch events into a history until `done` says the snapshot is what we wait for.
async fn until(
    rx: &mut mpsc::UnboundedReceiver<ClusterEvent>,
    history: &mut History,
    what: &str,
    done: impl Fn(&cluster::Snapshot, &History) -> bool,
) {
    let wait = async {
        while let Some(ev) = rx.recv().await {
            if let ClusterEvent::Changed { snapshot, new_entries } = ev {
                history.entries.extend(new_entries);
                if done(&snapshot, history) {
                    return;
                }
            }
        }
        panic!("watch ended while waiting for {what}");
    };
    tokio::time::timeout(Duration::from_secs(20), wait).await.unwrap_or_else(|_| panic!("timed out: {what}"));
}

fn ready_count(s: &cluster::Snapshot) -> usize {
    s.pods_of("web").iter().filter(|(_, p)| cluster::snapshot::is_ready(p)).count()
}

#[tokio::test]
async fn watch_records_ordered_creation_and_recreation() {
    let served = serve().await;
    let dir = tempfile::tempdir().unwrap();
    let opts = KubeconfigOptions { kubeconfig: Some(kubeconfig_file(&dir, &served.kubeconfig)), ..Default::default() };
    let cl = cluster::connect_kubeconfig(&opts).await.unwrap();
    assert_eq!(cl.namespace, "default");
    assert!(matches!(&cl.backend, Backend::Kubeconfig { context, .. } if context == "kubetutor-sandbox"));
    assert!(cl.describe().contains("context kubetutor-sandbox"));

    let (tx, mut rx) = mpsc::unbounded_channel();
    let _watch = watch::spawn(&cl, tx);
    let mut history = History::default();
    let (svc, sts) = objects();
    Api::<Service>::namespaced(cl.client.clone(), "default").create(&PostParams::default(), &svc).await.unwrap();
    Api::<StatefulSet>::namespaced(cl.client.clone(), "default").create(&PostParams::default(), &sts).await.unwrap();
    until(&mut rx, &mut history, "2 ready pods", |s, _| ready_count(s) == 2 && s.pvcs.len() == 2).await;

    let seq = |name: &str, kind: EntryKind| {
        history.of_pod(name).find(|e| e.kind == kind).map(|e| e.seq).unwrap_or_else(|| panic!("{name} {kind:?}"))
    };
    let created = |name: &str| {
        history
            .of_pod(name)
            .find(|e| matches!(e.kind, EntryKind::PodCreated { .. }))
            .map(|e| e.seq)
            .unwrap_or_else(|| panic!("{name} created"))
    };
    assert!(seq("web-0", EntryKind::PodReady) < created("web-1"), "web-1 created before web-0 was Ready");
    assert!(history.entries.iter().any(|e| e.kind == EntryKind::SetCreated { replicas: 2 }));
    let old_uid = history.of_pod("web-0").next().unwrap().uid.clone();

    let pods = Api::<k8s_openapi::api::core::v1::Pod>::namespaced(cl.client.clone(), "default");
    pods.delete("web-0", &DeleteParams::default()).await.unwrap();
    until(&mut rx, &mut history, "web-0 back and Ready", |s, h| {
        ready_count(s) == 2 && h.of_pod("web-0").any(|e| e.kind == EntryKind::PodReady && e.uid != old_uid)
    })
    .await;
    let kinds: Vec<&EntryKind> = history.of_pod("web-0").map(|e| &e.kind).collect();
    assert!(
        matches!(
            kinds[..],
            [
                EntryKind::PodCreated { .. },
                EntryKind::PodReady,
                EntryKind::PodTerminating,
                ..,
                EntryKind::PodDeleted,
                EntryKind::PodCreated { .. },
                EntryKind::PodReady
            ]
        ),
        "{kinds:?}"
    );
    // The first creation carries the revision the controller stamped on the pod.
    assert!(
        matches!(kinds[0], EntryKind::PodCreated { revision: Some(r), image: Some(i) } if r.starts_with("web-") && i == "nginx:mainline")
    );
}

#[tokio::test]
async fn watch_reports_a_lost_connection_and_relists_what_changed() {
    // A sandbox served on a port we can stop and serve again (same cluster state).
    let sb = kube_sandbox::Sandbox::start(kube_sandbox::SandboxConfig { speed: f64::INFINITY, ..Default::default() })
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let serving = sb.serve_on(listener).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kc = sb.kubeconfig(serving.url(), "default");
    let opts = KubeconfigOptions { kubeconfig: Some(kubeconfig_file(&dir, &kc)), ..Default::default() };
    let cl = cluster::connect_kubeconfig(&opts).await.unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let _watch = watch::spawn(&cl, tx);
    let mut history = History::default();
    let (svc, sts) = objects();
    let inproc = sb.client();
    Api::<Service>::namespaced(inproc.clone(), "default").create(&PostParams::default(), &svc).await.unwrap();
    Api::<StatefulSet>::namespaced(inproc.clone(), "default").create(&PostParams::default(), &sts).await.unwrap();
    until(&mut rx, &mut history, "2 ready pods", |s, _| ready_count(s) == 2).await;

    // The API server goes away; meanwhile web-1 is deleted and re-created.
    serving.stop().await.unwrap();
    let pods = Api::<k8s_openapi::api::core::v1::Pod>::namespaced(inproc.clone(), "default");
    let old = pods.get("web-1").await.unwrap().metadata.uid.unwrap();
    pods.delete("web-1", &DeleteParams::default()).await.unwrap();
    let new = eventually(10, "web-1 re-created", || async {
        let p = pods.get_opt("web-1").await.unwrap()?;
        (p.metadata.uid.as_deref() != Some(&old) && cluster::snapshot::is_ready(&p)).then_some(p)
    })
    .await;
    let reconnecting = async {
        loop {
            match rx.recv().await {
                Some(ClusterEvent::Connection(Connection::Reconnecting { error })) => return error,
                Some(ClusterEvent::Changed { new_entries, .. }) => history.entries.extend(new_entries),
                Some(_) => {}
                None => panic!("watch ended"),
            }
        }
    };
    let error = tokio::time::timeout(Duration::from_secs(20), reconnecting).await.expect("no Reconnecting");
    assert!(!error.is_empty());

    // Serve the same cluster on the same port again: the watch relists and catches up.
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let _serving = sb.serve_on(listener).unwrap();
    let new_uid = new.metadata.uid.unwrap();
    until(&mut rx, &mut history, "the re-created web-1 after the relist", |s, _| {
        s.pods.get("web-1").and_then(|p| p.metadata.uid.as_deref()) == Some(new_uid.as_str())
    })
    .await;
    let kinds: Vec<(&EntryKind, &str)> = history.of_pod("web-1").map(|e| (&e.kind, e.uid.as_str())).collect();
    assert!(kinds.contains(&(&EntryKind::PodDeleted, old.as_str())), "{kinds:?}");
    assert!(kinds.iter().any(|(k, u)| matches!(k, EntryKind::PodCreated { .. }) && *u == new_uid), "{kinds:?}");
}

#[tokio::test]
async fn probe_pod_runs_a_script_and_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    let (cl, _sb) = cluster::start_sandbox(
        kube_sandbox::SandboxConfig { speed: f64::INFINITY, ..Default::default() },
        dir.path().join("sandbox.kubeconfig"),
        "default",
    )
    .await
    .unwrap();
    assert!(cl.is_sandbox());
    assert!(cl.kubectl_hint().unwrap().starts_with("export KUBECONFIG="));
    let mode = std::fs::metadata(dir.path().join("sandbox.kubeconfig")).unwrap();
    assert_eq!(std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o777, 0o600);

    let out =
        probe::run(&cl, probe::PROBE_IMAGE, "echo hello; nslookup no-such-service; exit 3", Duration::from_secs(20))
            .await
            .unwrap();
    assert!(out.log.starts_with("hello\n"), "{}", out.log);
    assert!(out.log.contains("** server can't find no-such-service") && out.log.contains("NXDOMAIN"), "{}", out.log);
    assert_eq!(out.exit_code, Some(3));
    let pods = Api::<k8s_openapi::api::core::v1::Pod>::namespaced(cl.client.clone(), "default");
    eventually(10, "the probe pod deleted", || async {
        pods.list(&ListParams::default()).await.unwrap().items.is_empty().then_some(())
    })
    .await;

    let err = probe::run(&cl, "busybox:no-such-tag", "true", Duration::from_secs(2)).await.unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("did not finish within 2 s") && msg.contains("Pull"), "{msg}");
}

#[tokio::test]
async fn context_flag_picks_the_cluster_and_its_namespace() {
    let (a, b) = (serve().await, serve().await);
    // One kubeconfig holding both sandboxes, as kubectl users keep several clusters.
    let mut ka = kube::config::Kubeconfig::from_yaml(&a.kubeconfig).unwrap();
    let mut kb = kube::config::Kubeconfig::from_yaml(&b.kubeconfig).unwrap();
    let rename = |kc: &mut kube::config::Kubeconfig, name: &str, ns: Option<&str>| {
        kc.clusters[0].name = name.into();
        kc.auth_infos[0].name = name.into();
        kc.contexts[0].name = name.into();
        let ctx = kc.contexts[0].context.as_mut().unwrap();
        ctx.cluster = name.into();
        ctx.user = Some(name.into());
        ctx.namespace = ns.map(str::to_string);
    };
    rename(&mut ka, "first", Some("default"));
    rename(&mut kb, "second", None);
    ka.clusters.extend(kb.clusters);
    ka.auth_infos.extend(kb.auth_infos);
    ka.contexts.extend(kb.contexts);
    ka.current_context = Some("first".into());
    let dir = tempfile::tempdir().unwrap();
    let path = kubeconfig_file(&dir, &serde_yaml::to_string(&ka).unwrap());

    let first =
        cluster::connect_kubeconfig(&KubeconfigOptions { kubeconfig: Some(path.clone()), ..Default::default() })
            .await
            .unwrap();
    assert!(matches!(&first.backend, Backend::Kubeconfig { context, .. } if context == "first"));
    assert_eq!(first.namespace, "default");
    let opts = KubeconfigOptions { kubeconfig: Some(path.clone()), context: Some("second".into()), namespace: None };
    let second = cluster::connect_kubeconfig(&opts).await.unwrap();
    assert!(matches!(&second.backend, Backend::Kubeconfig { context, .. } if context == "second"));
    // The context names no namespace: the lesson gets its own instead of "default".
    assert_eq!(second.namespace, cluster::DEFAULT_NAMESPACE);
    second.ensure_namespace().await.unwrap();
    // It really is the second sandbox: the namespace exists there and not in the first.
    let ns = |c: &cluster::Cluster| Api::<k8s_openapi::api::core::v1::Namespace>::all(c.client.clone());
    assert!(ns(&second).get_opt("kubetutor").await.unwrap().is_some());
    assert!(ns(&first).get_opt("kubetutor").await.unwrap().is_none());

    let opts = KubeconfigOptions { kubeconfig: Some(path), context: Some("third".into()), namespace: None };
    let err = cluster::connect_kubeconfig(&opts).await.err().unwrap().to_string();
    assert!(err.contains("context third"), "{err}");
}
