//! Session records: what happened while the tutor ran (the lesson namespace's objects as watch
//! events, applies with the learner's YAML, commands typed, check results, steps opened and
//! passed), one JSON object a line. The tutor's run loop feeds a recorder (`app/recorder.rs`),
//! which appends to a bounded file under the state dir; `kubetutor record export` checks and copies
//! the newest one; `kubetutor review` reads one back into a [`Replay`] (replay.rs).
//!
//! The format (version [`VERSION`]), documented in README ("Session records"):
//! the first line is a `header`; every other line is one event with its `type` and the time
//! `at` it was recorded. A reader refuses a file whose first line is not a header of this
//! format, or whose version is newer than it knows, naming the file and the line.

pub mod replay;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use replay::Replay;

/// The format name in every header.
pub const FORMAT: &str = "kubetutor-record";
/// The version this build writes and the newest it reads.
pub const VERSION: u32 = 1;
/// A session record stops growing here (a `truncated` line says so).
pub const MAX_BYTES: u64 = 32 * 1024 * 1024;
/// Session records kept per lesson; older ones are deleted when a new session starts.
pub const KEEP_SESSIONS: usize = 10;

/// The first line of a record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub format: String,
    pub version: u32,
    /// The lesson's slug (`statefulset`).
    pub lesson: String,
    pub namespace: String,
    pub started: jiff::Timestamp,
    /// The step open when recording began, and the steps already done.
    pub step: usize,
    pub done: BTreeSet<usize>,
}

/// The kind of a recorded object (the Kubernetes kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Kind {
    Pod,
    StatefulSet,
    PersistentVolumeClaim,
    Service,
    Event,
}

/// One check's result as recorded (`check --json` in shape).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckRecord {
    pub name: String,
    /// `pass`, `not_yet` or `waiting`.
    pub status: String,
    /// Why not yet, or what it waits for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blank: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    #[serde(default)]
    pub proven: bool,
}

/// One line of a record after the header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    /// An object of the lesson namespace was created or changed: its whole new version
    /// (`managedFields` left out), with `kind` and `apiVersion`.
    Put { at: jiff::Timestamp, object: serde_json::Value },
    /// An object went away.
    Delete { at: jiff::Timestamp, kind: Kind, name: String },
    /// The learner applied the editor's YAML of `step` (not dry runs); `ok` and what the
    /// server said (the objects applied, or the error).
    Apply { at: jiff::Timestamp, step: usize, yaml: String, ok: bool, message: String },
    /// A `:` command and its output (or error).
    Command { at: jiff::Timestamp, step: usize, line: String, ok: bool, output: String },
    /// The checks of `step` as graded then.
    Checks { at: jiff::Timestamp, step: usize, id: String, title: String, checks: Vec<CheckRecord> },
    /// The learner opened `step`.
    Step { at: jiff::Timestamp, step: usize },
    /// `step` passed (counts as done from here).
    Passed { at: jiff::Timestamp, step: usize },
    /// The record reached its size cap; nothing after this was recorded.
    Truncated { at: jiff::Timestamp, bytes: u64 },
}

impl Record {
    pub fn at(&self) -> jiff::Timestamp {
        match self {
            Record::Put { at, .. }
            | Record::Delete { at, .. }
            | Record::Apply { at, .. }
            | Record::Command { at, .. }
            | Record::Checks { at, .. }
            | Record::Step { at, .. }
            | Record::Passed { at, .. }
            | Record::Truncated { at, .. } => *at,
        }
    }
}

/// A record file that cannot be read, with where.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("cannot read {}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{}:{line}: {message}", path.display())]
    Bad { path: PathBuf, line: usize, message: String },
    #[error("{}: empty file, not a kubetutor session record", path.display())]
    Empty { path: PathBuf },
    #[error("no session record of lesson {lesson} under {} yet: run the tutor first", dir.display())]
    NoSession { lesson: String, dir: PathBuf },
}

/// Parse the header line (line 1 of `path`).
pub(crate) fn parse_header(path: &Path, line: &str) -> Result<Header, RecordError> {
    let bad = |message: String| RecordError::Bad { path: path.to_path_buf(), line: 1, message };
    let value: serde_json::Value = serde_json::from_str(line)
        .map_err(|e| bad(format!("not a kubetutor session record (the first line is not JSON: {e})")))?;
    if value.get("type").and_then(|t| t.as_str()) != Some("header")
        || value.get("format").and_then(|f| f.as_str()) != Some(FORMAT)
    {
        return Err(bad(format!("not a kubetutor session record (the first line is no {FORMAT} header)")));
    }
    let version = value.get("version").and_then(serde_json::Value::as_u64).unwrap_or(0);
    if version > u64::from(VERSION) {
        return Err(bad(format!(
            "record format version {version} is newer than this kubetutor reads (up to {VERSION}): update kubetutor"
        )));
    }
    serde_json::from_value(value).map_err(|e| bad(format!("bad header: {e}")))
}

/// The header of the record at `path`.
pub fn read_header(path: &Path) -> Result<Header, RecordError> {
    use std::io::BufRead;
    let io = |source| RecordError::Io { path: path.to_path_buf(), source };
    let file = std::fs::File::open(path).map_err(io)?;
    match std::io::BufReader::new(file).lines().next() {
        Some(line) => parse_header(path, &line.map_err(io)?),
        None => Err(RecordError::Empty { path: path.to_path_buf() }),
    }
}

/// Where the session records of `lesson` live.
pub fn sessions_dir(state_dir: &Path, lesson: &str) -> PathBuf {
    state_dir.join("records").join(lesson)
}

/// The newest session record of `lesson`.
pub fn latest(state_dir: &Path, lesson: &str) -> Result<PathBuf, RecordError> {
    let dir = sessions_dir(state_dir, lesson);
    let none = || RecordError::NoSession { lesson: lesson.to_string(), dir: dir.clone() };
    let entries = std::fs::read_dir(&dir).map_err(|_| none())?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    files.pop().ok_or_else(none)
}

/// `kubetutor record export`: check the record at `from` replays whole, then write it to `to`.
pub fn export(from: &Path, to: &Path) -> Result<usize, RecordError> {
    let replay = Replay::open(from, None)?;
    let text = std::fs::read_to_string(from).map_err(|source| RecordError::Io { path: from.to_path_buf(), source })?;
    std::fs::write(to, text).map_err(|source| RecordError::Io { path: to.to_path_buf(), source })?;
    Ok(replay.len())
}

/// The header line plus records as the text of a record file (tests, benchmarks, export).
pub fn to_text(header: &Header, records: &[Record]) -> String {
    let mut out = header_line(header);
    for r in records {
        out.push_str(&serde_json::to_string(r).unwrap_or_default());
        out.push('\n');
    }
    out
}

pub(crate) fn header_line(header: &Header) -> String {
    let mut v = serde_json::to_value(header).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.insert("type".into(), "header".into());
    }
    let mut s = v.to_string();
    s.push('\n');
    s
}
