//! What happens to every object written, whoever writes it (API request or controller):
//! defaulting, the cluster IP allocator, the DefaultStorageClass admission plugin, then
//! validation. Nothing is stored unless all of it passes.

use std::collections::HashSet;

use serde_json::{json, Value};

use super::defaults::apply_defaults;
use super::error::ApiResult;
use super::resources::{kinds, ResourceType};
use super::store::Store;
use super::validation;

/// Default, allocate and validate `obj` (the new state of an object; `old` on update).
pub(crate) fn admit(store: &Store, rt: &ResourceType, obj: &mut Value, old: Option<&Value>) -> ApiResult<()> {
    apply_defaults(rt, obj);
    match rt.kind {
        "Service" => allocate_cluster_ip(store, obj, old),
        "Pod" if old.is_none() => service_account_token(store, obj),
        "PersistentVolumeClaim" if old.is_none() => {
            default_storage_class(store, obj);
            add_finalizer(obj, "kubernetes.io/pvc-protection");
        }
        _ => {}
    }
    validation::validate(rt, obj, old)
}

/// Where the ServiceAccount admission mounts the token volume.
pub(crate) const TOKEN_MOUNT: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// The ServiceAccount admission plugin: a pod whose token is automounted (the default, unless
/// the pod or its ServiceAccount says `automountServiceAccountToken: false`) gets the projected
/// `kube-api-access-<random>` volume (token, the cluster CA, the namespace) mounted read-only
/// in every container. Unlike upstream, a pod whose ServiceAccount does not exist (yet) is not
/// refused: the sandbox makes `default` a moment after its namespace.
fn service_account_token(store: &Store, pod: &mut Value) {
    let Some(spec) = pod.get("spec").filter(|s| s.is_object()) else { return };
    let sa_name = spec["serviceAccountName"].as_str().unwrap_or("default").to_string();
    let ns = pod.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or("").to_string();
    let from_sa = || {
        store.get(kinds::serviceaccounts(), &ns, &sa_name).and_then(|sa| sa["automountServiceAccountToken"].as_bool())
    };
    let automount = spec["automountServiceAccountToken"].as_bool().or_else(from_sa).unwrap_or(true);
    let lists = ["initContainers", "containers", "ephemeralContainers"];
    let mounted_already = lists
        .iter()
        .flat_map(|l| spec[*l].as_array().into_iter().flatten())
        .any(|c| c["volumeMounts"].as_array().into_iter().flatten().any(|m| m["mountPath"] == TOKEN_MOUNT));
    if !automount || mounted_already {
        return;
    }
    // Upstream's rand.String alphabet: no vowels, no confusable characters.
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let suffix: String = (0..5).map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char).collect();
    let name = format!("kube-api-access-{suffix}");
    let volume = json!({"name": name, "projected": {"defaultMode": 420, "sources": [
        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
        {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}
    ]}});
    let spec = &mut pod["spec"];
    match spec.get_mut("volumes").and_then(Value::as_array_mut) {
        Some(vs) => vs.push(volume),
        None => spec["volumes"] = json!([volume]),
    }
    for list in ["initContainers", "containers"] {
        for c in spec.get_mut(list).and_then(Value::as_array_mut).into_iter().flatten() {
            let mount = json!({"name": name, "readOnly": true, "mountPath": TOKEN_MOUNT});
            match c.get_mut("volumeMounts").and_then(Value::as_array_mut) {
                Some(ms) => ms.push(mount),
                None => c["volumeMounts"] = json!([mount]),
            }
        }
    }
}

/// Give a Service a cluster IP from 10.96.0.0/16 unless it is headless or keeps its old one.
fn allocate_cluster_ip(store: &Store, svc: &mut Value, old: Option<&Value>) {
    let wanted = svc.pointer("/spec/clusterIP").and_then(Value::as_str).unwrap_or("").to_string();
    if let Some(old_ip) = old.and_then(|o| o.pointer("/spec/clusterIP")).and_then(Value::as_str) {
        if wanted.is_empty() {
            svc["spec"]["clusterIP"] = json!(old_ip);
            svc["spec"]["clusterIPs"] = json!([old_ip]);
        }
        return;
    }
    if !wanted.is_empty() {
        if svc.pointer("/spec/clusterIPs").is_none() {
            svc["spec"]["clusterIPs"] = json!([wanted]);
        }
        return;
    }
    let (svcs, _) = store.list(kinds::services(), None);
    let used: HashSet<String> =
        svcs.iter().filter_map(|s| s.pointer("/spec/clusterIP").and_then(Value::as_str).map(str::to_string)).collect();
    let ip = loop {
        let n: u16 = rand::random_range(11..65_000);
        let ip = format!("10.96.{}.{}", n >> 8, (n & 0xff).max(1));
        if !used.contains(&ip) {
            break ip;
        }
    };
    svc["spec"]["clusterIP"] = json!(ip);
    svc["spec"]["clusterIPs"] = json!([ip]);
}

/// A claim without `storageClassName` gets the default class, if the cluster has one.
fn default_storage_class(store: &Store, pvc: &mut Value) {
    if pvc.pointer("/spec/storageClassName").is_some() {
        return;
    }
    let (classes, _) = store.list(kinds::storageclasses(), None);
    let default = classes.iter().find(|c| {
        c.pointer("/metadata/annotations/storageclass.kubernetes.io~1is-default-class").and_then(Value::as_str)
            == Some("true")
    });
    if let Some(c) = default {
        pvc["spec"]["storageClassName"] = c["metadata"]["name"].clone();
    }
}

/// The StorageObjectInUseProtection plugin: claims keep a finalizer until no pod uses them.
fn add_finalizer(obj: &mut Value, f: &str) {
    let meta = &mut obj["metadata"];
    match meta.get_mut("finalizers").and_then(Value::as_array_mut) {
        Some(list) if list.iter().any(|x| x == f) => {}
        Some(list) => list.push(json!(f)),
        None => meta["finalizers"] = json!([f]),
    }
}
