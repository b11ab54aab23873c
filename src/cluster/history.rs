//! What happened to the lesson's objects, in the order the tutor saw it: pods created, Ready,
//! terminating, deleted; StatefulSets scaled or given a new template. The watch pane shows it
//! as a timeline and the grader proves order from it (web-1 created only after web-0 Ready).
//! Entries come from comparing the old and new version of each object the watch delivers, so a
//! relist after a reconnect yields the changes missed meanwhile.

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;

use super::snapshot::{is_ready, ready_since};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    /// A pod appeared, at this controller revision with this first container image.
    PodCreated {
        revision: Option<String>,
        image: Option<String>,
    },
    PodReady,
    PodNotReady,
    /// The pod got a deletionTimestamp.
    PodTerminating,
    PodDeleted,
    /// A StatefulSet appeared.
    SetCreated {
        replicas: i32,
    },
    SetScaled {
        from: i32,
        to: i32,
    },
    /// The pod template changed: a new update revision is coming (`image` of the first container).
    SetTemplateChanged {
        image: Option<String>,
    },
    SetPartitionChanged {
        from: i32,
        to: i32,
    },
    SetDeleted,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Position in the history: the order the tutor saw things in.
    pub seq: u64,
    /// When it happened by the object's own timestamps where it has one (creation, Ready
    /// transition), else when the tutor saw it.
    pub at: jiff::Timestamp,
    /// `Pod` or `StatefulSet`.
    pub kind_of_object: &'static str,
    pub name: String,
    pub uid: String,
    pub kind: EntryKind,
}

impl Entry {
    /// A line for the timeline: `created web-0 (nginx:mainline)`, `web-0 Ready`.
    pub fn describe(&self) -> String {
        let n = &self.name;
        match &self.kind {
            EntryKind::PodCreated { image: Some(image), .. } => format!("created {n} ({image})"),
            EntryKind::PodCreated { image: None, .. } => format!("created {n}"),
            EntryKind::PodReady => format!("{n} Ready"),
            EntryKind::PodNotReady => format!("{n} not Ready"),
            EntryKind::PodTerminating => format!("deleting {n}"),
            EntryKind::PodDeleted => format!("{n} gone"),
            EntryKind::SetCreated { replicas } => format!("created statefulset {n} (replicas {replicas})"),
            EntryKind::SetScaled { from, to } => format!("scaled {n} from {from} to {to}"),
            EntryKind::SetTemplateChanged { image: Some(image) } => format!("new template for {n} ({image})"),
            EntryKind::SetTemplateChanged { image: None } => format!("new template for {n}"),
            EntryKind::SetPartitionChanged { from, to } => format!("{n} partition {from} → {to}"),
            EntryKind::SetDeleted => format!("deleted statefulset {n}"),
        }
    }
}

/// The recorded history. `since` is when recording began: the grader falls back to object
/// timestamps for anything older.
#[derive(Debug, Clone)]
pub struct History {
    pub since: jiff::Timestamp,
    pub entries: Vec<Entry>,
    next_seq: u64,
}

impl Default for History {
    fn default() -> Self {
        History::new(jiff::Timestamp::now())
    }
}

fn first_image(pod: &Pod) -> Option<String> {
    pod.spec.as_ref().and_then(|s| s.containers.first()).and_then(|c| c.image.clone())
}

fn set_image(sts: &StatefulSet) -> Option<String> {
    sts.spec.as_ref()?.template.spec.as_ref()?.containers.first()?.image.clone()
}

fn replicas(sts: &StatefulSet) -> i32 {
    sts.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
}

fn partition(sts: &StatefulSet) -> i32 {
    sts.spec
        .as_ref()
        .and_then(|s| s.update_strategy.as_ref())
        .and_then(|u| u.rolling_update.as_ref())
        .and_then(|r| r.partition)
        .unwrap_or(0)
}

impl History {
    pub fn new(since: jiff::Timestamp) -> History {
        History { since, entries: Vec::new(), next_seq: 0 }
    }

    fn push(&mut self, at: jiff::Timestamp, kind_of_object: &'static str, name: String, uid: String, kind: EntryKind) {
        self.entries.push(Entry { seq: self.next_seq, at, kind_of_object, name, uid, kind });
        self.next_seq += 1;
    }

    /// Record what changed between two versions of a pod (`None` = absent). A new UID under the
    /// same name counts as the old pod deleted and a new one created. Returns how many entries
    /// were added (they are the last ones of `entries`).
    pub fn observe_pod(&mut self, before: Option<&Pod>, after: Option<&Pod>, now: jiff::Timestamp) -> usize {
        let start = self.entries.len();
        let before = match (before, after) {
            (Some(b), Some(a)) if b.uid() != a.uid() => {
                self.push(now, "Pod", b.name_any(), b.uid().unwrap_or_default(), EntryKind::PodDeleted);
                None
            }
            _ => before,
        };
        match (before, after) {
            (None, None) => {}
            (Some(b), None) => {
                if b.metadata.deletion_timestamp.is_none() {
                    self.push(now, "Pod", b.name_any(), b.uid().unwrap_or_default(), EntryKind::PodTerminating);
                }
                self.push(now, "Pod", b.name_any(), b.uid().unwrap_or_default(), EntryKind::PodDeleted);
            }
            (b, Some(a)) => {
                let name = a.name_any();
                let uid = a.uid().unwrap_or_default();
                if b.is_none() {
                    let at = a.metadata.creation_timestamp.as_ref().map(|t| t.0).unwrap_or(now);
                    let revision = a.labels().get("controller-revision-hash").cloned();
                    let kind = EntryKind::PodCreated { revision, image: first_image(a) };
                    self.push(at, "Pod", name.clone(), uid.clone(), kind);
                }
                let (was_ready, is_now_ready) = (b.is_some_and(is_ready), is_ready(a));
                if is_now_ready && !was_ready {
                    self.push(ready_since(a).unwrap_or(now), "Pod", name.clone(), uid.clone(), EntryKind::PodReady);
                } else if was_ready && !is_now_ready {
                    self.push(now, "Pod", name.clone(), uid.clone(), EntryKind::PodNotReady);
                }
                let terminating = |p: &Pod| p.metadata.deletion_timestamp.is_some();
                if terminating(a) && !b.is_some_and(terminating) {
                    self.push(now, "Pod", name, uid, EntryKind::PodTerminating);
                }
            }
        }
        self.entries.len() - start
    }

