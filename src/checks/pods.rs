//! Checks about the StatefulSet's pods and claims: all Ready, created in order, a Bound claim
//! each, scaled, and the same identity after being deleted (against a [`Baseline`]).

use std::collections::BTreeMap;

use kube::ResourceExt;
use serde::{Deserialize, Serialize};

use super::params::SetParams;
use super::roles::Names;
use super::util::{
    claim_names, created, current_revision, not_yet, partition, ready_at, ready_pods, spec_replicas, sts_object,
    update_revision,
};
use crate::checks::Outcome;
use crate::cluster::{EntryKind, History, Snapshot};

/// Every pod Ready on the revision it should run: after a change of the template, "running"
/// means the rollout is over (status.currentRevision caught up), unless a partition holds
/// the lower ordinals back on purpose.
pub fn pods_ready(p: &SetParams, snapshot: &Snapshot) -> Outcome {
    if let Err(o) = ready_pods(snapshot, &p.statefulset, p.replicas) {
        return o;
    }
    let sts = &snapshot.statefulsets[&p.statefulset];
    let (current, update) = (current_revision(sts), update_revision(sts));
    if partition(sts) == 0 && current.is_some() && update.is_some() && current != update {
        return Outcome::waiting(format!(
            "waiting for {} to finish its rolling update (status.currentRevision is not the update revision yet)",
            p.statefulset
        ));
    }
    Outcome::Pass
}

/// Whether pod `name` was Ready just before history entry `seq`, by the entries about it.
fn ready_before(history: &History, name: &str, seq: u64) -> bool {
    let last = history
        .of_pod(name)
        .filter(|e| e.seq < seq)
        .filter(|e| {
            matches!(
                e.kind,
                EntryKind::PodCreated { .. }
                    | EntryKind::PodReady
                    | EntryKind::PodNotReady
                    | EntryKind::PodTerminating
                    | EntryKind::PodDeleted
            )
        })
        .last();
    matches!(last.map(|e| &e.kind), Some(EntryKind::PodReady))
}

pub fn ordered_creation(p: &SetParams, snapshot: &Snapshot, history: &History) -> Outcome {
    let pods = match ready_pods(snapshot, &p.statefulset, p.replicas) {
        Ok(pods) => pods,
        Err(o) => return o,
    };
    let object = sts_object(&p.statefulset);
    let parallel = snapshot
        .statefulsets
        .get(&p.statefulset)
        .and_then(|s| s.spec.as_ref())
        .and_then(|s| s.pod_management_policy.as_deref())
        == Some("Parallel");
    let out_of_order = |later: &str, earlier: &str| {
        let (reason, hint) = if parallel {
            (
                format!("{later} was created before {earlier} was Ready: spec.podManagementPolicy is Parallel"),
                "Remove podManagementPolicy (the default, OrderedReady, starts the pods one by one); it cannot be changed in place, so delete the StatefulSet and apply again.",
            )
        } else {
            (
                format!("{later} was created before {earlier} was Ready"),
                "Delete the StatefulSet (its PVCs stay) and apply it again, then watch the order.",
            )
        };
        not_yet(reason, &object, parallel.then_some("spec.podManagementPolicy"), Some(hint))
    };
    for n in 1..pods.len() {
        let (earlier, later) = (pods[n - 1], pods[n]);
        let (earlier_name, later_name) = (earlier.name_any(), later.name_any());
        let uid = later.uid().unwrap_or_default();
        let seen = history.of_pod(&later_name).find(|e| e.uid == uid && matches!(e.kind, EntryKind::PodCreated { .. }));
        if let Some(entry) = seen {
            if !ready_before(history, &earlier_name, entry.seq) {
                return out_of_order(&later_name, &earlier_name);
            }
            continue;
        }
        // Not seen by the tutor: judge from the objects' own timestamps.
        let (Some(earlier_created), Some(later_created)) = (created(&earlier.metadata), created(&later.metadata))
        else {
            return Outcome::waiting(format!("waiting for {later_name}'s creation time"));
        };
        // Timestamps have one-second resolution: in the same second, the order is not visible
        // there, and the claims (made in order, before their pods, and kept) decide.
        if earlier_created < later_created {
            match ready_at(earlier) {
                Some(ready) if later_created >= ready => {}
                _ => return out_of_order(&later_name, &earlier_name),
            }
        } else {
            // The earlier ordinal was re-created since (a rolling update goes high to low), or
            // both came in the same second: each first pod's claim was made right before it and is kept, so
            // the claims keep the order.
            let sts = &snapshot.statefulsets[&p.statefulset];
            let Some(claim) = claim_names(sts).into_iter().next() else { continue };
            let claim_time =
                |pod: &str| snapshot.pvcs.get(&format!("{claim}-{pod}")).and_then(|c| created(&c.metadata));
            if let (Some(a), Some(b)) = (claim_time(&earlier_name), claim_time(&later_name)) {
                if b < a {
                    return out_of_order(&later_name, &earlier_name);
                }
            }
        }
    }
    Outcome::Pass
}

