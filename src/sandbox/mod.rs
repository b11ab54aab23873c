//! The embedded sandbox cluster: a Kubernetes-compatible API server with its store and
//! controllers. Knows nothing of the tutor; it could be its own crate. Start one with
//! [`Sandbox::start`], then serve it on a listener the caller binds, or talk to it in-process
//! through [`Sandbox::client`].

pub mod admission;
pub mod api;
pub mod bootstrap;
pub mod catalogue;
pub mod clock;
pub mod controllers;
pub mod defaults;
pub mod dns;
pub mod error;
pub mod gc;
pub mod kubeconfig;
pub mod kubelet;
pub mod logs;
pub mod object;
pub mod openapi;
pub mod patch;
pub mod resources;
pub mod selector;
pub mod server;
pub mod sim;
pub mod store;
pub mod table;
pub mod tls;
pub mod validation;

use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::task::AbortHandle;

pub use server::{serve, serve_with, ConnLimits};

use api::{ApiState, Auth, Identity};
use clock::Clock;
use logs::Logs;
use store::Store;

/// How a sandbox behaves.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Simulated seconds per real second; `f64::INFINITY` for tests.
    pub speed: f64,
    /// Create the default StorageClass (without it, PVCs stay Pending as on a bare cluster).
    pub default_storage_class: bool,
    /// Changes kept for watches to resume from.
    pub history: usize,
    /// The bearer token; random when `None`.
    pub token: Option<String>,
    /// Addresses besides loopback the server certificate must name (a non-loopback listen address).
    pub tls_ips: Vec<IpAddr>,
    /// Workshop attendees: each gets a namespace `attendee-NN` and a token allowed only there.
    pub attendees: usize,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            speed: 1.0,
            default_storage_class: true,
            history: store::DEFAULT_HISTORY,
            token: None,
            tls_ips: Vec::new(),
            attendees: 0,
        }
    }
}

/// How much less CPU priority simulated processes get than the API (a nice increment).
const NODE_NICE: i32 = 10;

/// A workshop attendee's namespace and token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attendee {
    pub namespace: String,
    pub token: String,
}

/// The namespace of attendee `n` (1-based) of `count`: `attendee-07`, zero-padded to the width of `count`.
pub fn attendee_namespace(n: usize, count: usize) -> String {
    let width = count.to_string().len().max(2);
    format!("attendee-{n:0width$}")
}

/// A running sandbox: store, API state and controller tasks, stopped when dropped.
pub struct Sandbox {
    state: ApiState,
    token: String,
    attendees: Vec<Attendee>,
    tls: tls::TlsIdentity,
    tasks: Vec<AbortHandle>,
    /// The runtime simulated processes run on; its threads stop with the sandbox.
    node: Option<tokio::runtime::Runtime>,
}

