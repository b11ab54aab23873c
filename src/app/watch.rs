//! What the watch pane shows, derived from the latest [`Snapshot`]: pod rows with STATUS as
//! kubectl derives it, ages, the StatefulSet status, PVC rows, and a line saying what the
//! StatefulSet controller is waiting for. Pure functions, so the pane and tests share them.

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;

use crate::cluster::snapshot::{is_ready, ordinal, pod_status};
use crate::cluster::Snapshot;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodRow {
    pub name: String,
    pub ready: String,
    pub status: String,
    pub restarts: i32,
    pub created: Option<jiff::Timestamp>,
    pub image: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PvcRow {
    pub name: String,
    pub status: String,
    pub volume: String,
    pub capacity: String,
}

/// The owning StatefulSet and ordinal of a pod, if it has one.
fn set_ordinal(pod: &Pod) -> Option<(String, u32)> {
    let owner = pod.owner_references().iter().find(|o| o.kind == "StatefulSet")?;
    Some((owner.name.clone(), ordinal(&pod.name_any(), &owner.name)?))
}

/// Pods, StatefulSet pods first by set and ordinal (web-2 before web-10), then the rest by name.
pub fn pod_rows(snapshot: &Snapshot) -> Vec<PodRow> {
    let mut pods: Vec<&Pod> = snapshot.pods.values().collect();
    pods.sort_by_key(|p| match set_ordinal(p) {
        Some((set, n)) => (0, set, n, String::new()),
        None => (1, String::new(), 0, p.name_any()),
    });
    pods.into_iter().map(pod_row).collect()
}

pub fn pod_row(pod: &Pod) -> PodRow {
    let spec_containers = pod.spec.as_ref().map(|s| s.containers.len()).unwrap_or(0);
    let statuses = pod.status.as_ref().and_then(|s| s.container_statuses.as_ref());
    let ready = statuses.map(|cs| cs.iter().filter(|c| c.ready).count()).unwrap_or(0);
    let restarts = statuses.map(|cs| cs.iter().map(|c| c.restart_count).sum()).unwrap_or(0);
    PodRow {
        name: pod.name_any(),
        ready: format!("{ready}/{spec_containers}"),
        status: pod_status(pod),
        restarts,
        created: pod.metadata.creation_timestamp.as_ref().map(|t| t.0),
        image: pod.spec.as_ref().and_then(|s| s.containers.first()).and_then(|c| c.image.clone()).unwrap_or_default(),
    }
}

/// An age the way kubectl prints it: `45s`, `3m20s`, `17m`, `2h5m`, `3d`.
pub fn age(from: Option<jiff::Timestamp>, now: jiff::Timestamp) -> String {
    let Some(from) = from else { return "<unknown>".into() };
    let secs = (now.as_second() - from.as_second()).max(0);
    let (m, h, d) = (secs / 60, secs / 3600, secs / 86400);
    if secs < 120 {
        format!("{secs}s")
    } else if m < 10 {
        let s = secs % 60;
        if s == 0 {
            format!("{m}m")
        } else {
            format!("{m}m{s}s")
        }
    } else if h < 3 {
        format!("{m}m")
    } else if h < 8 {
        format!("{h}h{}m", m % 60)
    } else if h < 48 {
        format!("{h}h")
    } else {
        format!("{d}d")
    }
}

pub fn pvc_rows(snapshot: &Snapshot) -> Vec<PvcRow> {
    snapshot
        .pvcs
        .values()
        .map(|c| PvcRow {
            name: c.name_any(),
            status: c.status.as_ref().and_then(|s| s.phase.clone()).unwrap_or_else(|| "Pending".into()),
            volume: c.spec.as_ref().and_then(|s| s.volume_name.clone()).unwrap_or_default(),
            capacity: c
                .status
                .as_ref()
                .and_then(|s| s.capacity.as_ref())
                .and_then(|m| m.get("storage"))
                .map(|q| q.0.clone())
                .unwrap_or_default(),
        })
        .collect()
}

fn replicas(s: &StatefulSet) -> i32 {
    s.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
}

fn partition(s: &StatefulSet) -> i32 {
    s.spec
        .as_ref()
        .and_then(|s| s.update_strategy.as_ref())
        .and_then(|u| u.rolling_update.as_ref())
        .and_then(|r| r.partition)
        .unwrap_or(0)
}

/// `web: 2/3 ready · revision web-5c9 → web-7d8 · partition 2`.
pub fn set_status(s: &StatefulSet) -> String {
    let st = s.status.clone().unwrap_or_default();
    let ready = st.ready_replicas.unwrap_or(0);
    let cur = st.current_revision.unwrap_or_default();
    let upd = st.update_revision.unwrap_or_default();
    let revision =
        if cur == upd || upd.is_empty() { format!("revision {cur}") } else { format!("revision {cur} → {upd}") };
    let mut line = format!("{}: {ready}/{} ready · {revision}", s.name_any(), replicas(s));
    if partition(s) > 0 {
        line.push_str(&format!(" · partition {}", partition(s)));
    }
    line
}

/// What the StatefulSet controller waits for right now, in one line per set.
pub fn controller_waits(snapshot: &Snapshot) -> Vec<String> {
    snapshot.statefulsets.values().map(|s| waits_of(snapshot, s)).collect()
}

fn waits_of(snapshot: &Snapshot, s: &StatefulSet) -> String {
    let name = s.name_any();
    let want = replicas(s).max(0) as u32;
    let pods = snapshot.pods_of(&name);
    let parallel = s.spec.as_ref().and_then(|s| s.pod_management_policy.as_deref()) == Some("Parallel");
    if let Some((_, p)) = pods.iter().find(|(_, p)| p.metadata.deletion_timestamp.is_some()) {
        return format!("{name}: waits for {} to terminate before going on", p.name_any());
    }
    if let Some((n, _)) = pods.iter().rev().find(|(n, _)| *n >= want) {
        return format!("{name}: scaling down, {name}-{n} goes first (highest ordinal)");
    }
    if parallel {
        let ready = pods.iter().filter(|(_, p)| is_ready(p)).count();
        return format!("{name}: Parallel policy, {ready}/{want} Ready, pods start together");
    }
    for ord in 0..want {
        match pods.iter().find(|(n, _)| *n == ord) {
            None => return format!("{name}: creating {name}-{ord} next"),
            Some((_, p)) if crate::checks::util::stuck_on_old_revision(s, p) => {
                let pod = p.name_any();
                return format!(
                    "{name}: {pod} is stuck on the old revision (never Ready), and the controller does not replace it: :delete pod {pod}"
                );
            }
            Some((_, p)) if !is_ready(p) => {
                let next = ord + 1;
                return if next < want && !pods.iter().any(|(n, _)| *n == next) {
                    format!("{name}-{next} waits for {name}-{ord} to be Ready")
                } else {
                    format!("{name}: waiting for {name}-{ord} to be Ready")
                };
            }
            Some(_) => {}
        }
    }
    let st = s.status.clone().unwrap_or_default();
    match (st.current_revision, st.update_revision) {
        (Some(c), Some(u)) if c != u => {
            let stale: Vec<String> = pods
                .iter()
                .filter(|(n, p)| *n as i32 >= partition(s) && p.labels().get("controller-revision-hash") != Some(&u))
                .map(|(_, p)| p.name_any())
                .collect();
            match stale.last() {
                Some(p) => format!("{name}: rolling update to {u}, {p} is next (highest ordinal first)"),
                None if partition(s) > 0 => {
                    format!("{name}: pods below partition {} stay on {c} (canary done)", partition(s))
                }
                None => format!("{name}: finishing the rolling update to {u}"),
            }
        }
        _ => format!("{name}: all {want} pods Ready, nothing to do"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    pub(crate) fn pod(name: &str, value: serde_json::Value) -> Pod {
        let mut v = json!({
            "metadata": {"name": name, "uid": name, "creationTimestamp": "2026-01-01T00:00:00Z",
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "uid": "s"}]},
            "spec": {"containers": [{"name": "nginx", "image": "nginx:mainline"}],
                     "initContainers": [{"name": "setup", "image": "alpine:3.8"}]},
        });
        v["status"] = value;
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn status_column_follows_kubectl() {
        let init_running = json!({"phase": "Pending", "initContainerStatuses": [
            {"name": "setup", "image": "a", "imageID": "", "ready": false, "restartCount": 0,
             "state": {"running": {}}}]});
        assert_eq!(pod_status(&pod("web-0", init_running)), "Init:0/1");
        let pull = json!({"phase": "Pending", "initContainerStatuses": [
            {"name": "setup", "image": "a", "imageID": "", "ready": false, "restartCount": 0,
             "state": {"waiting": {"reason": "ErrImagePull"}}}]});
        assert_eq!(pod_status(&pod("web-0", pull)), "Init:ErrImagePull");
        let pod_init = json!({"phase": "Pending", "initContainerStatuses": [
            {"name": "setup", "image": "a", "imageID": "", "ready": false, "restartCount": 0,
             "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}],
            "containerStatuses": [{"name": "nginx", "image": "n", "imageID": "", "ready": false, "restartCount": 0,
             "state": {"waiting": {"reason": "PodInitializing"}}}]});
        assert_eq!(pod_status(&pod("web-0", pod_init)), "PodInitializing");
        let running = json!({"phase": "Running", "containerStatuses": [{"name": "nginx", "image": "n",
             "imageID": "", "ready": true, "restartCount": 2, "state": {"running": {}}}]});
        let p = pod("web-0", running);
        assert_eq!(pod_status(&p), "Running");
        let row = pod_row(&p);
        assert_eq!((row.ready.as_str(), row.restarts), ("1/1", 2));
        let mut gone = p.clone();
        gone.metadata.deletion_timestamp = gone.metadata.creation_timestamp.clone();
        assert_eq!(pod_status(&gone), "Terminating");
        assert_eq!(pod_status(&pod("web-0", json!({}))), "Pending");
    }

    #[test]
    fn ages_read_like_kubectl() {
        let t0 = jiff::Timestamp::from_second(1_000_000).unwrap();
        let at = |s: i64| jiff::Timestamp::from_second(1_000_000 + s).unwrap();
        assert_eq!(age(Some(t0), at(45)), "45s");
        assert_eq!(age(Some(t0), at(200)), "3m20s");
        assert_eq!(age(Some(t0), at(17 * 60)), "17m");
        assert_eq!(age(Some(t0), at(4 * 3600 + 60)), "4h1m");
        assert_eq!(age(Some(t0), at(3 * 86400)), "3d");
        assert_eq!(age(None, at(0)), "<unknown>");
    }

    #[test]
    fn the_controller_waits_for_the_previous_pod() {
        let mut snap = Snapshot::default();
        let sts: StatefulSet = serde_json::from_value(json!({
            "metadata": {"name": "web"}, "spec": {"replicas": 3, "serviceName": "nginx",
            "selector": {}, "template": {}}}))
        .unwrap();
        snap.statefulsets.insert("web".into(), sts);
        assert_eq!(controller_waits(&snap), vec!["web: creating web-0 next"]);
        snap.pods.insert("web-0".into(), pod("web-0", json!({"phase": "Pending"})));
        assert_eq!(controller_waits(&snap), vec!["web-1 waits for web-0 to be Ready"]);
        let ready = json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]});
        snap.pods.insert("web-0".into(), pod("web-0", ready.clone()));
        snap.pods.insert("web-10".into(), pod("web-10", ready.clone()));
        snap.pods.insert("web-2".into(), pod("web-2", ready));
        let names: Vec<String> = pod_rows(&snap).into_iter().map(|r| r.name).collect();
        assert_eq!(names, ["web-0", "web-2", "web-10"]);
        assert_eq!(controller_waits(&snap), vec!["web: scaling down, web-10 goes first (highest ordinal)"]);
        snap.pods.remove("web-10");
        assert_eq!(controller_waits(&snap), vec!["web: creating web-1 next"]);
    }
}
