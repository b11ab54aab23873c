//! The pod status the kubelet reports: phase, conditions with transition times, container
//! statuses (waiting, running, terminated, last state), IPs. Kept as plain state in the pod
//! worker and written whole, so every write is a consistent picture.

use serde_json::{json, Value};

/// A container's state as `containerStatuses[].state` shows it.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum State {
    Waiting { reason: String, message: Option<String> },
    Running { started_at: String },
    Terminated { exit_code: i32, reason: String, started_at: String, finished_at: String, message: Option<String> },
}

impl State {
    pub(super) fn waiting(reason: &str) -> State {
        State::Waiting { reason: reason.into(), message: None }
    }
    fn to_json(&self, container_id: &str) -> Value {
        match self {
            State::Waiting { reason, message } => {
                let mut w = json!({"reason": reason});
                if let Some(m) = message {
                    w["message"] = json!(m);
                }
                json!({"waiting": w})
            }
            State::Running { started_at } => json!({"running": {"startedAt": started_at}}),
            State::Terminated { exit_code, reason, started_at, finished_at, message } => {
                let mut t = json!({"exitCode": exit_code, "reason": reason, "startedAt": started_at,
                                   "finishedAt": finished_at, "containerID": container_id});
                if let Some(m) = message {
                    t["message"] = json!(m);
                }
                json!({"terminated": t})
            }
        }
    }
}

#[derive(Debug, Clone)]
pub(super) struct ContainerState {
    pub name: String,
    pub image: String,
    /// `docker.io/library/nginx@sha256:...` once pulled.
    pub image_id: String,
    pub container_id: String,
    pub state: State,
    pub last_state: Option<State>,
    pub ready: bool,
    pub restart_count: i64,
}

impl ContainerState {
    pub(super) fn new(name: &str, image: &str, waiting_reason: &str) -> Self {
        ContainerState {
            name: name.into(),
            image: image.into(),
            image_id: String::new(),
            container_id: String::new(),
            state: State::waiting(waiting_reason),
            last_state: None,
            ready: false,
            restart_count: 0,
        }
    }

    fn to_json(&self) -> Value {
        let mut v = json!({
            "name": self.name, "image": self.image, "imageID": self.image_id,
            "ready": self.ready, "restartCount": self.restart_count,
            "started": matches!(self.state, State::Running { .. }),
            "state": self.state.to_json(&self.container_id),
            "lastState": self.last_state.as_ref().map(|s| s.to_json(&self.container_id)).unwrap_or_else(|| json!({})),
        });
        if !self.container_id.is_empty() {
            v["containerID"] = json!(self.container_id);
        }
        v
    }
}

/// One pod condition, remembering when its status last changed.
#[derive(Debug, Clone)]
pub(super) struct Condition {
    pub kind: &'static str,
    pub status: bool,
    pub reason: Option<String>,
    pub message: Option<String>,
    pub since: String,
}

#[derive(Debug, Clone)]
pub(super) struct PodState {
    pub phase: &'static str,
    pub conditions: Vec<Condition>,
    pub init: Vec<ContainerState>,
    pub containers: Vec<ContainerState>,
    pub pod_ip: String,
    pub host_ip: String,
    pub start_time: String,
    pub reason: Option<String>,
    pub message: Option<String>,
}

impl PodState {
    /// Set a condition; its transition time moves only when the status flips.
    pub(super) fn set(
        &mut self,
        kind: &'static str,
        status: bool,
        reason: Option<String>,
        message: Option<String>,
        now: &str,
    ) {
        match self.conditions.iter_mut().find(|c| c.kind == kind) {
            Some(c) => {
                if c.status != status {
                    c.since = now.to_string();
                }
                c.status = status;
                c.reason = reason;
                c.message = message;
            }
            None => self.conditions.push(Condition { kind, status, reason, message, since: now.to_string() }),
        }
    }

