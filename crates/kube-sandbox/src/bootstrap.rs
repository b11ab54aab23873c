//! The objects a fresh cluster has before anyone applies anything: system namespaces, the one
//! node, the default StorageClass, the `kubernetes` and `kube-dns` services.

use crate::consts::{DNS_SERVICE_IP, NODE_NAME, PROVISIONER, STORAGE_CLASS};
use serde_json::{json, Value};

use super::resources::{kinds, ResourceType};
use super::store::Store;

fn put(store: &Store, rt: &ResourceType, mut obj: Value) {
    let admitted = super::admission::admit(store, rt, &mut obj, None);
    debug_assert!(admitted.is_ok(), "bootstrap object rejected: {admitted:?}");
    // A fresh store has none of these, so creation cannot collide.
    let _ = store.create(rt, obj, false);
}

/// Create the namespace `name` (for workshop attendees).
pub(crate) fn namespace(store: &Store, name: &str) {
    put(store, kinds::namespaces(), json!({"metadata": {"name": name}}));
}

pub(crate) fn populate(store: &Store, default_storage_class: bool) {
    for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        put(store, kinds::namespaces(), json!({"metadata": {"name": ns}}));
    }
    let now = store.clock().now_rfc3339();
    let ready = |t: &str, status: &str, reason: &str, msg: &str| {
        json!({"type": t, "status": status, "reason": reason, "message": msg,
               "lastHeartbeatTime": now, "lastTransitionTime": now})
    };
    put(
        store,
        kinds::nodes(),
        json!({
            "metadata": {"name": NODE_NAME, "labels": {
                "kubernetes.io/hostname": NODE_NAME, "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64", "node-role.kubernetes.io/control-plane": ""}},
            "spec": {"podCIDR": "10.244.0.0/16", "podCIDRs": ["10.244.0.0/16"]},
            "status": {
                "capacity": {"cpu": "2", "memory": "8Gi", "pods": "110", "ephemeral-storage": "100Gi"},
                "allocatable": {"cpu": "2", "memory": "8Gi", "pods": "110", "ephemeral-storage": "100Gi"},
                "conditions": [
                    ready("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                    ready("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                    ready("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                    ready("Ready", "True", "KubeletReady", "kubelet is posting ready status (simulated by kubetutor)"),
                ],
                "addresses": [{"type": "InternalIP", "address": "10.0.0.2"}, {"type": "Hostname", "address": NODE_NAME}],
                "nodeInfo": {"kubeletVersion": crate::consts::KUBE_VERSION, "kubeProxyVersion": "",
                             "containerRuntimeVersion": "kubetutor-simulated://1.0", "operatingSystem": "linux",
                             "architecture": "amd64", "osImage": "kubetutor sandbox (simulated)",
                             "kernelVersion": "simulated", "machineID": "", "systemUUID": "", "bootID": ""},
            },
        }),
    );
    if default_storage_class {
        put(
            store,
            kinds::storageclasses(),
            json!({
                "metadata": {"name": STORAGE_CLASS, "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
                "provisioner": PROVISIONER,
                "reclaimPolicy": "Delete",
                "volumeBindingMode": "Immediate",
            }),
        );
    }
    put(
        store,
        kinds::services(),
        json!({
            "metadata": {"name": "kubernetes", "namespace": "default",
                         "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"clusterIP": "10.96.0.1", "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]},
        }),
    );
    put(
        store,
        kinds::services(),
        json!({
            "metadata": {"name": "kube-dns", "namespace": "kube-system",
                         "labels": {"k8s-app": "kube-dns", "kubernetes.io/name": "CoreDNS"}},
            "spec": {"clusterIP": DNS_SERVICE_IP, "selector": {"k8s-app": "kube-dns"}, "ports": [
                {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
                {"name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153}]},
        }),
    );
}
