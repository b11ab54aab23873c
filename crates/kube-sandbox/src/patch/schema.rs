//! Walking a kind's OpenAPI schema to learn how a field merges: a map, a list merged by key, a
//! set of primitives, or an atomic value that is replaced whole.

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::openapi;

/// How a list field merges, from `x-kubernetes-patch-strategy` / `x-kubernetes-patch-merge-key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum ListKind {
    /// Replaced as a whole.
    Atomic,
    /// A set of primitives (e.g. `finalizers`).
    Set,
    /// Items identified by one key field (e.g. containers by `name`).
    Map(String),
}

/// A kind's schema document, kept alive while a patch walks it.
pub(super) struct Root {
    doc: Option<(Arc<Value>, String)>,
}

impl Root {
    pub(super) fn of(kind: &str) -> Root {
        Root { doc: openapi::kind_schema(kind) }
    }

    pub(super) fn top(&self) -> Schema<'_> {
        match &self.doc {
            Some((doc, name)) => {
                let schemas = doc["components"]["schemas"].as_object();
                Schema { schemas, node: schemas.and_then(|s| s.get(name)) }
            }
            None => Schema::unknown(),
        }
    }
}

/// A position in the schema; `node` is the property as declared (before `$ref` resolution) so
/// the patch extensions on it stay visible. Unknown positions merge maps and replace lists.
#[derive(Clone, Copy)]
pub(super) struct Schema<'a> {
    schemas: Option<&'a Map<String, Value>>,
    node: Option<&'a Value>,
}

impl<'a> Schema<'a> {
    pub(super) fn unknown() -> Schema<'static> {
        Schema { schemas: None, node: None }
    }

    fn at(self, node: Option<&'a Value>) -> Schema<'a> {
        Schema { schemas: self.schemas, node }
    }

    /// The node with references and single-element compositions followed.
    fn resolved(self) -> Option<&'a Value> {
        let mut node = self.node?;
        for _ in 0..32 {
            if let Some(r) = node.get("$ref").and_then(Value::as_str) {
                node = self.schemas?.get(r.rsplit('/').next()?)?;
            } else if let Some(first) = ["allOf", "anyOf", "oneOf"].iter().find_map(|k| {
                node.get(*k)
                    .and_then(Value::as_array)
                    .and_then(|a| a.iter().find(|s| s.get("type").and_then(Value::as_str) != Some("null")))
            }) {
                node = first;
            } else {
                return Some(node);
            }
        }
        None
    }

    /// The schema of field `name` of an object (or of a map's values).
    pub(super) fn field(self, name: &str) -> Schema<'a> {
        let Some(node) = self.resolved() else {
            return self.at(None);
        };
        if let Some(p) = node.get("properties").and_then(|p| p.get(name)) {
            return self.at(Some(p));
        }
        match node.get("additionalProperties") {
            Some(v) if v.is_object() => self.at(Some(v)),
            _ => self.at(None),
        }
    }

    /// The schema of a list's items.
    pub(super) fn items(self) -> Schema<'a> {
        self.at(self.resolved().and_then(|n| n.get("items")))
    }

    pub(super) fn list_kind(self) -> ListKind {
        let Some(node) = self.node else {
            return ListKind::Atomic;
        };
        let merges = node
            .get("x-kubernetes-patch-strategy")
            .and_then(Value::as_str)
            .is_some_and(|s| s.split(',').any(|p| p == "merge"));
        if !merges {
            return ListKind::Atomic;
        }
        match node.get("x-kubernetes-patch-merge-key").and_then(Value::as_str) {
            Some(k) => ListKind::Map(k.to_string()),
            None => ListKind::Set,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statefulset_schema_knows_how_pod_lists_merge() {
        let root = Root::of("StatefulSet");
        let pod = root.top().field("spec").field("template").field("spec");
        assert_eq!(pod.field("containers").list_kind(), ListKind::Map("name".into()));
        let c = pod.field("containers").items();
        assert_eq!(c.field("ports").list_kind(), ListKind::Map("containerPort".into()));
        assert_eq!(c.field("volumeMounts").list_kind(), ListKind::Map("mountPath".into()));
        assert_eq!(c.field("args").list_kind(), ListKind::Atomic);
        assert_eq!(root.top().field("metadata").field("finalizers").list_kind(), ListKind::Set);
        assert_eq!(root.top().field("spec").field("volumeClaimTemplates").list_kind(), ListKind::Atomic);
    }

    #[test]
    fn service_ports_merge_by_port_and_labels_are_a_map() {
        let root = Root::of("Service");
        assert_eq!(root.top().field("spec").field("ports").list_kind(), ListKind::Map("port".into()));
        let labels = root.top().field("metadata").field("labels");
        assert_eq!(labels.field("app").list_kind(), ListKind::Atomic);
        assert_eq!(Root::of("NoSuchKind").top().field("spec").list_kind(), ListKind::Atomic);
    }
}
