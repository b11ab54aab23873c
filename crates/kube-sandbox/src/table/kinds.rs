//! Rows for the workload, cluster and bookkeeping kinds (StatefulSet, Event, ControllerRevision,
//! Namespace, Node, ConfigMap, ServiceAccount) after upstream's printers, and the per-kind dispatch;
//! network and storage kinds live in their own modules.

use jiff::Timestamp;
use serde_json::{json, Value};

use super::{age, at, int, list, network, since, storage, text, timestamp, Column, AGE, NAME};

const CONTAINERS: Column = ("Containers", "string", 1, "Names of each container in the template.");
const IMAGES: Column = ("Images", "string", 1, "Images referenced by each container in the template.");

const STATEFULSET: &[Column] =
    &[NAME, ("Ready", "string", 0, "Number of the pod with ready state"), AGE, CONTAINERS, IMAGES];
const EVENT: &[Column] = &[
    ("Last Seen", "string", 0, "The time at which the most recent occurrence of this event was recorded."),
    ("Type", "string", 0, "Type of this event (Normal, Warning), new types could be added in the future"),
    ("Reason", "string", 0, "This should be a short, machine understandable string that gives the reason for the transition into the object's current status."),
    ("Object", "string", 0, "The object that this event is about."),
    ("Subobject", "string", 1, "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement."),
    ("Source", "string", 1, "The component reporting this event. Should be a short machine understandable string."),
    ("Message", "string", 0, "A human-readable description of the status of this operation."),
    ("First Seen", "string", 1, "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)"),
    ("Count", "string", 1, "The number of times this event has occurred."),
    ("Name", "string", 1, super::NAME_DOC),
];
const CONTROLLER_REVISION: &[Column] = &[
    NAME,
    ("Controller", "string", 0, "Controller of the object"),
    ("Revision", "string", 0, "Revision indicates the revision of the state represented by Data."),
    AGE,
];
const NAMESPACE: &[Column] = &[NAME, ("Status", "string", 0, "The status of the namespace"), AGE];
const NODE: &[Column] = &[
    NAME,
    ("Status", "string", 0, "The status of the node"),
    ("Roles", "string", 0, "The roles of the node"),
    AGE,
    ("Version", "string", 0, "Kubelet Version reported by the node."),
    ("Internal-IP", "string", 1, "List of addresses reachable to the node."),
    ("External-IP", "string", 1, "List of addresses reachable to the node."),
    ("OS-Image", "string", 1, "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy))."),
    ("Kernel-Version", "string", 1, "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64)."),
    (
        "Container-Runtime",
        "string",
        1,
        "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).",
    ),
];
const CONFIGMAP: &[Column] = &[NAME, ("Data", "string", 0, "Data contains the configuration data."), AGE];
const SERVICEACCOUNT: &[Column] = &[
    NAME,
    ("Secrets", "string", 0, "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use."),
    AGE,
];

pub(super) fn columns(kind: &str) -> Option<&'static [Column]> {
    Some(match kind {
        "StatefulSet" => STATEFULSET,
        "Service" => network::SERVICE,
        "Endpoints" => network::ENDPOINTS,
        "EndpointSlice" => network::ENDPOINTSLICE,
        "PersistentVolumeClaim" => storage::PVC,
        "PersistentVolume" => storage::PV,
        "Event" => EVENT,
        "ControllerRevision" => CONTROLLER_REVISION,
        "Namespace" => NAMESPACE,
        "Node" => NODE,
        "StorageClass" => storage::STORAGECLASS,
        "ConfigMap" => CONFIGMAP,
        "ServiceAccount" => SERVICEACCOUNT,
        _ => return None,
    })
}

/// The row cells for `obj`, or None for a kind without a printer of its own.
pub(super) fn cells(kind: &str, obj: &Value, now: Timestamp) -> Option<Vec<Value>> {
    let name = text(obj, &["metadata", "name"]);
    let created = age(obj, now);
    Some(match kind {
        "StatefulSet" => {
            let desired = at(obj, &["spec", "replicas"]).and_then(Value::as_i64).unwrap_or(1);
            let ready = int(obj, &["status", "readyReplicas"]);
            let containers = list(obj, &["spec", "template", "spec", "containers"]);
            let join = |field: &str| containers.iter().map(|c| text(c, &[field])).collect::<Vec<_>>().join(",");
            vec![
                json!(name),
                json!(format!("{ready}/{desired}")),
                json!(created),
                json!(join("name")),
                json!(join("image")),
            ]
        }
        "Service" => network::service(obj, name, created),
        "Endpoints" => network::endpoints(obj, name, created),
        "EndpointSlice" => network::endpoint_slice(obj, name, created),
        "PersistentVolumeClaim" => storage::claim(obj, name, created),
        "PersistentVolume" => storage::volume(obj, name, created),
        "StorageClass" => storage::class(obj, name, created),
        "Event" => event(obj, now),
        "ControllerRevision" => {
            let owner = list(obj, &["metadata", "ownerReferences"])
                .iter()
                .find(|o| at(o, &["controller"]) == Some(&Value::Bool(true)));
            let controller = match owner {
                Some(o) => {
                    let api_version = text(o, &["apiVersion"]);
                    let group = api_version.rsplit_once('/').map(|(g, _)| g).unwrap_or("");
                    let kind = text(o, &["kind"]);
                    let group_kind = if group.is_empty() { kind.to_string() } else { format!("{kind}.{group}") };
                    format!("{}/{}", group_kind.to_lowercase(), text(o, &["name"]))
                }
                None => "<none>".to_string(),
            };
            vec![json!(name), json!(controller), json!(int(obj, &["revision"])), json!(created)]
        }
        "Namespace" => vec![json!(name), json!(text(obj, &["status", "phase"])), json!(created)],
        "Node" => node(obj, name, created),
        "ConfigMap" => {
            let count = |field: &str| obj.get(field).and_then(Value::as_object).map_or(0, serde_json::Map::len);
            vec![json!(name), json!(count("data") + count("binaryData")), json!(created)]
        }
        "ServiceAccount" => vec![json!(name), json!(list(obj, &["secrets"]).len()), json!(created)],
        _ => return None,
    })
}

