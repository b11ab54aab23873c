//! Server-side `Table` output (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`) with upstream's
//! printer columns; the get, list and watch handlers call it so `kubectl get` prints what it would print
//! against a real cluster.

mod kinds;
mod network;
mod pod;
mod storage;

use jiff::Timestamp;
use serde_json::{json, Map, Value};

use crate::error::{ApiError, ApiResult, Cause};
use crate::resources::ResourceType;

/// The `includeObject` query parameter: what each row carries besides its cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IncludeObject {
    None,
    Metadata,
    Object,
}

impl IncludeObject {
    /// Upstream defaults to `Metadata` when the parameter is absent or empty.
    pub(crate) fn parse(v: Option<&str>) -> ApiResult<Self> {
        match v.unwrap_or("") {
            "" | "Metadata" => Ok(IncludeObject::Metadata),
            "None" => Ok(IncludeObject::None),
            "Object" => Ok(IncludeObject::Object),
            other => Err(ApiError::bad_request(
                Cause::invalid(
                    "includeObject",
                    &Value::String(other.to_string()),
                    "must be 'Metadata', 'Object', 'None', or empty",
                )
                .display(),
            )),
        }
    }
}

/// Which Table version an Accept header asks for. Media ranges are taken in order, as upstream's
/// negotiation does: the first Table range wins, but a plain JSON range listed before any Table range
/// means the client accepts the object itself.
pub(crate) fn wants_table(accept: &str) -> Option<&'static str> {
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        if !matches!(media.as_str(), "application/json" | "application/*" | "*/*") {
            continue;
        }
        let (mut as_kind, mut group, mut version) = (None, None, None);
        for param in parts {
            if let Some((k, v)) = param.split_once('=') {
                let v = v.trim().trim_matches('"');
                match k.trim() {
                    "as" => as_kind = Some(v),
                    "g" => group = Some(v),
                    "v" => version = Some(v),
                    _ => {}
                }
            }
        }
        match (as_kind, group, version) {
            (None, _, _) => return None,
            (Some("Table"), Some("meta.k8s.io"), Some("v1")) => return Some("meta.k8s.io/v1"),
            (Some("Table"), Some("meta.k8s.io"), Some("v1beta1")) => return Some("meta.k8s.io/v1beta1"),
            _ => continue,
        }
    }
    None
}

/// A column: name, type, priority (1 = only with `-o wide`), description.
type Column = (&'static str, &'static str, u8, &'static str);

const NAME_DOC: &str = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
const AGE_DOC: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

const NAME: Column = ("Name", "string", 0, NAME_DOC);
const AGE: Column = ("Age", "string", 0, AGE_DOC);
const FALLBACK: &[Column] = &[NAME, AGE];

/// Builds the `Table` for `objs` of type `rt`. Upstream always generates the wide columns server-side;
/// kubectl hides priority-1 columns unless asked for `-o wide`.
pub(crate) fn table(
    rt: &ResourceType,
    objs: &[&Value],
    include: IncludeObject,
    now: Timestamp,
    list_rv: Option<&str>,
    api_version: &str,
) -> Value {
    let column_definitions: Vec<Value> = columns(rt)
        .iter()
        .map(|&(name, ty, priority, description)| {
            json!({
                "name": name,
                "type": ty,
                "format": if name == "Name" { "name" } else { "" },
                "description": description,
                "priority": priority,
            })
        })
        .collect();
    let rows: Vec<Value> = objs.iter().map(|obj| row(rt, obj, include, now, api_version)).collect();
    // A single object's table carries that object's resourceVersion, as upstream's generator does.
    let rv = match (list_rv, objs) {
        (Some(rv), _) => Some(rv),
        (None, [one]) => Some(text(one, &["metadata", "resourceVersion"])).filter(|s| !s.is_empty()),
        _ => None,
    };
    let mut metadata = Map::new();
    if let Some(rv) = rv {
        metadata.insert("resourceVersion".into(), json!(rv));
    }
    json!({
        "kind": "Table",
        "apiVersion": api_version,
        "metadata": metadata,
        "columnDefinitions": column_definitions,
        "rows": rows,
    })
}

fn columns(rt: &ResourceType) -> &'static [Column] {
    match rt.kind {
        "Pod" => pod::COLUMNS,
        _ => kinds::columns(rt.kind).unwrap_or(FALLBACK),
    }
}

