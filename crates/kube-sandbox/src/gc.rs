//! The garbage collector and namespace finalizer: deletes dependents whose owners are gone
//! (background), holds owners until dependents go (foreground, `foregroundDeletion`), orphans
//! dependents (`orphan`), and empties a terminating namespace before removing it. Driven by the
//! store's change stream, with an owner index so each change costs only its own dependents.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::{json, Value};
use tokio::sync::broadcast::error::RecvError;

use super::resources::{self, kinds, RESOURCES};
use super::store::{finalizers, name_of, Change, ChangeKind, DeleteOpts, Obj, Store, UpdateScope};

/// An object the collector knows: namespace, name and uid in one shared string (the index
/// holds one per object in the store, and a few copies of each).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Ref {
    storage: &'static str,
    ids: Arc<str>,
    ends: [u32; 2],
}

impl Ref {
    fn of(storage: &'static str, o: &Obj) -> Ref {
        let (ns, name) = (o.namespace(), o.name());
        let ends = [ns.len() as u32, (ns.len() + name.len()) as u32];
        Ref { storage, ids: [ns, name, o.uid()].concat().into(), ends }
    }
    fn ns(&self) -> &str {
        &self.ids[..self.ends[0] as usize]
    }
    fn name(&self) -> &str {
        &self.ids[self.ends[0] as usize..self.ends[1] as usize]
    }
    fn uid(&self) -> &str {
        &self.ids[self.ends[1] as usize..]
    }
}

/// A `Ref` found by its uid.
#[derive(Debug)]
struct ByUid(Ref);

impl std::borrow::Borrow<str> for ByUid {
    fn borrow(&self) -> &str {
        self.0.uid()
    }
}
impl std::hash::Hash for ByUid {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.0.uid().hash(h);
    }
}
impl PartialEq for ByUid {
    fn eq(&self, other: &Self) -> bool {
        self.0.uid() == other.0.uid()
    }
}
impl Eq for ByUid {}

fn owner_uids(o: &Obj) -> Vec<String> {
    o.meta().owners.iter().filter(|r| !r.uid.is_empty()).map(|r| r.uid.to_string()).collect()
}

#[derive(Default)]
struct Index {
    /// Every live object by uid.
    objects: HashSet<ByUid>,
    /// Owner uid -> its dependents.
    dependents: HashMap<String, HashSet<Ref>>,
    terminating_namespaces: HashSet<String>,
}

impl Index {
    fn add(&mut self, r: Ref, o: &Obj) {
        for owner in owner_uids(o) {
            self.dependents.entry(owner).or_default().insert(r.clone());
        }
        self.objects.replace(ByUid(r));
    }
    fn remove(&mut self, r: &Ref, o: &Obj) {
        for owner in owner_uids(o) {
            if let Some(set) = self.dependents.get_mut(&owner) {
                set.remove(r);
                if set.is_empty() {
                    self.dependents.remove(&owner);
                }
            }
        }
        self.objects.remove(r.uid());
    }
}

/// The collector task; ends when the store's change stream closes.
pub(crate) async fn run(store: Store) {
    let mut rx = store.subscribe();
    let mut ix = rebuild(&store);
    sweep(&store, &mut ix);
    loop {
        match rx.recv().await {
            Ok(c) => handle(&store, &mut ix, &c),
            Err(RecvError::Lagged(_)) => {
                ix = rebuild(&store);
                sweep(&store, &mut ix);
            }
            Err(RecvError::Closed) => return,
        }
    }
}

fn rebuild(store: &Store) -> Index {
    let mut ix = Index::default();
    let mut seen = HashSet::new();
    for rt in RESOURCES {
        if !seen.insert(rt.storage) {
            continue;
        }
        for o in store.list(rt, None).0 {
            ix.add(Ref::of(rt.storage, &o), &o);
        }
    }
    ix
}

/// Act on every object as if it had just changed (after start or a lag).
fn sweep(store: &Store, ix: &mut Index) {
    let all: Vec<Ref> = ix.objects.iter().map(|b| b.0.clone()).collect();
    for r in all {
        if let Some(o) = get(store, &r) {
            on_present(store, ix, &r, &o);
        }
    }
}

fn get(store: &Store, r: &Ref) -> Option<Obj> {
    store.get(resources::by_storage(r.storage)?, r.ns(), r.name())
}

