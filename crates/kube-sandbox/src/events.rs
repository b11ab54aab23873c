//! Recording Events as upstream components do: one core/v1 Event per object, reason and
//! message, repeated ones counted instead of duplicated, and many similar ones (same object and
//! reason, different messages) combined into one, as client-go's event aggregator does.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use crate::resources::kinds;
use crate::store::{name_of, namespace_of, rv_of, uid_of, Obj, Store};

/// The object an event is about (`involvedObject`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Involved<'a> {
    pub kind: &'a str,
    pub api_version: &'a str,
    pub namespace: &'a str,
    pub name: &'a str,
    pub uid: &'a str,
    pub resource_version: &'a str,
}

impl<'a> Involved<'a> {
    pub(crate) fn of(obj: &'a Value) -> Self {
        Involved {
            kind: obj["kind"].as_str().unwrap_or(""),
            api_version: obj["apiVersion"].as_str().unwrap_or(""),
            namespace: namespace_of(obj),
            name: name_of(obj),
            uid: uid_of(obj),
            resource_version: rv_of(obj),
        }
    }

    /// A stored pod, from its summary: the kubelet records several events per pod and step,
    /// and parsing the pod for each would cost more than the event.
    pub(crate) fn pod(pod: &'a Obj) -> Self {
        let m = pod.meta();
        Involved {
            kind: "Pod",
            api_version: "v1",
            namespace: m.namespace(),
            name: m.name(),
            uid: m.uid(),
            resource_version: m.resource_version(),
        }
    }
}

/// Who reports an event (`source.component`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reporter {
    pub component: &'static str,
    pub host: Option<&'static str>,
}

pub(crate) const STATEFULSET_CONTROLLER: Reporter = Reporter { component: "statefulset-controller", host: None };
pub(crate) const SCHEDULER: Reporter = Reporter { component: "default-scheduler", host: None };
pub(crate) const KUBELET: Reporter = Reporter { component: "kubelet", host: Some(crate::consts::NODE_NAME) };
pub(crate) const PV_CONTROLLER: Reporter = Reporter { component: "persistentvolume-controller", host: None };

/// A hash of the fields that identify an event (or a group of similar ones): with thousands of
/// pods, keeping the strings themselves would cost more than the events.
type Key = u64;

fn key_of(parts: &[&str]) -> Key {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    parts.hash(&mut h);
    h.finish()
}

/// Similar events (same object, type, reason and reporter) with this many different messages
/// within `AGGREGATE_INTERVAL_SECS` are combined into one (client-go's defaults).
const AGGREGATE_MAX_EVENTS: usize = 10;
const AGGREGATE_INTERVAL_SECS: i64 = 600;
const COMBINED_PREFIX: &str = "(combined from similar events): ";

/// The messages seen for one group of similar events (hashed: only whether a message is new
/// matters), and when the last one came.
struct Similar {
    messages: Vec<u64>,
    last: jiff::Timestamp,
}

/// Records events; remembers the ones it made so repeats are counted without a scan.
#[derive(Clone)]
pub(crate) struct Recorder {
    store: Store,
    seen: Arc<Mutex<HashMap<Key, (String, String)>>>,
    similar: Arc<Mutex<HashMap<Key, Similar>>>,
}

impl Recorder {
    pub(crate) fn new(store: Store) -> Self {
        Recorder { store, seen: Arc::default(), similar: Arc::default() }
    }

    /// The message to record and whether it stands for combined similar events.
    fn aggregate(
        &self,
        about: Involved,
        event_type: &str,
        reason: &str,
        message: &str,
        who: Reporter,
    ) -> Option<String> {
        let now = self.store.clock().now();
        let key = key_of(&[about.uid, event_type, reason, who.component]);
        let mut similar = self.similar.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let s = similar.entry(key).or_insert_with(|| Similar { messages: Vec::new(), last: now });
        if (now - s.last).get_seconds() > AGGREGATE_INTERVAL_SECS {
            s.messages.clear();
        }
        s.last = now;
        let hash = key_of(&[message]);
        if s.messages.len() < AGGREGATE_MAX_EVENTS && !s.messages.contains(&hash) {
            s.messages.push(hash);
        }
        (s.messages.len() >= AGGREGATE_MAX_EVENTS).then(|| format!("{COMBINED_PREFIX}{message}"))
    }

