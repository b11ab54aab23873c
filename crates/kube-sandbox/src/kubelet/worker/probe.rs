//! Readiness and liveness probes as the kubelet's prober runs them (pkg/kubelet/prober): an
//! `httpGet` (success for a status from 200 to 399), a `tcpSocket` (something listens) or an
//! `exec` (exit status 0) after `initialDelaySeconds`, every `periodSeconds`, each within
//! `timeoutSeconds`; `successThreshold` passes in a row make a container ready,
//! `failureThreshold` failures in a row make it unready (readiness) or restart it (liveness).
//! Each failure is an `Unhealthy` event with upstream's words.

use std::time::Duration;

use serde_json::Value;

use super::field_path;
use crate::kubelet::host::ContainerHost;
use crate::sim::{self, Host, HttpResult, Output};

/// The kubelet's prober sends `kube-probe/<major>.<minor>`.
const PROBE_AGENT: &str = "kube-probe/1.33";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Readiness,
    Liveness,
}

impl Kind {
    pub(crate) fn word(self) -> &'static str {
        match self {
            Kind::Readiness => "Readiness",
            Kind::Liveness => "Liveness",
        }
    }

    fn field(self) -> &'static str {
        match self {
            Kind::Readiness => "readinessProbe",
            Kind::Liveness => "livenessProbe",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Handler {
    Http { path: String, port: u16 },
    Tcp { port: u16 },
    Exec { argv: Vec<String> },
}

/// One probe of a container, as its spec says, with the defaults of the API (SetDefaults_Probe).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Spec {
    pub kind: Kind,
    pub handler: Handler,
    pub initial_delay: Duration,
    pub period: Duration,
    pub timeout: Duration,
    pub success_threshold: u32,
    pub failure_threshold: u32,
}

/// A probe's port: a number, or the name of one of the container's ports.
fn port_of(port: &Value, container: &Value) -> Option<u16> {
    match port {
        Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
        Value::String(name) => container["ports"]
            .as_array()?
            .iter()
            .find(|p| p["name"] == *name.as_str())
            .and_then(|p| p["containerPort"].as_u64())
            .and_then(|n| u16::try_from(n).ok()),
        _ => None,
    }
}

fn secs(probe: &Value, field: &str, default: u64) -> u64 {
    probe[field].as_u64().unwrap_or(default)
}

impl Spec {
    /// The `kind` probe of `container`, if it has one the prober can run.
    pub(crate) fn of(container: &Value, kind: Kind) -> Option<Spec> {
        let probe = container.get(kind.field())?;
        let handler = if let Some(h) = probe.get("httpGet") {
            let path = h["path"].as_str().filter(|p| !p.is_empty()).unwrap_or("/").to_string();
            Handler::Http { path, port: port_of(&h["port"], container)? }
        } else if let Some(t) = probe.get("tcpSocket") {
            Handler::Tcp { port: port_of(&t["port"], container)? }
        } else if let Some(e) = probe.get("exec") {
            let argv = e["command"].as_array()?.iter().filter_map(|a| a.as_str().map(str::to_string)).collect();
            Handler::Exec { argv }
        } else {
            return None;
        };
        Some(Spec {
            kind,
            handler,
            initial_delay: Duration::from_secs(secs(probe, "initialDelaySeconds", 0)),
            period: Duration::from_secs(secs(probe, "periodSeconds", 10).max(1)),
            timeout: Duration::from_secs(secs(probe, "timeoutSeconds", 1).max(1)),
            // A liveness probe's successThreshold must be 1 (validation); readiness may ask more.
            success_threshold: secs(probe, "successThreshold", 1).max(1) as u32,
            failure_threshold: secs(probe, "failureThreshold", 3).max(1) as u32,
        })
    }
}