fn handle(store: &Store, ix: &mut Index, c: &Change) {
    let r = Ref::of(c.storage, &c.object);
    match c.kind {
        ChangeKind::Added | ChangeKind::Modified => {
            if let Some(prev) = &c.prev {
                ix.remove(&r, prev);
            }
            ix.add(r.clone(), &c.object);
            on_present(store, ix, &r, &c.object);
        }
        ChangeKind::Deleted => {
            ix.remove(&r, &c.object);
            // Its dependents may now be orphans.
            if let Some(deps) = ix.dependents.remove(r.uid()) {
                for d in deps {
                    collect_if_orphaned(store, ix, &d);
                }
            }
            // Owners waiting in the foreground for this one may be done.
            for owner in owner_uids(&c.object) {
                if let Some(o) = ix.objects.get(owner.as_str()).map(|b| b.0.clone()) {
                    if let Some(obj) = get(store, &o) {
                        on_present(store, ix, &o, &obj);
                    }
                }
            }
            if ix.terminating_namespaces.contains(r.ns()) {
                finish_namespace(store, ix, r.ns());
            }
        }
    }
}

/// Remove the ownerReferences `gone` picks; with none left the field goes too, as the API
/// server stores an empty list (`omitempty`), never as `[]`.
fn drop_owner_refs(obj: &mut Value, gone: impl Fn(&Value) -> bool) {
    let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) else { return };
    if let Some(refs) = meta.get_mut("ownerReferences").and_then(Value::as_array_mut) {
        refs.retain(|r| !gone(r));
        if refs.is_empty() {
            meta.remove("ownerReferences");
        }
    }
}

/// A dependent whose owners are all gone is deleted; a dangling reference is dropped.
fn collect_if_orphaned(store: &Store, ix: &Index, d: &Ref) {
    let Some(obj) = get(store, d) else { return };
    let owners = owner_uids(&obj);
    if owners.iter().any(|u| ix.objects.contains(u.as_str())) {
        let mut new = (*obj).clone();
        drop_owner_refs(&mut new, |r| !r["uid"].as_str().is_some_and(|u| ix.objects.contains(u)));
        if let Some(rt) = resources::by_storage(d.storage) {
            let _ = store.update(rt, new, UpdateScope::All, false);
        }
    } else if let Some(rt) = resources::by_storage(d.storage) {
        let _ = store.delete(rt, d.ns(), d.name(), &DeleteOpts::default());
    }
}

fn on_present(store: &Store, ix: &mut Index, r: &Ref, o: &Obj) {
    // An object created with owners none of which exist is garbage from the start.
    let owners = owner_uids(o);
    if !owners.is_empty() && !owners.iter().any(|u| ix.objects.contains(u.as_str())) {
        collect_if_orphaned(store, ix, r);
        return;
    }
    if !o.meta().deleting {
        return;
    }
    let fins = finalizers(o);
    if r.storage == kinds::namespaces().storage {
        ix.terminating_namespaces.insert(r.name().to_string());
        empty_namespace(store, r.name());
        finish_namespace(store, ix, r.name());
        return;
    }
    let deps: Vec<Ref> = ix.dependents.get(r.uid()).map(|s| s.iter().cloned().collect()).unwrap_or_default();
    if fins.iter().any(|f| f == "orphan") {
        for d in &deps {
            if let (Some(rt), Some(obj)) = (resources::by_storage(d.storage), get(store, d)) {
                let mut new = (*obj).clone();
                drop_owner_refs(&mut new, |x| x["uid"] == json!(r.uid()));
                let _ = store.update(rt, new, UpdateScope::All, false);
            }
        }
        drop_finalizer(store, r, "orphan");
    } else if fins.iter().any(|f| f == "foregroundDeletion") {
        if deps.is_empty() {
            drop_finalizer(store, r, "foregroundDeletion");
        } else {
            for d in &deps {
                if let Some(rt) = resources::by_storage(d.storage) {
                    let _ = store.delete(rt, d.ns(), d.name(), &DeleteOpts::default());
                }
            }
        }
    }
}

fn drop_finalizer(store: &Store, r: &Ref, finalizer: &str) {
    let Some(rt) = resources::by_storage(r.storage) else { return };
    for _ in 0..5 {
        let Some(obj) = store.get(rt, r.ns(), r.name()) else { return };
        let mut new = (*obj).clone();
        let kept: Vec<String> = finalizers(&obj).into_iter().filter(|f| f != finalizer).collect();
        new["metadata"]["finalizers"] = json!(kept);
        if kept.is_empty() {
            if let Some(m) = new["metadata"].as_object_mut() {
                m.remove("finalizers");
            }
        }
        match store.update(rt, new, UpdateScope::All, false) {
            Err(e) if e.reason == "Conflict" => continue,
            _ => return,
        }
    }
}

