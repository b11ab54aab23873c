//! The cluster DNS model, as CoreDNS answers under the Kubernetes DNS specification: service
//! names (`nginx`, `nginx.default`, `nginx.default.svc.cluster.local`), headless services
//! answering with their ready pods, and per-pod names `web-0.nginx` for pods whose hostname and
//! subdomain match a headless service. Names are expanded with the pod's search path.

use crate::consts::CLUSTER_DOMAIN;
use serde_json::Value;

use super::resources::kinds;
use super::store::Store;

/// What a lookup found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Answer {
    /// The fully qualified name that answered, and its A records.
    Found { fqdn: String, ips: Vec<String> },
    /// The name exists but has no address (a headless service with no ready pods).
    NoAddress { fqdn: String },
    /// No such name.
    NxDomain,
}

/// Resolve `name` as a pod in namespace `from_ns` would (search path, ndots 5). A name ending
/// in `.` is already fully qualified and skips the search path.
pub(crate) fn resolve(store: &Store, from_ns: &str, name: &str) -> Answer {
    let absolute = name.ends_with('.');
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return Answer::Found { fqdn: name.clone(), ips: vec![name] };
    }
    let search =
        [format!("{from_ns}.svc.{CLUSTER_DOMAIN}"), format!("svc.{CLUSTER_DOMAIN}"), CLUSTER_DOMAIN.to_string()];
    let mut candidates: Vec<String> = Vec::new();
    if !absolute && name.matches('.').count() < 5 {
        candidates.extend(search.iter().map(|d| format!("{name}.{d}")));
    }
    candidates.push(name.clone());
    for fqdn in candidates {
        match lookup(store, &fqdn) {
            Answer::NxDomain => continue,
            found => return found,
        }
    }
    Answer::NxDomain
}

fn endpoint_addresses(store: &Store, ns: &str, svc: &str) -> Vec<Value> {
    store
        .get(kinds::endpoints(), ns, svc)
        .and_then(|ep| ep.get("subsets").and_then(Value::as_array).cloned())
        .unwrap_or_default()
        .iter()
        .flat_map(|s| s["addresses"].as_array().cloned().unwrap_or_default())
        .collect()
}

/// Look up one fully qualified name.
fn lookup(store: &Store, fqdn: &str) -> Answer {
    let Some(rest) = fqdn.strip_suffix(&format!(".svc.{CLUSTER_DOMAIN}")) else {
        return Answer::NxDomain;
    };
    let labels: Vec<&str> = rest.split('.').collect();
    match labels.as_slice() {
        [svc, ns] => {
            let Some(s) = store.get(kinds::services(), ns, svc) else { return Answer::NxDomain };
            match s.pointer("/spec/clusterIP").and_then(Value::as_str) {
                Some("None") => {
                    let ips: Vec<String> = endpoint_addresses(store, ns, svc)
                        .iter()
                        .filter_map(|a| a["ip"].as_str().map(str::to_string))
                        .collect();
                    if ips.is_empty() {
                        Answer::NoAddress { fqdn: fqdn.to_string() }
                    } else {
                        Answer::Found { fqdn: fqdn.to_string(), ips }
                    }
                }
                Some(ip) if !ip.is_empty() => Answer::Found { fqdn: fqdn.to_string(), ips: vec![ip.to_string()] },
                _ => Answer::NoAddress { fqdn: fqdn.to_string() },
            }
        }
        [host, svc, ns] => {
            let headless = store
                .get(kinds::services(), ns, svc)
                .is_some_and(|s| s.pointer("/spec/clusterIP") == Some(&Value::from("None")));
            if !headless {
                return Answer::NxDomain;
            }
            let ips: Vec<String> = endpoint_addresses(store, ns, svc)
                .iter()
                .filter(|a| a["hostname"] == *host)
                .filter_map(|a| a["ip"].as_str().map(str::to_string))
                .collect();
            if ips.is_empty() {
                Answer::NxDomain
            } else {
                Answer::Found { fqdn: fqdn.to_string(), ips }
            }
        }
        _ => Answer::NxDomain,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;
    use serde_json::json;

    fn store() -> Store {
        let s = Store::new(Clock::new(1.0));
        s.create(kinds::namespaces(), json!({"metadata": {"name": "default"}}), false).unwrap();
        s.create(
            kinds::services(),
            json!({"metadata": {"name": "nginx", "namespace": "default"},
            "spec": {"clusterIP": "None", "selector": {"app": "nginx"}}}),
            false,
        )
        .unwrap();
        s.create(
            kinds::services(),
            json!({"metadata": {"name": "api", "namespace": "default"},
            "spec": {"clusterIP": "10.96.3.4"}}),
            false,
        )
        .unwrap();
        s.create(kinds::endpoints(), json!({"metadata": {"name": "nginx", "namespace": "default"},
            "subsets": [{"addresses": [{"ip": "10.244.0.5", "hostname": "web-0"}, {"ip": "10.244.0.6", "hostname": "web-1"}],
                         "notReadyAddresses": [{"ip": "10.244.0.7", "hostname": "web-2"}]}]}), false).unwrap();
        s
    }

    #[test]
    fn pod_and_service_names() {
        let s = store();
        assert_eq!(
            resolve(&s, "default", "web-0.nginx"),
            Answer::Found { fqdn: "web-0.nginx.default.svc.cluster.local".into(), ips: vec!["10.244.0.5".into()] }
        );
        assert_eq!(
            resolve(&s, "other", "web-1.nginx.default"),
            Answer::Found { fqdn: "web-1.nginx.default.svc.cluster.local".into(), ips: vec!["10.244.0.6".into()] }
        );
        assert_eq!(
            resolve(&s, "default", "nginx"),
            Answer::Found {
                fqdn: "nginx.default.svc.cluster.local".into(),
                ips: vec!["10.244.0.5".into(), "10.244.0.6".into()]
            }
        );
        assert_eq!(
            resolve(&s, "default", "api.default.svc.cluster.local."),
            Answer::Found { fqdn: "api.default.svc.cluster.local".into(), ips: vec!["10.96.3.4".into()] }
        );
    }

    #[test]
    fn not_ready_and_unknown_names_do_not_resolve() {
        let s = store();
        assert_eq!(resolve(&s, "default", "web-2.nginx"), Answer::NxDomain);
        assert_eq!(resolve(&s, "default", "web-0.api"), Answer::NxDomain);
        assert_eq!(resolve(&s, "default", "nope"), Answer::NxDomain);
        assert_eq!(resolve(&s, "other", "nginx"), Answer::NxDomain);
        // A trailing dot means "already fully qualified": no search path.
        assert_eq!(resolve(&s, "default", "web-0.nginx."), Answer::NxDomain);
    }
}
