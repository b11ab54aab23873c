//! The garbage collector and namespace finalizer: deletes dependents whose owners are gone
//! (background), holds owners until dependents go (foreground, `foregroundDeletion`), orphans
//! dependents (`orphan`), and empties a terminating namespace before removing it. A
//! [`Reconciler`] run by the controllers' driver: its keys are objects, an owner index tells
//! whose dependents to look at when an object changes or goes, and whether an owner is still
//! there is asked of the store (as upstream's collector looks the owner up before deleting).

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::{json, Value};

use super::admission;
use super::controllers::driver::{Action, Reconciler, Trigger};
use super::controllers::unless_gone;
use super::error::ApiError;
use super::resources::{self, kinds, ResourceType, RESOURCES};
use super::store::{finalizers, name_of, DeleteOpts, Obj, Store, UpdateScope};

/// An object the collector knows: namespace, name and uid in one shared string (the index
/// holds one per object in the store, and a few copies of each).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Ref {
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

/// What the index keeps of an object, found by its uid: where it is and whom it named as owners.
#[derive(Debug)]
struct Entry {
    r: Ref,
    owners: Box<[Box<str>]>,
}

impl std::borrow::Borrow<str> for Entry {
    fn borrow(&self) -> &str {
        self.r.uid()
    }
}
impl std::hash::Hash for Entry {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.r.uid().hash(h);
    }
}
impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.r.uid() == other.r.uid()
    }
}
impl Eq for Entry {}

fn owner_uids(o: &Obj) -> Box<[Box<str>]> {
    o.meta().owners.iter().filter(|r| !r.uid.is_empty()).map(|r| r.uid.clone()).collect()
}

#[derive(Default)]
struct Index {
    /// Every object seen, by uid.
    objects: HashSet<Entry>,
    /// Owner uid -> its dependents.
    dependents: HashMap<Box<str>, HashSet<Ref>>,
    terminating_namespaces: HashSet<String>,
}

impl Index {
    /// Note `o` as it is now (its owners may have changed since it was last seen).
    fn put(&mut self, r: &Ref, o: &Obj) {
        if let Some(e) = self.objects.get(r.uid()) {
            let now = o.meta().owners.iter().filter(|x| !x.uid.is_empty()).map(|x| &*x.uid);
            if e.owners.iter().map(|x| &**x).eq(now) {
                return;
            }
        }
        let owners = owner_uids(o);
        self.forget(r.uid());
        for owner in &owners {
            self.dependents.entry(owner.clone()).or_default().insert(r.clone());
        }
        self.objects.insert(Entry { r: r.clone(), owners });
    }

    /// Remember an entry `forget` gave back.
    fn restore(&mut self, e: Entry) {
        for owner in &e.owners {
            self.dependents.entry(owner.clone()).or_default().insert(e.r.clone());
        }
        self.objects.insert(e);
    }

    fn forget(&mut self, uid: &str) -> Option<Entry> {
        let e = self.objects.take(uid)?;
        for owner in &e.owners {
            if let Some(set) = self.dependents.get_mut(owner) {
                set.remove(&e.r);
                if set.is_empty() {
                    self.dependents.remove(owner);
                }
            }
        }
        Some(e)
    }
}

/// The collector, run by the driver. Its triggers keep the index, in the order of the changes
/// (so an owner's dependents are known before its deletion is acted on, whatever order the
/// keys are reconciled in); the reconciles act on the objects as they are now.
pub(crate) struct Collector {
    store: Store,
    ix: RefCell<Index>,
}

impl Collector {
    pub(crate) fn new(store: Store) -> Self {
        Collector { store, ix: RefCell::new(Index::default()) }
    }
}

impl Reconciler for Collector {
    type Key = Ref;
    const NAME: &'static str = "garbage-collector";

    fn store(&self) -> &Store {
        &self.store
    }

