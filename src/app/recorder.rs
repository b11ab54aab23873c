//! The recorder: the run loop shows it each [`Event`] before `update` and the app (with the
//! effects `update` asked for) after; it turns them into [`Record`] lines appended to the
//! session file. Objects are recorded as the difference between the snapshot it saw last and
//! the new one (a changed resourceVersion is a `put`, a name gone a `delete`). The file stops
//! at [`MAX_BYTES`] with a `truncated` line.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use kube::ResourceExt;
use serde::Serialize;

use super::{App, Effect, Event};
use crate::cluster::watch::ClusterEvent;
use crate::cluster::Snapshot;
use crate::grade::{Outcome, StepReport};
use crate::record::{self, CheckRecord, Header, Kind, Record, KEEP_SESSIONS, MAX_BYTES};

/// Appends one session's records to a file (or, for tests, to memory).
pub struct Recorder {
    out: Out,
    written: u64,
    cap: u64,
    full: bool,
    last: Arc<Snapshot>,
    /// The YAML of the apply in flight (the result comes back as an Event).
    pending_apply: Option<String>,
    step: usize,
    done: BTreeSet<usize>,
}

enum Out {
    File { path: PathBuf, file: std::fs::File },
    Memory(Vec<u8>),
}

fn strip(mut v: serde_json::Value) -> serde_json::Value {
    if let Some(meta) = v.get_mut("metadata").and_then(|m| m.as_object_mut()) {
        meta.remove("managedFields");
    }
    v
}

fn put<K: Serialize>(at: jiff::Timestamp, o: &K) -> Option<Record> {
    Some(Record::Put { at, object: strip(serde_json::to_value(o).ok()?) })
}

/// Records for what changed between two maps of objects of one kind.
fn diff_map<K: kube::Resource + Serialize>(
    at: jiff::Timestamp,
    kind: Kind,
    old: &std::collections::BTreeMap<String, K>,
    new: &std::collections::BTreeMap<String, K>,
    out: &mut Vec<Record>,
) {
    for name in old.keys() {
        if !new.contains_key(name) {
            out.push(Record::Delete { at, kind, name: name.clone() });
        }
    }
    for (name, o2) in new {
        let same = old.get(name).is_some_and(|o1| {
            o1.resource_version() == o2.resource_version() && o1.resource_version().is_some() && o1.uid() == o2.uid()
        });
        if !same {
            out.extend(put(at, o2));
        }
    }
}

/// What to record for a change from `old` to `new` at `at`.
pub fn diff(at: jiff::Timestamp, old: &Snapshot, new: &Snapshot) -> Vec<Record> {
    let mut out = Vec::new();
    diff_map(at, Kind::Service, &old.services, &new.services, &mut out);
    diff_map(at, Kind::StatefulSet, &old.statefulsets, &new.statefulsets, &mut out);
    diff_map(at, Kind::PersistentVolumeClaim, &old.pvcs, &new.pvcs, &mut out);
    diff_map(at, Kind::Pod, &old.pods, &new.pods, &mut out);
    let key = |e: &k8s_openapi::api::core::v1::Event| e.metadata.uid.clone().unwrap_or_else(|| e.name_any());
    for e in &old.events {
        if !new.events.iter().any(|n| key(n) == key(e)) {
            out.push(Record::Delete { at, kind: Kind::Event, name: e.name_any() });
        }
    }
    for e in &new.events {
        let same = old.events.iter().any(|o| key(o) == key(e) && o.resource_version() == e.resource_version());
        if !same {
            out.extend(put(at, e));
        }
    }
    out
}

/// The check results of a report, as recorded.
pub fn checks_of(report: &StepReport) -> Vec<CheckRecord> {
    report
        .checks
        .iter()
        .map(|c| {
            let mut r = CheckRecord {
                name: c.name.clone(),
                status: String::new(),
                text: None,
                object: None,
                field: None,
                blank: None,
                hint: None,
                proven: c.proven,
            };
            match &c.outcome {
                Outcome::Pass => r.status = "pass".into(),
                Outcome::NotYet { reason, concern, hint } => {
                    r.status = "not_yet".into();
                    r.text = Some(reason.clone());
                    r.object = concern.object.clone();
                    r.field = concern.field.clone();
                    r.blank = concern.blank;
                    r.hint = hint.clone();
                }
                Outcome::Waiting { what } => {
                    r.status = "waiting".into();
                    r.text = Some(what.clone());
                }
            }
            r
        })
        .collect()
}

impl Recorder {
    /// Start a new session file under `state_dir` for `header.lesson`, deleting the oldest
    /// sessions beyond [`KEEP_SESSIONS`].
    pub fn create(state_dir: &Path, header: &Header) -> std::io::Result<Recorder> {
        let dir = record::sessions_dir(state_dir, &header.lesson);
        std::fs::create_dir_all(&dir)?;
        let stamp = header.started.strftime("%Y%m%dT%H%M%S%.3fZ").to_string();
        let path = dir.join(format!("{stamp}-{}.jsonl", std::process::id()));
        let mut old: Vec<PathBuf> = std::fs::read_dir(&dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
            .collect();
        old.sort();
        while old.len() >= KEEP_SESSIONS {
            let _ = std::fs::remove_file(old.remove(0));
        }
        let mut options = std::fs::OpenOptions::new();
        options.create(true).append(true);
        // What the learner typed and what the cluster said are theirs: readable by them only.
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&path)?;
        let mut r = Recorder::with_out(Out::File { path, file }, header);
        r.write_line(record::header_line(header));
        Ok(r)
    }

