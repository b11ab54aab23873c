//! Strategic merge patch, as upstream's apimachinery applies it: lists with a merge key merge
//! item by item, sets of primitives are unioned, other lists are replaced, and the directives
//! `$patch`, `$retainKeys`, `$setElementOrder/<list>` and `$deleteFromPrimitiveList/<list>`
//! say what plain JSON cannot. Server-side apply reuses the same merge.

use serde_json::{Map, Value};

use super::schema::{ListKind, Root, Schema};
use crate::error::{ApiError, ApiResult};

const ORDER: &str = "$setElementOrder/";
const DELETE_FROM: &str = "$deleteFromPrimitiveList/";

/// Apply a strategic merge patch to `original`, an object of `kind`.
pub(crate) fn strategic_merge_patch(original: &Value, patch: &Value, kind: &str) -> ApiResult<Value> {
    let Some(p) = patch.as_object() else {
        return Err(ApiError::bad_request(format!(
            "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
            super::go_type(patch)
        )));
    };
    let root = Root::of(kind);
    let mut out = original.as_object().cloned().unwrap_or_default();
    merge_map(&mut out, p, root.top())?;
    Ok(Value::Object(out))
}

/// Merge `applied` into `live` the way apply does: like a strategic merge without directives.
pub(super) fn merge_applied(live: &mut Map<String, Value>, applied: &Map<String, Value>, s: Schema) -> ApiResult<()> {
    merge_map(live, applied, s)
}

fn directive(m: &Map<String, Value>) -> Option<&str> {
    m.get("$patch").and_then(Value::as_str)
}

fn merge_map(orig: &mut Map<String, Value>, patch: &Map<String, Value>, s: Schema) -> ApiResult<()> {
    match directive(patch) {
        Some("replace") => {
            *orig = fresh_map(patch, s)?;
            return Ok(());
        }
        Some("delete") => {
            orig.clear();
            return Ok(());
        }
        Some(other) => return Err(ApiError::bad_request(format!("Unknown patch type: {other}"))),
        None => {}
    }
    if let Some(keep) = patch.get("$retainKeys") {
        let Some(keep) = keep.as_array() else {
            return Err(ApiError::bad_request("invalid patch: $retainKeys must be a list of field names"));
        };
        orig.retain(|k, _| keep.iter().any(|x| x.as_str() == Some(k)));
    }
    for (k, v) in patch {
        if let Some(field) = k.strip_prefix(DELETE_FROM) {
            let Some(gone) = v.as_array() else {
                return Err(ApiError::bad_request(format!("invalid patch: {k} must be a list")));
            };
            if let Some(Value::Array(items)) = orig.get_mut(field) {
                items.retain(|x| !gone.contains(x));
            }
            continue;
        }
        if k.starts_with('$') {
            continue;
        }
        let fs = s.field(k);
        match v {
            Value::Null => {
                orig.remove(k);
            }
            Value::Object(pm) if directive(pm) == Some("delete") => {
                orig.remove(k);
            }
            _ => match orig.get_mut(k) {
                Some(o) => merge_value(o, v, fs)?,
                None => {
                    let fresh = fresh_value(v, fs)?;
                    orig.insert(k.clone(), fresh);
                }
            },
        }
    }
    for (k, order) in patch {
        if let Some(field) = k.strip_prefix(ORDER) {
            if let (Some(Value::Array(items)), Some(order)) = (orig.get_mut(field), order.as_array()) {
                reorder(items, order, &s.field(field).list_kind());
            }
        }
    }
    Ok(())
}

fn merge_value(orig: &mut Value, patch: &Value, s: Schema) -> ApiResult<()> {
    match (orig, patch) {
        (Value::Object(o), Value::Object(p)) => merge_map(o, p, s),
        (Value::Array(o), Value::Array(p)) => merge_list(o, p, s),
        (o, p) => {
            *o = fresh_value(p, s)?;
            Ok(())
        }
    }
}

/// A patch value for a field the original lacks: its directives are applied to nothing.
fn fresh_value(v: &Value, s: Schema) -> ApiResult<Value> {
    Ok(match v {
        Value::Object(m) => Value::Object(fresh_map(m, s)?),
        Value::Array(items) => {
            let mut out = Vec::new();
            merge_list(&mut out, items, s)?;
            Value::Array(out)
        }
        other => other.clone(),
    })
}