/// Delete everything in a terminating namespace (pods still terminate gracefully).
fn empty_namespace(store: &Store, ns: &str) {
    let mut seen = HashSet::new();
    for rt in RESOURCES.iter().filter(|r| r.namespaced) {
        if !seen.insert(rt.storage) {
            continue;
        }
        for o in store.list(rt, Some(ns)).0 {
            if o.pointer("/metadata/deletionTimestamp").is_none() {
                let _ = store.delete(rt, ns, name_of(&o), &DeleteOpts::default());
            }
        }
    }
}

/// Remove a terminating namespace once nothing is left in it.
fn finish_namespace(store: &Store, ix: &mut Index, ns: &str) {
    let mut seen = HashSet::new();
    let empty = RESOURCES
        .iter()
        .filter(|r| r.namespaced && seen.insert(r.storage))
        .all(|rt| store.list(rt, Some(ns)).0.is_empty());
    if empty {
        ix.terminating_namespaces.remove(ns);
        store.remove(kinds::namespaces(), "", ns);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;
    use crate::store::{uid_of, Propagation};
    use std::time::Duration;

    fn setup() -> Store {
        let s = Store::new(Clock::new(1.0));
        s.create(kinds::namespaces(), json!({"metadata": {"name": "default"}}), false).unwrap();
        s
    }

    fn owned_cm(name: &str, owner: &Value) -> Value {
        json!({"metadata": {"name": name, "namespace": "default", "ownerReferences": [
            {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": name_of(owner), "uid": uid_of(owner), "blockOwnerDeletion": true}]}})
    }

    async fn settle() {
        for _ in 0..20 {
            tokio::task::yield_now().await;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    #[tokio::test]
    async fn background_deletes_dependents() {
        let s = setup();
        let task = tokio::spawn(run(s.clone()));
        settle().await;
        let owner = s
            .create(kinds::statefulsets(), json!({"metadata": {"name": "web", "namespace": "default"}}), false)
            .unwrap();
        s.create(kinds::configmaps(), owned_cm("a", &owner), false).unwrap();
        s.delete(kinds::statefulsets(), "default", "web", &DeleteOpts::default()).unwrap();
        settle().await;
        assert!(s.get(kinds::configmaps(), "default", "a").is_none());
        task.abort();
    }

    #[tokio::test]
    async fn foreground_waits_for_dependents_and_orphan_keeps_them() {
        let s = setup();
        let task = tokio::spawn(run(s.clone()));
        settle().await;
        let owner = s
            .create(kinds::statefulsets(), json!({"metadata": {"name": "web", "namespace": "default"}}), false)
            .unwrap();
        s.create(kinds::configmaps(), owned_cm("a", &owner), false).unwrap();
        let fg = DeleteOpts { propagation: Some(Propagation::Foreground), ..Default::default() };
        let (o, gone) = s.delete(kinds::statefulsets(), "default", "web", &fg).unwrap();
        assert!(!gone);
        assert_eq!(finalizers(&o), ["foregroundDeletion"]);
        settle().await;
        assert!(s.get(kinds::configmaps(), "default", "a").is_none());
        assert!(s.get(kinds::statefulsets(), "default", "web").is_none());

        let owner = s
            .create(kinds::statefulsets(), json!({"metadata": {"name": "db", "namespace": "default"}}), false)
            .unwrap();
        s.create(kinds::configmaps(), owned_cm("b", &owner), false).unwrap();
        let orphan = DeleteOpts { propagation: Some(Propagation::Orphan), ..Default::default() };
        s.delete(kinds::statefulsets(), "default", "db", &orphan).unwrap();
        settle().await;
        assert!(s.get(kinds::statefulsets(), "default", "db").is_none());
        let b = s.get(kinds::configmaps(), "default", "b").unwrap();
        assert!(owner_uids(&b).is_empty());
        task.abort();
    }

    #[tokio::test]
    async fn namespaces_empty_before_they_go() {
        let s = setup();
        s.create(kinds::namespaces(), json!({"metadata": {"name": "team"}}), false).unwrap();
        s.create(kinds::configmaps(), json!({"metadata": {"name": "c", "namespace": "team"}}), false).unwrap();
        let task = tokio::spawn(run(s.clone()));
        settle().await;
        let (o, gone) = s.delete(kinds::namespaces(), "", "team", &DeleteOpts::default()).unwrap();
        assert!(!gone);
        assert_eq!(o["status"]["phase"], "Terminating");
        settle().await;
        assert!(s.get(kinds::configmaps(), "team", "c").is_none());
        assert!(s.get(kinds::namespaces(), "", "team").is_none());
        task.abort();
    }
}