    /// Every object of every kind is indexed; only those with something to do are reconciled.
    /// An object with no owners, not being deleted, has nothing to do (most changes: Events,
    /// status updates); gone, with no dependents, no owners and its namespace not terminating,
    /// it only leaves the index.
    fn triggers(&self) -> Vec<Trigger<Self>> {
        let mut seen = HashSet::new();
        let namespaces = kinds::namespaces().storage;
        RESOURCES
            .iter()
            .filter(|rt| seen.insert(rt.storage))
            .map(|rt| {
                Trigger::<Self>::with_deletions(rt, move |c, o, deleted, out| {
                    let r = Ref::of(rt.storage, o);
                    let mut ix = c.ix.borrow_mut();
                    let owned = o.meta().owners.iter().any(|x| !x.uid.is_empty());
                    let plain = !owned && rt.storage != namespaces;
                    if deleted
                        && plain
                        && !ix.dependents.contains_key(r.uid())
                        && !ix.terminating_namespaces.contains(r.ns())
                    {
                        ix.forget(r.uid());
                        return;
                    }
                    ix.put(&r, o);
                    if deleted || !plain || o.meta().deleting {
                        out.push(r);
                    }
                })
            })
            .collect()
    }

    /// Every object it has seen: those gone while it was not looking are noticed.
    fn known_keys(&self) -> Vec<Ref> {
        self.ix.borrow().objects.iter().map(|e| e.r.clone()).collect()
    }

    fn reconcile(&mut self, r: &Ref) -> Result<Action, ApiError> {
        match get(&self.store, r) {
            // Indexed as it is now by its trigger already.
            Some(o) => self.on_present(r, &o)?,
            None => self.on_gone(r)?,
        }
        Ok(Action::AwaitChange)
    }
}

/// The object `r` names, while it is still that object (same uid).
fn get(store: &Store, r: &Ref) -> Option<Obj> {
    store.get(resources::by_storage(r.storage)?, r.ns(), r.name()).filter(|o| o.uid() == r.uid())
}

/// The resource type of an owner reference's kind.
fn owner_type(kind: &str) -> Option<&'static ResourceType> {
    RESOURCES.iter().find(|rt| rt.kind == kind)
}

impl Collector {
    /// Whether the owner a reference names (`kind`, `name`, `uid`) still exists: known to the
    /// index (an owner gone meanwhile has its deletion queued, which looks at its dependents
    /// again), else asked of the store (the index may not have seen it yet); for a kind the
    /// sandbox does not serve, whether the collector has seen it.
    fn owner_exists(&self, ns: &str, kind: &str, name: &str, uid: &str) -> bool {
        if self.ix.borrow().objects.contains(uid) {
            return true;
        }
        match owner_type(kind) {
            Some(rt) => {
                let ns = if rt.namespaced { ns } else { "" };
                self.store.get(rt, ns, name).is_some_and(|o| o.uid() == uid)
            }
            None => self.ix.borrow().objects.contains(uid),
        }
    }

    fn any_owner_exists(&self, o: &Obj) -> bool {
        let owners = &o.meta().owners;
        owners.iter().any(|r| !r.uid.is_empty() && self.owner_exists(o.namespace(), &r.kind, &r.name, &r.uid))
    }

    /// `r` is gone: its dependents may be orphans, owners waiting in the foreground for it may
    /// be done, and its namespace may now be empty. Forgotten only once all of that is done,
    /// so a retry after an error does it again.
    fn on_gone(&mut self, r: &Ref) -> Result<(), ApiError> {
        // Forgotten first, so that it no longer counts as an owner; remembered again if
        // something fails, so that the retry does it all again.
        let Some(entry) = self.ix.get_mut().forget(r.uid()) else { return Ok(()) };
        match self.after_gone(r, &entry) {
            Ok(()) => {
                self.ix.get_mut().dependents.remove(r.uid());
                Ok(())
            }
            Err(e) => {
                self.ix.get_mut().restore(entry);
                Err(e)
            }
        }
    }

