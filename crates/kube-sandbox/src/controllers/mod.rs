//! The sandbox's controllers: StatefulSet, storage (PV binding), endpoints, scheduler and the
//! simulated kubelet. Each is a task woken by the store's change stream (no polling), writing
//! through the same admission as API requests, and recording upstream-style Events.

pub(crate) mod endpoints;
pub(crate) mod revision;
pub(crate) mod scheduler;
pub(crate) mod serviceaccounts;
pub(crate) mod statefulset;
pub(crate) mod storage;

pub(crate) use crate::events::Reporter;

use std::collections::HashMap;
use std::hash::Hash;
use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

use super::admission;
use super::error::ApiResult;
use super::resources::ResourceType;
use super::store::{Obj, Store};

/// Create an object as a controller: defaulted and validated like an API request.
pub(crate) fn create(store: &Store, rt: &ResourceType, mut obj: Value) -> ApiResult<Obj> {
    admission::admit(store, rt, &mut obj, None)?;
    store.create(rt, obj, false)
}

/// Spaces out the syncs of keys whose sync is expensive (a set of thousands of pods), so that a
/// controller woken by every pod change spends at most about a fifth of its time syncing one key
/// and leaves the CPU to the kubelet and the rest; changes arriving meanwhile are merged into the
/// next sync. Cheap syncs (every lesson-sized object) are never held back.
#[derive(Default)]
pub(crate) struct Pacer<K> {
    free_at: HashMap<K, Instant>,
}

impl<K: Hash + Eq> Pacer<K> {
    /// Below this, a sync runs again as soon as something changes.
    const CHEAP: Duration = Duration::from_micros(500);
    /// Time left to the others per unit of sync time.
    const REST: u32 = 4;

    pub(crate) fn ran(&mut self, key: K, took: Duration) {
        if took >= Self::CHEAP {
            self.free_at.insert(key, Instant::now() + took * Self::REST);
        } else {
            self.free_at.remove(&key);
        }
    }

    /// Whether `key` must wait before its next sync.
    pub(crate) fn holds(&mut self, key: &K) -> bool {
        let now = Instant::now();
        self.free_at.retain(|_, at| *at > now);
        self.free_at.contains_key(key)
    }

    /// Resolves when the first held key may sync again (never when none is held).
    pub(crate) async fn next_free(&self) {
        match self.free_at.values().min() {
            Some(at) => tokio::time::sleep_until(*at).await,
            None => std::future::pending().await,
        }
    }
}
