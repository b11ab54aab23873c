use serde_json::{json, Value};

use super::*;
use crate::defaults::apply_defaults;
use crate::resources::kinds;

fn seed_sts() -> Value {
    let mut sts = json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "web"},
        "spec": {
            "serviceName": "nginx", "replicas": 2,
            "selector": {"matchLabels": {"app": "nginx"}},
            "template": {
                "metadata": {"labels": {"app": "nginx"}},
                "spec": {
                    "initContainers": [{"name": "init", "image": "alpine", "command": ["sh", "-c", "hostname >> /work/index.html"],
                        "volumeMounts": [{"name": "www", "mountPath": "/work"}]}],
                    "containers": [{"name": "nginx", "image": "nginx:1.30", "ports": [{"containerPort": 80, "name": "web"}],
                        "volumeMounts": [{"name": "www", "mountPath": "/usr/share/nginx/html"}]}]
                }
            },
            "volumeClaimTemplates": [{"metadata": {"name": "www"},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]
        }
    });
    apply_defaults(kinds::statefulsets(), &mut sts);
    sts
}

fn causes(rt: &ResourceType, obj: &Value, old: Option<&Value>) -> Vec<String> {
    match validate(rt, obj, old) {
        Ok(()) => Vec::new(),
        Err(e) => {
            assert_eq!((e.code, e.reason), (422, "Invalid"));
            e.details.map(|d| d.causes.iter().map(Cause::display).collect()).unwrap_or_default()
        }
    }
}

#[test]
fn the_seed_objects_are_valid() {
    assert_eq!(causes(kinds::statefulsets(), &seed_sts(), None), Vec::<String>::new());
    let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "nginx", "labels": {"app": "nginx"}},
        "spec": {"clusterIP": "None", "selector": {"app": "nginx"}, "ports": [{"port": 80, "name": "web"}]}});
    assert_eq!(causes(kinds::services(), &svc, None), Vec::<String>::new());
}

#[test]
fn statefulset_spec_errors_name_their_fields() {
    let mut sts = seed_sts();
    sts["spec"]["replicas"] = json!(-1);
    sts["spec"]["template"]["metadata"]["labels"] = json!({"app": "other"});
    sts["spec"]["template"]["spec"]["containers"][0]["volumeMounts"][0]["name"] = json!("data");
    sts["spec"]["template"]["spec"]["containers"][0]["image"] = json!("");
    let got = causes(kinds::statefulsets(), &sts, None);
    assert_eq!(
        got,
        [
            "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
            "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"other\"}: `selector` does not match template `labels`",
        ]
    );
    // The template's pod spec is left to pod creation, as upstream does.
    let mut pod_errors_only = seed_sts();
    pod_errors_only["spec"]["template"]["spec"]["containers"][0]["volumeMounts"][0]["name"] = json!("data");
    pod_errors_only["spec"]["template"]["spec"]["containers"][0]["image"] = json!("");
    assert_eq!(causes(kinds::statefulsets(), &pod_errors_only, None), Vec::<String>::new());
    let e = validate(kinds::statefulsets(), &sts, None).unwrap_err();
    assert!(e.message.starts_with("StatefulSet.apps \"web\" is invalid: ["), "{}", e.message);

    let mut no_selector = seed_sts();
    no_selector["spec"]["selector"] = json!({});
    assert_eq!(
        causes(kinds::statefulsets(), &no_selector, None),
        ["spec.selector: Invalid value: \"null\": empty selector is invalid for statefulset"]
    );
    let mut never = seed_sts();
    never["spec"]["template"]["spec"]["restartPolicy"] = json!("Never");
    assert_eq!(
        causes(kinds::statefulsets(), &never, None),
        ["spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\""]
    );
}