    fn after_gone(&mut self, r: &Ref, entry: &Entry) -> Result<(), ApiError> {
        let deps: Vec<Ref> =
            self.ix.get_mut().dependents.get(r.uid()).map(|s| s.iter().cloned().collect()).unwrap_or_default();
        for d in &deps {
            self.collect_if_orphaned(d)?;
        }
        for owner in &entry.owners {
            let Some(o) = self.ix.get_mut().objects.get(&**owner).map(|e| e.r.clone()) else { continue };
            if let Some(obj) = get(&self.store, &o) {
                self.on_present(&o, &obj)?;
            }
        }
        if self.ix.get_mut().terminating_namespaces.contains(r.ns()) {
            self.finish_namespace(r.ns());
        }
        Ok(())
    }

    /// A dependent whose owners are all gone is deleted; a dangling reference is dropped.
    fn collect_if_orphaned(&self, d: &Ref) -> Result<(), ApiError> {
        let Some(obj) = get(&self.store, d) else { return Ok(()) };
        let Some(rt) = resources::by_storage(d.storage) else { return Ok(()) };
        if self.any_owner_exists(&obj) {
            let mut new = (*obj).clone();
            drop_owner_refs(&mut new, |r| {
                let text = |k: &str| r[k].as_str().unwrap_or("");
                !self.owner_exists(d.ns(), text("kind"), text("name"), text("uid"))
            });
            if new != *obj {
                unless_gone(admission::update(&self.store, rt, new, UpdateScope::All))?;
            }
        } else {
            unless_gone(admission::delete(&self.store, rt, d.ns(), d.name(), &DeleteOpts::default()))?;
        }
        Ok(())
    }

