//! Pod rows: READY, STATUS and RESTARTS worked out the way upstream's `printPod` does, so the sandbox
//! shows the same words (Init:0/1, CrashLoopBackOff, Completed, Terminating...) as a real cluster.

use jiff::Timestamp;
use serde_json::{json, Value};

use super::{age, at, int, list, since, text, timestamp, Column, AGE, NAME};

pub(super) const COLUMNS: &[Column] = &[
    NAME,
    ("Ready", "string", 0, "The aggregate readiness state of this pod for accepting traffic."),
    ("Status", "string", 0, "The aggregate status of the containers in this pod."),
    (
        "Restarts",
        "string",
        0,
        "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
    ),
    AGE,
    (
        "IP",
        "string",
        1,
        "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.",
    ),
    (
        "Node",
        "string",
        1,
        "NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for scheduling by the scheduler defined in schedulerName.",
    ),
    (
        "Nominated Node",
        "string",
        1,
        "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods.",
    ),
    (
        "Readiness Gates",
        "string",
        1,
        "If specified, all readiness gates will be evaluated for pod readiness.",
    ),
];

/// What `printPod` derives from the container statuses.
struct Summary {
    ready: usize,
    total: usize,
    reason: String,
    restarts: i64,
    last_restart: Option<Timestamp>,
}

fn condition_true(pod: &Value, kind: &str) -> bool {
    list(pod, &["status", "conditions"]).iter().any(|c| text(c, &["type"]) == kind && text(c, &["status"]) == "True")
}

fn keep_latest(slot: &mut Option<Timestamp>, candidate: Option<Timestamp>) {
    if let Some(c) = candidate {
        if slot.is_none_or(|s| s < c) {
            *slot = Some(c);
        }
    }
}

fn last_finished(status: &Value) -> Option<Timestamp> {
    timestamp(status, &["lastState", "terminated", "finishedAt"])
}

/// `Signal:9` / `ExitCode:1` when the kubelet left no reason on a terminated state.
fn terminated_reason(term: &Value, prefix: &str) -> String {
    let reason = text(term, &["reason"]);
    if !reason.is_empty() {
        return format!("{prefix}{reason}");
    }
    let signal = int(term, &["signal"]);
    if signal != 0 {
        format!("{prefix}Signal:{signal}")
    } else {
        format!("{prefix}ExitCode:{}", int(term, &["exitCode"]))
    }
}

fn summarize(pod: &Value) -> Summary {
    let init_specs = list(pod, &["spec", "initContainers"]);
    // Sidecars (restartable init containers) count as regular containers once started.
    let sidecar =
        |name: &str| init_specs.iter().any(|c| text(c, &["name"]) == name && text(c, &["restartPolicy"]) == "Always");
    let total = list(pod, &["spec", "containers"]).len()
        + init_specs.iter().filter(|c| text(c, &["restartPolicy"]) == "Always").count();

    let phase = text(pod, &["status", "phase"]);
    let status_reason = text(pod, &["status", "reason"]);
    let mut reason = if status_reason.is_empty() { phase } else { status_reason }.to_string();
    let gated = list(pod, &["status", "conditions"])
        .iter()
        .any(|c| text(c, &["type"]) == "PodScheduled" && text(c, &["reason"]) == "SchedulingGated");
    if gated {
        reason = "SchedulingGated".into();
    }

    let mut ready = 0;
    let mut restarts = 0;
    let mut sidecar_restarts = 0;
    let mut last_restart = None;
    let mut last_sidecar_restart = None;
    let mut initializing = false;
    for (i, status) in list(pod, &["status", "initContainerStatuses"]).iter().enumerate() {
        let count = int(status, &["restartCount"]);
        let is_sidecar = sidecar(text(status, &["name"]));
        restarts += count;
        keep_latest(&mut last_restart, last_finished(status));
        if is_sidecar {
            sidecar_restarts += count;
            keep_latest(&mut last_sidecar_restart, last_finished(status));
        }
        let terminated = at(status, &["state", "terminated"]).filter(|t| t.is_object());
        let waiting = text(status, &["state", "waiting", "reason"]);
        match terminated {
            Some(t) if int(t, &["exitCode"]) == 0 => continue,
            _ if is_sidecar && at(status, &["started"]) == Some(&Value::Bool(true)) => {
                if at(status, &["ready"]) == Some(&Value::Bool(true)) {
                    ready += 1;
                }
                continue;
            }
            Some(t) => reason = terminated_reason(t, "Init:"),
            None if !waiting.is_empty() && waiting != "PodInitializing" => reason = format!("Init:{waiting}"),
            None => reason = format!("Init:{i}/{}", init_specs.len()),
        }
        initializing = true;
        break;
    }

    if !initializing || condition_true(pod, "Initialized") {
        restarts = sidecar_restarts;
        last_restart = last_sidecar_restart;
        let mut has_running = false;
        for status in list(pod, &["status", "containerStatuses"]).iter().rev() {
            restarts += int(status, &["restartCount"]);
            keep_latest(&mut last_restart, last_finished(status));
            let waiting = text(status, &["state", "waiting", "reason"]);
            let terminated = at(status, &["state", "terminated"]).filter(|t| t.is_object());
            if !waiting.is_empty() {
                reason = waiting.to_string();
            } else if let Some(t) = terminated {
                reason = terminated_reason(t, "");
            } else if at(status, &["ready"]) == Some(&Value::Bool(true))
                && at(status, &["state", "running"]).is_some_and(Value::is_object)
            {
                has_running = true;
                ready += 1;
            }
        }
        // A finished container listed first must not hide one that is still running.
        if reason == "Completed" && has_running {
            reason = if condition_true(pod, "Ready") { "Running" } else { "NotReady" }.into();
        }
    }

    let deleting = at(pod, &["metadata", "deletionTimestamp"]).is_some_and(|v| !v.is_null());
    if deleting && status_reason == "NodeLost" {
        reason = "Unknown".into();
    } else if deleting && phase != "Succeeded" && phase != "Failed" {
        reason = "Terminating".into();
    }
    Summary { ready, total, reason, restarts, last_restart }
}