    /// Record what changed between two versions of a StatefulSet. Returns how many entries were added.
    pub fn observe_set(
        &mut self,
        before: Option<&StatefulSet>,
        after: Option<&StatefulSet>,
        now: jiff::Timestamp,
    ) -> usize {
        let start = self.entries.len();
        match (before, after) {
            (None, None) => {}
            (Some(b), None) => {
                self.push(now, "StatefulSet", b.name_any(), b.uid().unwrap_or_default(), EntryKind::SetDeleted);
            }
            (None, Some(a)) => {
                let at = a.metadata.creation_timestamp.as_ref().map(|t| t.0).unwrap_or(now);
                let kind = EntryKind::SetCreated { replicas: replicas(a) };
                self.push(at, "StatefulSet", a.name_any(), a.uid().unwrap_or_default(), kind);
            }
            (Some(b), Some(a)) => {
                let (name, uid) = (a.name_any(), a.uid().unwrap_or_default());
                if b.uid() != a.uid() {
                    self.push(now, "StatefulSet", name.clone(), b.uid().unwrap_or_default(), EntryKind::SetDeleted);
                    self.push(now, "StatefulSet", name, uid, EntryKind::SetCreated { replicas: replicas(a) });
                    return self.entries.len() - start;
                }
                if replicas(b) != replicas(a) {
                    let kind = EntryKind::SetScaled { from: replicas(b), to: replicas(a) };
                    self.push(now, "StatefulSet", name.clone(), uid.clone(), kind);
                }
                if partition(b) != partition(a) {
                    let kind = EntryKind::SetPartitionChanged { from: partition(b), to: partition(a) };
                    self.push(now, "StatefulSet", name.clone(), uid.clone(), kind);
                }
                let template = |s: &StatefulSet| s.spec.as_ref().map(|s| serde_json::to_value(&s.template).ok());
                if template(b) != template(a) {
                    let kind = EntryKind::SetTemplateChanged { image: set_image(a) };
                    self.push(now, "StatefulSet", name, uid, kind);
                }
            }
        }
        self.entries.len() - start
    }

    /// Entries about pod `name`, oldest first.
    pub fn of_pod<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Entry> + 'a {
        self.entries.iter().filter(move |e| e.kind_of_object == "Pod" && e.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(name: &str, uid: &str, ready: bool, terminating: bool) -> Pod {
        let mut v = json!({
            "metadata": {"name": name, "uid": uid, "creationTimestamp": "2026-01-01T00:00:00Z",
                "labels": {"controller-revision-hash": "web-abc"}},
            "spec": {"containers": [{"name": "nginx", "image": "nginx:mainline"}]},
            "status": {"conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"},
                "lastTransitionTime": "2026-01-01T00:00:05Z"}]}
        });
        if terminating {
            v["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:01:00Z");
        }
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_pods_life_in_entries() {
        let mut h = History::new(jiff::Timestamp::UNIX_EPOCH);
        let now = jiff::Timestamp::UNIX_EPOCH;
        let p0 = pod("web-0", "u1", false, false);
        let p1 = pod("web-0", "u1", true, false);
        let p2 = pod("web-0", "u1", true, true);
        let p3 = pod("web-0", "u2", false, false);
        assert_eq!(h.observe_pod(None, Some(&p0), now), 1);
        assert_eq!(h.observe_pod(Some(&p0), Some(&p1), now), 1);
        assert_eq!(h.observe_pod(Some(&p1), Some(&p2), now), 1);
        // The watch missed the deletion: the same name with a new UID.
        assert_eq!(h.observe_pod(Some(&p2), Some(&p3), now), 2);
        let lines: Vec<String> = h.entries.iter().map(Entry::describe).collect();
        assert_eq!(
            lines,
            [
                "created web-0 (nginx:mainline)",
                "web-0 Ready",
                "deleting web-0",
                "web-0 gone",
                "created web-0 (nginx:mainline)"
            ]
        );
        assert_eq!(h.entries[0].at.to_string(), "2026-01-01T00:00:00Z");
        assert_eq!(h.entries[1].at.to_string(), "2026-01-01T00:00:05Z");
        assert_eq!(h.entries[4].uid, "u2");
        assert!(h.entries.windows(2).all(|w| w[0].seq < w[1].seq));
    }

    #[test]
    fn deletion_without_terminating_first() {
        let mut h = History::default();
        let p = pod("web-1", "u1", true, false);
        h.observe_pod(None, Some(&p), jiff::Timestamp::now());
        h.observe_pod(Some(&p), None, jiff::Timestamp::now());
        let kinds: Vec<_> = h.of_pod("web-1").map(|e| e.kind.clone()).collect();
        assert_eq!(kinds[2..], [EntryKind::PodTerminating, EntryKind::PodDeleted]);
    }
}
