//! The verbs on resources: get, list, create, update, patch, delete, deletecollection, the
//! status and scale subresources and pods/binding. Creates, updates and patches run one
//! pipeline (decode, the field check the request's `fieldValidation` asks for, admission,
//! store), so a rejected one changes nothing; a scale or a binding is checked here and stored
//! directly. The router in api/mod.rs calls these.

use axum::response::Response;
use http::{HeaderMap, StatusCode};
use serde_json::{json, Value};

use super::present::present;
use super::request::{decode, is_yaml, media_type, Query, Target};
use super::{json_response, wants_table_of, ApiState};
use crate::admission;
use crate::error::{ApiError, ApiResult};
use crate::patch::{self, PatchType};
use crate::resources::ResourceType;
use crate::selector::{supported_fields, FieldSelector, LabelSelector};
use crate::store::{name_of, namespace_of, rv_of, DeleteOpts, Obj, Propagation, UpdateScope};
use crate::table::{self, IncludeObject};
use crate::validation::{self, FieldValidation};

/// Objects of the target's type that pass the request's selectors.
fn selected(st: &ApiState, t: &Target, q: &Query) -> ApiResult<(Vec<Obj>, u64)> {
    let labels = LabelSelector::parse(q.get("labelSelector").unwrap_or(""))?;
    let fields = FieldSelector::parse(q.get("fieldSelector").unwrap_or(""), supported_fields(t.rt.kind))?;
    let (items, rv) = st.store.list(t.rt, t.namespace.as_deref());
    let items = items.into_iter().filter(|o| labels.matches(o) && fields.matches(o)).collect();
    Ok((items, rv))
}

pub(super) fn get(st: &ApiState, t: &Target, q: &Query, headers: &HeaderMap) -> ApiResult<Response> {
    let obj = fetch(st, t)?;
    if let Some(v) = wants_table_of(headers) {
        let include = IncludeObject::parse(q.get("includeObject"))?;
        let shown = present(t.rt, &obj);
        let tbl = table::table(t.rt, &[&shown], include, st.store.clock().now(), None, v);
        return Ok(json_response(StatusCode::OK, &tbl, &[]));
    }
    Ok(json_response(StatusCode::OK, &present(t.rt, &obj), &[]))
}

fn fetch(st: &ApiState, t: &Target) -> ApiResult<Obj> {
    let name = t.name.as_deref().unwrap_or("");
    st.store
        .get(t.rt, t.namespace.as_deref().unwrap_or(""), name)
        .ok_or_else(|| ApiError::not_found(t.rt.group, t.rt.plural, name))
}

/// `limit`/`continue` paging: the token is the hex of the last key served.
fn page(items: Vec<Obj>, q: &Query) -> ApiResult<(Vec<Obj>, Option<String>)> {
    let start = match q.get("continue") {
        None => 0,
        Some(tok) => {
            let key = decode_hex(tok).ok_or_else(|| {
                ApiError::bad_request("continue key is not valid: send back the token of the previous page")
            })?;
            items.iter().position(|o| format!("{}/{}", namespace_of(o), name_of(o)) > key).unwrap_or(items.len())
        }
    };
    let limit = q.int("limit")?.filter(|l| *l > 0).map(|l| l as usize);
    let rest = &items[start..];
    match limit {
        Some(l) if rest.len() > l => {
            let last = &rest[l - 1];
            let tok = encode_hex(&format!("{}/{}", namespace_of(last), name_of(last)));
            Ok((rest[..l].to_vec(), Some(tok)))
        }
        _ => Ok((rest.to_vec(), None)),
    }
}

fn encode_hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}
fn decode_hex(s: &str) -> Option<String> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> =
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect();
    String::from_utf8(bytes?).ok()
}

pub(super) fn list(st: &ApiState, t: &Target, q: &Query, headers: &HeaderMap) -> ApiResult<Response> {
    if q.get("resourceVersionMatch") == Some("Exact") {
        let wanted: u64 = q
            .get("resourceVersion")
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| ApiError::bad_request("resourceVersionMatch=Exact needs a resourceVersion"))?;
        let current = st.store.current_rv();
        if wanted > current {
            return Err(ApiError::too_large_resource_version(wanted, current, None));
        }
        if wanted != current {
            return Err(ApiError::expired(format!("too old resource version: {wanted} ({current})")));
        }
    }
    let (items, rv) = selected(st, t, q)?;
    let (items, cont) = page(items, q)?;
    let mut meta = json!({"resourceVersion": rv.to_string()});
    if let Some(c) = &cont {
        meta["continue"] = json!(c);
    }
    if let Some(v) = wants_table_of(headers) {
        let include = IncludeObject::parse(q.get("includeObject"))?;
        let shown: Vec<_> = items.iter().map(|o| present(t.rt, o)).collect();
        let refs: Vec<&Value> = shown.iter().map(AsRef::as_ref).collect();
        let mut tbl = table::table(t.rt, &refs, include, st.store.clock().now(), Some(&rv.to_string()), v);
        tbl["metadata"] = meta;
        return Ok(json_response(StatusCode::OK, &tbl, &[]));
    }
    let list = json!({
        "kind": t.rt.list_kind(),
        "apiVersion": t.rt.api_version(),
        "metadata": meta,
        "items": items.iter().map(|o| present(t.rt, o).into_owned()).collect::<Vec<_>>(),
    });
    Ok(json_response(StatusCode::OK, &list, &[]))
}

