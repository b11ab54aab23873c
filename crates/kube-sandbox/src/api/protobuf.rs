//! The protobuf bodies the sandbox reads. kubectl sends some requests as
//! `application/vnd.kubernetes.protobuf` only (it accepts a JSON answer): the
//! SelfSubjectAccessReview of `kubectl auth can-i`, and the objects of `kubectl create
//! configmap|secret|namespace|service|serviceaccount` (its typed clients). They are decoded here
//! into the JSON form the rest of the API works with. The wire format is Kubernetes' envelope:
//! the bytes `k8s\0`, then a `runtime.Unknown` whose `raw` field holds the object (field numbers
//! from the upstream `generated.proto` files of k8s.io/api core/v1 and k8s.io/apimachinery).
//! Fields those commands never set (status, timestamps, managedFields) are not read.

use prost::Message;
use serde_json::{json, Map, Value};

use crate::error::{ApiError, ApiResult};

pub(super) const MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";
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

/// `meta/v1` ObjectMeta: what a create sends.
#[derive(Clone, PartialEq, Message)]
struct ObjectMeta {
    #[prost(string, optional, tag = "1")]
    name: Option<String>,
    #[prost(string, optional, tag = "2")]
    generate_name: Option<String>,
    #[prost(string, optional, tag = "3")]
    namespace: Option<String>,
    #[prost(string, optional, tag = "6")]
    resource_version: Option<String>,
    #[prost(btree_map = "string, string", tag = "11")]
    labels: std::collections::BTreeMap<String, String>,
    #[prost(btree_map = "string, string", tag = "12")]
    annotations: std::collections::BTreeMap<String, String>,
    #[prost(message, repeated, tag = "13")]
    owner_references: Vec<OwnerReference>,
    #[prost(string, repeated, tag = "14")]
    finalizers: Vec<String>,
}

#[derive(Clone, PartialEq, Message)]
struct OwnerReference {
    #[prost(string, optional, tag = "1")]
    kind: Option<String>,
    #[prost(string, optional, tag = "3")]
    name: Option<String>,
    #[prost(string, optional, tag = "4")]
    uid: Option<String>,
    #[prost(string, optional, tag = "5")]
    api_version: Option<String>,
    #[prost(bool, optional, tag = "6")]
    controller: Option<bool>,
    #[prost(bool, optional, tag = "7")]
    block_owner_deletion: Option<bool>,
}

#[derive(Clone, PartialEq, Message)]
struct ConfigMap {
    #[prost(message, optional, tag = "1")]
    metadata: Option<ObjectMeta>,
    #[prost(btree_map = "string, string", tag = "2")]
    data: std::collections::BTreeMap<String, String>,
    #[prost(btree_map = "string, bytes", tag = "3")]
    binary_data: std::collections::BTreeMap<String, Vec<u8>>,
    #[prost(bool, optional, tag = "4")]
    immutable: Option<bool>,
}

#[derive(Clone, PartialEq, Message)]
struct Secret {
    #[prost(message, optional, tag = "1")]
    metadata: Option<ObjectMeta>,
    #[prost(btree_map = "string, bytes", tag = "2")]
    data: std::collections::BTreeMap<String, Vec<u8>>,
    #[prost(string, optional, tag = "3")]
    type_: Option<String>,
    #[prost(btree_map = "string, string", tag = "4")]
    string_data: std::collections::BTreeMap<String, String>,
    #[prost(bool, optional, tag = "5")]
    immutable: Option<bool>,
}

#[derive(Clone, PartialEq, Message)]
struct Namespace {
    #[prost(message, optional, tag = "1")]
    metadata: Option<ObjectMeta>,
    #[prost(message, optional, tag = "2")]
    spec: Option<NamespaceSpec>,
}

#[derive(Clone, PartialEq, Message)]
struct NamespaceSpec {
    #[prost(string, repeated, tag = "1")]
    finalizers: Vec<String>,
}

#[derive(Clone, PartialEq, Message)]
struct ServiceAccount {
    #[prost(message, optional, tag = "1")]
    metadata: Option<ObjectMeta>,
    #[prost(message, repeated, tag = "3")]
    image_pull_secrets: Vec<LocalObjectReference>,
    #[prost(bool, optional, tag = "4")]
    automount_service_account_token: Option<bool>,
}

#[derive(Clone, PartialEq, Message)]
struct LocalObjectReference {
    #[prost(string, optional, tag = "1")]
    name: Option<String>,
}

#[derive(Clone, PartialEq, Message)]
struct Service {
    #[prost(message, optional, tag = "1")]
    metadata: Option<ObjectMeta>,
    #[prost(message, optional, tag = "2")]
    spec: Option<ServiceSpec>,
}