#[cfg(test)]
/// The STATUS column, as `kubectl get pods` shows it.
pub(crate) fn pod_status(pod: &Value) -> String {
    summarize(pod).reason
}

#[cfg(test)]
/// The READY column: ready containers over all (sidecars included), e.g. `1/2`.
pub(crate) fn pod_ready(pod: &Value) -> String {
    let s = summarize(pod);
    format!("{}/{}", s.ready, s.total)
}

#[cfg(test)]
/// The RESTARTS column: `0`, or `3 (45s ago)` from the newest `lastState.terminated.finishedAt`.
pub(crate) fn pod_restarts(pod: &Value, now: Timestamp) -> String {
    restarts_text(&summarize(pod), now)
}

fn restarts_text(s: &Summary, now: Timestamp) -> String {
    match s.last_restart {
        Some(t) if s.restarts != 0 => format!("{} ({} ago)", s.restarts, since(now, Some(t))),
        _ => s.restarts.to_string(),
    }
}

fn or_none(s: &str) -> String {
    if s.is_empty() { "<none>" } else { s }.to_string()
}

pub(super) fn cells(pod: &Value, now: Timestamp) -> Vec<Value> {
    let s = summarize(pod);
    let mut ip = list(pod, &["status", "podIPs"]).first().map(|p| text(p, &["ip"])).unwrap_or("");
    if ip.is_empty() {
        ip = text(pod, &["status", "podIP"]);
    }
    let gates = list(pod, &["spec", "readinessGates"]);
    let readiness_gates = if gates.is_empty() {
        "<none>".to_string()
    } else {
        let conditions = list(pod, &["status", "conditions"]);
        let passed = gates
            .iter()
            .filter(|g| {
                let kind = text(g, &["conditionType"]);
                conditions.iter().find(|c| text(c, &["type"]) == kind).is_some_and(|c| text(c, &["status"]) == "True")
            })
            .count();
        format!("{passed}/{}", gates.len())
    };
    vec![
        json!(text(pod, &["metadata", "name"])),
        json!(format!("{}/{}", s.ready, s.total)),
        json!(s.reason),
        json!(restarts_text(&s, now)),
        json!(age(pod, now)),
        json!(or_none(ip)),
        json!(or_none(text(pod, &["spec", "nodeName"]))),
        json!(or_none(text(pod, &["status", "nominatedNodeName"]))),
        json!(readiness_gates),
    ]
}

