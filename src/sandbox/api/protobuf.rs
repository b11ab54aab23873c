//! The one protobuf body the sandbox reads. kubectl sends the SelfSubjectAccessReview of
//! `kubectl auth can-i` as `application/vnd.kubernetes.protobuf` only (it accepts a JSON answer),
//! so that request is decoded here into the JSON form the rest of the API works with. The wire
//! format is Kubernetes' envelope: the bytes `k8s\0`, then a `runtime.Unknown` whose `raw` field
//! holds the object (field numbers from the upstream `generated.proto` files).

use prost::Message;
use serde_json::{json, Map, Value};

use crate::sandbox::error::{ApiError, ApiResult};

pub const MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";
const MAGIC: &[u8] = b"k8s\0";

#[derive(Clone, PartialEq, Message)]
struct Unknown {
    #[prost(message, optional, tag = "1")]
    type_meta: Option<TypeMeta>,
    #[prost(bytes = "vec", optional, tag = "2")]
    raw: Option<Vec<u8>>,
    #[prost(string, optional, tag = "3")]
    content_encoding: Option<String>,
    #[prost(string, optional, tag = "4")]
    content_type: Option<String>,
}

#[derive(Clone, PartialEq, Message)]
struct TypeMeta {
    #[prost(string, optional, tag = "1")]
    api_version: Option<String>,
    #[prost(string, optional, tag = "2")]
    kind: Option<String>,
}

/// `authorization.k8s.io/v1` SelfSubjectAccessReview; metadata (1) and status (3) are not read.
#[derive(Clone, PartialEq, Message)]
struct SelfSubjectAccessReview {
    #[prost(message, optional, tag = "2")]
    spec: Option<ReviewSpec>,
}

#[derive(Clone, PartialEq, Message)]
struct ReviewSpec {
    #[prost(message, optional, tag = "1")]
    resource_attributes: Option<ResourceAttributes>,
    #[prost(message, optional, tag = "2")]
    non_resource_attributes: Option<NonResourceAttributes>,
}

#[derive(Clone, PartialEq, Message)]
struct ResourceAttributes {
    #[prost(string, optional, tag = "1")]
    namespace: Option<String>,
    #[prost(string, optional, tag = "2")]
    verb: Option<String>,
    #[prost(string, optional, tag = "3")]
    group: Option<String>,
    #[prost(string, optional, tag = "4")]
    version: Option<String>,
    #[prost(string, optional, tag = "5")]
    resource: Option<String>,
    #[prost(string, optional, tag = "6")]
    subresource: Option<String>,
    #[prost(string, optional, tag = "7")]
    name: Option<String>,
}

#[derive(Clone, PartialEq, Message)]
struct NonResourceAttributes {
    #[prost(string, optional, tag = "1")]
    path: Option<String>,
    #[prost(string, optional, tag = "2")]
    verb: Option<String>,
}

/// The fields that are set, under their JSON names.
fn fields(pairs: &[(&str, &Option<String>)]) -> Value {
    let map: Map<String, Value> =
        pairs.iter().filter_map(|(k, v)| v.as_ref().map(|v| (k.to_string(), json!(v)))).collect();
    Value::Object(map)
}

/// A protobuf-encoded SelfSubjectAccessReview as its JSON object.
pub fn self_subject_access_review(body: &[u8]) -> ApiResult<Value> {
    let bad = |why: &str| ApiError::bad_request(format!("error decoding the protobuf body: {why}"));
    let inner = body.strip_prefix(MAGIC).ok_or_else(|| bad("it does not start with the Kubernetes prefix k8s\\0"))?;
    let unknown = Unknown::decode(inner).map_err(|e| bad(&e.to_string()))?;
    let type_meta = unknown.type_meta.unwrap_or_default();
    let kind = type_meta.kind.as_deref().unwrap_or("");
    if kind != "SelfSubjectAccessReview" {
        return Err(bad(&format!("expected a SelfSubjectAccessReview, got kind {kind:?}")));
    }
    if unknown.content_encoding.as_deref().is_some_and(|e| !e.is_empty()) {
        return Err(bad("encoded (compressed) objects are not supported"));
    }
    let review =
        SelfSubjectAccessReview::decode(unknown.raw.as_deref().unwrap_or_default()).map_err(|e| bad(&e.to_string()))?;
    let spec = review.spec.unwrap_or_default();
    let mut out_spec = Map::new();
    if let Some(r) = &spec.resource_attributes {
        out_spec.insert(
            "resourceAttributes".into(),
            fields(&[
                ("namespace", &r.namespace),
                ("verb", &r.verb),
                ("group", &r.group),
                ("version", &r.version),
                ("resource", &r.resource),
                ("subresource", &r.subresource),
                ("name", &r.name),
            ]),
        );
    }
    if let Some(n) = &spec.non_resource_attributes {
        out_spec.insert("nonResourceAttributes".into(), fields(&[("path", &n.path), ("verb", &n.verb)]));
    }
    Ok(json!({
        "apiVersion": type_meta.api_version.unwrap_or_else(|| "authorization.k8s.io/v1".into()),
        "kind": "SelfSubjectAccessReview",
        "metadata": {},
        "spec": out_spec,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(kind: &str, raw: Vec<u8>) -> Vec<u8> {
        let unknown = Unknown {
            type_meta: Some(TypeMeta { api_version: Some("authorization.k8s.io/v1".into()), kind: Some(kind.into()) }),
            raw: Some(raw),
            content_encoding: Some(String::new()),
            content_type: Some(String::new()),
        };
        [MAGIC.to_vec(), unknown.encode_to_vec()].concat()
    }

    #[test]
    fn a_can_i_review_decodes_to_its_json_form() {
        let review = SelfSubjectAccessReview {
            spec: Some(ReviewSpec {
                resource_attributes: Some(ResourceAttributes {
                    namespace: Some("attendee-01".into()),
                    verb: Some("create".into()),
                    group: Some("apps".into()),
                    resource: Some("statefulsets".into()),
                    ..Default::default()
                }),
                non_resource_attributes: None,
            }),
        };
        let v = self_subject_access_review(&envelope("SelfSubjectAccessReview", review.encode_to_vec())).unwrap();
        assert_eq!(
            v["spec"],
            json!({"resourceAttributes": {"namespace": "attendee-01", "verb": "create", "group": "apps",
                   "resource": "statefulsets"}})
        );
        assert_eq!(v["apiVersion"], "authorization.k8s.io/v1");
    }

    #[test]
    fn other_bodies_are_bad_requests() {
        assert_eq!(self_subject_access_review(b"{}").unwrap_err().code, 400);
        assert_eq!(self_subject_access_review(&envelope("Pod", Vec::new())).unwrap_err().code, 400);
        let garbage = [MAGIC, &[0x0a, 0xff, 0xff]].concat();
        assert_eq!(self_subject_access_review(&garbage).unwrap_err().code, 400);
    }
}
