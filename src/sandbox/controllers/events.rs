//! Recording Events as upstream components do: one core/v1 Event per object, reason and
//! message, repeated ones counted instead of duplicated.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use crate::sandbox::resources::kinds;
use crate::sandbox::store::{name_of, namespace_of, rv_of, uid_of, Store, UpdateScope};

/// Who reports an event (`source.component`).
#[derive(Debug, Clone, Copy)]
pub struct Reporter {
    pub component: &'static str,
    pub host: Option<&'static str>,
}

pub const STATEFULSET_CONTROLLER: Reporter = Reporter { component: "statefulset-controller", host: None };
pub const SCHEDULER: Reporter = Reporter { component: "default-scheduler", host: None };
pub const KUBELET: Reporter = Reporter { component: "kubelet", host: Some(crate::sandbox::bootstrap::NODE_NAME) };
pub const PV_CONTROLLER: Reporter = Reporter { component: "persistentvolume-controller", host: None };

type Key = (String, String, String, &'static str);

/// Records events; remembers the ones it made so repeats are counted without a scan.
#[derive(Clone)]
pub struct Recorder {
    store: Store,
    seen: Arc<Mutex<HashMap<Key, (String, String)>>>,
}

impl Recorder {
    pub fn new(store: Store) -> Self {
        Recorder { store, seen: Arc::default() }
    }

    /// Record `reason`/`message` about `obj` (type Normal or Warning). `field_path` names a
    /// container (`spec.containers{nginx}`) for kubelet events.
    pub fn record(
        &self,
        who: Reporter,
        obj: &Value,
        event_type: &str,
        reason: &str,
        message: &str,
        field_path: Option<&str>,
    ) {
        let store = &self.store;
        let ns = match namespace_of(obj) {
            "" => "default",
            ns => ns,
        };
        let now = store.clock().now_rfc3339();
        let rt = kinds::events();
        let key: Key = (uid_of(obj).to_string(), reason.to_string(), message.to_string(), who.component);
        let known = self.seen.lock().unwrap_or_else(|p| p.into_inner()).get(&key).cloned();
        if let Some((ens, ename)) = known {
            if let Some(e) = store.get(rt, &ens, &ename) {
                let mut e = (*e).clone();
                e["count"] = json!(e["count"].as_i64().unwrap_or(1) + 1);
                e["lastTimestamp"] = json!(now);
                let _ = store.update(rt, e, UpdateScope::All, false);
                return;
            }
        }
        let mut involved = json!({
            "kind": obj["kind"], "namespace": namespace_of(obj), "name": name_of(obj),
            "uid": uid_of(obj), "apiVersion": obj["apiVersion"], "resourceVersion": rv_of(obj),
        });
        if let Some(fp) = field_path {
            involved["fieldPath"] = json!(fp);
        }
        if namespace_of(obj).is_empty() {
            if let Some(m) = involved.as_object_mut() {
                m.remove("namespace");
            }
        }
        let suffix: u64 = rand::random::<u64>() & 0x000f_ffff_ffff_ffff;
        let name = format!("{}.{suffix:x}", name_of(obj));
        let mut source = json!({"component": who.component});
        if let Some(h) = who.host {
            source["host"] = json!(h);
        }
        let event = json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": name, "namespace": ns},
            "involvedObject": involved,
            "reason": reason, "message": message, "type": event_type,
            "source": source,
            "firstTimestamp": now, "lastTimestamp": now, "count": 1,
            "reportingComponent": who.component,
            "reportingInstance": who.host.unwrap_or(""),
        });
        if store.create(rt, event, false).is_ok() {
            self.seen.lock().unwrap_or_else(|p| p.into_inner()).insert(key, (ns.to_string(), name));
        }
    }
}