/// Run one probe against the container's host and its pod IP: `Err` is the failure message as
/// the kubelet words it (after `Readiness probe failed: `).
pub(crate) async fn run(
    handler: &Handler,
    host: &std::sync::Arc<ContainerHost>,
    pod_ip: &str,
    timeout: Duration,
) -> Result<(), String> {
    match handler {
        Handler::Http { path, port } => {
            let url = format!("http://{pod_ip}:{port}{path}");
            match host.http_get_as(&url, PROBE_AGENT).await {
                HttpResult::Response { response, .. } if (200..400).contains(&response.status) => Ok(()),
                HttpResult::Response { response, .. } => {
                    Err(format!("HTTP probe failed with statuscode: {}", response.status))
                }
                HttpResult::Refused { .. } | HttpResult::Unreachable { .. } | HttpResult::BadAddress => {
                    Err(format!("Get \"{url}\": dial tcp {pod_ip}:{port}: connect: connection refused"))
                }
                HttpResult::Timeout { .. } => Err(format!(
                    "Get \"{url}\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
                )),
            }
        }
        Handler::Tcp { port } => {
            if host.kubelet.server_at(pod_ip, *port).is_some() {
                Ok(())
            } else {
                Err(format!("dial tcp {pod_ip}:{port}: connect: connection refused"))
            }
        }
        Handler::Exec { argv } => {
            // A process like any other: on the node's thread, stopped at the timeout.
            let (argv2, host2) = (argv.clone(), host.clone());
            let process = host.kubelet.spawn_process(async move {
                let mut out = Output::buffered();
                let code = sim::run_argv(&argv2, host2.as_ref(), &mut out).await;
                (code, out.text())
            });
            let stop = process.abort_handle();
            let finished = tokio::time::timeout(timeout, process).await;
            if finished.is_err() {
                stop.abort();
            }
            match finished.map(|r| r.unwrap_or((137, String::new()))) {
                Ok((0, _)) => Ok(()),
                Ok((code, said)) => {
                    let said = said.trim_end();
                    if said.is_empty() {
                        Err(format!("command {argv:?} exited with {code}"))
                    } else {
                        Err(said.to_string())
                    }
                }
                Err(_) => Err(format!("command {argv:?} timed out")),
            }
        }
    }
}

/// A probe's running state: when it is due next and its runs of successes and failures.
#[derive(Debug, Clone)]
pub(crate) struct Prober {
    pub spec: Spec,
    pub container: usize,
    pub due: tokio::time::Instant,
    successes: u32,
    failures: u32,
}

/// What a probe result changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Nothing (not enough in a row yet).
    Same,
    /// Readiness: the container is ready now / not ready now.
    Ready(bool),
    /// Liveness: the container is to be restarted.
    Restart,
}

impl Prober {
    pub(crate) fn new(spec: Spec, container: usize, first: tokio::time::Instant) -> Prober {
        Prober { spec, container, due: first, successes: 0, failures: 0 }
    }

    /// Count a result; `ready` is the container's readiness now.
    pub(crate) fn record(&mut self, ok: bool, ready: bool) -> Verdict {
        if ok {
            self.failures = 0;
            self.successes = self.successes.saturating_add(1);
            if self.spec.kind == Kind::Readiness && !ready && self.successes >= self.spec.success_threshold {
                return Verdict::Ready(true);
            }
        } else {
            self.successes = 0;
            self.failures = self.failures.saturating_add(1);
            if self.failures >= self.spec.failure_threshold {
                match self.spec.kind {
                    Kind::Readiness if ready => return Verdict::Ready(false),
                    Kind::Liveness => {
                        self.failures = 0;
                        return Verdict::Restart;
                    }
                    Kind::Readiness => {}
                }
            }
        }
        Verdict::Same
    }
}

/// The worker's side: arming a started container's probes and running those that are due.
impl super::Worker {
    /// Start the probes of container `i` (just started): with a readiness probe it is not ready
    /// until the probe says so; without one it is ready at once.
    pub(super) fn arm_probes(&mut self, i: usize, spec: &Value) {
        self.probers.retain(|p| p.container != i);
        let readiness = Spec::of(spec, Kind::Readiness);
        self.state.containers[i].ready = readiness.is_none();
        let now = tokio::time::Instant::now();
        for s in readiness.into_iter().chain(Spec::of(spec, Kind::Liveness)) {
            let first = now + self.k.inner.clock.backoff(s.initial_delay);
            self.probers.push(Prober::new(s, i, first));
        }
    }

