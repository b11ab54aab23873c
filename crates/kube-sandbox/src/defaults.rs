//! Defaulting, as upstream's `SetDefaults_*` functions and the default admission plugins fill in
//! objects: what `kubectl get -o yaml` shows that the learner never wrote. Called by admission on
//! every write; idempotent, so a defaulted object defaults to itself.

use serde_json::{json, Map, Value};

use super::resources::ResourceType;

/// Fill in the defaults for an object of type `rt`.
pub(crate) fn apply_defaults(rt: &ResourceType, obj: &mut Value) {
    match (rt.group, rt.kind) {
        ("apps", "StatefulSet") => statefulset(obj),
        ("", "Pod") => pod(obj),
        ("", "Service") => service(obj),
        ("", "PersistentVolumeClaim") => pvc(obj),
        ("", "PersistentVolume") => pv(obj),
        ("", "Namespace") => namespace(obj),
        ("", "Endpoints") => {
            for subset in array_mut(obj, "/subsets") {
                for port in array_mut(subset, "/ports") {
                    set(port, "protocol", json!("TCP"));
                }
            }
        }
        ("discovery.k8s.io", "EndpointSlice") => {
            for port in array_mut(obj, "/ports") {
                set(port, "protocol", json!("TCP"));
            }
        }
        ("storage.k8s.io", "StorageClass") => {
            set(obj, "reclaimPolicy", json!("Delete"));
            set(obj, "volumeBindingMode", json!("Immediate"));
        }
        _ => {}
    }
}

/// Set `key` on an object value if it is absent (or null).
fn set(obj: &mut Value, key: &str, v: Value) {
    if let Some(m) = obj.as_object_mut() {
        match m.get(key) {
            Some(x) if !x.is_null() => {}
            _ => {
                m.insert(key.to_string(), v);
            }
        }
    }
}

/// The object at `path`, created as `{}` on the way when absent. None if something in the way
/// is not an object (validation reports that later).
fn obj_at<'a>(v: &'a mut Value, path: &[&str]) -> Option<&'a mut Map<String, Value>> {
    let mut cur = v;
    for key in path {
        let m = cur.as_object_mut()?;
        let next = m.entry(key.to_string()).or_insert_with(|| json!({}));
        if next.is_null() {
            *next = json!({});
        }
        cur = next;
    }
    cur.as_object_mut()
}

/// Items of the array at `path`, or nothing.
fn array_mut<'a>(v: &'a mut Value, path: &str) -> impl Iterator<Item = &'a mut Value> {
    v.pointer_mut(path).and_then(Value::as_array_mut).into_iter().flat_map(|a| a.iter_mut())
}

fn statefulset(sts: &mut Value) {
    let Some(spec) = sts.get_mut("spec").filter(|s| s.is_object()) else {
        return;
    };
    set(spec, "replicas", json!(1));
    set(spec, "podManagementPolicy", json!("OrderedReady"));
    set(spec, "revisionHistoryLimit", json!(10));
    set(spec, "updateStrategy", json!({}));
    if let Some(us) = spec.get_mut("updateStrategy") {
        set(us, "type", json!("RollingUpdate"));
        if us["type"] == "RollingUpdate" {
            set(us, "rollingUpdate", json!({}));
            set(&mut us["rollingUpdate"], "partition", json!(0));
        }
    }
    set(spec, "persistentVolumeClaimRetentionPolicy", json!({}));
    if let Some(p) = spec.get_mut("persistentVolumeClaimRetentionPolicy") {
        set(p, "whenDeleted", json!("Retain"));
        set(p, "whenScaled", json!("Retain"));
    }
    if let Some(tpl) = spec.get_mut("template").filter(|t| t.is_object()) {
        pod_template(tpl);
    }
    for claim in array_mut(spec, "/volumeClaimTemplates") {
        set(claim, "apiVersion", json!("v1"));
        set(claim, "kind", json!("PersistentVolumeClaim"));
        set(claim, "metadata", json!({}));
        set(&mut claim["metadata"], "creationTimestamp", Value::Null);
        if let Some(cs) = claim.get_mut("spec").filter(|s| s.is_object()) {
            set(cs, "volumeMode", json!("Filesystem"));
        }
        set(claim, "status", json!({}));
        set(&mut claim["status"], "phase", json!("Pending"));
    }
}

fn pod_template(tpl: &mut Value) {
    set(tpl, "metadata", json!({}));
    set(&mut tpl["metadata"], "creationTimestamp", Value::Null);
    if let Some(spec) = tpl.get_mut("spec").filter(|s| s.is_object()) {
        pod_spec(spec);
    }
}

