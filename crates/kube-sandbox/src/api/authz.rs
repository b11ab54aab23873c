//! Authorization, as RBAC would grant it: the admin token may do anything; a workshop
//! attendee's token works only in its own namespace (plus reading its Namespace object and the
//! StorageClasses, as a typical attendee Role and ClusterRole allow). Refusals are 403 with
//! upstream's wording. Also answers SelfSubjectAccessReviews, so `kubectl auth can-i` and the
//! tutor's doctor learn what a token may do.

use http::Method;
use serde_json::{json, Value};

use super::request::{Query, Target};
use super::Identity;
use crate::error::{ApiError, ApiResult};
use crate::resources::{self, ResourceType};

/// The RBAC verb of a request.
pub(super) fn verb(method: &Method, has_name: bool, q: &Query) -> &'static str {
    match (method.as_str(), has_name) {
        ("GET", _) if q.flag("watch") => "watch",
        ("GET", true) => "get",
        ("GET", false) => "list",
        ("POST", _) => "create",
        ("PUT", _) => "update",
        ("PATCH", _) => "patch",
        ("DELETE", true) => "delete",
        ("DELETE", false) => "deletecollection",
        _ => "get",
    }
}

/// Whether `who` may `verb` the `resource` (plural, or `plural/sub`) of `group` in `namespace`.
pub(super) fn allows(
    who: &Identity,
    verb: &str,
    group: &str,
    resource: &str,
    namespace: Option<&str>,
    name: Option<&str>,
) -> bool {
    match who {
        Identity::Admin => true,
        Identity::User { .. } => false,
        // The attendee Role names its verbs and resources: a wildcard asks for a grant of
        // everything, which RBAC finds only in a rule that says `*` itself.
        Identity::Attendee { .. } if [verb, group, resource].contains(&"*") => false,
        Identity::Attendee { namespace: own } => {
            let plural = resource.split('/').next().unwrap_or(resource);
            let namespaced = resources::RESOURCES
                .iter()
                .find(|r| r.group == group && r.plural == plural)
                .is_none_or(|r| r.namespaced);
            if namespaced {
                namespace == Some(own.as_str())
            } else if plural == "namespaces" && group.is_empty() {
                verb == "get" && name == Some(own.as_str())
            } else if plural == "storageclasses" && group == "storage.k8s.io" {
                matches!(verb, "get" | "list" | "watch")
            } else {
                false
            }
        }
    }
}

pub(super) fn user(who: &Identity) -> String {
    match who {
        Identity::Admin => "kubetutor-admin".into(),
        Identity::Attendee { namespace } => format!("system:serviceaccount:{namespace}:kubetutor"),
        Identity::User { name } => name.clone(),
    }
}

/// Who the request acts as, given its `Impersonate-*` headers. Only the admin may impersonate
/// (cluster-admin may); anyone else gets RBAC's 403, never a silently ignored header. The
/// admin becomes the named user: an attendee's service account acts as that attendee, a user
/// the sandbox does not know may do nothing, and the group `system:masters` may do anything.
pub(super) fn impersonate(who: &Identity, headers: &http::HeaderMap, auth: &super::Auth) -> ApiResult<Identity> {
    let values = |name: &str| -> Vec<String> {
        headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).map(str::to_string).collect()
    };
    let user_name = values("impersonate-user").into_iter().next();
    let groups = values("impersonate-group");
    let others =
        headers.keys().any(|k| k.as_str() == "impersonate-uid" || k.as_str().starts_with("impersonate-extra-"));
    let Some(name) = user_name else {
        if groups.is_empty() && !others {
            return Ok(who.clone());
        }
        return Err(ApiError::internal(
            "requested impersonation of uid, groups or user-extra without impersonating a user",
        ));
    };
    if *who != Identity::Admin {
        let (what, scope) = match name.strip_prefix("system:serviceaccount:").and_then(|r| r.split_once(':')) {
            Some((ns, sa)) => (format!("serviceaccounts \"{sa}\""), format!("in the namespace \"{ns}\"")),
            None => (format!("users \"{name}\""), "at the cluster scope".to_string()),
        };
        let resource = what.split(' ').next().unwrap_or("users").to_string();
        return Err(ApiError::forbidden(format!(
            "{what} is forbidden: User \"{}\" cannot impersonate resource \"{resource}\" in API group \"\" {scope}",
            user(who)
        )));
    }
    if groups.iter().any(|g| g == "system:masters") {
        return Ok(Identity::Admin);
    }
    Ok(auth.by_user(&name).cloned().unwrap_or(Identity::User { name }))
}

/// Refuse the request unless `who` may make it.
pub(super) fn authorize(who: &Identity, t: &Target, method: &Method, q: &Query) -> ApiResult<()> {
    let verb = verb(method, t.name.is_some(), q);
    let resource = match &t.sub {
        Some(sub) => format!("{}/{sub}", t.rt.plural),
        None => t.rt.plural.to_string(),
    };
    if allows(who, verb, t.rt.group, &resource, t.namespace.as_deref(), t.name.as_deref()) {
        return Ok(());
    }
    Err(forbidden(who, verb, t.rt, &resource, t.namespace.as_deref(), t.name.as_deref()))
}