/// The manager a write is recorded under: `fieldManager`, else the user agent's program name.
fn field_manager(q: &Query, headers: &HeaderMap) -> String {
    if let Some(m) = q.get("fieldManager") {
        return m.to_string();
    }
    headers
        .get(http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .and_then(|ua| ua.split('/').next())
        .filter(|s| !s.is_empty())
        .unwrap_or("unknown")
        .to_string()
}

/// Check an incoming object's apiVersion, kind and namespace against the URL, and fill them in.
fn check_identity(rt: &ResourceType, t: &Target, obj: &mut Value) -> ApiResult<()> {
    if !obj.is_object() {
        return Err(ApiError::bad_request(format!("the body must be a {} object, not {}", rt.kind, type_name(obj))));
    }
    let want_av = rt.api_version();
    match obj.get("apiVersion").and_then(Value::as_str) {
        None | Some("") => obj["apiVersion"] = json!(want_av),
        Some(av) if av == want_av => {}
        Some(av) => {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({av}) does not match the expected API version ({want_av})"
            )))
        }
    }
    match obj.get("kind").and_then(Value::as_str) {
        None | Some("") => obj["kind"] = json!(rt.kind),
        Some(k) if k == rt.kind => {}
        Some(k) => {
            let (version, kind, plural) = (rt.version, rt.kind, rt.plural);
            let why = format!("the kind in the data ({k}) does not match the URL ({plural})");
            return Err(ApiError::bad_request(format!(
                "{k} in version \"{version}\" cannot be handled as a {kind}: {why}"
            )));
        }
    }
    if !obj["metadata"].is_object() {
        if obj["metadata"].is_null() {
            obj["metadata"] = json!({});
        } else {
            return Err(ApiError::bad_request(format!(
                "{} in version \"{}\" cannot be handled as a {}: metadata must be an object",
                rt.kind, rt.version, rt.kind
            )));
        }
    }
    if rt.namespaced {
        let url_ns = t.namespace.as_deref().unwrap_or("");
        match obj["metadata"].get("namespace").and_then(Value::as_str) {
            None | Some("") => obj["metadata"]["namespace"] = json!(url_ns),
            Some(ns) if ns == url_ns => {}
            Some(_) => {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ))
            }
        }
    } else if let Some(m) = obj["metadata"].as_object_mut() {
        m.remove("namespace");
    }
    Ok(())
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Decoding checks, then the admission every write goes through.
fn admit(
    st: &ApiState,
    rt: &ResourceType,
    obj: &mut Value,
    old: Option<&Value>,
    mode: FieldValidation,
) -> ApiResult<Vec<String>> {
    let warnings = validation::decode_check(rt, obj, mode)?;
    admission::admit(&st.store, rt, obj, old)?;
    Ok(warnings)
}

fn read_object(
    rt: &ResourceType,
    t: &Target,
    headers: &HeaderMap,
    body: &[u8],
    mode: FieldValidation,
) -> ApiResult<Value> {
    let ct = media_type(headers, http::header::CONTENT_TYPE);
    let mut obj = decode(body, &ct)?;
    if mode == FieldValidation::Strict {
        let dups = validation::duplicate_fields(body, is_yaml(&ct));
        if !dups.is_empty() {
            let e = ApiError::strict_decoding(&dups);
            return Err(ApiError::bad_request(format!(
                "{} in version \"{}\" cannot be handled as a {}: {}",
                rt.kind, rt.version, rt.kind, e.message
            )));
        }
    }
    check_identity(rt, t, &mut obj)?;
    Ok(obj)
}

