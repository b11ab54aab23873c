//! `headless_service` and `statefulset_spec`: the objects as written, and whether they agree
//! with each other (serviceName, selectors and labels, volume and port names).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::params::{ServiceParams, SpecParams};
use super::util::{claim_names, failed_create, not_yet, spec_replicas, sts_object};
use crate::cluster::Snapshot;
use crate::grade::Outcome;

fn labels_text(labels: &BTreeMap<String, String>) -> String {
    if labels.is_empty() {
        return "nothing".into();
    }
    labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",")
}

/// Whether every pair of `selector` is in `labels` (and the selector is not empty).
fn selects(selector: &BTreeMap<String, String>, labels: &BTreeMap<String, String>) -> bool {
    !selector.is_empty() && selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

pub fn headless_service(p: &ServiceParams, snapshot: &Snapshot) -> Outcome {
    let object = format!("Service/{}", p.service);
    let Some(svc) = snapshot.services.get(&p.service) else {
        return not_yet(
            format!("there is no Service {:?} yet", p.service),
            &object,
            None,
            Some("Fill in the blanks and :apply (or kubectl apply -f nginx-service.yaml)."),
        );
    };
    let spec = svc.spec.clone().unwrap_or_default();
    let type_ = spec.type_.as_deref().unwrap_or("ClusterIP");
    if type_ != "ClusterIP" {
        return not_yet(
            format!("spec.type is {type_:?}: a headless Service must be type ClusterIP (clusterIP: None is only valid with ClusterIP)"),
            &object,
            Some("spec.type"),
            Some("Use type: ClusterIP (or leave type out) with clusterIP: None."),
        );
    }
    let ip = spec.cluster_ip.as_deref().unwrap_or("");
    if ip != "None" {
        let shown = if ip.is_empty() { "not set".to_string() } else { format!("{ip:?}") };
        return not_yet(
            format!("spec.clusterIP is {shown}: the Service has a virtual IP of its own, so it is not headless"),
            &object,
            Some("spec.clusterIP"),
            Some(&format!(
                "Set clusterIP: None. A Service's clusterIP cannot change once set: delete it (:delete service {}) and apply again.",
                p.service
            )),
        );
    }
    let selector = spec.selector.clone().unwrap_or_default();
    if selector.is_empty() {
        return not_yet(
            "spec.selector is empty: without a selector the Service finds no pods, and the pods get no DNS names",
            &object,
            Some("spec.selector"),
            Some("Add a selector, e.g. app: nginx, and give the pods the same label in step 1."),
        );
    }
    if let Some(want) = &p.selector {
        if &selector != want {
            return not_yet(
                format!(
                    "spec.selector is {} but this lesson's pods are labelled {}",
                    labels_text(&selector),
                    labels_text(want)
                ),
                &object,
                Some("spec.selector"),
                None,
            );
        }
    }
    let ports = spec.ports.unwrap_or_default();
    if ports.is_empty() {
        return not_yet("spec.ports is empty: the Service needs a port", &object, Some("spec.ports"), None);
    }
    for (i, port) in ports.iter().enumerate() {
        let name = port.name.as_deref().unwrap_or("");
        if name.is_empty() {
            return not_yet(
                format!("spec.ports[{i}] has no name: give the port a name (e.g. web)"),
                &object,
                Some(&format!("spec.ports[{i}].name")),
                None,
            );
        }
        if let Some(want) = &p.port_name {
            if name != want {
                return not_yet(
                    format!("spec.ports[{i}].name is {name:?} but this lesson calls the port {want:?}"),
                    &object,
                    Some(&format!("spec.ports[{i}].name")),
                    None,
                );
            }
        }
        match &port.target_port {
            Some(IntOrString::String(_)) => {}
            other => {
                let shown = match other {
                    Some(IntOrString::Int(n)) => format!("{n}, a number"),
                    _ => format!("not set (so it is the port number, {})", port.port),
                };
                return not_yet(
                    format!("spec.ports[{i}].targetPort is {shown}: refer to the container's port by its name instead"),
                    &object,
                    Some(&format!("spec.ports[{i}].targetPort")),
                    Some(&format!("Use targetPort: {name}, and name the container port {name} in step 1.")),
                );
            }
        }
    }
    Outcome::Pass
}

/// The names the Service's ports send traffic to (`targetPort` names).
fn target_port_names(svc: &Service) -> Vec<String> {
    let ports = svc.spec.as_ref().and_then(|s| s.ports.as_ref());
    ports
        .into_iter()
        .flatten()
        .filter_map(|p| match &p.target_port {
            Some(IntOrString::String(s)) => Some(s.clone()),
            _ => None,
        })
        .collect()
}

pub fn statefulset_spec(p: &SpecParams, snapshot: &Snapshot) -> Outcome {
    let object = sts_object(&p.statefulset);
    let Some(svc) = snapshot.services.get(&p.service) else {
        return not_yet(
            format!("the headless Service {:?} does not exist: step 0 creates it", p.service),
            &format!("Service/{}", p.service),
            None,
            Some("Go back to step 0 and apply the Service first."),
        );
    };
    let Some(sts) = snapshot.statefulsets.get(&p.statefulset) else {
        return not_yet(
            format!("there is no StatefulSet {:?} yet", p.statefulset),
            &object,
            None,
            Some("Fill in the blanks of web.yaml and :apply."),
        );
    };
    let spec = sts.spec.clone().unwrap_or_default();
    let service_name = spec.service_name.as_deref().unwrap_or("");
    if service_name != p.service {
        let shown = if service_name.is_empty() { "not set".to_string() } else { format!("{service_name:?}") };
        return not_yet(
            format!("spec.serviceName is {shown} but the headless Service is called {:?}", p.service),
            &object,
            Some("spec.serviceName"),
            Some("Set serviceName to the name of the headless Service from step 0. serviceName cannot be changed on an existing StatefulSet: delete it (:delete statefulset web) and apply again."),
        );
    }
    // At least: later steps scale up.
    if spec_replicas(sts) < p.replicas {
        return not_yet(
            format!("spec.replicas is {} but this step wants {}", spec_replicas(sts), p.replicas),
            &object,
            Some("spec.replicas"),
            None,
        );
    }
    let selector = spec.selector.match_labels.clone().unwrap_or_default();
    let labels = spec.template.metadata.as_ref().and_then(|m| m.labels.clone()).unwrap_or_default();
    if !selects(&selector, &labels) {
        return not_yet(
            format!(
                "spec.selector.matchLabels is {} but the template's labels are {}: the selector must match them",
                labels_text(&selector),
                labels_text(&labels)
            ),
            &object,
            Some("spec.selector.matchLabels"),
            Some("Use the same key and value in spec.selector.matchLabels and spec.template.metadata.labels."),
        );
    }
    let svc_selector = svc.spec.as_ref().and_then(|s| s.selector.clone()).unwrap_or_default();
    if !selects(&svc_selector, &labels) {
        return not_yet(
            format!(
                "the Service {:?} selects {} but the pods are labelled {}: the Service would find none of them",
                p.service,
                labels_text(&svc_selector),
                labels_text(&labels)
            ),
            &object,
            Some("spec.selector.matchLabels"),
            Some("Label the pods (and select them) with the Service's selector."),
        );
    }
    let claims = claim_names(sts);
    let pod_spec = spec.template.spec.clone().unwrap_or_default();
    let volumes: Vec<String> = pod_spec.volumes.iter().flatten().map(|v| v.name.clone()).collect();
    let lists = [
        ("initContainers", pod_spec.init_containers.clone().unwrap_or_default()),
        ("containers", pod_spec.containers.clone()),
    ];
    for (list, containers) in &lists {
        for (ci, c) in containers.iter().enumerate() {
            for (mi, m) in c.volume_mounts.iter().flatten().enumerate() {
                if claims.contains(&m.name) || volumes.contains(&m.name) {
                    continue;
                }
                let field = format!("spec.template.spec.{list}[{ci}].volumeMounts[{mi}].name");
                let have = match claims.as_slice() {
                    [] => "there is no volume claim template".to_string(),
                    [one] => format!("the claim template is called {one:?}"),
                    many => format!(
                        "the claim templates are {}",
                        many.iter().map(|c| format!("{c:?}")).collect::<Vec<_>>().join(", ")
                    ),
                };
                let reported = failed_create(snapshot, &p.statefulset)
                    .map(|m| format!(" (the StatefulSet reports: {m})"))
                    .unwrap_or_default();
                return not_yet(
                    format!("{field} is {:?} but {have}: a volumeMount must name a volume of the pod{reported}", m.name),
                    &object,
                    Some(&field),
                    Some("Each claim template becomes a volume of the same name in every pod: use that name in both volumeMounts."),
                );
            }
        }
    }
    let targets = target_port_names(svc);
    for target in &targets {
        let named = pod_spec
            .containers
            .iter()
            .any(|c| c.ports.iter().flatten().any(|port| port.name.as_deref() == Some(target)));
        if !named {
            let first = pod_spec.containers.first().and_then(|c| c.ports.as_ref()).and_then(|ps| ps.first());
            let (field, shown) = match first {
                Some(port) => (
                    "spec.template.spec.containers[0].ports[0].name".to_string(),
                    match &port.name {
                        Some(n) => format!("is {n:?}"),
                        None => "is not set".to_string(),
                    },
                ),
                None => ("spec.template.spec.containers[0].ports".to_string(), "has no ports".to_string()),
            };
            return not_yet(
                format!(
                    "{field} {shown} but the Service {:?} sends traffic to the port named {target:?} (its targetPort)",
                    p.service
                ),
                &object,
                Some(&field),
                Some(&format!("Name the container port {target:?}, like the Service's targetPort.")),
            );
        }
    }
    Outcome::Pass
}