    /// Run the probes that are due; true when a container's readiness changed.
    pub(super) async fn run_probes(&mut self) -> bool {
        let now = tokio::time::Instant::now();
        let mut changed = false;
        for n in 0..self.probers.len() {
            if self.probers[n].due > now {
                continue;
            }
            let (spec, i) = (self.probers[n].spec.clone(), self.probers[n].container);
            self.probers[n].due = now + self.k.inner.clock.backoff(spec.period);
            let name = self.state.containers[i].name.clone();
            let Some(running) = self.k.running(&self.ns, &self.name, &name) else { continue };
            // A probe's timeout in simulated time, but never shorter than the simulation needs.
            let timeout = self.k.inner.clock.real(spec.timeout).max(Duration::from_millis(200));
            let result = run(&spec.handler, &running.host, &self.state.pod_ip, timeout).await;
            if let Err(message) = &result {
                self.event(
                    "Warning",
                    "Unhealthy",
                    &format!("{} probe failed: {message}", spec.kind.word()),
                    Some(&field_path(false, &name)),
                );
            }
            match self.probers[n].record(result.is_ok(), self.state.containers[i].ready) {
                Verdict::Same => {}
                Verdict::Ready(ready) => {
                    self.state.containers[i].ready = ready;
                    changed = true;
                }
                Verdict::Restart => {
                    self.event(
                        "Normal",
                        "Killing",
                        &format!("Container {name} failed liveness probe, will be restarted"),
                        Some(&field_path(false, &name)),
                    );
                    if let Some(h) = self.procs.remove(&i) {
                        h.abort();
                    }
                    self.k.remove_servers(&self.state.pod_ip, Some(&name));
                    self.inbox.exited(i, 137);
                }
            }
        }
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn specs_with_the_apis_defaults() {
        let c = json!({"name": "nginx", "ports": [{"name": "web", "containerPort": 80}],
            "readinessProbe": {"httpGet": {"path": "/healthz", "port": "web"}, "periodSeconds": 2},
            "livenessProbe": {"exec": {"command": ["cat", "/tmp/healthy"]}, "failureThreshold": 1}});
        let r = Spec::of(&c, Kind::Readiness).unwrap();
        assert_eq!(r.handler, Handler::Http { path: "/healthz".into(), port: 80 });
        assert_eq!(
            (r.period, r.timeout, r.success_threshold, r.failure_threshold),
            (Duration::from_secs(2), Duration::from_secs(1), 1, 3)
        );
        let l = Spec::of(&c, Kind::Liveness).unwrap();
        assert_eq!(l.handler, Handler::Exec { argv: vec!["cat".into(), "/tmp/healthy".into()] });
        assert_eq!((l.period, l.failure_threshold), (Duration::from_secs(10), 1));
        assert!(Spec::of(&json!({"name": "x"}), Kind::Readiness).is_none());
        let tcp = json!({"readinessProbe": {"tcpSocket": {"port": 81}}});
        assert_eq!(Spec::of(&tcp, Kind::Readiness).unwrap().handler, Handler::Tcp { port: 81 });
    }

    #[test]
    fn thresholds_in_a_row() {
        let c = json!({"readinessProbe": {"tcpSocket": {"port": 80}, "successThreshold": 2, "failureThreshold": 2}});
        let mut p = Prober::new(Spec::of(&c, Kind::Readiness).unwrap(), 0, tokio::time::Instant::now());
        assert_eq!(p.record(true, false), Verdict::Same);
        assert_eq!(p.record(true, false), Verdict::Ready(true));
        assert_eq!(p.record(false, true), Verdict::Same);
        assert_eq!(p.record(true, true), Verdict::Same, "a pass breaks the run of failures");
        assert_eq!(p.record(false, true), Verdict::Same);
        assert_eq!(p.record(false, true), Verdict::Ready(false));
        let l = json!({"livenessProbe": {"tcpSocket": {"port": 80}, "failureThreshold": 2}});
        let mut p = Prober::new(Spec::of(&l, Kind::Liveness).unwrap(), 0, tokio::time::Instant::now());
        assert_eq!(p.record(false, true), Verdict::Same);
        assert_eq!(p.record(false, true), Verdict::Restart);
        assert_eq!(p.record(false, true), Verdict::Same, "counted afresh after a restart");
    }
}