    /// Record `reason`/`message` about `obj` (type Normal or Warning). `field_path` names a
    /// container (`spec.containers{nginx}`) for kubelet events.
    pub(crate) fn record(
        &self,
        who: Reporter,
        about: Involved,
        event_type: &str,
        reason: &str,
        message: &str,
        field_path: Option<&str>,
    ) {
        let store = &self.store;
        let ns = match about.namespace {
            "" => "default",
            ns => ns,
        };
        let now = store.clock().now_rfc3339();
        let rt = kinds::events();
        let combined = self.aggregate(about, event_type, reason, message, who);
        // All combined events share one Event, whose message is the latest one.
        let key_message = if combined.is_some() { COMBINED_PREFIX } else { message };
        let message = combined.as_deref().unwrap_or(message);
        let key = key_of(&[about.uid, reason, key_message, who.component]);
        let known = self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(&key).cloned();
        if let Some((ens, ename)) = known {
            let counted = crate::admission::modify(store, rt, &ens, &ename, None, |e| {
                e["count"] = json!(e["count"].as_i64().unwrap_or(1) + 1);
                e["lastTimestamp"] = json!(now);
                e["message"] = json!(message);
            });
            if counted.is_ok() {
                return;
            }
        }
        let mut involved = json!({
            "kind": about.kind, "namespace": about.namespace, "name": about.name,
            "uid": about.uid, "apiVersion": about.api_version, "resourceVersion": about.resource_version,
        });
        if let Some(fp) = field_path {
            involved["fieldPath"] = json!(fp);
        }
        if about.namespace.is_empty() {
            if let Some(m) = involved.as_object_mut() {
                m.remove("namespace");
            }
        }
        let suffix: u64 = rand::random::<u64>() & 0x000f_ffff_ffff_ffff;
        let name = format!("{}.{suffix:x}", about.name);
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
        if crate::admission::create(store, rt, event).is_ok() {
            self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(key, (ns.to_string(), name));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;

    #[tokio::test]
    async fn similar_events_are_combined_after_ten_messages() {
        let store = Store::new(Clock::new(1.0));
        store.create(kinds::namespaces(), json!({"metadata": {"name": "default"}}), false).unwrap();
        let rec = Recorder::new(store.clone());
        let sts = json!({"kind": "StatefulSet", "apiVersion": "apps/v1",
            "metadata": {"name": "big", "namespace": "default", "uid": "u-1"}});
        for i in 0..12 {
            let msg = format!("create Pod big-{i} in StatefulSet big successful");
            rec.record(STATEFULSET_CONTROLLER, Involved::of(&sts), "Normal", "SuccessfulCreate", &msg, None);
        }
        // A repeat of an early message is counted on its own event.
        rec.record(STATEFULSET_CONTROLLER, Involved::of(&sts), "Normal", "Other", "once", None);
        rec.record(STATEFULSET_CONTROLLER, Involved::of(&sts), "Normal", "Other", "once", None);
        let (events, _) = store.list(kinds::events(), Some("default"));
        let messages: Vec<(&str, i64)> =
            events.iter().map(|e| (e["message"].as_str().unwrap(), e["count"].as_i64().unwrap())).collect();
        assert_eq!(events.len(), 11, "{messages:?}");
        assert!(messages.contains(&("create Pod big-8 in StatefulSet big successful", 1)));
        assert!(!messages.iter().any(|(m, _)| *m == "create Pod big-9 in StatefulSet big successful"));
        assert!(
            messages.contains(&("(combined from similar events): create Pod big-11 in StatefulSet big successful", 3))
        );
        assert!(messages.contains(&("once", 2)));
    }
}
