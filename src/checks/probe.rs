//! `dns` and `http_index`: what a probe pod saw when it looked up each pod's DNS name and
//! fetched its index.html. The runner runs one probe pod with [`script`] and parses its log
//! with [`ProbeAnswers::parse`]; the checks compare the answers with the pods.

use std::collections::BTreeMap;

use kube::ResourceExt;

use super::params::ProbeParams;
use super::roles;
use super::util::{not_yet, pod_ip, ready_pods, sts_object};
use crate::checks::Outcome;
use crate::cluster::Snapshot;

const MARK: &str = "@@kubetutor";

/// What the probe saw for one pod.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostAnswer {
    /// The name looked up: `web-0.nginx.default.svc.cluster.local`.
    pub fqdn: String,
    /// The addresses nslookup gave for it (empty when it did not resolve).
    pub addresses: Vec<String>,
    /// nslookup's output, for messages.
    pub dns_log: String,
    /// What wget printed (index.html, or wget's error).
    pub http: String,
    /// wget's exit status; 0 when the page was fetched.
    pub http_status: Option<i32>,
}

/// The probe's answers by pod name, or why there are none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProbeAnswers {
    pub hosts: BTreeMap<String, HostAnswer>,
    /// The probe pod could not run (image pull, timeout): the message.
    pub failure: Option<String>,
}

/// The DNS name of pod `pod` under the headless Service.
pub fn fqdn(pod: &str, service: &str, namespace: &str) -> String {
    format!("{pod}.{service}.{namespace}.svc.cluster.local")
}

/// A `sh` script that looks up and fetches each `(pod, fqdn)`, with markers between the parts.
/// Full names, because busybox 1.29+ does not apply the search path to names with a dot.
pub fn script(hosts: &[(String, String)]) -> String {
    let mut s = String::new();
    for (pod, name) in hosts {
        s.push_str(&format!(
            "echo '{MARK} dns {pod} {name}'; nslookup {name}; echo '{MARK} http {pod}'; wget -q -T 5 -O - http://{name}/; echo \"{MARK} end {pod} $?\"; "
        ));
    }
    s.push_str("true");
    s
}

/// Addresses in nslookup's output after the server block: `Address: 10.244.0.5` (busybox 1.29+)
/// or `Address 1: 10.244.0.5 web-0...` (older).
fn addresses(dns_log: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut after_name = false;
    for line in dns_log.lines() {
        let line = line.trim();
        if line.starts_with("Name:") {
            after_name = true;
            continue;
        }
        if !after_name {
            continue;
        }
        let value = if let Some(rest) = line.strip_prefix("Address:") {
            rest.trim()
        } else if let Some(rest) = line.strip_prefix("Address ") {
            rest.split_once(':').map(|(_, v)| v.trim()).unwrap_or("")
        } else {
            continue;
        };
        if let Some(ip) = value.split_whitespace().next() {
            found.push(ip.to_string());
        }
    }
    found
}

impl ProbeAnswers {
    /// Parse the log of a probe pod that ran [`script`].
    pub fn parse(log: &str) -> ProbeAnswers {
        let mut hosts: BTreeMap<String, HostAnswer> = BTreeMap::new();
        enum Part {
            None,
            Dns,
            Http,
        }
        let mut part = Part::None;
        let mut pod = String::new();
        for line in log.lines() {
            if let Some(rest) = line.strip_prefix(MARK).map(str::trim) {
                let words: Vec<&str> = rest.split_whitespace().collect();
                match words.as_slice() {
                    ["dns", p, name] => {
                        pod = p.to_string();
                        hosts.insert(pod.clone(), HostAnswer { fqdn: name.to_string(), ..Default::default() });
                        part = Part::Dns;
                    }
                    ["http", p] => {
                        pod = p.to_string();
                        part = Part::Http;
                    }
                    ["end", p, code] => {
                        if let Some(h) = hosts.get_mut(*p) {
                            h.http_status = code.parse().ok();
                        }
                        part = Part::None;
                    }
                    _ => {}
                }
                continue;
            }
            let Some(h) = hosts.get_mut(&pod) else { continue };
            match part {
                Part::Dns => {
                    h.dns_log.push_str(line);
                    h.dns_log.push('\n');
                }
                Part::Http => {
                    h.http.push_str(line);
                    h.http.push('\n');
                }
                Part::None => {}
            }
        }
        for h in hosts.values_mut() {
            h.addresses = addresses(&h.dns_log);
        }
        ProbeAnswers { hosts, failure: None }
    }
}

/// The Service the pods' DNS names hang under: the StatefulSet's `spec.serviceName`.
pub fn service_of<'a>(snapshot: &'a Snapshot, statefulset: &str) -> &'a str {
    snapshot.statefulsets.get(statefulset).map(roles::service_name).unwrap_or("")
}

