//! What a request asks for: the route parsed from its path, its query parameters, and its body
//! decoded (size limit, media type, JSON or YAML) into a JSON value.

use std::collections::HashMap;

use bytes::Bytes;
use http::HeaderMap;
use http_body_util::BodyExt;
use serde_json::Value;

use crate::error::{ApiError, ApiResult};
use crate::resources::{self, ResourceType};

/// Largest body the API server accepts, as upstream (3 MiB).
pub(super) const MAX_BODY: usize = 3 * 1024 * 1024;

/// Where a request goes.
#[derive(Debug)]
pub(super) enum Route {
    Version,
    Healthz,
    ApiVersions,
    GroupList,
    Group(String),
    ResourceList { group: String, version: String },
    OpenApiV3Index,
    OpenApiV3(String),
    Resource(Target),
}

/// A resource request: collection or object, maybe a subresource.
#[derive(Debug, Clone)]
pub(super) struct Target {
    pub rt: &'static ResourceType,
    /// `None` for cluster-scoped types and for lists across all namespaces.
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub sub: Option<String>,
}

pub(super) fn parse_route(path: &str) -> ApiResult<Route> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let not_found = || ApiError::new(404, "NotFound", "the server could not find the requested resource");
    match segs.as_slice() {
        ["version"] => Ok(Route::Version),
        ["healthz" | "livez" | "readyz"] => Ok(Route::Healthz),
        ["api"] => Ok(Route::ApiVersions),
        ["apis"] => Ok(Route::GroupList),
        ["openapi", "v3"] => Ok(Route::OpenApiV3Index),
        ["openapi", "v3", rest @ ..] => Ok(Route::OpenApiV3(rest.join("/"))),
        ["api", "v1"] => Ok(Route::ResourceList { group: String::new(), version: "v1".into() }),
        ["apis", group] => Ok(Route::Group(group.to_string())),
        ["apis", group, version] => Ok(Route::ResourceList { group: group.to_string(), version: version.to_string() }),
        ["api", "v1", rest @ ..] => resource_route("", "v1", rest).ok_or_else(not_found),
        ["apis", group, version, rest @ ..] => resource_route(group, version, rest).ok_or_else(not_found),
        _ => Err(not_found()),
    }
}

fn resource_route(group: &str, version: &str, rest: &[&str]) -> Option<Route> {
    let find = |plural: &str| resources::find(group, version, plural);
    let t = |rt: &'static ResourceType, ns: Option<&str>, name: Option<&str>, sub: Option<&str>| {
        Some(Route::Resource(Target {
            rt,
            namespace: ns.map(str::to_string),
            name: name.map(str::to_string),
            sub: sub.map(str::to_string),
        }))
    };
    match rest {
        ["namespaces", ns, plural, tail @ ..]
            if group.is_empty() || !tail.is_empty() || find(plural).is_some_and(|r| r.namespaced) =>
        {
            // `namespaces/<ns>/status` is the namespace's own subresource.
            if group.is_empty() && tail.is_empty() && (*plural == "status" || *plural == "finalize") {
                return t(find("namespaces")?, None, Some(ns), Some(plural));
            }
            let rt = find(plural).filter(|r| r.namespaced)?;
            match tail {
                [] => t(rt, Some(ns), None, None),
                [name] => t(rt, Some(ns), Some(name), None),
                [name, sub] if rt.has_subresource(sub) => t(rt, Some(ns), Some(name), Some(sub)),
                _ => None,
            }
        }
        [plural] => t(find(plural)?, None, None, None),
        [plural, name] => {
            let rt = find(plural).filter(|r| !r.namespaced)?;
            t(rt, None, Some(name), None)
        }
        [plural, name, sub] => {
            let rt = find(plural).filter(|r| !r.namespaced && r.has_subresource(sub))?;
            t(rt, None, Some(name), Some(sub))
        }
        _ => None,
    }
}

/// Query parameters, first value wins.
#[derive(Debug, Default, Clone)]
pub(super) struct Query(HashMap<String, String>);

