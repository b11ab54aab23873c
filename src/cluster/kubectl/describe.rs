//! `describe`: a short human summary in kubectl describe's layout (labels, state, the
//! StatefulSet's revisions and partition, claims, conditions) ending with the object's
//! events, whose ages come from the server's own Event table.

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{ContainerStatus, PersistentVolumeClaim, Pod, Service};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, ListParams};
use kube::ResourceExt;
use serde_json::Value;

use super::error::CommandError;
use super::print::{columns, fetch_table, visible_columns};
use super::Kind;
use crate::cluster::Cluster;

/// Text being described, with the column values start at (kubectl's tabwriter puts them
/// after the longest label of the object: 18 for pods, 20 for StatefulSets).
struct Desc {
    text: String,
    width: usize,
}

impl Desc {
    fn new(width: usize) -> Desc {
        Desc { text: String::new(), width }
    }

    fn line(&mut self, line: &str) {
        self.text.push_str(line.trim_end());
        self.text.push('\n');
    }

    /// `Name:             web-0`: a label padded to the value column, at an indent level;
    /// inside containers and volumes values start two further (`    Restart Count:  0`).
    fn field(&mut self, level: usize, label: &str, value: impl AsRef<str>) {
        let indent = "  ".repeat(level);
        let column = if level >= 2 { self.width.max(20) } else { self.width };
        let width = column.saturating_sub(indent.len()).max(label.len() + 2);
        self.line(&format!("{indent}{:<width$}{}", format!("{label}:"), value.as_ref()));
    }

    /// A map one `k=v` per line, aligned under the first.
    fn map(&mut self, label: &str, map: &std::collections::BTreeMap<String, String>) {
        let mut pairs = map.iter().map(|(k, v)| format!("{k}={v}"));
        match pairs.next() {
            None => self.field(0, label, "<none>"),
            Some(first) => {
                self.field(0, label, first);
                for p in pairs {
                    let pad = " ".repeat(self.width);
                    self.line(&format!("{pad}{p}"));
                }
            }
        }
    }
}

fn time(t: Option<&Time>) -> String {
    match t {
        Some(t) => t.0.strftime("%a, %d %b %Y %H:%M:%S %z").to_string(),
        None => "<unknown>".into(),
    }
}

pub(super) async fn describe(cluster: &Cluster, kind: Kind, name: &str) -> Result<String, CommandError> {
    let client = cluster.client.clone();
    let ns = cluster.namespace.as_str();
    let mut out = match kind {
        Kind::Pod => pod(&Api::<Pod>::namespaced(client, ns).get(name).await?),
        Kind::StatefulSet => {
            let set = Api::<StatefulSet>::namespaced(client.clone(), ns).get(name).await?;
            let pods = Api::<Pod>::namespaced(client, ns).list(&ListParams::default()).await?.items;
            let owned: Vec<Pod> = pods
                .into_iter()
                .filter(|p| {
                    p.owner_references()
                        .iter()
                        .any(|o| o.controller == Some(true) && Some(&o.uid) == set.metadata.uid.as_ref())
                })
                .collect();
            stateful_set(&set, &owned)
        }
        Kind::Service => service(&Api::<Service>::namespaced(client, ns).get(name).await?),
        Kind::PersistentVolumeClaim => claim(&Api::<PersistentVolumeClaim>::namespaced(client, ns).get(name).await?),
        other => {
            return Err(CommandError::Usage(format!(
                "describe {} is not available here; try get {} {name} -o yaml",
                other.plural(),
                other.plural()
            )))
        }
    };
    out.push_str(&events(cluster, kind, name).await?);
    Ok(out)
}

fn header(out: &mut Desc, meta: &kube::api::ObjectMeta) {
    out.field(0, "Name", meta.name.clone().unwrap_or_default());
    out.field(0, "Namespace", meta.namespace.clone().unwrap_or_default());
}

