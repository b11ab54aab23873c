//! The scheduler of the one-node cluster: binds each new pod to the node once its claims are
//! bound, and otherwise leaves it Pending with upstream's Unschedulable condition and message.

use serde_json::{json, Value};

use super::driver::{Action, Reconciler, Trigger};
use super::unless_gone;
use crate::admission;
use crate::consts::NODE_NAME;
use crate::error::ApiError;
use crate::events::{Involved, Recorder, SCHEDULER};
use crate::resources::kinds;
use crate::store::{name_of, namespace_of, uid_of, Obj, Store, UpdateScope};

type Key = (String, String);

/// The scheduler, run by the driver; its keys are pods (namespace, name).
pub(crate) struct Scheduler {
    store: Store,
    recorder: Recorder,
}

/// Whether a pod still waits for a node (read from its summary, without a parse).
fn waiting(pod: &Obj) -> bool {
    pod.meta().pod.as_deref().is_some_and(|p| p.node_name.is_empty()) && !pod.meta().deleting
}

impl Scheduler {
    pub(crate) fn new(store: Store, recorder: Recorder) -> Self {
        Scheduler { store, recorder }
    }

    /// A claim changing (becoming Bound, say) may unblock the waiting pods that use it.
    fn claim_changed(&self, pvc: &Obj, out: &mut Vec<Key>) {
        for p in self.store.list(kinds::pods(), Some(pvc.namespace())).0 {
            let uses = p.meta().pod.as_deref().is_some_and(|m| m.claims.iter().any(|c| **c == *pvc.name()));
            if uses && waiting(&p) {
                out.push((p.namespace().to_string(), p.name().to_string()));
            }
        }
    }
}

impl Reconciler for Scheduler {
    type Key = Key;
    const NAME: &'static str = "scheduler";

    fn store(&self) -> &Store {
        &self.store
    }

    fn triggers(&self) -> Vec<Trigger<Self>> {
        vec![
            Trigger::new(kinds::pods(), |_, p, out| {
                if waiting(p) {
                    out.push((p.namespace().to_string(), p.name().to_string()));
                }
            }),
            Trigger::new(kinds::pvcs(), Self::claim_changed),
        ]
    }

    fn reconcile(&mut self, key: &Key) -> Result<Action, ApiError> {
        if let Some(pod) = self.store.get(kinds::pods(), &key.0, &key.1) {
            schedule(&self.store, &self.recorder, &pod)?;
        }
        Ok(Action::AwaitChange)
    }
}

/// Why the pod cannot go to the node yet, in the scheduler's words.
fn unschedulable(store: &Store, pod: &Value) -> Option<String> {
    let ns = namespace_of(pod);
    for v in pod.pointer("/spec/volumes").and_then(Value::as_array).into_iter().flatten() {
        let Some(claim) = v.pointer("/persistentVolumeClaim/claimName").and_then(Value::as_str) else { continue };
        match store.get(kinds::pvcs(), ns, claim) {
            None => return Some(format!("0/1 nodes are available: persistentvolumeclaim \"{claim}\" not found. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.")),
            Some(c) if c.pointer("/metadata/deletionTimestamp").is_some() => {
                return Some(format!("0/1 nodes are available: persistentvolumeclaim \"{claim}\" is being deleted. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."))
            }
            Some(c) if c.pointer("/status/phase") != Some(&json!("Bound")) => {
                return Some("0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.".into())
            }
            Some(_) => {}
        }
    }
    None
}

fn schedule(store: &Store, recorder: &Recorder, pod: &Obj) -> Result<(), ApiError> {
    // Bound and terminating pods are skipped from the stored summary, without a parse.
    if !waiting(pod) {
        return Ok(());
    }
    let pod: &Value = pod;
    let now = store.clock().now_rfc3339();
    match unschedulable(store, pod) {
        Some(msg) => {
            let mut new = pod.clone();
            let cond = json!([{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": msg,
                               "lastProbeTime": null, "lastTransitionTime": now}]);
            if pod.pointer("/status/conditions/0/message") == Some(&json!(msg)) {
                return Ok(());
            }
            new["status"] = json!({"phase": "Pending", "conditions": cond, "qosClass": "BestEffort"});
            if unless_gone(admission::update(store, kinds::pods(), new, UpdateScope::Status))?.is_some() {
                recorder.record(SCHEDULER, Involved::of(pod), "Warning", "FailedScheduling", &msg, None);
            }
        }
        None => {
            let status = json!({"phase": "Pending", "qosClass": "BestEffort", "conditions": [
                {"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": now}]});
            // The binding subresource's write: the binding rule, not a pod update's validation.
            let bound = store.modify(kinds::pods(), namespace_of(pod), name_of(pod), Some(uid_of(pod)), |p, _| {
                // Going away meanwhile: nothing to do.
                if p["metadata"].get("deletionTimestamp").is_some() {
                    return Ok(());
                }
                admission::bindable(p)?;
                p["spec"]["nodeName"] = json!(NODE_NAME);
                p["status"] = status.clone();
                Ok(())
            });
            // Bound by someone else meanwhile (a 409 from the binding rule): nothing to do.
            let bound = match bound {
                Err(e) if e.code == 409 => None,
                other => unless_gone(other)?.flatten(),
            };
            if bound.is_some() {
                recorder.record(
                    SCHEDULER,
                    Involved::of(pod),
                    "Normal",
                    "Scheduled",
                    &format!("Successfully assigned {}/{} to {NODE_NAME}", namespace_of(pod), name_of(pod)),
                    None,
                );
            }
        }
    }
    Ok(())
}
