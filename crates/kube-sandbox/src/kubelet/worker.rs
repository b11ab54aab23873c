//! One pod's life on the node: IP, volumes, image pulls (with ErrImagePull and back-off),
//! init containers in order, containers, restarts per restartPolicy (CrashLoopBackOff), status
//! after every step, and graceful termination ending in the final delete. What a container
//! needs before it starts (pull, filesystem, environment) is in `prepare`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::task::AbortHandle;

use super::console::{self, Console};
use super::status::{ContainerState, PodState, State};
use super::{Inbox, Kubelet, RunningContainer, Server};
use crate::admission;
use crate::catalogue::{self, ImageKind};
use crate::events::{Involved, KUBELET};
use crate::resources::kinds;
use crate::sim::{self, Output, Stream, Volume};
use crate::store::{DeleteOpts, Obj};

mod prepare;
mod probe;

/// Why a wait ended early.
#[derive(Debug, PartialEq, Eq)]
enum Wake {
    Elapsed,
    /// The pod is being deleted (or is gone).
    Stop,
    /// Something else about the pod changed (an image, say).
    Changed,
}

const MAX_BACKOFF: Duration = Duration::from_secs(300);

struct Worker {
    k: Kubelet,
    ns: String,
    name: String,
    uid: String,
    state: PodState,
    etc: Volume,
    empty_dirs: HashMap<String, Volume>,
    /// Changes of the pod and exits of its processes.
    inbox: Arc<Inbox>,
    /// Running processes of main containers, by index.
    procs: HashMap<usize, AbortHandle>,
    /// The readiness and liveness probes of the running containers.
    probers: Vec<probe::Prober>,
}

impl Drop for Worker {
    /// Whether the pod's life ended or the node's task was aborted (the sandbox dropped): the
    /// processes stop and the node lets go of the pod's containers, address and logs.
    fn drop(&mut self) {
        self.cleanup();
        self.inbox.worker_gone();
    }
}

pub(super) async fn run(k: Kubelet, ns: String, name: String, uid: String, inbox: Arc<Inbox>) {
    let now = k.inner.clock.now_rfc3339();
    let etc = Volume::limited(k.inner.clock.now(), super::POD_ETC, Some(k.disk(&ns)));
    let mut w = Worker {
        k,
        ns,
        name,
        uid,
        state: PodState {
            phase: "Pending",
            // PodReadyToStartContainers, Initialized, Ready, ContainersReady, PodScheduled.
            conditions: Vec::with_capacity(5),
            init: Vec::new(),
            containers: Vec::new(),
            pod_ip: String::new(),
            host_ip: "10.0.0.2".into(),
            start_time: now,
            reason: None,
            message: None,
        },
        etc,
        empty_dirs: HashMap::new(),
        inbox,
        procs: HashMap::new(),
        probers: Vec::new(),
    };
    w.life().await;
}

fn containers(pod: &Value, list: &str) -> Vec<Value> {
    pod.pointer(&format!("/spec/{list}")).and_then(Value::as_array).cloned().unwrap_or_default()
}

/// Container `i` of the pod's init containers or containers.
fn spec_in(pod: &Value, init: bool, i: usize) -> Option<Value> {
    let list = if init { "initContainers" } else { "containers" };
    pod.get("spec")?.get(list)?.get(i).cloned()
}

fn field_path(init: bool, name: &str) -> String {
    format!("spec.{}{{{name}}}", if init { "initContainers" } else { "containers" })
}

fn container_id() -> String {
    let b: [u8; 32] = rand::random();
    format!("containerd://{}", b.iter().map(|x| format!("{x:02x}")).collect::<String>())
}

fn image_id(full: &str) -> String {
    let name = full.rsplit_once(':').map(|(n, _)| n).unwrap_or(full);
    // A stable fake digest per image, so equal images show equal IDs.
    let mut h: u64 = 0xcbf29ce484222325;
    for b in full.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x100000001b3);
    }
    format!("{name}@sha256:{h:016x}{:016x}{h:016x}{:016x}", h.rotate_left(17), h.rotate_left(29))
}