fn pod(p: &Pod) -> String {
    let mut out = Desc::new(18);
    header(&mut out, &p.metadata);
    let spec = p.spec.clone().unwrap_or_default();
    let status = p.status.clone().unwrap_or_default();
    let node = match (&spec.node_name, &status.host_ip) {
        (Some(n), Some(ip)) => format!("{n}/{ip}"),
        (Some(n), None) => n.clone(),
        _ => "<none>".into(),
    };
    out.field(0, "Node", node);
    out.field(0, "Start Time", time(status.start_time.as_ref()));
    out.map("Labels", p.labels());
    let shown = if p.metadata.deletion_timestamp.is_some() {
        "Terminating".to_string()
    } else {
        status.phase.clone().unwrap_or_else(|| "Unknown".into())
    };
    out.field(0, "Status", shown);
    out.field(0, "IP", status.pod_ip.clone().unwrap_or_default());
    if let Some(o) = p.owner_references().iter().find(|o| o.controller == Some(true)) {
        out.field(0, "Controlled By", format!("{}/{}", o.kind, o.name));
    }
    let init = spec.init_containers.clone().unwrap_or_default();
    if !init.is_empty() {
        out.line("Init Containers:\n");
        for c in &init {
            let st = status.init_container_statuses.iter().flatten().find(|s| s.name == c.name);
            container(&mut out, c, st);
        }
    }
    out.line("Containers:\n");
    for c in &spec.containers {
        let st = status.container_statuses.iter().flatten().find(|s| s.name == c.name);
        container(&mut out, c, st);
    }
    let conditions = status.conditions.clone().unwrap_or_default();
    if !conditions.is_empty() {
        out.line("Conditions:\n");
        let mut rows = vec![vec!["  Type".to_string(), "Status".to_string()]];
        rows.extend(conditions.iter().map(|c| vec![format!("  {}", c.type_), c.status.clone()]));
        out.text.push_str(&columns(&rows));
    }
    out.line("Volumes:\n");
    let volumes = spec.volumes.clone().unwrap_or_default();
    if volumes.is_empty() {
        out.line("  <none>\n");
    }
    for v in &volumes {
        out.line(&format!("  {}:", v.name));
        if let Some(pvc) = &v.persistent_volume_claim {
            out.field(
                2,
                "Type",
                "PersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)",
            );
            out.field(2, "ClaimName", &pvc.claim_name);
            out.field(2, "ReadOnly", pvc.read_only.unwrap_or(false).to_string());
        } else if v.config_map.is_some() {
            out.field(2, "Type", "ConfigMap (a volume populated by a ConfigMap)");
        } else if v.empty_dir.is_some() {
            out.field(2, "Type", "EmptyDir (a temporary directory that shares a pod's lifetime)");
        } else if v.projected.is_some() {
            out.field(2, "Type", "Projected (a volume that contains injected data from multiple sources)");
        } else {
            out.field(2, "Type", "other");
        }
    }
    out.text
}

fn container(out: &mut Desc, c: &k8s_openapi::api::core::v1::Container, st: Option<&ContainerStatus>) {
    out.line(&format!("  {}:", c.name));
    out.field(2, "Image", c.image.clone().unwrap_or_default());
    let ports: Vec<String> = c
        .ports
        .iter()
        .flatten()
        .map(|p| format!("{}/{}", p.container_port, p.protocol.clone().unwrap_or_else(|| "TCP".into())))
        .collect();
    if !ports.is_empty() {
        out.field(2, "Port", ports.join(", "));
    }
    if let Some(cmd) = &c.command {
        out.field(2, "Command", cmd.join(" "));
    }
    match st.and_then(|s| s.state.as_ref()) {
        Some(state) if state.running.is_some() => {
            out.field(2, "State", "Running");
            let started = state.running.as_ref().and_then(|r| r.started_at.as_ref());
            out.field(3, "Started", time(started));
        }
        Some(state) if state.terminated.is_some() => {
            let t = state.terminated.as_ref().expect("checked");
            out.field(2, "State", "Terminated");
            out.field(3, "Reason", t.reason.clone().unwrap_or_default());
            out.field(3, "Exit Code", t.exit_code.to_string());
        }
        Some(state) if state.waiting.is_some() => {
            let w = state.waiting.as_ref().expect("checked");
            out.field(2, "State", "Waiting");
            out.field(3, "Reason", w.reason.clone().unwrap_or_default());
            if let Some(m) = &w.message {
                out.field(3, "Message", m);
            }
        }
        _ => out.field(2, "State", "Waiting"),
    }
    out.field(2, "Ready", st.map(|s| if s.ready { "True" } else { "False" }).unwrap_or("False"));
    out.field(2, "Restart Count", st.map(|s| s.restart_count).unwrap_or(0).to_string());
    let mounts: Vec<String> = c
        .volume_mounts
        .iter()
        .flatten()
        .map(|m| format!("{} from {} ({})", m.mount_path, m.name, if m.read_only == Some(true) { "ro" } else { "rw" }))
        .collect();
    if mounts.is_empty() {
        out.field(2, "Mounts", "<none>");
    } else {
        out.line("    Mounts:");
        for m in mounts {
            out.line(&format!("      {m}"));
        }
    }
}

