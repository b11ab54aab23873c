//! The one loop every controller and the kubelet run in, shaped like kube-runtime's
//! `Controller`: a controller declares its triggers (which changes of which kinds ask to
//! reconcile which keys) and reconciles one key at a time; the driver owns the store
//! subscription, relists on `Lagged` (every object of the watched kinds, and every key the
//! controller keeps state for, queued again), dedups queued keys, requeues after the `Action`
//! a reconcile returns, retries conflicts at once and other errors with back-off, resyncs every
//! key periodically, and (for a controller that asks) spaces out the keys whose reconcile is
//! expensive.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::fmt::Debug;
use std::hash::Hash;
use std::time::Duration;

use tokio::time::Instant;

use crate::clock::Clock;
use crate::error::ApiError;
use crate::resources::ResourceType;
use crate::store::{Change, ChangeKind, Obj, Store};

/// What a reconcile asks for next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Nothing until a trigger fires (or the next resync).
    AwaitChange,
    /// Reconcile again after this simulated duration (scaled by the clock's speed).
    RequeueAfter(Duration),
    /// Reconcile again when the clock reads this time: a wait measured on object timestamps
    /// (minReadySeconds), which move with the clock's `now`.
    RequeueAt(jiff::Timestamp),
}

impl Action {
    /// The earlier of two requests.
    pub(crate) fn min(self, other: Action, clock: Clock) -> Action {
        match (self.due(clock), other.due(clock)) {
            (None, _) => other,
            (_, None) => self,
            (Some(a), Some(b)) => {
                if a <= b {
                    self
                } else {
                    other
                }
            }
        }
    }

    /// When (in real time from now) the reconcile should run again.
    fn due(self, clock: Clock) -> Option<Duration> {
        match self {
            Action::AwaitChange => None,
            Action::RequeueAfter(d) => Some(clock.backoff(d)),
            Action::RequeueAt(t) => {
                let left = t.duration_since(clock.now());
                Some(Duration::try_from(left).unwrap_or(Duration::ZERO))
            }
        }
    }
}

/// The keys a change of an object asks to reconcile, put in the vector; the flag says whether
/// the change was the object's deletion.
type KeysOf<R> = Box<dyn Fn(&R, &Obj, bool, &mut Vec<<R as Reconciler>::Key>) + Send>;

/// One trigger: a change of an object of `kind` (or that object found on a relist) asks to
/// reconcile the keys `keys` puts in its vector.
pub(crate) struct Trigger<R: Reconciler> {
    kind: &'static ResourceType,
    keys: KeysOf<R>,
}

impl<R: Reconciler> Trigger<R> {
    pub(crate) fn new(kind: &'static ResourceType, keys: impl Fn(&R, &Obj, &mut Vec<R::Key>) + Send + 'static) -> Self {
        Trigger { kind, keys: Box::new(move |r, o, _, out| keys(r, o, out)) }
    }

    /// A trigger told whether the change was a deletion (a relist finds no deletions).
    pub(crate) fn with_deletions(
        kind: &'static ResourceType,
        keys: impl Fn(&R, &Obj, bool, &mut Vec<R::Key>) + Send + 'static,
    ) -> Self {
        Trigger { kind, keys: Box::new(keys) }
    }
}

/// A controller the driver runs.
pub(crate) trait Reconciler: Send + 'static {
    type Key: Clone + Eq + Hash + Debug + Send;
    /// The controller's name in logs.
    const NAME: &'static str;

    /// Whether expensive reconciles of a key are spaced out (see `Pacer`): for a controller
    /// woken by every change of thousands of objects that each reconcile lists (the StatefulSet
    /// controller). Others reconcile as soon as a key is queued, so that their latency does not
    /// depend on how slow the machine is.
    const PACED: bool = false;

    /// The store it reads and writes.
    fn store(&self) -> &Store;

    /// Which changes ask to reconcile which keys.
    fn triggers(&self) -> Vec<Trigger<Self>>
    where
        Self: Sized;

    /// Keys the controller keeps state for, whose objects may be gone without the controller
    /// having seen it (queued again on a relist and a resync, with every object's keys).
    fn known_keys(&self) -> Vec<Self::Key> {
        Vec::new()
    }

    /// Bring what `key` names to its desired state.
    fn reconcile(&mut self, key: &Self::Key) -> Result<Action, ApiError>;
}

/// How often every key is reconciled again, changed or not (simulated time).
pub(crate) const RESYNC: Duration = Duration::from_secs(5 * 60);

