//! What a write must satisfy before it is stored, after defaulting: the decoding checks of
//! `decoding` and the per-kind validation upstream's registry runs (names, labels, the
//! StatefulSet, pod, Service and claim rules the exercise touches, immutable fields on update).
//! Every problem is collected, so a 422 names all the fields at once.

mod decoding;
pub(crate) mod names;
mod pod;

use serde_json::{json, Value};

pub(crate) use decoding::{decode_check, duplicate_fields, FieldValidation};

use crate::error::{ApiError, ApiResult, Cause};
use crate::resources::ResourceType;
use names::{dns1035_label, dns1123_label, dns1123_subdomain, labels as check_labels};

/// Validate `obj` (the new state; `old` on update); a 422 Invalid with every cause otherwise.
pub(crate) fn validate(rt: &ResourceType, obj: &Value, old: Option<&Value>) -> ApiResult<()> {
    let mut causes = Vec::new();
    metadata(rt, obj, &mut causes);
    match (rt.group, rt.kind) {
        ("apps", "StatefulSet") => statefulset(obj, old, &mut causes),
        ("", "Pod") => {
            let spec = &obj["spec"];
            pod::spec(spec, "spec", &[], &mut causes);
            if let Some(old) = old {
                pod::update(spec, &old["spec"], &mut causes);
            }
        }
        ("", "Service") => service(obj, old, &mut causes),
        ("", "PersistentVolumeClaim") => claim(obj, old, &mut causes),
        ("", "ConfigMap") => configmap(obj, old, &mut causes),
        _ => {}
    }
    if causes.is_empty() {
        return Ok(());
    }
    let name = obj.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default();
    Err(ApiError::invalid(rt.group, rt.kind, name, causes))
}

/// Most bytes the values of a ConfigMap's `data` and `binaryData` may hold (core.MaxSecretSize).
pub(crate) const MAX_CONFIGMAP_DATA: usize = 1024 * 1024;

/// A ConfigMap's data is at most 1 MiB (ValidateConfigMap); an immutable ConfigMap keeps its
/// data, and stays immutable (ValidateConfigMapUpdate).
fn configmap(obj: &Value, old: Option<&Value>, causes: &mut Vec<Cause>) {
    let size: usize = ["data", "binaryData"]
        .iter()
        .filter_map(|f| obj.get(*f).and_then(Value::as_object))
        .flat_map(|m| m.values())
        .map(|v| v.as_str().map_or(0, str::len))
        .sum();
    if size > MAX_CONFIGMAP_DATA {
        causes.push(Cause::new(
            "FieldValueTooLong",
            "[]",
            format!("Too long: must have at most {MAX_CONFIGMAP_DATA} bytes"),
        ));
    }
    let Some(old) = old.filter(|o| o["immutable"] == json!(true)) else {
        return;
    };
    const MSG: &str = "field is immutable when `immutable` is set";
    if obj["immutable"] != json!(true) {
        causes.push(Cause::forbidden("immutable", MSG));
    }
    // An absent map and an empty one are the same to upstream's decoder.
    let map = |v: &Value, k: &str| v.get(k).filter(|m| m.as_object().is_some_and(|m| !m.is_empty())).cloned();
    for field in ["data", "binaryData"] {
        if map(obj, field) != map(old, field) {
            causes.push(Cause::forbidden(field, MSG));
        }
    }
}

fn metadata(rt: &ResourceType, obj: &Value, causes: &mut Vec<Cause>) {
    let meta = &obj["metadata"];
    let name = meta.get("name").and_then(Value::as_str).unwrap_or("");
    let generate = meta.get("generateName").and_then(Value::as_str).unwrap_or("");
    if name.is_empty() {
        if generate.is_empty() {
            causes.push(Cause::new(
                "FieldValueRequired",
                "metadata.name",
                "Required value: name or generateName is required",
            ));
        }
    } else {
        let problems = match rt.kind {
            "Service" => dns1035_label(name),
            "Namespace" => dns1123_label(name),
            _ => dns1123_subdomain(name),
        };
        for p in problems {
            causes.push(Cause::invalid("metadata.name", &json!(name), p));
        }
    }
    check_labels(&meta["labels"], "metadata.labels", causes);
}