fn stateful_set(s: &StatefulSet, pods: &[Pod]) -> String {
    let mut out = Desc::new(20);
    header(&mut out, &s.metadata);
    out.field(0, "CreationTimestamp", time(s.metadata.creation_timestamp.as_ref()));
    let spec = s.spec.clone().unwrap_or_default();
    let status = s.status.clone().unwrap_or_default();
    let selector: Vec<String> = spec.selector.match_labels.iter().flatten().map(|(k, v)| format!("{k}={v}")).collect();
    out.field(0, "Selector", if selector.is_empty() { "<none>".into() } else { selector.join(",") });
    out.map("Labels", s.labels());
    out.field(0, "Replicas", format!("{} desired | {} total", spec.replicas.unwrap_or(1), status.replicas));
    out.field(0, "Ready Replicas", status.ready_replicas.unwrap_or(0).to_string());
    out.field(0, "Service Name", spec.service_name.clone().unwrap_or_default());
    out.field(0, "Pod Management", spec.pod_management_policy.clone().unwrap_or_else(|| "OrderedReady".into()));
    let strategy = spec.update_strategy.clone().unwrap_or_default();
    out.field(0, "Update Strategy", strategy.type_.clone().unwrap_or_else(|| "RollingUpdate".into()));
    if let Some(p) = strategy.rolling_update.as_ref().and_then(|r| r.partition) {
        out.field(1, "Partition", p.to_string());
    }
    let at = |revision: &Option<String>| {
        let n = pods
            .iter()
            .filter(|p| revision.is_some() && p.labels().get("controller-revision-hash") == revision.as_ref())
            .count();
        match revision {
            Some(r) => format!("{r} ({n} pods)"),
            None => "<none>".into(),
        }
    };
    out.field(0, "Current Revision", at(&status.current_revision));
    out.field(0, "Update Revision", at(&status.update_revision));
    let phase =
        |want: &str| pods.iter().filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some(want)).count();
    let waiting =
        phase("Pending") + pods.iter().filter(|p| p.status.as_ref().and_then(|s| s.phase.as_ref()).is_none()).count();
    out.field(
        0,
        "Pods Status",
        format!(
            "{} Running / {waiting} Waiting / {} Succeeded / {} Failed",
            phase("Running"),
            phase("Succeeded"),
            phase("Failed")
        ),
    );
    out.line("Pod Template:\n");
    let tpl = spec.template.spec.clone().unwrap_or_default();
    for c in &tpl.containers {
        out.line(&format!("  {}:", c.name));
        out.field(2, "Image", c.image.clone().unwrap_or_default());
    }
    out.line("Volume Claims:\n");
    let claims = spec.volume_claim_templates.clone().unwrap_or_default();
    if claims.is_empty() {
        out.line("  <none>\n");
    }
    for c in &claims {
        let cs = c.spec.clone().unwrap_or_default();
        out.field(1, "Name", c.name_any());
        out.field(1, "StorageClass", cs.storage_class_name.clone().unwrap_or_default());
        let size = cs.resources.and_then(|r| r.requests).and_then(|r| r.get("storage").map(|q| q.0.clone()));
        out.field(1, "Capacity", size.unwrap_or_default());
        out.field(1, "Access Modes", cs.access_modes.unwrap_or_default().join(", "));
    }
    out.text
}