#[derive(Clone, PartialEq, Message)]
struct ServiceSpec {
    #[prost(message, repeated, tag = "1")]
    ports: Vec<ServicePort>,
    #[prost(btree_map = "string, string", tag = "2")]
    selector: std::collections::BTreeMap<String, String>,
    #[prost(string, optional, tag = "3")]
    cluster_ip: Option<String>,
    #[prost(string, optional, tag = "4")]
    type_: Option<String>,
    #[prost(string, repeated, tag = "5")]
    external_ips: Vec<String>,
    #[prost(string, optional, tag = "7")]
    session_affinity: Option<String>,
    #[prost(string, optional, tag = "10")]
    external_name: Option<String>,
    #[prost(string, optional, tag = "11")]
    external_traffic_policy: Option<String>,
    #[prost(bool, optional, tag = "13")]
    publish_not_ready_addresses: Option<bool>,
    #[prost(string, optional, tag = "17")]
    ip_family_policy: Option<String>,
    #[prost(string, repeated, tag = "18")]
    cluster_ips: Vec<String>,
    #[prost(string, repeated, tag = "19")]
    ip_families: Vec<String>,
    #[prost(string, optional, tag = "22")]
    internal_traffic_policy: Option<String>,
}

#[derive(Clone, PartialEq, Message)]
struct ServicePort {
    #[prost(string, optional, tag = "1")]
    name: Option<String>,
    #[prost(string, optional, tag = "2")]
    protocol: Option<String>,
    #[prost(int32, optional, tag = "3")]
    port: Option<i32>,
    #[prost(message, optional, tag = "4")]
    target_port: Option<IntOrString>,
    #[prost(int32, optional, tag = "5")]
    node_port: Option<i32>,
    #[prost(string, optional, tag = "6")]
    app_protocol: Option<String>,
}

/// `util/intstr` IntOrString: type 0 is the int, 1 the string.
#[derive(Clone, PartialEq, Message)]
struct IntOrString {
    #[prost(int64, optional, tag = "1")]
    type_: Option<i64>,
    #[prost(int32, optional, tag = "2")]
    int_val: Option<i32>,
    #[prost(string, optional, tag = "3")]
    str_val: Option<String>,
}

/// The kinds [`object`] reads.
pub(super) const OBJECT_KINDS: &[&str] = &["ConfigMap", "Secret", "Namespace", "Service", "ServiceAccount"];

/// Insert `value` under `key` unless it is empty: an unset field, an empty list or map, or an
/// empty string (Go's generated code writes its non-pointer string fields even when empty,
/// where JSON leaves them out).
fn put(map: &mut Map<String, Value>, key: &str, value: Value) {
    let empty = match &value {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        Value::String(s) => s.is_empty(),
        _ => false,
    };
    if !empty {
        map.insert(key.to_string(), value);
    }
}

fn meta_json(m: Option<ObjectMeta>) -> Value {
    let m = m.unwrap_or_default();
    let mut out = Map::new();
    put(&mut out, "name", json!(m.name));
    put(&mut out, "generateName", json!(m.generate_name));
    put(&mut out, "namespace", json!(m.namespace));
    put(&mut out, "resourceVersion", json!(m.resource_version));
    put(&mut out, "labels", json!(m.labels));
    put(&mut out, "annotations", json!(m.annotations));
    let owners: Vec<Value> = m
        .owner_references
        .into_iter()
        .map(|o| {
            let mut r = Map::new();
            put(&mut r, "apiVersion", json!(o.api_version));
            put(&mut r, "kind", json!(o.kind));
            put(&mut r, "name", json!(o.name));
            put(&mut r, "uid", json!(o.uid));
            put(&mut r, "controller", json!(o.controller));
            put(&mut r, "blockOwnerDeletion", json!(o.block_owner_deletion));
            Value::Object(r)
        })
        .collect();
    put(&mut out, "ownerReferences", json!(owners));
    put(&mut out, "finalizers", json!(m.finalizers));
    Value::Object(out)
}

fn base64_map(m: std::collections::BTreeMap<String, Vec<u8>>) -> Value {
    use base64::Engine as _;
    let engine = base64::engine::general_purpose::STANDARD;
    Value::Object(m.into_iter().map(|(k, v)| (k, json!(engine.encode(v)))).collect())
}

