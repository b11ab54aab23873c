//! Endpoints and EndpointSlices for every Service with a selector: ready and not-ready pod
//! addresses, hostnames for the pods of a headless service (what per-pod DNS needs), and the
//! target ports resolved by name or number. A deleted Service's Endpoints are deleted.

use serde_json::{json, Value};

use super::driver::{Action, Reconciler, Trigger};
use super::unless_gone;
use crate::admission;
use crate::error::ApiError;
use crate::resources::kinds;
use crate::selector::LabelSelector;
use crate::store::{name_of, namespace_of, uid_of, Obj, Store, UpdateScope};

type Key = (String, String);

/// The controller, run by the driver; its keys are Services (namespace, name).
pub(crate) struct Endpoints {
    store: Store,
}

impl Endpoints {
    pub(crate) fn new(store: Store) -> Self {
        Endpoints { store }
    }

    /// A pod may be selected by any Service of its namespace.
    fn pod_changed(&self, pod: &Obj, out: &mut Vec<Key>) {
        for svc in self.store.list(kinds::services(), Some(pod.namespace())).0 {
            out.push((pod.namespace().to_string(), svc.name().to_string()));
        }
    }

    /// Endpoints left by a Service that is gone (its deletion missed) are its key too.
    fn endpoints_changed(&self, ep: &Obj, out: &mut Vec<Key>) {
        if self.store.get(kinds::services(), ep.namespace(), ep.name()).is_none() {
            out.push((ep.namespace().to_string(), ep.name().to_string()));
        }
    }
}

impl Reconciler for Endpoints {
    type Key = Key;
    const NAME: &'static str = "endpoints";

    fn store(&self) -> &Store {
        &self.store
    }

    fn triggers(&self) -> Vec<Trigger<Self>> {
        vec![
            Trigger::new(kinds::services(), |_, o, out| out.push((o.namespace().to_string(), o.name().to_string()))),
            Trigger::new(kinds::pods(), Self::pod_changed),
            Trigger::new(kinds::endpoints(), Self::endpoints_changed),
        ]
    }

    fn reconcile(&mut self, key: &Key) -> Result<Action, ApiError> {
        sync(&self.store, &key.0, &key.1)?;
        Ok(Action::AwaitChange)
    }
}

/// The container port a service port's targetPort means on this pod.
fn resolve_port(target: &Value, port: &Value, pod: &Value) -> Option<i64> {
    match target {
        Value::Number(n) => n.as_i64(),
        Value::String(name) => pod
            .pointer("/spec/containers")?
            .as_array()?
            .iter()
            .flat_map(|c| c["ports"].as_array().cloned().unwrap_or_default())
            .find(|p| p["name"] == *name)
            .and_then(|p| p["containerPort"].as_i64()),
        _ => port.as_i64(),
    }
}

fn owner(svc: &Value) -> Value {
    json!([{"apiVersion": "v1", "kind": "Service", "name": name_of(svc), "uid": uid_of(svc),
            "controller": true, "blockOwnerDeletion": true}])
}

