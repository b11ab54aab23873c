//! Waiting on a watched cluster: a [`Watched`] keeps the latest snapshot and the whole
//! history from the watch task, and [`wait_until`] re-grades a step on every change until it
//! passes (or a check of it does). Used by solving, `lessons validate` and the tests.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::runner::Grader;
use super::{Outcome, StepReport, StepStatus};
use crate::cluster::apply;
use crate::cluster::watch::{self, ClusterEvent, WatchHandle};
use crate::cluster::{Cluster, History, Snapshot};

/// Re-grade at least this often while waiting, even without a change (probe answers, time).
const REGRADE: Duration = Duration::from_millis(500);

/// Why solving a step, or waiting on the cluster, failed.
#[derive(Debug, thiserror::Error)]
pub enum SolveError {
    #[error("step {step}: applying {file} failed: {error}")]
    Apply { step: usize, file: String, error: apply::ApplyError },
    #[error("step {step}: `{action}` failed: {message}")]
    Action { step: usize, action: String, message: String },
    #[error("step {step} did not pass within {secs} s: {report}")]
    Timeout { step: usize, secs: u64, report: String },
    #[error("after {secs} s the cluster still shows {objects}")]
    StillThere { secs: u64, objects: String },
    #[error("the watch on the cluster stopped")]
    WatchEnded,
    #[error("cannot reset the lesson's objects: {0}")]
    Reset(kube::Error),
    #[error("there is no step {0}")]
    NoStep(usize),
}

/// The cluster as the watch task sees it: the latest snapshot and the whole history.
pub struct Watched {
    rx: mpsc::UnboundedReceiver<ClusterEvent>,
    pub snapshot: Arc<Snapshot>,
    pub history: History,
    _handle: WatchHandle,
}

impl Watched {
    /// Start watching and wait for the first complete snapshot.
    pub async fn start(cluster: &Cluster) -> Result<Watched, SolveError> {
        let (tx, rx) = mpsc::unbounded_channel();
        let handle = watch::spawn(cluster, tx);
        let mut w =
            Watched { rx, snapshot: Arc::new(Snapshot::default()), history: History::default(), _handle: handle };
        loop {
            match w.rx.recv().await {
                None => return Err(SolveError::WatchEnded),
                Some(ClusterEvent::Connection(watch::Connection::Connected)) => return Ok(w),
                Some(ev) => w.take(ev),
            }
        }
    }

    fn take(&mut self, ev: ClusterEvent) {
        if let ClusterEvent::Changed { snapshot, new_entries } = ev {
            self.snapshot = snapshot;
            self.history.entries.extend(new_entries);
        }
    }

    /// Wait up to `max` for a change, then take every change already queued.
    pub async fn settle(&mut self, max: Duration) -> Result<(), SolveError> {
        match tokio::time::timeout(max, self.rx.recv()).await {
            Ok(None) => return Err(SolveError::WatchEnded),
            Ok(Some(ev)) => self.take(ev),
            Err(_) => {}
        }
        while let Ok(ev) = self.rx.try_recv() {
            self.take(ev);
        }
        Ok(())
    }
}

impl Watched {
    /// Whether the snapshot still has any of `objects` (`Kind/name`), or pods of a StatefulSet among them.
    fn still_has(&self, objects: &[String]) -> bool {
        let s = &self.snapshot;
        objects.iter().any(|o| match o.split_once('/') {
            Some(("Pod", n)) => s.pods.contains_key(n),
            Some(("StatefulSet", n)) => s.statefulsets.contains_key(n) || !s.pods_of(n).is_empty(),
            Some(("Service", n)) => s.services.contains_key(n),
            Some(("PersistentVolumeClaim", n)) => s.pvcs.contains_key(n),
            _ => false,
        })
    }

    /// Wait until the watch has seen every one of `objects` (`Kind/name`) go.
    pub async fn wait_gone(&mut self, objects: &[String], timeout: Duration) -> Result<(), SolveError> {
        let deadline = tokio::time::Instant::now() + timeout;
        while self.still_has(objects) {
            if tokio::time::Instant::now() >= deadline {
                return Err(SolveError::StillThere { secs: timeout.as_secs(), objects: objects.join(", ") });
            }
            self.settle(REGRADE).await?;
        }
        Ok(())
    }
}

/// One line per check that has not passed: `name: reason`.
pub fn summary(report: &StepReport) -> String {
    let lines: Vec<String> = report
        .checks
        .iter()
        .filter_map(|c| match &c.outcome {
            Outcome::Pass => None,
            Outcome::NotYet { reason, .. } => Some(format!("{}: {reason}", c.name)),
            Outcome::Waiting { what } => Some(format!("{}: {what}", c.name)),
        })
        .collect();
    if lines.is_empty() {
        "all checks pass".into()
    } else {
        lines.join("; ")
    }
}

/// Grade step `index` on every change until `done(report)` holds, or fail after `timeout`.
pub async fn wait_until(
    grader: &mut Grader,
    watched: &mut Watched,
    index: usize,
    timeout: Duration,
    done: impl Fn(&StepReport) -> bool,
) -> Result<StepReport, SolveError> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let snapshot = watched.snapshot.clone();
        let report = grader.grade_step(index, &snapshot, &watched.history).await;
        if done(&report) {
            return Ok(report);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(SolveError::Timeout { step: index, secs: timeout.as_secs(), report: summary(&report) });
        }
        watched.settle(REGRADE).await?;
    }
}

/// Grade step `index` until it passes.
pub async fn wait_for_step(
    grader: &mut Grader,
    watched: &mut Watched,
    index: usize,
    timeout: Duration,
) -> Result<StepReport, SolveError> {
    wait_until(grader, watched, index, timeout, |r| r.status() == StepStatus::Pass).await
}
