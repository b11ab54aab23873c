//! Cluster behaviour through kube-rs: the StatefulSet controller (ordered and parallel creation,
//! re-creation, scaling order, partitioned rolling updates, OnDelete, claim retention), the
//! kubelet (image pulls, init containers, probe pods' logs), DNS and HTTP, and Endpoints.

use std::sync::{Arc, Mutex};

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{Endpoints, Event, PersistentVolumeClaim, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{Api, DeleteParams, ListParams, LogParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use kube::Client;
use serde_json::{json, Value};

use super::support::{eventually, serve};

fn headless() -> Service {
    serde_json::from_value(json!({
        "metadata": {"name": "nginx", "labels": {"app": "nginx"}},
        "spec": {"ports": [{"port": 80, "name": "web"}], "clusterIP": "None", "selector": {"app": "nginx"}}
    }))
    .unwrap()
}

/// The exercise's StatefulSet: nginx plus an init container appending the hostname to index.html.
fn web(replicas: i32, extra_spec: Value) -> StatefulSet {
    let mut v = json!({
        "metadata": {"name": "web"},
        "spec": {
            "serviceName": "nginx", "replicas": replicas,
            "selector": {"matchLabels": {"app": "nginx"}},
            "template": {"metadata": {"labels": {"app": "nginx"}}, "spec": {
                "initContainers": [{"name": "init", "image": "alpine:3.8",
                    "command": ["sh", "-c", "echo $(hostname) >> /usr/share/nginx/html/index.html"],
                    "volumeMounts": [{"name": "www", "mountPath": "/usr/share/nginx/html"}]}],
                "containers": [{"name": "nginx", "image": "nginx:1.30", "ports": [{"containerPort": 80, "name": "web"}],
                    "volumeMounts": [{"name": "www", "mountPath": "/usr/share/nginx/html"}]}]}},
            "volumeClaimTemplates": [{"metadata": {"name": "www"}, "spec": {
                "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]
        }
    });
    if let (Some(spec), Some(extra)) = (v["spec"].as_object_mut(), extra_spec.as_object()) {
        for (k, val) in extra {
            spec.insert(k.clone(), val.clone());
        }
    }
    serde_json::from_value(v).unwrap()
}

fn is_ready(p: &Pod) -> bool {
    p.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

fn image_of(p: &Pod) -> String {
    p.spec.as_ref().unwrap().containers[0].image.clone().unwrap_or_default()
}

/// A timeline of pod watch events: (event type, pod name, ready, deleting).
type Timeline = Arc<Mutex<Vec<(String, String, bool, bool)>>>;

async fn record_pods(client: Client) -> Timeline {
    let pods: Api<Pod> = Api::default_namespaced(client);
    let rv = pods.list(&ListParams::default()).await.unwrap().metadata.resource_version.unwrap();
    let mut stream = pods.watch(&WatchParams::default(), &rv).await.unwrap().boxed();
    let timeline: Timeline = Arc::default();
    let t = timeline.clone();
    tokio::spawn(async move {
        while let Ok(Some(ev)) = stream.try_next().await {
            let (kind, p) = match ev {
                WatchEvent::Added(p) => ("ADDED", p),
                WatchEvent::Modified(p) => ("MODIFIED", p),
                WatchEvent::Deleted(p) => ("DELETED", p),
                _ => continue,
            };
            let name = p.metadata.name.clone().unwrap_or_default();
            let deleting = p.metadata.deletion_timestamp.is_some();
            t.lock().unwrap().push((kind.to_string(), name, is_ready(&p), deleting));
        }
    });
    timeline
}

async fn ready_pods(pods: &Api<Pod>, n: usize) -> Vec<Pod> {
    eventually(30, &format!("{n} ready pods"), || async {
        let list = pods.list(&ListParams::default().labels("app=nginx")).await.unwrap().items;
        let ready: Vec<Pod> =
            list.into_iter().filter(|p| is_ready(p) && p.metadata.deletion_timestamp.is_none()).collect();
        (ready.len() == n).then_some(ready)
    })
    .await
}

async fn sts_status(sts: &Api<StatefulSet>, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
    eventually(30, what, || async {
        let s = serde_json::to_value(sts.get("web").await.unwrap()).unwrap();
        ok(&s["status"]).then_some(s["status"].clone())
    })
    .await
}

/// Run an alpine:3.8 pod (the exercise's probe image) to completion and return its log.
async fn probe(client: &Client, name: &str, script: &str) -> String {
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    let p: Pod = serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {"restartPolicy": "Never", "containers": [{"name": "probe", "image": "alpine:3.8", "command": ["sh", "-c", script]}]}
    }))
    .unwrap();
    pods.create(&PostParams::default(), &p).await.unwrap();
    eventually(30, "the probe pod to finish", || async {
        let p = pods.get(name).await.unwrap();
        let phase = p.status.and_then(|s| s.phase).unwrap_or_default();
        (phase == "Succeeded" || phase == "Failed").then_some(())
    })
    .await;
    pods.logs(name, &LogParams::default()).await.unwrap()
}

#[tokio::test]
async fn ordered_creation_waits_for_each_pod_to_be_ready() {
    let s = serve().await;
    let client = s.client().await;
    let timeline = record_pods(client.clone()).await;
    Api::<Service>::default_namespaced(client.clone()).create(&PostParams::default(), &headless()).await.unwrap();
    let sts: Api<StatefulSet> = Api::default_namespaced(client.clone());
    sts.create(&PostParams::default(), &web(3, json!({}))).await.unwrap();
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    ready_pods(&pods, 3).await;

    let events = timeline.lock().unwrap().clone();
    let added: Vec<&str> = events.iter().filter(|e| e.0 == "ADDED").map(|e| e.1.as_str()).collect();
    assert_eq!(added, ["web-0", "web-1", "web-2"]);
    for i in 1..3 {
        let created = events.iter().position(|e| e.0 == "ADDED" && e.1 == format!("web-{i}")).unwrap();
        let prev_ready = events.iter().position(|e| e.1 == format!("web-{}", i - 1) && e.2).unwrap();
        assert!(prev_ready < created, "web-{i} was created before web-{} was Ready: {events:?}", i - 1);
    }

    // Identity: hostname, subdomain, labels, claim volume.
    let p = pods.get("web-1").await.unwrap();
    let spec = p.spec.as_ref().unwrap();
    assert_eq!(spec.hostname.as_deref(), Some("web-1"));
    assert_eq!(spec.subdomain.as_deref(), Some("nginx"));
    let labels = p.metadata.labels.as_ref().unwrap();
    assert_eq!(labels["statefulset.kubernetes.io/pod-name"], "web-1");
    assert_eq!(labels["apps.kubernetes.io/pod-index"], "1");
    assert!(labels["controller-revision-hash"].starts_with("web-"));
    let claim = spec.volumes.as_ref().unwrap().iter().find(|v| v.name == "www").unwrap();
    assert_eq!(claim.persistent_volume_claim.as_ref().unwrap().claim_name, "www-web-1");
    let pvcs: Api<PersistentVolumeClaim> = Api::default_namespaced(client.clone());
    let pvc = pvcs.get("www-web-1").await.unwrap();
    assert_eq!(pvc.status.unwrap().phase.as_deref(), Some("Bound"));
    assert_eq!(pvc.metadata.labels.unwrap()["app"], "nginx");

    let st = sts_status(&sts, "status", |s| s["readyReplicas"] == 3).await;
    assert_eq!(st["replicas"], 3);
    assert_eq!(st["currentReplicas"], 3);
    assert_eq!(st["updatedReplicas"], 3);
    assert_eq!(st["availableReplicas"], 3);
    assert_eq!(st["currentRevision"], st["updateRevision"]);
    assert_eq!(st["observedGeneration"], 1);

    let events: Api<Event> = Api::default_namespaced(client);
    let msgs: Vec<String> = events
        .list(&ListParams::default().fields("involvedObject.name=web"))
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|e| e.message)
        .collect();
    assert!(msgs.contains(&"create Pod web-0 in StatefulSet web successful".to_string()), "{msgs:?}");
    assert!(msgs.contains(&"create Claim www-web-0 Pod web-0 in StatefulSet web success".to_string()), "{msgs:?}");
}

#[tokio::test]
async fn min_ready_seconds_holds_the_next_pod_until_the_last_is_available() {
    let s = serve().await;
    let client = s.client().await;
    Api::<Service>::default_namespaced(client.clone()).create(&PostParams::default(), &headless()).await.unwrap();
    let sts: Api<StatefulSet> = Api::default_namespaced(client.clone());
    sts.create(&PostParams::default(), &web(2, json!({"minReadySeconds": 2}))).await.unwrap();
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    ready_pods(&pods, 1).await;
    // Ready but not yet available: the count says so and web-1 waits.
    let st = sts_status(&sts, "web-0 counted ready", |s| s["readyReplicas"] == 1).await;
    assert_eq!(st["availableReplicas"], 0, "{st}");
    assert!(pods.get_opt("web-1").await.unwrap().is_none(), "web-1 was created before web-0 was available");

    let both = ready_pods(&pods, 2).await;
    let time = |v: &Value| v.as_str().unwrap().parse::<jiff::Timestamp>().unwrap();
    let web0 =
        serde_json::to_value(both.iter().find(|p| p.metadata.name.as_deref() == Some("web-0")).unwrap()).unwrap();
    let web1 =
        serde_json::to_value(both.iter().find(|p| p.metadata.name.as_deref() == Some("web-1")).unwrap()).unwrap();
    let ready_at = web0["status"]["conditions"].as_array().unwrap().iter().find(|c| c["type"] == "Ready").unwrap()
        ["lastTransitionTime"]
        .clone();
    let waited = time(&web1["metadata"]["creationTimestamp"]) - time(&ready_at);
    assert!(waited.get_seconds() >= 2, "web-1 created {waited:?} after web-0 was Ready");
    sts_status(&sts, "both available", |s| s["availableReplicas"] == 2).await;
}

#[tokio::test]
async fn parallel_creates_every_pod_without_waiting() {
    let s = serve().await;
    let client = s.client().await;
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    let sts: Api<StatefulSet> = Api::default_namespaced(client.clone());
    // An image that cannot be pulled: no pod ever becomes Ready.
    let mut set = web(3, json!({"podManagementPolicy": "Parallel"}));
    set.spec.as_mut().unwrap().template.spec.as_mut().unwrap().containers[0].image = Some("nginx:0.0.404".into());
    sts.create(&PostParams::default(), &set).await.unwrap();
    let names = eventually(30, "three pods", || async {
        let list = pods.list(&ListParams::default()).await.unwrap().items;
        (list.len() == 3).then(|| list.into_iter().map(|p| p.metadata.name.unwrap()).collect::<Vec<_>>())
    })
    .await;
    assert_eq!(names, ["web-0", "web-1", "web-2"]);

    // The same set with OrderedReady stops at the first pod that is not Ready.
    sts.delete("web", &DeleteParams::default()).await.unwrap();
    eventually(30, "pods gone", || async {
        pods.list(&ListParams::default()).await.unwrap().items.is_empty().then_some(())
    })
    .await;
    let mut ordered = web(3, json!({}));
    ordered.spec.as_mut().unwrap().template.spec.as_mut().unwrap().containers[0].image = Some("nginx:0.0.404".into());
    sts.create(&PostParams::default(), &ordered).await.unwrap();
    eventually(30, "web-0 in ImagePullBackOff", || async {
        let p = pods.get_opt("web-0").await.unwrap()?;
        let reason = p.status?.container_statuses?.first()?.state.clone()?.waiting?.reason?;
        (reason == "ImagePullBackOff").then_some(())
    })
    .await;
    assert_eq!(pods.list(&ListParams::default()).await.unwrap().items.len(), 1);
}

#[tokio::test]
async fn deleted_pod_returns_with_same_name_claim_and_data() {
    let s = serve().await;
    let client = s.client().await;
    Api::<Service>::default_namespaced(client.clone()).create(&PostParams::default(), &headless()).await.unwrap();
    Api::<StatefulSet>::default_namespaced(client.clone())
        .create(&PostParams::default(), &web(2, json!({})))
        .await
        .unwrap();
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    ready_pods(&pods, 2).await;

    let out = probe(&client, "probe-1", "nslookup web-0.nginx; wget -q -O - http://web-0.nginx; wget -q -O - http://web-1.nginx.default.svc.cluster.local").await;
    let ip0 = pods.get("web-0").await.unwrap().status.unwrap().pod_ip.unwrap();
    // busybox 1.28 on musl, as alpine:3.8 prints it.
    assert!(out.contains("Name:      web-0.nginx\n"), "{out}");
    assert!(out.contains(&format!("Address 1: {ip0} web-0.nginx.default.svc.cluster.local")), "{out}");
    assert!(out.contains("web-0\nweb-1\n"), "{out}");

    let old = pods.get("web-0").await.unwrap();
    let pvcs: Api<PersistentVolumeClaim> = Api::default_namespaced(client.clone());
    let claim_uid = pvcs.get("www-web-0").await.unwrap().metadata.uid;
    pods.delete("web-0", &DeleteParams::default()).await.unwrap();
    let back = eventually(30, "web-0 re-created and Ready", || async {
        let p = pods.get_opt("web-0").await.unwrap()?;
        (p.metadata.uid != old.metadata.uid && is_ready(&p)).then_some(p)
    })
    .await;
    assert_eq!(back.metadata.name.as_deref(), Some("web-0"));
    assert_eq!(pvcs.get("www-web-0").await.unwrap().metadata.uid, claim_uid, "the same claim is re-used");

    // The init container ran again and appended to the same volume.
    let out = probe(&client, "probe-2", "wget -q -O - http://web-0.nginx; nslookup web-9.nginx").await;
    assert!(out.starts_with("web-0\nweb-0\n"), "{out}");
    assert!(out.contains("nslookup: can't resolve 'web-9.nginx'"), "{out}");
}

#[tokio::test]
async fn scaling_adds_in_order_and_removes_from_the_highest_ordinal() {
    let s = serve().await;
    let client = s.client().await;
    let sts: Api<StatefulSet> = Api::default_namespaced(client.clone());
    sts.create(&PostParams::default(), &web(1, json!({}))).await.unwrap();
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    ready_pods(&pods, 1).await;
    let timeline = record_pods(client.clone()).await;
    sts.patch("web", &PatchParams::default(), &Patch::Merge(json!({"spec": {"replicas": 3}}))).await.unwrap();
    ready_pods(&pods, 3).await;
    sts.patch("web", &PatchParams::default(), &Patch::Merge(json!({"spec": {"replicas": 1}}))).await.unwrap();
    eventually(30, "scale down to 1", || async {
        (pods.list(&ListParams::default()).await.unwrap().items.len() == 1).then_some(())
    })
    .await;
    let events = timeline.lock().unwrap().clone();
    let added: Vec<&str> = events.iter().filter(|e| e.0 == "ADDED").map(|e| e.1.as_str()).collect();
    assert_eq!(added, ["web-1", "web-2"]);
    let gone: Vec<&str> = events.iter().filter(|e| e.0 == "DELETED").map(|e| e.1.as_str()).collect();
    assert_eq!(gone, ["web-2", "web-1"]);
    let web2_gone = events.iter().position(|e| e.0 == "DELETED" && e.1 == "web-2").unwrap();
    let web1_terminating = events.iter().position(|e| e.1 == "web-1" && e.3).unwrap();
    assert!(web2_gone < web1_terminating, "web-1 began terminating before web-2 was gone: {events:?}");
    assert_eq!(pods.list(&ListParams::default()).await.unwrap().items[0].metadata.name.as_deref(), Some("web-0"));
    // Claims are retained by default.
    let pvcs: Api<PersistentVolumeClaim> = Api::default_namespaced(client);
    assert_eq!(pvcs.list(&ListParams::default()).await.unwrap().items.len(), 3);
}

#[tokio::test]
async fn partitioned_rolling_update_then_full_rollout() {
    let s = serve().await;
    let client = s.client().await;
    let sts: Api<StatefulSet> = Api::default_namespaced(client.clone());
    sts.create(&PostParams::default(), &web(3, json!({}))).await.unwrap();
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    ready_pods(&pods, 3).await;
    let first = sts_status(&sts, "ready", |s| s["readyReplicas"] == 3).await;

    let canary = json!({"spec": {"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}},
        "template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.31"}]}}}});
    sts.patch("web", &PatchParams::default(), &Patch::Strategic(canary)).await.unwrap();
    let st = sts_status(&sts, "canary", |s| s["updatedReplicas"] == 1 && s["readyReplicas"] == 3).await;
    assert_eq!(st["currentReplicas"], 2);
    assert_eq!(st["currentRevision"], first["currentRevision"]);
    assert_ne!(st["updateRevision"], st["currentRevision"]);
    assert_eq!(image_of(&pods.get("web-2").await.unwrap()), "nginx:1.31");
    assert_eq!(image_of(&pods.get("web-1").await.unwrap()), "nginx:1.30");
    assert_eq!(image_of(&pods.get("web-0").await.unwrap()), "nginx:1.30");

    // A pod below the partition keeps the current revision even when deleted.
    let uid = pods.get("web-0").await.unwrap().metadata.uid;
    pods.delete("web-0", &DeleteParams::default()).await.unwrap();
    let back = eventually(30, "web-0 back", || async {
        let p = pods.get_opt("web-0").await.unwrap()?;
        (p.metadata.uid != uid && is_ready(&p)).then_some(p)
    })
    .await;
    assert_eq!(image_of(&back), "nginx:1.30");

    let timeline = record_pods(client.clone()).await;
    sts.patch(
        "web",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"updateStrategy": {"rollingUpdate": {"partition": 0}}}})),
    )
    .await
    .unwrap();
    let st = sts_status(&sts, "full rollout", |s| {
        s["updatedReplicas"] == 3 && s["readyReplicas"] == 3 && s["currentRevision"] == s["updateRevision"]
    })
    .await;
    assert_eq!(st["currentReplicas"], 3);
    let events = timeline.lock().unwrap().clone();
    let deleted: Vec<&str> = events.iter().filter(|e| e.0 == "DELETED").map(|e| e.1.as_str()).collect();
    assert_eq!(deleted, ["web-1", "web-0"], "highest ordinal first");
    for p in pods.list(&ListParams::default()).await.unwrap().items {
        assert_eq!(image_of(&p), "nginx:1.31");
    }
}