fn int(v: &Value) -> Option<i64> {
    v.as_i64()
}

fn non_negative(v: &Value, field: &str, causes: &mut Vec<Cause>) {
    if let Some(n) = int(v) {
        if n < 0 {
            causes.push(Cause::invalid(field, v, "must be greater than or equal to 0"));
        }
    }
}

/// `map[string]string{"app":"nginx"}`, as Go prints the label map upstream shows.
fn go_map(v: &Value) -> String {
    let pairs: Vec<String> = v
        .as_object()
        .map(|m| m.iter().map(|(k, v)| format!("{k:?}:{:?}", v.as_str().unwrap_or_default())).collect())
        .unwrap_or_default();
    format!("map[string]string{{{}}}", pairs.join(", "))
}

fn statefulset(obj: &Value, old: Option<&Value>, causes: &mut Vec<Cause>) {
    let spec = &obj["spec"];
    non_negative(&spec["replicas"], "spec.replicas", causes);
    non_negative(&spec["minReadySeconds"], "spec.minReadySeconds", causes);
    if let Some(p) = spec.get("podManagementPolicy").filter(|p| !p.is_null()) {
        if !matches!(p.as_str(), Some("OrderedReady" | "Parallel")) {
            causes.push(Cause::not_supported("spec.podManagementPolicy", p, &["OrderedReady", "Parallel"]));
        }
    }
    let strategy = &spec["updateStrategy"];
    match strategy["type"].as_str() {
        Some("RollingUpdate") | None => {
            non_negative(
                &strategy["rollingUpdate"]["partition"],
                "spec.updateStrategy.rollingUpdate.partition",
                causes,
            );
        }
        Some("OnDelete") => {
            if strategy.get("rollingUpdate").is_some_and(|r| !r.is_null()) {
                causes.push(Cause::invalid(
                    "spec.updateStrategy.rollingUpdate",
                    &strategy["rollingUpdate"],
                    "only allowed for updateStrategy 'RollingUpdate'",
                ));
            }
        }
        Some(_) => causes.push(Cause::not_supported(
            "spec.updateStrategy.type",
            &strategy["type"],
            &["OnDelete", "RollingUpdate"],
        )),
    }

    let selector = &spec["selector"];
    let selector_empty = selector.get("matchLabels").and_then(Value::as_object).is_none_or(serde_json::Map::is_empty)
        && selector.get("matchExpressions").and_then(Value::as_array).is_none_or(Vec::is_empty);
    if selector.is_null() {
        causes.push(Cause::required("spec.selector"));
    } else if selector_empty {
        causes.push(Cause::invalid("spec.selector", &json!("null"), "empty selector is invalid for statefulset"));
    } else {
        check_labels(&selector["matchLabels"], "spec.selector.matchLabels", causes);
        let template_labels = &spec["template"]["metadata"]["labels"];
        if !selector_matches(selector, template_labels) {
            causes.push(Cause::new(
                "FieldValueInvalid",
                "spec.template.metadata.labels",
                format!("Invalid value: {}: `selector` does not match template `labels`", go_map(template_labels)),
            ));
        }
    }
    check_labels(&spec["template"]["metadata"]["labels"], "spec.template.metadata.labels", causes);

    let pod_spec = &spec["template"]["spec"];
    let restart = &pod_spec["restartPolicy"];
    if !restart.is_null() && restart != "Always" {
        causes.push(Cause::not_supported("spec.template.spec.restartPolicy", restart, &["Always"]));
    }
    if pod_spec.get("activeDeadlineSeconds").is_some_and(|v| !v.is_null()) {
        causes.push(Cause::forbidden(
            "spec.template.spec.activeDeadlineSeconds",
            "activeDeadlineSeconds in StatefulSet is not Supported",
        ));
    }
    let mut claim_names = Vec::new();
    for (i, t) in spec["volumeClaimTemplates"].as_array().into_iter().flatten().enumerate() {
        let path = format!("spec.volumeClaimTemplates[{i}]");
        match t.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("") {
            "" => causes.push(Cause::required(format!("{path}.metadata.name"))),
            n => claim_names.push(n.to_string()),
        }
        claim_spec(&t["spec"], &format!("{path}.spec"), causes);
    }
    // Upstream validates the template's labels and annotations here but not its pod spec
    // (pkg/apis/apps/validation, ValidatePodTemplateSpecForStatefulSet): a volumeMount naming no
    // volume or claim template is accepted, and fails later as the controller's FailedCreate
    // event for each pod.
    let _ = claim_names;

    if let Some(old) = old {
        let mut a = spec.clone();
        let mut b = old["spec"].clone();
        for f in [
            "replicas",
            "template",
            "updateStrategy",
            "minReadySeconds",
            "ordinals",
            "revisionHistoryLimit",
            "persistentVolumeClaimRetentionPolicy",
        ] {
            for s in [&mut a, &mut b] {
                if let Some(m) = s.as_object_mut() {
                    m.remove(f);
                }
            }
        }
        if a != b {
            causes.push(Cause::forbidden(
                "spec",
                "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
            ));
        }
    }
}