#[test]
fn statefulset_updates_may_change_only_some_fields() {
    let old = seed_sts();
    let mut scaled = old.clone();
    scaled["spec"]["replicas"] = json!(3);
    scaled["spec"]["updateStrategy"]["rollingUpdate"]["partition"] = json!(2);
    scaled["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:1.31");
    assert!(causes(kinds::statefulsets(), &scaled, Some(&old)).is_empty());
    let mut renamed = old.clone();
    renamed["spec"]["serviceName"] = json!("other");
    let got = causes(kinds::statefulsets(), &renamed, Some(&old));
    assert_eq!(got.len(), 1);
    assert!(
        got[0].starts_with("spec: Forbidden: updates to statefulset spec for fields other than 'replicas'"),
        "{got:?}"
    );
}

#[test]
fn names_and_generate_name() {
    let mut sts = seed_sts();
    sts["metadata"]["name"] = json!("Web_1");
    let got = causes(kinds::statefulsets(), &sts, None);
    assert!(got[0].starts_with("metadata.name: Invalid value: \"Web_1\": a lowercase RFC 1123 subdomain"), "{got:?}");
    sts["metadata"] = json!({"generateName": "web-"});
    assert!(causes(kinds::statefulsets(), &sts, None).is_empty());
    sts["metadata"] = json!({});
    assert_eq!(
        causes(kinds::statefulsets(), &sts, None),
        ["metadata.name: Required value: name or generateName is required"]
    );
    let svc = json!({"metadata": {"name": "1nginx"}, "spec": {"clusterIP": "None"}});
    assert!(causes(kinds::services(), &svc, None)[0].contains("a DNS-1035 label"));
}

#[test]
fn services_ports_and_cluster_ip() {
    let svc = json!({"metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}, {"port": 70000, "name": "b", "protocol": "HTTP"}]}});
    assert_eq!(
        causes(kinds::services(), &svc, None),
        [
            "spec.ports[0].name: Required value",
            "spec.ports[1].port: Invalid value: 70000: must be between 1 and 65535, inclusive",
            "spec.ports[1].protocol: Unsupported value: \"HTTP\": supported values: \"SCTP\", \"TCP\", \"UDP\"",
        ]
    );
    let no_ports = json!({"metadata": {"name": "s"}, "spec": {}});
    assert_eq!(causes(kinds::services(), &no_ports, None), ["spec.ports: Required value"]);
    let old = json!({"metadata": {"name": "s"}, "spec": {"clusterIP": "None"}});
    let new = json!({"metadata": {"name": "s"}, "spec": {"clusterIP": "10.96.0.5", "ports": [{"port": 80}]}});
    assert_eq!(
        causes(kinds::services(), &new, Some(&old)),
        ["spec.clusterIPs[0]: Invalid value: \"10.96.0.5\": may not change once set"]
    );
}

#[test]
fn pods_and_claims() {
    let pod = json!({"metadata": {"name": "p"}, "spec": {"containers": [
        {"name": "a", "image": "x", "ports": [{"containerPort": 0}]},
        {"name": "a", "image": "y"}
    ]}});
    assert_eq!(
        causes(kinds::pods(), &pod, None),
        [
            "spec.containers[0].ports[0].containerPort: Invalid value: 0: must be between 1 and 65535, inclusive",
            "spec.containers[1].name: Duplicate value: \"a\"",
        ]
    );
    let ok = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a", "image": "x"}]}});
    let mut moved = ok.clone();
    moved["spec"]["nodeName"] = json!("elsewhere");
    assert!(
        causes(kinds::pods(), &moved, Some(&ok))[0].starts_with("spec: Forbidden: pod updates may not change fields")
    );
    let mut image = ok.clone();
    image["spec"]["containers"][0]["image"] = json!("z");
    assert!(causes(kinds::pods(), &image, Some(&ok)).is_empty());

    let pvc = json!({"metadata": {"name": "c"}, "spec": {"resources": {"requests": {"storage": "lots"}}}});
    assert_eq!(
        causes(kinds::pvcs(), &pvc, None),
        [
            "spec.accessModes: Required value: at least 1 access mode is required",
            "spec.resources.requests[storage]: Invalid value: \"lots\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
        ]
    );
}
