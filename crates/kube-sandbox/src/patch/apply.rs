//! Server-side apply and the `metadata.managedFields` every API create, update and patch
//! records.
//!
//! Simplifications against upstream's structured-merge-diff (documented in README): field sets
//! are computed from the OpenAPI patch metadata (list merge keys) rather than full list-type
//! schemas; an applier's value and the live value are compared as JSON, so a field another
//! manager owns conflicts only when the values differ; and `managedFields` sent by a client
//! on update are ignored rather than taken as the new ownership.

use serde_json::{json, Map, Value};

use super::fields::{self, FieldSet, Path};
use super::schema::Root;
use super::strategic::merge_applied;
use crate::error::{ApiError, ApiResult, Cause};

/// One `managedFields` entry.
#[derive(Debug, Clone)]
struct Entry {
    manager: String,
    operation: String,
    api_version: String,
    time: String,
    subresource: Option<String>,
    set: FieldSet,
}

impl Entry {
    fn from_value(v: &Value) -> Option<Entry> {
        Some(Entry {
            manager: v.get("manager")?.as_str()?.to_string(),
            operation: v.get("operation").and_then(Value::as_str).unwrap_or("Update").to_string(),
            api_version: v.get("apiVersion").and_then(Value::as_str).unwrap_or_default().to_string(),
            time: v.get("time").and_then(Value::as_str).unwrap_or_default().to_string(),
            subresource: v.get("subresource").and_then(Value::as_str).map(str::to_string),
            set: v.get("fieldsV1").and_then(Value::as_object).cloned().unwrap_or_default(),
        })
    }

    fn to_value(&self) -> Value {
        let mut v = json!({
            "apiVersion": self.api_version,
            "fieldsType": "FieldsV1",
            "fieldsV1": self.set,
            "manager": self.manager,
            "operation": self.operation,
            "time": self.time,
        });
        if let Some(s) = &self.subresource {
            v["subresource"] = json!(s);
        }
        v
    }

    fn is(&self, manager: &str, operation: &str) -> bool {
        self.manager == manager && self.operation == operation
    }

    /// How upstream names this manager in a conflict message.
    fn describe(&self) -> String {
        if self.operation == "Update" {
            format!("{:?} using {}", self.manager, self.api_version)
        } else {
            format!("{:?}", self.manager)
        }
    }
}

fn entries(obj: &Value) -> Vec<Entry> {
    obj.pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Entry::from_value).collect())
        .unwrap_or_default()
}

fn store_entries(obj: &mut Value, list: Vec<Entry>) {
    let list: Vec<Value> = list.iter().filter(|e| !e.set.is_empty()).map(Entry::to_value).collect();
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        if list.is_empty() {
            meta.remove("managedFields");
        } else {
            meta.insert("managedFields".into(), Value::Array(list));
        }
    }
}

fn api_version(obj: &Value) -> String {
    obj.get("apiVersion").and_then(Value::as_str).unwrap_or_default().to_string()
}

/// Record a non-apply write by `manager`: it takes the fields it changed (others lose them), and
/// fields the write removed leave every manager.
pub(crate) fn record_update(old: Option<&Value>, new: &mut Value, kind: &str, manager: &str, now: &str) {
    let root = Root::of(kind);
    let s = root.top();
    let mut list = match old {
        Some(o) => entries(o),
        None => entries(new),
    };
    let new_set = fields::of_object(new, s);
    let changed: Vec<Path> = fields::leaves(&new_set)
        .into_iter()
        .filter(|leaf| match old {
            None => true,
            Some(o) => fields::get(o, leaf) != fields::get(new, leaf),
        })
        .collect();
    let removed: Vec<Path> = match old {
        Some(o) => fields::leaves(&fields::of_object(o, s))
            .into_iter()
            .filter(|leaf| !fields::contains(&new_set, leaf))
            .collect(),
        None => Vec::new(),
    };
    for e in &mut list {
        for leaf in changed.iter().chain(&removed) {
            fields::remove(&mut e.set, leaf);
        }
    }
    if !changed.is_empty() {
        let pos = list.iter().position(|e| e.is(manager, "Update") && e.subresource.is_none());
        let entry = match pos {
            Some(i) => &mut list[i],
            None => {
                list.push(Entry {
                    manager: manager.to_string(),
                    operation: "Update".into(),
                    api_version: String::new(),
                    time: String::new(),
                    subresource: None,
                    set: Map::new(),
                });
                let last = list.len() - 1;
                &mut list[last]
            }
        };
        entry.api_version = api_version(new);
        entry.time = now.to_string();
        for leaf in &changed {
            fields::insert(&mut entry.set, leaf);
        }
    }
    store_entries(new, list);
}