fn row(rt: &ResourceType, obj: &Value, include: IncludeObject, now: Timestamp, api_version: &str) -> Value {
    let cells = match rt.kind {
        "Pod" => pod::cells(obj, now),
        kind => kinds::cells(kind, obj, now)
            .unwrap_or_else(|| vec![json!(text(obj, &["metadata", "name"])), json!(age(obj, now))]),
    };
    let mut row = Map::new();
    row.insert("cells".into(), Value::Array(cells));
    if rt.kind == "Pod" {
        if let Some(conditions) = pod::row_conditions(obj) {
            row.insert("conditions".into(), conditions);
        }
    }
    match include {
        IncludeObject::None => {}
        IncludeObject::Object => {
            row.insert("object".into(), obj.clone());
        }
        IncludeObject::Metadata => {
            let metadata = obj.get("metadata").cloned().unwrap_or_else(|| json!({}));
            row.insert(
                "object".into(),
                json!({"kind": "PartialObjectMetadata", "apiVersion": api_version, "metadata": metadata}),
            );
        }
    }
    Value::Object(row)
}

/// Upstream's `duration.HumanDuration`: coarser the older it gets, tolerating 1s of clock skew.
pub(crate) fn human_age(now: Timestamp, then: Timestamp) -> String {
    let seconds = now.duration_since(then).as_secs();
    if seconds < -1 {
        return "<invalid>".into();
    }
    if seconds < 0 {
        return "0s".into();
    }
    if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 { format!("{minutes}m") } else { format!("{minutes}m{s}s") };
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 { format!("{hours}h") } else { format!("{hours}h{m}m") };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 { format!("{}d", hours / 24) } else { format!("{}d{h}h", hours / 24) };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        return if dy == 0 { format!("{}y", hours / 24 / 365) } else { format!("{}y{dy}d", hours / 24 / 365) };
    }
    format!("{}y", hours / 24 / 365)
}

/// The value at `path`, if every step exists.
fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |cur, key| cur.get(key))
}

/// The string at `path`, or "" (upstream prints Go zero values).
fn text<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    at(v, path).and_then(Value::as_str).unwrap_or("")
}

fn list<'a>(v: &'a Value, path: &[&str]) -> &'a [Value] {
    at(v, path).and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[])
}

fn int(v: &Value, path: &[&str]) -> i64 {
    at(v, path).and_then(Value::as_i64).unwrap_or(0)
}

fn timestamp(v: &Value, path: &[&str]) -> Option<Timestamp> {
    text(v, path).parse().ok()
}

/// Upstream's `translateTimestampSince`: `<unknown>` for a missing time.
fn since(now: Timestamp, then: Option<Timestamp>) -> String {
    match then {
        Some(t) => human_age(now, t),
        None => "<unknown>".into(),
    }
}

fn age(obj: &Value, now: Timestamp) -> String {
    since(now, timestamp(obj, &["metadata", "creationTimestamp"]))
}

/// `labels.FormatLabels`: sorted `k=v` pairs, `<none>` when empty.
fn format_labels(map: Option<&Value>) -> String {
    let Some(map) = map.and_then(Value::as_object).filter(|m| !m.is_empty()) else {
        return "<none>".into();
    };
    let mut pairs: Vec<String> = map.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or(""))).collect();
    pairs.sort();
    pairs.join(",")
}

/// Shared helpers for the row tests of the printer modules.
#[cfg(test)]
mod fixtures {
    use super::{table, IncludeObject};
    use crate::resources::ResourceType;
    use jiff::Timestamp;
    use serde_json::{json, Value};

    pub(super) fn now() -> Timestamp {
        "2030-01-01T01:00:00Z".parse().expect("test timestamp")
    }

    /// Metadata created an hour before `now()`.
    pub(super) fn meta(name: &str) -> Value {
        json!({"name": name, "namespace": "default", "creationTimestamp": "2030-01-01T00:00:00Z"})
    }

    pub(super) fn row(rt: &ResourceType, obj: Value) -> Value {
        let t = table(rt, &[&obj], IncludeObject::None, now(), None, "meta.k8s.io/v1");
        t["rows"][0]["cells"].clone()
    }