/// Resyncs are a safety net, not a heartbeat: however fast the clock runs, at most one per
/// this much real time, so a fast sandbox with thousands of objects does not spend its CPU on
/// them.
const MIN_RESYNC: Duration = Duration::from_secs(10);

/// The first back-off after an error (simulated); it doubles up to [`MAX_BACKOFF`].
const BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5 * 60);

/// Conflicts in a row retried at once before a key backs off like any other error.
const CONFLICT_RETRIES: u32 = 5;

/// Reconciles in a row before the driver lets the runtime's other tasks run.
const YIELD_EVERY: usize = 64;

/// Keys waiting to be reconciled, each at most once, in the order they were asked for.
struct Queue<K> {
    order: VecDeque<K>,
    queued: HashSet<K>,
}

impl<K: Clone + Eq + Hash> Queue<K> {
    fn push(&mut self, key: K) {
        if self.queued.insert(key.clone()) {
            self.order.push_back(key);
        }
    }

    fn pop(&mut self) -> Option<K> {
        let k = self.order.pop_front()?;
        self.queued.remove(&k);
        Some(k)
    }

    fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

/// Requeues due at a time: the earliest asked for a key wins.
struct Timers<K> {
    at: BTreeMap<(Instant, u64), K>,
    by_key: HashMap<K, (Instant, u64)>,
    seq: u64,
}

impl<K: Clone + Eq + Hash> Timers<K> {
    fn schedule(&mut self, key: K, when: Instant) {
        if let Some(&(cur, seq)) = self.by_key.get(&key) {
            if cur <= when {
                return;
            }
            self.at.remove(&(cur, seq));
        }
        self.seq += 1;
        self.at.insert((when, self.seq), key.clone());
        self.by_key.insert(key, (when, self.seq));
    }

    fn next(&self) -> Option<Instant> {
        self.at.keys().next().map(|(t, _)| *t)
    }

    fn pop_due(&mut self, now: Instant) -> Vec<K> {
        let mut due = Vec::new();
        while let Some(entry) = self.at.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let k = entry.remove();
            self.by_key.remove(&k);
            due.push(k);
        }
        due
    }
}

/// Spaces out the reconciles of keys whose reconcile is expensive (a set of thousands of pods),
/// so that a controller woken by every pod change spends at most about a fifth of its time on
/// one key and leaves the CPU to the kubelet and the rest; changes arriving meanwhile are merged
/// into the next reconcile. Cheap reconciles (every lesson-sized object) are never held back.
struct Pacer<K> {
    free_at: HashMap<K, Instant>,
}

impl<K: Hash + Eq> Pacer<K> {
    /// Below this, a key is reconciled again as soon as something changes.
    const CHEAP: Duration = Duration::from_micros(500);
    /// Time left to the others per unit of reconcile time.
    const REST: u32 = 4;

    fn ran(&mut self, key: K, took: Duration) {
        if took >= Self::CHEAP {
            self.free_at.insert(key, Instant::now() + took * Self::REST);
        } else {
            self.free_at.remove(&key);
        }
    }

    /// Whether `key` must wait before its next reconcile.
    fn holds(&mut self, key: &K) -> bool {
        if self.free_at.is_empty() {
            return false;
        }
        let now = Instant::now();
        self.free_at.retain(|_, at| *at > now);
        self.free_at.contains_key(key)
    }

    /// When the first held key may be reconciled again.
    fn next_free(&self) -> Option<Instant> {
        self.free_at.values().min().copied()
    }
}

/// Sleep until `at`, or forever when there is no `at`.
async fn until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// The driver of one controller; [`Driver::run`] until the store is gone.
pub(crate) struct Driver<R: Reconciler> {
    r: R,
    triggers: Vec<Trigger<R>>,
    clock: Clock,
    resync: Duration,
    queue: Queue<R::Key>,
    timers: Timers<R::Key>,
    pacer: Pacer<R::Key>,
    /// Errors in a row per key (conflicts and others), for the back-off.
    failures: HashMap<R::Key, u32>,
}

impl<R: Reconciler> Driver<R> {
    pub(crate) fn new(r: R) -> Self {
        let triggers = r.triggers();
        let clock = r.store().clock();
        Driver {
            r,
            triggers,
            clock,
            resync: RESYNC,
            queue: Queue { order: VecDeque::new(), queued: HashSet::new() },
            timers: Timers { at: BTreeMap::new(), by_key: HashMap::new(), seq: 0 },
            pacer: Pacer { free_at: HashMap::new() },
            failures: HashMap::new(),
        }
    }