fn pod_spec(spec: &mut Value) {
    set(spec, "restartPolicy", json!("Always"));
    set(spec, "dnsPolicy", json!("ClusterFirst"));
    set(spec, "terminationGracePeriodSeconds", json!(30));
    set(spec, "securityContext", json!({}));
    set(spec, "schedulerName", json!("default-scheduler"));
    for field in ["/initContainers", "/containers"] {
        for c in array_mut(spec, field) {
            container(c);
        }
    }
    for v in array_mut(spec, "/volumes") {
        for (source, key) in [
            ("configMap", "defaultMode"),
            ("secret", "defaultMode"),
            ("downwardAPI", "defaultMode"),
            ("projected", "defaultMode"),
        ] {
            if let Some(s) = v.get_mut(source).filter(|s| s.is_object()) {
                set(s, key, json!(420));
            }
        }
        if let Some(h) = v.get_mut("hostPath").filter(|s| s.is_object()) {
            set(h, "type", json!(""));
        }
    }
}

fn container(c: &mut Value) {
    set(c, "terminationMessagePath", json!("/dev/termination-log"));
    set(c, "terminationMessagePolicy", json!("File"));
    set(c, "resources", json!({}));
    let image = c.get("image").and_then(Value::as_str).unwrap_or("").to_string();
    set(c, "imagePullPolicy", json!(pull_policy(&image)));
    for p in array_mut(c, "/ports") {
        set(p, "protocol", json!("TCP"));
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(p) = c.get_mut(probe).filter(|p| p.is_object()) {
            set(p, "timeoutSeconds", json!(1));
            set(p, "periodSeconds", json!(10));
            set(p, "successThreshold", json!(1));
            set(p, "failureThreshold", json!(3));
            if let Some(h) = p.get_mut("httpGet").filter(|h| h.is_object()) {
                set(h, "path", json!("/"));
                set(h, "scheme", json!("HTTP"));
            }
        }
    }
}

/// `Always` for `:latest` or an untagged image, else `IfNotPresent` (SetDefaults_Container).
pub(crate) fn pull_policy(image: &str) -> &'static str {
    if image.contains('@') {
        return "IfNotPresent";
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        None => "Always",
        Some((_, "latest")) => "Always",
        Some(_) => "IfNotPresent",
    }
}