    /// A recorder keeping its lines in memory (tests).
    pub fn in_memory(header: &Header) -> Recorder {
        let mut r = Recorder::with_out(Out::Memory(Vec::new()), header);
        r.write_line(record::header_line(header));
        r
    }

    fn with_out(out: Out, header: &Header) -> Recorder {
        Recorder {
            out,
            written: 0,
            cap: MAX_BYTES,
            full: false,
            last: Arc::new(Snapshot::default()),
            pending_apply: None,
            step: header.step,
            done: header.done.clone(),
        }
    }

    /// Lower the size cap (tests).
    pub fn set_cap(&mut self, bytes: u64) {
        self.cap = bytes;
    }

    /// The file this session goes to.
    pub fn path(&self) -> Option<&Path> {
        match &self.out {
            Out::File { path, .. } => Some(path),
            Out::Memory(_) => None,
        }
    }

    /// The lines written so far (in-memory recorders).
    pub fn text(&self) -> String {
        match &self.out {
            Out::Memory(b) => String::from_utf8_lossy(b).into_owned(),
            Out::File { path, .. } => std::fs::read_to_string(path).unwrap_or_default(),
        }
    }

    /// Whether the cap was reached (nothing more is recorded).
    pub fn is_full(&self) -> bool {
        self.full
    }

    fn write_line(&mut self, line: String) {
        let bytes = line.as_bytes();
        let ok = match &mut self.out {
            Out::Memory(b) => {
                b.extend_from_slice(bytes);
                true
            }
            Out::File { file, .. } => file.write_all(bytes).is_ok(),
        };
        if ok {
            self.written += bytes.len() as u64;
        }
    }

    /// Append `record`; returns a notice when this is the record that hit the cap.
    pub fn push(&mut self, record: Record) -> Option<String> {
        if self.full {
            return None;
        }
        let mut line = serde_json::to_string(&record).ok()?;
        line.push('\n');
        // Room is always kept for the truncated line.
        if self.written + line.len() as u64 + 200 > self.cap {
            self.full = true;
            let at = record.at();
            let mut end = serde_json::to_string(&Record::Truncated { at, bytes: self.written }).ok()?;
            end.push('\n');
            self.write_line(end);
            let mb = self.cap / (1024 * 1024);
            return Some(format!(
                "The session record reached its cap ({} MB); what happens from now on is not recorded.",
                mb.max(1)
            ));
        }
        self.write_line(line);
        None
    }

    /// See an event before `update` takes it.
    pub fn before(&mut self, at: jiff::Timestamp, event: &Event) -> Option<String> {
        let mut notice = None;
        match event {
            Event::Cluster(ClusterEvent::Changed { snapshot, .. }) => {
                for r in diff(at, &self.last, snapshot) {
                    notice = notice.or(self.push(r));
                }
                self.last = snapshot.clone();
            }
            Event::Applied { dry_run: false, result } => {
                if let Some(yaml) = self.pending_apply.take() {
                    let (ok, message) = match result {
                        Ok(applied) => (true, applied.join(", ")),
                        Err(f) => (false, f.message.clone()),
                    };
                    notice = self.push(Record::Apply { at, step: self.step, yaml, ok, message });
                }
            }
            Event::CommandDone { echo, result } => {
                let (ok, output) = match result {
                    Ok(o) => (true, o.clone()),
                    Err(e) => (false, e.clone()),
                };
                notice = self.push(Record::Command { at, step: self.step, line: echo.clone(), ok, output });
            }
            Event::Graded(report) => {
                notice = self.push(Record::Checks {
                    at,
                    step: report.index,
                    id: report.id.clone(),
                    title: report.title.clone(),
                    checks: checks_of(report),
                });
            }
            _ => {}
        }
        notice
    }

    /// See the app after `update`, with the effects it asked for.
    pub fn after(&mut self, at: jiff::Timestamp, app: &App, effects: &[Effect]) -> Option<String> {
        let mut notice = None;
        for e in effects {
            if let Effect::Apply { yaml, dry_run: false, .. } = e {
                self.pending_apply = Some(yaml.clone());
            }
        }
        let passed: Vec<usize> = app.done.difference(&self.done).copied().collect();
        for i in passed {
            notice = notice.or(self.push(Record::Passed { at, step: i }));
        }
        self.done = app.done.clone();
        if app.step != self.step {
            self.step = app.step;
            notice = notice.or(self.push(Record::Step { at, step: app.step }));
        }
        notice
    }
}

#[cfg(test)]
mod tests;