/// Apply `applied` (a partial object) as `manager`: merge it into `live`, remove the fields
/// this manager applied before and no longer does, and refuse (409) to change a field another
/// manager owns unless `force`.
pub(crate) fn server_side_apply(
    live: Option<&Value>,
    applied: &Value,
    kind: &str,
    manager: &str,
    force: bool,
    now: &str,
) -> ApiResult<Value> {
    let Some(applied_map) = applied.as_object() else {
        return Err(ApiError::bad_request("the apply configuration must be an object"));
    };
    for field in ["apiVersion", "kind"] {
        if applied_map.get(field).and_then(Value::as_str).unwrap_or("").is_empty() {
            return Err(ApiError::bad_request(format!(
                "error decoding YAML: Object '{}' is missing in '{}'",
                if field == "kind" { "Kind" } else { "apiVersion" },
                applied
            )));
        }
    }
    if applied["kind"] != kind {
        return Err(ApiError::bad_request(format!(
            "the kind of the applied object ({}) does not match the kind of the object it is applied to ({kind})",
            applied["kind"].as_str().unwrap_or_default()
        )));
    }
    let root = Root::of(kind);
    let s = root.top();
    let mut list = live.map(entries).unwrap_or_default();
    let mut out = live.cloned().unwrap_or_else(|| json!({}));
    let applied_set = fields::of_object(applied, s);
    let leaves = fields::leaves(&applied_set);

    let mut conflicts: Vec<(usize, Path)> = Vec::new();
    for leaf in &leaves {
        if leaf.last().is_some_and(|l| l == ".") {
            continue;
        }
        let Some(current) = fields::get(&out, leaf) else { continue };
        if fields::get(applied, leaf) == Some(current) {
            continue;
        }
        for (i, e) in list.iter().enumerate() {
            if !e.is(manager, "Apply") && fields::contains(&e.set, leaf) {
                conflicts.push((i, leaf.clone()));
            }
        }
    }
    if !conflicts.is_empty() {
        if !force {
            return Err(conflict_error(&list, &conflicts));
        }
        for (i, leaf) in &conflicts {
            fields::remove(&mut list[*i].set, leaf);
        }
    }

    if let Some(previous) = list.iter().find(|e| e.is(manager, "Apply")) {
        let dropped: Vec<Path> = fields::leaves(&previous.set)
            .into_iter()
            .filter(|leaf| !fields::contains(&applied_set, leaf))
            .filter(|leaf| !list.iter().any(|e| !e.is(manager, "Apply") && fields::contains(&e.set, leaf)))
            .collect();
        for leaf in &dropped {
            fields::remove_from_object(&mut out, leaf);
        }
    }
    if let (Some(o), Some(a)) = (out.as_object_mut(), applied.as_object()) {
        merge_applied(o, a, s)?;
    }

    // The entry keeps its time when the manager applies the same fields again: a repeated
    // apply that changes nothing is no write at all (same resourceVersion), as upstream.
    let api_version = api_version(applied);
    let time = match list.iter().find(|e| e.is(manager, "Apply")) {
        Some(prev) if prev.set == applied_set && prev.api_version == api_version => prev.time.clone(),
        _ => now.to_string(),
    };
    let entry = Entry {
        manager: manager.to_string(),
        operation: "Apply".into(),
        api_version,
        time,
        subresource: None,
        set: applied_set,
    };
    // In place, so an unchanged apply leaves managedFields exactly as they were.
    match list.iter().position(|e| e.is(manager, "Apply")) {
        Some(i) => list[i] = entry,
        None => list.push(entry),
    }
    store_entries(&mut out, list);
    Ok(out)
}

