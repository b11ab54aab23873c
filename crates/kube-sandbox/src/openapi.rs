//! OpenAPI v3 documents for the served group-versions, generated from k8s-openapi's schemars
//! schemas (never a hand-kept copy of upstream's spec). kubectl reads them for `explain`, for
//! client-side apply's patch metadata and to learn that the server validates fields itself.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use k8s_openapi::api::{apps, core, discovery, events, storage};
use schemars::generate::{SchemaGenerator, SchemaSettings};
use serde_json::{json, Map, Value};

use super::resources::{ResourceType, RESOURCES};
use crate::consts::KUBE_VERSION;

/// `api/v1` or `apis/apps/v1` for a resource type: the key of its document in the index.
fn gv_path(rt: &ResourceType) -> String {
    if rt.group.is_empty() {
        format!("api/{}", rt.version)
    } else {
        format!("apis/{}/{}", rt.group, rt.version)
    }
}

/// The group-versions served, in registry order.
fn gv_paths() -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for rt in RESOURCES {
        let p = gv_path(rt);
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

/// `GET /openapi/v3`: where each group-version's document is.
pub(crate) fn v3_index() -> Value {
    let paths: Map<String, Value> = gv_paths()
        .into_iter()
        .map(|p| {
            let url = format!("/openapi/v3/{p}?hash={}", doc_hash(&p));
            (p, json!({"serverRelativeURL": url}))
        })
        .collect();
    json!({"paths": paths})
}

/// A stable hash per document: it only changes with the binary, which is when the schema does.
fn doc_hash(path: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in KUBE_VERSION.bytes().chain(env!("CARGO_PKG_VERSION").bytes()).chain(path.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016X}")
}

/// `GET /openapi/v3/<path>`: the document of one group-version, built on first use.
pub(crate) fn v3_document(path: &str) -> Option<Arc<Value>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Value>>>> = OnceLock::new();
    let path = path.trim_matches('/');
    if !gv_paths().iter().any(|p| p == path) {
        return None;
    }
    let cache = CACHE.get_or_init(Default::default);
    if let Some(doc) = cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(path) {
        return Some(doc.clone());
    }
    let doc = Arc::new(build(path));
    cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(path.to_string(), doc.clone());
    Some(doc)
}

/// The OpenAPI document and schema name of a served kind, for the patch code that has to know
/// how each field merges (the same metadata kubectl reads for client-side apply).
pub(crate) fn kind_schema(kind: &str) -> Option<(Arc<Value>, String)> {
    let rt = RESOURCES.iter().find(|rt| rt.kind == kind)?;
    let doc = v3_document(&gv_path(rt))?;
    let name = doc["components"]["schemas"]
        .as_object()?
        .iter()
        .find(|(_, s)| {
            s["x-kubernetes-group-version-kind"]
                .as_array()
                .is_some_and(|g| g.iter().any(|g| g["kind"] == kind && g["group"] == rt.group))
        })
        .map(|(n, _)| n.clone())?;
    Some((doc, name))
}

/// The schema reference for a served kind, generating its definitions into `gen`.
fn schema_for(gen: &mut SchemaGenerator, group: &str, kind: &str) -> Option<Value> {
    macro_rules! s {
        ($t:ty) => {
            gen.subschema_for::<$t>().to_value()
        };
    }
    Some(match (group, kind) {
        ("", "Namespace") => s!(core::v1::Namespace),
        ("", "Node") => s!(core::v1::Node),
        ("", "Pod") => s!(core::v1::Pod),
        ("", "Service") => s!(core::v1::Service),
        ("", "Endpoints") => s!(core::v1::Endpoints),
        ("", "PersistentVolumeClaim") => s!(core::v1::PersistentVolumeClaim),
        ("", "PersistentVolume") => s!(core::v1::PersistentVolume),
        ("", "Event") => s!(core::v1::Event),
        ("", "ConfigMap") => s!(core::v1::ConfigMap),
        ("", "ServiceAccount") => s!(core::v1::ServiceAccount),
        ("", "Binding") => s!(core::v1::Binding),
        ("apps", "StatefulSet") => s!(apps::v1::StatefulSet),
        ("apps", "ControllerRevision") => s!(apps::v1::ControllerRevision),
        ("storage.k8s.io", "StorageClass") => s!(storage::v1::StorageClass),
        ("discovery.k8s.io", "EndpointSlice") => s!(discovery::v1::EndpointSlice),
        ("events.k8s.io", "Event") => s!(events::v1::Event),
        ("autoscaling", "Scale") => s!(k8s_openapi::api::autoscaling::v1::Scale),
        ("meta", "DeleteOptions") => s!(k8s_openapi::apimachinery::pkg::apis::meta::v1::DeleteOptions),
        ("meta", "Status") => s!(k8s_openapi::apimachinery::pkg::apis::meta::v1::Status),
        _ => return None,
    })
}