fn sync(store: &Store, ns: &str, name: &str) -> Result<(), ApiError> {
    let Some(svc) = store.get(kinds::services(), ns, name) else {
        // The Service is gone: its Endpoints go too, as upstream's endpoints controller deletes
        // them (its EndpointSlices have the Service as owner and go with the garbage collector).
        if store.get(kinds::endpoints(), ns, name).is_some() {
            let opts = crate::store::DeleteOpts::default();
            unless_gone(admission::delete(store, kinds::endpoints(), ns, name, &opts))?;
        }
        return Ok(());
    };
    let Some(sel) = svc.pointer("/spec/selector").filter(|s| s.as_object().is_some_and(|m| !m.is_empty())) else {
        return Ok(());
    };
    let selector = LabelSelector::from_object(&json!({"matchLabels": sel})).unwrap_or_default();
    let headless = svc.pointer("/spec/clusterIP") == Some(&json!("None"));
    let publish_not_ready = svc.pointer("/spec/publishNotReadyAddresses") == Some(&json!(true));
    // Pods are read through their stored summaries: a sync never parses them.
    let pods: Vec<Obj> = store
        .list(kinds::pods(), Some(ns))
        .0
        .into_iter()
        .filter(|p| {
            selector.matches_meta(p.meta())
                && p.meta()
                    .pod
                    .as_deref()
                    .is_some_and(|m| !m.pod_ip.is_empty() && !matches!(&*m.phase, "Succeeded" | "Failed"))
        })
        .collect();
    let svc_ports: Vec<Value> = svc.pointer("/spec/ports").and_then(Value::as_array).cloned().unwrap_or_default();

    let mut ready = Vec::new();
    let mut not_ready = Vec::new();
    let mut slice_endpoints = Vec::new();
    let mut ports: Vec<Value> = Vec::new();
    for p in &pods {
        let Some(m) = p.meta().pod.as_deref() else { continue };
        let ip = json!(m.pod_ip);
        let node = if m.node_name.is_empty() { Value::Null } else { json!(m.node_name) };
        let terminating = p.meta().deleting;
        let is_ready = m.ready && !terminating;
        let mut addr = json!({"ip": ip, "nodeName": node,
            "targetRef": {"kind": "Pod", "namespace": ns, "name": p.name(), "uid": p.uid()}});
        if let (Some(h), true) = (m.hostname.as_deref(), m.subdomain.as_deref() == Some(name)) {
            addr["hostname"] = json!(h);
        }
        if ports.is_empty() {
            for sp in &svc_ports {
                if let Some(port) = resolve_port(&sp["targetPort"], &sp["port"], p) {
                    let mut e = json!({"port": port, "protocol": sp.get("protocol").cloned().unwrap_or(json!("TCP"))});
                    if let Some(n) = sp.get("name").filter(|n| n.as_str().is_some_and(|s| !s.is_empty())) {
                        e["name"] = n.clone();
                    }
                    ports.push(e);
                }
            }
        }
        let mut se = json!({"addresses": [ip], "conditions": {"ready": is_ready, "serving": m.ready, "terminating": terminating},
            "nodeName": node,
            "targetRef": {"kind": "Pod", "namespace": ns, "name": p.name(), "uid": p.uid()}});
        if let Some(h) = addr.get("hostname") {
            se["hostname"] = h.clone();
        }
        slice_endpoints.push(se);
        if terminating && !publish_not_ready {
            continue;
        }
        if is_ready || publish_not_ready {
            ready.push(addr);
        } else {
            not_ready.push(addr);
        }
    }
    let mut labels = svc.pointer("/metadata/labels").cloned().unwrap_or_else(|| json!({}));
    if headless {
        labels["service.kubernetes.io/headless"] = json!("");
    }
    let subsets = if ready.is_empty() && not_ready.is_empty() {
        json!([])
    } else {
        let mut s = json!({"ports": ports});
        if !ready.is_empty() {
            s["addresses"] = json!(ready);
        }
        if !not_ready.is_empty() {
            s["notReadyAddresses"] = json!(not_ready);
        }
        json!([s])
    };
    let mut ep = json!({"apiVersion": "v1", "kind": "Endpoints",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "subsets": subsets});
    if ep["subsets"] == json!([]) {
        if let Some(m) = ep.as_object_mut() {
            m.remove("subsets");
        }
    }
    write(store, kinds::endpoints(), ep, |old, new| {
        old.get("subsets") == new.get("subsets") && old["metadata"]["labels"] == new["metadata"]["labels"]
    })?;

    let mut slice_labels = labels.clone();
    slice_labels["kubernetes.io/service-name"] = json!(name);
    slice_labels["endpointslice.kubernetes.io/managed-by"] = json!("endpointslice-controller.k8s.io");
    let existing = store
        .list(kinds::endpointslices(), Some(ns))
        .0
        .into_iter()
        .find(|s| s.meta().label("kubernetes.io/service-name") == Some(name));
    let slice_name = existing.as_ref().map(|s| name_of(s).to_string());
    let mut slice = json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"namespace": ns, "labels": slice_labels, "ownerReferences": owner(&svc)},
        "addressType": "IPv4", "endpoints": slice_endpoints, "ports": if ports.is_empty() { Value::Null } else { json!(ports) }});
    match slice_name {
        Some(n) => slice["metadata"]["name"] = json!(n),
        None => slice["metadata"]["generateName"] = json!(format!("{name}-")),
    }
    write(store, kinds::endpointslices(), slice, |old, new| {
        old["endpoints"] == new["endpoints"] && old["ports"] == new["ports"]
    })
}

/// Create or update, skipping writes that change nothing that matters.
fn write(
    store: &Store,
    rt: &'static crate::resources::ResourceType,
    obj: Value,
    same: impl Fn(&Value, &Value) -> bool,
) -> Result<(), ApiError> {
    let name = name_of(&obj).to_string();
    match (!name.is_empty()).then(|| store.get(rt, namespace_of(&obj), &name)).flatten() {
        Some(old) => {
            if same(&old, &obj) {
                return Ok(());
            }
            let mut new = obj;
            new["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"].clone();
            admission::update(store, rt, new, UpdateScope::All)?;
        }
        None => {
            admission::create(store, rt, obj)?;
        }
    }
    Ok(())
}
