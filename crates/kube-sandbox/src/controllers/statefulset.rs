//! The StatefulSet controller, after upstream's stateful_set_control.go: ordered (or parallel)
//! creation with claims made first, scale-down from the highest ordinal, re-creation of deleted
//! and failed pods, revisions, RollingUpdate from the top down to the partition, OnDelete, claim
//! retention, and the status fields at every step. Which pods and ControllerRevisions are the
//! set's follows upstream's ControllerRefManager (`ClaimPods`, `ClaimControllerRevisions` in
//! pkg/controller/controller_ref_manager.go): an orphan that matches the selector (a pod only
//! when its name is one of the set's, `isMemberOf`) is adopted, an owned one that stopped
//! matching is released, and nothing is adopted by a set or from a pod that is being deleted.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use serde_json::{json, Value};

use super::driver::{Action, Reconciler, Trigger};
use super::revision::{self, new_revision, template_of};
use super::unless_gone;
use crate::admission;
use crate::clock::parse_time;
use crate::error::ApiError;
use crate::events::{Involved, Recorder, STATEFULSET_CONTROLLER};
use crate::resources::kinds;
use crate::selector::LabelSelector;
use crate::store::{name_of, namespace_of, uid_of, DeleteOpts, Obj, PodMeta, Store, UpdateScope};

type Key = (String, String);

/// The controller, run by the driver.
pub(crate) struct StatefulSets {
    store: Store,
    recorder: Recorder,
}

impl StatefulSets {
    pub(crate) fn new(store: Store, recorder: Recorder) -> Self {
        StatefulSets { store, recorder }
    }

    fn set_changed(&self, o: &Obj, out: &mut Vec<Key>) {
        out.push((o.namespace().to_string(), o.name().to_string()));
    }

    /// A pod or claim asks its owning sets to look; an orphan pod, the sets of its name's
    /// prefix (one of them may adopt it).
    fn dependent_changed(&self, o: &Obj, out: &mut Vec<Key>) {
        for r in o.meta().owners.iter().filter(|r| &*r.kind == "StatefulSet") {
            out.push((o.namespace().to_string(), r.name.to_string()));
        }
        if o.meta().pod.is_some() && !o.meta().owners.iter().any(|r| r.controller) {
            if let Some((set, ord)) = o.name().rsplit_once('-') {
                if ord.parse::<u32>().is_ok() {
                    out.push((o.namespace().to_string(), set.to_string()));
                }
            }
        }
    }
}

impl Reconciler for StatefulSets {
    type Key = Key;
    const NAME: &'static str = "statefulset";
    const PACED: bool = true;

    fn store(&self) -> &Store {
        &self.store
    }

    fn triggers(&self) -> Vec<Trigger<Self>> {
        vec![
            Trigger::new(kinds::statefulsets(), Self::set_changed),
            Trigger::new(kinds::pods(), Self::dependent_changed),
            Trigger::new(kinds::pvcs(), Self::dependent_changed),
        ]
    }

    fn reconcile(&mut self, key: &Key) -> Result<Action, ApiError> {
        self.sync(&key.0, &key.1)
    }
}

/// The ordinal of a pod of `set` (`web-3` -> 3).
fn ordinal(set: &str, pod: &str) -> Option<i64> {
    let (prefix, ord) = pod.rsplit_once('-')?;
    (prefix == set).then(|| ord.parse().ok()).flatten()
}

// Pods are read through their stored summary: a sync of a large set never parses them.

fn revision_of(pod: &Obj) -> &str {
    pod.meta().label("controller-revision-hash").unwrap_or("")
}

fn terminating(o: &Obj) -> bool {
    o.meta().deleting
}

fn pod_meta(pod: &Obj) -> Option<&PodMeta> {
    pod.meta().pod.as_deref()
}

fn running_and_ready(pod: &Obj) -> bool {
    pod_meta(pod).is_some_and(|p| &*p.phase == "Running" && p.ready)
}

fn finished(pod: &Obj) -> bool {
    pod_meta(pod).is_some_and(|p| matches!(&*p.phase, "Failed" | "Succeeded"))
}

