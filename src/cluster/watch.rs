//! The watch task: kube-rs watchers (no polling) on the lesson namespace's pods, StatefulSets,
//! PVCs, Services and Events. It keeps a [`Snapshot`] and the [`History`], and sends a
//! [`ClusterEvent`] after every change. Watchers back off and relist on errors; a relist is
//! diffed against what was known, so nothing that happened while disconnected is missed.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::{stream, Stream, StreamExt};
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{Event, PersistentVolumeClaim, Pod, Service};
use kube::runtime::watcher::{self, watcher};
use kube::runtime::WatchStreamExt;
use kube::{Api, ResourceExt};
use tokio::sync::mpsc::UnboundedSender;

use super::history::{Entry, History};
use super::snapshot::Snapshot;
use super::Cluster;

/// Events of the namespace kept in the snapshot (newest).
const KEEP_EVENTS: usize = 200;
const ALL_LISTED: u8 = 0b1_1111;

#[derive(Debug, Clone)]
pub enum ClusterEvent {
    /// The lesson's objects changed: the new state and what the history gained.
    Changed {
        snapshot: Arc<Snapshot>,
        new_entries: Vec<Entry>,
    },
    Connection(Connection),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connection {
    /// Listing for the first time.
    Connecting,
    Connected,
    /// A watch failed; it retries with backoff. The text says why.
    Reconnecting {
        error: String,
    },
}

/// Stops the watch task when dropped.
pub struct WatchHandle {
    task: tokio::task::AbortHandle,
}

impl Drop for WatchHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

enum Change {
    Pod(Box<watcher::Event<Pod>>),
    Set(Box<watcher::Event<StatefulSet>>),
    Claim(Box<watcher::Event<PersistentVolumeClaim>>),
    Service(Box<watcher::Event<Service>>),
    Event(Box<watcher::Event<Event>>),
}

fn watch<K, F>(cluster: &Cluster, wrap: F) -> impl Stream<Item = Result<Change, watcher::Error>> + Send + 'static
where
    K: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned
        + Send
        + 'static,
    F: Fn(watcher::Event<K>) -> Change + Send + 'static,
{
    let api: Api<K> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
    watcher(api, watcher::Config::default()).default_backoff().map(move |r| r.map(&wrap))
}

/// Start watching the cluster's lesson namespace; events go to `tx` until the handle drops.
pub fn spawn(cluster: &Cluster, tx: UnboundedSender<ClusterEvent>) -> WatchHandle {
    let streams = stream::select_all([
        watch(cluster, |e| Change::Pod(Box::new(e))).boxed(),
        watch(cluster, |e| Change::Set(Box::new(e))).boxed(),
        watch(cluster, |e| Change::Claim(Box::new(e))).boxed(),
        watch(cluster, |e| Change::Service(Box::new(e))).boxed(),
        watch(cluster, |e| Change::Event(Box::new(e))).boxed(),
    ]);
    let task = tokio::spawn(WatchTask::default().run(streams, tx));
    WatchHandle { task: task.abort_handle() }
}

/// A relist in progress: objects gathered between `Init` and `InitDone`.
#[derive(Default)]
struct Relist {
    pods: Option<BTreeMap<String, Pod>>,
    sets: Option<BTreeMap<String, StatefulSet>>,
    claims: Option<BTreeMap<String, PersistentVolumeClaim>>,
    services: Option<BTreeMap<String, Service>>,
    events: Option<Vec<Event>>,
}

#[derive(Default)]
pub struct WatchTask {
    snapshot: Snapshot,
    history: History,
    relist: Relist,
    /// One bit per kind whose list finished; Connected once all five have.
    listed: u8,
    connection: Option<Connection>,
}

fn apply_map<K: kube::Resource + Clone>(
    map: &mut BTreeMap<String, K>,
    relist: &mut Option<BTreeMap<String, K>>,
    ev: watcher::Event<K>,
    mut seen: impl FnMut(Option<&K>, Option<&K>),
) -> bool {
    match ev {
        watcher::Event::Apply(o) => {
            let name = o.name_any();
            seen(map.get(&name), Some(&o));
            map.insert(name, o);
        }
        watcher::Event::Delete(o) => {
            let name = o.name_any();
            let old = map.remove(&name);
            seen(old.as_ref().or(Some(&o)), None);
        }
        watcher::Event::Init => {
            *relist = Some(BTreeMap::new());
            return false;
        }
        watcher::Event::InitApply(o) => {
            relist.get_or_insert_with(BTreeMap::new).insert(o.name_any(), o);
            return false;
        }
        watcher::Event::InitDone => {
            let new = relist.take().unwrap_or_default();
            for (name, old) in map.iter() {
                if !new.contains_key(name) {
                    seen(Some(old), None);
                }
            }
            for (name, o) in &new {
                seen(map.get(name), Some(o));
            }
            *map = new;
        }
    }
    true
}

fn list_done<K>(ev: &watcher::Event<K>, bit: u8) -> u8 {
    if matches!(ev, watcher::Event::InitDone) {
        bit
    } else {
        0
    }
}

impl WatchTask {
    async fn run(
        mut self,
        mut changes: impl Stream<Item = Result<Change, watcher::Error>> + Unpin,
        tx: UnboundedSender<ClusterEvent>,
    ) {
        self.set_connection(Connection::Connecting, &tx);
        while let Some(change) = changes.next().await {
            match change {
                Err(e) => self.set_connection(Connection::Reconnecting { error: e.to_string() }, &tx),
                Ok(change) => {
                    let before = self.history.entries.len();
                    let (changed, listed) = self.apply(change);
                    self.listed |= listed;
                    if self.listed == ALL_LISTED || !matches!(self.connection, Some(Connection::Connecting)) {
                        self.set_connection(Connection::Connected, &tx);
                    }
                    if changed {
                        let new_entries = self.history.entries[before..].to_vec();
                        let event = ClusterEvent::Changed { snapshot: Arc::new(self.snapshot.clone()), new_entries };
                        if tx.send(event).is_err() {
                            return;
                        }
                    }
                }
            }
        }
    }

