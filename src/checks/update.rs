//! `canary` and `rollout_complete`: a partitioned rolling update seen in the objects and, for
//! what is over by now (the canary, the order of the update), in the recorded history.

use std::collections::BTreeMap;

use kube::ResourceExt;

use super::params::{CanaryParams, RolloutParams};
use super::util::{
    created, current_revision, not_yet, partition, pod_image, pod_revision, ready_pods, spec_replicas, sts_object,
    template_image, update_revision,
};
use crate::checks::Outcome;
use crate::cluster::snapshot::{is_ready, ordinal};
use crate::cluster::{EntryKind, History, Snapshot};

const IMAGE_FIELD: &str = "spec.template.spec.containers[0].image";
const PARTITION_FIELD: &str = "spec.updateStrategy.rollingUpdate.partition";

/// Whether the history shows a pod at or above the partition created with the new image while
/// the partition held and no pod below it had that image.
pub fn canary_seen(p: &CanaryParams, history: &History) -> bool {
    let mut current_partition = 0;
    let mut images: BTreeMap<u32, String> = BTreeMap::new();
    for e in &history.entries {
        match (&e.kind, e.kind_of_object) {
            (EntryKind::SetPartitionChanged { to, .. }, "StatefulSet") if e.name == p.statefulset => {
                current_partition = *to;
            }
            (EntryKind::SetCreated { .. }, "StatefulSet") if e.name == p.statefulset => current_partition = 0,
            (EntryKind::PodCreated { image, .. }, "Pod") => {
                let Some(n) = ordinal(&e.name, &p.statefulset) else { continue };
                let image = image.clone().unwrap_or_default();
                let below_clean = images.iter().filter(|(o, _)| (**o as i32) < p.partition).all(|(_, i)| *i != p.image);
                if image == p.image && n as i32 >= p.partition && current_partition >= p.partition && below_clean {
                    return true;
                }
                images.insert(n, image);
            }
            _ => {}
        }
    }
    false
}

pub fn canary(p: &CanaryParams, snapshot: &Snapshot, history: &History) -> Outcome {
    if canary_seen(p, history) {
        return Outcome::Pass;
    }
    let object = sts_object(&p.statefulset);
    let Some(sts) = snapshot.statefulsets.get(&p.statefulset) else {
        return not_yet(format!("there is no StatefulSet {:?}", p.statefulset), &object, None, None);
    };
    let replicas = spec_replicas(sts);
    if replicas <= p.partition {
        return not_yet(
            format!(
                "spec.replicas is {replicas}: with partition {} no pod would be updated; scale up first",
                p.partition
            ),
            &object,
            Some("spec.replicas"),
            None,
        );
    }
    let part = partition(sts);
    let image = template_image(sts).unwrap_or("");
    let patch_partition = format!(
        "kubectl patch statefulset {} -p '{{\"spec\":{{\"updateStrategy\":{{\"type\":\"RollingUpdate\",\"rollingUpdate\":{{\"partition\":{}}}}}}}}}'",
        p.statefulset, p.partition
    );
    if image != p.image {
        if part != p.partition {
            return not_yet(
                format!("{PARTITION_FIELD} is {part}; set it to {} first, so that only the pods from {}-{} up get the new image", p.partition, p.statefulset, p.partition),
                &object,
                Some(PARTITION_FIELD),
                Some(&patch_partition),
            );
        }
        return not_yet(
            format!("the template's image is {image:?}; change it to {:?}", p.image),
            &object,
            Some(IMAGE_FIELD),
            Some(&format!(
                "kubectl patch statefulset {} --type=json -p='[{{\"op\":\"replace\",\"path\":\"/spec/template/spec/containers/0/image\",\"value\":\"{}\"}}]'",
                p.statefulset, p.image
            )),
        );
    }
    let pods = snapshot.pods_of(&p.statefulset);
    let below_new: Vec<String> = pods
        .iter()
        .filter(|(n, pod)| (*n as i32) < p.partition && pod_image(pod) == Some(p.image.as_str()))
        .map(|(_, pod)| pod.name_any())
        .collect();
    let watched = history.entries.iter().any(|e| {
        matches!(&e.kind, EntryKind::PodCreated { image: Some(i), .. } if *i == p.image)
            && ordinal(&e.name, &p.statefulset).is_some()
    });
    if !below_new.is_empty() && !watched {
        return not_yet(
            format!(
                "the update has already reached {}; kubetutor was not watching while only the pods from {}-{} ran {:?}, so it cannot see the canary now",
                below_new.join(", "),
                p.statefulset,
                p.partition,
                p.image
            ),
            &object,
            Some(PARTITION_FIELD),
            Some("Run the canary again with the tutor open: change the image back, set the partition, then change the image."),
        );
    }
    if !below_new.is_empty() {
        return not_yet(
            format!(
                "{} already run {:?}: the update was not held at partition {} (was the image changed before the partition was set?)",
                below_new.join(", "),
                p.image,
                p.partition
            ),
            &object,
            Some(PARTITION_FIELD),
            Some("To try again: change the image back, wait for the pods, set the partition, then change the image."),
        );
    }
    if part < p.partition {
        return not_yet(
            format!("{PARTITION_FIELD} is {part}, so the update will not stop at {}-{}", p.statefulset, p.partition),
            &object,
            Some(PARTITION_FIELD),
            Some(&patch_partition),
        );
    }
    let Some(update) = update_revision(sts) else {
        return Outcome::waiting("waiting for the StatefulSet to record the new revision");
    };
    if current_revision(sts) == Some(update) {
        return Outcome::waiting("waiting for the StatefulSet to start the update");
    }
    for n in p.partition..replicas {
        let name = format!("{}-{n}", p.statefulset);
        match snapshot.pods.get(&name) {
            Some(pod) if pod_revision(pod) == Some(update) && pod_image(pod) == Some(p.image.as_str()) => {
                if !is_ready(pod) {
                    return Outcome::waiting(format!("waiting for {name} on {} to be Ready", p.image));
                }
            }
            _ => return Outcome::waiting(format!("waiting for {name} to be re-created with {}", p.image)),
        }
    }
    Outcome::Pass
}