    fn on_present(&mut self, r: &Ref, o: &Obj) -> Result<(), ApiError> {
        // An object created with owners none of which exist is garbage from the start.
        if o.meta().owners.iter().any(|r| !r.uid.is_empty()) && !self.any_owner_exists(o) {
            return self.collect_if_orphaned(r);
        }
        if !o.meta().deleting {
            return Ok(());
        }
        let fins = finalizers(o);
        if r.storage == kinds::namespaces().storage {
            self.ix.get_mut().terminating_namespaces.insert(r.name().to_string());
            empty_namespace(&self.store, r.name())?;
            self.finish_namespace(r.name());
            return Ok(());
        }
        // The dependents still there (the index may know of some whose deletion is on its way).
        let deps: Vec<(Ref, Obj)> = self
            .ix
            .get_mut()
            .dependents
            .get(r.uid())
            .into_iter()
            .flatten()
            .filter_map(|d| Some((d.clone(), get(&self.store, d)?)))
            .collect();
        if fins.iter().any(|f| f == "orphan") {
            for (d, obj) in &deps {
                let Some(rt) = resources::by_storage(d.storage) else { continue };
                let mut new = (**obj).clone();
                drop_owner_refs(&mut new, |x| x["uid"] == json!(r.uid()));
                unless_gone(admission::update(&self.store, rt, new, UpdateScope::All))?;
            }
            drop_finalizer(&self.store, r, "orphan")?;
        } else if fins.iter().any(|f| f == "foregroundDeletion") {
            if deps.is_empty() {
                drop_finalizer(&self.store, r, "foregroundDeletion")?;
            } else {
                for (d, _) in &deps {
                    if let Some(rt) = resources::by_storage(d.storage) {
                        unless_gone(admission::delete(&self.store, rt, d.ns(), d.name(), &DeleteOpts::default()))?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Remove a terminating namespace once nothing is left in it.
    fn finish_namespace(&mut self, ns: &str) {
        let mut seen = HashSet::new();
        let empty = RESOURCES
            .iter()
            .filter(|r| r.namespaced && seen.insert(r.storage))
            .all(|rt| self.store.list(rt, Some(ns)).0.is_empty());
        if empty {
            self.ix.get_mut().terminating_namespaces.remove(ns);
            // The namespace's own finalizer (spec.finalizers: kubernetes) done: it goes at once.
            self.store.remove(kinds::namespaces(), "", ns);
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

/// Remove one finalizer; a conflict goes back to the driver, which retries.
fn drop_finalizer(store: &Store, r: &Ref, finalizer: &str) -> Result<(), ApiError> {
    let Some(rt) = resources::by_storage(r.storage) else { return Ok(()) };
    let Some(obj) = get(store, r) else { return Ok(()) };
    let mut new = (*obj).clone();
    let kept: Vec<String> = finalizers(&obj).into_iter().filter(|f| f != finalizer).collect();
    new["metadata"]["finalizers"] = json!(kept);
    if kept.is_empty() {
        if let Some(m) = new["metadata"].as_object_mut() {
            m.remove("finalizers");
        }
    }
    unless_gone(admission::update(store, rt, new, UpdateScope::All))?;
    Ok(())
}

/// Delete everything in a terminating namespace (pods still terminate gracefully).
fn empty_namespace(store: &Store, ns: &str) -> Result<(), ApiError> {
    let mut seen = HashSet::new();
    for rt in RESOURCES.iter().filter(|r| r.namespaced) {
        if !seen.insert(rt.storage) {
            continue;
        }
        for o in store.list(rt, Some(ns)).0 {
            if o.pointer("/metadata/deletionTimestamp").is_none() {
                unless_gone(admission::delete(store, rt, ns, name_of(&o), &DeleteOpts::default()))?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;
    use crate::controllers::driver::Driver;
    use crate::store::{uid_of, Propagation};
    use std::time::Duration;

    fn setup() -> Store {
        let s = Store::new(Clock::new(1.0));
        s.create(kinds::namespaces(), json!({"metadata": {"name": "default"}}), false).unwrap();
        s
    }

    /// A StatefulSet as admission stores it (the collector's writes are admitted like any).
    fn set(name: &str) -> Value {
        let mut set = json!({"metadata": {"name": name, "namespace": "default"}, "spec": {
            "selector": {"matchLabels": {"app": name}}, "serviceName": name,
            "template": {"metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}});
        admission::admit(&Store::new(Clock::new(1.0)), kinds::statefulsets(), &mut set, None).unwrap();
        set
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
        let task = tokio::spawn(Driver::new(Collector::new(s.clone())).run());
        settle().await;
        let owner = s.create(kinds::statefulsets(), set("web"), false).unwrap();
        s.create(kinds::configmaps(), owned_cm("a", &owner), false).unwrap();
        s.delete(kinds::statefulsets(), "default", "web", &DeleteOpts::default()).unwrap();
        settle().await;
        assert!(s.get(kinds::configmaps(), "default", "a").is_none());
        task.abort();
    }

    #[tokio::test]
    async fn foreground_waits_for_dependents_and_orphan_keeps_them() {
        let s = setup();
        let task = tokio::spawn(Driver::new(Collector::new(s.clone())).run());
        settle().await;
        let owner = s.create(kinds::statefulsets(), set("web"), false).unwrap();
        s.create(kinds::configmaps(), owned_cm("a", &owner), false).unwrap();
        let fg = DeleteOpts { propagation: Some(Propagation::Foreground), ..Default::default() };
        let (o, gone) = s.delete(kinds::statefulsets(), "default", "web", &fg).unwrap();
        assert!(!gone);
        assert_eq!(finalizers(&o), ["foregroundDeletion"]);
        settle().await;
        assert!(s.get(kinds::configmaps(), "default", "a").is_none());
        assert!(s.get(kinds::statefulsets(), "default", "web").is_none());

        let owner = s.create(kinds::statefulsets(), set("db"), false).unwrap();
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
        let task = tokio::spawn(Driver::new(Collector::new(s.clone())).run());
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