    fn set_connection(&mut self, c: Connection, tx: &UnboundedSender<ClusterEvent>) {
        if self.connection.as_ref() != Some(&c) {
            self.connection = Some(c.clone());
            let _ = tx.send(ClusterEvent::Connection(c));
        }
    }

    /// Apply one watch event; returns whether the snapshot changed, and the kind's bit when
    /// its list finished.
    fn apply(&mut self, change: Change) -> (bool, u8) {
        let now = jiff::Timestamp::now();
        let history = &mut self.history;
        let snap = &mut self.snapshot;
        let relist = &mut self.relist;
        match change {
            Change::Pod(ev) => {
                let ev = *ev;
                let done = list_done(&ev, 1);
                let seen = |b: Option<&Pod>, a: Option<&Pod>| {
                    history.observe_pod(b, a, now);
                };
                (apply_map(&mut snap.pods, &mut relist.pods, ev, seen), done)
            }
            Change::Set(ev) => {
                let ev = *ev;
                let done = list_done(&ev, 2);
                let seen = |b: Option<&StatefulSet>, a: Option<&StatefulSet>| {
                    history.observe_set(b, a, now);
                };
                (apply_map(&mut snap.statefulsets, &mut relist.sets, ev, seen), done)
            }
            Change::Claim(ev) => {
                let ev = *ev;
                let done = list_done(&ev, 4);
                (apply_map(&mut snap.pvcs, &mut relist.claims, ev, |_, _| {}), done)
            }
            Change::Service(ev) => {
                let ev = *ev;
                let done = list_done(&ev, 8);
                (apply_map(&mut snap.services, &mut relist.services, ev, |_, _| {}), done)
            }
            Change::Event(ev) => {
                let ev = *ev;
                let done = list_done(&ev, 16);
                let changed = match ev {
                    watcher::Event::Apply(e) => {
                        snap.events.retain(|o| o.metadata.uid != e.metadata.uid);
                        snap.events.push(e);
                        true
                    }
                    watcher::Event::Delete(e) => {
                        snap.events.retain(|o| o.metadata.uid != e.metadata.uid);
                        true
                    }
                    watcher::Event::Init => {
                        relist.events = Some(Vec::new());
                        false
                    }
                    watcher::Event::InitApply(e) => {
                        relist.events.get_or_insert_with(Vec::new).push(e);
                        false
                    }
                    watcher::Event::InitDone => {
                        snap.events = relist.events.take().unwrap_or_default();
                        true
                    }
                };
                if snap.events.len() > KEEP_EVENTS {
                    let extra = snap.events.len() - KEEP_EVENTS;
                    snap.events.drain(..extra);
                }
                (changed, done)
            }
        }
    }
}