fn spec_i64(sts: &Value, ptr: &str, default: i64) -> i64 {
    sts.pointer(ptr).and_then(Value::as_i64).unwrap_or(default)
}

impl StatefulSets {
    /// When a pod becomes available (ready for minReadySeconds); `None` when it is. Measured on
    /// the pods' timestamps, so the time is the clock's `now`, whatever the speed.
    fn available_at(&self, pod: &Obj, min_ready: i64) -> Option<jiff::Timestamp> {
        if min_ready <= 0 {
            return None;
        }
        let now = self.store.clock().now();
        let since = pod_meta(pod).and_then(|p| p.ready_since.as_deref()).and_then(parse_time).unwrap_or(now);
        let at = since.checked_add(jiff::SignedDuration::from_secs(min_ready)).unwrap_or(now);
        (at > now).then_some(at)
    }

    fn event(&self, sts: &Value, kind: &str, reason: &str, msg: String) {
        self.recorder.record(STATEFULSET_CONTROLLER, Involved::of(sts), kind, reason, &msg, None);
    }

    /// One reconcile of a StatefulSet; asks to look again when time alone changes things.
    fn sync(&self, ns: &str, name: &str) -> Result<Action, ApiError> {
        let Some(sts) = self.store.get(kinds::statefulsets(), ns, name) else { return Ok(Action::AwaitChange) };
        if terminating(&sts) {
            return Ok(Action::AwaitChange);
        }
        let Ok(selector) = LabelSelector::from_object(sts.pointer("/spec/selector").unwrap_or(&Value::Null)) else {
            return Ok(Action::AwaitChange);
        };
        let candidates = self.store.list(kinds::pods(), Some(ns)).0;
        let pods = self.claim(&sts, kinds::pods(), candidates, &selector, |p| ordinal(name, p.name()).is_some())?;
        let Some((current, update)) = self.revisions(&sts, &pods)? else { return Ok(Action::AwaitChange) };
        let clock = self.store.clock();
        let replicas = spec_i64(&sts, "/spec/replicas", 1).max(0);
        let start = spec_i64(&sts, "/spec/ordinals/start", 0);
        let min_ready = spec_i64(&sts, "/spec/minReadySeconds", 0);
        let parallel = sts.pointer("/spec/podManagementPolicy") == Some(&json!("Parallel"));
        let rolling = sts.pointer("/spec/updateStrategy/type").and_then(Value::as_str) != Some("OnDelete");
        let partition = spec_i64(&sts, "/spec/updateStrategy/rollingUpdate/partition", 0);

        let mut slots: Vec<Option<Obj>> = vec![None; replicas as usize];
        let mut condemned: Vec<(i64, Obj)> = Vec::new();
        for p in &pods {
            match ordinal(name, p.name()) {
                Some(o) if o >= start && o < start + replicas => slots[(o - start) as usize] = Some(p.clone()),
                Some(o) => condemned.push((o, p.clone())),
                None => {}
            }
        }
        condemned.sort_by_key(|c| std::cmp::Reverse(c.0));

        let mut action = Action::AwaitChange;
        'work: {
            // Failed or finished pods are deleted, to be made again.
            for p in slots.iter().flatten() {
                if finished(p) && !terminating(p) {
                    self.event(
                        &sts,
                        "Warning",
                        "RecreatingFailedPod",
                        format!("StatefulSet {ns}/{name} is recreating failed Pod {}", name_of(p)),
                    );
                    self.delete_pod(&sts, p);
                    if !parallel {
                        break 'work;
                    }
                }
            }
            // Create missing pods (and their claims), in order, each waiting for the one before.
            for (i, slot) in slots.iter().enumerate() {
                let ord = start + i as i64;
                match slot {
                    None => {
                        let (rev, template) = if rolling && ord < start + partition {
                            (&current, template_of(&current))
                        } else {
                            (&update, template_of(&update))
                        };
                        if !self.create_pod(&sts, &template, ord, name_of(rev)) {
                            action = action.min(Action::RequeueAfter(Duration::from_secs(10)), clock);
                        }
                        if !parallel {
                            break 'work;
                        }
                    }
                    Some(p) => {
                        if terminating(p) || !running_and_ready(p) {
                            if !parallel {
                                break 'work;
                            }
                            continue;
                        }
                        self.ensure_claims(&sts, ord);
                        if let Some(at) = self.available_at(p, min_ready) {
                            action = action.min(Action::RequeueAt(at), clock);
                            if !parallel {
                                break 'work;
                            }
                        }
                    }
                }
            }
            // Scale down from the highest ordinal, one at a time when ordered.
            for (_, p) in &condemned {
                if terminating(p) {
                    if !parallel {
                        break 'work;
                    }
                    continue;
                }
                self.retain_or_release_claims(&sts, p)?;
                self.delete_pod(&sts, p);
                if !parallel {
                    break 'work;
                }
            }
            // Rolling update from the top down to the partition.
            if rolling {
                for i in (partition.max(0)..replicas).rev() {
                    let Some(p) = &slots[i as usize] else { break 'work };
                    if revision_of(p) != name_of(&update) && !terminating(p) {
                        self.delete_pod(&sts, p);
                        break 'work;
                    }
                    if !running_and_ready(p) {
                        break 'work;
                    }
                }
            }
        }
        self.update_status(&sts, &current, &update, min_ready)?;
        Ok(action)
    }

