//! Discovery documents: /version, /api, /apis and each group-version's resource list, built from
//! the resource registry. Plain (not aggregated) discovery: kubectl and kube-rs accept it.

use crate::consts::KUBE_VERSION;
use serde_json::{json, Value};

use crate::resources::{ResourceType, RESOURCES};

pub(super) fn version() -> Value {
    json!({
        "major": "1",
        "minor": "33",
        "gitVersion": KUBE_VERSION,
        "gitCommit": "kubetutor-sandbox",
        "gitTreeState": "clean",
        "buildDate": "2025-08-15T00:00:00Z",
        "goVersion": "go1.24.5",
        "compiler": "gc",
        "platform": format!("linux/{}", std::env::consts::ARCH.replace("x86_64", "amd64").replace("aarch64", "arm64")),
    })
}

pub(super) fn api_versions() -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}],
    })
}

/// The named groups, in registry order, each with its one version.
fn groups() -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    for r in RESOURCES.iter().filter(|r| !r.group.is_empty()) {
        if !out.contains(&(r.group, r.version)) {
            out.push((r.group, r.version));
        }
    }
    out
}

fn group_doc(group: &str, version: &str) -> Value {
    let gv = json!({"groupVersion": format!("{group}/{version}"), "version": version});
    json!({"name": group, "versions": [gv.clone()], "preferredVersion": gv})
}

pub(super) fn group_list() -> Value {
    let groups: Vec<Value> = groups().into_iter().map(|(g, v)| group_doc(g, v)).collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

pub(super) fn group(name: &str) -> Option<Value> {
    let (g, v) = groups().into_iter().find(|(g, _)| *g == name)?;
    let mut doc = group_doc(g, v);
    doc["kind"] = json!("APIGroup");
    doc["apiVersion"] = json!("v1");
    Some(doc)
}

fn resource_entry(r: &ResourceType) -> Value {
    let mut e = json!({
        "name": r.plural,
        "singularName": r.singular,
        "namespaced": r.namespaced,
        "kind": r.kind,
        "verbs": r.verbs,
    });
    if !r.short_names.is_empty() {
        e["shortNames"] = json!(r.short_names);
    }
    if !r.categories.is_empty() {
        e["categories"] = json!(r.categories);
    }
    e
}

fn subresource_entry(r: &ResourceType, sub: &str) -> Value {
    let (kind, verbs, group, version): (&str, &[&str], Option<&str>, Option<&str>) = match sub {
        "status" => (r.kind, &["get", "patch", "update"], None, None),
        "scale" => ("Scale", &["get", "patch", "update"], Some("autoscaling"), Some("v1")),
        "log" => ("Pod", &["get"], None, None),
        "binding" => ("Binding", &["create"], None, None),
        "attach" | "exec" => ("PodAttachOptions", &["create", "get"], None, None),
        _ => (r.kind, &["get"], None, None),
    };
    let kind = if sub == "exec" { "PodExecOptions" } else { kind };
    let mut e = json!({
        "name": format!("{}/{sub}", r.plural),
        "singularName": "",
        "namespaced": r.namespaced,
        "kind": kind,
        "verbs": verbs,
    });
    if let (Some(g), Some(v)) = (group, version) {
        e["group"] = json!(g);
        e["version"] = json!(v);
    }
    e
}

/// APIResourceList of a group-version, or None when it is not served.
pub(super) fn resource_list(group: &str, version: &str) -> Option<Value> {
    let mut resources = Vec::new();
    for r in RESOURCES.iter().filter(|r| r.group == group && r.version == version) {
        resources.push(resource_entry(r));
        for sub in r.subresources {
            resources.push(subresource_entry(r, sub));
        }
    }
    if resources.is_empty() {
        return None;
    }
    let gv = if group.is_empty() { version.to_string() } else { format!("{group}/{version}") };
    Some(json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_lists_what_the_registry_serves() {
        let apps = resource_list("apps", "v1").unwrap();
        let names: Vec<&str> =
            apps["resources"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["statefulsets", "statefulsets/status", "statefulsets/scale", "controllerrevisions"]);
        assert_eq!(apps["resources"][2]["group"], "autoscaling");
        let core = resource_list("", "v1").unwrap();
        assert!(core["resources"].as_array().unwrap().iter().any(|r| r["name"] == "pods/log"));
        assert!(resource_list("batch", "v1").is_none());
        let groups = group_list();
        assert!(groups["groups"].as_array().unwrap().iter().any(|g| g["name"] == "apps"));
        assert_eq!(version()["minor"], "33");
    }
}
