//! The effects that reach outside the app: grading, apply and `:` commands against the
//! cluster, and the progress store. Each spawns a task that reports back as an [`Event`].

use std::collections::BTreeSet;
use std::sync::Arc;

use tokio::sync::mpsc::UnboundedSender;

use super::Event;
use crate::cluster::{Cluster, History, Snapshot};

pub struct Services {
    pub cluster: Option<Cluster>,
}

impl Services {
    pub fn grade(&self, _index: usize, _snapshot: Arc<Snapshot>, _history: History, _tx: UnboundedSender<Event>) {}
    pub fn apply(&self, _yaml: String, _dry_run: bool, _tx: UnboundedSender<Event>) {}
    pub fn command(&self, _line: String, _editor_text: Option<String>, _tx: UnboundedSender<Event>) {}
    pub fn save_progress(&self, _current: usize, _done: &BTreeSet<usize>) -> std::io::Result<()> {
        Ok(())
    }
}