/// Whether a label selector (matchLabels and matchExpressions) selects `labels`.
fn selector_matches(selector: &Value, labels: &Value) -> bool {
    let has = |k: &str| labels.get(k).and_then(Value::as_str);
    let labels_ok = selector["matchLabels"].as_object().is_none_or(|m| m.iter().all(|(k, v)| has(k) == v.as_str()));
    let exprs_ok = selector["matchExpressions"].as_array().is_none_or(|exprs| {
        exprs.iter().all(|e| {
            let key = e["key"].as_str().unwrap_or("");
            let values: Vec<&str> = e["values"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
            match e["operator"].as_str() {
                Some("In") => has(key).is_some_and(|v| values.contains(&v)),
                Some("NotIn") => has(key).is_none_or(|v| !values.contains(&v)),
                Some("Exists") => has(key).is_some(),
                Some("DoesNotExist") => has(key).is_none(),
                _ => false,
            }
        })
    });
    labels_ok && exprs_ok
}

fn claim_spec(spec: &Value, path: &str, causes: &mut Vec<Cause>) {
    let modes = spec["accessModes"].as_array().map(Vec::as_slice).unwrap_or_default();
    if modes.is_empty() {
        causes.push(Cause::new(
            "FieldValueRequired",
            format!("{path}.accessModes"),
            "Required value: at least 1 access mode is required",
        ));
    }
    const MODES: &[&str] = &["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"];
    for m in modes {
        if !m.as_str().is_some_and(|m| MODES.contains(&m)) {
            causes.push(Cause::not_supported(format!("{path}.accessModes"), m, MODES));
        }
    }
    let storage = &spec["resources"]["requests"]["storage"];
    if storage.is_null() {
        causes.push(Cause::required(format!("{path}.resources[storage]")));
    } else if !storage.as_str().is_some_and(names::is_quantity) {
        causes.push(Cause::invalid(
            format!("{path}.resources.requests[storage]"),
            storage,
            "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
        ));
    }
}

fn claim(obj: &Value, old: Option<&Value>, causes: &mut Vec<Cause>) {
    claim_spec(&obj["spec"], "spec", causes);
    if let Some(old) = old {
        let strip = |s: &Value| {
            let mut s = s.clone();
            if let Some(r) = s.get_mut("resources").and_then(Value::as_object_mut) {
                r.remove("requests");
            }
            if let Some(m) = s.as_object_mut() {
                m.remove("volumeAttributesClassName");
            }
            s
        };
        let old_spec = &old["spec"];
        // A claim binds after creation: setting volumeName once is the binder's job.
        let mut new_spec = obj["spec"].clone();
        if old_spec.get("volumeName").is_none_or(Value::is_null) {
            if let Some(m) = new_spec.as_object_mut() {
                m.remove("volumeName");
            }
        }
        let mut old_cmp = old_spec.clone();
        if old_spec.get("volumeName").is_none_or(Value::is_null) {
            if let Some(m) = old_cmp.as_object_mut() {
                m.remove("volumeName");
            }
        }
        if strip(&new_spec) != strip(&old_cmp) {
            causes.push(Cause::forbidden(
                "spec",
                "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims",
            ));
        }
    }
}

fn service(obj: &Value, old: Option<&Value>, causes: &mut Vec<Cause>) {
    let spec = &obj["spec"];
    let kind = spec["type"].as_str().unwrap_or("ClusterIP");
    const TYPES: &[&str] = &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];
    if !TYPES.contains(&kind) {
        causes.push(Cause::not_supported("spec.type", &spec["type"], TYPES));
    }
    let cluster_ip = spec["clusterIP"].as_str().unwrap_or("");
    let headless = cluster_ip == "None";
    if !cluster_ip.is_empty() && !headless && cluster_ip.parse::<std::net::IpAddr>().is_err() {
        causes.push(Cause::invalid(
            "spec.clusterIPs[0]",
            &json!(cluster_ip),
            "must be empty, 'None', or a valid IP address",
        ));
    }
    if headless && kind != "ClusterIP" {
        causes.push(Cause::invalid(
            "spec.clusterIPs[0]",
            &json!("None"),
            format!("may not be set to 'None' for {kind} services"),
        ));
    }
    let ports = spec["ports"].as_array().map(Vec::as_slice).unwrap_or_default();
    if ports.is_empty() && !headless && kind != "ExternalName" {
        causes.push(Cause::required("spec.ports"));
    }
    let mut names = Vec::new();
    for (i, p) in ports.iter().enumerate() {
        let path = format!("spec.ports[{i}]");
        let name = p["name"].as_str().unwrap_or("");
        if name.is_empty() {
            if ports.len() > 1 {
                causes.push(Cause::required(format!("{path}.name")));
            }
        } else {
            for problem in dns1123_label(name) {
                causes.push(Cause::invalid(format!("{path}.name"), &json!(name), problem));
            }
            if names.contains(&name) {
                causes.push(Cause::duplicate(format!("{path}.name"), &json!(name)));
            }
            names.push(name);
        }
        match p["port"].as_i64() {
            None => causes.push(Cause::required(format!("{path}.port"))),
            Some(n) if !(1..=65535).contains(&n) => causes.push(Cause::invalid(
                format!("{path}.port"),
                &p["port"],
                "must be between 1 and 65535, inclusive",
            )),
            _ => {}
        }
        pod::protocol(&p["protocol"], &format!("{path}.protocol"), causes);
        if let Some(t) = p["targetPort"].as_i64() {
            if !(1..=65535).contains(&t) {
                causes.push(Cause::invalid(
                    format!("{path}.targetPort"),
                    &p["targetPort"],
                    "must be between 1 and 65535, inclusive",
                ));
            }
        }
    }
    check_labels(&spec["selector"], "spec.selector", causes);
    if let Some(old) = old {
        let old_ip = old["spec"]["clusterIP"].as_str().unwrap_or("");
        if !old_ip.is_empty() && cluster_ip != old_ip {
            causes.push(Cause::invalid("spec.clusterIPs[0]", &json!(cluster_ip), "may not change once set"));
        }
    }
}

#[cfg(test)]
mod tests;
