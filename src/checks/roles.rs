//! The learner's objects found by the part they play, not by a name the lesson fixes: the
//! exercise lets the learner name the headless Service and choose its labels, so the checks
//! look for "the headless Service" (in step 0: the Service(s) of the namespace without a
//! cluster IP; once the StatefulSet exists: the one its `spec.serviceName` names) and read the
//! labels from the learner's own selector. [`Names`] carries the names found, for messages,
//! hints and the `{{service}}`-style placeholders of the lesson text.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::Service;
use kube::ResourceExt;

use crate::cluster::Snapshot;

/// The API server's own Service in the `default` namespace: never the learner's.
const API_SERVICE: &str = "kubernetes";

pub(crate) fn is_headless(svc: &Service) -> bool {
    svc.spec.as_ref().and_then(|s| s.cluster_ip.as_deref()) == Some("None")
}

pub(crate) fn cluster_ip(svc: &Service) -> &str {
    svc.spec.as_ref().and_then(|s| s.cluster_ip.as_deref()).unwrap_or("")
}

/// The Services a learner may have meant as the headless Service: every Service of the
/// namespace but the API server's own.
fn learner_services(snapshot: &Snapshot) -> impl Iterator<Item = &Service> {
    snapshot.services.values().filter(|s| s.name_any() != API_SERVICE || is_headless(s))
}

/// The StatefulSet's `spec.serviceName` (empty when not set).
pub(crate) fn service_name(sts: &StatefulSet) -> &str {
    sts.spec.as_ref().and_then(|s| s.service_name.as_deref()).unwrap_or("")
}

/// What the search for the headless Service found.
#[derive(Debug)]
pub(crate) enum Found<'a> {
    /// The one Service the lesson is about (headless or not: the check says what is wrong).
    One(&'a Service),
    /// Several headless Services and no StatefulSet naming one of them.
    Several(Vec<&'a Service>),
    /// No Service at all (besides the API server's).
    Nothing,
}

/// The Service of the lesson: the one `spec.serviceName` of `statefulset` names when that
/// exists; else the only headless Service; else, with no headless Service, the only other
/// Service (so its check can say it has a cluster IP).
pub(crate) fn lesson_service<'a>(snapshot: &'a Snapshot, statefulset: Option<&str>) -> Found<'a> {
    if let Some(sts) = statefulset.and_then(|n| snapshot.statefulsets.get(n)) {
        if let Some(svc) = snapshot.services.get(service_name(sts)) {
            return Found::One(svc);
        }
    }
    let (headless, others): (Vec<&Service>, Vec<&Service>) = learner_services(snapshot).partition(|s| is_headless(s));
    match (headless.as_slice(), others.as_slice()) {
        ([one], _) => Found::One(one),
        ([], []) => Found::Nothing,
        ([], [one]) => Found::One(one),
        ([], _) => Found::Several(others),
        _ => Found::Several(headless),
    }
}

/// Names of `services`, quoted and joined: `"a", "b"`.
pub(crate) fn quoted_names(services: &[&Service]) -> String {
    services.iter().map(|s| format!("{:?}", s.name_any())).collect::<Vec<_>>().join(", ")
}

/// `key=value,key=value`, as `kubectl -l` takes it.
pub(crate) fn selector_text(labels: &BTreeMap<String, String>) -> String {
    labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",")
}

/// The learner's names as far as the cluster shows them, with the reference solution's where
/// the cluster has nothing yet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names {
    pub statefulset: String,
    /// The headless Service's name.
    pub service: String,
    /// The pods' selector, `key=value[,key=value]`.
    pub selector: String,
}

impl Names {
    /// The names in `snapshot` for `statefulset`; `defaults` fills what the cluster does not
    /// show yet.
    pub fn find(snapshot: &Snapshot, defaults: &Names) -> Names {
        let sts = snapshot.statefulsets.get(&defaults.statefulset);
        let service = match sts.map(service_name).filter(|n| !n.is_empty()) {
            Some(name) => name.to_string(),
            None => match lesson_service(snapshot, None) {
                Found::One(svc) => svc.name_any(),
                _ => defaults.service.clone(),
            },
        };
        let from_sts =
            sts.and_then(|s| s.spec.as_ref()).and_then(|s| s.selector.match_labels.clone()).filter(|l| !l.is_empty());
        let from_service = || {
            snapshot
                .services
                .get(&service)
                .and_then(|s| s.spec.as_ref())
                .and_then(|s| s.selector.clone())
                .filter(|l| !l.is_empty())
        };
        let selector = from_sts.or_else(from_service).map(|l| selector_text(&l)).unwrap_or(defaults.selector.clone());
        Names { statefulset: defaults.statefulset.clone(), service, selector }
    }

    /// The names of the learner's objects for a check about `statefulset`, from the cluster
    /// alone (the selector may be empty when neither the StatefulSet nor a Service has one).
    pub(crate) fn of(snapshot: &Snapshot, statefulset: &str) -> Names {
        Names::find(
            snapshot,
            &Names {
                statefulset: statefulset.into(),
                service: "<your headless Service>".into(),
                selector: String::new(),
            },
        )
    }

    /// `-l key=value`, or the StatefulSet's pods by name when no selector is known.
    pub fn pod_selector_args(&self) -> String {
        if self.selector.is_empty() {
            format!("{0}-0 {0}-1", self.statefulset)
        } else {
            format!("-l {}", self.selector)
        }
    }

    /// `text` with `{{statefulset}}`, `{{service}}` and `{{selector}}` replaced.
    pub fn fill(&self, text: &str) -> String {
        if !text.contains("{{") {
            return text.to_string();
        }
        text.replace("{{statefulset}}", &self.statefulset)
            .replace("{{service}}", &self.service)
            .replace("{{selector}}", &self.selector)
    }
}

/// The placeholders [`Names::fill`] knows, for the lesson loader.
pub const PLACEHOLDERS: &[&str] = &["statefulset", "service", "selector"];
