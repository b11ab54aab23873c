//! The in-memory object store: every object as compact JSON (see `object`), one global
//! resourceVersion, uids, generations, graceful deletion and finalizers, and the change history
//! that watches and controllers read through cursors (`Subscription`). A cheap-to-clone handle;
//! the lock is never held across an `.await`.
//!
//! Split by concern: this file holds the state, reads and the commit every write ends in;
//! `write` the writes (create, update, modify, delete); `subscription` the change cursors.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;
use tokio::sync::Notify;

use super::clock::Clock;
use super::resources::{ResourceType, RESOURCES};

pub(crate) use super::object::{Meta, Obj, PodMeta, Prepared};
pub(crate) use subscription::Subscription;
pub(crate) use write::finalizers;

pub(crate) use quota::Quota;
pub use quota::{ATTENDEE_OBJECTS, ATTENDEE_OBJECT_BYTES};

mod quota;
mod subscription;
#[cfg(test)]
mod tests;
mod write;

/// What happened to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChangeKind {
    Added,
    Modified,
    Deleted,
}

impl ChangeKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "ADDED",
            ChangeKind::Modified => "MODIFIED",
            ChangeKind::Deleted => "DELETED",
        }
    }
}

/// One change, as watches see it.
#[derive(Debug, Clone)]
pub(crate) struct Change {
    pub rv: u64,
    pub kind: ChangeKind,
    /// Storage key of the resource type (see `ResourceType::storage`).
    pub storage: &'static str,
    pub object: Obj,
    /// The object before a modification (`None` for additions and deletions): lets filtered
    /// watches turn "stopped matching" into DELETED and "started matching" into ADDED.
    pub prev: Option<Obj>,
    /// The encoded watch event line, made once and shared by every watcher that sends it as is.
    pub encoded: Arc<std::sync::OnceLock<bytes::Bytes>>,
}

impl Change {
    #[cfg(test)]
    pub(crate) fn name(&self) -> &str {
        self.object.name()
    }
}

/// How a delete proceeds, from the request's DeleteOptions.
#[derive(Debug, Clone, Default)]
pub(crate) struct DeleteOpts {
    pub grace_period_seconds: Option<i64>,
    pub propagation: Option<Propagation>,
    pub precondition_uid: Option<String>,
    pub precondition_rv: Option<String>,
    pub dry_run: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Propagation {
    Orphan,
    Background,
    Foreground,
}

/// Which part of an object an update may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UpdateScope {
    /// The main resource: spec and metadata; status is kept from the stored object.
    Main,
    /// The status subresource: only status changes.
    Status,
    /// Controllers and the kubelet writing everything at once.
    All,
}

type Key = (String, String);

struct State {
    rv: u64,
    tables: HashMap<&'static str, BTreeMap<Key, Obj>>,
    history: VecDeque<Change>,
    history_limit: usize,
    /// Bytes of object text the history holds, bounded by `history_bytes_limit`.
    history_bytes: usize,
    history_bytes_limit: usize,
    /// Oldest resourceVersion a watch may still resume from.
    compacted_rv: u64,
    /// Limits of namespaces that have them (attendees'), and what those hold.
    quotas: HashMap<String, Quota>,
    usage: HashMap<String, quota::Usage>,
}

struct Shared {
    state: Mutex<State>,
    /// Woken on every change; subscriptions then read the history after their cursor.
    notify: Arc<Notify>,
    clock: Clock,
}

impl Drop for Shared {
    fn drop(&mut self) {
        // Subscriptions waiting for a change see the store gone and end.
        self.notify.notify_waiters();
    }
}

/// Handle to the store; clones share it.
#[derive(Clone)]
pub(crate) struct Store {
    shared: Arc<Shared>,
}

/// How many changes are kept for watches to resume from (upstream keeps about 5 minutes).
pub(crate) const DEFAULT_HISTORY: usize = 20_000;

/// At most this much object text is kept in the history, whatever the count: superseded
/// versions are the history's own cost (current ones are shared with the tables).
pub(crate) const DEFAULT_HISTORY_BYTES: usize = 16 << 20;

/// How many changes a subscription takes from the history under one lock.
const BATCH: usize = 256;

pub(crate) fn name_of(obj: &Value) -> &str {
    obj.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("")
}
pub(crate) fn namespace_of(obj: &Value) -> &str {
    obj.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or("")
}
pub(crate) fn uid_of(obj: &Value) -> &str {
    obj.pointer("/metadata/uid").and_then(Value::as_str).unwrap_or("")
}
pub(crate) fn rv_of(obj: &Value) -> &str {
    obj.pointer("/metadata/resourceVersion").and_then(Value::as_str).unwrap_or("")
}

/// A random RFC 4122 version 4 uid.
pub(crate) fn new_uid() -> String {
    let b: [u8; 16] = rand::random();
    let hex: String = b
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let x = match i {
                6 => (x & 0x0f) | 0x40,
                8 => (x & 0x3f) | 0x80,
                _ => *x,
            };
            format!("{x:02x}")
        })
        .collect();
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

/// Five lowercase alphanumerics for generateName, from upstream's safe alphabet.
pub(crate) fn random_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    (0..5).map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char).collect()
}