    /// Resync every `period` of simulated time instead of [`RESYNC`].
    #[cfg(test)]
    pub(crate) fn resync_every(mut self, period: Duration) -> Self {
        self.resync = period;
        self
    }

    /// When the next resync is due.
    fn next_resync(&self) -> Instant {
        Instant::now() + self.clock.backoff(self.resync).max(MIN_RESYNC)
    }

    /// Queue the keys a change asks for.
    fn on_change(&mut self, c: &Change) {
        let mut keys = Vec::new();
        let deleted = c.kind == ChangeKind::Deleted;
        for t in self.triggers.iter().filter(|t| t.kind.storage == c.storage) {
            (t.keys)(&self.r, &c.object, deleted, &mut keys);
        }
        for k in keys {
            self.queue.push(k);
        }
    }

    /// Queue every key again: the keys of every object of the watched kinds, and the keys the
    /// controller keeps state for. The one answer to a lag, and what a resync does.
    fn relist(&mut self) {
        let mut keys = Vec::new();
        let mut listed = HashSet::new();
        for t in &self.triggers {
            // Each kind is listed once, and its objects go through every trigger on it.
            if !listed.insert(t.kind.storage) {
                continue;
            }
            let (objects, _) = self.r.store().list(t.kind, None);
            for t in self.triggers.iter().filter(|x| x.kind.storage == t.kind.storage) {
                for o in &objects {
                    (t.keys)(&self.r, o, false, &mut keys);
                }
            }
        }
        keys.extend(self.r.known_keys());
        for k in keys {
            self.queue.push(k);
        }
    }

    fn finished(&mut self, key: R::Key, result: Result<Action, ApiError>) {
        match result {
            Ok(action) => {
                self.failures.remove(&key);
                if let Some(after) = action.due(self.clock) {
                    self.timers.schedule(key, Instant::now() + after);
                }
            }
            Err(e) => {
                let n = self.failures.entry(key.clone()).or_default();
                *n += 1;
                let n = *n;
                if e.code == 409 && n <= CONFLICT_RETRIES {
                    tracing::debug!(controller = R::NAME, ?key, attempt = n, "conflict, retrying: {}", e.message);
                    self.queue.push(key);
                    return;
                }
                let simulated = BACKOFF.saturating_mul(1 << (n - 1).min(16)).min(MAX_BACKOFF);
                tracing::warn!(
                    controller = R::NAME,
                    ?key,
                    failures = n,
                    "reconcile failed, retrying in {simulated:?} (simulated): {} {}",
                    e.code,
                    e.message
                );
                self.timers.schedule(key, Instant::now() + self.clock.backoff(simulated));
            }
        }
    }

    /// Reconcile every queued key not held by the pacer.
    async fn drain(&mut self) {
        let mut held = Vec::new();
        let mut ran = 0;
        while let Some(key) = self.queue.pop() {
            if R::PACED && self.pacer.holds(&key) {
                held.push(key);
                continue;
            }
            let started = Instant::now();
            let result = self.r.reconcile(&key);
            if R::PACED {
                self.pacer.ran(key.clone(), started.elapsed());
            }
            self.finished(key, result);
            ran += 1;
            if ran % YIELD_EVERY == 0 {
                tokio::task::yield_now().await;
            }
        }
        for k in held {
            self.queue.push(k);
        }
    }

    /// Run until the store's change stream closes.
    pub(crate) async fn run(mut self) {
        use tokio::sync::broadcast::error::{RecvError, TryRecvError};
        let mut changes = self.r.store().subscribe();
        self.relist();
        let mut next_resync = self.next_resync();
        loop {
            self.drain().await;
            let held_until = if self.queue.is_empty() { None } else { self.pacer.next_free() };
            tokio::select! {
                c = changes.recv() => match c {
                    Ok(c) => {
                        self.on_change(&c);
                        // Take everything already there before reconciling: one pass per burst.
                        loop {
                            match changes.try_recv() {
                                Ok(c) => self.on_change(&c),
                                Err(TryRecvError::Lagged(_)) => self.relist(),
                                Err(_) => break,
                            }
                        }
                    }
                    Err(RecvError::Lagged(_)) => self.relist(),
                    Err(RecvError::Closed) => return,
                },
                () = until(self.timers.next()) => {
                    for k in self.timers.pop_due(Instant::now()) {
                        self.queue.push(k);
                    }
                }
                () = tokio::time::sleep_until(next_resync) => {
                    self.relist();
                    next_resync = self.next_resync();
                }
                () = until(held_until) => {}
            }
        }
    }
}