fn conflict_error(list: &[Entry], conflicts: &[(usize, Path)]) -> ApiError {
    let causes: Vec<Cause> = conflicts
        .iter()
        .map(|(i, leaf)| {
            Cause::new("FieldManagerConflict", fields::display(leaf), format!("conflict with {}", list[*i].describe()))
        })
        .collect();
    let message = if let [(i, leaf)] = conflicts {
        format!("Apply failed with 1 conflict: conflict with {}: {}", list[*i].describe(), fields::display(leaf))
    } else {
        let mut managers: Vec<String> = conflicts.iter().map(|(i, _)| list[*i].describe()).collect();
        managers.sort();
        managers.dedup();
        let mut lines = Vec::new();
        for m in &managers {
            lines.push(format!("conflicts with {m}:"));
            for (_, leaf) in conflicts.iter().filter(|(i, _)| &list[*i].describe() == m) {
                lines.push(format!("- {}", fields::display(leaf)));
            }
        }
        format!("Apply failed with {} conflicts: {}", conflicts.len(), lines.join("\n"))
    };
    let mut e = ApiError::new(409, "Conflict", message);
    e.details = Some(Box::new(crate::error::Details { causes, ..Default::default() }));
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: &str = "2026-11-25T10:00:00Z";

    fn applied(replicas: i64, labels: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "web", "labels": labels},
            "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.25"}]}}}})
    }

    fn managers(obj: &Value) -> Vec<(String, String)> {
        entries(obj).into_iter().map(|e| (e.manager, e.operation)).collect()
    }

    #[test]
    fn create_by_apply_records_the_applied_fields() {
        let out = server_side_apply(None, &applied(2, json!({"app": "nginx"})), "StatefulSet", "kubectl", false, NOW)
            .unwrap();
        assert_eq!(out["spec"]["replicas"], 2);
        let mf = &out["metadata"]["managedFields"][0];
        assert_eq!((mf["manager"].as_str(), mf["operation"].as_str()), (Some("kubectl"), Some("Apply")));
        assert_eq!(mf["fieldsV1"]["f:spec"]["f:replicas"], json!({}));
        assert_eq!(mf["apiVersion"], "apps/v1");
        assert_eq!(mf["time"], NOW);
    }

    #[test]
    fn reapplying_without_a_field_removes_it() {
        let live = server_side_apply(
            None,
            &applied(2, json!({"app": "nginx", "tier": "web"})),
            "StatefulSet",
            "m",
            false,
            NOW,
        )
        .unwrap();
        let out = server_side_apply(Some(&live), &applied(2, json!({"app": "nginx"})), "StatefulSet", "m", false, NOW)
            .unwrap();
        assert_eq!(out["metadata"]["labels"], json!({"app": "nginx"}));
    }

    #[test]
    fn changing_a_field_owned_by_another_manager_conflicts_unless_forced() {
        let live =
            server_side_apply(None, &applied(2, json!({"app": "nginx"})), "StatefulSet", "a", false, NOW).unwrap();
        let e = server_side_apply(Some(&live), &applied(5, json!({"app": "nginx"})), "StatefulSet", "b", false, NOW)
            .unwrap_err();
        assert_eq!((e.code, e.reason), (409, "Conflict"));
        assert_eq!(e.message, "Apply failed with 1 conflict: conflict with \"a\": .spec.replicas");
        assert_eq!(e.details.as_ref().unwrap().causes[0].field, ".spec.replicas");

        let same = server_side_apply(Some(&live), &applied(2, json!({"app": "nginx"})), "StatefulSet", "b", false, NOW)
            .unwrap();
        assert_eq!(
            managers(&same),
            [("a".to_string(), "Apply".to_string()), ("b".into(), "Apply".into())],
            "equal values share ownership"
        );

        let forced =
            server_side_apply(Some(&live), &applied(5, json!({"app": "nginx"})), "StatefulSet", "b", true, NOW)
                .unwrap();
        assert_eq!(forced["spec"]["replicas"], 5);
        let a = entries(&forced).into_iter().find(|e| e.manager == "a").unwrap();
        assert!(!fields::contains(&a.set, &["f:spec".to_string(), "f:replicas".to_string()]));
    }

    #[test]
    fn several_conflicts_are_listed_per_manager() {
        let live =
            server_side_apply(None, &applied(2, json!({"app": "nginx"})), "StatefulSet", "a", false, NOW).unwrap();
        let e = server_side_apply(Some(&live), &applied(5, json!({"app": "web"})), "StatefulSet", "b", false, NOW)
            .unwrap_err();
        assert_eq!(
            e.message,
            "Apply failed with 2 conflicts: conflicts with \"a\":\n- .metadata.labels.app\n- .spec.replicas"
        );
        assert_eq!(e.details.as_ref().unwrap().causes.len(), 2);
    }

    #[test]
    fn updates_take_the_fields_they_change() {
        let mut created = applied(2, json!({"app": "nginx"}));
        record_update(None, &mut created, "StatefulSet", "kubectl-create", NOW);
        assert_eq!(managers(&created), [("kubectl-create".to_string(), "Update".to_string())]);

        let mut scaled = created.clone();
        scaled["spec"]["replicas"] = json!(3);
        record_update(Some(&created), &mut scaled, "StatefulSet", "kubectl-scale", "2026-11-25T10:01:00Z");
        let list = entries(&scaled);
        let replicas = ["f:spec".to_string(), "f:replicas".to_string()];
        assert!(fields::contains(&list[1].set, &replicas));
        assert!(!fields::contains(&list[0].set, &replicas));
        assert_eq!(list[1].time, "2026-11-25T10:01:00Z");

        let e = server_side_apply(
            Some(&scaled),
            &applied(4, json!({"app": "nginx"})),
            "StatefulSet",
            "kubectl",
            false,
            NOW,
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "Apply failed with 1 conflict: conflict with \"kubectl-scale\" using apps/v1: .spec.replicas"
        );

        let mut same = scaled.clone();
        record_update(Some(&scaled), &mut same, "StatefulSet", "other", "2026-11-25T10:02:00Z");
        assert_eq!(managers(&same).len(), 2, "a no-op write records nothing");
    }

    #[test]
    fn apply_needs_kind_and_api_version() {
        let e =
            server_side_apply(None, &json!({"metadata": {"name": "x"}}), "StatefulSet", "m", false, NOW).unwrap_err();
        assert_eq!(e.code, 400);
        let e = server_side_apply(None, &json!({"apiVersion": "v1", "kind": "Pod"}), "StatefulSet", "m", false, NOW)
            .unwrap_err();
        assert_eq!(e.code, 400);
    }
}