pub(super) fn create(st: &ApiState, t: &Target, q: &Query, headers: &HeaderMap, body: &[u8]) -> ApiResult<Response> {
    let rt = t.rt;
    let mode = FieldValidation::parse(q.get("fieldValidation"))?;
    let dry = q.dry_run()?;
    let mut obj = read_object(rt, t, headers, body, mode)?;
    let warnings = admit(st, rt, &mut obj, None, mode)?;
    patch::record_update(None, &mut obj, rt.kind, &field_manager(q, headers), &st.store.clock().now_rfc3339());
    let created = st.store.create(rt, obj, dry)?;
    Ok(json_response(StatusCode::CREATED, &created, &warnings))
}

/// Which part of an object a write to this target may change.
fn scope_of(t: &Target) -> UpdateScope {
    if t.sub.as_deref() == Some("status") {
        UpdateScope::Status
    } else {
        UpdateScope::Main
    }
}

pub(super) fn update(st: &ApiState, t: &Target, q: &Query, headers: &HeaderMap, body: &[u8]) -> ApiResult<Response> {
    let rt = t.rt;
    let mode = FieldValidation::parse(q.get("fieldValidation"))?;
    let dry = q.dry_run()?;
    if t.sub.as_deref() == Some("scale") {
        let ct = media_type(headers, http::header::CONTENT_TYPE);
        let scale = decode(body, &ct)?;
        // Without a resourceVersion the update is unconditional: retried on a concurrent write.
        let mut tries = 0;
        loop {
            let old = fetch(st, t)?;
            match write_scale(st, t, &old, &scale, dry) {
                Err(e) if e.reason == "Conflict" && rv_of(&scale).is_empty() && tries < 5 => tries += 1,
                done => return done,
            }
        }
    }
    let mut obj = read_object(rt, t, headers, body, mode)?;
    let name = t.name.as_deref().unwrap_or("");
    match obj["metadata"].get("name").and_then(Value::as_str) {
        None | Some("") => obj["metadata"]["name"] = json!(name),
        Some(n) if n == name => {}
        Some(_) => return Err(ApiError::bad_request("the name of the object does not match the name on the URL")),
    }
    let old = fetch(st, t)?;
    let warnings = admit(st, rt, &mut obj, Some(&old), mode)?;
    patch::record_update(Some(&old), &mut obj, rt.kind, &field_manager(q, headers), &st.store.clock().now_rfc3339());
    let stored = st.store.update(rt, obj, scope_of(t), dry)?;
    Ok(json_response(StatusCode::OK, &stored, &warnings))
}

pub(super) fn patch(st: &ApiState, t: &Target, q: &Query, headers: &HeaderMap, body: &[u8]) -> ApiResult<Response> {
    let rt = t.rt;
    let ct = media_type(headers, http::header::CONTENT_TYPE);
    let kind = PatchType::from_content_type(&ct).ok_or_else(|| {
        ApiError::new(
            415,
            "UnsupportedMediaType",
            format!("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got \"{ct}\")"),
        )
    })?;
    let mode = FieldValidation::parse(q.get("fieldValidation"))?;
    let dry = q.dry_run()?;
    let manager = field_manager(q, headers);
    let now = st.store.clock().now_rfc3339();
    if kind == PatchType::Apply && q.get("fieldManager").is_none() {
        return Err(ApiError::bad_request(
            "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
        ));
    }
    let doc = decode(body, if kind == PatchType::Apply { "application/yaml" } else { "application/json" })?;
    if mode == FieldValidation::Strict && kind != PatchType::Json {
        let dups = validation::duplicate_fields(body, kind == PatchType::Apply);
        if !dups.is_empty() {
            return Err(ApiError::strict_decoding(&dups));
        }
    }
    if t.sub.as_deref() == Some("scale") {
        // Retried on a concurrent write (the controller updating the status while pods come
        // and go), as upstream's patch handler does, unless the patch names a resourceVersion.
        let mut tries = 0;
        loop {
            let old = fetch(st, t)?;
            let mut current = scale_of(&old);
            if let Some(m) = current["metadata"].as_object_mut() {
                m.remove("resourceVersion");
            }
            let patched = apply_patch_doc(kind, &current, &doc, "Scale", &manager, &now, q)?;
            match write_scale(st, t, &old, &patched, dry) {
                Err(e) if e.reason == "Conflict" && rv_of(&patched).is_empty() && tries < 5 => tries += 1,
                done => return done,
            }
        }
    }
    // Retry on a concurrent write, as upstream's patch handler does.
    for _ in 0..5 {
        let old = match st.store.get(t.rt, t.namespace.as_deref().unwrap_or(""), t.name.as_deref().unwrap_or("")) {
            Some(o) => o,
            None if kind == PatchType::Apply && t.sub.is_none() => {
                return apply_create(st, t, q, doc, mode, &manager, &now, dry);
            }
            None => return Err(ApiError::not_found(rt.group, rt.plural, t.name.as_deref().unwrap_or(""))),
        };
        let mut new = apply_patch_doc(kind, &old, &doc, rt.kind, &manager, &now, q)?;
        check_identity(rt, t, &mut new)?;
        if name_of(&new) != name_of(&old) {
            return Err(ApiError::bad_request("the name of the object cannot be changed by a patch"));
        }
        // A resourceVersion the patch sets is a precondition, as upstream: a stale one is a 409.
        let precondition = !rv_of(&new).is_empty() && rv_of(&new) != rv_of(&old);
        if !precondition {
            new["metadata"]["resourceVersion"] = json!(rv_of(&old));
        }
        let warnings = admit(st, rt, &mut new, Some(&old), mode)?;
        if kind != PatchType::Apply {
            patch::record_update(Some(&old), &mut new, rt.kind, &manager, &now);
        }
        match st.store.update(rt, new, scope_of(t), dry) {
            Ok(stored) => return Ok(json_response(StatusCode::OK, &stored, &warnings)),
            Err(e) if e.reason == "Conflict" && (precondition || !rv_of(&doc).is_empty()) => return Err(e),
            Err(e) if e.reason == "Conflict" => continue,
            Err(e) => return Err(e),
        }
    }
    Err(ApiError::conflict(
        rt.group,
        rt.plural,
        t.name.as_deref().unwrap_or(""),
        "the object kept changing while the patch was applied; try again",
    ))
}