/// Finished pods carry a `Completed` row condition; kubectl uses it to grey them out or filter them.
pub(super) fn row_conditions(pod: &Value) -> Option<Value> {
    let (reason, message) = match text(pod, &["status", "phase"]) {
        "Succeeded" => ("Succeeded", "The pod has completed successfully."),
        "Failed" => ("Failed", "The pod failed."),
        _ => return None,
    };
    Some(json!([{"type": "Completed", "status": "True", "reason": reason, "message": message}]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::kinds;
    use crate::table::{table, IncludeObject};

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("test timestamp")
    }

    fn pod(phase: &str, inits: Value, containers: Value) -> Value {
        json!({
            "metadata": {"name": "web-0", "creationTimestamp": "2030-01-01T00:00:00Z"},
            "spec": {"containers": [{"name": "app"}], "initContainers": [{"name": "init"}]},
            "status": {"phase": phase, "initContainerStatuses": inits, "containerStatuses": containers}
        })
    }

    fn waiting(reason: &str) -> Value {
        json!({"waiting": {"reason": reason}})
    }

    fn terminated(code: i64, reason: &str) -> Value {
        json!({"terminated": {"exitCode": code, "reason": reason}})
    }

    fn status(name: &str, state: Value, ready: bool) -> Value {
        json!({"name": name, "state": state, "ready": ready, "restartCount": 0})
    }

    fn init_done() -> Value {
        json!([status("init", terminated(0, "Completed"), false)])
    }

    fn app(state: Value, ready: bool) -> Value {
        json!([status("app", state, ready)])
    }

    #[test]
    fn status_for_each_state() {
        let no_inits = |phase: &str, containers: Value| {
            let mut p = pod(phase, json!([]), containers);
            p["spec"]["initContainers"] = json!([]);
            p
        };
        assert_eq!(pod_status(&no_inits("Pending", json!([]))), "Pending");
        assert_eq!(pod_status(&no_inits("Pending", app(waiting("ContainerCreating"), false))), "ContainerCreating");
        let cases = [
            (
                pod(
                    "Pending",
                    json!([status("init", waiting("PodInitializing"), false)]),
                    app(waiting("PodInitializing"), false),
                ),
                "Init:0/1",
            ),
            (
                pod(
                    "Pending",
                    json!([status("init", json!({"running": {}}), false)]),
                    app(waiting("PodInitializing"), false),
                ),
                "Init:0/1",
            ),
            (pod("Pending", json!([status("init", waiting("ErrImagePull"), false)]), json!([])), "Init:ErrImagePull"),
            (
                pod("Pending", json!([status("init", waiting("CrashLoopBackOff"), false)]), json!([])),
                "Init:CrashLoopBackOff",
            ),
            (pod("Pending", json!([status("init", terminated(1, "Error"), false)]), json!([])), "Init:Error"),
            (pod("Pending", json!([status("init", terminated(2, ""), false)]), json!([])), "Init:ExitCode:2"),
            (pod("Pending", init_done(), app(waiting("PodInitializing"), false)), "PodInitializing"),
            (pod("Running", init_done(), app(json!({"running": {}}), true)), "Running"),
            (pod("Running", init_done(), app(json!({"running": {}}), false)), "Running"),
            (pod("Succeeded", init_done(), app(terminated(0, "Completed"), false)), "Completed"),
            (pod("Failed", init_done(), app(terminated(1, "Error"), false)), "Error"),
            (pod("Running", init_done(), app(terminated(137, ""), false)), "ExitCode:137"),
            (pod("Pending", init_done(), app(waiting("ErrImagePull"), false)), "ErrImagePull"),
            (pod("Pending", init_done(), app(waiting("ImagePullBackOff"), false)), "ImagePullBackOff"),
            (pod("Running", init_done(), app(waiting("CrashLoopBackOff"), false)), "CrashLoopBackOff"),
        ];
        for (p, want) in cases {
            assert_eq!(pod_status(&p), want, "{p}");
        }
    }

    #[test]
    fn completed_sibling_of_a_running_container_reads_running_or_not_ready() {
        let mut p = pod(
            "Running",
            init_done(),
            json!([status("app", json!({"running": {}}), true), status("job", terminated(0, "Completed"), false)]),
        );
        p["spec"]["containers"] = json!([{"name": "app"}, {"name": "job"}]);
        assert_eq!(pod_status(&p), "NotReady");
        assert_eq!(pod_ready(&p), "1/2");
        p["status"]["conditions"] = json!([{"type": "Ready", "status": "True"}]);
        assert_eq!(pod_status(&p), "Running");
    }

    #[test]
    fn deletion_and_gates_override_the_phase() {
        let mut p = pod("Running", init_done(), app(json!({"running": {}}), true));
        p["metadata"]["deletionTimestamp"] = json!("2030-01-01T00:05:00Z");
        assert_eq!(pod_status(&p), "Terminating");
        p["status"]["phase"] = json!("Succeeded");
        assert_ne!(pod_status(&p), "Terminating");
        p["status"]["reason"] = json!("NodeLost");
        assert_eq!(pod_status(&p), "Unknown");

        let mut gated = pod("Pending", json!([]), json!([]));
        gated["status"]["conditions"] =
            json!([{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]);
        assert_eq!(pod_status(&gated), "SchedulingGated");
    }

    #[test]
    fn ready_counts_started_sidecars() {
        let mut p = pod(
            "Running",
            json!([{"name": "init", "state": {"running": {}}, "started": true, "ready": true, "restartCount": 0}]),
            app(json!({"running": {}}), true),
        );
        p["spec"]["initContainers"][0]["restartPolicy"] = json!("Always");
        p["status"]["conditions"] = json!([{"type": "Initialized", "status": "True"}]);
        assert_eq!(pod_ready(&p), "2/2");
        assert_eq!(pod_status(&p), "Running");
    }

    #[test]
    fn restarts_show_time_since_last_termination() {
        let now = ts("2030-01-01T01:00:00Z");
        let mut p = pod("Running", init_done(), json!([]));
        assert_eq!(pod_restarts(&p, now), "0");
        p["status"]["containerStatuses"] = json!([{
            "name": "app", "ready": true, "restartCount": 3, "state": {"running": {}},
            "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2030-01-01T00:59:15Z"}}
        }]);
        assert_eq!(pod_restarts(&p, now), "3 (45s ago)");
        // Without a finish time upstream prints the bare count.
        p["status"]["containerStatuses"][0]["lastState"] = json!({});
        assert_eq!(pod_restarts(&p, now), "3");
    }

    #[test]
    fn pod_table_headers_and_cells() {
        let now = ts("2030-01-01T00:03:04Z");
        let mut p = pod("Running", init_done(), app(json!({"running": {}}), true));
        p["spec"]["nodeName"] = json!("node-1");
        p["status"]["podIPs"] = json!([{"ip": "10.244.0.5"}]);
        let t = table(kinds::pods(), &[&p], IncludeObject::None, now, Some("9"), "meta.k8s.io/v1");
        let names: Vec<&str> = t["columnDefinitions"]
            .as_array()
            .map(|c| c.iter().filter_map(|d| d["name"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(
            names,
            ["Name", "Ready", "Status", "Restarts", "Age", "IP", "Node", "Nominated Node", "Readiness Gates"]
        );
        let priorities: Vec<i64> = t["columnDefinitions"]
            .as_array()
            .map(|c| c.iter().filter_map(|d| d["priority"].as_i64()).collect())
            .unwrap_or_default();
        assert_eq!(priorities, [0, 0, 0, 0, 0, 1, 1, 1, 1]);
        assert_eq!(
            t["rows"][0]["cells"],
            json!(["web-0", "1/1", "Running", "0", "3m4s", "10.244.0.5", "node-1", "<none>", "<none>"])
        );
        assert!(t["rows"][0].get("conditions").is_none());

        let mut done = pod("Succeeded", init_done(), app(terminated(0, "Completed"), false));
        done["metadata"].as_object_mut().map(|m| m.remove("creationTimestamp"));
        done["spec"]["readinessGates"] = json!([{"conditionType": "x"}, {"conditionType": "y"}]);
        done["status"]["conditions"] = json!([{"type": "x", "status": "True"}]);
        let t = table(kinds::pods(), &[&done], IncludeObject::None, now, None, "meta.k8s.io/v1");
        assert_eq!(
            t["rows"][0]["cells"],
            json!(["web-0", "0/1", "Completed", "0", "<unknown>", "<none>", "<none>", "<none>", "1/2"])
        );
        assert_eq!(t["rows"][0]["conditions"][0]["reason"], "Succeeded");
    }
}
