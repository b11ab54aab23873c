//! Small readers over Kubernetes objects shared by the checks, and the gate most checks start
//! with: every pod of the StatefulSet exists and is Ready, or an outcome saying why not.

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;

use crate::checks::{Concern, Outcome};
use crate::cluster::snapshot::is_ready;
use crate::cluster::Snapshot;

pub(crate) fn sts_object(name: &str) -> String {
    format!("StatefulSet/{name}")
}

/// A NotYet about `object` (and `field`), with an optional hint.
pub(crate) fn not_yet(reason: impl Into<String>, object: &str, field: Option<&str>, hint: Option<&str>) -> Outcome {
    Outcome::NotYet {
        reason: reason.into(),
        concern: Concern { object: Some(object.to_string()), field: field.map(str::to_string), blank: None },
        hint: hint.map(str::to_string),
    }
}

pub(crate) fn spec_replicas(sts: &StatefulSet) -> i32 {
    sts.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
}

pub(crate) fn partition(sts: &StatefulSet) -> i32 {
    sts.spec
        .as_ref()
        .and_then(|s| s.update_strategy.as_ref())
        .and_then(|u| u.rolling_update.as_ref())
        .and_then(|r| r.partition)
        .unwrap_or(0)
}

pub(crate) fn template_image(sts: &StatefulSet) -> Option<&str> {
    sts.spec.as_ref()?.template.spec.as_ref()?.containers.first()?.image.as_deref()
}

pub(crate) fn claim_names(sts: &StatefulSet) -> Vec<String> {
    sts.spec
        .as_ref()
        .and_then(|s| s.volume_claim_templates.as_ref())
        .map(|ts| ts.iter().map(|t| t.metadata.name.clone().unwrap_or_default()).collect())
        .unwrap_or_default()
}

pub(crate) fn update_revision(sts: &StatefulSet) -> Option<&str> {
    sts.status.as_ref()?.update_revision.as_deref()
}

pub(crate) fn current_revision(sts: &StatefulSet) -> Option<&str> {
    sts.status.as_ref()?.current_revision.as_deref()
}

pub(crate) fn pod_image(pod: &Pod) -> Option<&str> {
    pod.spec.as_ref()?.containers.first()?.image.as_deref()
}

pub(crate) fn pod_revision(pod: &Pod) -> Option<&str> {
    pod.metadata.labels.as_ref()?.get("controller-revision-hash").map(String::as_str)
}

pub(crate) fn pod_ip(pod: &Pod) -> Option<&str> {
    pod.status.as_ref()?.pod_ip.as_deref()
}

