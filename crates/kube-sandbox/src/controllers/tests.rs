//! The driver's promises, under paused time: a controller that falls behind the store's history
//! still reconciles every key (one relist on `Lagged`), every key is reconciled again at each
//! resync, and a reconcile whose write conflicts is retried at once and succeeds.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use super::driver::{Action, Driver, Reconciler, Trigger};
use super::storage::Storage;
use crate::admission;
use crate::clock::Clock;
use crate::error::ApiError;
use crate::events::Recorder;
use crate::resources::kinds;
use crate::store::{Store, UpdateScope};

/// Let spawned tasks run until they wait (paused time moves only when every task waits).
async fn settle() {
    for _ in 0..50 {
        tokio::task::yield_now().await;
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    for _ in 0..50 {
        tokio::task::yield_now().await;
    }
}

fn claim(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}})
}

fn bound(store: &Store, name: &str) -> bool {
    store.get(kinds::pvcs(), "default", name).is_some_and(|c| c["status"]["phase"] == "Bound")
}

/// Claims made while the storage controller is not looking, so many that its cursor falls out
/// of the store's history, are all bound: the driver relists on `Lagged`.
#[tokio::test(start_paused = true)]
async fn a_lagged_controller_still_reconciles_every_key() {
    const HISTORY: usize = 8;
    const CLAIMS: usize = 40;
    let store = Store::with_history(Clock::new(f64::INFINITY), HISTORY);
    crate::bootstrap::populate(&store, true);
    let task = tokio::spawn(Driver::new(Storage::new(store.clone(), Recorder::new(store.clone()))).run());
    settle().await;
    // No await between the writes: the controller sees them only after the history has moved on.
    for i in 0..CLAIMS {
        admission::create(&store, kinds::pvcs(), claim(&format!("data-{i}"))).unwrap();
    }
    settle().await;
    let unbound: Vec<String> = (0..CLAIMS).map(|i| format!("data-{i}")).filter(|n| !bound(&store, n)).collect();
    assert!(unbound.is_empty(), "claims never bound after the lag: {unbound:?}");
    task.abort();
}

/// Counts the reconciles of each ConfigMap.
struct Counter {
    store: Store,
    seen: Arc<Mutex<HashMap<String, u32>>>,
}

impl Reconciler for Counter {
    type Key = String;
    const NAME: &'static str = "counter";

    fn store(&self) -> &Store {
        &self.store
    }

    fn triggers(&self) -> Vec<Trigger<Self>> {
        vec![Trigger::new(kinds::configmaps(), |_, o, out| out.push(o.name().to_string()))]
    }

    fn reconcile(&mut self, key: &String) -> Result<Action, ApiError> {
        *self.seen.lock().unwrap().entry(key.clone()).or_default() += 1;
        Ok(Action::AwaitChange)
    }
}

fn store_with_namespace(speed: f64) -> Store {
    let store = Store::with_history(Clock::new(speed), crate::store::DEFAULT_HISTORY);
    store.create(kinds::namespaces(), json!({"metadata": {"name": "default"}}), false).unwrap();
    store
}

fn configmap(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "default"},
        "data": {"k": "v"}})
}

/// A ConfigMap nobody touches is reconciled once when made, then once again per resync period
/// (simulated time: a minute at speed 1 is a minute of paused time).
#[tokio::test(start_paused = true)]
async fn every_key_is_reconciled_again_at_each_resync() {
    let store = store_with_namespace(1.0);
    let seen = Arc::new(Mutex::new(HashMap::new()));
    let counter = Counter { store: store.clone(), seen: seen.clone() };
    let task = tokio::spawn(Driver::new(counter).resync_every(Duration::from_secs(60)).run());
    settle().await;
    admission::create(&store, kinds::configmaps(), configmap("quiet")).unwrap();
    settle().await;
    let count = |seen: &Mutex<HashMap<String, u32>>| seen.lock().unwrap().get("quiet").copied().unwrap_or(0);
    assert_eq!(count(&seen), 1, "reconciled once when made");
    tokio::time::sleep(Duration::from_secs(30)).await;
    settle().await;
    assert_eq!(count(&seen), 1, "not before the period");
    tokio::time::sleep(Duration::from_secs(31)).await;
    settle().await;
    assert_eq!(count(&seen), 2, "again at the first resync");
    tokio::time::sleep(Duration::from_secs(60)).await;
    settle().await;
    assert_eq!(count(&seen), 3, "and at the next");
    task.abort();
}

/// Writes an annotation on a ConfigMap from the version it read; on the first try someone else
/// writes the ConfigMap between the read and the write, so the write conflicts.
struct Annotator {
    store: Store,
    attempts: Arc<Mutex<u32>>,
}

impl Reconciler for Annotator {
    type Key = String;
    const NAME: &'static str = "annotator";

    fn store(&self) -> &Store {
        &self.store
    }

    fn triggers(&self) -> Vec<Trigger<Self>> {
        vec![Trigger::new(kinds::configmaps(), |_, o, out| out.push(o.name().to_string()))]
    }

    fn reconcile(&mut self, key: &String) -> Result<Action, ApiError> {
        let Some(cm) = self.store.get(kinds::configmaps(), "default", key) else { return Ok(Action::AwaitChange) };
        if cm["metadata"]["annotations"]["seen"] == "yes" {
            return Ok(Action::AwaitChange);
        }
        let attempt = {
            let mut n = self.attempts.lock().unwrap();
            *n += 1;
            *n
        };
        if attempt == 1 {
            self.store
                .modify(kinds::configmaps(), "default", key, None, |o, _| {
                    o["data"]["other"] = json!("writer");
                    Ok(())
                })
                .unwrap();
        }
        let mut new = (*cm).clone();
        new["metadata"]["annotations"] = json!({"seen": "yes"});
        admission::update(&self.store, kinds::configmaps(), new, UpdateScope::All)?;
        Ok(Action::AwaitChange)
    }
}

/// The conflicting write is retried at once (no back-off: paused time does not move) and the
/// second try succeeds, keeping the other writer's change.
#[tokio::test(start_paused = true)]
async fn a_conflicting_write_is_retried_and_succeeds() {
    let store = store_with_namespace(1.0);
    let attempts = Arc::new(Mutex::new(0));
    let task = tokio::spawn(Driver::new(Annotator { store: store.clone(), attempts: attempts.clone() }).run());
    settle().await;
    let started = tokio::time::Instant::now();
    admission::create(&store, kinds::configmaps(), configmap("c")).unwrap();
    for _ in 0..50 {
        tokio::task::yield_now().await;
    }
    assert_eq!(started.elapsed(), Duration::ZERO, "no time passed: the retry did not back off");
    let cm = store.get(kinds::configmaps(), "default", "c").unwrap();
    assert_eq!(cm["metadata"]["annotations"]["seen"], "yes", "the retry wrote: {cm:?}");
    assert_eq!(cm["data"]["other"], "writer", "over the other writer's version");
    assert_eq!(*attempts.lock().unwrap(), 2);
    task.abort();
}