fn service(s: &Service) -> String {
    let mut out = Desc::new(18);
    header(&mut out, &s.metadata);
    out.map("Labels", s.labels());
    let spec = s.spec.clone().unwrap_or_default();
    let selector: Vec<String> = spec.selector.iter().flatten().map(|(k, v)| format!("{k}={v}")).collect();
    out.field(0, "Selector", if selector.is_empty() { "<none>".into() } else { selector.join(",") });
    out.field(0, "Type", spec.type_.clone().unwrap_or_else(|| "ClusterIP".into()));
    out.field(0, "IP", spec.cluster_ip.clone().unwrap_or_default());
    for p in spec.ports.iter().flatten() {
        let name = p.name.clone().unwrap_or_else(|| "<unset>".into());
        out.field(0, "Port", format!("{name}  {}/{}", p.port, p.protocol.clone().unwrap_or_else(|| "TCP".into())));
        let target = p.target_port.as_ref().map(|t| match t {
            k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(n) => n.to_string(),
            k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(s) => s.clone(),
        });
        out.field(0, "TargetPort", format!("{}/TCP", target.unwrap_or_else(|| p.port.to_string())));
    }
    out.text
}

fn claim(c: &PersistentVolumeClaim) -> String {
    let mut out = Desc::new(18);
    header(&mut out, &c.metadata);
    let spec = c.spec.clone().unwrap_or_default();
    let status = c.status.clone().unwrap_or_default();
    out.field(0, "StorageClass", spec.storage_class_name.clone().unwrap_or_default());
    out.field(0, "Status", status.phase.clone().unwrap_or_default());
    out.field(0, "Volume", spec.volume_name.clone().unwrap_or_default());
    out.map("Labels", c.labels());
    let capacity = status.capacity.and_then(|m| m.get("storage").map(|q| q.0.clone()));
    out.field(0, "Capacity", capacity.unwrap_or_default());
    out.field(0, "Access Modes", status.access_modes.unwrap_or_default().join(","));
    out.text
}

/// The object's events, oldest first, as `Events:` with Type, Reason, Age, From, Message.
async fn events(cluster: &Cluster, kind: Kind, name: &str) -> Result<String, CommandError> {
    let lp = ListParams::default().fields(&format!("involvedObject.name={name}"));
    let table = fetch_table(cluster, Kind::Event, None, &lp, true).await?;
    let cols = visible_columns(&table, true);
    let col = |row: &Value, wanted: &str| -> String {
        cols.iter()
            .find(|(_, n)| n == wanted)
            .map(|(i, _)| super::print::cell_text(&row["cells"][*i]))
            .unwrap_or_default()
    };
    let mut rows = vec![
        ["  Type", "Reason", "Age", "From", "Message"].map(String::from).to_vec(),
        ["  ----", "------", "----", "----", "-------"].map(String::from).to_vec(),
    ];
    // Oldest first, as kubectl describe sorts them; the store's order breaks ties.
    let mut found: Vec<&Value> = table["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|row| row["object"]["involvedObject"]["kind"] == kind.name())
        .collect();
    found.sort_by_key(|row| {
        let o = &row["object"];
        let when = ["lastTimestamp", "eventTime", "firstTimestamp"]
            .iter()
            .find_map(|f| o[f].as_str().and_then(|t| t.parse::<jiff::Timestamp>().ok()));
        let rv: u64 = o["metadata"]["resourceVersion"].as_str().and_then(|v| v.parse().ok()).unwrap_or(0);
        (when, rv)
    });
    for row in found {
        let count: i64 = col(row, "Count").parse().unwrap_or(1);
        let age = match count {
            n if n > 1 => format!("{} (x{n} over {})", col(row, "Last Seen"), col(row, "First Seen")),
            _ => col(row, "Last Seen"),
        };
        let message = col(row, "Message").trim_end().replace('\n', " ");
        rows.push(vec![format!("  {}", col(row, "Type")), col(row, "Reason"), age, col(row, "Source"), message]);
    }
    if rows.len() == 2 {
        return Ok("Events:            <none>\n".into());
    }
    Ok(format!("Events:\n{}", columns(&rows)))
}
