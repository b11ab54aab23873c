//! Stored objects: each kept as its compact JSON text plus a small typed summary (`Meta`) that
//! the controllers, kubelet and watches read without parsing. The full `Value` is parsed on first
//! use by whoever holds an `Obj` and dropped with that handle, so the store itself holds only
//! text: a pod is about 3.5 KB that way against about 27 KB as a `serde_json::Value`.

use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, OnceLock};

use serde_json::Value;

/// A stored object: shared, never mutated in place. Derefs to its parsed `Value`.
pub(crate) struct Obj {
    stored: Arc<Stored>,
    /// This handle's parse, made on first deref; clones start without one so that no long-lived
    /// copy (the history, a table) ever keeps a parsed tree alive.
    parsed: OnceLock<Box<Value>>,
}

struct Stored {
    json: Box<str>,
    meta: Meta,
}

/// The fields hot readers need, taken from the object when it is stored.
#[derive(Debug, Default)]
pub(crate) struct Meta {
    /// Name, namespace, uid and resourceVersion in one allocation, split at `ends`.
    ids: Box<str>,
    ends: [u32; 3],
    /// `metadata.labels`, sorted by key.
    pub labels: Box<[(Box<str>, Box<str>)]>,
    /// Every ownerReference.
    pub owners: Box<[Owner]>,
    /// Whether `metadata.deletionTimestamp` is set.
    pub deleting: bool,
    /// Pod fields, for pods only.
    pub pod: Option<Box<PodMeta>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Owner {
    pub kind: Box<str>,
    pub name: Box<str>,
    pub uid: Box<str>,
    pub controller: bool,
}

#[derive(Debug, Default)]
pub(crate) struct PodMeta {
    pub node_name: Box<str>,
    pub phase: Box<str>,
    pub pod_ip: Box<str>,
    pub hostname: Option<Box<str>>,
    pub subdomain: Option<Box<str>>,
    /// The Ready condition's status is True.
    pub ready: bool,
    /// The Ready condition's lastTransitionTime.
    pub ready_since: Option<Box<str>>,
    /// Claim names of the pod's persistentVolumeClaim volumes.
    pub claims: Box<[Box<str>]>,
}

fn text(v: &Value, ptr: &str) -> Box<str> {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or("").into()
}

impl Meta {
    fn of(v: &Value) -> Meta {
        // Each part is looked up once: this runs on every write.
        let meta = v.get("metadata");
        let field = |key: &str| meta.and_then(|m| m.get(key)).and_then(Value::as_str).unwrap_or("");
        let mut labels: Vec<(Box<str>, Box<str>)> = meta
            .and_then(|m| m.get("labels"))
            .and_then(Value::as_object)
            .map(|m| m.iter().filter_map(|(k, x)| Some((k.as_str().into(), x.as_str()?.into()))).collect())
            .unwrap_or_default();
        labels.sort();
        let owners = meta
            .and_then(|m| m.get("ownerReferences"))
            .and_then(Value::as_array)
            .map(|refs| {
                refs.iter()
                    .map(|r| Owner {
                        kind: text(r, "/kind"),
                        name: text(r, "/name"),
                        uid: text(r, "/uid"),
                        controller: r["controller"] == true,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let pod = (v["kind"] == "Pod").then(|| {
            let (spec, status) = (&v["spec"], &v["status"]);
            let ready = status["conditions"].as_array().and_then(|cs| cs.iter().find(|c| c["type"] == "Ready"));
            let spec_text = |key: &str| spec[key].as_str();
            Box::new(PodMeta {
                node_name: spec_text("nodeName").unwrap_or("").into(),
                phase: status["phase"].as_str().unwrap_or("").into(),
                pod_ip: status["podIP"].as_str().unwrap_or("").into(),
                hostname: spec_text("hostname").map(Into::into),
                subdomain: spec_text("subdomain").map(Into::into),
                ready: ready.is_some_and(|c| c["status"] == "True"),
                ready_since: ready.and_then(|c| c["lastTransitionTime"].as_str()).map(Into::into),
                claims: spec["volumes"]
                    .as_array()
                    .map(|vs| {
                        vs.iter()
                            .filter_map(|x| x.pointer("/persistentVolumeClaim/claimName").and_then(Value::as_str))
                            .map(Into::into)
                            .collect()
                    })
                    .unwrap_or_default(),
            })
        });
        let (name, namespace, uid) = (field("name"), field("namespace"), field("uid"));
        let rv = field("resourceVersion");
        let ends = [name.len(), name.len() + namespace.len(), name.len() + namespace.len() + uid.len()];
        Meta {
            ids: [name, namespace, uid, rv].concat().into_boxed_str(),
            ends: ends.map(|e| e as u32),
            labels: labels.into(),
            owners,
            deleting: meta.and_then(|m| m.get("deletionTimestamp")).is_some(),
            pod,
        }
    }

    pub(crate) fn name(&self) -> &str {
        &self.ids[..self.ends[0] as usize]
    }

    pub(crate) fn namespace(&self) -> &str {
        &self.ids[self.ends[0] as usize..self.ends[1] as usize]
    }

    pub(crate) fn uid(&self) -> &str {
        &self.ids[self.ends[1] as usize..self.ends[2] as usize]
    }

    pub(crate) fn resource_version(&self) -> &str {
        &self.ids[self.ends[2] as usize..]
    }

    pub(crate) fn label(&self, key: &str) -> Option<&str> {
        self.labels.binary_search_by(|(k, _)| (**k).cmp(key)).ok().map(|i| &*self.labels[i].1)
    }

    /// Whether the object has a controller ownerReference to `uid`.
    pub(crate) fn controlled_by(&self, uid: &str) -> bool {
        self.owners.iter().any(|o| o.controller && &*o.uid == uid)
    }
}

/// A random marker for the resourceVersion of an object serialized before its version is
/// known; no object can contain it by chance.
fn rv_marker() -> &'static str {
    static MARKER: OnceLock<String> = OnceLock::new();
    MARKER.get_or_init(|| format!("kubetutor-rv-{:016x}", rand::random::<u64>()))
}

/// The marker as the serialized field, `"resourceVersion":"<marker>"`.
fn rv_marker_field() -> &'static str {
    static FIELD: OnceLock<String> = OnceLock::new();
    FIELD.get_or_init(|| format!("\"resourceVersion\":\"{}\"", rv_marker()))
}

/// An object serialized and summarised, waiting for its resourceVersion (`finish`): the store
/// does this costly part before it takes its lock, and only puts the version in under it.
pub(crate) struct Prepared {
    value: Value,
    json: String,
    /// Where the version goes in `json`.
    hole: Option<usize>,
    meta: Meta,
}

impl Prepared {
    pub(crate) fn meta(&self) -> &Meta {
        &self.meta
    }

    /// Bytes of its text (without its resourceVersion).
    pub(crate) fn len(&self) -> usize {
        self.json.len()
    }

    /// Whether this is `old` again, byte for byte but for the resourceVersion.
    pub(crate) fn same_text(&self, old: &Obj) -> bool {
        let (new, old_json) = (self.json.as_bytes(), old.json().as_bytes());
        let Some(at) = self.hole else { return new == old_json };
        let rv = old.meta().resource_version().len();
        old_json.len() == new.len() + rv && old_json[..at] == new[..at] && old_json[at + rv..] == new[at..]
    }

    pub(crate) fn finish(self, rv: u64) -> Obj {
        let rv = rv.to_string();
        let Prepared { mut value, mut json, hole, mut meta } = self;
        if let Some(at) = hole {
            json.insert_str(at, &rv);
        }
        value["metadata"]["resourceVersion"] = Value::String(rv.clone());
        let ids = [&meta.ids[..meta.ends[2] as usize], rv.as_str()].concat();
        meta.ids = ids.into_boxed_str();
        Obj { stored: Arc::new(Stored { json: json.into_boxed_str(), meta }), parsed: OnceLock::from(Box::new(value)) }
    }
}

impl Obj {
    /// Serialize and summarise `value` for the store, leaving a place for its resourceVersion.
    pub(crate) fn prepare(mut value: Value) -> Prepared {
        let marker = rv_marker();
        value["metadata"]["resourceVersion"] = Value::String(marker.to_string());
        let mut json = serde_json::to_string(&value).unwrap_or_default();
        // The key with its value: the marker alone could also stand in a string before it.
        let field = rv_marker_field();
        let hole = json.find(field).map(|at| at + field.len() - marker.len() - 1);
        if let Some(at) = hole {
            json.replace_range(at..at + marker.len(), "");
        }
        let meta = Meta::of(&value);
        Prepared { value, json, hole, meta }
    }

    /// Store `value` as compact JSON with its summary; the handle keeps the value as its parse.
    pub(crate) fn new(value: Value) -> Obj {
        let json = serde_json::to_string(&value).unwrap_or_default().into_boxed_str();
        let meta = Meta::of(&value);
        Obj { stored: Arc::new(Stored { json, meta }), parsed: OnceLock::from(Box::new(value)) }
    }

    /// The object as JSON text, exactly as it is served.
    pub(crate) fn json(&self) -> &str {
        &self.stored.json
    }

    pub(crate) fn meta(&self) -> &Meta {
        &self.stored.meta
    }

    pub(crate) fn name(&self) -> &str {
        self.stored.meta.name()
    }

    pub(crate) fn namespace(&self) -> &str {
        self.stored.meta.namespace()
    }

    pub(crate) fn uid(&self) -> &str {
        self.stored.meta.uid()
    }

    /// The parsed object (parsed once per handle).
    pub(crate) fn value(&self) -> &Value {
        // The text was written by serde_json from a Value, so it always parses back.
        self.parsed.get_or_init(|| Box::new(serde_json::from_str(&self.stored.json).unwrap_or(Value::Null)))
    }

    /// Whether two handles are the same stored version.
    pub(crate) fn same(&self, other: &Obj) -> bool {
        Arc::ptr_eq(&self.stored, &other.stored)
    }

    /// A handle that has not parsed the object (what long-lived copies keep).
    pub(crate) fn unparsed(&self) -> Obj {
        Obj { stored: self.stored.clone(), parsed: OnceLock::new() }
    }
}

impl Clone for Obj {
    fn clone(&self) -> Self {
        self.unparsed()
    }
}

impl Deref for Obj {
    type Target = Value;
    fn deref(&self) -> &Value {
        self.value()
    }
}

impl AsRef<Value> for Obj {
    fn as_ref(&self) -> &Value {
        self.value()
    }
}

impl fmt::Debug for Obj {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.stored.json)
    }
}

impl PartialEq for Obj {
    fn eq(&self, other: &Obj) -> bool {
        self.same(other) || self.stored.json == other.stored.json
    }
}

impl serde::Serialize for Obj {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value().serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn summary_and_lazy_parse() {
        let pod = json!({"kind": "Pod", "metadata": {"name": "web-0", "namespace": "default", "uid": "u", "resourceVersion": "7",
            "labels": {"b": "2", "a": "1"},
            "ownerReferences": [{"kind": "StatefulSet", "name": "web", "uid": "s", "controller": true}]},
            "spec": {"nodeName": "n", "volumes": [{"name": "www", "persistentVolumeClaim": {"claimName": "www-web-0"}}]},
            "status": {"phase": "Running", "podIP": "10.244.0.2",
                "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "t"}]}});
        let o = Obj::new(pod.clone());
        let m = o.meta();
        assert_eq!((o.name(), o.namespace(), o.uid()), ("web-0", "default", "u"));
        assert_eq!(m.resource_version(), "7");
        assert_eq!((m.label("a"), m.label("b"), m.label("c")), (Some("1"), Some("2"), None));
        assert!(m.controlled_by("s") && !m.controlled_by("x"));
        let p = m.pod.as_deref().expect("pod meta");
        assert!(p.ready);
        assert_eq!(&*p.phase, "Running");
        assert_eq!(p.ready_since.as_deref(), Some("t"));
        assert_eq!(&*p.claims[0], "www-web-0");
        let copy = o.clone();
        assert!(copy.same(&o));
        assert!(copy.parsed.get().is_none());
        assert_eq!(*copy, pod);
        assert_eq!(serde_json::from_str::<Value>(copy.json()).unwrap(), pod);
    }

    #[test]
    fn prepared_objects_get_their_version_at_the_end() {
        // The marker's text in a string before the version changes nothing.
        let pod = json!({"kind": "Pod", "metadata": {"name": "web-0", "namespace": "default", "uid": "u",
            "annotations": {"note": rv_marker()}}, "status": {"phase": "Pending"}});
        let p = Obj::prepare(pod.clone());
        assert_eq!(p.meta().name(), "web-0");
        let o = p.finish(42);
        let mut want = pod;
        want["metadata"]["resourceVersion"] = json!("42");
        assert_eq!(serde_json::from_str::<Value>(o.json()).unwrap(), want);
        assert_eq!(*o, want);
        assert_eq!((o.uid(), o.meta().resource_version()), ("u", "42"));
        assert_eq!(o.json(), serde_json::to_string(&want).unwrap());
        let mut again = want.clone();
        assert!(Obj::prepare(again.clone()).same_text(&o));
        again["status"]["phase"] = json!("Running");
        assert!(!Obj::prepare(again).same_text(&o));
    }
}
