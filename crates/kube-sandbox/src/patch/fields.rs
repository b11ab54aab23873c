//! Field sets in upstream's `FieldsV1` form (`{"f:spec":{"f:replicas":{}}}`, list items as
//! `k:{"name":"nginx"}` with `.` for the item itself, set members as `v:"a"`): computing the set
//! an object sets, set algebra on the leaves, and reading or removing a leaf in an object.

use serde_json::{Map, Value};

use super::schema::{ListKind, Schema};

/// A FieldsV1 tree: every key is a path element; a node with no children is a leaf.
pub(super) type FieldSet = Map<String, Value>;
/// One leaf: the path elements from the root.
pub(super) type Path = Vec<String>;

/// Fields the API server sets itself; nobody manages them.
const SERVER_METADATA: &[&str] = &[
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "selfLink",
];

/// The fields `obj` sets.
pub(super) fn of_object(obj: &Value, s: Schema) -> FieldSet {
    let mut set = children(obj, s);
    set.remove("f:apiVersion");
    set.remove("f:kind");
    if let Some(Value::Object(meta)) = set.get_mut("f:metadata") {
        for f in SERVER_METADATA {
            meta.remove(&format!("f:{f}"));
        }
        if meta.is_empty() {
            set.remove("f:metadata");
        }
    }
    set
}

fn children(v: &Value, s: Schema) -> FieldSet {
    let mut out = Map::new();
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                if child.is_null() {
                    continue;
                }
                out.insert(format!("f:{k}"), node(child, s.field(k)));
            }
        }
        Value::Array(items) => match s.list_kind() {
            ListKind::Map(key) => {
                for item in items {
                    let Some(id) = item.get(&key) else { continue };
                    let mut child = children(item, s.items());
                    child.insert(".".into(), Value::Object(Map::new()));
                    out.insert(key_element(&key, id), Value::Object(child));
                }
            }
            ListKind::Set => {
                for item in items {
                    out.insert(format!("v:{item}"), Value::Object(Map::new()));
                }
            }
            ListKind::Atomic => {}
        },
        _ => {}
    }
    out
}

fn node(v: &Value, s: Schema) -> Value {
    match v {
        Value::Array(_) if s.list_kind() == ListKind::Atomic => Value::Object(Map::new()),
        Value::Object(_) | Value::Array(_) => Value::Object(children(v, s)),
        _ => Value::Object(Map::new()),
    }
}

fn key_element(key: &str, id: &Value) -> String {
    let mut m = Map::new();
    m.insert(key.to_string(), id.clone());
    format!("k:{}", Value::Object(m))
}

/// Every leaf of a set.
pub(super) fn leaves(set: &FieldSet) -> Vec<Path> {
    fn walk(set: &FieldSet, prefix: &mut Path, out: &mut Vec<Path>) {
        for (k, child) in set {
            prefix.push(k.clone());
            match child.as_object() {
                Some(c) if !c.is_empty() => walk(c, prefix, out),
                _ => out.push(prefix.clone()),
            }
            prefix.pop();
        }
    }
    let mut out = Vec::new();
    walk(set, &mut Vec::new(), &mut out);
    out
}

/// Whether `path` is a leaf of `set`.
pub(super) fn contains(set: &FieldSet, path: &[String]) -> bool {
    let Some((last, parents)) = path.split_last() else {
        return false;
    };
    let mut cur = set;
    for p in parents {
        match cur.get(p).and_then(Value::as_object) {
            Some(c) => cur = c,
            None => return false,
        }
    }
    cur.get(last).and_then(Value::as_object).is_some_and(Map::is_empty)
}

/// Add a leaf to `set`.
pub(super) fn insert(set: &mut FieldSet, path: &[String]) {
    let mut cur = set;
    for p in path {
        let next = cur.entry(p.clone()).or_insert_with(|| Value::Object(Map::new()));
        if !next.is_object() {
            *next = Value::Object(Map::new());
        }
        let Value::Object(m) = next else { return };
        cur = m;
    }
}

/// Remove a leaf, and parents it leaves empty (an emptied parent is not a leaf of its own).
pub(super) fn remove(set: &mut FieldSet, path: &[String]) {
    fn go(set: &mut FieldSet, path: &[String]) -> bool {
        let Some((first, rest)) = path.split_first() else {
            return false;
        };
        if rest.is_empty() {
            set.remove(first);
        } else if let Some(Value::Object(child)) = set.get_mut(first) {
            if go(child, rest) && child.is_empty() {
                set.remove(first);
            }
        } else {
            return false;
        }
        true
    }
    go(set, path);
}

/// The value at a leaf in an object (`.` is the list item itself).
pub(super) fn get<'a>(obj: &'a Value, path: &[String]) -> Option<&'a Value> {
    let mut cur = obj;
    for p in path {
        cur = step(cur, p)?;
    }
    Some(cur)
}

