//! Test fixtures: the lesson's objects as a healthy cluster has them after step 2 (Service
//! nginx, StatefulSet web with web-0 and web-1 Ready, their claims Bound), and ways to bend them.

use serde_json::{json, Value};

use crate::cluster::{History, Snapshot};

pub(super) const T0: i64 = 1_790_000_000;

pub(super) fn ts(secs: i64) -> String {
    jiff::Timestamp::from_second(T0 + secs).unwrap().to_string()
}

pub(super) fn from<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).unwrap()
}

/// Change an object through its JSON form.
pub(super) fn edit<T: serde::Serialize + serde::de::DeserializeOwned>(obj: &mut T, f: impl FnOnce(&mut Value)) {
    let mut v = serde_json::to_value(&*obj).unwrap();
    f(&mut v);
    *obj = from(v);
}

pub(super) fn service() -> Value {
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "nginx", "namespace": "default", "uid": "svc-1"},
        "spec": {"type": "ClusterIP", "clusterIP": "None", "selector": {"app": "nginx"},
                 "ports": [{"name": "web", "port": 80, "targetPort": "web"}]}
    })
}

pub(super) fn statefulset(replicas: i32, image: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "web", "namespace": "default", "uid": "sts-1", "creationTimestamp": ts(0)},
        "spec": {
            "serviceName": "nginx", "replicas": replicas,
            "selector": {"matchLabels": {"app": "nginx"}},
            "template": {
                "metadata": {"labels": {"app": "nginx"}},
                "spec": {
                    "initContainers": [{"name": "setup", "image": "alpine:3.8",
                        "volumeMounts": [{"name": "www", "mountPath": "/work-dir"}]}],
                    "containers": [{"name": "nginx", "image": image,
                        "ports": [{"containerPort": 80, "name": "web"}],
                        "volumeMounts": [{"name": "www", "mountPath": "/usr/share/nginx/html"}]}]
                }
            },
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
            "volumeClaimTemplates": [{"metadata": {"name": "www"},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]
        },
        "status": {"replicas": replicas, "readyReplicas": replicas, "currentRevision": "web-aaa", "updateRevision": "web-aaa"}
    })
}

/// Pod `web-<n>`: created at T0+`created`, Ready at T0+`ready` (None: not Ready).
pub(super) fn pod(n: u32, uid: &str, created: i64, ready: Option<i64>, image: &str, rev: &str) -> Value {
    let name = format!("web-{n}");
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "uid": uid, "creationTimestamp": ts(created),
            "labels": {"app": "nginx", "controller-revision-hash": rev},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "uid": "sts-1", "controller": true}]},
        "spec": {"hostname": name, "subdomain": "nginx",
            "containers": [{"name": "nginx", "image": image}],
            "volumes": [{"name": "www", "persistentVolumeClaim": {"claimName": format!("www-{name}")}}]},
        "status": {"phase": if ready.is_some() {"Running"} else {"Pending"}, "podIP": format!("10.244.0.{}", 5 + n),
            "conditions": [{"type": "Ready", "status": if ready.is_some() {"True"} else {"False"},
                "lastTransitionTime": ts(ready.unwrap_or(created))}]}
    })
}

pub(super) fn pvc(name: &str, uid: &str, created: i64, phase: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": "default", "uid": uid, "creationTimestamp": ts(created)},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
        "status": {"phase": phase}
    })
}

pub(super) fn event(reason: &str, message: &str) -> Value {
    json!({
        "metadata": {"name": format!("web.{reason}"), "namespace": "default"},
        "involvedObject": {"kind": "StatefulSet", "name": "web", "namespace": "default"},
        "reason": reason, "message": message, "type": if reason.starts_with("Failed") {"Warning"} else {"Normal"}
    })
}

/// After step 2: web-0 created at 0, Ready at 5; web-1 created at 6, Ready at 11.
pub(super) fn world() -> Snapshot {
    let mut s = Snapshot::default();
    s.services.insert("nginx".into(), from(service()));
    s.statefulsets.insert("web".into(), from(statefulset(2, "nginx:mainline")));
    s.pods.insert("web-0".into(), from(pod(0, "u0", 0, Some(5), "nginx:mainline", "web-aaa")));
    s.pods.insert("web-1".into(), from(pod(1, "u1", 6, Some(11), "nginx:mainline", "web-aaa")));
    s.pvcs.insert("www-web-0".into(), from(pvc("www-web-0", "c0", 0, "Bound")));
    s.pvcs.insert("www-web-1".into(), from(pvc("www-web-1", "c1", 6, "Bound")));
    s
}

/// A history that saw `pods` (JSON) appear and change in this order; each pod is compared
/// with the previous version of the same name.
pub(super) fn history_of(pods: &[Value]) -> History {
    let mut h = History::new(jiff::Timestamp::from_second(T0 - 60).unwrap());
    let mut last: std::collections::BTreeMap<String, k8s_openapi::api::core::v1::Pod> = Default::default();
    let now = jiff::Timestamp::from_second(T0).unwrap();
    for v in pods {
        let p: k8s_openapi::api::core::v1::Pod = from(v.clone());
        let name = p.metadata.name.clone().unwrap();
        h.observe_pod(last.get(&name), Some(&p), now);
        last.insert(name, p);
    }
    h
}