fn node(obj: &Value, name: &str, created: String) -> Vec<Value> {
    let ready = list(obj, &["status", "conditions"]).iter().find(|c| text(c, &["type"]) == "Ready");
    let mut status = vec![match ready {
        Some(c) if text(c, &["status"]) == "True" => "Ready",
        Some(_) => "NotReady",
        None => "Unknown",
    }];
    if at(obj, &["spec", "unschedulable"]) == Some(&Value::Bool(true)) {
        status.push("SchedulingDisabled");
    }
    let mut roles: Vec<&str> = Vec::new();
    if let Some(labels) = at(obj, &["metadata", "labels"]).and_then(Value::as_object) {
        for (k, v) in labels {
            match k.strip_prefix("node-role.kubernetes.io/") {
                Some(role) if !role.is_empty() => roles.push(role),
                _ if k == "kubernetes.io/role" => roles.extend(v.as_str().filter(|s| !s.is_empty())),
                _ => {}
            }
        }
    }
    roles.sort_unstable();
    roles.dedup();
    let address = |kind: &str| {
        list(obj, &["status", "addresses"])
            .iter()
            .find(|a| text(a, &["type"]) == kind)
            .map(|a| text(a, &["address"]))
            .unwrap_or("<none>")
    };
    let info = |field: &str| match text(obj, &["status", "nodeInfo", field]) {
        "" => "<unknown>",
        v => v,
    };
    vec![
        json!(name),
        json!(status.join(",")),
        json!(if roles.is_empty() { "<none>".to_string() } else { roles.join(",") }),
        json!(created),
        json!(text(obj, &["status", "nodeInfo", "kubeletVersion"])),
        json!(address("InternalIP")),
        json!(address("ExternalIP")),
        json!(info("osImage")),
        json!(info("kernelVersion")),
        json!(info("containerRuntimeVersion")),
    ]
}

/// The first non-empty string among `paths`: core/v1 and events.k8s.io/v1 name the same facts differently.
fn either<'a>(obj: &'a Value, paths: &[&[&str]]) -> &'a str {
    paths.iter().map(|p| text(obj, p)).find(|s| !s.is_empty()).unwrap_or("")
}