/// The pods to probe for a check, once they are all Ready; else the outcome to report.
fn probed<'a>(
    p: &ProbeParams,
    snapshot: &'a Snapshot,
    probes: &'a ProbeAnswers,
) -> Result<Vec<(&'a k8s_openapi::api::core::v1::Pod, &'a HostAnswer)>, Outcome> {
    let pods = ready_pods(snapshot, &p.statefulset, p.replicas)?;
    let service = service_of(snapshot, &p.statefulset);
    if service.is_empty() || !snapshot.services.contains_key(service) {
        let shown = if service.is_empty() {
            "not set".to_string()
        } else {
            format!("{service:?}, a Service that does not exist")
        };
        return Err(not_yet(
            format!("the pods have no DNS names: spec.serviceName is {shown}"),
            &sts_object(&p.statefulset),
            Some("spec.serviceName"),
            Some("The check of step 1 says how to fix it."),
        ));
    }
    if let Some(failure) = &probes.failure {
        return Err(not_yet(
            format!("the probe pod could not run: {failure}"),
            &sts_object(&p.statefulset),
            None,
            Some("kubetutor starts a busybox pod to look the names up; on a real cluster it must be able to pull busybox."),
        ));
    }
    let mut out = Vec::new();
    for pod in pods {
        let Some(answer) = probes.hosts.get(&pod.name_any()) else {
            return Err(Outcome::waiting(format!("waiting for the probe pod to look up {}", pod.name_any())));
        };
        out.push((pod, answer));
    }
    Ok(out)
}

pub fn dns(p: &ProbeParams, snapshot: &Snapshot, probes: &ProbeAnswers) -> Outcome {
    let pairs = match probed(p, snapshot, probes) {
        Ok(pairs) => pairs,
        Err(o) => return o,
    };
    let object = sts_object(&p.statefulset);
    for (pod, answer) in pairs {
        let name = pod.name_any();
        let ip = pod_ip(pod).unwrap_or("");
        if answer.addresses.is_empty() {
            let subdomain = pod.spec.as_ref().and_then(|s| s.subdomain.as_deref()).unwrap_or("");
            let service = service_of(snapshot, &p.statefulset);
            let (why, field) = if subdomain != service {
                (format!("{name}'s subdomain is {subdomain:?}, not the Service {service:?}"), Some("spec.serviceName"))
            } else if !snapshot.services.contains_key(service) {
                (format!("there is no Service {service:?}"), None)
            } else {
                ("the Service does not list the pod (compare its selector with the pod's labels)".to_string(), None)
            };
            return not_yet(
                format!("{} does not resolve: {why}", answer.fqdn),
                &object,
                field,
                Some("kubectl get endpointslices shows which pods the Service found."),
            );
        }
        if !answer.addresses.iter().any(|a| a == ip) {
            return Outcome::waiting(format!(
                "waiting for DNS: {} answers {} but {name}'s IP is {ip}",
                answer.fqdn,
                answer.addresses.join(", ")
            ));
        }
    }
    Outcome::Pass
}

pub fn http_index(p: &ProbeParams, snapshot: &Snapshot, probes: &ProbeAnswers) -> Outcome {
    let pairs = match probed(p, snapshot, probes) {
        Ok(pairs) => pairs,
        Err(o) => return o,
    };
    let want = p.hostname_at_least.unwrap_or(1);
    let object = sts_object(&p.statefulset);
    for (pod, answer) in pairs {
        let name = pod.name_any();
        if answer.http_status != Some(0) {
            let said = answer.http.trim();
            let said = if said.is_empty() { "no output".to_string() } else { format!("{said:?}") };
            return not_yet(
                format!("wget http://{}/ failed ({said})", answer.fqdn),
                &object,
                None,
                Some("The page comes from nginx in the pod: check that the pod is Running and serves port 80."),
            );
        }
        let lines: Vec<&str> = answer.http.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        let mine = lines.iter().filter(|l| **l == name).count();
        if mine == 0 {
            let first = lines.first().copied().unwrap_or("");
            return not_yet(
                format!("{name} serves {first:?} instead of its hostname: index.html is not the one the init container wrote"),
                &object,
                Some("spec.template.spec.containers[0].volumeMounts[0].mountPath"),
                Some("nginx must mount the same volume as the init container, at /usr/share/nginx/html."),
            );
        }
        if mine < want {
            let times = |n: usize| if n == 1 { "once".to_string() } else { format!("{n} times") };
            return not_yet(
                format!(
                    "{name}'s index.html holds its hostname {}; after a restart on the same volume it holds it {}",
                    times(mine),
                    times(want)
                ),
                &object,
                None,
                Some("Delete the pods: each new one appends its hostname to the file its predecessor left."),
            );
        }
    }
    Outcome::Pass
}
