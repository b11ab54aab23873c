//! The parameters of each check kind, as a lesson declares them (`kind: dns`, `params:
//! {statefulset: web, ...}`). The loader parses them here, so a typo in a lesson is an error
//! naming the step and field, not a check that silently never passes. A parsed [`Check`] also
//! says whether it needs a probe pod and whether its pass stays (`latches`).

use serde::Deserialize;

use crate::checks::CheckSpec;

/// `headless_service`: the learner's headless Service (whatever its name) is type ClusterIP
/// with clusterIP None, has a selector and a named port whose targetPort is a port name.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceParams {
    /// When this StatefulSet exists, the Service its `spec.serviceName` names is the one
    /// checked (it tells two headless Services apart).
    #[serde(default)]
    pub statefulset: Option<String>,
}

/// `statefulset_spec`: the StatefulSet agrees with itself and with the headless Service its
/// `spec.serviceName` names.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpecParams {
    pub statefulset: String,
    pub replicas: i32,
}

/// `pods_ready`, `ordered_creation`, `pvcs_bound`, `stable_identity`, `scaled`: about the
/// pods `<statefulset>-0` .. `<statefulset>-(replicas-1)`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetParams {
    pub statefulset: String,
    pub replicas: i32,
}

/// `dns`, `http_index`: looked up and fetched from a probe pod, under the Service the
/// StatefulSet's `spec.serviceName` names.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbeParams {
    pub statefulset: String,
    pub replicas: i32,
    /// `http_index`: how many lines of index.html must be the pod's hostname (1 after the first
    /// start, 2 after a restart on the same volume).
    #[serde(default)]
    pub hostname_at_least: Option<usize>,
}

/// `canary`: with this partition, only ordinals >= partition run `image`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CanaryParams {
    pub statefulset: String,
    pub partition: i32,
    pub image: String,
}

/// `rollout_complete`: every pod runs `image` at the update revision, updated from the highest
/// ordinal down.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolloutParams {
    pub statefulset: String,
    pub replicas: i32,
    pub image: String,
}

/// A check with its parameters parsed.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    HeadlessService(ServiceParams),
    StatefulSetSpec(SpecParams),
    PodsReady(SetParams),
    OrderedCreation(SetParams),
    PvcsBound(SetParams),
    Dns(ProbeParams),
    HttpIndex(ProbeParams),
    StableIdentity(SetParams),
    Scaled(SetParams),
    Canary(CanaryParams),
    RolloutComplete(RolloutParams),
}

/// Every check kind a lesson may use, with what it checks (for lessons/README.md and errors).
pub const KINDS: &[(&str, &str)] = &[
    ("headless_service", "a Service with type ClusterIP, clusterIP None, a selector and a named port"),
    ("statefulset_spec", "replicas, serviceName, selector = template labels = Service selector, volume and port names"),
    ("pods_ready", "every pod of the StatefulSet exists and is Ready (explains image pull and create failures)"),
    ("ordered_creation", "each pod was created only after the one before it was Ready"),
    ("pvcs_bound", "a Bound PVC <claim>-<statefulset>-<n> per pod and claim template"),
    ("dns", "each pod's DNS name resolves to its IP, seen from a probe pod"),
    ("http_index", "each pod serves index.html with its hostname, seen from a probe pod"),
    ("stable_identity", "the pods were deleted and came back with the same names, new UIDs, the same PVCs"),
    ("scaled", "spec.replicas and as many Ready pods"),
    ("canary", "only the pods at or above the partition run the new image"),
    ("rollout_complete", "every pod runs the new image, updated from the highest ordinal down"),
];

fn parse_params<T: serde::de::DeserializeOwned>(params: &serde_json::Value) -> Result<T, String> {
    let params = if params.is_null() { serde_json::json!({}) } else { params.clone() };
    serde_json::from_value(params).map_err(|e| e.to_string())
}

fn positive(what: &str, n: i32) -> Result<(), String> {
    if n < 0 {
        return Err(format!("{what} must be 0 or more, got {n}"));
    }
    Ok(())
}