pub(crate) fn created(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> Option<jiff::Timestamp> {
    meta.creation_timestamp.as_ref().map(|t| t.0)
}

/// When the pod's Ready condition last changed (to True, for a Ready pod).
pub(crate) fn ready_at(pod: &Pod) -> Option<jiff::Timestamp> {
    crate::cluster::snapshot::ready_since(pod)
}

/// Why a pod cannot get going, when the reason is one the learner must fix: a container
/// waiting on an image pull or crash loop, an init container that failed.
pub(crate) struct PodProblem {
    pub reason: String,
    /// The field of the StatefulSet to look at (`spec.template.spec.containers[0].image`).
    pub field: String,
}

const STUCK: &[&str] = &[
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
    "CrashLoopBackOff",
    "CreateContainerConfigError",
    "RunContainerError",
];

pub(crate) fn pod_problem(pod: &Pod) -> Option<PodProblem> {
    let status = pod.status.as_ref()?;
    let spec = pod.spec.as_ref()?;
    let lists = [
        (
            "initContainers",
            status.init_container_statuses.as_deref().unwrap_or_default(),
            spec.init_containers.as_deref().unwrap_or_default(),
        ),
        ("containers", status.container_statuses.as_deref().unwrap_or_default(), &spec.containers[..]),
    ];
    for (list, statuses, containers) in lists {
        for cs in statuses {
            let index = containers.iter().position(|c| c.name == cs.name).unwrap_or(0);
            let Some(state) = cs.state.as_ref() else { continue };
            if let Some(w) = state.waiting.as_ref() {
                let reason = w.reason.clone().unwrap_or_default();
                if STUCK.contains(&reason.as_str()) {
                    let is_image = reason.contains("Image");
                    let what = match (&w.message, is_image) {
                        (_, true) => format!("cannot pull image {:?} ({reason})", cs.image),
                        (Some(m), false) => format!("container {} is in {reason}: {m}", cs.name),
                        (None, false) => format!("container {} is in {reason}", cs.name),
                    };
                    let field = if is_image {
                        format!("spec.template.spec.{list}[{index}].image")
                    } else {
                        format!("spec.template.spec.{list}[{index}]")
                    };
                    return Some(PodProblem { reason: format!("{} {what}", pod.name_any()), field });
                }
            }
            if list == "initContainers" {
                if let Some(t) = state.terminated.as_ref().filter(|t| t.exit_code != 0) {
                    return Some(PodProblem {
                        reason: format!(
                            "{}: init container {} failed with exit code {} (kubectl logs {} -c {})",
                            pod.name_any(),
                            cs.name,
                            t.exit_code,
                            pod.name_any(),
                            cs.name
                        ),
                        field: format!("spec.template.spec.initContainers[{index}]"),
                    });
                }
            }
        }
    }
    None
}

/// The StatefulSet's last create event, when it is a FailedCreate: its message.
pub(crate) fn failed_create<'a>(snapshot: &'a Snapshot, sts: &str) -> Option<&'a str> {
    let last = snapshot
        .events
        .iter()
        .rev()
        .filter(|e| {
            e.involved_object.kind.as_deref() == Some("StatefulSet") && e.involved_object.name.as_deref() == Some(sts)
        })
        .find(|e| matches!(e.reason.as_deref(), Some("FailedCreate" | "SuccessfulCreate")))?;
    (last.reason.as_deref() == Some("FailedCreate")).then(|| last.message.as_deref().unwrap_or("FailedCreate"))
}

/// The pod field an error message names (`spec.containers[0].volumeMounts[0].name`), as the
/// StatefulSet template field it comes from.
pub(crate) fn template_field_in(message: &str) -> Option<String> {
    let start = message.find("spec.")?;
    let rest = &message[start..];
    let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || "._[]".contains(c))).unwrap_or(rest.len());
    let field = rest[..end].trim_end_matches('.');
    Some(format!("spec.template.{field}"))
}

/// Whether the StatefulSet's update applies to `pod` and it is not at the update revision yet
/// (a pod below the partition keeps the current revision by design; OnDelete replaces nothing
/// by itself).
fn due_for_update(sts: &StatefulSet, pod: &Pod) -> bool {
    let (Some(update), Some(rev)) = (update_revision(sts), pod_revision(pod)) else { return false };
    let ordinal = crate::cluster::snapshot::ordinal(&pod.name_any(), &sts.name_any()).map_or(0, |n| n as i32);
    update != rev && ordinal >= partition(sts)
}

fn on_delete(sts: &StatefulSet) -> bool {
    sts.spec.as_ref().and_then(|s| s.update_strategy.as_ref()).and_then(|u| u.type_.as_deref()) == Some("OnDelete")
}

/// Upstream's "forced rollback" case: `pod` is of an older revision than the template and never
/// became Ready, and an OrderedReady StatefulSet does not replace a pod that is not Ready (it
/// waits for it first). Fixing the template is not enough: the pod must be deleted.
pub fn stuck_on_old_revision(sts: &StatefulSet, pod: &Pod) -> bool {
    let parallel = sts.spec.as_ref().and_then(|s| s.pod_management_policy.as_deref()) == Some("Parallel");
    due_for_update(sts, pod)
        && !on_delete(sts)
        && !parallel
        && !is_ready(pod)
        && pod.metadata.deletion_timestamp.is_none()
}

