//! API errors as upstream `Status` objects (reason, code, details.causes), shared by the store,
//! the handlers and validation so every failure leaves the server in the same shape.

use serde_json::{json, Value};

/// One cause of an Invalid (or strict decoding) error: a field path and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cause {
    /// `FieldValueRequired`, `FieldValueInvalid`, `FieldValueNotFound`, `FieldValueDuplicate`,
    /// `FieldValueNotSupported`, `FieldValueForbidden`, `FieldValueTooLong` or `FieldValueTypeInvalid`.
    pub reason: &'static str,
    pub field: String,
    pub message: String,
}

impl Cause {
    pub(crate) fn new(reason: &'static str, field: impl Into<String>, message: impl Into<String>) -> Self {
        Cause { reason, field: field.into(), message: message.into() }
    }
    pub(crate) fn required(field: impl Into<String>) -> Self {
        Cause::new("FieldValueRequired", field, "Required value")
    }
    /// `Invalid value: "x": detail`, as upstream's field.Invalid prints it.
    pub(crate) fn invalid(field: impl Into<String>, value: &Value, detail: impl AsRef<str>) -> Self {
        Cause::new("FieldValueInvalid", field, format!("Invalid value: {}: {}", show_value(value), detail.as_ref()))
    }
    pub(crate) fn not_found(field: impl Into<String>, value: &Value) -> Self {
        Cause::new("FieldValueNotFound", field, format!("Not found: {}", show_value(value)))
    }
    pub(crate) fn duplicate(field: impl Into<String>, value: &Value) -> Self {
        Cause::new("FieldValueDuplicate", field, format!("Duplicate value: {}", show_value(value)))
    }
    pub(crate) fn not_supported(field: impl Into<String>, value: &Value, supported: &[&str]) -> Self {
        let list: Vec<String> = supported.iter().map(|s| format!("\"{s}\"")).collect();
        Cause::new(
            "FieldValueNotSupported",
            field,
            format!("Unsupported value: {}: supported values: {}", show_value(value), list.join(", ")),
        )
    }
    pub(crate) fn forbidden(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Cause::new("FieldValueForbidden", field, format!("Forbidden: {}", detail.into()))
    }

    /// `spec.replicas: Invalid value: -1: ...`, the way upstream joins a cause into a message.
    pub(crate) fn display(&self) -> String {
        if self.field.is_empty() {
            self.message.clone()
        } else {
            format!("{}: {}", self.field, self.message)
        }
    }
}

fn show_value(v: &Value) -> String {
    match v {
        Value::String(s) => format!("\"{s}\""),
        Value::Null => "null".into(),
        other => other.to_string(),
    }
}

/// A failed API call; converts into a `Status` body and HTTP code.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub(crate) struct ApiError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    /// Boxed: errors travel in every `Result` of the request path, and most carry no details.
    pub details: Option<Box<Details>>,
}

/// `Status.details`: which object the error is about, and the field causes.
#[derive(Debug, Clone, Default)]
pub(crate) struct Details {
    pub name: String,
    pub group: String,
    pub kind: String,
    pub causes: Vec<Cause>,
    pub retry_after_seconds: Option<u32>,
}