impl Check {
    /// Whether a pass of this check stays: it proves something that happened and is over later
    /// on (the order pods were created in, pods deleted and back with their data, a canary, the
    /// order of a rollout), so the cluster as it is later (a restored sandbox, a later update)
    /// cannot show it again. The other checks are about the cluster as it is, graded live.
    pub fn latches(&self) -> bool {
        match self {
            Check::OrderedCreation(_) | Check::StableIdentity(_) | Check::Canary(_) | Check::RolloutComplete(_) => true,
            Check::HttpIndex(p) => p.hostname_at_least.unwrap_or(1) > 1,
            _ => false,
        }
    }

    /// Parse a check as a lesson declares it; `Err` says what is wrong with the kind or params.
    pub fn parse(spec: &CheckSpec) -> Result<Check, String> {
        let p = &spec.params;
        let check = match spec.kind.as_str() {
            "headless_service" => Check::HeadlessService(parse_params(p)?),
            "statefulset_spec" => Check::StatefulSetSpec(parse_params(p)?),
            "pods_ready" => Check::PodsReady(parse_params(p)?),
            "ordered_creation" => Check::OrderedCreation(parse_params(p)?),
            "pvcs_bound" => Check::PvcsBound(parse_params(p)?),
            "dns" => Check::Dns(parse_params(p)?),
            "http_index" => Check::HttpIndex(parse_params(p)?),
            "stable_identity" => Check::StableIdentity(parse_params(p)?),
            "scaled" => Check::Scaled(parse_params(p)?),
            "canary" => Check::Canary(parse_params(p)?),
            "rollout_complete" => Check::RolloutComplete(parse_params(p)?),
            other => {
                let known: Vec<&str> = KINDS.iter().map(|(k, _)| *k).collect();
                return Err(format!("unknown check kind {other:?}; known kinds: {}", known.join(", ")));
            }
        };
        match &check {
            Check::StatefulSetSpec(s) => positive("replicas", s.replicas)?,
            Check::PodsReady(s)
            | Check::OrderedCreation(s)
            | Check::PvcsBound(s)
            | Check::StableIdentity(s)
            | Check::Scaled(s) => positive("replicas", s.replicas)?,
            Check::Dns(s) | Check::HttpIndex(s) => positive("replicas", s.replicas)?,
            Check::Canary(c) => positive("partition", c.partition)?,
            Check::RolloutComplete(r) => positive("replicas", r.replicas)?,
            Check::HeadlessService(_) => {}
        }
        if let Check::Dns(ProbeParams { hostname_at_least: Some(_), .. }) = &check {
            return Err("hostname_at_least belongs to http_index, not dns".into());
        }
        Ok(check)
    }

    /// Whether the check needs a probe pod's answers (DNS, HTTP).
    pub fn needs_probe(&self) -> bool {
        matches!(self, Check::Dns(_) | Check::HttpIndex(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(kind: &str, params: serde_json::Value) -> CheckSpec {
        CheckSpec { name: "c".into(), kind: kind.into(), params }
    }

    #[test]
    fn parses_each_kind() {
        let c = Check::parse(&spec("dns", json!({"statefulset": "web", "replicas": 2}))).unwrap();
        assert!(c.needs_probe());
        let c = Check::parse(&spec("canary", json!({"statefulset": "web", "partition": 2, "image": "nginx:1.13.12"})));
        assert!(matches!(c, Ok(Check::Canary(CanaryParams { partition: 2, .. }))));
    }

    #[test]
    fn says_what_is_wrong() {
        let e = Check::parse(&spec("dnss", json!({}))).unwrap_err();
        assert!(e.starts_with("unknown check kind \"dnss\"; known kinds: headless_service, statefulset_spec"), "{e}");
        let e = Check::parse(&spec("scaled", json!({"statefulset": "web"}))).unwrap_err();
        assert_eq!(e, "missing field `replicas`");
        let e = Check::parse(&spec("scaled", json!({"statefulset": "web", "replicas": 3, "replica": 3}))).unwrap_err();
        assert!(e.starts_with("unknown field `replica`"), "{e}");
        let e = Check::parse(&spec("scaled", json!({"statefulset": "web", "replicas": -1}))).unwrap_err();
        assert_eq!(e, "replicas must be 0 or more, got -1");
    }
}