/// A protobuf-encoded object of one of [`OBJECT_KINDS`] as its JSON object (the kinds
/// `kubectl create` sends as protobuf).
pub(super) fn object(body: &[u8]) -> ApiResult<Value> {
    let bad = |why: &str| ApiError::bad_request(format!("error decoding the protobuf body: {why}"));
    let inner = body.strip_prefix(MAGIC).ok_or_else(|| bad("it does not start with the Kubernetes prefix k8s\\0"))?;
    let unknown = Unknown::decode(inner).map_err(|e| bad(&e.to_string()))?;
    if unknown.content_encoding.as_deref().is_some_and(|e| !e.is_empty()) {
        return Err(bad("encoded (compressed) objects are not supported"));
    }
    let type_meta = unknown.type_meta.unwrap_or_default();
    let kind = type_meta.kind.unwrap_or_default();
    let raw = unknown.raw.unwrap_or_default();
    let decode_err = |e: prost::DecodeError| bad(&format!("{kind}: {e}"));
    let mut out = Map::new();
    out.insert("apiVersion".into(), json!(type_meta.api_version.unwrap_or_else(|| "v1".into())));
    out.insert("kind".into(), json!(kind));
    match kind.as_str() {
        "ConfigMap" => {
            let o = ConfigMap::decode(raw.as_slice()).map_err(decode_err)?;
            out.insert("metadata".into(), meta_json(o.metadata));
            put(&mut out, "data", json!(o.data));
            put(&mut out, "binaryData", base64_map(o.binary_data));
            put(&mut out, "immutable", json!(o.immutable));
        }
        "Secret" => {
            let o = Secret::decode(raw.as_slice()).map_err(decode_err)?;
            out.insert("metadata".into(), meta_json(o.metadata));
            put(&mut out, "data", base64_map(o.data));
            put(&mut out, "stringData", json!(o.string_data));
            put(&mut out, "type", json!(o.type_));
            put(&mut out, "immutable", json!(o.immutable));
        }
        "Namespace" => {
            let o = Namespace::decode(raw.as_slice()).map_err(decode_err)?;
            out.insert("metadata".into(), meta_json(o.metadata));
            if let Some(spec) = o.spec {
                put(&mut out, "spec", json!({"finalizers": spec.finalizers}));
            }
        }
        "ServiceAccount" => {
            let o = ServiceAccount::decode(raw.as_slice()).map_err(decode_err)?;
            out.insert("metadata".into(), meta_json(o.metadata));
            let pulls: Vec<Value> = o.image_pull_secrets.into_iter().map(|r| json!({"name": r.name})).collect();
            put(&mut out, "imagePullSecrets", json!(pulls));
            put(&mut out, "automountServiceAccountToken", json!(o.automount_service_account_token));
        }
        "Service" => {
            let o = Service::decode(raw.as_slice()).map_err(decode_err)?;
            out.insert("metadata".into(), meta_json(o.metadata));
            let s = o.spec.unwrap_or_default();
            let mut spec = Map::new();
            let ports: Vec<Value> = s
                .ports
                .into_iter()
                .map(|p| {
                    let mut port = Map::new();
                    put(&mut port, "name", json!(p.name));
                    put(&mut port, "protocol", json!(p.protocol));
                    put(&mut port, "appProtocol", json!(p.app_protocol));
                    put(&mut port, "port", json!(p.port));
                    if let Some(t) = p.target_port {
                        let target = match t.type_.unwrap_or(0) {
                            1 => json!(t.str_val.unwrap_or_default()),
                            _ => json!(t.int_val.unwrap_or(0)),
                        };
                        put(&mut port, "targetPort", target);
                    }
                    // A value field in Go: always sent, 0 when not set.
                    put(&mut port, "nodePort", json!(p.node_port.filter(|n| *n != 0)));
                    Value::Object(port)
                })
                .collect();
            put(&mut spec, "ports", json!(ports));
            put(&mut spec, "selector", json!(s.selector));
            put(&mut spec, "clusterIP", json!(s.cluster_ip));
            put(&mut spec, "clusterIPs", json!(s.cluster_ips));
            put(&mut spec, "type", json!(s.type_));
            put(&mut spec, "externalIPs", json!(s.external_ips));
            put(&mut spec, "sessionAffinity", json!(s.session_affinity));
            put(&mut spec, "externalName", json!(s.external_name));
            put(&mut spec, "externalTrafficPolicy", json!(s.external_traffic_policy));
            put(&mut spec, "publishNotReadyAddresses", json!(s.publish_not_ready_addresses));
            put(&mut spec, "ipFamilies", json!(s.ip_families));
            put(&mut spec, "ipFamilyPolicy", json!(s.ip_family_policy));
            put(&mut spec, "internalTrafficPolicy", json!(s.internal_traffic_policy));
            out.insert("spec".into(), Value::Object(spec));
        }
        "SelfSubjectAccessReview" => return self_subject_access_review(body),
        other => {
            return Err(ApiError::new(
                415,
                "UnsupportedMediaType",
                format!(
                    "the kubetutor sandbox reads protobuf bodies of {} and SelfSubjectAccessReview only, not {other:?}: send this body as application/json or application/yaml",
                    OBJECT_KINDS.join(", ")
                ),
            ))
        }
    }
    Ok(Value::Object(out))
}