fn pod(p: &mut Value) {
    if let Some(spec) = p.get_mut("spec").filter(|s| s.is_object()) {
        pod_spec(spec);
        // What the ServiceAccount, Priority and DefaultTolerationSeconds admission plugins add.
        set(spec, "serviceAccountName", json!("default"));
        let sa = spec["serviceAccountName"].clone();
        set(spec, "serviceAccount", sa);
        set(spec, "enableServiceLinks", json!(true));
        set(spec, "priority", json!(0));
        set(spec, "preemptionPolicy", json!("PreemptLowerPriority"));
        set(spec, "tolerations", json!([]));
        if let Some(t) = spec.get_mut("tolerations").and_then(Value::as_array_mut) {
            for key in ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"] {
                if !t.iter().any(|x| x["key"] == key) {
                    t.push(json!({"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}));
                }
            }
        }
    }
    set(p, "status", json!({}));
    set(&mut p["status"], "phase", json!("Pending"));
    set(&mut p["status"], "qosClass", json!("BestEffort"));
}

fn service(svc: &mut Value) {
    let Some(spec) = svc.get_mut("spec").filter(|s| s.is_object()) else {
        return;
    };
    set(spec, "type", json!("ClusterIP"));
    set(spec, "sessionAffinity", json!("None"));
    for port in array_mut(spec, "/ports") {
        set(port, "protocol", json!("TCP"));
        let number = port.get("port").cloned().unwrap_or(Value::Null);
        if !number.is_null() {
            set(port, "targetPort", number);
        }
    }
    if spec["type"] != "ExternalName" {
        set(spec, "internalTrafficPolicy", json!("Cluster"));
        set(spec, "ipFamilies", json!(["IPv4"]));
        set(spec, "ipFamilyPolicy", json!("SingleStack"));
    }
    if spec["clusterIP"] == "None" {
        set(spec, "clusterIPs", json!(["None"]));
    }
    set(svc, "status", json!({}));
    set(&mut svc["status"], "loadBalancer", json!({}));
}

fn pvc(claim: &mut Value) {
    if let Some(spec) = claim.get_mut("spec").filter(|s| s.is_object()) {
        set(spec, "volumeMode", json!("Filesystem"));
    }
    set(claim, "status", json!({}));
    set(&mut claim["status"], "phase", json!("Pending"));
}

fn pv(vol: &mut Value) {
    if let Some(spec) = vol.get_mut("spec").filter(|s| s.is_object()) {
        set(spec, "persistentVolumeReclaimPolicy", json!("Retain"));
        set(spec, "volumeMode", json!("Filesystem"));
    }
    set(vol, "status", json!({}));
    set(&mut vol["status"], "phase", json!("Pending"));
}

fn namespace(ns: &mut Value) {
    let name = ns.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("").to_string();
    if !name.is_empty() {
        if let Some(labels) = obj_at(ns, &["metadata", "labels"]) {
            // Upstream always sets this label to the name, overriding what the client sent.
            labels.insert("kubernetes.io/metadata.name".into(), json!(name));
        }
    }
    if let Some(spec) = obj_at(ns, &["spec"]) {
        spec.entry("finalizers").or_insert_with(|| json!(["kubernetes"]));
    }
    if let Some(status) = obj_at(ns, &["status"]) {
        status.entry("phase").or_insert_with(|| json!("Active"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::kinds;

    fn web() -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "web"},
            "spec": {
                "serviceName": "nginx",
                "selector": {"matchLabels": {"app": "nginx"}},
                "template": {
                    "metadata": {"labels": {"app": "nginx"}},
                    "spec": {"containers": [{"name": "nginx", "image": "nginx:1.29", "ports": [{"containerPort": 80, "name": "web"}]}]}
                },
                "volumeClaimTemplates": [{"metadata": {"name": "www"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]
            }
        })
    }

    #[test]
    fn statefulset_gets_upstream_defaults() {
        let mut s = web();
        apply_defaults(kinds::statefulsets(), &mut s);
        let spec = &s["spec"];
        assert_eq!(spec["replicas"], 1);
        assert_eq!(spec["podManagementPolicy"], "OrderedReady");
        assert_eq!(spec["revisionHistoryLimit"], 10);
        assert_eq!(spec["updateStrategy"], json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}));
        assert_eq!(
            spec["persistentVolumeClaimRetentionPolicy"],
            json!({"whenDeleted": "Retain", "whenScaled": "Retain"})
        );
        let c = &spec["template"]["spec"]["containers"][0];
        assert_eq!(c["imagePullPolicy"], "IfNotPresent");
        assert_eq!(c["ports"][0]["protocol"], "TCP");
        assert_eq!(spec["template"]["spec"]["dnsPolicy"], "ClusterFirst");
        assert_eq!(spec["volumeClaimTemplates"][0]["spec"]["volumeMode"], "Filesystem");
        assert_eq!(spec["volumeClaimTemplates"][0]["status"]["phase"], "Pending");
    }

    #[test]
    fn defaulting_is_idempotent_and_keeps_what_was_set() {
        let mut s = web();
        s["spec"]["replicas"] = json!(3);
        s["spec"]["updateStrategy"] = json!({"type": "OnDelete"});
        apply_defaults(kinds::statefulsets(), &mut s);
        let once = s.clone();
        apply_defaults(kinds::statefulsets(), &mut s);
        assert_eq!(s, once);
        assert_eq!(s["spec"]["replicas"], 3);
        assert_eq!(s["spec"]["updateStrategy"], json!({"type": "OnDelete"}));
    }

    #[test]
    fn pull_policy_follows_the_tag() {
        assert_eq!(pull_policy("nginx"), "Always");
        assert_eq!(pull_policy("nginx:latest"), "Always");
        assert_eq!(pull_policy("nginx:1.29"), "IfNotPresent");
        assert_eq!(pull_policy("localhost:5000/nginx"), "Always");
        assert_eq!(pull_policy("nginx@sha256:abc"), "IfNotPresent");
    }

    #[test]
    fn service_and_namespace_defaults() {
        let mut svc = json!({"metadata": {"name": "nginx"}, "spec": {"clusterIP": "None", "ports": [{"port": 80, "name": "web"}]}});
        apply_defaults(kinds::services(), &mut svc);
        assert_eq!(svc["spec"]["ports"][0]["targetPort"], 80);
        assert_eq!(svc["spec"]["type"], "ClusterIP");
        assert_eq!(svc["spec"]["clusterIPs"], json!(["None"]));
        let mut ns = json!({"metadata": {"name": "lab"}});
        apply_defaults(kinds::namespaces(), &mut ns);
        assert_eq!(ns["metadata"]["labels"]["kubernetes.io/metadata.name"], "lab");
        assert_eq!(ns["spec"]["finalizers"], json!(["kubernetes"]));
        assert_eq!(ns["status"]["phase"], "Active");
    }
}