pub fn rollout_complete(p: &RolloutParams, snapshot: &Snapshot, history: &History) -> Outcome {
    let object = sts_object(&p.statefulset);
    let Some(sts) = snapshot.statefulsets.get(&p.statefulset) else {
        return not_yet(format!("there is no StatefulSet {:?}", p.statefulset), &object, None, None);
    };
    let image = template_image(sts).unwrap_or("");
    if image != p.image {
        return not_yet(
            format!("the template's image is {image:?}, not {:?} yet", p.image),
            &object,
            Some(IMAGE_FIELD),
            None,
        );
    }
    let part = partition(sts);
    if part != 0 {
        return not_yet(
            format!("{PARTITION_FIELD} is {part}: the pods below {}-{part} keep the old version; move it to 0 to update them", p.statefulset),
            &object,
            Some(PARTITION_FIELD),
            Some(&format!(
                "kubectl patch statefulset {} -p '{{\"spec\":{{\"updateStrategy\":{{\"rollingUpdate\":{{\"partition\":0}}}}}}}}'",
                p.statefulset
            )),
        );
    }
    let Some(update) = update_revision(sts) else {
        return Outcome::waiting("waiting for the StatefulSet to record the new revision");
    };
    for n in (0..p.replicas).rev() {
        let name = format!("{}-{n}", p.statefulset);
        match snapshot.pods.get(&name) {
            Some(pod) if pod_revision(pod) == Some(update) && pod_image(pod) == Some(p.image.as_str()) => {}
            _ => return Outcome::waiting(format!("waiting for the update to reach {name}")),
        }
    }
    let pods = match ready_pods(snapshot, &p.statefulset, p.replicas) {
        Ok(pods) => pods,
        Err(o) => return o,
    };
    if current_revision(sts) != Some(update) {
        return Outcome::waiting("waiting for the StatefulSet to mark the update complete (status.currentRevision)");
    }
    // The order: each pod at the new revision was created after the one above it.
    let seq_of = |pod: &k8s_openapi::api::core::v1::Pod| {
        let uid = pod.uid().unwrap_or_default();
        history
            .of_pod(&pod.name_any())
            .find(|e| e.uid == uid && matches!(e.kind, EntryKind::PodCreated { .. }))
            .map(|e| e.seq)
    };
    for n in 1..pods.len() {
        let (lower, upper) = (pods[n - 1], pods[n]);
        let in_order = match (seq_of(lower), seq_of(upper)) {
            (Some(l), Some(u)) => l > u,
            _ => created(&lower.metadata) >= created(&upper.metadata),
        };
        if !in_order {
            return not_yet(
                format!(
                    "{} got the new version before {}: a rolling update goes from the highest ordinal down",
                    lower.name_any(),
                    upper.name_any()
                ),
                &object,
                Some("spec.updateStrategy"),
                Some("Keep updateStrategy RollingUpdate and let the StatefulSet replace the pods itself."),
            );
        }
    }
    Outcome::Pass
}
