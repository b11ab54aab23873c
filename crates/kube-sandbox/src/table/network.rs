//! Service, Endpoints and EndpointSlice rows, following upstream's `printService`, `formatEndpoints` and
//! `formatDiscoveryEndpoints`: how `kubectl get svc,ep,endpointslices` summarises addresses and ports.

use serde_json::{json, Value};

use super::{at, format_labels, int, list, text, Column, AGE, NAME};

pub(super) const SERVICE: &[Column] = &[
    NAME,
    ("Type", "string", 0, "type determines how the Service is exposed."),
    ("Cluster-IP", "string", 0, "clusterIP is the IP address of the service and is usually assigned randomly."),
    ("External-IP", "string", 0, "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service."),
    ("Port(s)", "string", 0, "The list of ports that are exposed by this service."),
    AGE,
    ("Selector", "string", 1, "Route service traffic to pods with label keys and values matching this selector."),
];
pub(super) const ENDPOINTS: &[Column] =
    &[NAME, ("Endpoints", "string", 0, "The set of all endpoints is the union of all subsets."), AGE];
pub(super) const ENDPOINTSLICE: &[Column] = &[
    NAME,
    ("AddressType", "string", 0, "Type of address carried by this EndpointSlice"),
    ("Ports", "string", 0, "ports specifies the list of network ports exposed by each endpoint in this slice."),
    ("Endpoints", "string", 0, "endpoints is a list of unique endpoints in this slice."),
    AGE,
];
pub(super) fn endpoints(obj: &Value, name: &str, created: String) -> Vec<Value> {
    vec![json!(name), json!(format_endpoints(obj)), json!(created)]
}

pub(super) fn endpoint_slice(obj: &Value, name: &str, created: String) -> Vec<Value> {
    let ports: Vec<String> = list(obj, &["ports"])
        .iter()
        .map(|p| match (at(p, &["port"]).and_then(Value::as_i64), p.get("name")) {
            (Some(n), _) => n.to_string(),
            (None, Some(Value::String(n))) => n.clone(),
            _ => "*".to_string(),
        })
        .collect();
    let addresses: Vec<String> = list(obj, &["endpoints"])
        .iter()
        .flat_map(|e| list(e, &["addresses"]))
        .map(|a| a.as_str().unwrap_or("").to_string())
        .collect();
    vec![
        json!(name),
        json!(text(obj, &["addressType"])),
        json!(first_three(&ports)),
        json!(first_three(&addresses)),
        json!(created),
    ]
}

/// `listWithMoreString`: at most three items, then `+ N more...`; `<unset>` when empty.
fn first_three(items: &[String]) -> String {
    let shown = items.iter().take(3).cloned().collect::<Vec<_>>().join(",");
    if items.len() > 3 {
        format!("{shown} + {} more...", items.len() - 3)
    } else if shown.is_empty() {
        "<unset>".into()
    } else {
        shown
    }
}

fn host_port(ip: &str, port: i64) -> String {
    if ip.contains(':') {
        format!("[{ip}]:{port}")
    } else {
        format!("{ip}:{port}")
    }
}

/// `formatEndpoints`: ready addresses crossed with ports, three at most.
fn format_endpoints(obj: &Value) -> String {
    let subsets = list(obj, &["subsets"]);
    if subsets.is_empty() {
        return "<none>".into();
    }
    let mut shown = Vec::new();
    let mut count = 0;
    for subset in subsets {
        let addresses = list(subset, &["addresses"]);
        let ports = list(subset, &["ports"]);
        let mut pairs: Vec<String> = Vec::new();
        if ports.is_empty() {
            pairs.extend(addresses.iter().map(|a| text(a, &["ip"]).to_string()));
        } else {
            for port in ports {
                let n = int(port, &["port"]);
                pairs.extend(addresses.iter().map(|a| host_port(text(a, &["ip"]), n)));
            }
        }
        count += pairs.len();
        shown.extend(pairs.into_iter().take(3usize.saturating_sub(shown.len())));
    }
    let joined = shown.join(",");
    if count > 3 {
        format!("{joined} + {} more...", count - 3)
    } else {
        joined
    }
}

