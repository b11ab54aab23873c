//! The four patch types of `PATCH` requests (JSON patch, JSON merge patch, strategic merge
//! patch, server-side apply) and the `managedFields` bookkeeping every API create, update
//! and patch records. The API
//! handlers in `api/crud.rs` call in here; how each field merges comes from the same OpenAPI
//! schema kubectl reads, so the server and kubectl's client-side apply agree.

mod apply;
mod fields;
mod schema;
mod strategic;

use serde_json::Value;

use super::error::{ApiError, ApiResult};

pub(crate) use apply::{record_update, server_side_apply};
pub(crate) use strategic::strategic_merge_patch;

/// The patch formats, by their `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PatchType {
    Json,
    Merge,
    StrategicMerge,
    Apply,
}

impl PatchType {
    pub(crate) fn from_content_type(ct: &str) -> Option<Self> {
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
pub(crate) fn json_patch(doc: &Value, patch: &Value) -> ApiResult<Value> {
    if !patch.is_array() {
        return Err(ApiError::bad_request(format!(
            "json: cannot unmarshal {} into Go value of type jsonpatch.Patch",
            go_type(patch)
        )));
    }
    let ops: json_patch::Patch =
        serde_json::from_value(patch.clone()).map_err(|e| ApiError::bad_request(format!("invalid JSON patch: {e}")))?;
    if ops.len() > MAX_JSON_PATCH_OPERATIONS {
        return Err(ApiError::new(
            413,
            "RequestEntityTooLarge",
            format!(
                "Request entity too large: The allowed number of operations in a JSON patch is {MAX_JSON_PATCH_OPERATIONS}, got {}",
                ops.len()
            ),
        ));
    }
    let mut out = doc.clone();
    // `copy` is the one operation that grows the document beyond the patch's own size (copying
    // a field into itself doubles it); what it copies is bounded in total, as upstream does.
    let mut copied = 0usize;
    for (i, op) in ops.iter().enumerate() {
        if let json_patch::PatchOperation::Copy(c) = op {
            copied += out.pointer(c.from.as_str()).map_or(0, |v| serde_json::to_vec(v).map_or(0, |b| b.len()));
            if copied > MAX_COPY_BYTES {
                return Err(ApiError::new(
                    422,
                    "Invalid",
                    format!("Unable to complete the copy, the accumulated size increase of copy is {copied}, exceeding the limit {MAX_COPY_BYTES}"),
                ));
            }
        }
        json_patch::patch(&mut out, std::slice::from_ref(op)).map_err(|mut e| {
            e.operation = i;
            ApiError::new(422, "Invalid", e.to_string())
        })?;
    }
    Ok(out)
}

/// Upstream's limit on the operations of one JSON patch.
pub(crate) const MAX_JSON_PATCH_OPERATIONS: usize = 10_000;

/// What the `copy` operations of one JSON patch may copy in total: the request body limit.
pub(crate) const MAX_COPY_BYTES: usize = 3 * 1024 * 1024;

/// RFC 7386 JSON merge patch: objects merge, `null` deletes, everything else replaces.
pub(crate) fn merge_patch(doc: &Value, patch: &Value) -> Value {
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
    fn json_patch_cost_is_bounded() {
        // Copying a map into itself doubles it: 40 copies would make a terabyte.
        let doc = json!({"data": {"k": "x".repeat(1000)}});
        let ops: Vec<Value> =
            (0..40).map(|i| json!({"op": "copy", "from": "/data", "path": format!("/data/c{i}")})).collect();
        let e = json_patch(&doc, &Value::Array(ops)).unwrap_err();
        assert_eq!(e.code, 422);
        assert!(e.message.starts_with("Unable to complete the copy"), "{}", e.message);
        // A few copies are fine.
        let ops = json!([{"op": "copy", "from": "/data/k", "path": "/data/k2"}]);
        assert_eq!(json_patch(&doc, &ops).unwrap()["data"]["k2"], doc["data"]["k"]);

        let many = Value::Array(vec![json!({"op": "test", "path": "/data", "value": {}}); 10_001]);
        let e = json_patch(&doc, &many).unwrap_err();
        assert_eq!(e.code, 413);
        assert!(e.message.ends_with("is 10000, got 10001"), "{}", e.message);
        // A failing operation is named by its index, as before.
        let e = json_patch(&doc, &json!([{"op": "add", "path": "/a", "value": 1}, {"op": "remove", "path": "/b"}]))
            .unwrap_err();
        assert!(e.message.contains("/1"), "{}", e.message);
    }

    #[test]
    fn merge_patch_deletes_with_null_and_replaces_lists() {
        let doc = json!({"metadata": {"labels": {"a": "1", "b": "2"}}, "spec": {"args": ["x", "y"]}});
        let out = merge_patch(&doc, &json!({"metadata": {"labels": {"a": null, "c": "3"}}, "spec": {"args": ["z"]}}));
        assert_eq!(out, json!({"metadata": {"labels": {"b": "2", "c": "3"}}, "spec": {"args": ["z"]}}));
    }
}