    pub(super) fn headers(rt: &ResourceType) -> Vec<String> {
        let t = table(rt, &[], IncludeObject::None, now(), None, "meta.k8s.io/v1");
        t["columnDefinitions"]
            .as_array()
            .map(|c| c.iter().filter_map(|d| d["name"].as_str().map(String::from)).collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::kinds;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("test timestamp")
    }

    #[test]
    fn human_age_follows_upstream_rules() {
        let now = ts("2030-01-01T00:00:00Z");
        let cases: &[(i64, &str)] = &[
            (-5, "<invalid>"),
            (-1, "0s"),
            (0, "0s"),
            (1, "1s"),
            (70, "70s"),
            (119, "119s"),
            (120, "2m"),
            (190, "3m10s"),
            (9 * 60 + 59, "9m59s"),
            (10 * 60 + 5, "10m"),
            (60 * 60, "60m"),
            (179 * 60, "179m"),
            (3 * 3600, "3h"),
            (3 * 3600 + 30 * 60, "3h30m"),
            (8 * 3600 + 59 * 60, "8h"),
            (47 * 3600, "47h"),
            (48 * 3600, "2d"),
            (50 * 3600, "2d2h"),
            (8 * 86400, "8d"),
            (366 * 86400, "366d"),
            (730 * 86400, "2y"),
            (800 * 86400, "2y70d"),
            (9 * 365 * 86400, "9y"),
        ];
        for &(secs, want) in cases {
            let then = now - jiff::SignedDuration::from_secs(secs);
            assert_eq!(human_age(now, then), want, "{secs}s");
        }
    }

    #[test]
    fn include_object_parses_upstream_values() {
        assert_eq!(IncludeObject::parse(None).ok(), Some(IncludeObject::Metadata));
        assert_eq!(IncludeObject::parse(Some("")).ok(), Some(IncludeObject::Metadata));
        assert_eq!(IncludeObject::parse(Some("None")).ok(), Some(IncludeObject::None));
        assert_eq!(IncludeObject::parse(Some("Object")).ok(), Some(IncludeObject::Object));
        let err = IncludeObject::parse(Some("unrecognized")).expect_err("bad value");
        assert_eq!(err.code, 400);
        assert_eq!(
            err.message,
            "includeObject: Invalid value: \"unrecognized\": must be 'Metadata', 'Object', 'None', or empty"
        );
    }

    #[test]
    fn wants_table_reads_kubectl_accept_header() {
        let kubectl = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
        assert_eq!(wants_table(kubectl), Some("meta.k8s.io/v1"));
        assert_eq!(
            wants_table("application/json;as=Table;v=v1beta1;g=meta.k8s.io, application/json"),
            Some("meta.k8s.io/v1beta1")
        );
        assert_eq!(
            wants_table("application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io, application/json ; as=Table ; g=meta.k8s.io ; v=v1"),
            Some("meta.k8s.io/v1")
        );
        assert_eq!(wants_table("application/json"), None);
        assert_eq!(wants_table(""), None);
        assert_eq!(wants_table("application/json;as=Table;v=v2;g=meta.k8s.io"), None);
        assert_eq!(wants_table("application/json, application/json;as=Table;v=v1;g=meta.k8s.io"), None);
    }

    #[test]
    fn table_shape_and_include_modes() {
        let now = ts("2030-01-01T00:10:00Z");
        let cm = json!({
            "kind": "ConfigMap", "apiVersion": "v1",
            "metadata": {"name": "cfg", "namespace": "default", "resourceVersion": "7",
                         "creationTimestamp": "2030-01-01T00:00:00Z"},
            "data": {"a": "1", "b": "2"}, "binaryData": {"c": "AA=="}
        });
        let t = table(kinds::configmaps(), &[&cm], IncludeObject::Metadata, now, None, "meta.k8s.io/v1");
        assert_eq!(t["kind"], "Table");
        assert_eq!(t["apiVersion"], "meta.k8s.io/v1");
        assert_eq!(t["metadata"], json!({"resourceVersion": "7"}));
        assert_eq!(t["columnDefinitions"][0]["format"], "name");
        assert_eq!(t["rows"][0]["cells"], json!(["cfg", 3, "10m"]));
        assert_eq!(t["rows"][0]["object"]["kind"], "PartialObjectMetadata");
        assert_eq!(t["rows"][0]["object"]["apiVersion"], "meta.k8s.io/v1");
        assert_eq!(t["rows"][0]["object"]["metadata"]["name"], "cfg");

        let t = table(kinds::configmaps(), &[&cm], IncludeObject::Object, now, Some("42"), "meta.k8s.io/v1beta1");
        assert_eq!(t["metadata"], json!({"resourceVersion": "42"}));
        assert_eq!(t["rows"][0]["object"], cm);

        let t = table(kinds::configmaps(), &[], IncludeObject::None, now, None, "meta.k8s.io/v1");
        assert_eq!(t["metadata"], json!({}));
        assert_eq!(t["rows"], json!([]));
        let t = table(kinds::configmaps(), &[&cm], IncludeObject::None, now, None, "meta.k8s.io/v1");
        assert!(t["rows"][0].get("object").is_none());
    }

    #[test]
    fn unknown_kinds_fall_back_to_name_and_age() {
        let rt = ResourceType {
            group: "coordination.k8s.io",
            version: "v1",
            kind: "Lease",
            plural: "leases",
            singular: "lease",
            namespaced: true,
            short_names: &[],
            categories: &[],
            verbs: &[],
            subresources: &[],
            storage: "leases",
            has_generation: false,
        };
        assert_eq!(fixtures::headers(&rt), ["Name", "Age"]);
        let lease = json!({"metadata": fixtures::meta("lock")});
        assert_eq!(fixtures::row(&rt, lease), json!(["lock", "60m"]));
    }
}