/// How lists merge under strategic merge patch, as upstream's Go struct tags declare it; the
/// schemars schemas do not carry these, and kubectl's client-side apply needs them.
const PATCH_META: &[(&str, &str, &str, &str)] = &[
    ("io.k8s.api.core.v1.PodSpec", "containers", "merge", "name"),
    ("io.k8s.api.core.v1.PodSpec", "initContainers", "merge", "name"),
    ("io.k8s.api.core.v1.PodSpec", "ephemeralContainers", "merge", "name"),
    ("io.k8s.api.core.v1.PodSpec", "volumes", "merge,retainKeys", "name"),
    ("io.k8s.api.core.v1.PodSpec", "imagePullSecrets", "merge", "name"),
    ("io.k8s.api.core.v1.PodSpec", "hostAliases", "merge", "ip"),
    ("io.k8s.api.core.v1.Container", "env", "merge", "name"),
    ("io.k8s.api.core.v1.Container", "ports", "merge", "containerPort"),
    ("io.k8s.api.core.v1.Container", "volumeMounts", "merge", "mountPath"),
    ("io.k8s.api.core.v1.Container", "volumeDevices", "merge", "devicePath"),
    ("io.k8s.api.core.v1.ServiceSpec", "ports", "merge", "port"),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "finalizers", "merge", ""),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "ownerReferences", "merge", "uid"),
    ("io.k8s.api.core.v1.PodStatus", "conditions", "merge", "type"),
    ("io.k8s.api.core.v1.NodeStatus", "conditions", "merge", "type"),
    ("io.k8s.api.core.v1.NodeStatus", "addresses", "merge", "type"),
    ("io.k8s.api.core.v1.PersistentVolumeClaimStatus", "conditions", "merge", "type"),
    ("io.k8s.api.core.v1.NamespaceStatus", "conditions", "merge", "type"),
    ("io.k8s.api.apps.v1.StatefulSetStatus", "conditions", "merge", "type"),
];

fn add_patch_meta(schemas: &mut Map<String, Value>) {
    for (schema, prop, strategy, key) in PATCH_META {
        let Some(p) = schemas
            .get_mut(*schema)
            .and_then(|s| s.pointer_mut(&format!("/properties/{prop}")))
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        p.insert("x-kubernetes-patch-strategy".into(), json!(strategy));
        if !key.is_empty() {
            p.insert("x-kubernetes-patch-merge-key".into(), json!(key));
            p.insert("x-kubernetes-list-type".into(), json!("map"));
            p.insert("x-kubernetes-list-map-keys".into(), json!([key]));
        } else {
            p.insert("x-kubernetes-list-type".into(), json!("set"));
        }
    }
}

fn schema_name(reference: &Value) -> Option<String> {
    let r = reference.get("$ref").and_then(Value::as_str)?;
    Some(r.rsplit('/').next()?.to_string())
}

fn gvk(group: &str, version: &str, kind: &str) -> Value {
    json!([{"group": group, "version": version, "kind": kind}])
}

fn query_param(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "query", "description": description, "schema": {"type": "string", "uniqueItems": true}})
}