impl Query {
    pub(super) fn parse(q: Option<&str>) -> Self {
        let mut m = HashMap::new();
        if let Some(q) = q {
            for (k, v) in url::form_urlencoded::parse(q.as_bytes()) {
                m.entry(k.into_owned()).or_insert_with(|| v.into_owned());
            }
        }
        Query(m)
    }
    pub(super) fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(String::as_str).filter(|s| !s.is_empty())
    }
    pub(super) fn flag(&self, k: &str) -> bool {
        matches!(self.get(k), Some("true" | "1"))
    }
    pub(super) fn int(&self, k: &str) -> ApiResult<Option<i64>> {
        match self.get(k) {
            None => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| ApiError::bad_request(format!("invalid value for {k}: {v:?} is not an integer"))),
        }
    }
    pub(super) fn dry_run(&self) -> ApiResult<bool> {
        match self.get("dryRun") {
            None => Ok(false),
            Some("All") => Ok(true),
            Some(v) => Err(ApiError::bad_request(format!("Invalid dry run value: {v:?}: supported values: \"All\""))),
        }
    }
}

/// The media type of a header value without parameters, lower-cased.
pub(super) fn media_type(headers: &HeaderMap, name: http::HeaderName) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Read the body, refusing more than 3 MiB (413) without buffering it all first.
pub(super) async fn read_body(body: axum::body::Body) -> ApiResult<Bytes> {
    let limited = http_body_util::Limited::new(body, MAX_BODY);
    match limited.collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(ApiError::too_large()),
        Err(e) => Err(ApiError::bad_request(format!("reading the request body: {e}"))),
    }
}

/// Whether a body's media type is YAML (else JSON).
pub(super) fn is_yaml(content_type: &str) -> bool {
    matches!(content_type, "application/yaml" | "application/apply-patch+yaml" | "text/yaml")
}

/// Decode an object body as JSON or YAML. Errors name the problem and where.
pub(super) fn decode(body: &[u8], content_type: &str) -> ApiResult<Value> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("the request body is empty: send a JSON or YAML object"));
    }
    match content_type {
        "application/json"
        | ""
        | "*/*"
        | "application/json-patch+json"
        | "application/merge-patch+json"
        | "application/strategic-merge-patch+json" => serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("error decoding the JSON body: {e}"))),
        t if is_yaml(t) => {
            super::yaml::decode(body).map_err(|e| ApiError::bad_request(format!("error decoding the YAML body: {e}")))
        }
        super::protobuf::MEDIA_TYPE => super::protobuf::object(body),
        other => Err(ApiError::unsupported_media_type(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(path: &str) -> Target {
        match parse_route(path).unwrap() {
            Route::Resource(t) => t,
            other => panic!("{path}: {other:?}"),
        }
    }

    #[test]
    fn routes() {
        let t = target("/apis/apps/v1/namespaces/default/statefulsets/web/scale");
        assert_eq!(
            (t.rt.plural, t.namespace.as_deref(), t.name.as_deref(), t.sub.as_deref()),
            ("statefulsets", Some("default"), Some("web"), Some("scale"))
        );
        let t = target("/api/v1/namespaces/default");
        assert_eq!((t.rt.plural, t.name.as_deref()), ("namespaces", Some("default")));
        let t = target("/api/v1/namespaces/default/status");
        assert_eq!((t.rt.plural, t.name.as_deref(), t.sub.as_deref()), ("namespaces", Some("default"), Some("status")));
        let t = target("/api/v1/namespaces/default/pods");
        assert_eq!((t.rt.plural, t.namespace.as_deref(), t.name), ("pods", Some("default"), None));
        let t = target("/api/v1/pods");
        assert_eq!((t.rt.plural, t.namespace), ("pods", None));
        let t = target("/api/v1/nodes/kubetutor");
        assert_eq!(t.name.as_deref(), Some("kubetutor"));
        assert!(parse_route("/api/v1/namespaces/default/pods/web-0/nope").is_err());
        assert!(parse_route("/api/v1/pods/web-0").is_err());
        assert!(parse_route("/apis/apps/v1/statefulsets/web").is_err());
        assert!(matches!(parse_route("/apis/apps/v1").unwrap(), Route::ResourceList { .. }));
    }

    #[test]
    fn decoding_errors_are_bad_requests() {
        assert_eq!(decode(b"{", "application/json").unwrap_err().code, 400);
        assert_eq!(decode(b"a: [", "application/yaml").unwrap_err().code, 400);
        assert_eq!(decode(b"x", "application/vnd.kubernetes.protobuf").unwrap_err().code, 400);
        assert_eq!(decode(b"a: 1", "application/yaml").unwrap()["a"], 1);
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        assert_eq!(decode(deep.as_bytes(), "application/json").unwrap_err().code, 400);
        let e = decode("[".repeat(100_000).as_bytes(), "application/yaml").unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (400, "error decoding the YAML body: yaml: exceeded max depth of 100")
        );
    }
}