fn fresh_map(m: &Map<String, Value>, s: Schema) -> ApiResult<Map<String, Value>> {
    let mut without: Map<String, Value> = m.clone();
    without.remove("$patch");
    let mut out = Map::new();
    merge_map(&mut out, &without, s)?;
    Ok(out)
}

fn is_replace_marker(v: &Value) -> bool {
    v.as_object().is_some_and(|m| m.len() == 1 && directive(m) == Some("replace"))
}

fn merge_list(orig: &mut Vec<Value>, patch: &[Value], s: Schema) -> ApiResult<()> {
    let items = s.items();
    let kind = s.list_kind();
    if kind == ListKind::Atomic || patch.iter().any(is_replace_marker) {
        let mut out = Vec::new();
        for p in patch.iter().filter(|p| !is_replace_marker(p)) {
            out.push(fresh_value(p, items)?);
        }
        *orig = out;
        return Ok(());
    }
    match kind {
        ListKind::Map(key) => {
            for p in patch {
                let Some(pm) = p.as_object() else {
                    return Err(ApiError::bad_request(format!(
                        "invalid patch: the list items must be objects with the merge key \"{key}\""
                    )));
                };
                let Some(id) = pm.get(&key) else {
                    return Err(ApiError::new(
                        422,
                        "Invalid",
                        format!("map: {} does not contain declared merge key: {key}", Value::Object(pm.clone())),
                    ));
                };
                let pos = orig.iter().position(|o| o.get(&key) == Some(id));
                match (directive(pm), pos) {
                    (Some("delete"), Some(i)) => {
                        orig.remove(i);
                    }
                    (Some("delete"), None) => {}
                    (_, Some(i)) => merge_value(&mut orig[i], p, items)?,
                    (_, None) => orig.push(fresh_value(p, items)?),
                }
            }
        }
        ListKind::Set => {
            for p in patch {
                if !orig.contains(p) {
                    orig.push(p.clone());
                }
            }
        }
        ListKind::Atomic => {}
    }
    Ok(())
}