fn build(path: &str) -> Value {
    let mut gen = SchemaSettings::openapi3().into_generator();
    let types: Vec<&ResourceType> = RESOURCES.iter().filter(|rt| gv_path(rt) == path).collect();
    let mut paths = Map::new();
    let mut kinds: Vec<(String, &ResourceType)> = Vec::new();
    let status_ref = schema_for(&mut gen, "meta", "Status");
    let delete_ref = schema_for(&mut gen, "meta", "DeleteOptions");
    for rt in &types {
        let Some(reference) = schema_for(&mut gen, rt.group, rt.kind) else {
            continue;
        };
        if let Some(name) = schema_name(&reference) {
            kinds.push((name, rt));
        }
        let obj_gvk = gvk(rt.group, rt.version, rt.kind);
        let prefix = if rt.group.is_empty() {
            format!("/api/{}", rt.version)
        } else {
            format!("/apis/{}/{}", rt.group, rt.version)
        };
        let (collection, item) = if rt.namespaced {
            (
                format!("{prefix}/namespaces/{{namespace}}/{}", rt.plural),
                format!("{prefix}/namespaces/{{namespace}}/{}/{{name}}", rt.plural),
            )
        } else {
            (format!("{prefix}/{}", rt.plural), format!("{prefix}/{}/{{name}}", rt.plural))
        };
        let ok =
            |schema: &Value| json!({"200": {"description": "OK", "content": {"application/json": {"schema": schema}}}});
        let body = |schema: &Value| json!({"content": {"*/*": {"schema": schema}}, "required": true});
        let write_params = json!([
            query_param("dryRun", "When present, indicates that modifications should not be persisted."),
            query_param("fieldManager", "fieldManager is a name associated with the actor or entity that is making these changes."),
            query_param("fieldValidation", "fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields. Valid values are: Ignore, Warn (the default) and Strict."),
        ]);
        let op = |action: &str, id: &str, extra: Value| {
            let mut o = json!({
                "operationId": format!("{action}{}", id),
                "x-kubernetes-action": action,
                "x-kubernetes-group-version-kind": obj_gvk[0],
                "responses": ok(&reference),
            });
            if let (Some(o), Some(extra)) = (o.as_object_mut(), extra.as_object()) {
                for (k, v) in extra {
                    o.insert(k.clone(), v.clone());
                }
            }
            o
        };
        let id = format!("{}{}", rt.version, rt.kind);
        let writes = rt.verbs.contains(&"create");
        let mut coll = Map::new();
        coll.insert("get".into(), op("list", &id, json!({})));
        if writes {
            coll.insert(
                "post".into(),
                op("post", &id, json!({"requestBody": body(&reference), "parameters": write_params})),
            );
        }
        let mut one = Map::new();
        one.insert("get".into(), op("get", &id, json!({})));
        if writes {
            one.insert(
                "put".into(),
                op("put", &id, json!({"requestBody": body(&reference), "parameters": write_params})),
            );
            let mut patch_params = write_params.clone();
            if let Some(a) = patch_params.as_array_mut() {
                a.push(query_param("force", "Force is going to \"force\" Apply requests."));
            }
            let patch_body = json!({"content": {
                "application/apply-patch+yaml": {"schema": {"type": "object"}},
                "application/json-patch+json": {"schema": {"type": "object"}},
                "application/merge-patch+json": {"schema": {"type": "object"}},
                "application/strategic-merge-patch+json": {"schema": {"type": "object"}},
            }, "required": true});
            one.insert(
                "patch".into(),
                op("patch", &id, json!({"requestBody": patch_body, "parameters": patch_params})),
            );
            let mut del = op("delete", &id, json!({}));
            if let (Some(d), Some(opts)) = (del.as_object_mut(), delete_ref.as_ref()) {
                d.insert("requestBody".into(), body(opts));
                if let Some(s) = status_ref.as_ref() {
                    d.insert("responses".into(), ok(s));
                }
            }
            one.insert("delete".into(), del);
        }
        let ns_param = json!({"name": "namespace", "in": "path", "required": true, "schema": {"type": "string", "uniqueItems": true}});
        let name_param =
            json!({"name": "name", "in": "path", "required": true, "schema": {"type": "string", "uniqueItems": true}});
        let scope = |named: bool| {
            let mut p = Vec::new();
            if named {
                p.push(name_param.clone());
            }
            if rt.namespaced {
                p.push(ns_param.clone());
            }
            Value::Array(p)
        };
        coll.insert("parameters".into(), scope(false));
        one.insert("parameters".into(), scope(true));
        paths.insert(collection, Value::Object(coll));
        paths.insert(item, Value::Object(one));
    }
    let mut schemas = gen.take_definitions(true);
    for (name, rt) in &kinds {
        if let Some(s) = schemas.get_mut(name).and_then(Value::as_object_mut) {
            s.insert("x-kubernetes-group-version-kind".into(), gvk(rt.group, rt.version, rt.kind));
        }
    }
    add_patch_meta(&mut schemas);
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": KUBE_VERSION},
        "paths": paths,
        "components": {"schemas": schemas},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_lists_every_group_version_with_a_url() {
        let idx = v3_index();
        let paths = idx["paths"].as_object().expect("paths");
        for p in
            ["api/v1", "apis/apps/v1", "apis/storage.k8s.io/v1", "apis/discovery.k8s.io/v1", "apis/events.k8s.io/v1"]
        {
            let url = paths[p]["serverRelativeURL"].as_str().expect("url");
            assert!(url.starts_with(&format!("/openapi/v3/{p}?hash=")), "{url}");
        }
        assert!(v3_document("apis/nope/v1").is_none());
    }

    #[test]
    fn apps_document_has_statefulset_schema_with_gvk_and_descriptions() {
        let doc = v3_document("apis/apps/v1").expect("doc");
        let sts = &doc["components"]["schemas"]["io.k8s.api.apps.v1.StatefulSet"];
        assert_eq!(sts["x-kubernetes-group-version-kind"][0]["kind"], "StatefulSet");
        let spec = &doc["components"]["schemas"]["io.k8s.api.apps.v1.StatefulSetSpec"];
        let service_name = spec["properties"]["serviceName"]["description"].as_str().expect("desc");
        assert!(service_name.contains("governs this StatefulSet"), "{service_name}");
        let pod_spec = &doc["components"]["schemas"]["io.k8s.api.core.v1.PodSpec"];
        assert_eq!(pod_spec["properties"]["containers"]["x-kubernetes-patch-merge-key"], "name");
    }

    #[test]
    fn patch_operations_declare_field_validation() {
        let doc = v3_document("apis/apps/v1").expect("doc");
        let p = &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/statefulsets/{name}"]["patch"];
        assert_eq!(p["x-kubernetes-group-version-kind"]["kind"], "StatefulSet");
        let names: Vec<&str> =
            p["parameters"].as_array().expect("params").iter().filter_map(|x| x["name"].as_str()).collect();
        assert!(names.contains(&"fieldValidation"), "{names:?}");
        let core = v3_document("api/v1").expect("core");
        assert!(core["paths"]["/api/v1/nodes/{name}"]["get"].is_object());
        assert!(core["components"]["schemas"]["io.k8s.api.core.v1.Pod"]["x-kubernetes-group-version-kind"].is_array());
    }
}
