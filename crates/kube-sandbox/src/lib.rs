//! The embedded sandbox cluster: a Kubernetes-compatible API server with its store and
//! controllers. Knows nothing of the tutor. Start one with
//! [`Sandbox::start`], then serve it on a listener the caller binds, or talk to it in-process
//! through [`Sandbox::client`].

mod admission;
mod api;
mod bootstrap;
mod catalogue;
mod clock;
pub mod consts;
mod controllers;
mod defaults;
mod dns;
mod error;
mod events;
mod gc;
mod kubeconfig;
mod kubelet;
mod logs;
mod object;
mod openapi;
mod patch;
mod resources;
mod selector;
mod server;
mod sim;
mod store;
mod table;
#[cfg(test)]
mod tests;
mod tls;
mod validation;

use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::task::JoinSet;

pub use server::{serve, serve_with, ConnLimits, Serving};
pub use tls::{TlsError, TlsIdentity};

/// What the sandbox bounds, so that one attendee cannot take a shared sandbox down.
pub mod limits {
    pub use crate::kubelet::{NAMESPACE_DISK, WRITABLE_LAYER};
    pub use crate::logs::MAX_CONTAINER_LOG;
    pub use crate::store::{ATTENDEE_OBJECTS, ATTENDEE_OBJECT_BYTES};
}

use api::{ApiState, Auth, Identity};
use clock::Clock;
use logs::Logs;
use store::{Store, ATTENDEE_OBJECTS, ATTENDEE_OBJECT_BYTES};

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
pub(crate) fn attendee_namespace(n: usize, count: usize) -> String {
    let width = count.to_string().len().max(2);
    format!("attendee-{n:0width$}")
}

/// A running sandbox: store, API state and controller tasks, stopped when dropped.
pub struct Sandbox {
    state: ApiState,
    token: String,
    attendees: Vec<Attendee>,
    tls: TlsIdentity,
    /// Every task the sandbox starts: the controllers' drivers and the node's (which owns the
    /// pod workers in turn). Dropping the set aborts them all.
    tasks: JoinSet<()>,
    /// The runtime simulated processes run on; its threads stop with the sandbox.
    node: Option<tokio::runtime::Runtime>,
}

/// A random 32-byte bearer token, hex-encoded.
pub(crate) fn random_token() -> String {
    let b: [u8; 32] = rand::random();
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl Sandbox {
    /// Build the cluster and start its controllers. Must run inside a tokio runtime. Fails only
    /// if no TLS certificate can be made.
    pub fn start(config: SandboxConfig) -> Result<Sandbox, TlsError> {
        let tls = TlsIdentity::generate(&config.tls_ips)?;
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
            store.set_quota(&a.namespace, store::Quota { objects: ATTENDEE_OBJECTS, bytes: ATTENDEE_OBJECT_BYTES });
            auth.add(a.token.clone(), Identity::Attendee { namespace: a.namespace.clone() });
        }
        let logs = Logs::default();
        let recorder = events::Recorder::new(store.clone());
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
        use controllers::driver::Driver;
        use controllers::{endpoints, scheduler, serviceaccounts, statefulset, storage};
        let mut tasks = JoinSet::new();
        tasks.spawn(Driver::new(gc::Collector::new(store.clone())).run());
        tasks.spawn(Driver::new(statefulset::StatefulSets::new(store.clone(), recorder.clone())).run());
        tasks.spawn(Driver::new(storage::Storage::new(store.clone(), recorder.clone())).run());
        tasks.spawn(Driver::new(endpoints::Endpoints::new(store.clone())).run());
        tasks.spawn(Driver::new(serviceaccounts::ServiceAccounts::new(store.clone(), tls.ca_pem().to_string())).run());
        tasks.spawn(Driver::new(scheduler::Scheduler::new(store.clone(), recorder)).run());
        tasks.spawn(Driver::new(kubelet::Node::new(kubelet)).run());
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
    pub fn tls(&self) -> &TlsIdentity {
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

    /// Serve the API over HTTPS on `listener` in a task of its own, until the guard is dropped.
    pub fn serve_on(&self, listener: TcpListener) -> std::io::Result<Serving> {
        Serving::spawn(listener, self.router(), self.tls.acceptor(), ConnLimits::default())
    }

    /// The object `namespace/name` of a resource named by its plural (`pods`, `statefulsets`),
    /// as stored, without a request: for tests and benches that watch the cluster closely.
    pub fn object(&self, plural: &str, namespace: &str, name: &str) -> Option<serde_json::Value> {
        let rt = resources::RESOURCES.iter().find(|r| r.plural == plural)?;
        self.state.store.get(rt, namespace, name).map(|o| (*o).clone())
    }

    /// How many pods of `namespace` are Ready and not being deleted (from the stored summaries).
    pub fn ready_pods(&self, namespace: &str) -> usize {
        let (pods, _) = self.state.store.list(resources::kinds::pods(), Some(namespace));
        pods.iter().filter(|p| !p.meta().deleting && p.meta().pod.as_deref().is_some_and(|m| m.ready)).count()
    }

    /// Wake-ups on the store's changes from now on, with the plural of what changed.
    pub fn changes(&self) -> Changes {
        Changes(self.state.store.subscribe())
    }

    /// The lines a container has kept in its log (`kubectl logs`, without times).
    pub fn container_log(&self, namespace: &str, pod: &str, container: &str) -> Option<Vec<String>> {
        self.state
            .logs
            .read(namespace, pod, container, false)
            .map(|(lines, _)| lines.into_iter().map(|l| l.text).collect())
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
        self.tasks.abort_all();
        if let Some(node) = self.node.take() {
            // Without waiting: the sandbox may be dropped inside an async context.
            node.shutdown_background();
        }
    }
}

/// The store's changes as [`Sandbox::changes`] gives them.
pub struct Changes(store::Subscription);

impl Changes {
    /// The plural of the next changed object's resource (`pods`); `None` if the sandbox is gone.
    /// A reader that fell behind the store's history is told so by the next change it gets.
    pub async fn next(&mut self) -> Option<&'static str> {
        loop {
            match self.0.recv().await {
                Ok(c) => {
                    return Some(resources::RESOURCES.iter().find(|r| r.storage == c.storage).map_or("", |r| r.plural))
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(_) => return None,
            }
        }
    }
}
