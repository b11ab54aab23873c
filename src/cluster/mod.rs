//! The tutor's way to a cluster: the embedded sandbox (started in-process, also served on
//! loopback for kubectl) or any cluster from a kubeconfig. Both give the same [`Cluster`]: a
//! kube client, the namespace the lesson lives in, and a line saying what it is. The watch
//! task, snapshots and the history of what happened to the lesson's pods live here too.

pub mod apply;
pub mod doctor;
pub mod errors;
pub mod history;
pub mod kubectl;
pub mod probe;
pub mod progress;
pub mod snapshot;
pub mod watch;

use std::path::PathBuf;

use kube_sandbox::{Sandbox, SandboxConfig, Serving};

pub use history::{Entry, EntryKind, History};
pub use snapshot::Snapshot;

/// A connected cluster, cheap to clone.
#[derive(Clone)]
pub struct Cluster {
    pub client: kube::Client,
    /// The namespace the lesson's objects live in.
    pub namespace: String,
    pub backend: Backend,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// The embedded sandbox; `kubeconfig` is where its kubeconfig was written for kubectl.
    Sandbox { kubeconfig: PathBuf, server: String },
    /// A cluster from a kubeconfig.
    Kubeconfig { context: String, server: String },
}

impl Cluster {
    /// Make sure the lesson's namespace exists: create it when missing and allowed. A user
    /// who may not read Namespace objects (a workshop attendee) is trusted to have one.
    pub async fn ensure_namespace(&self) -> Result<(), ClusterError> {
        use k8s_openapi::api::core::v1::Namespace;
        let api: kube::Api<Namespace> = kube::Api::all(self.client.clone());
        let err = |e: kube::Error| ClusterError::Namespace {
            namespace: self.namespace.clone(),
            message: errors::explain(&e),
        };
        match api.get_opt(&self.namespace).await {
            Ok(Some(_)) => Ok(()),
            Err(kube::Error::Api(e)) if e.code == 403 => Ok(()),
            Err(e @ kube::Error::Api(_)) => Err(err(e)),
            // Nothing answered: say that, not that the namespace is missing.
            Err(e) => {
                let (what, next) = self.describe_target();
                Err(ClusterError::Unreachable { what, message: errors::explain(&e), next })
            }
            Ok(None) => {
                let ns: Namespace = serde_json::from_value(serde_json::json!({
                    "metadata": {"name": self.namespace, "labels": {probe::MANAGED_BY.0: probe::MANAGED_BY.1}}
                }))
                .expect("namespace is well-formed");
                match api.create(&kube::api::PostParams::default(), &ns).await {
                    Ok(_) => Ok(()),
                    Err(kube::Error::Api(e)) if e.code == 409 => Ok(()),
                    Err(e) => Err(err(e)),
                }
            }
        }
    }

    /// `context NAME`, and what to do when it is the sandbox's and nothing answers.
    fn describe_target(&self) -> (String, String) {
        match &self.backend {
            Backend::Kubeconfig { context, .. } if context == kube_sandbox::consts::KUBECONFIG_CONTEXT => {
                (format!("context {context}"), format!("; {}", doctor::SANDBOX_GONE))
            }
            Backend::Kubeconfig { context, .. } => (format!("context {context}"), String::new()),
            Backend::Sandbox { .. } => ("the sandbox".into(), String::new()),
        }
    }

    pub fn is_sandbox(&self) -> bool {
        matches!(self.backend, Backend::Sandbox { .. })
    }

    /// One line for the status bar: `sandbox (simulated) · ns default` or `context kind-kind · ns kubetutor`.
    pub fn describe(&self) -> String {
        match &self.backend {
            Backend::Sandbox { .. } => format!("sandbox (simulated pods, DNS, HTTP) · ns {}", self.namespace),
            Backend::Kubeconfig { context, .. } => format!("context {context} · ns {}", self.namespace),
        }
    }

