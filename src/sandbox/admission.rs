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
pub fn admit(store: &Store, rt: &ResourceType, obj: &mut Value, old: Option<&Value>) -> ApiResult<()> {
    apply_defaults(rt, obj);
    match rt.kind {
        "Service" => allocate_cluster_ip(store, obj, old),
        "PersistentVolumeClaim" if old.is_none() => {
            default_storage_class(store, obj);
            add_finalizer(obj, "kubernetes.io/pvc-protection");
        }
        _ => {}
    }
    validation::validate(rt, obj, old)
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