    /// The objects among `candidates` that are the set's, after adopting the orphans that match
    /// its selector (and pass `member`) and releasing the owned ones that no longer match.
    fn claim(
        &self,
        sts: &Value,
        rt: &'static crate::resources::ResourceType,
        candidates: Vec<Obj>,
        selector: &LabelSelector,
        member: impl Fn(&Obj) -> bool,
    ) -> Result<Vec<Obj>, ApiError> {
        let uid = uid_of(sts);
        let set_deleting = sts.pointer("/metadata/deletionTimestamp").is_some_and(|v| !v.is_null());
        let mut mine = Vec::new();
        for o in candidates {
            let meta = o.meta();
            let controller = meta.owners.iter().find(|r| r.controller);
            let matches = selector.matches_meta(meta) && member(&o);
            match controller {
                Some(r) if &*r.uid == uid => {
                    if matches {
                        mine.push(o);
                    } else if !set_deleting {
                        // Released: it no longer matches (relabelled); no reference is left behind.
                        unless_gone(self.set_owner(rt, &o, None))?;
                    }
                }
                Some(_) => {}
                None if matches && !set_deleting && !meta.deleting => {
                    if let Some(adopted) = unless_gone(self.set_owner(rt, &o, Some(sts)))? {
                        mine.push(adopted);
                    }
                }
                None => {}
            }
        }
        Ok(mine)
    }

