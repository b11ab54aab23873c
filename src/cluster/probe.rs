//! Probe pods: a short-lived pod that runs a script (`nslookup web-0.nginx; wget -q -O - ...`)
//! inside the cluster network, whose log is read back and which is deleted afterwards. The
//! grader proves DNS and HTTP with it and the `:nslookup` / `:wget` commands run in one; it
//! works the same on the sandbox and on a real cluster.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, LogParams, PostParams};
use kube::runtime::wait::await_condition;
use kube::ResourceExt;
use serde_json::json;

use super::Cluster;

/// The label every object the tutor creates carries, so reset finds them and nothing else.
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "kubetutor");
/// The image probe pods run: busybox's nslookup and wget.
pub const PROBE_IMAGE: &str = "busybox:1.36";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeOutput {
    pub pod: String,
    /// The pod's log: what the script printed.
    pub log: String,
    /// The container's exit code, when it ran to the end.
    pub exit_code: Option<i32>,
}

#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("cannot create the probe pod: {}", super::errors::explain(.0))]
    Create(kube::Error),
    #[error("the probe pod {pod} did not finish within {secs} s ({status})")]
    Timeout { pod: String, secs: u64, status: String },
    #[error("cannot read the log of probe pod {pod}: {}", super::errors::explain(.source))]
    Log { pod: String, source: kube::Error },
    #[error("watching probe pod {pod} failed: {message}")]
    Wait { pod: String, message: String },
}

/// Run `script` with `sh -c` in a fresh pod of `image`, wait up to `timeout` for it to end,
/// return its log, and delete it (also when it timed out).
pub async fn run(cluster: &Cluster, image: &str, script: &str, timeout: Duration) -> Result<ProbeOutput, ProbeError> {
    let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
    let labels: BTreeMap<&str, &str> = [MANAGED_BY, ("kubetutor.dev/role", "probe")].into_iter().collect();
    let pod: Pod = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"generateName": "kubetutor-probe-", "labels": labels},
        "spec": {
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 0,
            "containers": [{"name": "probe", "image": image, "command": ["sh", "-c", script]}]
        }
    }))
    .expect("probe pod is well-formed");
    let created = pods.create(&PostParams::default(), &pod).await.map_err(ProbeError::Create)?;
    let name = created.name_any();
    let result = wait_and_read(&pods, &name, timeout).await;
    let _ = pods.delete(&name, &DeleteParams { grace_period_seconds: Some(0), ..Default::default() }).await;
    result
}

async fn wait_and_read(pods: &Api<Pod>, name: &str, timeout: Duration) -> Result<ProbeOutput, ProbeError> {
    let finished = tokio::time::timeout(timeout, await_condition(pods.clone(), name, is_finished)).await;
    match finished {
        Err(_) => {
            let status = match pods.get_opt(name).await {
                Ok(Some(p)) => describe_status(&p),
                _ => "not found".into(),
            };
            Err(ProbeError::Timeout { pod: name.into(), secs: timeout.as_secs(), status })
        }
        Ok(Err(e)) => Err(ProbeError::Wait { pod: name.into(), message: e.to_string() }),
        Ok(Ok(pod)) => {
            let log = pods
                .logs(name, &LogParams::default())
                .await
                .map_err(|source| ProbeError::Log { pod: name.into(), source })?;
            let exit_code = pod
                .as_ref()
                .and_then(|p| p.status.as_ref())
                .and_then(|s| s.container_statuses.as_ref())
                .and_then(|cs| cs.first())
                .and_then(|c| c.state.as_ref())
                .and_then(|s| s.terminated.as_ref())
                .map(|t| t.exit_code);
            Ok(ProbeOutput { pod: name.into(), log, exit_code })
        }
    }
}

fn is_finished(pod: Option<&Pod>) -> bool {
    let phase = pod.and_then(|p| p.status.as_ref()).and_then(|s| s.phase.as_deref());
    matches!(phase, Some("Succeeded" | "Failed"))
}

/// `phase Pending, waiting: ErrImagePull (...)`: why a probe has not finished.
fn describe_status(pod: &Pod) -> String {
    let Some(status) = pod.status.as_ref() else { return "no status yet".into() };
    let phase = status.phase.clone().unwrap_or_else(|| "Unknown".into());
    let waiting = status
        .container_statuses
        .iter()
        .flatten()
        .filter_map(|c| c.state.as_ref()?.waiting.as_ref())
        .map(|w| match &w.message {
            Some(m) => format!("{}: {m}", w.reason.clone().unwrap_or_default()),
            None => w.reason.clone().unwrap_or_default(),
        })
        .next();
    match waiting {
        Some(w) => format!("phase {phase}, waiting: {w}"),
        None => format!("phase {phase}"),
    }
}