pub fn pvcs_bound(p: &SetParams, snapshot: &Snapshot) -> Outcome {
    let object = sts_object(&p.statefulset);
    let Some(sts) = snapshot.statefulsets.get(&p.statefulset) else {
        return not_yet(format!("there is no StatefulSet {:?} yet", p.statefulset), &object, None, None);
    };
    let claims = claim_names(sts);
    if claims.is_empty() {
        return not_yet(
            "spec.volumeClaimTemplates is empty: the pods get no storage of their own",
            &object,
            Some("spec.volumeClaimTemplates"),
            Some("Add a volume claim template as in the starter (1Gi, ReadWriteOnce), named as both volumeMounts name their volume."),
        );
    }
    for n in 0..p.replicas {
        for claim in &claims {
            let name = format!("{claim}-{}-{n}", p.statefulset);
            let Some(pvc) = snapshot.pvcs.get(&name) else {
                return Outcome::waiting(format!("waiting for the PVC {name} to be created"));
            };
            let phase = pvc.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or("Pending");
            if phase != "Bound" {
                return Outcome::waiting(format!(
                    "waiting for the PVC {name} to be Bound (it is {phase}; kubectl describe pvc {name} says why)"
                ));
            }
        }
    }
    Outcome::Pass
}

pub fn scaled(p: &SetParams, snapshot: &Snapshot) -> Outcome {
    let object = sts_object(&p.statefulset);
    let Some(sts) = snapshot.statefulsets.get(&p.statefulset) else {
        return not_yet(format!("there is no StatefulSet {:?}", p.statefulset), &object, None, None);
    };
    if spec_replicas(sts) != p.replicas {
        return not_yet(
            format!("spec.replicas is {}; scale the StatefulSet to {}", spec_replicas(sts), p.replicas),
            &object,
            Some("spec.replicas"),
            Some(&format!(":scale statefulset {} --replicas={}", p.statefulset, p.replicas)),
        );
    }
    match ready_pods(snapshot, &p.statefulset, p.replicas) {
        Ok(_) => Outcome::Pass,
        Err(o) => o,
    }
}

/// The pods and claims of a StatefulSet when a step began, by name → UID, so a later grading
/// can tell the pods were re-created and the claims were not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    pub statefulset: String,
    pub pods: BTreeMap<String, String>,
    pub claims: BTreeMap<String, String>,
}