    /// Adopt `o` for `sts` (a controller reference added), or release it from its controller
    /// (`None`: the reference removed, and `ownerReferences` with it when none is left).
    fn set_owner(
        &self,
        rt: &'static crate::resources::ResourceType,
        o: &Obj,
        sts: Option<&Value>,
    ) -> Result<Obj, ApiError> {
        let mut new = (**o).clone();
        let refs = new["metadata"]["ownerReferences"].as_array().cloned().unwrap_or_default();
        let mut refs: Vec<Value> = refs.into_iter().filter(|r| r["controller"] != json!(true)).collect();
        if let Some(sts) = sts {
            refs.push(json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "name": name_of(sts),
                "uid": uid_of(sts), "controller": true, "blockOwnerDeletion": true}));
        }
        if let Some(meta) = new["metadata"].as_object_mut() {
            if refs.is_empty() {
                meta.remove("ownerReferences");
            } else {
                meta.insert("ownerReferences".into(), Value::Array(refs));
            }
        }
        admission::update(&self.store, rt, new, UpdateScope::All)
    }

    /// The current and update revisions, creating the update revision when the template is new;
    /// `None` when the set went away meanwhile.
    fn revisions(&self, sts: &Value, pods: &[Obj]) -> Result<Option<(Obj, Obj)>, ApiError> {
        let ns = namespace_of(sts);
        let Ok(selector) = LabelSelector::from_object(sts.pointer("/spec/selector").unwrap_or(&Value::Null)) else {
            return Ok(None);
        };
        let candidates = self.store.list(kinds::controllerrevisions(), Some(ns)).0;
        let mut revs = self.claim(sts, kinds::controllerrevisions(), candidates, &selector, |_| true)?;
        revs.sort_by_key(|r| r["revision"].as_i64().unwrap_or(0));
        let next = revs.last().and_then(|r| r["revision"].as_i64()).unwrap_or(0) + 1;
        let mut collisions = spec_i64(sts, "/status/collisionCount", 0);
        let data = revision::revision_data(sts);
        let update = match revs.iter().rev().find(|r| r["data"] == data) {
            Some(r) if r["revision"].as_i64() == Some(next - 1) => r.clone(),
            Some(r) => {
                // Rolling back to an older template re-uses its revision with a new number.
                let mut bumped = (**r).clone();
                bumped["revision"] = json!(next);
                admission::update(&self.store, kinds::controllerrevisions(), bumped, UpdateScope::All)?
            }
            None => loop {
                let cr = new_revision(sts, next, Some(collisions));
                match admission::create(&self.store, kinds::controllerrevisions(), cr) {
                    Ok(r) => break r,
                    Err(e) if e.reason == "AlreadyExists" => {
                        collisions += 1;
                        let Some(s) = self.store.get(kinds::statefulsets(), ns, name_of(sts)) else { return Ok(None) };
                        let mut s = (*s).clone();
                        s["status"]["collisionCount"] = json!(collisions);
                        admission::update(&self.store, kinds::statefulsets(), s, UpdateScope::Status)?;
                    }
                    Err(e) => return Err(e),
                }
            },
        };
        let current_name = sts.pointer("/status/currentRevision").and_then(Value::as_str).unwrap_or("");
        let current = revs.iter().find(|r| name_of(r) == current_name).cloned().unwrap_or_else(|| update.clone());
        self.truncate_history(sts, &revs, &current, &update, pods)?;
        Ok(Some((current, update)))
    }

    /// Keep at most revisionHistoryLimit revisions no pod uses, besides current and update.
    fn truncate_history(
        &self,
        sts: &Value,
        revs: &[Obj],
        current: &Obj,
        update: &Obj,
        pods: &[Obj],
    ) -> Result<(), ApiError> {
        let limit = spec_i64(sts, "/spec/revisionHistoryLimit", 10).max(0) as usize;
        let live: HashSet<&str> = pods.iter().map(revision_of).chain([name_of(current), name_of(update)]).collect();
        let history: Vec<&Obj> = revs.iter().filter(|r| !live.contains(name_of(r))).collect();
        if history.len() > limit {
            for r in &history[..history.len() - limit] {
                let opts = DeleteOpts::default();
                unless_gone(admission::delete(
                    &self.store,
                    kinds::controllerrevisions(),
                    namespace_of(r),
                    name_of(r),
                    &opts,
                ))?;
            }
        }
        Ok(())
    }

    fn claim_templates(sts: &Value) -> Vec<Value> {
        sts.pointer("/spec/volumeClaimTemplates").and_then(Value::as_array).cloned().unwrap_or_default()
    }

    fn claim_name(template: &Value, set: &str, ord: i64) -> String {
        format!("{}-{set}-{ord}", template.pointer("/metadata/name").and_then(Value::as_str).unwrap_or(""))
    }

    /// Create the pod's missing claims; false when one could not be made.
    fn ensure_claims(&self, sts: &Value, ord: i64) -> bool {
        let ns = namespace_of(sts);
        let set = name_of(sts);
        let pod = format!("{set}-{ord}");
        let mut ok = true;
        for t in Self::claim_templates(sts) {
            let claim = Self::claim_name(&t, set, ord);
            if self.store.get(kinds::pvcs(), ns, &claim).is_some() {
                continue;
            }
            let mut labels = t.pointer("/metadata/labels").cloned().unwrap_or_else(|| json!({}));
            if let Some(m) = sts.pointer("/spec/selector/matchLabels").and_then(Value::as_object) {
                for (k, v) in m {
                    labels[k] = v.clone();
                }
            }
            let mut meta = json!({"name": claim, "namespace": ns, "labels": labels});
            if let Some(a) = t.pointer("/metadata/annotations") {
                meta["annotations"] = a.clone();
            }
            if sts.pointer("/spec/persistentVolumeClaimRetentionPolicy/whenDeleted") == Some(&json!("Delete")) {
                meta["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": set,
                    "uid": uid_of(sts), "controller": true, "blockOwnerDeletion": true}]);
            }
            let pvc = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta,
                             "spec": t.get("spec").cloned().unwrap_or_else(|| json!({}))});
            match admission::create(&self.store, kinds::pvcs(), pvc) {
                Ok(_) => self.event(
                    sts,
                    "Normal",
                    "SuccessfulCreate",
                    format!("create Claim {claim} Pod {pod} in StatefulSet {set} success"),
                ),
                Err(e) => {
                    ok = false;
                    self.event(
                        sts,
                        "Warning",
                        "FailedCreate",
                        format!("create Claim {claim} for Pod {pod} in StatefulSet {set} failed error: {}", e.message),
                    );
                }
            }
        }
        ok
    }

    /// Build and create pod `ord` from `template` at revision `rev`, claims first.
    fn create_pod(&self, sts: &Value, template: &Value, ord: i64, rev: &str) -> bool {
        let ns = namespace_of(sts);
        let set = name_of(sts);
        let pod_name = format!("{set}-{ord}");
        if !self.ensure_claims(sts, ord) {
            return false;
        }
        let mut labels = template.pointer("/metadata/labels").cloned().unwrap_or_else(|| json!({}));
        labels["statefulset.kubernetes.io/pod-name"] = json!(pod_name);
        labels["apps.kubernetes.io/pod-index"] = json!(ord.to_string());
        labels["controller-revision-hash"] = json!(rev);
        let mut meta = json!({
            "name": pod_name, "namespace": ns, "labels": labels,
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": set,
                                 "uid": uid_of(sts), "controller": true, "blockOwnerDeletion": true}],
        });
        if let Some(a) = template.pointer("/metadata/annotations") {
            meta["annotations"] = a.clone();
        }
        let mut spec = template.get("spec").cloned().unwrap_or_else(|| json!({}));
        spec["hostname"] = json!(pod_name);
        if let Some(svc) = sts.pointer("/spec/serviceName").and_then(Value::as_str).filter(|s| !s.is_empty()) {
            spec["subdomain"] = json!(svc);
        }
        let mut volumes: Vec<Value> = spec["volumes"].as_array().cloned().unwrap_or_default();
        for t in Self::claim_templates(sts) {
            let vname = t.pointer("/metadata/name").cloned().unwrap_or(Value::Null);
            volumes.retain(|v| v["name"] != vname);
            volumes
                .push(json!({"name": vname, "persistentVolumeClaim": {"claimName": Self::claim_name(&t, set, ord)}}));
        }
        if !volumes.is_empty() {
            spec["volumes"] = json!(volumes);
        }
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec});
        match admission::create(&self.store, kinds::pods(), pod) {
            Ok(_) => {
                self.event(
                    sts,
                    "Normal",
                    "SuccessfulCreate",
                    format!("create Pod {pod_name} in StatefulSet {set} successful"),
                );
                true
            }
            Err(e) if e.reason == "AlreadyExists" => true,
            Err(e) => {
                self.event(
                    sts,
                    "Warning",
                    "FailedCreate",
                    format!("create Pod {pod_name} in StatefulSet {set} failed error: {}", e.message),
                );
                false
            }
        }
    }

    fn delete_pod(&self, sts: &Value, pod: &Value) {
        let set = name_of(sts);
        match admission::delete(&self.store, kinds::pods(), namespace_of(pod), name_of(pod), &DeleteOpts::default()) {
            Ok(_) => self.event(
                sts,
                "Normal",
                "SuccessfulDelete",
                format!("delete Pod {} in StatefulSet {set} successful", name_of(pod)),
            ),
            Err(e) if e.code == 404 => {}
            Err(e) => self.event(
                sts,
                "Warning",
                "FailedDelete",
                format!("delete Pod {} in StatefulSet {set} failed error: {}", name_of(pod), e.message),
            ),
        }
    }

    /// With whenScaled: Delete, a condemned pod's claims are handed to the pod, so they go with it.
    fn retain_or_release_claims(&self, sts: &Value, pod: &Value) -> Result<(), ApiError> {
        if sts.pointer("/spec/persistentVolumeClaimRetentionPolicy/whenScaled") != Some(&json!("Delete")) {
            return Ok(());
        }
        let Some(ord) = ordinal(name_of(sts), name_of(pod)) else { return Ok(()) };
        for t in Self::claim_templates(sts) {
            let claim = Self::claim_name(&t, name_of(sts), ord);
            if let Some(pvc) = self.store.get(kinds::pvcs(), namespace_of(sts), &claim) {
                let mut pvc = (*pvc).clone();
                pvc["metadata"]["ownerReferences"] = json!([{"apiVersion": "v1", "kind": "Pod", "name": name_of(pod),
                    "uid": uid_of(pod), "controller": false, "blockOwnerDeletion": true}]);
                unless_gone(admission::update(&self.store, kinds::pvcs(), pvc, UpdateScope::All))?;
            }
        }
        Ok(())
    }

    fn update_status(&self, sts: &Value, current: &Value, update: &Value, min_ready: i64) -> Result<(), ApiError> {
        let ns = namespace_of(sts);
        let set = name_of(sts);
        let uid = uid_of(sts);
        let selector =
            LabelSelector::from_object(sts.pointer("/spec/selector").unwrap_or(&Value::Null)).unwrap_or_default();
        let pods: Vec<Obj> = self
            .store
            .list(kinds::pods(), Some(ns))
            .0
            .into_iter()
            .filter(|p| {
                p.meta().controlled_by(uid) && selector.matches_meta(p.meta()) && ordinal(set, p.name()).is_some()
            })
            .collect();
        let mut counts: HashMap<&str, i64> = HashMap::new();
        for p in &pods {
            *counts.entry("replicas").or_default() += 1;
            if running_and_ready(p) {
                *counts.entry("ready").or_default() += 1;
                if self.available_at(p, min_ready).is_none() {
                    *counts.entry("available").or_default() += 1;
                }
            }
            if !terminating(p) {
                if revision_of(p) == name_of(current) {
                    *counts.entry("current").or_default() += 1;
                }
                if revision_of(p) == name_of(update) {
                    *counts.entry("updated").or_default() += 1;
                }
            }
        }
        let c = |k: &str| counts.get(k).copied().unwrap_or(0);
        let rolling = sts.pointer("/spec/updateStrategy/type").and_then(Value::as_str) != Some("OnDelete");
        let (mut cur_name, mut cur_count) = (name_of(current).to_string(), c("current"));
        if rolling && c("updated") == c("replicas") && c("ready") == c("replicas") {
            cur_name = name_of(update).to_string();
            cur_count = c("updated");
        }
        // A collision met in this sync was written to the stored status already: keep it.
        let stored = self.store.get(kinds::statefulsets(), ns, set).map(|s| spec_i64(&s, "/status/collisionCount", 0));
        let collisions = spec_i64(sts, "/status/collisionCount", 0).max(stored.unwrap_or(0));
        let status = json!({
            "observedGeneration": sts.pointer("/metadata/generation").cloned().unwrap_or(json!(1)),
            "replicas": c("replicas"),
            "readyReplicas": c("ready"),
            "currentReplicas": cur_count,
            "updatedReplicas": c("updated"),
            "currentRevision": cur_name,
            "updateRevision": name_of(update),
            "collisionCount": collisions,
            "availableReplicas": c("available"),
        });
        let mut status = status;
        // Upstream omits zero counts (omitempty) except replicas.
        if let Some(m) = status.as_object_mut() {
            m.retain(|k, v| k == "replicas" || k == "availableReplicas" || k == "collisionCount" || v != &json!(0));
        }
        unless_gone(admission::update_status(&self.store, kinds::statefulsets(), ns, set, Some(uid_of(sts)), status))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinals() {
        assert_eq!(ordinal("web", "web-12"), Some(12));
        assert_eq!(ordinal("web", "web-x"), None);
        assert_eq!(ordinal("web", "db-1"), None);
        assert_eq!(ordinal("my-web", "my-web-0"), Some(0));
    }
}