/// The fields that are set, under their JSON names.
fn fields(pairs: &[(&str, &Option<String>)]) -> Value {
    let map: Map<String, Value> =
        pairs.iter().filter_map(|(k, v)| v.as_ref().map(|v| (k.to_string(), json!(v)))).collect();
    Value::Object(map)
}

/// A protobuf-encoded SelfSubjectAccessReview as its JSON object.
pub(super) fn self_subject_access_review(body: &[u8]) -> ApiResult<Value> {
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

    fn meta(name: &str) -> Option<ObjectMeta> {
        Some(ObjectMeta {
            name: Some(name.into()),
            labels: [("app".to_string(), "nginx".to_string())].into(),
            ..Default::default()
        })
    }

    fn kind_envelope(api_version: &str, kind: &str, raw: Vec<u8>) -> Vec<u8> {
        let unknown = Unknown {
            type_meta: Some(TypeMeta { api_version: Some(api_version.into()), kind: Some(kind.into()) }),
            raw: Some(raw),
            content_encoding: None,
            content_type: None,
        };
        [MAGIC.to_vec(), unknown.encode_to_vec()].concat()
    }

    #[test]
    fn the_objects_kubectl_create_sends() {
        let cm = ConfigMap {
            metadata: meta("settings"),
            data: [("a".to_string(), "b".to_string())].into(),
            binary_data: [("bin".to_string(), vec![0, 1, 2])].into(),
            immutable: None,
        };
        let v = object(&kind_envelope("v1", "ConfigMap", cm.encode_to_vec())).unwrap();
        assert_eq!(
            v,
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "labels": {"app": "nginx"}},
                   "data": {"a": "b"}, "binaryData": {"bin": "AAEC"}})
        );
        let svc = Service {
            metadata: meta("s1"),
            spec: Some(ServiceSpec {
                ports: vec![ServicePort {
                    name: Some("80-80".into()),
                    protocol: Some("TCP".into()),
                    port: Some(80),
                    target_port: Some(IntOrString { type_: Some(0), int_val: Some(8080), str_val: None }),
                    node_port: Some(0),
                    app_protocol: Some(String::new()),
                }],
                selector: [("app".to_string(), "s1".to_string())].into(),
                type_: Some("ClusterIP".into()),
                cluster_ip: Some("None".into()),
                ..Default::default()
            }),
        };
        let v = object(&kind_envelope("v1", "Service", svc.encode_to_vec())).unwrap();
        assert_eq!(
            v["spec"],
            json!({"ports": [{"name": "80-80", "protocol": "TCP", "port": 80, "targetPort": 8080}],
                   "selector": {"app": "s1"}, "clusterIP": "None", "type": "ClusterIP"})
        );
        let named = IntOrString { type_: Some(1), int_val: None, str_val: Some("web".into()) };
        let svc = Service {
            metadata: meta("s2"),
            spec: Some(ServiceSpec {
                ports: vec![ServicePort { port: Some(80), target_port: Some(named), ..Default::default() }],
                ..Default::default()
            }),
        };
        assert_eq!(
            object(&kind_envelope("v1", "Service", svc.encode_to_vec())).unwrap()["spec"]["ports"][0]["targetPort"],
            "web"
        );
        let secret = Secret {
            metadata: meta("pw"),
            data: [("password".to_string(), b"s3cret".to_vec())].into(),
            type_: Some("Opaque".into()),
            ..Default::default()
        };
        let v = object(&kind_envelope("v1", "Secret", secret.encode_to_vec())).unwrap();
        assert_eq!((v["data"]["password"].as_str(), v["type"].as_str()), (Some("czNjcmV0"), Some("Opaque")));
        let ns = Namespace { metadata: meta("team"), spec: None };
        assert_eq!(object(&kind_envelope("v1", "Namespace", ns.encode_to_vec())).unwrap()["metadata"]["name"], "team");
        let sa = ServiceAccount { metadata: meta("robot"), ..Default::default() };
        let v = object(&kind_envelope("v1", "ServiceAccount", sa.encode_to_vec())).unwrap();
        assert_eq!(
            v,
            json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "robot", "labels": {"app": "nginx"}}})
        );
        // Another kind: 415 naming what is read.
        let e = object(&kind_envelope("apps/v1", "Deployment", Vec::new())).unwrap_err();
        assert_eq!(e.code, 415);
        assert!(
            e.message.contains("reads protobuf bodies of ConfigMap, Secret, Namespace, Service, ServiceAccount"),
            "{}",
            e.message
        );
    }

    #[test]
    fn other_bodies_are_bad_requests() {
        assert_eq!(self_subject_access_review(b"{}").unwrap_err().code, 400);
        assert_eq!(self_subject_access_review(&envelope("Pod", Vec::new())).unwrap_err().code, 400);
        let garbage = [MAGIC, &[0x0a, 0xff, 0xff]].concat();
        assert_eq!(self_subject_access_review(&garbage).unwrap_err().code, 400);
    }
}