fn step<'a>(v: &'a Value, elem: &str) -> Option<&'a Value> {
    if elem == "." {
        return Some(v);
    }
    if let Some(f) = elem.strip_prefix("f:") {
        return v.as_object()?.get(f);
    }
    let items = v.as_array()?;
    items.iter().find(|item| item_matches(item, elem))
}

fn item_matches(item: &Value, elem: &str) -> bool {
    if let Some(k) = elem.strip_prefix("k:") {
        let Ok(Value::Object(keys)) = serde_json::from_str::<Value>(k) else {
            return false;
        };
        return keys.iter().all(|(k, v)| item.get(k) == Some(v));
    }
    if let Some(v) = elem.strip_prefix("v:") {
        return serde_json::from_str::<Value>(v).is_ok_and(|v| &v == item);
    }
    false
}

/// Remove the field (or list item, for a `.` leaf) at `path` from an object.
pub(super) fn remove_from_object(obj: &mut Value, path: &[String]) {
    let path: &[String] = match path.split_last() {
        Some((last, rest)) if last == "." => rest,
        _ => path,
    };
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut cur = obj;
    for p in parents {
        let next = if let Some(f) = p.strip_prefix("f:") {
            cur.as_object_mut().and_then(|m| m.get_mut(f))
        } else {
            cur.as_array_mut().and_then(|a| a.iter_mut().find(|i| item_matches(i, p)))
        };
        match next {
            Some(n) => cur = n,
            None => return,
        }
    }
    if let Some(f) = last.strip_prefix("f:") {
        if let Some(m) = cur.as_object_mut() {
            m.remove(f);
        }
    } else if let Some(items) = cur.as_array_mut() {
        items.retain(|i| !item_matches(i, last));
    }
}

/// A leaf as upstream prints it in conflict messages: `.spec.template.spec.containers[name="nginx"].image`.
pub(super) fn display(path: &[String]) -> String {
    let mut out = String::new();
    for p in path {
        if let Some(f) = p.strip_prefix("f:") {
            out.push('.');
            out.push_str(f);
        } else if let Some(k) = p.strip_prefix("k:") {
            let keys = match serde_json::from_str::<Value>(k) {
                Ok(Value::Object(m)) => m.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(","),
                _ => k.to_string(),
            };
            out.push_str(&format!("[{keys}]"));
        } else if let Some(v) = p.strip_prefix("v:") {
            out.push_str(&format!("[={v}]"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::schema::Root;
    use super::*;

    fn p(s: &[&str]) -> Path {
        s.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_statefulset_sets_fields_in_fields_v1_form() {
        let sts = json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "web", "uid": "u", "labels": {"app": "nginx"}, "finalizers": ["x"]},
            "spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "nginx", "image": "nginx", "args": ["a"]}]}}}});
        let root = Root::of("StatefulSet");
        let set = of_object(&sts, root.top());
        assert_eq!(
            Value::Object(set.clone()),
            json!({
                "f:metadata": {"f:labels": {"f:app": {}}, "f:finalizers": {"v:\"x\"": {}}},
                "f:spec": {"f:replicas": {}, "f:template": {"f:spec": {"f:containers": {
                    "k:{\"name\":\"nginx\"}": {".": {}, "f:name": {}, "f:image": {}, "f:args": {}}}}}}
            })
        );
        let image = p(&["f:spec", "f:template", "f:spec", "f:containers", "k:{\"name\":\"nginx\"}", "f:image"]);
        assert!(leaves(&set).contains(&image));
        assert!(contains(&set, &image));
        assert_eq!(get(&sts, &image), Some(&json!("nginx")));
        assert_eq!(display(&image), ".spec.template.spec.containers[name=\"nginx\"].image");
        assert_eq!(display(&p(&["f:metadata", "f:finalizers", "v:\"x\""])), ".metadata.finalizers[=\"x\"]");
    }

    #[test]
    fn removing_leaves_prunes_parents_and_objects() {
        let mut set = Map::new();
        insert(&mut set, &p(&["f:metadata", "f:labels", "f:app"]));
        insert(&mut set, &p(&["f:spec", "f:replicas"]));
        remove(&mut set, &p(&["f:metadata", "f:labels", "f:app"]));
        assert_eq!(Value::Object(set), json!({"f:spec": {"f:replicas": {}}}));

        let mut obj = json!({"spec": {"containers": [{"name": "a"}, {"name": "b", "image": "x"}]}});
        remove_from_object(&mut obj, &p(&["f:spec", "f:containers", "k:{\"name\":\"b\"}", "f:image"]));
        assert_eq!(obj["spec"]["containers"][1], json!({"name": "b"}));
        remove_from_object(&mut obj, &p(&["f:spec", "f:containers", "k:{\"name\":\"a\"}", "."]));
        assert_eq!(obj["spec"]["containers"], json!([{"name": "b"}]));
    }
}