/// A handle that does not keep the store alive: tells whether anything still does.
#[cfg(test)]
pub(crate) struct WeakStore(std::sync::Weak<Shared>);

#[cfg(test)]
impl WeakStore {
    pub(crate) fn is_gone(&self) -> bool {
        self.0.strong_count() == 0
    }
}

impl Store {
    #[cfg(test)]
    pub(crate) fn downgrade(&self) -> WeakStore {
        WeakStore(Arc::downgrade(&self.shared))
    }

    #[cfg(test)]
    pub(crate) fn new(clock: Clock) -> Self {
        Store::with_history(clock, DEFAULT_HISTORY)
    }

    pub(crate) fn with_history(clock: Clock, history_limit: usize) -> Self {
        let mut tables = HashMap::new();
        for r in RESOURCES {
            tables.entry(r.storage).or_insert_with(BTreeMap::new);
        }
        Store {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    rv: 1,
                    tables,
                    history: VecDeque::new(),
                    history_limit: history_limit.max(1),
                    history_bytes: 0,
                    history_bytes_limit: DEFAULT_HISTORY_BYTES,
                    compacted_rv: 1,
                    quotas: HashMap::new(),
                    usage: HashMap::new(),
                }),
                notify: Arc::new(Notify::new()),
                clock,
            }),
        }
    }

    pub(crate) fn clock(&self) -> Clock {
        self.shared.clock
    }

    /// Limit what namespace `ns` may hold from now on (what it holds already counts).
    pub(crate) fn set_quota(&self, ns: &str, quota: Quota) {
        let mut st = self.lock();
        let mut used = quota::Usage::default();
        for table in st.tables.values() {
            for o in table.range((ns.to_string(), String::new())..).take_while(|((n, _), _)| n == ns).map(|(_, o)| o) {
                used.objects += 1;
                used.bytes += o.json().len();
            }
        }
        st.quotas.insert(ns.to_string(), quota);
        st.usage.insert(ns.to_string(), used);
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave a half-written object (each change is one
        // insert), so a poisoned lock is still consistent.
        self.shared.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn current_rv(&self) -> u64 {
        self.lock().rv
    }

    pub(crate) fn get(&self, rt: &ResourceType, ns: &str, name: &str) -> Option<Obj> {
        let st = self.lock();
        st.tables.get(rt.storage).and_then(|t| t.get(&(ns.to_string(), name.to_string()))).cloned()
    }

    /// Objects of a type, in one namespace or all (`None`), sorted by namespace and name,
    /// with the resourceVersion the list is consistent at.
    pub(crate) fn list(&self, rt: &ResourceType, ns: Option<&str>) -> (Vec<Obj>, u64) {
        let st = self.lock();
        let table = &st.tables[rt.storage];
        let items = match ns {
            Some(ns) => table
                .range((ns.to_string(), String::new())..)
                .take_while(|((n, _), _)| n == ns)
                .map(|(_, v)| v.clone())
                .collect(),
            None => table.values().cloned().collect(),
        };
        (items, st.rv)
    }

    fn commit(&self, st: &mut State, kind: ChangeKind, rt: &ResourceType, obj: Value) -> Obj {
        self.commit_prepared(st, kind, rt, Obj::prepare(obj))
    }

    /// Store a prepared object with the next resourceVersion. Only this part of a write runs
    /// under the lock where it can: preparing (serializing) is most of a write's cost.
    fn commit_prepared(&self, st: &mut State, kind: ChangeKind, rt: &ResourceType, obj: Prepared) -> Obj {
        st.rv += 1;
        let rv = st.rv;
        let key = (obj.meta().namespace().to_string(), obj.meta().name().to_string());
        let obj = obj.finish(rv);
        let table = st.tables.get_mut(rt.storage).expect("table per storage");
        let len = |o: &Obj| o.json().len() as isize;
        let (prev, objects, bytes) = match kind {
            ChangeKind::Deleted => {
                let old = table.remove(&key);
                let bytes = old.as_ref().map_or(0, len);
                (old, -1, -bytes)
            }
            ChangeKind::Added => {
                table.insert(key.clone(), obj.unparsed());
                (None, 1, len(&obj))
            }
            ChangeKind::Modified => {
                let old = table.insert(key.clone(), obj.unparsed());
                let bytes = len(&obj) - old.as_ref().map_or(0, len);
                (old, 0, bytes)
            }
        };
        st.count_usage(&key.0, objects, bytes);
        // A deletion's previous version is not kept: DELETED carries the final object.
        let prev = prev.filter(|_| kind == ChangeKind::Modified);
        st.history_bytes += obj.json().len();
        let change =
            Change { rv, kind, storage: rt.storage, object: obj.unparsed(), prev, encoded: Default::default() };
        st.history.push_back(change);
        while st.history.len() > st.history_limit || (st.history_bytes > st.history_bytes_limit && st.history.len() > 1)
        {
            if let Some(old) = st.history.pop_front() {
                st.history_bytes -= old.object.json().len();
                st.compacted_rv = old.rv;
            }
        }
        self.shared.notify.notify_waiters();
        obj
    }
}
