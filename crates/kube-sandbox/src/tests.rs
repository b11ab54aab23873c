//! What a dropped [`Sandbox`] leaves behind: nothing. Its controllers, the node, the pods'
//! workers and their processes stop, and with them every handle on the store.

use std::time::Duration;

use serde_json::json;

use crate::resources::kinds;
use crate::{admission, Sandbox, SandboxConfig};

/// Pods running (a shell looping, nginx serving, readiness probes), then the sandbox dropped:
/// within a moment the store is freed and the runtime has no more tasks than before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_outlives_a_dropped_sandbox() {
    let metrics = tokio::runtime::Handle::current().metrics();
    let tasks_before = metrics.num_alive_tasks();
    let sandbox = Sandbox::start(SandboxConfig { speed: 60.0, ..Default::default() }).unwrap();
    let store = sandbox.state.store.clone();
    let set = json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"serviceName": "web", "replicas": 3, "podManagementPolicy": "Parallel",
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
                {"name": "nginx", "image": "nginx:1.27",
                 "readinessProbe": {"httpGet": {"path": "/", "port": 80}, "periodSeconds": 1}},
                {"name": "busy", "image": "busybox:1.36",
                 "command": ["sh", "-c", "while true; do echo tick; sleep 1; done"]}]}},
            "volumeClaimTemplates": [{"metadata": {"name": "www"},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]}});
    admission::create(&store, kinds::statefulsets(), set).unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while sandbox.ready_pods("default") < 3 {
        assert!(tokio::time::Instant::now() < deadline, "pods never became Ready");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(metrics.num_alive_tasks() > tasks_before + 3, "the pods' workers run as tasks");
    let weak = store.downgrade();
    drop(store);
    drop(sandbox);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !weak.is_gone() || metrics.num_alive_tasks() > tasks_before {
        assert!(
            tokio::time::Instant::now() < deadline,
            "still alive after the sandbox was dropped: store {}, tasks {} (before it: {tasks_before})",
            if weak.is_gone() { "freed" } else { "held" },
            metrics.num_alive_tasks(),
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
