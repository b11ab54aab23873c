//! The simulated kubelet of the one node: `Node`, a reconciler run by the controllers' driver
//! like any controller, keeps a worker task per pod bound to it (image pulls, init containers
//! one by one, then containers, restarts with back-off, graceful termination; see `worker`),
//! tells it of every change of its pod and owns it, so the workers stop with the node's task;
//! `Kubelet`, the handle the workers and the API share, holds the pod network (IPs from
//! 10.244.0.0/16), volumes that outlive pods, the nginx servers the pod network routes to and
//! the running containers. Containers run the simulated userland in `sim`, never the host,
//! on the node's own runtime; status writes and the final delete go through `admission`.

pub(crate) mod console;
mod host;
mod status;
mod worker;

pub(crate) use console::{Console, Input};
pub(crate) use host::ContainerHost;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;
use tokio::task::JoinSet;

use super::clock::Clock;
use super::logs::Logs;
use super::resources::kinds;
use super::sim::fs::Pool;
use super::sim::{ContainerFs, Volume};
use crate::consts::NODE_NAME;
use crate::controllers::driver::{Action, Reconciler, Trigger};
use crate::error::ApiError;
use crate::events::Recorder;

/// The node's disk for one namespace: every file its containers write, in their writable
/// layers and in its volumes, comes out of this. The files are held in memory, so this bounds
/// what one workshop attendee can make the sandbox hold.
pub const NAMESPACE_DISK: u64 = 128 * 1024 * 1024;

/// A container's writable layer (what it writes outside its volumes).
pub const WRITABLE_LAYER: u64 = 64 * 1024 * 1024;

/// The kubelet's files of a pod (`/etc/hosts`, `/etc/hostname`, `/etc/resolv.conf`).
pub(crate) const POD_ETC: u64 = 1024 * 1024;
use super::store::Store;

/// A running nginx, reachable on its pod IP.
#[derive(Clone)]
pub(crate) struct Server {
    pub fs: ContainerFs,
    pub version: String,
    pub port: u16,
    pub namespace: String,
    pub pod: String,
    pub container: String,
}

/// A running container: what exec runs in, and the console of an interactive one.
#[derive(Clone)]
pub(crate) struct RunningContainer {
    pub host: Arc<ContainerHost>,
    pub console: Option<Console>,
}

type ContainerKey = (String, String, String);

pub(crate) struct Inner {
    pub store: Store,
    pub logs: Logs,
    pub recorder: Recorder,
    pub clock: Clock,
    /// Volume contents by PersistentVolume name: they live as long as the volume.
    volumes: Mutex<HashMap<String, Volume>>,
    /// Each namespace's share of the node's disk, which all its volumes and containers draw from.
    disks: Mutex<HashMap<String, Arc<Pool>>>,
    /// nginx servers by pod IP.
    servers: Mutex<HashMap<String, Vec<Server>>>,
    ips: Mutex<IpPool>,
    /// Images already on the node (pulled once, then "already present").
    pulled: Mutex<HashSet<String>>,
    /// Running containers by (namespace, pod, container).
    running: Mutex<HashMap<ContainerKey, RunningContainer>>,
    /// Where simulated processes run: the node's own threads, so that a container busy in a
    /// loop or copying a large file never holds the threads that answer the API.
    procs: tokio::runtime::Handle,
}

struct IpPool {
    next: u32,
    used: HashSet<u32>,
}

