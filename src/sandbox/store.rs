//! The in-memory object store: every object as compact JSON (see `object`), one global
//! resourceVersion, uids, generations, graceful deletion and finalizers, and the change history
//! that watches and controllers read through cursors (`Subscription`). A cheap-to-clone handle;
//! the lock is never held across an `.await`.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use serde_json::{json, Value};
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::Notify;

use super::clock::Clock;
use super::error::{ApiError, ApiResult};
use super::resources::{kinds, ResourceType, RESOURCES};

pub use super::object::{Meta, Obj, Owner, PodMeta, Prepared};

/// What happened to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Added,
    Modified,
    Deleted,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "ADDED",
            ChangeKind::Modified => "MODIFIED",
            ChangeKind::Deleted => "DELETED",
        }
    }
}

/// One change, as watches see it.
#[derive(Debug, Clone)]
pub struct Change {
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
    pub fn namespace(&self) -> &str {
        self.object.namespace()
    }
    pub fn name(&self) -> &str {
        self.object.name()
    }
}

/// How a delete proceeds, from the request's DeleteOptions.
#[derive(Debug, Clone, Default)]
pub struct DeleteOpts {
    pub grace_period_seconds: Option<i64>,
    pub propagation: Option<Propagation>,
    pub precondition_uid: Option<String>,
    pub precondition_rv: Option<String>,
    pub dry_run: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagation {
    Orphan,
    Background,
    Foreground,
}

/// Which part of an object an update may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateScope {
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
pub struct Store {
    shared: Arc<Shared>,
}

/// How many changes are kept for watches to resume from (upstream keeps about 5 minutes).
pub const DEFAULT_HISTORY: usize = 20_000;

/// At most this much object text is kept in the history, whatever the count: superseded
/// versions are the history's own cost (current ones are shared with the tables).
pub const DEFAULT_HISTORY_BYTES: usize = 16 << 20;

/// How many changes a subscription takes from the history under one lock.
const BATCH: usize = 256;

/// A cursor over the store's changes, for controllers and watches: every change after the
/// position it was made at, in order. Reading the history directly means a slow reader never
/// makes the store keep extra copies; one that falls out of the history gets `Lagged` once and
/// then continues from the oldest change kept, as a broadcast receiver would.
pub struct Subscription {
    shared: Weak<Shared>,
    notify: Arc<Notify>,
    /// resourceVersion of the last change taken from the history.
    last: u64,
    buf: VecDeque<Change>,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription").field("last", &self.last).field("buffered", &self.buf.len()).finish()
    }
}

impl Subscription {
    /// The next change, waiting for one; `Closed` once the store is gone.
    pub async fn recv(&mut self) -> Result<Change, RecvError> {
        loop {
            let notify = self.notify.clone();
            let notified = notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            match self.try_recv() {
                Ok(c) => return Ok(c),
                Err(TryRecvError::Lagged(n)) => return Err(RecvError::Lagged(n)),
                Err(TryRecvError::Closed) => return Err(RecvError::Closed),
                Err(TryRecvError::Empty) => notified.await,
            }
        }
    }

    /// The next change if there is one already.
    pub fn try_recv(&mut self) -> Result<Change, TryRecvError> {
        if let Some(c) = self.buf.pop_front() {
            return Ok(c);
        }
        let Some(shared) = self.shared.upgrade() else { return Err(TryRecvError::Closed) };
        let st = shared.state.lock().unwrap_or_else(|p| p.into_inner());
        if self.last >= st.rv {
            return Err(TryRecvError::Empty);
        }
        if self.last < st.compacted_rv {
            let missed = st.compacted_rv - self.last;
            self.last = st.compacted_rv;
            return Err(TryRecvError::Lagged(missed));
        }
        let start = st.history.partition_point(|c| c.rv <= self.last);
        self.buf.extend(st.history.range(start..).take(BATCH).cloned());
        drop(st);
        if let Some(c) = self.buf.back() {
            self.last = c.rv;
        }
        self.buf.pop_front().ok_or(TryRecvError::Empty)
    }
}

pub fn name_of(obj: &Value) -> &str {
    obj.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("")
}
pub fn namespace_of(obj: &Value) -> &str {
    obj.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or("")
}
pub fn uid_of(obj: &Value) -> &str {
    obj.pointer("/metadata/uid").and_then(Value::as_str).unwrap_or("")
}
pub fn rv_of(obj: &Value) -> &str {
    obj.pointer("/metadata/resourceVersion").and_then(Value::as_str).unwrap_or("")
}