impl ApiError {
    pub(crate) fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        ApiError { code, reason, message: message.into(), details: None }
    }
    fn with_details(mut self, group: &str, kind: &str, name: &str) -> Self {
        self.details =
            Some(Box::new(Details { name: name.into(), group: group.into(), kind: kind.into(), ..Default::default() }));
        self
    }

    /// `pods "web-0" not found`.
    pub(crate) fn not_found(group: &str, plural: &str, name: &str) -> Self {
        ApiError::new(404, "NotFound", format!("{} \"{name}\" not found", qualify(group, plural)))
            .with_details(group, plural, name)
    }
    pub(crate) fn already_exists(group: &str, plural: &str, name: &str) -> Self {
        ApiError::new(409, "AlreadyExists", format!("{} \"{name}\" already exists", qualify(group, plural)))
            .with_details(group, plural, name)
    }
    /// Optimistic concurrency failure, worded as upstream's registry does.
    pub(crate) fn conflict(group: &str, plural: &str, name: &str, why: &str) -> Self {
        ApiError::new(
            409,
            "Conflict",
            format!("Operation cannot be fulfilled on {} \"{name}\": {why}", qualify(group, plural)),
        )
        .with_details(group, plural, name)
    }
    /// 422 with causes: `StatefulSet.apps "web" is invalid: [spec.replicas: ..., ...]`.
    pub(crate) fn invalid(group: &str, kind: &str, name: &str, causes: Vec<Cause>) -> Self {
        let gk = if group.is_empty() { kind.to_string() } else { format!("{kind}.{group}") };
        let joined = match causes.len() {
            1 => causes[0].display(),
            _ => format!("[{}]", causes.iter().map(Cause::display).collect::<Vec<_>>().join(", ")),
        };
        let mut e = ApiError::new(422, "Invalid", format!("{gk} \"{name}\" is invalid: {joined}"))
            .with_details(group, kind, name);
        if let Some(d) = e.details.as_mut() {
            d.causes = causes;
        }
        e
    }
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(400, "BadRequest", message)
    }
    /// Strict decoding failure: 400 BadRequest, `strict decoding error: unknown field "spec.replica"`.
    pub(crate) fn strict_decoding(problems: &[String]) -> Self {
        let causes = problems.iter().map(|p| Cause::new("FieldValueInvalid", "", p.clone())).collect();
        let mut e = ApiError::new(400, "BadRequest", format!("strict decoding error: {}", problems.join(", ")));
        e.details = Some(Box::new(Details { causes, ..Default::default() }));
        e
    }
    pub(crate) fn method_not_allowed(message: impl Into<String>) -> Self {
        ApiError::new(405, "MethodNotAllowed", message)
    }
    pub(crate) fn unsupported_media_type(content_type: &str) -> Self {
        // Upstream also lists protobuf; the sandbox reads it only for SelfSubjectAccessReviews.
        let message = if content_type == "application/vnd.kubernetes.protobuf" {
            "the kubetutor sandbox reads protobuf only for SelfSubjectAccessReviews: send this body as application/json or application/yaml".to_string()
        } else {
            format!("the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (got \"{content_type}\")")
        };
        ApiError::new(415, "UnsupportedMediaType", message)
    }
    pub(crate) fn too_large() -> Self {
        ApiError::new(413, "RequestEntityTooLarge", "Request entity too large: limit is 3145728")
    }
    pub(crate) fn unauthorized() -> Self {
        ApiError::new(401, "Unauthorized", "Unauthorized")
    }
    pub(crate) fn forbidden(message: impl Into<String>) -> Self {
        ApiError::new(403, "Forbidden", message)
    }
    /// 410 Gone for a resourceVersion older than the watch window.
    pub(crate) fn expired(message: impl Into<String>) -> Self {
        ApiError::new(410, "Expired", message)
    }
    /// 504 for a resourceVersion the store has not reached yet, as the watch cache answers
    /// (storage.NewTooLargeResourceVersionError): `Too large resource version: 90, current: 12`.
    pub(crate) fn too_large_resource_version(wanted: u64, current: u64, retry_after_seconds: Option<u32>) -> Self {
        let mut e = ApiError::new(504, "Timeout", format!("Too large resource version: {wanted}, current: {current}"));
        e.details = Some(Box::new(Details {
            causes: vec![Cause::new("ResourceVersionTooLarge", "", "Too large resource version")],
            retry_after_seconds,
            ..Default::default()
        }));
        e
    }
    pub(crate) fn internal(message: impl Into<String>) -> Self {
        ApiError::new(500, "InternalError", message)
    }

    /// The `Status` object for this error.
    pub(crate) fn status(&self) -> Value {
        let mut v = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let Some(d) = &self.details {
            let mut det = serde_json::Map::new();
            if !d.name.is_empty() {
                det.insert("name".into(), json!(d.name));
            }
            if !d.group.is_empty() {
                det.insert("group".into(), json!(d.group));
            }
            if !d.kind.is_empty() {
                det.insert("kind".into(), json!(d.kind));
            }
            if !d.causes.is_empty() {
                det.insert(
                    "causes".into(),
                    Value::Array(
                        d.causes
                            .iter()
                            .map(|c| {
                                let mut m = json!({"reason": c.reason, "message": c.message});
                                if !c.field.is_empty() {
                                    m["field"] = json!(c.field);
                                }
                                m
                            })
                            .collect(),
                    ),
                );
            }
            if let Some(s) = d.retry_after_seconds {
                det.insert("retryAfterSeconds".into(), json!(s));
            }
            v["details"] = Value::Object(det);
        }
        v
    }
}

fn qualify(group: &str, plural: &str) -> String {
    if group.is_empty() {
        plural.to_string()
    } else {
        format!("{plural}.{group}")
    }
}

impl axum::response::IntoResponse for ApiError {
    fn into_response(self) -> axum::response::Response {
        let code = http::StatusCode::from_u16(self.code).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
        (code, axum::Json(self.status())).into_response()
    }
}

pub(crate) type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_joins_causes_like_upstream() {
        let e = ApiError::invalid(
            "apps",
            "StatefulSet",
            "web",
            vec![
                Cause::invalid("spec.replicas", &json!(-1), "must be greater than or equal to 0"),
                Cause::required("spec.selector"),
            ],
        );
        assert_eq!(
            e.message,
            "StatefulSet.apps \"web\" is invalid: [spec.replicas: Invalid value: -1: must be greater than or equal to 0, spec.selector: Required value]"
        );
        let s = e.status();
        assert_eq!(s["code"], 422);
        assert_eq!(s["details"]["causes"][1]["field"], "spec.selector");
        assert_eq!(s["details"]["kind"], "StatefulSet");
    }

    #[test]
    fn not_found_names_the_resource() {
        let e = ApiError::not_found("", "pods", "web-9");
        assert_eq!(e.message, "pods \"web-9\" not found");
        assert_eq!(e.status()["reason"], "NotFound");
    }
}