/// Cheap handle to the node's kubelet.
#[derive(Clone)]
pub(crate) struct Kubelet {
    pub(crate) inner: Arc<Inner>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Kubelet {
    /// A kubelet whose containers run on the runtime of `procs`.
    pub(crate) fn new(store: Store, logs: Logs, recorder: Recorder, procs: tokio::runtime::Handle) -> Self {
        let clock = store.clock();
        Kubelet {
            inner: Arc::new(Inner {
                store,
                logs,
                recorder,
                clock,
                volumes: Mutex::default(),
                disks: Mutex::default(),
                servers: Mutex::default(),
                ips: Mutex::new(IpPool { next: 2, used: HashSet::new() }),
                pulled: Mutex::default(),
                running: Mutex::default(),
                procs,
            }),
        }
    }

    /// The next free pod IP, handed out in order so a re-created pod gets a new address.
    pub(crate) fn allocate_ip(&self) -> String {
        let mut pool = lock(&self.inner.ips);
        loop {
            let n = pool.next;
            pool.next = if n >= 65_534 { 2 } else { n + 1 };
            if n & 0xff != 0 && n & 0xff != 0xff && pool.used.insert(n) {
                return format!("10.244.{}.{}", n >> 8, n & 0xff);
            }
        }
    }

    pub(crate) fn release_ip(&self, ip: &str) {
        let parts: Vec<u32> = ip.split('.').filter_map(|p| p.parse().ok()).collect();
        if let [10, 244, a, b] = parts[..] {
            lock(&self.inner.ips).used.remove(&((a << 8) | b));
        }
    }

    pub(crate) fn ip_in_use(&self, ip: &str) -> bool {
        let parts: Vec<u32> = ip.split('.').filter_map(|p| p.parse().ok()).collect();
        matches!(parts[..], [10, 244, a, b] if lock(&self.inner.ips).used.contains(&((a << 8) | b)))
    }

    /// Start a simulated process (a container's command, an exec) on the node's threads.
    pub(crate) fn spawn_process<F>(&self, process: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.inner.procs.spawn(process)
    }

    /// The data of a PersistentVolume, made empty the first time it is mounted (by a pod in
    /// `ns`, whose disk it draws from), holding at most `capacity` bytes.
    pub(crate) fn volume(&self, pv: &str, ns: &str, capacity: u64) -> Volume {
        let now = self.inner.clock.now();
        let disk = self.disk(ns);
        lock(&self.inner.volumes)
            .entry(pv.to_string())
            .or_insert_with(|| Volume::limited(now, capacity, Some(disk)))
            .clone()
    }

    /// A namespace's share of the node's disk ([`NAMESPACE_DISK`] bytes).
    pub(crate) fn disk(&self, ns: &str) -> Arc<Pool> {
        lock(&self.inner.disks).entry(ns.to_string()).or_insert_with(|| Pool::new(NAMESPACE_DISK)).clone()
    }

    pub(crate) fn add_server(&self, ip: &str, s: Server) {
        // Most pods run one server: no room is kept for more.
        lock(&self.inner.servers).entry(ip.to_string()).or_insert_with(|| Vec::with_capacity(1)).push(s);
    }

    pub(crate) fn remove_servers(&self, ip: &str, container: Option<&str>) {
        let mut g = lock(&self.inner.servers);
        if let Some(list) = g.get_mut(ip) {
            list.retain(|s| container.is_some_and(|c| s.container != c));
            if list.is_empty() {
                g.remove(ip);
            }
        }
    }

    /// `req` answered by the simulated nginx `server`, logged in its container's log as nginx
    /// logs it (access line, and the error line of a failure).
    pub(crate) fn serve_http(&self, server: &Server, req: &crate::sim::nginx::Request) -> crate::sim::HttpResponse {
        use crate::sim::nginx;
        let now = self.inner.clock.now();
        let served = nginx::serve(&server.fs, &server.version, req, now);
        let line = |mut l: String| {
            if !l.ends_with('\n') {
                l.push('\n');
            }
            self.inner.logs.append(&server.namespace, &server.pod, &server.container, self.inner.clock.now_micro(), &l);
        };
        if let Some(err) = &served.error {
            line(nginx::error_log_line(req, err, now, 29, 1));
        }
        line(nginx::access_log_line(req, &served.response, now));
        served.response
    }

    pub(crate) fn server_at(&self, ip: &str, port: u16) -> Option<Server> {
        lock(&self.inner.servers).get(ip)?.iter().find(|s| s.port == port).cloned()
    }

    /// Whether an image is already on the node; records it as present.
    pub(crate) fn mark_pulled(&self, image: &str) -> bool {
        !lock(&self.inner.pulled).insert(image.to_string())
    }

    pub(crate) fn is_present(&self, image: &str) -> bool {
        lock(&self.inner.pulled).contains(image)
    }

    pub(crate) fn register(&self, ns: &str, pod: &str, container: &str, c: RunningContainer) {
        lock(&self.inner.running).insert((ns.to_string(), pod.to_string(), container.to_string()), c);
    }

    /// Forget one container of a pod, or all of them.
    pub(crate) fn unregister(&self, ns: &str, pod: &str, container: Option<&str>) {
        lock(&self.inner.running).retain(|(n, p, c), _| !(n == ns && p == pod && container.is_none_or(|x| x == c)));
    }

    /// A running container of a pod, for attach and exec.
    pub(crate) fn running(&self, ns: &str, pod: &str, container: &str) -> Option<RunningContainer> {
        lock(&self.inner.running).get(&(ns.to_string(), pod.to_string(), container.to_string())).cloned()
    }
}

/// What wakes a pod's worker: changes of its pod, the pod's end, and exits of its processes.
/// (Two unbounded channels per pod cost about 1.6 KB together; this is about 150 bytes.)
#[derive(Default)]
pub(crate) struct Inbox {
    changed: Notify,
    exited: Notify,
    /// The pod is gone: every wait for a change ends at once.
    closed: AtomicBool,
    /// The worker has ended: the next change of the pod starts a new one.
    gone: AtomicBool,
    exits: Mutex<VecDeque<(usize, i32)>>,
}

impl Inbox {
    /// Tell the worker its pod changed; false when no worker is there to hear it.
    fn poke(&self) -> bool {
        if self.gone.load(Ordering::Acquire) {
            return false;
        }
        self.changed.notify_one();
        true
    }

    fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.changed.notify_one();
    }

    fn worker_gone(&self) {
        self.gone.store(true, Ordering::Release);
    }

    /// Wait for a change of the pod (changes while nobody waits are remembered, several as
    /// one); `None` once the pod is gone.
    async fn changed(&self) -> Option<()> {
        if !self.closed.load(Ordering::Acquire) {
            self.changed.notified().await;
        }
        (!self.closed.load(Ordering::Acquire)).then_some(())
    }

    /// A process of container `i` exited with `code`.
    fn exited(&self, i: usize, code: i32) {
        lock(&self.exits).push_back((i, code));
        self.exited.notify_one();
    }

    /// The next exit, in order.
    async fn next_exit(&self) -> (usize, i32) {
        loop {
            if let Some(e) = lock(&self.exits).pop_front() {
                return e;
            }
            self.exited.notified().await;
        }
    }
}

/// What the node reconciles: a pod (by uid, so a pod made again under the same name is another
/// key), or the data of a PersistentVolume.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum NodeKey {
    Pod { ns: String, name: String, uid: String },
    Volume(String),
}

/// A pod's worker as the node keeps it.
struct WorkerRef {
    inbox: Arc<Inbox>,
    /// The pod's resourceVersion the worker was last told about.
    told: u64,
}

/// The node, run by the controllers' driver: a worker per pod bound to it, told of every
/// change of its pod, and told to stop when the pod is gone; the data of deleted volumes is
/// dropped. The workers are tasks of its own `JoinSet`, so they stop when it is dropped.
pub(crate) struct Node {
    kubelet: Kubelet,
    workers: HashMap<NodeKey, WorkerRef>,
    tasks: JoinSet<()>,
}

impl Node {
    pub(crate) fn new(kubelet: Kubelet) -> Self {
        Node { kubelet, workers: HashMap::new(), tasks: JoinSet::new() }
    }

    fn pod(&mut self, key: &NodeKey, ns: &str, name: &str, uid: &str) {
        let store = &self.kubelet.inner.store;
        let pod = store.get(kinds::pods(), ns, name).filter(|p| p.uid() == uid);
        let Some(pod) = pod.filter(|p| p.meta().pod.as_deref().is_some_and(|m| &*m.node_name == NODE_NAME)) else {
            // Gone (or never ours): its worker finishes the pod's end and stops.
            if let Some(w) = self.workers.remove(key) {
                w.inbox.close();
            }
            return;
        };
        let rv: u64 = pod.meta().resource_version().parse().unwrap_or(0);
        match self.workers.get_mut(key) {
            Some(w) if w.told == rv => {}
            // A worker that has ended is replaced by the next change of its pod.
            Some(w) if w.inbox.poke() => w.told = rv,
            _ => {
                let inbox = Arc::new(Inbox::default());
                self.workers.insert(key.clone(), WorkerRef { inbox: inbox.clone(), told: rv });
                let k = self.kubelet.clone();
                self.tasks.spawn(worker::run(k, ns.to_string(), name.to_string(), uid.to_string(), inbox));
            }
        }
    }
}

impl Reconciler for Node {
    type Key = NodeKey;
    const NAME: &'static str = "kubelet";

    fn store(&self) -> &Store {
        &self.kubelet.inner.store
    }

    fn triggers(&self) -> Vec<Trigger<Self>> {
        vec![
            Trigger::new(kinds::pods(), |_, p, out| {
                out.push(NodeKey::Pod {
                    ns: p.namespace().to_string(),
                    name: p.name().to_string(),
                    uid: p.uid().to_string(),
                });
            }),
            Trigger::new(kinds::pvs(), |_, pv, out| out.push(NodeKey::Volume(pv.name().to_string()))),
        ]
    }

    /// The pods it runs workers for and the volumes it holds data of: those gone meanwhile
    /// are let go.
    fn known_keys(&self) -> Vec<NodeKey> {
        let volumes: Vec<NodeKey> = lock(&self.kubelet.inner.volumes).keys().cloned().map(NodeKey::Volume).collect();
        self.workers.keys().cloned().chain(volumes).collect()
    }

    fn reconcile(&mut self, key: &NodeKey) -> Result<Action, ApiError> {
        // Workers that have ended are reaped as the node goes.
        while self.tasks.try_join_next().is_some() {}
        match key {
            NodeKey::Pod { ns, name, uid } => self.pod(key, ns, name, uid),
            NodeKey::Volume(pv) => {
                if self.kubelet.inner.store.get(kinds::pvs(), "", pv).is_none() {
                    lock(&self.kubelet.inner.volumes).remove(pv);
                }
            }
        }
        Ok(Action::AwaitChange)
    }
}
