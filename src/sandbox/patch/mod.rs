//! The four patch types of `PATCH` requests (JSON patch, JSON merge patch, strategic merge
//! patch, server-side apply) and the `managedFields` bookkeeping every write records. The API
//! handlers in `api/crud.rs` call in here; how each field merges comes from the same OpenAPI
//! schema kubectl reads, so the server and kubectl's client-side apply agree.

mod apply;
mod fields;
mod schema;
mod strategic;

use serde_json::Value;

use super::error::{ApiError, ApiResult};

pub use apply::{record_update, server_side_apply};
pub use strategic::strategic_merge_patch;

/// The patch formats, by their `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    Json,
    Merge,
    StrategicMerge,
    Apply,
}

impl PatchType {
    pub fn from_content_type(ct: &str) -> Option<Self> {
        match ct {
            "application/json-patch+json" => Some(PatchType::Json),
            "application/merge-patch+json" => Some(PatchType::Merge),
            "application/strategic-merge-patch+json" => Some(PatchType::StrategicMerge),
            "application/apply-patch+yaml" | "application/apply-patch+cbor" => Some(PatchType::Apply),
            _ => None,
        }
    }
}

/// RFC 6902 JSON patch. A malformed patch is a 400; a patch that does not apply (missing path,
/// failed `test`) is a 422, as upstream's patch handler answers.
pub fn json_patch(doc: &Value, patch: &Value) -> ApiResult<Value> {
    if !patch.is_array() {
        return Err(ApiError::bad_request(format!(
            "json: cannot unmarshal {} into Go value of type jsonpatch.Patch",
            go_type(patch)
        )));
    }
    let ops: json_patch::Patch =
        serde_json::from_value(patch.clone()).map_err(|e| ApiError::bad_request(format!("invalid JSON patch: {e}")))?;
    let mut out = doc.clone();
    json_patch::patch(&mut out, &ops).map_err(|e| ApiError::new(422, "Invalid", e.to_string()))?;
    Ok(out)
}

/// RFC 7386 JSON merge patch: objects merge, `null` deletes, everything else replaces.
pub fn merge_patch(doc: &Value, patch: &Value) -> Value {
    let mut out = doc.clone();
    json_patch::merge(&mut out, patch);
    out
}

/// The Go type name upstream's decoder reports for a JSON value of the wrong shape.
fn go_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn content_types_pick_the_patch_type() {
        assert_eq!(PatchType::from_content_type("application/json-patch+json"), Some(PatchType::Json));
        assert_eq!(PatchType::from_content_type("application/merge-patch+json"), Some(PatchType::Merge));
        assert_eq!(
            PatchType::from_content_type("application/strategic-merge-patch+json"),
            Some(PatchType::StrategicMerge)
        );
        assert_eq!(PatchType::from_content_type("application/apply-patch+yaml"), Some(PatchType::Apply));
        assert_eq!(PatchType::from_content_type("application/json"), None);
    }

    #[test]
    fn json_patch_applies_and_reports_failures() {
        let doc = json!({"spec": {"replicas": 2}});
        let out = json_patch(&doc, &json!([{"op": "replace", "path": "/spec/replicas", "value": 3}])).unwrap();
        assert_eq!(out["spec"]["replicas"], 3);

        let e = json_patch(&doc, &json!([{"op": "test", "path": "/spec/replicas", "value": 5}])).unwrap_err();
        assert_eq!((e.code, e.reason), (422, "Invalid"));
        let e = json_patch(&doc, &json!([{"op": "remove", "path": "/spec/nope"}])).unwrap_err();
        assert_eq!(e.code, 422);
        let e = json_patch(&doc, &json!({"op": "remove"})).unwrap_err();
        assert_eq!((e.code, e.reason), (400, "BadRequest"));
        assert!(e.message.contains("cannot unmarshal object"), "{}", e.message);
        let e = json_patch(&doc, &json!([{"op": "frobnicate", "path": "/a"}])).unwrap_err();
        assert_eq!(e.code, 400);
    }

    #[test]
    fn merge_patch_deletes_with_null_and_replaces_lists() {
        let doc = json!({"metadata": {"labels": {"a": "1", "b": "2"}}, "spec": {"args": ["x", "y"]}});
        let out = merge_patch(&doc, &json!({"metadata": {"labels": {"a": null, "c": "3"}}, "spec": {"args": ["z"]}}));
        assert_eq!(out, json!({"metadata": {"labels": {"b": "2", "c": "3"}}, "spec": {"args": ["z"]}}));
    }
}