/// `$setElementOrder`: the listed items in the given order, then any the patch did not name
/// (the server's own) in their previous order.
fn reorder(items: &mut Vec<Value>, order: &[Value], kind: &ListKind) {
    let rank = |item: &Value| -> Option<usize> {
        order.iter().position(|o| match kind {
            ListKind::Map(key) => o.get(key).is_some() && o.get(key) == item.get(key),
            _ => o == item,
        })
    };
    let mut ranked: Vec<(usize, Value)> = Vec::new();
    let mut rest = Vec::new();
    for item in items.drain(..) {
        match rank(&item) {
            Some(r) => ranked.push((r, item)),
            None => rest.push(item),
        }
    }
    ranked.sort_by_key(|(r, _)| *r);
    items.extend(ranked.into_iter().map(|(_, v)| v));
    items.extend(rest);
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn sts() -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "web", "labels": {"app": "nginx"}, "finalizers": ["a"]},
            "spec": {"replicas": 2, "template": {"spec": {
                "initContainers": [{"name": "init", "image": "alpine"}],
                "containers": [
                    {"name": "nginx", "image": "nginx:1.25", "args": ["-g", "x"],
                     "ports": [{"containerPort": 80, "name": "web"}],
                     "volumeMounts": [{"name": "www", "mountPath": "/usr/share/nginx/html"}]},
                    {"name": "sidecar", "image": "busybox"}
                ],
                "volumes": [{"name": "v", "emptyDir": {}}]
            }}}
        })
    }

    fn smp(patch: Value) -> Value {
        strategic_merge_patch(&sts(), &patch, "StatefulSet").unwrap()
    }

    #[test]
    fn containers_merge_by_name_and_keep_their_other_fields() {
        let out =
            smp(json!({"spec": {"template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]}}}}));
        let c = &out["spec"]["template"]["spec"]["containers"];
        assert_eq!(c.as_array().unwrap().len(), 2);
        assert_eq!(c[0]["image"], "nginx:1.27");
        assert_eq!(c[0]["ports"][0]["name"], "web");
        assert_eq!(c[1]["name"], "sidecar");
    }

    #[test]
    fn atomic_lists_are_replaced_and_null_deletes() {
        let out = smp(json!({"metadata": {"labels": {"app": null, "tier": "web"}},
            "spec": {"template": {"spec": {"containers": [{"name": "nginx", "args": ["-v"]}]}}}}));
        assert_eq!(out["metadata"]["labels"], json!({"tier": "web"}));
        assert_eq!(out["spec"]["template"]["spec"]["containers"][0]["args"], json!(["-v"]));
    }

    #[test]
    fn ports_merge_by_container_port_and_mounts_by_path() {
        let out = smp(json!({"spec": {"template": {"spec": {"containers": [{"name": "nginx",
            "ports": [{"containerPort": 443, "name": "tls"}],
            "volumeMounts": [{"mountPath": "/usr/share/nginx/html", "readOnly": true}]}]}}}}));
        let c = &out["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(c["ports"].as_array().unwrap().len(), 2);
        assert_eq!(
            c["volumeMounts"][0],
            json!({"name": "www", "mountPath": "/usr/share/nginx/html", "readOnly": true})
        );
    }

    #[test]
    fn delete_and_replace_directives() {
        let out =
            smp(json!({"spec": {"template": {"spec": {"containers": [{"name": "sidecar", "$patch": "delete"}]}}}}));
        assert_eq!(out["spec"]["template"]["spec"]["containers"].as_array().unwrap().len(), 1);

        let out = smp(
            json!({"spec": {"template": {"spec": {"containers": [{"$patch": "replace"}, {"name": "only", "image": "x"}]}}}}),
        );
        assert_eq!(out["spec"]["template"]["spec"]["containers"], json!([{"name": "only", "image": "x"}]));

        let out = smp(json!({"metadata": {"labels": {"$patch": "replace", "fresh": "1"}}}));
        assert_eq!(out["metadata"]["labels"], json!({"fresh": "1"}));

        let out = smp(
            json!({"spec": {"template": {"spec": {"volumes": [{"name": "v", "$retainKeys": ["name", "hostPath"], "hostPath": {"path": "/d"}}]}}}}),
        );
        assert_eq!(out["spec"]["template"]["spec"]["volumes"][0], json!({"name": "v", "hostPath": {"path": "/d"}}));
    }

    #[test]
    fn primitive_sets_union_and_delete_from_primitive_list() {
        let out = smp(json!({"metadata": {"finalizers": ["b", "a"]}}));
        assert_eq!(out["metadata"]["finalizers"], json!(["a", "b"]));
        let out = smp(json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}));
        assert_eq!(out["metadata"]["finalizers"], json!([]));
    }

    #[test]
    fn set_element_order_reorders_the_merged_list() {
        let out = smp(json!({"spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "sidecar"}, {"name": "nginx"}],
            "containers": [{"name": "sidecar", "image": "busybox:1"}]}}}}));
        let c = &out["spec"]["template"]["spec"]["containers"];
        assert_eq!((c[0]["name"].as_str(), c[1]["name"].as_str()), (Some("sidecar"), Some("nginx")));
        assert_eq!(c[0]["image"], "busybox:1");
    }

    #[test]
    fn a_list_item_without_its_merge_key_is_rejected() {
        let e = strategic_merge_patch(
            &sts(),
            &json!({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}}),
            "StatefulSet",
        )
        .unwrap_err();
        assert_eq!(e.code, 422);
        assert!(e.message.contains("does not contain declared merge key: name"), "{}", e.message);
        let e = strategic_merge_patch(&sts(), &json!([1]), "StatefulSet").unwrap_err();
        assert_eq!(e.code, 400);
    }

    #[test]
    fn service_ports_merge_by_port() {
        let svc = json!({"spec": {"clusterIP": "None", "ports": [{"port": 80, "name": "web"}]}});
        let out =
            strategic_merge_patch(&svc, &json!({"spec": {"ports": [{"port": 80, "targetPort": 8080}]}}), "Service")
                .unwrap();
        assert_eq!(out["spec"]["ports"], json!([{"port": 80, "name": "web", "targetPort": 8080}]));
    }
}