/// A pod not yet on the revision the StatefulSet is rolling out: waiting for the update, or
/// why it will not come without the learner (a stuck pod of a broken revision, OnDelete).
fn off_revision(sts: &StatefulSet, pod: &Pod, name: &str) -> Option<Outcome> {
    if !due_for_update(sts, pod) || pod.metadata.deletion_timestamp.is_some() {
        return None;
    }
    let object = sts_object(&sts.name_any());
    let old = pod_revision(pod).unwrap_or_default();
    if stuck_on_old_revision(sts, pod) {
        let why = match pod_problem(pod) {
            Some(problem) => problem.reason,
            None => format!("{name} is not Ready"),
        };
        return Some(not_yet(
            format!(
                "{why}; {name} is still the pod of the old revision {old}, made before the template was fixed, and a StatefulSet does not replace a pod that never became Ready"
            ),
            &object,
            None,
            Some(&format!(
                ":delete pod {name}: the StatefulSet then re-creates it from the fixed template (upstream calls this a forced rollback)"
            )),
        ));
    }
    if on_delete(sts) {
        return Some(not_yet(
            format!(
                "{name} runs the old revision {old}, and with updateStrategy OnDelete it is replaced only when deleted"
            ),
            &object,
            Some("spec.updateStrategy.type"),
            Some(&format!(":delete pod {name} to update it, or use updateStrategy RollingUpdate")),
        ));
    }
    Some(Outcome::waiting(format!("waiting for the rolling update to replace {name} (it runs the old revision {old})")))
}

/// Every pod `<sts>-0` .. `<sts>-(replicas-1)`, when all exist and are Ready; else the outcome
/// that explains what is missing (NotYet for a mistake, Waiting for time).
pub(crate) fn ready_pods<'a>(snapshot: &'a Snapshot, sts_name: &str, replicas: i32) -> Result<Vec<&'a Pod>, Outcome> {
    let object = sts_object(sts_name);
    let Some(sts) = snapshot.statefulsets.get(sts_name) else {
        return Err(not_yet(
            format!("there is no StatefulSet {sts_name:?} yet"),
            &object,
            None,
            Some("Apply the StatefulSet from step 1 (:apply in its editor)."),
        ));
    };
    let observed = sts.status.as_ref().and_then(|s| s.observed_generation);
    if let (Some(generation), Some(observed)) = (sts.metadata.generation, observed) {
        if observed < generation {
            return Err(Outcome::waiting(format!(
                "waiting for the StatefulSet controller to take in the change to {sts_name}"
            )));
        }
    }
    let mut pods = Vec::new();
    for n in 0..replicas.max(0) {
        let name = format!("{sts_name}-{n}");
        let Some(pod) = snapshot.pods.get(&name) else {
            if let Some(msg) = failed_create(snapshot, sts_name) {
                let field = template_field_in(msg);
                return Err(not_yet(
                    format!("{name} cannot be created; the StatefulSet reports: {msg}"),
                    &object,
                    field.as_deref(),
                    Some("kubectl describe statefulset shows these events; fix the manifest and apply it again."),
                ));
            }
            if spec_replicas(sts) <= n {
                return Err(not_yet(
                    format!(
                        "spec.replicas is {} but {name} is needed: this step wants {replicas} replicas",
                        spec_replicas(sts)
                    ),
                    &object,
                    Some("spec.replicas"),
                    Some(&format!(":scale statefulset {sts_name} --replicas={replicas}")),
                ));
            }
            return Err(Outcome::waiting(format!("waiting for {name} to be created")));
        };
        if let Some(outcome) = off_revision(sts, pod, &name) {
            return Err(outcome);
        }
        if let Some(problem) = pod_problem(pod) {
            return Err(not_yet(
                problem.reason,
                &object,
                Some(&problem.field),
                Some("Check the name and tag; kubectl describe pod shows the events."),
            ));
        }
        if pod.metadata.deletion_timestamp.is_some() {
            return Err(Outcome::waiting(format!("waiting for {name} to finish terminating and come back")));
        }
        if !is_ready(pod) {
            let claims_pending: Vec<String> = claim_names(sts)
                .iter()
                .map(|c| format!("{c}-{name}"))
                .filter(|c| {
                    snapshot.pvcs.get(c).and_then(|p| p.status.as_ref()).and_then(|s| s.phase.as_deref())
                        != Some("Bound")
                })
                .collect();
            if !claims_pending.is_empty() {
                return Err(Outcome::waiting(format!(
                    "waiting for {name}'s claim {} to be Bound",
                    claims_pending.join(", ")
                )));
            }
            return Err(Outcome::waiting(format!("waiting for {name} to be Ready")));
        }
        pods.push(pod);
    }
    Ok(pods)
}