#[allow(clippy::too_many_arguments)]
fn apply_create(
    st: &ApiState,
    t: &Target,
    q: &Query,
    doc: Value,
    mode: FieldValidation,
    manager: &str,
    now: &str,
    dry: bool,
) -> ApiResult<Response> {
    let mut doc = doc;
    check_identity(t.rt, t, &mut doc)?;
    if name_of(&doc) != t.name.as_deref().unwrap_or("") {
        return Err(ApiError::bad_request("the name of the object does not match the name on the URL"));
    }
    let force = q.flag("force");
    let mut obj = patch::server_side_apply(None, &doc, t.rt.kind, manager, force, now)?;
    let warnings = admit(st, t.rt, &mut obj, None, mode)?;
    let created = st.store.create(t.rt, obj, dry)?;
    Ok(json_response(StatusCode::CREATED, &created, &warnings))
}

fn apply_patch_doc(
    kind: PatchType,
    old: &Value,
    doc: &Value,
    obj_kind: &str,
    manager: &str,
    now: &str,
    q: &Query,
) -> ApiResult<Value> {
    match kind {
        PatchType::Json => patch::json_patch(old, doc),
        PatchType::Merge => Ok(patch::merge_patch(old, doc)),
        PatchType::StrategicMerge => patch::strategic_merge_patch(old, doc, obj_kind),
        PatchType::Apply => patch::server_side_apply(Some(old), doc, obj_kind, manager, q.flag("force"), now),
    }
}

/// A StatefulSet's scale subresource (autoscaling/v1 Scale).
fn scale_of(sts: &Value) -> Value {
    let selector = sts
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default())).collect::<Vec<_>>().join(","))
        .unwrap_or_default();
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": sts["metadata"]["name"],
            "namespace": sts["metadata"]["namespace"],
            "uid": sts["metadata"]["uid"],
            "resourceVersion": sts["metadata"]["resourceVersion"],
            "creationTimestamp": sts["metadata"]["creationTimestamp"],
        },
        "spec": {"replicas": sts.pointer("/spec/replicas").cloned().unwrap_or(json!(1))},
        "status": {"replicas": sts.pointer("/status/replicas").cloned().unwrap_or(json!(0)), "selector": selector},
    })
}

/// Write `scale`'s replicas into the StatefulSet `old`; a resourceVersion in `scale` is a
/// precondition, else `old`'s is (so a concurrent write is a 409 the callers retry).
fn write_scale(st: &ApiState, t: &Target, old: &Value, scale: &Value, dry: bool) -> ApiResult<Response> {
    let replicas = scale
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .ok_or_else(|| ApiError::bad_request("a Scale needs spec.replicas as a whole number"))?;
    if replicas < 0 {
        return Err(ApiError::invalid(
            "autoscaling",
            "Scale",
            name_of(old),
            vec![crate::error::Cause::invalid("spec.replicas", &json!(replicas), "must be greater than or equal to 0")],
        ));
    }
    let mut new = old.clone();
    new["spec"]["replicas"] = json!(replicas);
    let rv = rv_of(scale);
    new["metadata"]["resourceVersion"] = json!(if rv.is_empty() { rv_of(old) } else { rv });
    let stored = st.store.update(t.rt, new, UpdateScope::Main, dry)?;
    Ok(json_response(StatusCode::OK, &scale_of(&stored), &[]))
}