/// `printEvent` over either API shape (core `involvedObject`/`message`, events.k8s.io `regarding`/`note`).
fn event(obj: &Value, now: Timestamp) -> Vec<Value> {
    let first = timestamp(obj, &["firstTimestamp"])
        .or_else(|| timestamp(obj, &["deprecatedFirstTimestamp"]))
        .or_else(|| timestamp(obj, &["eventTime"]));
    let first_seen = since(now, first);
    let mut last_seen =
        match timestamp(obj, &["lastTimestamp"]).or_else(|| timestamp(obj, &["deprecatedLastTimestamp"])) {
            Some(t) => since(now, Some(t)),
            None => first_seen.clone(),
        };
    let mut count = at(obj, &["count"]).or_else(|| at(obj, &["deprecatedCount"])).and_then(Value::as_i64).unwrap_or(0);
    if let Some(series) = at(obj, &["series"]).filter(|s| s.is_object()) {
        last_seen = since(now, timestamp(series, &["lastObservedTime"]));
        count = int(series, &["count"]);
    } else if count == 0 {
        // Singleton events carry no count in the new API.
        count = 1;
    }
    let target_ref = at(obj, &["involvedObject"]).or_else(|| at(obj, &["regarding"]));
    let target_ref = target_ref.unwrap_or(&Value::Null);
    let kind = text(target_ref, &["kind"]).to_lowercase();
    let target = match text(target_ref, &["name"]) {
        "" => kind,
        n => format!("{kind}/{n}"),
    };
    let component = either(
        obj,
        &[
            &["source", "component"],
            &["deprecatedSource", "component"],
            &["reportingComponent"],
            &["reportingController"],
        ],
    );
    let instance = either(obj, &[&["source", "host"], &["deprecatedSource", "host"], &["reportingInstance"]]);
    let source = if instance.is_empty() { component.to_string() } else { format!("{component}, {instance}") };
    vec![
        json!(last_seen),
        json!(text(obj, &["type"])),
        json!(text(obj, &["reason"])),
        json!(target),
        json!(text(target_ref, &["fieldPath"])),
        json!(source),
        json!(either(obj, &[&["message"], &["note"]]).trim()),
        json!(first_seen),
        json!(count),
        json!(text(obj, &["metadata", "name"])),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{by_kind, kinds};
    use crate::table::fixtures::{headers, meta, row};

    #[test]
    fn statefulset_ready_and_wide_containers() {
        let sts = json!({"metadata": meta("web"),
            "spec": {"replicas": 3, "template": {"spec": {"containers": [
                {"name": "nginx", "image": "nginx:1.27"}, {"name": "log", "image": "busybox"}]}}},
            "status": {"readyReplicas": 2}});
        assert_eq!(headers(kinds::statefulsets()), ["Name", "Ready", "Age", "Containers", "Images"]);
        assert_eq!(row(kinds::statefulsets(), sts), json!(["web", "2/3", "60m", "nginx,log", "nginx:1.27,busybox"]));
    }

    #[test]
    fn events_in_both_api_shapes() {
        assert_eq!(
            headers(kinds::events()),
            ["Last Seen", "Type", "Reason", "Object", "Subobject", "Source", "Message", "First Seen", "Count", "Name"]
        );
        let core = json!({"metadata": meta("web.1"), "type": "Normal", "reason": "SuccessfulCreate",
            "message": "create Pod web-0 in StatefulSet web successful\n",
            "involvedObject": {"kind": "StatefulSet", "name": "web"},
            "source": {"component": "statefulset-controller"},
            "firstTimestamp": "2030-01-01T00:00:00Z", "lastTimestamp": "2030-01-01T00:59:30Z", "count": 2});
        assert_eq!(
            row(kinds::events(), core),
            json!([
                "30s",
                "Normal",
                "SuccessfulCreate",
                "statefulset/web",
                "",
                "statefulset-controller",
                "create Pod web-0 in StatefulSet web successful",
                "60m",
                2,
                "web.1"
            ])
        );
        let rt = by_kind("events.k8s.io/v1", "Event").expect("events.k8s.io registered");
        let new = json!({"metadata": meta("web-0.2"), "type": "Warning", "reason": "BackOff",
            "note": "Back-off restarting failed container",
            "regarding": {"kind": "Pod", "name": "web-0", "fieldPath": "spec.containers{app}"},
            "reportingController": "kubelet", "reportingInstance": "node-1",
            "eventTime": "2030-01-01T00:50:00.000000Z",
            "series": {"count": 4, "lastObservedTime": "2030-01-01T00:59:55.000000Z"}});
        assert_eq!(
            row(rt, new),
            json!([
                "5s",
                "Warning",
                "BackOff",
                "pod/web-0",
                "spec.containers{app}",
                "kubelet, node-1",
                "Back-off restarting failed container",
                "10m",
                4,
                "web-0.2"
            ])
        );
    }

    #[test]
    fn controller_revision_namespace_node_and_friends() {
        let cr = json!({"metadata": {"name": "web-5d8f", "creationTimestamp": "2030-01-01T00:00:00Z",
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "controller": true}]},
            "revision": 2});
        assert_eq!(row(kinds::controllerrevisions(), cr), json!(["web-5d8f", "statefulset.apps/web", 2, "60m"]));
        let ns = json!({"metadata": meta("default"), "status": {"phase": "Active"}});
        assert_eq!(row(kinds::namespaces(), ns), json!(["default", "Active", "60m"]));
        let node = json!({"metadata": {"name": "node-1", "creationTimestamp": "2030-01-01T00:00:00Z",
                "labels": {"node-role.kubernetes.io/control-plane": "", "kubernetes.io/role": "worker"}},
            "spec": {"unschedulable": true},
            "status": {"conditions": [{"type": "Ready", "status": "False"}],
                "addresses": [{"type": "InternalIP", "address": "172.18.0.2"}],
                "nodeInfo": {"kubeletVersion": "v1.33.0", "osImage": "Debian", "kernelVersion": "6.1",
                             "containerRuntimeVersion": ""}}});
        assert_eq!(
            row(kinds::nodes(), node),
            json!([
                "node-1",
                "NotReady,SchedulingDisabled",
                "control-plane,worker",
                "60m",
                "v1.33.0",
                "172.18.0.2",
                "<none>",
                "Debian",
                "6.1",
                "<unknown>"
            ])
        );
        let sc = json!({"metadata": {"name": "standard", "creationTimestamp": "2030-01-01T00:00:00Z",
                "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
            "provisioner": "rancher.io/local-path", "volumeBindingMode": "WaitForFirstConsumer"});
        assert_eq!(
            row(kinds::storageclasses(), sc),
            json!(["standard (default)", "rancher.io/local-path", "Delete", "WaitForFirstConsumer", false, "60m"])
        );
        let sa = json!({"metadata": meta("default"), "secrets": [{"name": "a"}]});
        assert_eq!(row(kinds::serviceaccounts(), sa), json!(["default", 1, "60m"]));
    }
}