    /// Recompute Initialized, ContainersReady and Ready from the containers.
    pub(super) fn refresh_conditions(&mut self, now: &str) {
        let pending_init: Vec<&str> = self
            .init
            .iter()
            .filter(|c| !matches!(c.state, State::Terminated { exit_code: 0, .. }))
            .map(|c| c.name.as_str())
            .collect();
        let initialized = pending_init.is_empty();
        let init_msg =
            (!initialized).then(|| format!("containers with incomplete status: [{}]", pending_init.join(" ")));
        self.set(
            "Initialized",
            initialized,
            init_msg.as_ref().map(|_| "ContainersNotInitialized".to_string()),
            init_msg,
            now,
        );
        let unready: Vec<&str> = self.containers.iter().filter(|c| !c.ready).map(|c| c.name.as_str()).collect();
        let ready = unready.is_empty() && self.phase == "Running";
        let msg = (!unready.is_empty()).then(|| format!("containers with unready status: [{}]", unready.join(" ")));
        let reason = if self.phase == "Succeeded" || self.phase == "Failed" {
            Some("PodCompleted".to_string())
        } else {
            msg.as_ref().map(|_| "ContainersNotReady".to_string())
        };
        let msg = if reason.as_deref() == Some("PodCompleted") { None } else { msg };
        self.set("ContainersReady", ready, reason.clone(), msg.clone(), now);
        self.set("Ready", ready, reason, msg, now);
    }

    pub(super) fn to_json(&self) -> Value {
        let order = ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"];
        let mut conds: Vec<&Condition> = self.conditions.iter().collect();
        conds.sort_by_key(|c| order.iter().position(|o| *o == c.kind).unwrap_or(9));
        let conditions: Vec<Value> = conds
            .iter()
            .map(|c| {
                let mut v = json!({"type": c.kind, "status": if c.status { "True" } else { "False" },
                                   "lastProbeTime": null, "lastTransitionTime": c.since});
                if let Some(r) = &c.reason {
                    v["reason"] = json!(r);
                }
                if let Some(m) = &c.message {
                    v["message"] = json!(m);
                }
                v
            })
            .collect();
        let mut s = json!({
            "phase": self.phase,
            "conditions": conditions,
            "hostIP": self.host_ip,
            "hostIPs": [{"ip": self.host_ip}],
            "startTime": self.start_time,
            "containerStatuses": self.containers.iter().map(ContainerState::to_json).collect::<Vec<_>>(),
            "qosClass": "BestEffort",
        });
        if !self.pod_ip.is_empty() {
            s["podIP"] = json!(self.pod_ip);
            s["podIPs"] = json!([{"ip": self.pod_ip}]);
        }
        if !self.init.is_empty() {
            s["initContainerStatuses"] = json!(self.init.iter().map(ContainerState::to_json).collect::<Vec<_>>());
        }
        if let Some(r) = &self.reason {
            s["reason"] = json!(r);
        }
        if let Some(m) = &self.message {
            s["message"] = json!(m);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_follows_containers_and_keeps_transition_times() {
        let mut p = PodState {
            phase: "Pending",
            conditions: vec![],
            init: vec![ContainerState::new("setup", "alpine:3.8", "PodInitializing")],
            containers: vec![ContainerState::new("nginx", "nginx:mainline", "PodInitializing")],
            pod_ip: "10.244.0.5".into(),
            host_ip: "10.0.0.2".into(),
            start_time: "t0".into(),
            reason: None,
            message: None,
        };
        p.refresh_conditions("t0");
        let s = p.to_json();
        assert_eq!(s["conditions"][0]["type"], "Initialized");
        assert_eq!(s["conditions"][0]["message"], "containers with incomplete status: [setup]");
        p.init[0].state = State::Terminated {
            exit_code: 0,
            reason: "Completed".into(),
            started_at: "t1".into(),
            finished_at: "t1".into(),
            message: None,
        };
        p.containers[0].ready = true;
        p.containers[0].state = State::Running { started_at: "t2".into() };
        p.phase = "Running";
        p.refresh_conditions("t2");
        let s = p.to_json();
        let ready = s["conditions"].as_array().unwrap().iter().find(|c| c["type"] == "Ready").unwrap();
        assert_eq!((ready["status"].as_str(), ready["lastTransitionTime"].as_str()), (Some("True"), Some("t2")));
        p.refresh_conditions("t3");
        let s = p.to_json();
        let ready = s["conditions"].as_array().unwrap().iter().find(|c| c["type"] == "Ready").unwrap();
        assert_eq!(ready["lastTransitionTime"], "t2");
        assert_eq!(s["containerStatuses"][0]["state"]["running"]["startedAt"], "t2");
    }
}
