//! What happens to every object written, whoever writes it (API request, controller, kubelet or
//! event recorder): defaulting, the cluster IP allocator, the ServiceAccount and
//! DefaultStorageClass admission plugins, then validation (with the stored object on update);
//! the NamespaceLifecycle rule on deletes; the binding rule. Nothing is stored unless all of it
//! passes. The API handlers call [`admit`] between their own decoding steps; everything inside
//! the sandbox writes through the functions below, which are the same steps.

use std::collections::HashSet;

use serde_json::{json, Value};

use super::defaults::apply_defaults;
use super::error::{ApiError, ApiResult};
use super::resources::{kinds, ResourceType};
use super::store::{name_of, namespace_of, DeleteOpts, Obj, Store, UpdateScope};
use super::validation;

/// Create an object: defaulted, admitted and validated like an API request.
pub(crate) fn create(store: &Store, rt: &ResourceType, mut obj: Value) -> ApiResult<Obj> {
    admit(store, rt, &mut obj, None)?;
    store.create(rt, obj, false)
}

/// Replace an object (its `scope`), admitted against the stored version as an API update is; a
/// resourceVersion in `obj` must still be the stored one (409 Conflict otherwise).
pub(crate) fn update(store: &Store, rt: &ResourceType, mut obj: Value, scope: UpdateScope) -> ApiResult<Obj> {
    if scope == UpdateScope::Status {
        admit_status(rt, &mut obj);
        return store.update(rt, obj, scope, false);
    }
    let old = store
        .get(rt, namespace_of(&obj), name_of(&obj))
        .ok_or_else(|| ApiError::not_found(rt.group, rt.plural, name_of(&obj)))?;
    admit(store, rt, &mut obj, Some(&old))?;
    store.update(rt, obj, scope, false)
}

/// Change the stored object `ns/name` (while it has `uid`, if given) with `f`, admitted against
/// the version `f` changed; see [`Store::modify`]. `Ok(None)` when nothing changed.
pub(crate) fn modify(
    store: &Store,
    rt: &ResourceType,
    ns: &str,
    name: &str,
    uid: Option<&str>,
    f: impl Fn(&mut Value),
) -> ApiResult<Option<Obj>> {
    store.modify(rt, ns, name, uid, |new, old| {
        f(new);
        admit(store, rt, new, Some(old))
    })
}

/// Replace the status of `ns/name` while it has `uid` (`None`: any), as a write of the status
/// subresource does. `Ok(None)` when the status is unchanged.
pub(crate) fn update_status(
    store: &Store,
    rt: &ResourceType,
    ns: &str,
    name: &str,
    uid: Option<&str>,
    status: Value,
) -> ApiResult<Option<Obj>> {
    store.modify(rt, ns, name, uid, |o, _| {
        o["status"] = status.clone();
        admit_status(rt, o);
        Ok(())
    })
}

/// Admission of a write of the status subresource, whose object is the stored version but for
/// its status (what is stored of the write is only the status): defaulting, which fills status
/// fields too. Nothing else applies: the rest of admission looks at metadata and spec, which
/// are the stored version's, admitted when it was stored; so this is what [`admit`] of the whole
/// object comes to, without parsing and checking the unchanged spec on every kubelet write.
fn admit_status(rt: &ResourceType, obj: &mut Value) {
    apply_defaults(rt, obj);
}

/// Namespaces the NamespaceLifecycle admission plugin keeps.
const UNDELETABLE_NAMESPACES: [&str; 3] = ["default", "kube-system", "kube-public"];

/// The NamespaceLifecycle rule every delete passes: the system namespaces stay.
pub(crate) fn deletable(rt: &ResourceType, name: &str) -> ApiResult<()> {
    if rt.kind == "Namespace" && UNDELETABLE_NAMESPACES.contains(&name) {
        return Err(ApiError::forbidden(format!(
            "namespaces \"{name}\" is forbidden: this namespace may not be deleted"
        )));
    }
    Ok(())
}

/// Delete an object as an API delete does; see [`Store::delete`].
pub(crate) fn delete(
    store: &Store,
    rt: &ResourceType,
    ns: &str,
    name: &str,
    opts: &DeleteOpts,
) -> ApiResult<(Obj, bool)> {
    deletable(rt, name)?;
    store.delete(rt, ns, name, opts)
}

/// The binding rule: a pod is bound once (409 Conflict when it is already on a node).
pub(crate) fn bindable(pod: &Value) -> ApiResult<()> {
    match pod.pointer("/spec/nodeName").and_then(Value::as_str) {
        Some(cur) => Err(ApiError::conflict(
            "",
            "pods",
            name_of(pod),
            &format!("pod {} is already assigned to node \"{cur}\"", name_of(pod)),
        )),
        None => Ok(()),
    }
}

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