/// `pods "web-0" is forbidden: User "..." cannot get resource "pods" in API group "" in the namespace "attendee-02"`.
fn forbidden(
    who: &Identity,
    verb: &str,
    rt: &ResourceType,
    resource: &str,
    ns: Option<&str>,
    name: Option<&str>,
) -> ApiError {
    let what = match name {
        Some(n) => format!("{} \"{n}\"", rt.qualified()),
        None => rt.qualified(),
    };
    let scope = match ns {
        Some(ns) => format!("in the namespace \"{ns}\""),
        None => "at the cluster scope".to_string(),
    };
    ApiError::forbidden(format!(
        "{what} is forbidden: User \"{}\" cannot {verb} resource \"{resource}\" in API group \"{}\" {scope}",
        user(who),
        rt.group
    ))
}

/// Answer a SelfSubjectAccessReview body: the same object with `status.allowed` filled in.
pub(super) fn self_subject_access_review(who: &Identity, body: &Value) -> ApiResult<Value> {
    let attrs = body.pointer("/spec/resourceAttributes");
    let Some(attrs) = attrs.filter(|a| a.is_object()) else {
        if body.pointer("/spec/nonResourceAttributes").is_some() {
            let mut out = body.clone();
            out["status"] = json!({"allowed": true});
            return Ok(out);
        }
        return Err(ApiError::invalid(
            "authorization.k8s.io",
            "SelfSubjectAccessReview",
            "",
            vec![crate::error::Cause::required("spec.resourceAttributes")],
        ));
    };
    let s = |k: &str| attrs.get(k).and_then(Value::as_str).filter(|v| !v.is_empty());
    let resource = match s("subresource") {
        Some(sub) => format!("{}/{sub}", s("resource").unwrap_or("")),
        None => s("resource").unwrap_or("").to_string(),
    };
    let allowed = allows(who, s("verb").unwrap_or(""), s("group").unwrap_or(""), &resource, s("namespace"), s("name"));
    let mut out = body.clone();
    out["apiVersion"] = json!("authorization.k8s.io/v1");
    out["kind"] = json!("SelfSubjectAccessReview");
    out["metadata"] = json!({"creationTimestamp": null});
    // As RBAC answers: a reason when allowed, none when denied (kubectl then prints a bare "no").
    out["status"] = if allowed {
        json!({"allowed": true, "reason": "allowed by the kubetutor sandbox"})
    } else {
        json!({"allowed": false})
    };
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attendee() -> Identity {
        Identity::Attendee { namespace: "attendee-01".into() }
    }

    #[test]
    fn an_attendee_stays_in_its_namespace() {
        let a = attendee();
        assert!(allows(&a, "create", "apps", "statefulsets", Some("attendee-01"), None));
        assert!(allows(&a, "get", "", "pods/log", Some("attendee-01"), Some("web-0")));
        assert!(!allows(&a, "list", "", "pods", Some("attendee-02"), None));
        assert!(!allows(&a, "list", "", "pods", None, None), "all namespaces");
        assert!(allows(&a, "get", "", "namespaces", None, Some("attendee-01")));
        assert!(!allows(&a, "get", "", "namespaces", None, Some("attendee-02")));
        assert!(!allows(&a, "delete", "", "namespaces", None, Some("attendee-01")));
        assert!(allows(&a, "list", "storage.k8s.io", "storageclasses", None, None));
        assert!(!allows(&a, "create", "storage.k8s.io", "storageclasses", None, None));
        assert!(!allows(&a, "list", "", "nodes", None, None));
        assert!(allows(&Identity::Admin, "delete", "", "nodes", None, Some("x")));
        // `kubectl auth can-i '*' '*'`: no rule of the attendee Role says `*`.
        assert!(!allows(&a, "*", "*", "*", Some("attendee-01"), None));
        assert!(!allows(&a, "*", "", "pods", Some("attendee-01"), None));
        assert!(!allows(&a, "get", "", "*", Some("attendee-01"), None));
        assert!(allows(&Identity::Admin, "*", "*", "*", None, None));
    }

    #[test]
    fn access_review_answers_for_the_caller() {
        let body =
            json!({"spec": {"resourceAttributes": {"verb": "list", "resource": "pods", "namespace": "attendee-02"}}});
        let out = self_subject_access_review(&attendee(), &body).unwrap();
        assert_eq!(out["status"]["allowed"], json!(false));
        let out = self_subject_access_review(&Identity::Admin, &body).unwrap();
        assert_eq!(out["status"]["allowed"], json!(true));
        assert!(self_subject_access_review(&attendee(), &json!({"spec": {}})).is_err());
    }
}