#[tokio::test]
async fn on_delete_updates_a_pod_only_when_it_is_deleted() {
    let s = serve().await;
    let client = s.client().await;
    let sts: Api<StatefulSet> = Api::default_namespaced(client.clone());
    sts.create(&PostParams::default(), &web(2, json!({"updateStrategy": {"type": "OnDelete"}}))).await.unwrap();
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    ready_pods(&pods, 2).await;
    let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.31"}]}}}});
    sts.patch("web", &PatchParams::default(), &Patch::Strategic(patch)).await.unwrap();
    let st = sts_status(&sts, "new revision", |s| {
        s["updateRevision"] != s["currentRevision"] && s["observedGeneration"] == 2
    })
    .await;
    // Zero counts are omitted, as upstream's omitempty fields are.
    assert_eq!(st["updatedReplicas"], Value::Null);
    assert_eq!(image_of(&pods.get("web-1").await.unwrap()), "nginx:1.30");
    pods.delete("web-1", &DeleteParams::default()).await.unwrap();
    eventually(30, "web-1 on the new image", || async {
        let p = pods.get_opt("web-1").await.unwrap()?;
        (image_of(&p) == "nginx:1.31" && is_ready(&p)).then_some(())
    })
    .await;
    assert_eq!(image_of(&pods.get("web-0").await.unwrap()), "nginx:1.30");
    sts_status(&sts, "one updated", |s| s["updatedReplicas"] == 1 && s["readyReplicas"] == 2).await;
}

