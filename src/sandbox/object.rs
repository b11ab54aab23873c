//! Stored objects: each kept as its compact JSON text plus a small typed summary (`Meta`) that
//! the controllers, kubelet and watches read without parsing. The full `Value` is parsed on first
//! use by whoever holds an `Obj` and dropped with that handle, so the store itself holds only
//! text: a pod is about 3.5 KB that way against about 27 KB as a `serde_json::Value`.

use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, OnceLock};

use serde_json::Value;

/// A stored object: shared, never mutated in place. Derefs to its parsed `Value`.
pub struct Obj {
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
pub struct Meta {
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
pub struct Owner {
    pub kind: Box<str>,
    pub name: Box<str>,
    pub uid: Box<str>,
    pub controller: bool,
}

#[derive(Debug, Default)]
pub struct PodMeta {
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
        let mut labels: Vec<(Box<str>, Box<str>)> = v
            .pointer("/metadata/labels")
            .and_then(Value::as_object)
            .map(|m| m.iter().filter_map(|(k, x)| Some((k.as_str().into(), x.as_str()?.into()))).collect())
            .unwrap_or_default();
        labels.sort();
        let owners = v
            .pointer("/metadata/ownerReferences")
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
            let ready = v
                .pointer("/status/conditions")
                .and_then(Value::as_array)
                .and_then(|cs| cs.iter().find(|c| c["type"] == "Ready"));
            Box::new(PodMeta {
                node_name: text(v, "/spec/nodeName"),
                phase: text(v, "/status/phase"),
                pod_ip: text(v, "/status/podIP"),
                hostname: v.pointer("/spec/hostname").and_then(Value::as_str).map(Into::into),
                subdomain: v.pointer("/spec/subdomain").and_then(Value::as_str).map(Into::into),
                ready: ready.is_some_and(|c| c["status"] == "True"),
                ready_since: ready.and_then(|c| c["lastTransitionTime"].as_str()).map(Into::into),
                claims: v
                    .pointer("/spec/volumes")
                    .and_then(Value::as_array)
                    .map(|vs| {
                        vs.iter()
                            .filter_map(|x| x.pointer("/persistentVolumeClaim/claimName").and_then(Value::as_str))
                            .map(Into::into)
                            .collect()
                    })
                    .unwrap_or_default(),
            })
        });
        let field = |ptr: &str| v.pointer(ptr).and_then(Value::as_str).unwrap_or("");
        let (name, namespace, uid) = (field("/metadata/name"), field("/metadata/namespace"), field("/metadata/uid"));
        let rv = field("/metadata/resourceVersion");
        let ends = [name.len(), name.len() + namespace.len(), name.len() + namespace.len() + uid.len()];
        Meta {
            ids: [name, namespace, uid, rv].concat().into_boxed_str(),
            ends: ends.map(|e| e as u32),
            labels: labels.into(),
            owners,
            deleting: v.pointer("/metadata/deletionTimestamp").is_some(),
            pod,
        }
    }

    pub fn name(&self) -> &str {
        &self.ids[..self.ends[0] as usize]
    }

    pub fn namespace(&self) -> &str {
        &self.ids[self.ends[0] as usize..self.ends[1] as usize]
    }

    pub fn uid(&self) -> &str {
        &self.ids[self.ends[1] as usize..self.ends[2] as usize]
    }

    pub fn resource_version(&self) -> &str {
        &self.ids[self.ends[2] as usize..]
    }

    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels.binary_search_by(|(k, _)| (**k).cmp(key)).ok().map(|i| &*self.labels[i].1)
    }

    /// The uid of the controller ownerReference, if any.
    pub fn controller_uid(&self) -> Option<&str> {
        self.owners.iter().find(|o| o.controller).map(|o| &*o.uid)
    }

    /// Whether the object has a controller ownerReference to `uid`.
    pub fn controlled_by(&self, uid: &str) -> bool {
        self.owners.iter().any(|o| o.controller && &*o.uid == uid)
    }
}

impl Obj {
    /// Store `value` as compact JSON with its summary; the handle keeps the value as its parse.
    pub fn new(value: Value) -> Obj {
        let json = serde_json::to_string(&value).unwrap_or_default().into_boxed_str();
        let meta = Meta::of(&value);
        Obj { stored: Arc::new(Stored { json, meta }), parsed: OnceLock::from(Box::new(value)) }
    }

    /// The object as JSON text, exactly as it is served.
    pub fn json(&self) -> &str {
        &self.stored.json
    }

    pub fn meta(&self) -> &Meta {
        &self.stored.meta
    }

    pub fn name(&self) -> &str {
        self.stored.meta.name()
    }

    pub fn namespace(&self) -> &str {
        self.stored.meta.namespace()
    }

    pub fn uid(&self) -> &str {
        self.stored.meta.uid()
    }

    /// The parsed object (parsed once per handle).
    pub fn value(&self) -> &Value {
        // The text was written by serde_json from a Value, so it always parses back.
        self.parsed.get_or_init(|| Box::new(serde_json::from_str(&self.stored.json).unwrap_or(Value::Null)))
    }

    /// Whether two handles are the same stored version.
    pub fn same(&self, other: &Obj) -> bool {
        Arc::ptr_eq(&self.stored, &other.stored)
    }

    /// A handle that has not parsed the object (what long-lived copies keep).
    pub fn unparsed(&self) -> Obj {
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
}
