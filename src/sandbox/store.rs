//! The in-memory object store: every object as JSON, one global resourceVersion, uids,
//! generations, graceful deletion and finalizers, and a broadcast of changes for watches and
//! controllers. A cheap-to-clone handle; the lock is never held across an `.await`.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{json, Value};
use tokio::sync::broadcast;

use super::clock::Clock;
use super::error::{ApiError, ApiResult};
use super::resources::{kinds, ResourceType, RESOURCES};

/// A stored object; shared, never mutated in place.
pub type Obj = Arc<Value>;

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
        namespace_of(&self.object)
    }
    pub fn name(&self) -> &str {
        name_of(&self.object)
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
    /// Oldest resourceVersion a watch may still resume from.
    compacted_rv: u64,
}

struct Shared {
    state: Mutex<State>,
    tx: broadcast::Sender<Change>,
    clock: Clock,
}

/// Handle to the store; clones share it.
#[derive(Clone)]
pub struct Store {
    shared: Arc<Shared>,
}

/// How many changes are kept for watches to resume from (upstream keeps about 5 minutes).
pub const DEFAULT_HISTORY: usize = 20_000;

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
        let (tx, _) = broadcast::channel(16_384);
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
                    compacted_rv: 1,
                }),
                tx,
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

    /// Subscribe to changes after `rv`: the backlog still in history, then the live receiver.
    /// `None` starts from now. Errors with the oldest resumable version when `rv` is too old.
    pub fn watch_from(&self, rv: Option<u64>) -> Result<(Vec<Change>, broadcast::Receiver<Change>), u64> {
        let st = self.lock();
        let rx = self.shared.tx.subscribe();
        let backlog = match rv {
            None => Vec::new(),
            Some(rv) if rv >= st.rv => Vec::new(),
            Some(rv) if rv < st.compacted_rv => return Err(st.compacted_rv),
            Some(rv) => st.history.iter().filter(|c| c.rv > rv).cloned().collect(),
        };
        Ok((backlog, rx))
    }

    /// The objects of a type as of now, and a receiver of every change after them, taken
    /// atomically so a watch neither misses nor repeats a change.
    pub fn list_and_subscribe(
        &self,
        rt: &ResourceType,
        ns: Option<&str>,
    ) -> (Vec<Obj>, u64, broadcast::Receiver<Change>) {
        let st = self.lock();
        let rx = self.shared.tx.subscribe();
        let table = &st.tables[rt.storage];
        let items = table.iter().filter(|((n, _), _)| ns.is_none_or(|ns| ns == n)).map(|(_, v)| v.clone()).collect();
        (items, st.rv, rx)
    }

    /// A receiver of every future change, for controllers.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.shared.tx.subscribe()
    }

    fn commit(&self, st: &mut State, kind: ChangeKind, rt: &ResourceType, mut obj: Value) -> Obj {
        st.rv += 1;
        let rv = st.rv;
        obj["metadata"]["resourceVersion"] = json!(rv.to_string());
        let key = (namespace_of(&obj).to_string(), name_of(&obj).to_string());
        let obj = Arc::new(obj);
        let table = st.tables.get_mut(rt.storage).expect("table per storage");
        let prev = match kind {
            ChangeKind::Deleted => {
                table.remove(&key);
                None
            }
            ChangeKind::Added => {
                table.insert(key, obj.clone());
                None
            }
            ChangeKind::Modified => table.insert(key, obj.clone()),
        };
        let change = Change { rv, kind, storage: rt.storage, object: obj.clone(), prev, encoded: Default::default() };
        st.history.push_back(change.clone());
        while st.history.len() > st.history_limit {
            if let Some(old) = st.history.pop_front() {
                st.compacted_rv = old.rv;
            }
        }
        // No receivers is fine: nobody watches yet.
        let _ = self.shared.tx.send(change);
        obj
    }

    /// Store a new object. Sets uid, resourceVersion, creationTimestamp and generation, and
    /// resolves generateName. The caller has validated and defaulted it.
    pub fn create(&self, rt: &ResourceType, mut obj: Value, dry_run: bool) -> ApiResult<Obj> {
        let mut st = self.lock();
        let ns = namespace_of(&obj).to_string();
        if rt.namespaced {
            let namespaces = &st.tables[kinds::namespaces().storage];
            match namespaces.get(&(String::new(), ns.clone())) {
                None => return Err(ApiError::not_found("", "namespaces", &ns)),
                Some(n) if n.pointer("/metadata/deletionTimestamp").is_some() => {
                    return Err(ApiError::forbidden(format!(
                        "{} \"{}\" is forbidden: unable to create new content in namespace {ns} because it is being terminated",
                        rt.plural,
                        name_of(&obj)
                    )))
                }
                Some(_) => {}
            }
        }
        let mut name = name_of(&obj).to_string();
        if name.is_empty() {
            let prefix = obj.pointer("/metadata/generateName").and_then(Value::as_str).unwrap_or("").to_string();
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
        }
        if st.tables[rt.storage].contains_key(&(ns.clone(), name.clone())) {
            return Err(ApiError::already_exists(rt.group, rt.plural, &name));
        }
        let meta = obj["metadata"].as_object_mut().expect("metadata object");
        meta.insert("uid".into(), json!(new_uid()));
        meta.insert("creationTimestamp".into(), json!(self.shared.clock.now_rfc3339()));
        meta.remove("deletionTimestamp");
        meta.remove("deletionGracePeriodSeconds");
        if rt.has_generation {
            meta.insert("generation".into(), json!(1));
        } else {
            meta.remove("generation");
        }
        obj["apiVersion"] = json!(rt.api_version());
        obj["kind"] = json!(rt.kind);
        if dry_run {
            obj["metadata"]["resourceVersion"] = json!("");
            return Ok(Arc::new(obj));
        }
        Ok(self.commit(&mut st, ChangeKind::Added, rt, obj))
    }

    /// Replace an object. A `resourceVersion` in the new object must match the stored one
    /// (409 Conflict otherwise); an empty one updates unconditionally. System metadata is kept;
    /// `generation` is bumped when anything outside metadata and status changes. An update that
    /// changes nothing keeps the resourceVersion and sends no event.
    pub fn update(&self, rt: &ResourceType, new: Value, scope: UpdateScope, dry_run: bool) -> ApiResult<Obj> {
        let mut st = self.lock();
        let ns = namespace_of(&new).to_string();
        let name = name_of(&new).to_string();
        let old = st.tables[rt.storage]
            .get(&(ns.clone(), name.clone()))
            .cloned()
            .ok_or_else(|| ApiError::not_found(rt.group, rt.plural, &name))?;
        let wanted_rv = rv_of(&new);
        if !wanted_rv.is_empty() && wanted_rv != rv_of(&old) {
            return Err(ApiError::conflict(
                rt.group,
                rt.plural,
                &name,
                "the object has been modified; please apply your changes to the latest version and try again",
            ));
        }
        let merged = merge_update(rt, &old, new, scope);
        if merged == *old {
            return Ok(old);
        }
        if dry_run {
            return Ok(Arc::new(merged));
        }
        // Removing the last finalizer of an object being deleted finishes the deletion.
        if merged.pointer("/metadata/deletionTimestamp").is_some() && finalizers(&merged).is_empty() {
            let grace = merged.pointer("/metadata/deletionGracePeriodSeconds").and_then(Value::as_i64).unwrap_or(0);
            if rt.kind != "Pod" || grace == 0 {
                return Ok(self.commit(&mut st, ChangeKind::Deleted, rt, merged));
            }
        }
        Ok(self.commit(&mut st, ChangeKind::Modified, rt, merged))
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
            return Ok((Arc::new(obj), false));
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
        let (backlog, _) = s.watch_from(Some(s.current_rv() - 2)).unwrap();
        assert_eq!(backlog.len(), 2);
        assert_eq!(backlog[1].name(), "c4");
        let oldest = s.watch_from(Some(start)).unwrap_err();
        assert!(oldest > start);
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