impl Worker {
    fn current(&self) -> Option<Obj> {
        self.k.inner.store.get(kinds::pods(), &self.ns, &self.name).filter(|p| p.uid() == self.uid)
    }

    fn stopping(&self) -> bool {
        self.current().is_none_or(|p| p.meta().deleting)
    }

    fn now(&self) -> String {
        self.k.inner.clock.now_rfc3339()
    }

    fn event(&self, kind: &str, reason: &str, msg: &str, fp: Option<&str>) {
        if let Some(p) = self.current() {
            self.k.inner.recorder.record(KUBELET, Involved::pod(&p), kind, reason, msg, fp);
        }
    }

    fn write_status(&mut self) {
        let now = self.now();
        self.state.refresh_conditions(&now);
        let status = self.state.to_json();
        // Gone meanwhile, or refused: the next step writes the whole status again.
        if let Err(e) =
            admission::update_status(&self.k.inner.store, kinds::pods(), &self.ns, &self.name, Some(&self.uid), status)
        {
            if e.code != 404 {
                tracing::warn!(pod = %self.name, namespace = %self.ns, "pod status not written: {}", e.message);
            }
        }
    }

    /// Wait until a real instant, waking early when the pod changes.
    async fn pause_until(&mut self, deadline: tokio::time::Instant) -> Wake {
        if self.stopping() {
            return Wake::Stop;
        }
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => Wake::Elapsed,
            p = self.inbox.changed() => {
                if p.is_none() || self.stopping() {
                    Wake::Stop
                } else {
                    Wake::Changed
                }
            }
        }
    }

    /// Wait a simulated duration, ignoring changes other than deletion.
    async fn hold(&mut self, d: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + self.k.inner.clock.real(d);
        self.hold_until(deadline).await
    }

    /// Wait out a back-off; never instant, so retries do not spin even on an infinitely fast clock.
    async fn hold_backoff(&mut self, d: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + self.k.inner.clock.backoff(d);
        self.hold_until(deadline).await
    }

    async fn hold_until(&mut self, deadline: tokio::time::Instant) -> bool {
        loop {
            if tokio::time::Instant::now() >= deadline {
                return !self.stopping();
            }
            match self.pause_until(deadline).await {
                Wake::Elapsed => return !self.stopping(),
                Wake::Stop => return false,
                Wake::Changed => continue,
            }
        }
    }

    async fn life(&mut self) {
        // The parsed pod is not kept across the waits below: a worker lives as long as its pod,
        // and thousands of them each holding a parsed copy would outweigh the store.
        if self.current().is_none() {
            return;
        }
        if self.stopping() {
            self.terminate().await;
            return;
        }
        let Some((inits, mains, restart_policy)) = self.begin() else { return };
        self.write_status();
        // The sandbox (network namespace) comes up: the pod gets its IP.
        if !self.hold(Duration::from_millis(300)).await {
            self.terminate().await;
            return;
        }
        self.state.pod_ip = self.k.allocate_ip();
        let now = self.now();
        self.state.set("PodReadyToStartContainers", true, None, None, &now);
        if let Some(pod) = self.current() {
            self.write_etc(&pod);
        }
        self.write_status();
        self.run_containers(inits, mains, &restart_policy).await;
    }

    /// The pod's conditions and container states at the start; the numbers of init and main
    /// containers and the restartPolicy.
    fn begin(&mut self) -> Option<(usize, usize, String)> {
        let pod = self.current()?;
        let now = self.now();
        self.state.set("PodScheduled", true, None, None, &now);
        self.state.set("PodReadyToStartContainers", false, None, None, &now);
        let inits = containers(&pod, "initContainers");
        let mains = containers(&pod, "containers");
        let first_wait = if inits.is_empty() { "ContainerCreating" } else { "PodInitializing" };
        self.state.init = inits
            .iter()
            .map(|c| {
                ContainerState::new(
                    c["name"].as_str().unwrap_or(""),
                    c["image"].as_str().unwrap_or(""),
                    "PodInitializing",
                )
            })
            .collect();
        self.state.containers = mains
            .iter()
            .map(|c| {
                ContainerState::new(c["name"].as_str().unwrap_or(""), c["image"].as_str().unwrap_or(""), first_wait)
            })
            .collect();
        let restart_policy = pod.pointer("/spec/restartPolicy").and_then(Value::as_str).unwrap_or("Always").to_string();
        Some((inits.len(), mains.len(), restart_policy))
    }

    async fn run_containers(&mut self, inits: usize, mains: usize, restart_policy: &str) {
        for i in 0..inits {
            let mut backoff = Duration::from_secs(10);
            loop {
                if !self.pull(true, i).await {
                    self.terminate().await;
                    return;
                }
                let Some(code) = self.run_init(i).await else {
                    self.terminate().await;
                    return;
                };
                if code == 0 {
                    break;
                }
                if restart_policy == "Never" {
                    self.state.phase = "Failed";
                    self.write_status();
                    self.wait_for_deletion().await;
                    self.terminate().await;
                    return;
                }
                let cname = self.state.init[i].name.clone();
                self.state.init[i].last_state = Some(self.state.init[i].state.clone());
                self.state.init[i].state = State::Waiting {
                    reason: "CrashLoopBackOff".into(),
                    message: Some(format!(
                        "back-off {}s restarting failed container={cname} pod={}_{}({})",
                        backoff.as_secs(),
                        self.name,
                        self.ns,
                        self.uid
                    )),
                };
                self.write_status();
                self.event(
                    "Warning",
                    "BackOff",
                    &format!(
                        "Back-off restarting failed container {cname} in pod {}_{}({})",
                        self.name, self.ns, self.uid
                    ),
                    Some(&field_path(true, &cname)),
                );
                if !self.hold_backoff(backoff).await {
                    self.terminate().await;
                    return;
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
                self.state.init[i].restart_count += 1;
            }
        }
        for i in 0..mains {
            if !self.pull(false, i).await {
                self.terminate().await;
                return;
            }
            if let Some(p) = self.current() {
                self.start_main(&p, i);
            }
        }
        self.state.phase = "Running";
        self.write_status();
        self.supervise(restart_policy).await;
    }

    fn spec_of(&self, init: bool, i: usize) -> Option<Value> {
        spec_in(&*self.current()?, init, i)
    }

    fn slot(&mut self, init: bool, i: usize) -> &mut ContainerState {
        if init {
            &mut self.state.init[i]
        } else {
            &mut self.state.containers[i]
        }
    }

    fn argv(spec: &Value) -> Vec<String> {
        let mut argv: Vec<String> = Vec::new();
        for key in ["command", "args"] {
            for a in spec[key].as_array().into_iter().flatten() {
                argv.push(a.as_str().unwrap_or("").to_string());
            }
        }
        argv
    }

    /// Output of a container goes to its log as it is written.
    fn log_sink(&self, container: &str) -> Output {
        let logs = self.k.inner.logs.clone();
        let clock = self.k.inner.clock;
        let (ns, pod, c) = (self.ns.clone(), self.name.clone(), container.to_string());
        Output::forwarding(move |_s: Stream, text: &str| logs.append(&ns, &pod, &c, clock.now_micro(), text))
    }

    fn mark_started(&mut self, init: bool, i: usize, name: &str) {
        let now = self.now();
        let fp = field_path(init, name);
        self.event("Normal", "Created", &format!("Created container: {name}"), Some(&fp));
        self.event("Normal", "Started", &format!("Started container {name}"), Some(&fp));
        let slot = self.slot(init, i);
        slot.container_id = container_id();
        slot.state = State::Running { started_at: now };
        self.k.inner.logs.start(&self.ns, &self.name, &self.uid, name);
    }

    /// Run init container `i` to completion; None when the pod is going away meanwhile.
    async fn run_init(&mut self, i: usize) -> Option<i32> {
        let pod = self.current()?;
        let spec = spec_in(&pod, true, i)?;
        let name = spec["name"].as_str().unwrap_or("").to_string();
        let host = self.host_for(&pod, &spec);
        let argv = Self::argv(&spec);
        self.mark_started(true, i, &name);
        self.write_status();
        let started = self.now();
        let mut out = self.log_sink(&name);
        let task = self.k.spawn_process(async move { sim::run_argv(&argv, &host, &mut out).await });
        let abort = task.abort_handle();
        tokio::pin!(task);
        let code = loop {
            tokio::select! {
                r = &mut task => break r.unwrap_or(137),
                p = self.inbox.changed() => {
                    if p.is_none() || self.stopping() {
                        abort.abort();
                        self.k.inner.logs.end(&self.ns, &self.name, &name);
                        return None;
                    }
                }
            }
        };
        self.k.inner.logs.end(&self.ns, &self.name, &name);
        let now = self.now();
        self.state.init[i].state = State::Terminated {
            exit_code: code,
            reason: if code == 0 { "Completed".into() } else { "Error".into() },
            started_at: started,
            finished_at: now,
            message: None,
        };
        self.write_status();
        Some(code)
    }

    fn is_nginx(spec: &Value) -> Option<String> {
        let image = spec["image"].as_str().unwrap_or("");
        let img = catalogue::lookup(image).ok()?;
        if img.kind != ImageKind::Nginx {
            return None;
        }
        let argv = Self::argv(spec);
        let runs_nginx = argv.is_empty()
            || argv[0] == "nginx"
            || argv[0].ends_with("/nginx")
            || argv[0].ends_with("docker-entrypoint.sh");
        runs_nginx.then_some(img.version)
    }

    fn start_main(&mut self, pod: &Value, i: usize) {
        let Some(spec) = spec_in(pod, false, i) else { return };
        let name = spec["name"].as_str().unwrap_or("").to_string();
        let host = Arc::new(self.host_for(pod, &spec));
        self.mark_started(false, i, &name);
        self.arm_probes(i, &spec);
        if let Some(version) = Self::is_nginx(&spec) {
            let now = self.k.inner.clock.now();
            let stamp = now.strftime("%Y/%m/%d %H:%M:%S").to_string();
            let lines = format!(
                "/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration\n\
                 /docker-entrypoint.sh: Looking for shell scripts in /docker-entrypoint.d/\n\
                 /docker-entrypoint.sh: Launching /docker-entrypoint.d/10-listen-on-ipv6-by-default.sh\n\
                 /docker-entrypoint.sh: Configuration complete; ready for start up\n\
                 {stamp} [notice] 1#1: using the \"epoll\" event method\n\
                 {stamp} [notice] 1#1: nginx/{version}\n\
                 {stamp} [notice] 1#1: OS: Linux (simulated by kubetutor)\n\
                 {stamp} [notice] 1#1: start worker processes\n\
                 {stamp} [notice] 1#1: start worker process 29\n"
            );
            self.k.inner.logs.append(&self.ns, &self.name, &name, self.k.inner.clock.now_micro(), &lines);
            self.k.register(&self.ns, &self.name, &name, RunningContainer { host: host.clone(), console: None });
            self.k.add_server(
                &self.state.pod_ip,
                Server {
                    fs: host.fs.clone(),
                    version,
                    port: 80,
                    namespace: self.ns.clone(),
                    pod: self.name.clone(),
                    container: name,
                },
            );
            return;
        }
        let mut argv = Self::argv(&spec);
        let inbox = self.inbox.clone();
        let shell_image =
            catalogue::lookup(spec["image"].as_str().unwrap_or("")).is_ok_and(|img| img.kind == ImageKind::Shell);
        if argv.is_empty() && shell_image {
            // The shell images' default command.
            argv.push("sh".into());
        }
        let task = if spec["stdin"] == true && console::is_interactive_shell(&argv) {
            // `kubectl run -it ... -- sh`: the shell waits for an attached terminal.
            let (con, input) = Console::new(spec["tty"] == true);
            self.k.register(
                &self.ns,
                &self.name,
                &name,
                RunningContainer { host: host.clone(), console: Some(con.clone()) },
            );
            let logs = self.k.inner.logs.clone();
            let clock = self.k.inner.clock;
            let (ns, pod, c) = (self.ns.clone(), self.name.clone(), name.clone());
            let log: Box<dyn FnMut(&str) + Send> =
                Box::new(move |text: &str| logs.append(&ns, &pod, &c, clock.now_micro(), text));
            self.k.spawn_process(async move {
                let code = console::run_shell(&argv[0], host, con, input, Some(log)).await;
                inbox.exited(i, code);
            })
        } else {
            self.k.register(&self.ns, &self.name, &name, RunningContainer { host: host.clone(), console: None });
            let mut out = self.log_sink(&name);
            self.k.spawn_process(async move {
                let code = sim::run_argv(&argv, host.as_ref(), &mut out).await;
                inbox.exited(i, code);
            })
        };
        self.procs.insert(i, task.abort_handle());
    }

    /// Watch the running containers: restart or finish them per restartPolicy, stop on deletion.
    async fn supervise(&mut self, restart_policy: &str) {
        let mut backoffs: HashMap<usize, Duration> = HashMap::new();
        let mut restart_at: Vec<(tokio::time::Instant, usize)> = Vec::new();
        loop {
            let next = restart_at.iter().map(|(t, _)| *t).min();
            let next_probe = self.probers.iter().map(|p| p.due).min();
            tokio::select! {
                _ = async { match next_probe { Some(t) => tokio::time::sleep_until(t).await, None => std::future::pending().await } } => {
                    if self.run_probes().await {
                        self.write_status();
                    }
                }
                p = self.inbox.changed() => {
                    if p.is_none() || self.stopping() {
                        self.terminate().await;
                        return;
                    }
                }
                (i, code) = self.inbox.next_exit() => {
                    self.procs.remove(&i);
                    self.probers.retain(|p| p.container != i);
                    let name = self.state.containers[i].name.clone();
                    self.k.unregister(&self.ns, &self.name, Some(&name));
                    self.k.inner.logs.end(&self.ns, &self.name, &name);
                    let started = match &self.state.containers[i].state {
                        State::Running { started_at } => started_at.clone(),
                        _ => self.now(),
                    };
                    let finished = State::Terminated {
                        exit_code: code,
                        reason: if code == 0 { "Completed".into() } else { "Error".into() },
                        started_at: started,
                        finished_at: self.now(),
                        message: None,
                    };
                    self.state.containers[i].ready = false;
                    let restart = match restart_policy {
                        "Never" => false,
                        "OnFailure" => code != 0,
                        _ => true,
                    };
                    if restart {
                        let b = *backoffs.get(&i).unwrap_or(&Duration::from_secs(10));
                        backoffs.insert(i, (b * 2).min(MAX_BACKOFF));
                        self.state.containers[i].last_state = Some(finished);
                        self.state.containers[i].state = State::Waiting {
                            reason: "CrashLoopBackOff".into(),
                            message: Some(format!("back-off {}s restarting failed container={name} pod={}_{}({})", b.as_secs(), self.name, self.ns, self.uid)),
                        };
                        self.event("Warning", "BackOff", &format!("Back-off restarting failed container {name} in pod {}_{}({})", self.name, self.ns, self.uid), Some(&field_path(false, &name)));
                        restart_at.push((tokio::time::Instant::now() + self.k.inner.clock.backoff(b), i));
                    } else {
                        self.state.containers[i].state = finished;
                        let all_done = self.state.containers.iter().all(|c| matches!(c.state, State::Terminated { .. }));
                        if all_done {
                            let ok = self.state.containers.iter().all(|c| matches!(c.state, State::Terminated { exit_code: 0, .. }));
                            self.state.phase = if ok { "Succeeded" } else { "Failed" };
                        }
                    }
                    self.write_status();
                }
                _ = async { match next { Some(t) => tokio::time::sleep_until(t).await, None => std::future::pending().await } } => {
                    let now = tokio::time::Instant::now();
                    let due: Vec<usize> = restart_at.iter().filter(|(t, _)| *t <= now).map(|(_, i)| *i).collect();
                    restart_at.retain(|(t, _)| *t > now);
                    for i in due {
                        self.state.containers[i].restart_count += 1;
                        if !self.pull(false, i).await {
                            self.terminate().await;
                            return;
                        }
                        if let Some(p) = self.current() {
                            self.start_main(&p, i);
                        }
                    }
                    self.write_status();
                }
            }
        }
    }

    async fn wait_for_deletion(&mut self) {
        while !self.stopping() {
            if self.inbox.changed().await.is_none() {
                return;
            }
        }
    }

    /// Graceful termination: stop containers (nginx quits on SIGQUIT; a shell as PID 1 ignores
    /// SIGTERM and is killed when the grace period ends), then the final delete. Even a process
    /// that quits at once leaves its pod Terminating for about a second, as a real kubelet's
    /// stop, volume clean-up and status sync take: clients that delete and then wait (kubectl
    /// delete looks the pod up, then watches for its deletion) rely on that.
    async fn terminate(&mut self) {
        const NGINX_STOP: Duration = Duration::from_millis(1000);
        let Some(pod) = self.current() else { return };
        let grace =
            pod.pointer("/metadata/deletionGracePeriodSeconds").and_then(Value::as_i64).unwrap_or(0).max(0) as u64;
        let mut wait = Duration::ZERO;
        for i in 0..self.state.containers.len() {
            let c = self.state.containers[i].clone();
            if !matches!(c.state, State::Running { .. }) {
                continue;
            }
            self.event(
                "Normal",
                "Killing",
                &format!("Stopping container {}", c.name),
                Some(&field_path(false, &c.name)),
            );
            let is_server = self.k.server_at(&self.state.pod_ip, 80).is_some_and(|s| s.container == c.name);
            if is_server {
                let stamp = self.k.inner.clock.now().strftime("%Y/%m/%d %H:%M:%S").to_string();
                self.k.inner.logs.append(&self.ns, &self.name, &c.name, self.k.inner.clock.now_micro(),
                    &format!("{stamp} [notice] 1#1: signal 3 (SIGQUIT) received, shutting down\n{stamp} [notice] 1#1: exit\n"));
                wait = wait.max(NGINX_STOP);
            } else {
                wait = wait.max(Duration::from_secs(grace));
            }
        }
        let real = self.k.inner.clock.real(wait);
        let deadline = tokio::time::Instant::now() + real;
        // A shorter grace period (kubectl delete --now / --force) ends the wait early.
        while tokio::time::Instant::now() < deadline {
            tokio::select! {
                _ = tokio::time::sleep_until(deadline) => {}
                p = self.inbox.changed() => {
                    if p.is_none() || self.current().is_none() {
                        break;
                    }
                    let g = self.current().and_then(|p| p.pointer("/metadata/deletionGracePeriodSeconds").and_then(Value::as_i64)).unwrap_or(0);
                    if g == 0 {
                        break;
                    }
                }
            }
        }
        let now = self.now();
        for (_, h) in self.procs.drain() {
            h.abort();
        }
        for c in &mut self.state.containers {
            if let State::Running { started_at } = &c.state {
                c.state = State::Terminated {
                    exit_code: 0,
                    reason: "Completed".into(),
                    started_at: started_at.clone(),
                    finished_at: now.clone(),
                    message: None,
                };
                c.ready = false;
            }
        }
        self.write_status();
        let opts = DeleteOpts {
            grace_period_seconds: Some(0),
            precondition_uid: Some(self.uid.clone()),
            ..Default::default()
        };
        if let Err(e) = admission::delete(&self.k.inner.store, kinds::pods(), &self.ns, &self.name, &opts) {
            if e.code != 404 {
                tracing::warn!(pod = %self.name, namespace = %self.ns, "pod not removed: {}", e.message);
            }
        }
    }

    fn cleanup(&mut self) {
        for (_, h) in self.procs.drain() {
            h.abort();
        }
        self.k.unregister(&self.ns, &self.name, None);
        if !self.state.pod_ip.is_empty() {
            self.k.remove_servers(&self.state.pod_ip, None);
            self.k.release_ip(&self.state.pod_ip);
        }
        for c in self.state.init.iter().chain(&self.state.containers) {
            self.k.inner.logs.end(&self.ns, &self.name, &c.name);
        }
        self.k.inner.logs.forget(&self.ns, &self.name, &self.uid);
    }
}
