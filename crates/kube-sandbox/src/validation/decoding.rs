//! Decoding checks a write goes through before validation: the body must decode as the kind's
//! type (k8s-openapi's), and fields the type does not know, or keys given twice, are dropped
//! with a warning or rejected, as the request's `fieldValidation` says.

use std::collections::HashSet;
use std::fmt;

use k8s_openapi::api::{apps, autoscaling, core, discovery, events, storage};
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Serialize;
use serde_json::Value;

use crate::error::{ApiError, ApiResult};
use crate::resources::ResourceType;

/// The `fieldValidation` query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldValidation {
    Ignore,
    Warn,
    Strict,
}

impl FieldValidation {
    pub(crate) fn parse(v: Option<&str>) -> ApiResult<Self> {
        match v {
            None | Some("" | "Warn") => Ok(FieldValidation::Warn),
            Some("Ignore") => Ok(FieldValidation::Ignore),
            Some("Strict") => Ok(FieldValidation::Strict),
            Some(other) => Err(ApiError::bad_request(format!(
                "fieldValidation parameter unsupported: {other}. Supported values: Ignore, Warn, Strict"
            ))),
        }
    }
}

/// Decode `obj` as its kind's type; unknown fields become warnings (Warn) or a 400 (Strict).
pub(crate) fn decode_check(rt: &ResourceType, obj: &Value, mode: FieldValidation) -> ApiResult<Vec<String>> {
    let cannot = |detail: String| {
        ApiError::bad_request(format!(
            "{} in version \"{}\" cannot be handled as a {}: {detail}",
            rt.kind, rt.version, rt.kind
        ))
    };
    let known = match round_trip(rt, obj) {
        None => return Ok(Vec::new()),
        Some(Ok(v)) => v,
        Some(Err(e)) => return Err(cannot(e)),
    };
    if mode == FieldValidation::Ignore {
        return Ok(Vec::new());
    }
    let mut unknown = Vec::new();
    unknown_fields(obj, &known, "", &mut unknown);
    let problems: Vec<String> = unknown.iter().map(|p| format!("unknown field \"{p}\"")).collect();
    if mode == FieldValidation::Strict && !problems.is_empty() {
        let mut e = ApiError::strict_decoding(&problems);
        e.message =
            format!("{} in version \"{}\" cannot be handled as a {}: {}", rt.kind, rt.version, rt.kind, e.message);
        return Err(e);
    }
    Ok(problems)
}

/// The object as its typed form serializes it, or why it does not decode; `None` for kinds
/// without a typed form here.
fn round_trip(rt: &ResourceType, obj: &Value) -> Option<Result<Value, String>> {
    fn go<T: serde::de::DeserializeOwned + Serialize>(obj: &Value) -> Result<Value, String> {
        let typed: T = serde_path_to_error::deserialize(obj).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if path.is_empty() || path == "." {
                format!("json: {inner}")
            } else {
                format!("json: cannot decode field \"{path}\": {inner}")
            }
        })?;
        serde_json::to_value(&typed).map_err(|e| e.to_string())
    }
    Some(match (rt.group, rt.kind) {
        ("", "Pod") => go::<core::v1::Pod>(obj),
        ("", "Service") => go::<core::v1::Service>(obj),
        ("", "Endpoints") => go::<core::v1::Endpoints>(obj),
        ("", "PersistentVolumeClaim") => go::<core::v1::PersistentVolumeClaim>(obj),
        ("", "PersistentVolume") => go::<core::v1::PersistentVolume>(obj),
        ("", "Namespace") => go::<core::v1::Namespace>(obj),
        ("", "Node") => go::<core::v1::Node>(obj),
        ("", "ConfigMap") => go::<core::v1::ConfigMap>(obj),
        ("", "Event") => go::<core::v1::Event>(obj),
        ("", "ServiceAccount") => go::<core::v1::ServiceAccount>(obj),
        ("apps", "StatefulSet") => go::<apps::v1::StatefulSet>(obj),
        ("apps", "ControllerRevision") => go::<apps::v1::ControllerRevision>(obj),
        ("discovery.k8s.io", "EndpointSlice") => go::<discovery::v1::EndpointSlice>(obj),
        ("storage.k8s.io", "StorageClass") => go::<storage::v1::StorageClass>(obj),
        ("events.k8s.io", "Event") => go::<events::v1::Event>(obj),
        ("autoscaling", "Scale") => go::<autoscaling::v1::Scale>(obj),
        _ => return None,
    })
}

/// Paths present in `input` but gone from its typed round trip.
fn unknown_fields(input: &Value, known: &Value, path: &str, out: &mut Vec<String>) {
    match (input, known) {
        (Value::Object(i), Value::Object(k)) => {
            for (key, v) in i {
                if v.is_null() {
                    continue;
                }
                let p = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                match k.get(key) {
                    Some(kv) => unknown_fields(v, kv, &p, out),
                    None => out.push(p),
                }
            }
        }
        (Value::Array(i), Value::Array(k)) => {
            for (n, (v, kv)) in i.iter().zip(k).enumerate() {
                unknown_fields(v, kv, &format!("{path}[{n}]"), out);
            }
        }
        _ => {}
    }
}