/// A random 32-byte bearer token, hex-encoded.
pub fn random_token() -> String {
    let b: [u8; 32] = rand::random();
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl Sandbox {
    /// Build the cluster and start its controllers. Must run inside a tokio runtime. Fails only
    /// if no TLS certificate can be made.
    pub fn start(config: SandboxConfig) -> Result<Sandbox, tls::TlsError> {
        let tls = tls::TlsIdentity::generate(&config.tls_ips)?;
        let clock = Clock::new(config.speed);
        let store = Store::with_history(clock, config.history);
        bootstrap::populate(&store, config.default_storage_class);
        let token = config.token.clone().unwrap_or_else(random_token);
        let mut auth = Auth::new();
        auth.add(token.clone(), Identity::Admin);
        let attendees: Vec<Attendee> = (1..=config.attendees)
            .map(|n| Attendee { namespace: attendee_namespace(n, config.attendees), token: random_token() })
            .collect();
        for a in &attendees {
            bootstrap::namespace(&store, &a.namespace);
            auth.add(a.token.clone(), Identity::Attendee { namespace: a.namespace.clone() });
        }
        let logs = Logs::default();
        let recorder = controllers::events::Recorder::new(store.clone());
        // The node's own thread for simulated processes: a container busy in a loop gets at
        // most a core, and at a lower priority (nice 10) than the threads that answer the API,
        // which Linux keeps per thread. The caller's runtime if it cannot be had.
        let node = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("kubetutor-node")
            .on_thread_start(|| {
                #[cfg(unix)]
                if let Err(e) = rustix::process::nice(NODE_NICE) {
                    tracing::debug!("the node's thread keeps its priority: {e}");
                }
            })
            .enable_all()
            .build()
            .map_err(|e| tracing::warn!("containers share the API's threads: {e}"))
            .ok();
        let procs = node.as_ref().map_or_else(tokio::runtime::Handle::current, |rt| rt.handle().clone());
        let kubelet = kubelet::Kubelet::new(store.clone(), logs.clone(), recorder.clone(), procs);
        let state = ApiState {
            store: store.clone(),
            logs,
            auth: Arc::new(auth),
            kubelet: kubelet.clone(),
            decoders: Arc::new(tokio::sync::Semaphore::new(api::DECODERS)),
        };
        let tasks = vec![
            tokio::spawn(gc::run(store.clone())).abort_handle(),
            tokio::spawn(controllers::statefulset::run(store.clone(), recorder.clone())).abort_handle(),
            tokio::spawn(controllers::storage::run(store.clone(), recorder.clone())).abort_handle(),
            tokio::spawn(controllers::endpoints::run(store.clone())).abort_handle(),
            tokio::spawn(controllers::serviceaccounts::run(store.clone(), tls.ca_pem().to_string())).abort_handle(),
            tokio::spawn(controllers::scheduler::run(store.clone(), recorder)).abort_handle(),
            tokio::spawn(kubelet::run(kubelet)).abort_handle(),
        ];
        Ok(Sandbox { state, token, attendees, tls, tasks, node })
    }

    pub fn token(&self) -> &str {
        &self.token
    }

    /// The workshop attendees, in order.
    pub fn attendees(&self) -> &[Attendee] {
        &self.attendees
    }

    /// A kubeconfig for one attendee: its token, its namespace.
    pub fn attendee_kubeconfig(&self, server: &str, attendee: &Attendee) -> String {
        kubeconfig::render(server, &attendee.token, &attendee.namespace, Some(self.tls.ca_pem()))
    }

    /// The TLS identity the API is served with (its CA goes into kubeconfigs).
    pub fn tls(&self) -> &tls::TlsIdentity {
        &self.tls
    }

    /// A kubeconfig for this sandbox served at `server` (`https://127.0.0.1:PORT`).
    pub fn kubeconfig(&self, server: &str, namespace: &str) -> String {
        kubeconfig::render(server, &self.token, namespace, Some(self.tls.ca_pem()))
    }

    /// Serve the API over HTTPS on `listener` until `shutdown` resolves.
    pub async fn serve(
        &self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        serve(listener, self.router(), self.tls.acceptor(), shutdown).await
    }

    pub fn store(&self) -> &Store {
        &self.state.store
    }

    pub fn logs(&self) -> &Logs {
        &self.state.logs
    }

    /// The HTTP API as an axum router (authentication included).
    pub fn router(&self) -> axum::Router {
        api::router(self.state.clone())
    }

    /// A kube client that talks to this sandbox in-process, through the router as a tower
    /// service: no socket, same requests and answers as over HTTP.
    pub fn client(&self) -> kube::Client {
        let auth =
            http::HeaderValue::from_str(&format!("Bearer {}", self.token)).expect("hex token is a valid header value");
        let svc = tower::ServiceBuilder::new()
            .map_request(move |mut req: http::Request<kube::client::Body>| {
                req.headers_mut().insert(http::header::AUTHORIZATION, auth.clone());
                req
            })
            .service(self.router());
        kube::Client::new(svc, "default")
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
        if let Some(node) = self.node.take() {
            // Without waiting: the sandbox may be dropped inside an async context.
            node.shutdown_background();
        }
    }
}