impl Baseline {
    pub fn capture(snapshot: &Snapshot, statefulset: &str) -> Baseline {
        let pods = snapshot
            .pods_of(statefulset)
            .into_iter()
            .map(|(_, p)| (p.name_any(), p.uid().unwrap_or_default()))
            .collect();
        let claims = match snapshot.statefulsets.get(statefulset) {
            Some(sts) => {
                let prefixes: Vec<String> =
                    claim_names(sts).into_iter().map(|c| format!("{c}-{statefulset}-")).collect();
                snapshot
                    .pvcs
                    .values()
                    .filter(|c| prefixes.iter().any(|p| c.name_any().starts_with(p)))
                    .map(|c| (c.name_any(), c.uid().unwrap_or_default()))
                    .collect()
            }
            None => BTreeMap::new(),
        };
        Baseline { statefulset: statefulset.to_string(), pods, claims }
    }
}

pub fn stable_identity(p: &SetParams, snapshot: &Snapshot, history: &History, baseline: Option<&Baseline>) -> Outcome {
    let object = sts_object(&p.statefulset);
    let baseline = baseline.filter(|b| b.statefulset == p.statefulset);
    let names = Names::of(snapshot, &p.statefulset);
    let delete_hint = &format!("Delete the pods (:delete pod {}) and watch them come back.", names.pod_selector_args());
    // Which pods are still the ones from before, as far as the evidence goes.
    let recreated = |name: &str, uid: &str| -> Option<bool> {
        if let Some(old) = baseline.and_then(|b| b.pods.get(name)) {
            return Some(old != uid);
        }
        let deleted = history.of_pod(name).any(|e| e.uid != uid && matches!(e.kind, EntryKind::PodDeleted));
        if deleted {
            return Some(true);
        }
        None
    };
    // The pods must be back first; before that, say which are still the old ones.
    for n in 0..p.replicas {
        let name = format!("{}-{n}", p.statefulset);
        if let Some(pod) = snapshot.pods.get(&name) {
            let uid = pod.uid().unwrap_or_default();
            if recreated(&name, &uid) == Some(false) && pod.metadata.deletion_timestamp.is_none() {
                return not_yet(
                    format!("{name} is still the pod from before (same UID {uid})"),
                    &object,
                    None,
                    Some(delete_hint),
                );
            }
        }
    }
    let pods = match ready_pods(snapshot, &p.statefulset, p.replicas) {
        Ok(pods) => pods,
        Err(o) => return o,
    };
    let sts = &snapshot.statefulsets[&p.statefulset];
    let claims = claim_names(sts);
    for pod in pods {
        let name = pod.name_any();
        let uid = pod.uid().unwrap_or_default();
        let is_new = match recreated(&name, &uid) {
            Some(v) => v,
            // No record of the pod from before: a pod created after its claim was not the
            // first to use it.
            None => {
                claims
                    .first()
                    .and_then(|c| snapshot.pvcs.get(&format!("{c}-{name}")))
                    .and_then(|c| created(&c.metadata))
                    < created(&pod.metadata)
            }
        };
        if !is_new {
            return not_yet(
                format!("{name} has not been deleted and re-created yet"),
                &object,
                None,
                Some(delete_hint),
            );
        }
        for claim in &claims {
            let claim_name = format!("{claim}-{name}");
            let current = snapshot.pvcs.get(&claim_name).and_then(ResourceExt::uid);
            if let Some(old) = baseline.and_then(|b| b.claims.get(&claim_name)) {
                if current.as_deref() != Some(old.as_str()) {
                    return not_yet(
                        format!(
                            "the PVC {claim_name} is not the one from before (it was deleted): {name} lost its data"
                        ),
                        &format!("PersistentVolumeClaim/{claim_name}"),
                        None,
                        Some("Delete only the pods; a StatefulSet keeps their claims for them."),
                    );
                }
            }
            let mounted = pod.spec.as_ref().and_then(|s| s.volumes.as_ref()).is_some_and(|vs| {
                vs.iter().any(|v| v.persistent_volume_claim.as_ref().is_some_and(|c| c.claim_name == claim_name))
            });
            if !mounted {
                return not_yet(
                    format!("{name} does not use the PVC {claim_name}"),
                    &format!("Pod/{name}"),
                    Some("spec.volumes"),
                    None,
                );
            }
        }
    }
    Outcome::Pass
}
