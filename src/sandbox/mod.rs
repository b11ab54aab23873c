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
pub mod openapi;
pub mod patch;
pub mod resources;
pub mod selector;
pub mod sim;
pub mod store;
pub mod table;
pub mod validation;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::AbortHandle;

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
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            speed: 1.0,
            default_storage_class: true,
            history: store::DEFAULT_HISTORY,
            token: None,
        }
    }
}

/// A running sandbox: store, API state and controller tasks, stopped when dropped.
pub struct Sandbox {
    state: ApiState,
    token: String,
    tasks: Vec<AbortHandle>,
}

/// A random 32-byte bearer token, hex-encoded.
pub fn random_token() -> String {
    let b: [u8; 32] = rand::random();
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl Sandbox {
    /// Build the cluster and start its controllers. Must run inside a tokio runtime.
    pub fn start(config: SandboxConfig) -> Sandbox {
        let clock = Clock::new(config.speed);
        let store = Store::with_history(clock, config.history);
        bootstrap::populate(&store, config.default_storage_class);
        let token = config.token.clone().unwrap_or_else(random_token);
        let mut auth = Auth::new();
        auth.add(token.clone(), Identity::Admin);
        let logs = Logs::default();
        let state = ApiState {
            store: store.clone(),
            logs: logs.clone(),
            auth: Arc::new(auth),
        };
        let recorder = controllers::events::Recorder::new(store.clone());
        let kubelet = kubelet::Kubelet::new(store.clone(), logs, recorder.clone());
        let tasks = vec![
            tokio::spawn(gc::run(store.clone())).abort_handle(),
            tokio::spawn(controllers::statefulset::run(store.clone(), recorder.clone())).abort_handle(),
            tokio::spawn(controllers::storage::run(store.clone(), recorder.clone())).abort_handle(),
            tokio::spawn(controllers::endpoints::run(store.clone())).abort_handle(),
            tokio::spawn(controllers::scheduler::run(store.clone(), recorder)).abort_handle(),
            tokio::spawn(kubelet::run(kubelet)).abort_handle(),
        ];
        Sandbox { state, token, tasks }
    }

    pub fn token(&self) -> &str {
        &self.token
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
        let auth = http::HeaderValue::from_str(&format!("Bearer {}", self.token))
            .expect("hex token is a valid header value");
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
    }
}

/// Serve `router` on `listener` until `shutdown` resolves. Open watches are given a moment to
/// end, then dropped, so shutdown never hangs on a long watch.
pub async fn serve(listener: TcpListener, router: axum::Router, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(listener, router).with_graceful_shutdown(async move {
        shutdown.await;
        let _ = tx.send(());
    });
    tokio::select! {
        r = server => r,
        _ = async {
            if rx.await.is_ok() {
                tokio::time::sleep(Duration::from_millis(500)).await;
            } else {
                std::future::pending::<()>().await;
            }
        } => Ok(()),
    }
}