#[tokio::test]
async fn claim_retention_policy_deletes_claims_when_asked() {
    let s = serve().await;
    let client = s.client().await;
    let sts: Api<StatefulSet> = Api::default_namespaced(client.clone());
    let policy = json!({"persistentVolumeClaimRetentionPolicy": {"whenScaled": "Delete", "whenDeleted": "Delete"}});
    sts.create(&PostParams::default(), &web(2, policy)).await.unwrap();
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    ready_pods(&pods, 2).await;
    let pvcs: Api<PersistentVolumeClaim> = Api::default_namespaced(client.clone());
    sts.patch("web", &PatchParams::default(), &Patch::Merge(json!({"spec": {"replicas": 1}}))).await.unwrap();
    eventually(30, "www-web-1 deleted on scale-down", || async {
        pvcs.get_opt("www-web-1").await.unwrap().is_none().then_some(())
    })
    .await;
    assert!(pvcs.get_opt("www-web-0").await.unwrap().is_some());
    sts.delete("web", &DeleteParams::default()).await.unwrap();
    eventually(30, "claims deleted with the set", || async {
        pvcs.list(&ListParams::default()).await.unwrap().items.is_empty().then_some(())
    })
    .await;
}

#[tokio::test]
async fn image_pull_failure_and_recovery() {
    let s = serve().await;
    let client = s.client().await;
    let sts: Api<StatefulSet> = Api::default_namespaced(client.clone());
    let mut set = web(1, json!({}));
    set.spec.as_mut().unwrap().template.spec.as_mut().unwrap().containers[0].image = Some("nginx:1.999".into());
    sts.create(&PostParams::default(), &set).await.unwrap();
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    eventually(30, "ImagePullBackOff", || async {
        let p = pods.get_opt("web-0").await.unwrap()?;
        let w = p.status?.container_statuses?.first()?.state.clone()?.waiting?;
        (w.reason.as_deref() == Some("ImagePullBackOff")).then_some(())
    })
    .await;
    let events: Api<Event> = Api::default_namespaced(client.clone());
    let failed: Vec<String> = events
        .list(&ListParams::default().fields("involvedObject.name=web-0"))
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|e| e.reason.as_deref() == Some("Failed"))
        .filter_map(|e| e.message)
        .collect();
    assert!(failed.iter().any(|m| m.contains("nginx:1.999") && m.contains("not found")), "{failed:?}");

    // Fix the template; as upstream, the stuck pod must be deleted to move on.
    let fix = json!({"spec": {"template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.30"}]}}}});
    sts.patch("web", &PatchParams::default(), &Patch::Strategic(fix)).await.unwrap();
    pods.delete("web-0", &DeleteParams::default()).await.unwrap();
    eventually(30, "web-0 running the fixed image", || async {
        let p = pods.get_opt("web-0").await.unwrap()?;
        (image_of(&p) == "nginx:1.30" && is_ready(&p)).then_some(())
    })
    .await;
}

