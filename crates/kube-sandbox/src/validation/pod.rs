//! Pod spec validation, used for Pods and for StatefulSet templates (where the claim templates'
//! names count as volumes), and the fields a Pod update may change.

use std::collections::HashSet;

use serde_json::{json, Value};

use super::names::dns1123_label;
use crate::error::Cause;

const PROTOCOLS: &[&str] = &["SCTP", "TCP", "UDP"];

pub(super) fn protocol(v: &Value, path: &str, causes: &mut Vec<Cause>) {
    if !v.is_null() && !v.as_str().is_some_and(|p| PROTOCOLS.contains(&p)) {
        causes.push(Cause::not_supported(path, v, PROTOCOLS));
    }
}

/// Validate a pod spec at `path`; `claims` are extra volume names (volumeClaimTemplates).
pub(super) fn spec(spec: &Value, path: &str, claims: &[String], causes: &mut Vec<Cause>) {
    let mut volumes: HashSet<String> = claims.iter().cloned().collect();
    for (i, v) in spec["volumes"].as_array().into_iter().flatten().enumerate() {
        let vp = format!("{path}.volumes[{i}].name");
        let name = v["name"].as_str().unwrap_or("");
        if name.is_empty() {
            causes.push(Cause::required(vp));
            continue;
        }
        for p in dns1123_label(name) {
            causes.push(Cause::invalid(&vp, &json!(name), p));
        }
        if !volumes.insert(name.to_string()) {
            causes.push(Cause::duplicate(vp, &json!(name)));
        }
    }

    let containers = spec["containers"].as_array().map(Vec::as_slice).unwrap_or_default();
    if containers.is_empty() {
        causes.push(Cause::required(format!("{path}.containers")));
    }
    let mut names = HashSet::new();
    let init = spec["initContainers"].as_array().map(Vec::as_slice).unwrap_or_default();
    for (list, items) in [("initContainers", init), ("containers", containers)] {
        for (i, c) in items.iter().enumerate() {
            container(c, &format!("{path}.{list}[{i}]"), &volumes, &mut names, causes);
        }
    }

    let restart = &spec["restartPolicy"];
    if !restart.is_null() && !matches!(restart.as_str(), Some("Always" | "OnFailure" | "Never")) {
        causes.push(Cause::not_supported(format!("{path}.restartPolicy"), restart, &["Always", "OnFailure", "Never"]));
    }
    let dns = &spec["dnsPolicy"];
    const DNS: &[&str] = &["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"];
    if !dns.is_null() && !dns.as_str().is_some_and(|d| DNS.contains(&d)) {
        causes.push(Cause::not_supported(format!("{path}.dnsPolicy"), dns, DNS));
    }
    if let Some(g) = spec["terminationGracePeriodSeconds"].as_i64() {
        if g < 0 {
            causes.push(Cause::invalid(
                format!("{path}.terminationGracePeriodSeconds"),
                &json!(g),
                "must be greater than or equal to 0",
            ));
        }
    }
}

fn container(c: &Value, path: &str, volumes: &HashSet<String>, names: &mut HashSet<String>, causes: &mut Vec<Cause>) {
    let name = c["name"].as_str().unwrap_or("");
    if name.is_empty() {
        causes.push(Cause::required(format!("{path}.name")));
    } else {
        for p in dns1123_label(name) {
            causes.push(Cause::invalid(format!("{path}.name"), &json!(name), p));
        }
        if !names.insert(name.to_string()) {
            causes.push(Cause::duplicate(format!("{path}.name"), &json!(name)));
        }
    }
    if c["image"].as_str().unwrap_or("").trim().is_empty() {
        causes.push(Cause::required(format!("{path}.image")));
    }
    let pull = &c["imagePullPolicy"];
    if !pull.is_null() && !matches!(pull.as_str(), Some("Always" | "IfNotPresent" | "Never")) {
        causes.push(Cause::not_supported(
            format!("{path}.imagePullPolicy"),
            pull,
            &["Always", "IfNotPresent", "Never"],
        ));
    }
    let mut port_names = HashSet::new();
    for (i, p) in c["ports"].as_array().into_iter().flatten().enumerate() {
        let pp = format!("{path}.ports[{i}]");
        match p["containerPort"].as_i64() {
            None => causes.push(Cause::required(format!("{pp}.containerPort"))),
            Some(n) if !(1..=65535).contains(&n) => causes.push(Cause::invalid(
                format!("{pp}.containerPort"),
                &p["containerPort"],
                "must be between 1 and 65535, inclusive",
            )),
            _ => {}
        }
        if let Some(n) = p["name"].as_str() {
            for problem in port_name(n) {
                causes.push(Cause::invalid(format!("{pp}.name"), &json!(n), problem));
            }
            if !port_names.insert(n.to_string()) {
                causes.push(Cause::duplicate(format!("{pp}.name"), &json!(n)));
            }
        }
        protocol(&p["protocol"], &format!("{pp}.protocol"), causes);
    }
    let mut paths = HashSet::new();
    for (i, m) in c["volumeMounts"].as_array().into_iter().flatten().enumerate() {
        let mp = format!("{path}.volumeMounts[{i}]");
        let name = m["name"].as_str().unwrap_or("");
        if name.is_empty() {
            causes.push(Cause::required(format!("{mp}.name")));
        } else if !volumes.contains(name) {
            causes.push(Cause::not_found(format!("{mp}.name"), &json!(name)));
        }
        let mount = m["mountPath"].as_str().unwrap_or("");
        if mount.is_empty() {
            causes.push(Cause::required(format!("{mp}.mountPath")));
        } else if !paths.insert(mount.to_string()) {
            causes.push(Cause::invalid(format!("{mp}.mountPath"), &json!(mount), "must be unique"));
        }
    }
}

/// IANA service name rules for a named port.
fn port_name(n: &str) -> Vec<String> {
    let mut out = Vec::new();
    if n.len() > 15 {
        out.push("must be no more than 15 characters".to_string());
    }
    if !n.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
        out.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".to_string());
    }
    if n.contains("--") {
        out.push("must not contain consecutive hyphens".to_string());
    }
    if !n.chars().any(|c| c.is_ascii_lowercase()) {
        out.push("must contain at least one letter (a-z)".to_string());
    }
    if n.starts_with('-') || n.ends_with('-') {
        out.push("must not begin or end with a hyphen".to_string());
    }
    out
}

/// On update a pod may change only its images, activeDeadlineSeconds, tolerations (additions)
/// and a negative grace period (the scheduler sets nodeName through the binding subresource).
pub(super) fn update(new: &Value, old: &Value, causes: &mut Vec<Cause>) {
    let normalise = |s: &Value| {
        let mut s = s.clone();
        for list in ["containers", "initContainers"] {
            if let Some(items) = s.get_mut(list).and_then(Value::as_array_mut) {
                for c in items {
                    if let Some(m) = c.as_object_mut() {
                        m.remove("image");
                    }
                }
            }
        }
        if let Some(m) = s.as_object_mut() {
            for f in ["activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds"] {
                m.remove(f);
            }
        }
        s
    };
    if normalise(new) != normalise(old) {
        causes.push(Cause::forbidden(
            "spec",
            "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
        ));
    }
}