pub(super) fn get_scale(st: &ApiState, t: &Target) -> ApiResult<Response> {
    let obj = fetch(st, t)?;
    Ok(json_response(StatusCode::OK, &scale_of(&obj), &[]))
}

/// DeleteOptions from the query and, as kube-rs sends them, from the body.
pub(super) fn delete_opts(q: &Query, body: &[u8]) -> ApiResult<DeleteOpts> {
    let b: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("error decoding DeleteOptions: {e}")))?
    };
    let grace = match q.int("gracePeriodSeconds")? {
        Some(g) => Some(g),
        None => b.get("gracePeriodSeconds").and_then(Value::as_i64),
    };
    let policy = q
        .get("propagationPolicy")
        .map(str::to_string)
        .or_else(|| b.get("propagationPolicy").and_then(Value::as_str).map(str::to_string));
    let orphan =
        q.get("orphanDependents").map(|v| v == "true").or_else(|| b.get("orphanDependents").and_then(Value::as_bool));
    let propagation = match (policy.as_deref(), orphan) {
        (Some("Orphan"), _) | (None, Some(true)) => Some(Propagation::Orphan),
        (Some("Background"), _) => Some(Propagation::Background),
        (Some("Foreground"), _) => Some(Propagation::Foreground),
        (None, _) => None,
        (Some(p), _) => {
            return Err(ApiError::invalid(
                "meta.k8s.io",
                "DeleteOptions",
                "",
                vec![crate::error::Cause::not_supported(
                    "propagationPolicy",
                    &json!(p),
                    &["Foreground", "Background", "Orphan"],
                )],
            ))
        }
    };
    let dry = q.dry_run()? || b.get("dryRun").and_then(Value::as_array).is_some_and(|a| a.iter().any(|v| v == "All"));
    Ok(DeleteOpts {
        grace_period_seconds: grace,
        propagation,
        precondition_uid: b.pointer("/preconditions/uid").and_then(Value::as_str).map(str::to_string),
        precondition_rv: b.pointer("/preconditions/resourceVersion").and_then(Value::as_str).map(str::to_string),
        dry_run: dry,
    })
}

pub(super) fn delete(st: &ApiState, t: &Target, q: &Query, body: &[u8]) -> ApiResult<Response> {
    let opts = delete_opts(q, body)?;
    let (obj, _gone) = admission::delete(
        &st.store,
        t.rt,
        t.namespace.as_deref().unwrap_or(""),
        t.name.as_deref().unwrap_or(""),
        &opts,
    )?;
    Ok(json_response(StatusCode::OK, &obj, &[]))
}

pub(super) fn delete_collection(st: &ApiState, t: &Target, q: &Query, body: &[u8]) -> ApiResult<Response> {
    let opts = delete_opts(q, body)?;
    let (items, _) = selected(st, t, q)?;
    let mut out = Vec::new();
    for o in items {
        admission::deletable(t.rt, name_of(&o))?;
        match st.store.delete(t.rt, namespace_of(&o), name_of(&o), &opts) {
            Ok((obj, _)) => out.push(obj),
            Err(e) if e.code == 404 => {}
            Err(e) => return Err(e),
        }
    }
    let list = json!({
        "kind": t.rt.list_kind(),
        "apiVersion": t.rt.api_version(),
        "metadata": {"resourceVersion": st.store.current_rv().to_string()},
        "items": out.iter().map(|o| (**o).clone()).collect::<Vec<_>>(),
    });
    Ok(json_response(StatusCode::OK, &list, &[]))
}

/// POST pods/<name>/binding: assign the pod to a node (what a scheduler does).
pub(super) fn bind(st: &ApiState, t: &Target, headers: &HeaderMap, body: &[u8]) -> ApiResult<Response> {
    let ct = media_type(headers, http::header::CONTENT_TYPE);
    let binding = decode(body, &ct)?;
    let node = binding
        .pointer("/target/name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| {
            ApiError::invalid(
                "",
                "Binding",
                t.name.as_deref().unwrap_or(""),
                vec![crate::error::Cause::required("target.name")],
            )
        })?
        .to_string();
    let old = fetch(st, t)?;
    admission::bindable(&old)?;
    let mut new = (*old).clone();
    new["spec"]["nodeName"] = json!(node);
    st.store.update(t.rt, new, UpdateScope::All, false)?;
    Ok(json_response(
        StatusCode::CREATED,
        &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}),
        &[],
    ))
}