/// Keys given twice in one map of a JSON or YAML body, as `duplicate field "spec.replicas"`.
pub(crate) fn duplicate_fields(body: &[u8], yaml: bool) -> Vec<String> {
    let mut found = Vec::new();
    let seed = Scan { path: String::new(), found: &mut found };
    if yaml {
        let _ = serde_yaml::Deserializer::from_slice(body).next().map(|d| seed.deserialize(d));
    } else {
        let mut d = serde_json::Deserializer::from_slice(body);
        let _ = seed.deserialize(&mut d);
    }
    found.into_iter().map(|p| format!("duplicate field \"{p}\"")).collect()
}

/// Walks any document, noting repeated keys with their paths.
struct Scan<'a> {
    path: String,
    found: &'a mut Vec<String>,
}

impl<'de> DeserializeSeed<'de> for Scan<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Scan<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut n = 0;
        loop {
            let path = format!("{}[{n}]", self.path);
            if seq.next_element_seed(Scan { path, found: self.found })?.is_none() {
                return Ok(());
            }
            n += 1;
        }
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<KeyName>()? {
            let path = if self.path.is_empty() { key.0.clone() } else { format!("{}.{}", self.path, key.0) };
            if !seen.insert(key.0) {
                self.found.push(path.clone());
            }
            map.next_value_seed(Scan { path, found: self.found })?;
        }
        Ok(())
    }
}

/// A map key as text, whatever scalar it was written as.
struct KeyName(String);

impl<'de> serde::Deserialize<'de> for KeyName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_yaml::Value::deserialize(d)?;
        Ok(KeyName(match v {
            serde_yaml::Value::String(s) => s,
            other => serde_yaml::to_string(&other).unwrap_or_default().trim().to_string(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::resources::kinds;

    fn sts(spec: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "web"}, "spec": spec})
    }

    #[test]
    fn modes_parse_with_warn_as_default() {
        assert_eq!(FieldValidation::parse(None).unwrap(), FieldValidation::Warn);
        assert_eq!(FieldValidation::parse(Some("Strict")).unwrap(), FieldValidation::Strict);
        assert_eq!(FieldValidation::parse(Some("Ignore")).unwrap(), FieldValidation::Ignore);
        let e = FieldValidation::parse(Some("strict")).unwrap_err();
        assert_eq!(e.code, 400);
        assert!(e.message.contains("Supported values: Ignore, Warn, Strict"), "{}", e.message);
    }

    #[test]
    fn unknown_fields_warn_or_fail() {
        let obj = sts(json!({"replica": 2, "template": {"spec": {"containers": [{"name": "n", "imagee": "x"}]}}}));
        let w = decode_check(kinds::statefulsets(), &obj, FieldValidation::Warn).unwrap();
        assert_eq!(w, ["unknown field \"spec.replica\"", "unknown field \"spec.template.spec.containers[0].imagee\""]);
        assert!(decode_check(kinds::statefulsets(), &obj, FieldValidation::Ignore).unwrap().is_empty());
        let e = decode_check(kinds::statefulsets(), &obj, FieldValidation::Strict).unwrap_err();
        assert_eq!((e.code, e.reason), (400, "BadRequest"));
        assert!(
            e.message.starts_with(
                "StatefulSet in version \"v1\" cannot be handled as a StatefulSet: strict decoding error: unknown field \"spec.replica\""
            ),
            "{}",
            e.message
        );
        let ok = sts(json!({"replicas": 2, "serviceName": "nginx", "template": {"metadata": {"labels": {"a": "b"}}}}));
        assert!(decode_check(kinds::statefulsets(), &ok, FieldValidation::Strict).unwrap().is_empty());
    }

    #[test]
    fn wrong_types_name_the_field() {
        let e =
            decode_check(kinds::statefulsets(), &sts(json!({"replicas": "three"})), FieldValidation::Warn).unwrap_err();
        assert_eq!(e.code, 400);
        assert!(e.message.contains("spec.replicas"), "{}", e.message);
        assert!(
            e.message.starts_with("StatefulSet in version \"v1\" cannot be handled as a StatefulSet"),
            "{}",
            e.message
        );
    }

    #[test]
    fn duplicate_keys_in_json_and_yaml() {
        let json = br#"{"spec": {"replicas": 1, "replicas": 2}, "metadata": {"name": "a"}}"#;
        assert_eq!(duplicate_fields(json, false), ["duplicate field \"spec.replicas\""]);
        assert!(duplicate_fields(br#"{"a": [{"b": 1}, {"b": 2}]}"#, false).is_empty());
        let yaml = b"kind: ConfigMap\ndata:\n  color: red\n  color: blue\n";
        let found = duplicate_fields(yaml, true);
        assert!(found.is_empty() || found == ["duplicate field \"data.color\""], "{found:?}");
    }
}