/// A random RFC 4122 version 4 uid.
pub fn new_uid() -> String {
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
pub fn random_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    (0..5).map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char).collect()
}

impl Store {
    pub fn new(clock: Clock) -> Self {
        Store::with_history(clock, DEFAULT_HISTORY)
    }

    pub fn with_history(clock: Clock, history_limit: usize) -> Self {
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
                }),
                notify: Arc::new(Notify::new()),
                clock,
            }),
        }
    }

    pub fn clock(&self) -> Clock {
        self.shared.clock
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave a half-written object (each change is one
        // insert), so a poisoned lock is still consistent.
        self.shared.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn current_rv(&self) -> u64 {
        self.lock().rv
    }

    pub fn get(&self, rt: &ResourceType, ns: &str, name: &str) -> Option<Obj> {
        let st = self.lock();
        st.tables.get(rt.storage).and_then(|t| t.get(&(ns.to_string(), name.to_string()))).cloned()
    }

    /// Objects of a type, in one namespace or all (`None`), sorted by namespace and name,
    /// with the resourceVersion the list is consistent at.
    pub fn list(&self, rt: &ResourceType, ns: Option<&str>) -> (Vec<Obj>, u64) {
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

    fn subscription_at(&self, last: u64) -> Subscription {
        Subscription {
            shared: Arc::downgrade(&self.shared),
            notify: self.shared.notify.clone(),
            last,
            buf: VecDeque::new(),
        }
    }

    /// Subscribe to changes after `rv` (`None`: from now); the ones still in the history come
    /// first. Errors with the oldest resumable version when `rv` is too old.
    pub fn watch_from(&self, rv: Option<u64>) -> Result<Subscription, u64> {
        let st = self.lock();
        let last = match rv {
            None => st.rv,
            Some(rv) if rv >= st.rv => st.rv,
            Some(rv) if rv < st.compacted_rv => return Err(st.compacted_rv),
            Some(rv) => rv,
        };
        Ok(self.subscription_at(last))
    }

    /// The objects of a type as of now, and a subscription to every change after them, taken
    /// atomically so a watch neither misses nor repeats a change.
    pub fn list_and_subscribe(&self, rt: &ResourceType, ns: Option<&str>) -> (Vec<Obj>, u64, Subscription) {
        let st = self.lock();
        let table = &st.tables[rt.storage];
        let items = table.iter().filter(|((n, _), _)| ns.is_none_or(|ns| ns == n)).map(|(_, v)| v.clone()).collect();
        (items, st.rv, self.subscription_at(st.rv))
    }

    /// A subscription to every future change, for controllers.
    pub fn subscribe(&self) -> Subscription {
        let rv = self.lock().rv;
        self.subscription_at(rv)
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
        let prev = match kind {
            ChangeKind::Deleted => table.remove(&key),
            ChangeKind::Added => {
                table.insert(key, obj.unparsed());
                None
            }
            ChangeKind::Modified => table.insert(key, obj.unparsed()),
        };
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

    /// Store a new object. Sets uid, resourceVersion, creationTimestamp and generation, and
    /// resolves generateName. The caller has validated and defaulted it.
    pub fn create(&self, rt: &ResourceType, mut obj: Value, dry_run: bool) -> ApiResult<Obj> {
        let ns = namespace_of(&obj).to_string();
        let mut name = name_of(&obj).to_string();
        let prefix = obj.pointer("/metadata/generateName").and_then(Value::as_str).unwrap_or("").to_string();
        // A named object is serialized before the lock is taken; others get their name under it.
        let named = !name.is_empty();
        let mut prepared = None;
        if named {
            Self::system_metadata(rt, &mut obj, self.shared.clock.now_rfc3339());
            if !dry_run {
                prepared = Some(Obj::prepare(std::mem::take(&mut obj)));
            }
        }
        let mut st = self.lock();
        if rt.namespaced {
            let namespaces = &st.tables[kinds::namespaces().storage];
            match namespaces.get(&(String::new(), ns.clone())) {
                None => return Err(ApiError::not_found("", "namespaces", &ns)),
                Some(n) if n.meta().deleting => {
                    return Err(ApiError::forbidden(format!(
                        "{} \"{name}\" is forbidden: unable to create new content in namespace {ns} because it is being terminated",
                        rt.plural,
                    )))
                }
                Some(_) => {}
            }
        }
        if !named {
            if prefix.is_empty() {
                return Err(ApiError::invalid(
                    rt.group,
                    rt.kind,
                    "",
                    vec![super::error::Cause::new(
                        "FieldValueRequired",
                        "metadata.name",
                        "Required value: name or generateName is required",
                    )],
                ));
            }
            let table = &st.tables[rt.storage];
            loop {
                let candidate = format!("{prefix}{}", random_suffix());
                if !table.contains_key(&(ns.clone(), candidate.clone())) {
                    name = candidate;
                    break;
                }
            }
            obj["metadata"]["name"] = json!(name);
            Self::system_metadata(rt, &mut obj, self.shared.clock.now_rfc3339());
        }
        if st.tables[rt.storage].contains_key(&(ns.clone(), name.clone())) {
            return Err(ApiError::already_exists(rt.group, rt.plural, &name));
        }
        if dry_run {
            obj["metadata"]["resourceVersion"] = json!("");
            return Ok(Obj::new(obj));
        }
        let prepared = prepared.unwrap_or_else(|| Obj::prepare(obj));
        Ok(self.commit_prepared(&mut st, ChangeKind::Added, rt, prepared))
    }

    /// What the server sets on a new object: uid, creationTimestamp, generation, kind.
    fn system_metadata(rt: &ResourceType, obj: &mut Value, now: String) {
        if !obj["metadata"].is_object() {
            obj["metadata"] = json!({});
        }
        let meta = obj["metadata"].as_object_mut().expect("metadata object");
        meta.insert("uid".into(), json!(new_uid()));
        meta.insert("creationTimestamp".into(), json!(now));
        meta.remove("deletionTimestamp");
        meta.remove("deletionGracePeriodSeconds");
        if rt.has_generation {
            meta.insert("generation".into(), json!(1));
        } else {
            meta.remove("generation");
        }
        obj["apiVersion"] = json!(rt.api_version());
        obj["kind"] = json!(rt.kind);
    }

    /// Replace an object. A `resourceVersion` in the new object must match the stored one
    /// (409 Conflict otherwise); an empty one updates unconditionally. System metadata is kept;
    /// `generation` is bumped when anything outside metadata and status changes. An update that
    /// changes nothing keeps the resourceVersion and sends no event.
    pub fn update(&self, rt: &ResourceType, new: Value, scope: UpdateScope, dry_run: bool) -> ApiResult<Obj> {
        let key = (namespace_of(&new).to_string(), name_of(&new).to_string());
        // Merged, compared and serialized outside the lock, then stored if the object is still
        // the version it was merged with (else merged again with the newer one).
        loop {
            let old = self.lock().tables[rt.storage]
                .get(&key)
                .cloned()
                .ok_or_else(|| ApiError::not_found(rt.group, rt.plural, &key.1))?;
            let wanted_rv = rv_of(&new);
            if !wanted_rv.is_empty() && wanted_rv != old.meta().resource_version() {
                return Err(ApiError::conflict(
                    rt.group,
                    rt.plural,
                    &key.1,
                    "the object has been modified; please apply your changes to the latest version and try again",
                ));
            }
            let merged = merge_update(rt, &old, new.clone(), scope);
            if merged == *old {
                return Ok(old);
            }
            if dry_run {
                return Ok(Obj::new(merged));
            }
            // Removing the last finalizer of an object being deleted finishes the deletion.
            let grace = merged.pointer("/metadata/deletionGracePeriodSeconds").and_then(Value::as_i64).unwrap_or(0);
            let finished = merged.pointer("/metadata/deletionTimestamp").is_some()
                && finalizers(&merged).is_empty()
                && (rt.kind != "Pod" || grace == 0);
            let kind = if finished { ChangeKind::Deleted } else { ChangeKind::Modified };
            let prepared = Obj::prepare(merged);
            let mut st = self.lock();
            if st.tables[rt.storage].get(&key).is_some_and(|cur| cur.same(&old)) {
                return Ok(self.commit_prepared(&mut st, kind, rt, prepared));
            }
        }
    }

    /// Replace the status of the object `ns/name` while it still has `uid` (`None`: any), as
    /// an update of the status subresource does. `Ok(None)` when the status is unchanged.
    pub fn update_status(
        &self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        uid: Option<&str>,
        status: Value,
    ) -> ApiResult<Option<Obj>> {
        self.modify(rt, ns, name, uid, |o| o["status"] = status.clone())
    }

    /// Change the stored object `ns/name` (while it still has `uid`, if given) with `f`, which
    /// must not rename it. The kubelet and controllers write this way: the object is parsed
    /// once and serialized outside the lock, and stored if nobody changed it meanwhile (else
    /// `f` runs again on the newer version). `Ok(None)` when `f` changed nothing.
    pub fn modify(
        &self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        uid: Option<&str>,
        f: impl Fn(&mut Value),
    ) -> ApiResult<Option<Obj>> {
        let key = (ns.to_string(), name.to_string());
        loop {
            let old = self.lock().tables[rt.storage]
                .get(&key)
                .filter(|o| uid.is_none_or(|u| o.uid() == u))
                .cloned()
                .ok_or_else(|| ApiError::not_found(rt.group, rt.plural, name))?;
            // Written by serde_json from a Value, so it parses back.
            let mut obj: Value = serde_json::from_str(old.json()).unwrap_or(Value::Null);
            if !obj.is_object() {
                return Ok(None);
            }
            f(&mut obj);
            let prepared = Obj::prepare(obj);
            if prepared.same_text(&old) {
                return Ok(None);
            }
            let mut st = self.lock();
            if st.tables[rt.storage].get(&key).is_some_and(|cur| cur.same(&old)) {
                return Ok(Some(self.commit_prepared(&mut st, ChangeKind::Modified, rt, prepared)));
            }
        }
    }

    /// Delete an object, gracefully where upstream does: pods bound to a node get a
    /// deletionTimestamp and go when the kubelet confirms; objects with finalizers wait for them.
    /// Returns the object as it is after the call, and whether it is gone.
    pub fn delete(&self, rt: &ResourceType, ns: &str, name: &str, opts: &DeleteOpts) -> ApiResult<(Obj, bool)> {
        let mut st = self.lock();
        let old = st.tables[rt.storage]
            .get(&(ns.to_string(), name.to_string()))
            .cloned()
            .ok_or_else(|| ApiError::not_found(rt.group, rt.plural, name))?;
        if let Some(uid) = &opts.precondition_uid {
            if uid != uid_of(&old) {
                return Err(ApiError::conflict(
                    rt.group,
                    rt.plural,
                    name,
                    &format!("Precondition failed: UID in precondition: {uid}, UID in object meta: {}", uid_of(&old)),
                ));
            }
        }
        if let Some(rv) = &opts.precondition_rv {
            if rv != rv_of(&old) {
                return Err(ApiError::conflict(
                    rt.group,
                    rt.plural,
                    name,
                    &format!(
                        "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {}",
                        rv_of(&old)
                    ),
                ));
            }
        }
        let mut obj = (*old).clone();
        let now = self.shared.clock.now();
        let grace = if rt.kind == "Pod" {
            let bound = old.pointer("/spec/nodeName").and_then(Value::as_str).is_some();
            let phase = old.pointer("/status/phase").and_then(Value::as_str).unwrap_or("");
            let done = phase == "Succeeded" || phase == "Failed";
            let default = old.pointer("/spec/terminationGracePeriodSeconds").and_then(Value::as_i64).unwrap_or(30);
            let g = opts.grace_period_seconds.unwrap_or(default).max(0);
            if !bound || done {
                0
            } else {
                g
            }
        } else {
            0
        };
        let mut finals = finalizers(&obj);
        match opts.propagation {
            Some(Propagation::Foreground) if !finals.iter().any(|f| f == "foregroundDeletion") => {
                finals.push("foregroundDeletion".into())
            }
            Some(Propagation::Orphan) if !finals.iter().any(|f| f == "orphan") => finals.push("orphan".into()),
            _ => {}
        }
        if rt.kind == "Namespace" && !finals.iter().any(|f| f == "kubernetes") {
            // The namespace controller empties it first (spec.finalizers: kubernetes).
            finals.push("kubernetes".into());
        }
        let already = obj.pointer("/metadata/deletionTimestamp").is_some();
        if finals.is_empty() && grace == 0 {
            if opts.dry_run {
                return Ok((old, true));
            }
            let o = self.commit(&mut st, ChangeKind::Deleted, rt, obj);
            return Ok((o, true));
        }
        if already {
            // A second delete may only shorten the grace period.
            let cur = obj.pointer("/metadata/deletionGracePeriodSeconds").and_then(Value::as_i64).unwrap_or(0);
            if grace >= cur && finals == finalizers(&old) {
                return Ok((old, false));
            }
        }
        let meta = obj["metadata"].as_object_mut().expect("metadata object");
        let when = now.checked_add(jiff::SignedDuration::from_secs(grace)).unwrap_or(now);
        if !already || grace < meta.get("deletionGracePeriodSeconds").and_then(Value::as_i64).unwrap_or(0) {
            meta.insert("deletionTimestamp".into(), json!(super::clock::format_time(when)));
            meta.insert("deletionGracePeriodSeconds".into(), json!(grace));
        }
        if rt.kind != "Namespace" {
            if finals.is_empty() {
                meta.remove("finalizers");
            } else {
                meta.insert("finalizers".into(), json!(finals));
            }
        } else {
            obj["status"]["phase"] = json!("Terminating");
        }
        if opts.dry_run {
            return Ok((Obj::new(obj), false));
        }
        let o = self.commit(&mut st, ChangeKind::Modified, rt, obj);
        Ok((o, false))
    }

    /// Remove an object at once, whatever its finalizers (for the namespace controller and
    /// the kubelet's final confirmation). Returns false when it was already gone.
    pub fn remove(&self, rt: &ResourceType, ns: &str, name: &str) -> bool {
        let mut st = self.lock();
        let Some(old) = st.tables[rt.storage].get(&(ns.to_string(), name.to_string())).cloned() else {
            return false;
        };
        self.commit(&mut st, ChangeKind::Deleted, rt, (*old).clone());
        true
    }
}

pub fn finalizers(obj: &Value) -> Vec<String> {
    let from_meta = obj
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|f| f.as_str().map(str::to_string)).collect::<Vec<_>>())
        .unwrap_or_default();
    if obj["kind"] == "Namespace" && obj.pointer("/metadata/deletionTimestamp").is_some() {
        let mut all = from_meta;
        if obj.pointer("/spec/finalizers").and_then(Value::as_array).is_some_and(|a| !a.is_empty()) {
            all.push("kubernetes".into());
        }
        return all;
    }
    from_meta
}

/// The object an update stores: the request's fields for its scope, the stored object's system
/// metadata, and a generation bump when the spec changed.
fn merge_update(rt: &ResourceType, old: &Value, mut new: Value, scope: UpdateScope) -> Value {
    if !new.is_object() {
        new = json!({});
    }
    let mut out = match scope {
        UpdateScope::Status => {
            let mut o = old.clone();
            match new.get("status") {
                Some(s) => o["status"] = s.clone(),
                None => {
                    if let Some(m) = o.as_object_mut() {
                        m.remove("status");
                    }
                }
            }
            o
        }
        UpdateScope::Main => {
            if rt.has_subresource("status") {
                match old.get("status") {
                    Some(s) => new["status"] = s.clone(),
                    None => {
                        if let Some(m) = new.as_object_mut() {
                            m.remove("status");
                        }
                    }
                }
            }
            new
        }
        UpdateScope::All => new,
    };
    // System metadata comes from the stored object.
    let old_meta = &old["metadata"];
    if !out["metadata"].is_object() {
        out["metadata"] = json!({});
    }
    let meta = out["metadata"].as_object_mut().expect("object");
    for key in [
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "generation",
        "namespace",
        "name",
    ] {
        match old_meta.get(key) {
            Some(v) => {
                meta.insert(key.into(), v.clone());
            }
            None => {
                meta.remove(key);
            }
        }
    }
    meta.insert("resourceVersion".into(), old_meta["resourceVersion"].clone());
    if scope == UpdateScope::Status {
        // The status subresource never changes metadata.
        out["metadata"] = old_meta.clone();
    }
    out["apiVersion"] = json!(rt.api_version());
    out["kind"] = json!(rt.kind);
    if rt.has_generation && spec_of(old) != spec_of(&out) {
        let g = old_meta.get("generation").and_then(Value::as_i64).unwrap_or(1);
        out["metadata"]["generation"] = json!(g + 1);
    }
    out
}

/// Everything but metadata and status: what a generation counts changes of.
fn spec_of(obj: &Value) -> Value {
    let mut v = obj.clone();
    if let Some(m) = v.as_object_mut() {
        m.remove("metadata");
        m.remove("status");
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> Store {
        let s = Store::new(Clock::new(1.0));
        s.create(kinds::namespaces(), json!({"metadata": {"name": "default"}}), false).unwrap();
        s
    }

    fn sts(name: &str) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
               "metadata": {"name": name, "namespace": "default"},
               "spec": {"replicas": 2}})
    }

    #[tokio::test]
    async fn create_sets_system_metadata() {
        let s = store();
        let o = s.create(kinds::statefulsets(), sts("web"), false).unwrap();
        assert_eq!(o["metadata"]["generation"], 1);
        assert_eq!(uid_of(&o).len(), 36);
        assert!(!rv_of(&o).is_empty());
        let e = s.create(kinds::statefulsets(), sts("web"), false).unwrap_err();
        assert_eq!(e.code, 409);
        assert_eq!(e.reason, "AlreadyExists");
    }

    #[tokio::test]
    async fn create_in_missing_namespace_is_not_found() {
        let s = store();
        let mut o = sts("web");
        o["metadata"]["namespace"] = json!("nope");
        let e = s.create(kinds::statefulsets(), o, false).unwrap_err();
        assert_eq!(e.message, "namespaces \"nope\" not found");
    }

    #[tokio::test]
    async fn generation_bumps_on_spec_only_and_stale_update_conflicts() {
        let s = store();
        let o = s.create(kinds::statefulsets(), sts("web"), false).unwrap();
        let mut labelled = (*o).clone();
        labelled["metadata"]["labels"] = json!({"a": "b"});
        let o2 = s.update(kinds::statefulsets(), labelled, UpdateScope::Main, false).unwrap();
        assert_eq!(o2["metadata"]["generation"], 1);
        let mut scaled = (*o2).clone();
        scaled["spec"]["replicas"] = json!(3);
        let o3 = s.update(kinds::statefulsets(), scaled, UpdateScope::Main, false).unwrap();
        assert_eq!(o3["metadata"]["generation"], 2);
        // Writing from the first version again is stale.
        let e = s.update(kinds::statefulsets(), (*o).clone(), UpdateScope::Main, false).unwrap_err();
        assert_eq!(e.code, 409);
        assert_eq!(e.reason, "Conflict");
        // A no-op update keeps the resourceVersion.
        let same = s.update(kinds::statefulsets(), (*o3).clone(), UpdateScope::Main, false).unwrap();
        assert_eq!(rv_of(&same), rv_of(&o3));
    }

    #[tokio::test]
    async fn status_scope_only_touches_status() {
        let s = store();
        let o = s.create(kinds::statefulsets(), sts("web"), false).unwrap();
        let mut w = (*o).clone();
        w["spec"]["replicas"] = json!(9);
        w["status"] = json!({"replicas": 1});
        let o2 = s.update(kinds::statefulsets(), w.clone(), UpdateScope::Status, false).unwrap();
        assert_eq!(o2["spec"]["replicas"], 2);
        assert_eq!(o2["status"]["replicas"], 1);
        w["metadata"]["resourceVersion"] = json!("");
        w["status"] = json!({"replicas": 5});
        let o3 = s.update(kinds::statefulsets(), w, UpdateScope::Main, false).unwrap();
        assert_eq!(o3["spec"]["replicas"], 9);
        assert_eq!(o3["status"]["replicas"], 1);
    }

    #[tokio::test]
    async fn bound_pods_delete_gracefully() {
        let s = store();
        let pod = json!({"metadata": {"name": "p", "namespace": "default"},
                         "spec": {"nodeName": "n", "containers": []}});
        s.create(kinds::pods(), pod, false).unwrap();
        let (o, gone) = s.delete(kinds::pods(), "default", "p", &DeleteOpts::default()).unwrap();
        assert!(!gone);
        assert_eq!(o["metadata"]["deletionGracePeriodSeconds"], 30);
        let now = DeleteOpts { grace_period_seconds: Some(0), ..Default::default() };
        let (_, gone) = s.delete(kinds::pods(), "default", "p", &now).unwrap();
        assert!(gone);
        assert!(s.get(kinds::pods(), "default", "p").is_none());
    }

    #[tokio::test]
    async fn finalizers_hold_deletion_until_removed() {
        let s = store();
        let mut o = sts("web");
        o["metadata"]["finalizers"] = json!(["x/y"]);
        s.create(kinds::statefulsets(), o, false).unwrap();
        let (o, gone) = s.delete(kinds::statefulsets(), "default", "web", &DeleteOpts::default()).unwrap();
        assert!(!gone);
        let mut cleared = (*o).clone();
        cleared["metadata"]["finalizers"] = json!([]);
        s.update(kinds::statefulsets(), cleared, UpdateScope::Main, false).unwrap();
        assert!(s.get(kinds::statefulsets(), "default", "web").is_none());
    }

    #[tokio::test]
    async fn watch_resumes_from_history_and_reports_compaction() {
        let s = Store::with_history(Clock::new(1.0), 3);
        s.create(kinds::namespaces(), json!({"metadata": {"name": "default"}}), false).unwrap();
        let start = s.current_rv();
        for i in 0..5 {
            s.create(
                kinds::configmaps(),
                json!({"metadata": {"name": format!("c{i}"), "namespace": "default"}}),
                false,
            )
            .unwrap();
        }
        let mut sub = s.watch_from(Some(s.current_rv() - 2)).unwrap();
        assert_eq!(sub.try_recv().unwrap().name(), "c3");
        assert_eq!(sub.try_recv().unwrap().name(), "c4");
        assert!(matches!(sub.try_recv(), Err(TryRecvError::Empty)));
        let oldest = s.watch_from(Some(start)).unwrap_err();
        assert!(oldest > start);
    }

    #[tokio::test]
    async fn a_subscription_that_falls_out_of_the_history_lags_once_then_continues() {
        let s = Store::with_history(Clock::new(1.0), 3);
        s.create(kinds::namespaces(), json!({"metadata": {"name": "default"}}), false).unwrap();
        let mut sub = s.subscribe();
        for i in 0..5 {
            s.create(
                kinds::configmaps(),
                json!({"metadata": {"name": format!("c{i}"), "namespace": "default"}}),
                false,
            )
            .unwrap();
        }
        assert!(matches!(sub.recv().await, Err(RecvError::Lagged(2))));
        let names: Vec<String> = (0..3).map(|_| sub.try_recv().unwrap().name().to_string()).collect();
        assert_eq!(names, ["c2", "c3", "c4"]);
        // A change made while it waits wakes it.
        let writer = s.clone();
        let wait = tokio::spawn(async move { sub.recv().await.map(|c| c.name().to_string()) });
        tokio::task::yield_now().await;
        writer
            .create(kinds::configmaps(), json!({"metadata": {"name": "late", "namespace": "default"}}), false)
            .unwrap();
        assert_eq!(wait.await.unwrap().unwrap(), "late");
    }

    #[tokio::test]
    async fn subscriptions_close_when_the_store_goes() {
        let s = store();
        let mut sub = s.subscribe();
        let wait = tokio::spawn(async move { sub.recv().await.is_err() });
        tokio::task::yield_now().await;
        drop(s);
        assert!(wait.await.unwrap());
    }

    #[tokio::test]
    async fn the_history_is_bounded_by_bytes_and_shares_current_versions() {
        let s = store();
        s.lock().history_bytes_limit = 10_000;
        let big = "x".repeat(1_000);
        for i in 0..30 {
            s.create(
                kinds::configmaps(),
                json!({"metadata": {"name": format!("c{i}"), "namespace": "default"}, "data": {"k": big}}),
                false,
            )
            .unwrap();
        }
        let st = s.lock();
        assert!(st.history_bytes <= 10_000 && st.history.len() < 30, "{} bytes", st.history_bytes);
        assert_eq!(st.history_bytes, st.history.iter().map(|c| c.object.json().len()).sum::<usize>());
        let newest = st.history.back().unwrap();
        assert!(newest.object.same(&st.tables[kinds::configmaps().storage][&("default".into(), "c29".into())]));
        assert!(st.compacted_rv > 1);
    }

    #[tokio::test]
    async fn generate_name_and_dry_run() {
        let s = store();
        let o = s
            .create(kinds::configmaps(), json!({"metadata": {"generateName": "probe-", "namespace": "default"}}), true)
            .unwrap();
        assert!(name_of(&o).starts_with("probe-"));
        assert_eq!(name_of(&o).len(), "probe-".len() + 5);
        assert!(s.list(kinds::configmaps(), Some("default")).0.is_empty());
    }
}
