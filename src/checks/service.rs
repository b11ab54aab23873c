//! `headless_service` and `statefulset_spec`: the objects as written, and whether they agree
//! with each other (serviceName, selectors and labels, volume and port names).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use kube::ResourceExt;

use super::params::{ServiceParams, SpecParams};
use super::roles::{self, Found};
use super::util::{claim_names, failed_create, not_yet, spec_replicas, sts_object};
use crate::checks::{Concern, Outcome};
use crate::cluster::Snapshot;

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

fn concern_free(reason: String, hint: String) -> Outcome {
    Outcome::NotYet { reason, concern: Concern::default(), hint: Some(hint) }
}

pub fn headless_service(p: &ServiceParams, snapshot: &Snapshot) -> Outcome {
    let svc = match roles::lesson_service(snapshot, p.statefulset.as_deref()) {
        Found::One(svc) => svc,
        Found::Nothing => {
            return concern_free(
                "there is no headless Service yet".into(),
                "Fill in the blanks (the Service's name too) and :apply (or kubectl apply -f with your file).".into(),
            )
        }
        Found::Several(list) if list.iter().all(|s| roles::is_headless(s)) => {
            let last = list.last().map(|s| s.name_any()).unwrap_or_default();
            return concern_free(
                format!(
                    "there are {} headless Services ({}): the lesson needs one, and it cannot tell which is yours",
                    list.len(),
                    roles::quoted_names(&list)
                ),
                format!("Keep the one you will name in the StatefulSet's serviceName and delete the others, e.g. :delete service {last}"),
            );
        }
        Found::Several(list) => {
            let last = list.last().map(|s| s.name_any()).unwrap_or_default();
            return concern_free(
                format!(
                    "none of the Services {} is headless: each has a cluster IP of its own",
                    roles::quoted_names(&list)
                ),
                format!(
                    "A Service's clusterIP cannot change once set: delete yours (e.g. :delete service {last}) and apply it again with clusterIP: None."
                ),
            );
        }
    };
    let name = svc.name_any();
    let object = format!("Service/{name}");
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
                "Set clusterIP: None. A Service's clusterIP cannot change once set: delete it (:delete service {name}) and apply again."
            )),
        );
    }
    let selector = spec.selector.clone().unwrap_or_default();
    if selector.is_empty() {
        return not_yet(
            "spec.selector is empty: without a selector the Service finds no pods, and the pods get no DNS names",
            &object,
            Some("spec.selector"),
            Some("Add a selector of your choice, e.g. app: nginx, and give the pods the same label in step 1."),
        );
    }
    let ports = spec.ports.unwrap_or_default();
    if ports.is_empty() {
        return not_yet("spec.ports is empty: the Service needs a port", &object, Some("spec.ports"), None);
    }
    for (i, port) in ports.iter().enumerate() {
        let port_name = port.name.as_deref().unwrap_or("");
        if port_name.is_empty() {
            return not_yet(
                format!("spec.ports[{i}] has no name: give the port a name (e.g. web)"),
                &object,
                Some(&format!("spec.ports[{i}].name")),
                None,
            );
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
                    Some(&format!("Use targetPort: {port_name}, and name the container port {port_name} in step 1.")),
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

/// The two ways out when a fix needs a field of a StatefulSet that cannot change (selector,
/// serviceName, volumeClaimTemplates): change the other side, or delete and apply again.
fn immutable_hint(field: &str, sts: &str, other_way: &str) -> String {
    format!(
        "{field} cannot change on an existing StatefulSet. Either {other_way}, or delete the StatefulSet (:delete statefulset {sts}; its claims stay, and so does the data) and apply it again."
    )
}

pub fn statefulset_spec(p: &SpecParams, snapshot: &Snapshot) -> Outcome {
    let object = sts_object(&p.statefulset);
    let Some(sts) = snapshot.statefulsets.get(&p.statefulset) else {
        return not_yet(
            format!("there is no StatefulSet {:?} yet", p.statefulset),
            &object,
            None,
            Some("Fill in the blanks of the StatefulSet and :apply."),
        );
    };
    let spec = sts.spec.clone().unwrap_or_default();
    let service_name = roles::service_name(sts);
    let headless: Vec<&Service> = snapshot.services.values().filter(|s| roles::is_headless(s)).collect();
    let suggestion = match headless.as_slice() {
        [one] => format!("serviceName: {}", one.name_any()),
        _ => "serviceName: <the name of your headless Service>".to_string(),
    };
    if service_name.is_empty() {
        let have = match headless.as_slice() {
            [] => "there is no headless Service yet either (step 0)".to_string(),
            [one] => format!("the headless Service here is {:?}", one.name_any()),
            many => format!("the headless Services here are {}", roles::quoted_names(many)),
        };
        return not_yet(
            format!("spec.serviceName is not set: it names the headless Service that gives the pods their DNS names; {have}"),
            &object,
            Some("spec.serviceName"),
            Some(&immutable_hint("spec.serviceName", &p.statefulset, &format!("create a headless Service and set {suggestion} in a new StatefulSet"))),
        );
    }
    let Some(svc) = snapshot.services.get(service_name) else {
        let have = match headless.as_slice() {
            [] => "step 0 creates it".to_string(),
            [one] => format!("the headless Service here is called {:?}", one.name_any()),
            many => format!("the headless Services here are {}", roles::quoted_names(many)),
        };
        return not_yet(
            format!("spec.serviceName is {service_name:?} but there is no Service {service_name:?}: {have}"),
            &object,
            Some("spec.serviceName"),
            Some(&immutable_hint(
                "spec.serviceName",
                &p.statefulset,
                &format!("create the headless Service under the name {service_name:?} (metadata.name in step 0's YAML, then :apply)"),
            )),
        );
    };
    if !roles::is_headless(svc) {
        let ip = roles::cluster_ip(svc);
        return not_yet(
            format!(
                "spec.serviceName names the Service {service_name:?}, which has the cluster IP {ip:?}: it is not headless, so the pods get no DNS names of their own"
            ),
            &format!("Service/{service_name}"),
            Some("spec.clusterIP"),
            Some(&format!(
                "A Service's clusterIP cannot change once set: delete it (:delete service {service_name}) and apply it again with clusterIP: None."
            )),
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
        let (svc_text, pod_text) = (labels_text(&svc_selector), labels_text(&labels));
        return not_yet(
            format!(
                "the Service {service_name:?} selects {svc_text} but the pods are labelled {pod_text}: the Service would find none of them"
            ),
            &object,
            Some("spec.selector.matchLabels"),
            Some(&immutable_hint(
                "spec.selector",
                &p.statefulset,
                &format!(
                    "change the Service's selector to {} (a Service's selector can change: edit step 0's YAML and :apply)",
                    labels_text(&selector)
                ),
            )),
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
                    Some(&format!(
                        "Each claim template becomes a volume of the same name in every pod: use that name in both volumeMounts (the template can change). To rename the claim template instead: {}",
                        immutable_hint("spec.volumeClaimTemplates", &p.statefulset, "keep its name")
                    )),
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
                    "{field} {shown} but the Service {service_name:?} sends traffic to the port named {target:?} (its targetPort)"
                ),
                &object,
                Some(&field),
                Some(&format!("Name the container port {target:?}, like the Service's targetPort.")),
            );
        }
    }
    Outcome::Pass
}
