//! The sandbox's controllers: StatefulSet, storage (PV binding), endpoints, scheduler and the
//! simulated kubelet. Each is a task woken by the store's change stream (no polling), writing
//! through the same admission as API requests, and recording upstream-style Events.

pub mod endpoints;
pub mod events;
pub mod revision;
pub mod scheduler;
pub mod statefulset;
pub mod storage;

pub use events::Reporter;

use serde_json::Value;

use super::admission;
use super::error::ApiResult;
use super::resources::ResourceType;
use super::store::{Obj, Store};

/// Create an object as a controller: defaulted and validated like an API request.
pub fn create(store: &Store, rt: &ResourceType, mut obj: Value) -> ApiResult<Obj> {
    admission::admit(store, rt, &mut obj, None)?;
    store.create(rt, obj, false)
}

/// Whether `o` has a controller ownerReference to the object with `uid`.
pub fn controlled_by(o: &Value, uid: &str) -> bool {
    o.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|refs| refs.iter().any(|r| r["uid"] == uid && r["controller"] == true))
}

/// The uid of an object's controller, if any.
pub fn controller_uid(o: &Value) -> Option<&str> {
    o.pointer("/metadata/ownerReferences")?.as_array()?.iter().find(|r| r["controller"] == true)?.get("uid")?.as_str()
}
