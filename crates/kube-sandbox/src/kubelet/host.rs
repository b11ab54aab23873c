//! What a simulated container sees of the world (the `sim::Host` the shell runs against): its
//! hostname and filesystem, cluster DNS through the DNS model, and HTTP routed like the pod
//! network and kube-proxy would, to the simulated nginx of the pod that owns the address.

use std::net::IpAddr;
use std::time::Duration;

use serde_json::Value;

use super::Kubelet;
use crate::consts::CLUSTER_DOMAIN;
use crate::dns::{self, Answer};
use crate::resources::kinds;
use crate::sim::{nginx, ContainerFs, DnsAddress, DnsAnswer, Host, HttpResult, Resolution};
use crate::store::name_of;

pub(crate) struct ContainerHost {
    pub kubelet: Kubelet,
    pub namespace: String,
    pub hostname: String,
    pub pod_ip: String,
    pub fs: ContainerFs,
    pub env: Vec<(String, String)>,
}

fn dns_server() -> DnsAddress {
    DnsAddress::new(
        crate::consts::DNS_SERVICE_IP.parse().expect("valid ip"),
        Some(&format!("kube-dns.kube-system.svc.{CLUSTER_DOMAIN}")),
    )
}

/// Split `http://host:port/path` into its parts (the shell hands full URLs).
pub(super) fn split_url(url: &str) -> (String, u16, String) {
    let rest = url.strip_prefix("http://").unwrap_or(url);
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].to_string()),
        None => (rest, "/".to_string()),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, p.parse().unwrap_or(80)),
        None => (authority, 80),
    };
    (host.to_string(), port, path)
}

impl ContainerHost {
    /// The name a reverse lookup of `ip` gives: a pod's per-service name or a service's name.
    fn ptr_name(&self, ip: &str) -> Option<String> {
        let store = &self.kubelet.inner.store;
        for ep in store.list(kinds::endpoints(), None).0 {
            for subset in ep["subsets"].as_array().into_iter().flatten() {
                for a in subset["addresses"].as_array().into_iter().flatten() {
                    if a["ip"] == ip {
                        if let Some(h) = a["hostname"].as_str() {
                            return Some(format!(
                                "{h}.{}.{}.svc.{CLUSTER_DOMAIN}",
                                name_of(&ep),
                                ep["metadata"]["namespace"].as_str().unwrap_or("")
                            ));
                        }
                    }
                }
            }
        }
        store
            .list(kinds::services(), None)
            .0
            .iter()
            .find(|s| s.pointer("/spec/clusterIP") == Some(&Value::from(ip)))
            .map(|s| {
                format!("{}.{}.svc.{CLUSTER_DOMAIN}", name_of(s), s["metadata"]["namespace"].as_str().unwrap_or(""))
            })
    }

    /// The address `/etc/hosts` gives `name` (`localhost`, the pod's own names), as libc's
    /// `files` source answers before DNS.
    fn in_hosts_file(&self, name: &str) -> Option<IpAddr> {
        let hosts = self.fs.read("/etc/hosts").ok()?;
        let name = name.trim_end_matches('.');
        hosts.lines().map(|l| l.split('#').next().unwrap_or("")).find_map(|line| {
            let mut words = line.split_whitespace();
            let ip = words.next()?.parse::<IpAddr>().ok()?;
            words.any(|w| w.eq_ignore_ascii_case(name)).then_some(ip)
        })
    }

    fn lookup(&self, name: &str) -> Resolution {
        let answer = match dns::resolve(&self.kubelet.inner.store, &self.namespace, name) {
            Answer::Found { fqdn, ips } => DnsAnswer::Found {
                fqdn,
                addresses: ips
                    .iter()
                    .filter_map(|ip| Some(DnsAddress::new(ip.parse().ok()?, self.ptr_name(ip).as_deref())))
                    .collect(),
            },
            Answer::NoAddress { fqdn } => DnsAnswer::Found { fqdn, addresses: Vec::new() },
            Answer::NxDomain => DnsAnswer::NxDomain,
        };
        Resolution { server: dns_server(), answer }
    }

