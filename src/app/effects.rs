//! The effects that reach outside the app: grading, apply and `:` commands against the
//! cluster, and the progress store. Each spawns a task that reports back as an [`Event`].

use std::collections::BTreeSet;
use std::sync::Arc;

use tokio::sync::mpsc::UnboundedSender;

use super::yaml::{line_of_path, Mark};
use super::{ApplyFailure, Event};
use crate::cluster::apply::{self, ApplyError, ApplyOptions};
use crate::cluster::{Cluster, History, Snapshot};

pub struct Services {
    pub cluster: Option<Cluster>,
}

/// Place an apply error on the editor's lines: the YAML position if it has one, else the line
/// of each field it names, else the document's `metadata.name`.
pub fn apply_failure(yaml: &str, e: &ApplyError) -> ApplyFailure {
    let mut marks = Vec::new();
    if let Some((line, column)) = e.position {
        marks.push(Mark {
            line: line.saturating_sub(1),
            column: Some(column.saturating_sub(1)),
            message: e.message.clone(),
        });
    }
    for cause in &e.causes {
        if cause.field.is_empty() {
            continue;
        }
        if let Some(line) = line_of_path(yaml, e.document, &cause.field) {
            marks.push(Mark { line, column: None, message: format!("{}: {}", cause.field, cause.message) });
        }
    }
    if marks.is_empty() {
        let line = line_of_path(yaml, e.document, "metadata.name")
            .or_else(|| super::yaml::document_starts(yaml).get(e.document).copied())
            .unwrap_or(0);
        marks.push(Mark { line, column: None, message: e.message.clone() });
    }
    ApplyFailure { message: e.to_string().replace('\n', " "), marks }
}

impl Services {
    pub fn grade(&self, _index: usize, _snapshot: Arc<Snapshot>, _history: History, _tx: UnboundedSender<Event>) {}

    pub fn apply(&self, yaml: String, dry_run: bool, tx: UnboundedSender<Event>) {
        let Some(cluster) = self.cluster.clone() else { return };
        tokio::spawn(async move {
            let result = apply::apply_manifests(&cluster, &yaml, ApplyOptions { dry_run, force: false }).await;
            let result =
                result.map(|a| a.iter().map(ToString::to_string).collect()).map_err(|e| apply_failure(&yaml, &e));
            let _ = tx.send(Event::Applied { dry_run, result });
        });
    }

    pub fn command(&self, _line: String, _editor_text: Option<String>, _tx: UnboundedSender<Event>) {}

    pub fn save_progress(&self, _current: usize, _done: &BTreeSet<usize>) -> std::io::Result<()> {
        Ok(())
    }
}
