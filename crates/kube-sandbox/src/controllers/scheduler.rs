//! The scheduler of the one-node cluster: binds each new pod to the node once its claims are
//! bound, and otherwise leaves it Pending with upstream's Unschedulable condition and message.

use serde_json::{json, Value};
use tokio::sync::broadcast::error::RecvError;

use crate::consts::NODE_NAME;
use crate::events::{Involved, Recorder, SCHEDULER};
use crate::resources::kinds;
use crate::store::{name_of, namespace_of, uid_of, Obj, Store, UpdateScope};

pub(crate) async fn run(store: Store, recorder: Recorder) {
    let mut rx = store.subscribe();
    for p in store.list(kinds::pods(), None).0 {
        schedule(&store, &recorder, &p);
    }
    loop {
        match rx.recv().await {
            Ok(c) if c.storage == kinds::pods().storage && c.kind != crate::store::ChangeKind::Deleted => {
                schedule(&store, &recorder, &c.object);
            }
            // A claim becoming Bound may unblock waiting pods.
            Ok(c) if c.storage == kinds::pvcs().storage => {
                for p in store.list(kinds::pods(), Some(c.object.namespace())).0 {
                    schedule(&store, &recorder, &p);
                }
            }
            Ok(_) => {}
            Err(RecvError::Lagged(_)) => {
                for p in store.list(kinds::pods(), None).0 {
                    schedule(&store, &recorder, &p);
                }
            }
            Err(RecvError::Closed) => return,
        }
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

fn schedule(store: &Store, recorder: &Recorder, pod: &Obj) {
    // Bound and terminating pods are skipped from the stored summary, without a parse.
    if pod.meta().pod.as_deref().is_some_and(|p| !p.node_name.is_empty()) || pod.meta().deleting {
        return;
    }
    let pod: &Value = pod;
    let now = store.clock().now_rfc3339();
    match unschedulable(store, pod) {
        Some(msg) => {
            let mut new = pod.clone();
            let cond = json!([{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": msg,
                               "lastProbeTime": null, "lastTransitionTime": now}]);
            if pod.pointer("/status/conditions/0/message") == Some(&json!(msg)) {
                return;
            }
            new["status"] = json!({"phase": "Pending", "conditions": cond, "qosClass": "BestEffort"});
            if store.update(kinds::pods(), new, UpdateScope::Status, false).is_ok() {
                recorder.record(SCHEDULER, Involved::of(pod), "Warning", "FailedScheduling", &msg, None);
            }
        }
        None => {
            let status = json!({"phase": "Pending", "qosClass": "BestEffort", "conditions": [
                {"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": now}]});
            let bound = store.modify(kinds::pods(), namespace_of(pod), name_of(pod), Some(uid_of(pod)), |p| {
                // Bound elsewhere or going away meanwhile: nothing to do.
                if p["spec"]["nodeName"].is_string() || p["metadata"].get("deletionTimestamp").is_some() {
                    return;
                }
                p["spec"]["nodeName"] = json!(NODE_NAME);
                p["status"] = status.clone();
            });
            if matches!(bound, Ok(Some(_))) {
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
}