pub(super) fn service(obj: &Value, name: &str, created: String) -> Vec<Value> {
    let ty = text(obj, &["spec", "type"]);
    let cluster_ip = list(obj, &["spec", "clusterIPs"])
        .first()
        .and_then(Value::as_str)
        .unwrap_or_else(|| text(obj, &["spec", "clusterIP"]));
    let external_ips: Vec<&str> = list(obj, &["spec", "externalIPs"]).iter().filter_map(Value::as_str).collect();
    let external = match ty {
        "ClusterIP" | "NodePort" if !external_ips.is_empty() => external_ips.join(","),
        "ClusterIP" | "NodePort" => "<none>".into(),
        "LoadBalancer" => {
            let mut lb: Vec<&str> = list(obj, &["status", "loadBalancer", "ingress"])
                .iter()
                .map(|i| match text(i, &["ip"]) {
                    "" => text(i, &["hostname"]),
                    ip => ip,
                })
                .filter(|s| !s.is_empty())
                .collect();
            lb.sort_unstable();
            lb.dedup();
            lb.extend(external_ips);
            if lb.is_empty() {
                "<pending>".into()
            } else {
                lb.join(",")
            }
        }
        "ExternalName" => text(obj, &["spec", "externalName"]).into(),
        _ => "<unknown>".into(),
    };
    let ports: Vec<String> = list(obj, &["spec", "ports"])
        .iter()
        .map(|p| {
            let protocol = match text(p, &["protocol"]) {
                "" => "TCP",
                other => other,
            };
            match int(p, &["nodePort"]) {
                0 => format!("{}/{protocol}", int(p, &["port"])),
                node_port => format!("{}:{node_port}/{protocol}", int(p, &["port"])),
            }
        })
        .collect();
    let ports = if ports.is_empty() { "<none>".into() } else { ports.join(",") };
    vec![
        json!(name),
        json!(ty),
        json!(if cluster_ip.is_empty() { "<none>" } else { cluster_ip }),
        json!(external),
        json!(ports),
        json!(created),
        json!(format_labels(at(obj, &["spec", "selector"]))),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::kinds;
    use crate::table::fixtures::{meta, row};

    #[test]
    fn service_ports_and_ips() {
        let svc = json!({"metadata": meta("nginx"), "spec": {"type": "ClusterIP", "clusterIP": "None",
            "clusterIPs": ["None"], "selector": {"app": "nginx", "tier": "web"},
            "ports": [{"port": 80, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}]}});
        assert_eq!(
            row(kinds::services(), svc),
            json!(["nginx", "ClusterIP", "None", "<none>", "80/TCP,53/UDP", "60m", "app=nginx,tier=web"])
        );
        let np = json!({"metadata": meta("np"), "spec": {"type": "NodePort", "clusterIPs": ["10.96.0.10"],
            "externalIPs": ["1.2.3.4"], "ports": [{"port": 80, "nodePort": 30080}]}});
        assert_eq!(
            row(kinds::services(), np),
            json!(["np", "NodePort", "10.96.0.10", "1.2.3.4", "80:30080/TCP", "60m", "<none>"])
        );
        let lb = json!({"metadata": meta("lb"), "spec": {"type": "LoadBalancer", "clusterIPs": ["10.96.0.11"]}});
        assert_eq!(row(kinds::services(), lb)[3], "<pending>");
        assert_eq!(row(kinds::services(), json!({"metadata": meta("x"), "spec": {"type": "ClusterIP"}}))[4], "<none>");
    }

    #[test]
    fn endpoints_list_three_then_more() {
        let ep = |ips: &[&str]| {
            let addresses: Vec<Value> = ips.iter().map(|ip| json!({"ip": ip})).collect();
            json!({"metadata": meta("web"), "subsets": [{"addresses": addresses, "ports": [{"port": 80}]}]})
        };
        assert_eq!(row(kinds::endpoints(), ep(&["10.0.0.1", "10.0.0.2"]))[1], "10.0.0.1:80,10.0.0.2:80");
        assert_eq!(
            row(kinds::endpoints(), ep(&["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"]))[1],
            "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 1 more..."
        );
        assert_eq!(row(kinds::endpoints(), json!({"metadata": meta("web")}))[1], "<none>");
        let headless = json!({"metadata": meta("web"), "subsets": [{"addresses": [{"ip": "fd00::1"}]}]});
        assert_eq!(row(kinds::endpoints(), headless)[1], "fd00::1");
        assert_eq!(host_port("fd00::1", 80), "[fd00::1]:80");
    }

    #[test]
    fn endpointslice_ports_and_addresses() {
        let slice = json!({"metadata": meta("web-abc"), "addressType": "IPv4",
            "ports": [{"name": "http", "port": 80}, {"name": "metrics"}],
            "endpoints": [{"addresses": ["10.0.0.1"]}, {"addresses": ["10.0.0.2"]}]});
        assert_eq!(
            row(kinds::endpointslices(), slice),
            json!(["web-abc", "IPv4", "80,metrics", "10.0.0.1,10.0.0.2", "60m"])
        );
        let empty = json!({"metadata": meta("e"), "addressType": "IPv4"});
        assert_eq!(row(kinds::endpointslices(), empty), json!(["e", "IPv4", "<unset>", "<unset>", "60m"]));
    }
}