#[tokio::test]
async fn endpoints_list_ready_and_not_ready_pods_with_hostnames() {
    let s = serve().await;
    let client = s.client().await;
    Api::<Service>::default_namespaced(client.clone()).create(&PostParams::default(), &headless()).await.unwrap();
    let sts: Api<StatefulSet> = Api::default_namespaced(client.clone());
    sts.create(&PostParams::default(), &web(2, json!({}))).await.unwrap();
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    ready_pods(&pods, 2).await;
    let eps: Api<Endpoints> = Api::default_namespaced(client.clone());
    let ep = eventually(30, "two endpoint addresses", || async {
        let ep = eps.get_opt("nginx").await.unwrap()?;
        let n = ep.subsets.as_ref()?.first()?.addresses.as_ref()?.len();
        (n == 2).then_some(ep)
    })
    .await;
    let subset = &ep.subsets.unwrap()[0];
    let mut hosts: Vec<String> = subset.addresses.as_ref().unwrap().iter().filter_map(|a| a.hostname.clone()).collect();
    hosts.sort();
    assert_eq!(hosts, ["web-0", "web-1"]);
    let port = &subset.ports.as_ref().unwrap()[0];
    assert_eq!((port.name.as_deref(), port.port), (Some("web"), 80));
    let slices: Api<EndpointSlice> = Api::default_namespaced(client.clone());
    let list = slices.list(&ListParams::default().labels("kubernetes.io/service-name=nginx")).await.unwrap();
    assert_eq!(list.items.len(), 1);
    assert_eq!(list.items[0].endpoints.len(), 2);

    // A pod that cannot start shows up as not ready.
    let broken = json!({"spec": {"replicas": 3, "template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:0.0.404"}]}}}});
    sts.patch("web", &PatchParams::default(), &Patch::Strategic(broken)).await.unwrap();
    eventually(30, "a not-ready address", || async {
        let ep = eps.get_opt("nginx").await.unwrap()?;
        let not_ready = ep.subsets.as_ref()?.first()?.not_ready_addresses.clone()?;
        not_ready.iter().any(|a| a.hostname.as_deref() == Some("web-2")).then_some(())
    })
    .await;
}
