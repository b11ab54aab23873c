//! The store's writes: create, update (whole, main or status), modify, delete and remove. The
//! costly part of each (merging, serializing) runs before the lock is taken where it can; the
//! commit under it only stores.

use serde_json::{json, Value};

use super::{
    name_of, namespace_of, new_uid, random_suffix, rv_of, uid_of, ChangeKind, DeleteOpts, Obj, Propagation, Store,
    UpdateScope,
};
use crate::error::{ApiError, ApiResult};
use crate::resources::{kinds, ResourceType};

impl Store {
    /// Store a new object. Sets uid, resourceVersion, creationTimestamp and generation, and
    /// resolves generateName. The caller has validated and defaulted it.
    pub(crate) fn create(&self, rt: &ResourceType, mut obj: Value, dry_run: bool) -> ApiResult<Obj> {
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
                    vec![crate::error::Cause::new(
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
            let bytes = serde_json::to_string(&obj).map_or(0, |s| s.len());
            st.admit_usage(rt, &ns, &name, 1, bytes as isize)?;
            obj["metadata"]["resourceVersion"] = json!("");
            return Ok(Obj::new(obj));
        }
        let prepared = prepared.unwrap_or_else(|| Obj::prepare(obj));
        st.admit_usage(rt, &ns, &name, 1, prepared.len() as isize)?;
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
    pub(crate) fn update(&self, rt: &ResourceType, new: Value, scope: UpdateScope, dry_run: bool) -> ApiResult<Obj> {
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
                if kind == ChangeKind::Modified {
                    st.admit_usage(rt, &key.0, &key.1, 0, growth(&prepared, &old))?;
                }
                return Ok(self.commit_prepared(&mut st, kind, rt, prepared));
            }
        }
    }

    /// Change the stored object `ns/name` (while it still has `uid`, if given) with `f`, which
    /// must not rename it and may refuse (its error is returned as is); it sees the stored
    /// version it changes. The kubelet and controllers write this way (through `admission`): the
    /// object is parsed once and serialized outside the lock, and stored if nobody changed it
    /// meanwhile (else `f` runs again on the newer version). `Ok(None)` when `f` changed nothing.
    pub(crate) fn modify(
        &self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        uid: Option<&str>,
        f: impl Fn(&mut Value, &Obj) -> ApiResult<()>,
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
            f(&mut obj, &old)?;
            let prepared = Obj::prepare(obj);
            if prepared.same_text(&old) {
                return Ok(None);
            }
            let mut st = self.lock();
            if st.tables[rt.storage].get(&key).is_some_and(|cur| cur.same(&old)) {
                st.admit_usage(rt, ns, name, 0, growth(&prepared, &old))?;
                return Ok(Some(self.commit_prepared(&mut st, ChangeKind::Modified, rt, prepared)));
            }
        }
    }

    /// Delete an object, gracefully where upstream does: pods bound to a node get a
    /// deletionTimestamp and go when the kubelet confirms; objects with finalizers wait for them.
    /// Returns the object as it is after the call, and whether it is gone.
    pub(crate) fn delete(&self, rt: &ResourceType, ns: &str, name: &str, opts: &DeleteOpts) -> ApiResult<(Obj, bool)> {
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
                finals.push("foregroundDeletion".into());
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
            meta.insert("deletionTimestamp".into(), json!(crate::clock::format_time(when)));
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
    pub(crate) fn remove(&self, rt: &ResourceType, ns: &str, name: &str) -> bool {
        let mut st = self.lock();
        let Some(old) = st.tables[rt.storage].get(&(ns.to_string(), name.to_string())).cloned() else {
            return false;
        };
        self.commit(&mut st, ChangeKind::Deleted, rt, (*old).clone());
        true
    }
}

/// How many bytes longer a prepared object is than the stored one it replaces (its version aside).
fn growth(new: &super::Prepared, old: &Obj) -> isize {
    (new.len() + old.meta().resource_version().len()) as isize - old.json().len() as isize
}

pub(crate) fn finalizers(obj: &Value) -> Vec<String> {
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