    /// Route a request to `ip:port` the way the pod network and kube-proxy do.
    fn route(&self, ip: IpAddr, port: u16, host_header: &str, path: &str, agent: &str) -> HttpResult {
        let k = &self.kubelet;
        // The loopback is the pod's own network namespace: its own servers, or refused at once.
        let ip_s = if ip.is_loopback() { self.pod_ip.clone() } else { ip.to_string() };
        // A Service's cluster IP: kube-proxy picks a ready endpoint and its target port.
        if let Some(svc) = k
            .inner
            .store
            .list(kinds::services(), None)
            .0
            .into_iter()
            .find(|s| s.pointer("/spec/clusterIP") == Some(&Value::from(ip_s.as_str())))
        {
            let svc_port =
                svc["spec"]["ports"].as_array().and_then(|ps| ps.iter().find(|p| p["port"] == port).cloned());
            let ep = k.inner.store.get(
                kinds::endpoints(),
                svc["metadata"]["namespace"].as_str().unwrap_or(""),
                name_of(&svc),
            );
            let target = svc_port.and_then(|sp| {
                let subset = ep?.get("subsets")?.as_array()?.first()?.clone();
                let addrs = subset["addresses"].as_array()?.clone();
                let pick = addrs.get(rand::random_range(0..addrs.len().max(1)))?.clone();
                let eport = subset["ports"]
                    .as_array()?
                    .iter()
                    .find(|p| p.get("name") == sp.get("name"))
                    .and_then(|p| p["port"].as_u64())?;
                Some((pick["ip"].as_str()?.parse::<IpAddr>().ok()?, eport as u16))
            });
            return match target {
                Some((pip, pport)) => self.route(pip, pport, host_header, path, agent),
                None => HttpResult::Refused { ip, port },
            };
        }
        match k.server_at(&ip_s, port) {
            Some(server) => {
                let req = nginx::Request::get(path, host_header, &self.pod_ip, Some(agent));
                HttpResult::Response { ip, port, response: k.serve_http(&server, &req) }
            }
            None if k.ip_in_use(&ip_s) => HttpResult::Refused { ip, port },
            None if ip_s.starts_with("10.244.") => HttpResult::Unreachable { ip, port },
            None => HttpResult::Timeout { ip, port },
        }
    }
}

impl Host for ContainerHost {
    fn hostname(&self) -> String {
        self.hostname.clone()
    }
    fn fs(&self) -> &ContainerFs {
        &self.fs
    }
    fn env(&self) -> Vec<(String, String)> {
        self.env.clone()
    }
    fn now(&self) -> jiff::Timestamp {
        self.kubelet.inner.clock.now()
    }
    fn sleep(&self, d: Duration) -> impl std::future::Future<Output = ()> + Send {
        let clock = self.kubelet.inner.clock;
        async move { clock.sleep(d).await }
    }
    fn resolve(&self, name: &str) -> impl std::future::Future<Output = Resolution> + Send {
        let r = self.lookup(name);
        async move { r }
    }
    fn http_get(&self, url: &str) -> impl std::future::Future<Output = HttpResult> + Send {
        self.http_get_as(url, "Wget")
    }
    fn http_get_as(&self, url: &str, agent: &str) -> impl std::future::Future<Output = HttpResult> + Send {
        let (host, port, path) = split_url(url);
        // Clients resolve through libc: /etc/hosts first (localhost, the pod's own names), then DNS.
        let result = match host.parse::<IpAddr>().ok().or_else(|| self.in_hosts_file(&host)) {
            Some(ip) => self.route(ip, port, &host, &path, agent),
            None => match self.lookup(&host).answer {
                DnsAnswer::Found { addresses, .. } if !addresses.is_empty() => {
                    self.route(addresses[0].ip, port, &host, &path, agent)
                }
                _ => HttpResult::BadAddress,
            },
        };
        async move { result }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(split_url("http://web-0.nginx"), ("web-0.nginx".into(), 80, "/".into()));
        assert_eq!(split_url("http://10.244.0.5:8080/x?y=1"), ("10.244.0.5".into(), 8080, "/x?y=1".into()));
    }
}
