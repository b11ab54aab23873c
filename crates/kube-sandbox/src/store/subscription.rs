//! Cursors over the store's change history, for controllers and watches (see `Subscription`).

use std::collections::VecDeque;
use std::sync::{Arc, Weak};

use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::Notify;

use super::{Change, Obj, Shared, Store, BATCH};
use crate::resources::ResourceType;

/// A cursor over the store's changes, for controllers and watches: every change after the
/// position it was made at, in order. Reading the history directly means a slow reader never
/// makes the store keep extra copies; one that falls out of the history gets `Lagged` once and
/// then continues from the oldest change kept, as a broadcast receiver would.
pub(crate) struct Subscription {
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
    pub(crate) async fn recv(&mut self) -> Result<Change, RecvError> {
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
    pub(crate) fn try_recv(&mut self) -> Result<Change, TryRecvError> {
        if let Some(c) = self.buf.pop_front() {
            return Ok(c);
        }
        let Some(shared) = self.shared.upgrade() else { return Err(TryRecvError::Closed) };
        let st = shared.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
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

impl Store {
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
    pub(crate) fn watch_from(&self, rv: Option<u64>) -> Result<Subscription, u64> {
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
    pub(crate) fn list_and_subscribe(&self, rt: &ResourceType, ns: Option<&str>) -> (Vec<Obj>, u64, Subscription) {
        let st = self.lock();
        let table = &st.tables[rt.storage];
        let items = table.iter().filter(|((n, _), _)| ns.is_none_or(|ns| ns == n)).map(|(_, v)| v.clone()).collect();
        (items, st.rv, self.subscription_at(st.rv))
    }

    /// A subscription to every future change, for controllers.
    pub(crate) fn subscribe(&self) -> Subscription {
        let rv = self.lock().rv;
        self.subscription_at(rv)
    }
}