    /// The shell line that points kubectl at this cluster, for the status bar.
    pub fn kubectl_hint(&self) -> Option<String> {
        match &self.backend {
            Backend::Sandbox { kubeconfig, .. } => Some(format!("export KUBECONFIG={}", kubeconfig.display())),
            Backend::Kubeconfig { .. } => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("cannot start the sandbox: {0}")]
    Sandbox(String),
    // The cause is part of the message and not a `source`, so a report that prints the
    // chain (`{:#}`) says it once.
    #[error("cannot read the kubeconfig{}: {cause}{}", context_suffix(.context), NO_KUBECONFIG)]
    Kubeconfig { context: Option<String>, cause: kube::config::KubeconfigError },
    #[error("cannot connect to context {context}: {message}")]
    Client { context: String, message: String },
    #[error("cannot reach the cluster of {what}: {message}{next}")]
    Unreachable { what: String, message: String, next: String },
    #[error("namespace {namespace} does not exist and this user may not create it ({message}); ask for it or pick one with --namespace")]
    Namespace { namespace: String, message: String },
}

/// What to do without a kubeconfig.
const NO_KUBECONFIG: &str = ". Point at one with --kubeconfig or KUBECONFIG; or run `kubetutor` alone, which brings its own cluster (the sandbox), or `kubetutor sandbox` to serve it for kubectl";

fn context_suffix(context: &Option<String>) -> String {
    context.as_ref().map(|c| format!(" (context {c})")).unwrap_or_default()
}

/// The embedded sandbox while the tutor runs: dropping it stops the server and the cluster.
pub struct EmbeddedSandbox {
    pub sandbox: Sandbox,
    _serving: Serving,
}

/// Start the embedded sandbox, serve it on a loopback port for kubectl, write its kubeconfig
/// to `kubeconfig` (mode 0600), and connect to it in-process (no socket, same API).
pub async fn start_sandbox(
    config: SandboxConfig,
    kubeconfig: PathBuf,
    namespace: &str,
) -> Result<(Cluster, EmbeddedSandbox), ClusterError> {
    let sb = Sandbox::start(config).map_err(|e| ClusterError::Sandbox(e.to_string()))?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| ClusterError::Sandbox(format!("cannot listen on loopback: {e}")))?;
    let serving = sb.serve_on(listener).map_err(|e| ClusterError::Sandbox(e.to_string()))?;
    let server = serving.url().to_string();
    crate::state::write_atomic(&kubeconfig, &sb.kubeconfig(&server, namespace))
        .map_err(|e| ClusterError::Sandbox(format!("cannot write {}: {e}", kubeconfig.display())))?;
    let client = sb.client();
    let cluster =
        Cluster { client, namespace: namespace.to_string(), backend: Backend::Sandbox { kubeconfig, server } };
    Ok((cluster, EmbeddedSandbox { sandbox: sb, _serving: serving }))
}

/// The namespace the lesson uses on a real cluster whose context names none.
pub const DEFAULT_NAMESPACE: &str = "kubetutor";

/// Which real cluster to use; `None`s mean what kubectl means (KUBECONFIG, current context),
/// except the namespace: the context's own if it names one, else [`DEFAULT_NAMESPACE`] (the
/// lesson never lands in `default` of a shared cluster by accident).
#[derive(Debug, Clone, Default)]
pub struct KubeconfigOptions {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub namespace: Option<String>,
}

/// Connect to the cluster a kubeconfig names.
pub async fn connect_kubeconfig(opts: &KubeconfigOptions) -> Result<Cluster, ClusterError> {
    let kc = match &opts.kubeconfig {
        Some(path) => kube::config::Kubeconfig::read_from(path),
        None => kube::config::Kubeconfig::read(),
    }
    .map_err(|cause| ClusterError::Kubeconfig { context: opts.context.clone(), cause })?;
    let context = opts.context.clone().or_else(|| kc.current_context.clone()).unwrap_or_default();
    let context_namespace = kc
        .contexts
        .iter()
        .find(|c| c.name == context)
        .and_then(|c| c.context.as_ref())
        .and_then(|c| c.namespace.clone());
    let options = kube::config::KubeConfigOptions { context: opts.context.clone(), ..Default::default() };
    let config = kube::Config::from_custom_kubeconfig(kc, &options)
        .await
        .map_err(|cause| ClusterError::Kubeconfig { context: Some(context.clone()), cause })?;
    let server = config.cluster_url.to_string();
    let namespace = opts.namespace.clone().or(context_namespace).unwrap_or_else(|| DEFAULT_NAMESPACE.to_string());
    let client = kube::Client::try_from(config)
        .map_err(|e| ClusterError::Client { context: context.clone(), message: e.to_string() })?;
    Ok(Cluster { client, namespace, backend: Backend::Kubeconfig { context, server } })
}
