//! Replaying a record: the state of the lesson (objects, timeline, checks, steps done, the
//! YAML applied, the commands run) after any number of its events. Opening replays the whole
//! record once, keeping a checkpoint every [`CHECKPOINT`] events and the timeline's length
//! after each event, so going to any event replays at most that many from a checkpoint.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{Event as KubeEvent, PersistentVolumeClaim, Pod, Service};
use kube::ResourceExt;

use super::{CheckRecord, Header, Kind, Record, RecordError};
use crate::cluster::history::{Entry, History};
use crate::cluster::Snapshot;
use crate::grade::{CheckReport, Concern, Outcome, StepReport};

/// Events between checkpoints.
pub const CHECKPOINT: usize = 64;
/// Kubernetes Events kept in the replayed snapshot (as the watch task keeps).
const KEEP_EVENTS: usize = 200;

/// A recorded object, decoded.
#[derive(Debug, Clone)]
pub enum Object {
    Pod(Box<Pod>),
    StatefulSet(Box<StatefulSet>),
    PersistentVolumeClaim(Box<PersistentVolumeClaim>),
    Service(Box<Service>),
    Event(Box<KubeEvent>),
}

/// Decode a recorded object by its `kind`.
pub fn decode_object(v: serde_json::Value) -> Result<Object, String> {
    let kind = v.get("kind").and_then(|k| k.as_str()).unwrap_or_default().to_string();
    let bad = |e: serde_json::Error| format!("bad {kind} object: {e}");
    Ok(match kind.as_str() {
        "Pod" => Object::Pod(Box::new(serde_json::from_value(v).map_err(bad)?)),
        "StatefulSet" => Object::StatefulSet(Box::new(serde_json::from_value(v).map_err(bad)?)),
        "PersistentVolumeClaim" => Object::PersistentVolumeClaim(Box::new(serde_json::from_value(v).map_err(bad)?)),
        "Service" => Object::Service(Box::new(serde_json::from_value(v).map_err(bad)?)),
        "Event" => Object::Event(Box::new(serde_json::from_value(v).map_err(bad)?)),
        "" => return Err("object without a kind".into()),
        other => return Err(format!("object of kind {other}, which a session record does not hold")),
    })
}

/// One event of the replay.
#[derive(Debug, Clone)]
pub enum Step {
    Put(Object),
    Delete(Kind, String),
    /// Anything else, as recorded (the Put variant never appears here).
    Other(Record),
}

#[derive(Debug, Clone)]
pub struct ReplayEvent {
    pub at: jiff::Timestamp,
    pub step: Step,
    /// One line saying what happened (the review bar, search).
    pub describe: String,
    /// Whether this event begins or ends a lesson step (opened, passed).
    pub is_step_mark: bool,
    /// How many timeline entries there are after it.
    pub timeline: usize,
}

/// What the tutor showed after some events.
#[derive(Debug, Clone, Default)]
pub struct State {
    pub snapshot: std::sync::Arc<Snapshot>,
    pub reports: BTreeMap<usize, StepReport>,
    pub done: BTreeSet<usize>,
    pub attempted: BTreeSet<usize>,
    pub step: usize,
    /// The last YAML applied per step, and when.
    pub applied: BTreeMap<usize, (String, jiff::Timestamp)>,
    /// How many of the replay's commands were run by then.
    pub commands: usize,
    /// How many timeline entries there were by then.
    pub timeline: usize,
    /// Events applied.
    pub position: usize,
}

pub struct Replay {
    pub header: Header,
    pub events: Vec<ReplayEvent>,
    /// The whole timeline; the state at a position shows its first `State::timeline` entries.
    pub history: History,
    /// Every command and its output, in order.
    pub commands: Vec<(String, String)>,
    checkpoints: Vec<State>,
}

fn report_of(step: usize, id: &str, title: &str, checks: &[CheckRecord]) -> StepReport {
    let checks = checks
        .iter()
        .map(|c| {
            let outcome = match c.status.as_str() {
                "pass" => Outcome::Pass,
                "waiting" => Outcome::Waiting { what: c.text.clone().unwrap_or_default() },
                _ => Outcome::NotYet {
                    reason: c.text.clone().unwrap_or_default(),
                    concern: Concern { object: c.object.clone(), field: c.field.clone(), blank: c.blank },
                    hint: c.hint.clone(),
                },
            };
            CheckReport { name: c.name.clone(), outcome, proven: c.proven }
        })
        .collect();
    StepReport { index: step, id: id.to_string(), title: title.to_string(), checks }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or_default()
}

impl State {
    /// Apply one event; with `history`, its timeline entries are added there (opening).
    fn apply(&mut self, ev: &ReplayEvent, commands: &mut usize, history: Option<&mut History>) {
        let mut scratch = History::new(ev.at);
        let history = history.unwrap_or(&mut scratch);
        let snap = std::sync::Arc::make_mut(&mut self.snapshot);
        match &ev.step {
            Step::Put(Object::Pod(p)) => {
                let name = p.name_any();
                history.observe_pod(snap.pods.get(&name), Some(p), ev.at);
                snap.pods.insert(name, (**p).clone());
            }
            Step::Put(Object::StatefulSet(s)) => {
                let name = s.name_any();
                history.observe_set(snap.statefulsets.get(&name), Some(s), ev.at);
                snap.statefulsets.insert(name, (**s).clone());
            }
            Step::Put(Object::PersistentVolumeClaim(c)) => {
                snap.pvcs.insert(c.name_any(), (**c).clone());
            }
            Step::Put(Object::Service(s)) => {
                snap.services.insert(s.name_any(), (**s).clone());
            }
            Step::Put(Object::Event(e)) => {
                snap.events.retain(|o| o.metadata.uid != e.metadata.uid || o.metadata.name != e.metadata.name);
                snap.events.push((**e).clone());
                if snap.events.len() > KEEP_EVENTS {
                    let extra = snap.events.len() - KEEP_EVENTS;
                    snap.events.drain(..extra);
                }
            }
            Step::Delete(kind, name) => match kind {
                Kind::Pod => {
                    history.observe_pod(snap.pods.get(name), None, ev.at);
                    snap.pods.remove(name);
                }
                Kind::StatefulSet => {
                    history.observe_set(snap.statefulsets.get(name), None, ev.at);
                    snap.statefulsets.remove(name);
                }
                Kind::PersistentVolumeClaim => {
                    snap.pvcs.remove(name);
                }
                Kind::Service => {
                    snap.services.remove(name);
                }
                Kind::Event => snap.events.retain(|e| e.metadata.name.as_deref() != Some(name)),
            },
            Step::Other(r) => match r {
                Record::Apply { at, step, yaml, ok, .. } => {
                    self.attempted.insert(*step);
                    if *ok {
                        self.applied.insert(*step, (yaml.clone(), *at));
                    }
                }
                Record::Command { step, .. } => {
                    self.attempted.insert(*step);
                    *commands += 1;
                }
                Record::Checks { step, id, title, checks, .. } => {
                    self.reports.insert(*step, report_of(*step, id, title, checks));
                }
                Record::Step { step, .. } => self.step = *step,
                Record::Passed { step, .. } => {
                    self.done.insert(*step);
                }
                Record::Put { .. } | Record::Delete { .. } | Record::Truncated { .. } => {}
            },
        }
        self.position += 1;
    }
}

/// One line for an object change (entries of the timeline it made, else its state).
fn describe_put(o: &Object, entries: &[Entry]) -> String {
    if !entries.is_empty() {
        return entries.iter().map(Entry::describe).collect::<Vec<_>>().join("; ");
    }
    match o {
        Object::Pod(p) => format!("pod {} {}", p.name_any(), crate::cluster::snapshot::pod_status(p)),
        Object::StatefulSet(s) => {
            let st = s.status.clone().unwrap_or_default();
            format!("statefulset {} {}/{} ready", s.name_any(), st.ready_replicas.unwrap_or(0), st.replicas)
        }
        Object::PersistentVolumeClaim(c) => {
            let phase = c.status.as_ref().and_then(|s| s.phase.clone()).unwrap_or_else(|| "Pending".into());
            format!("claim {} {phase}", c.name_any())
        }
        Object::Service(s) => format!("service {}", s.name_any()),
        Object::Event(e) => {
            let obj = e.involved_object.name.clone().unwrap_or_default();
            let reason = e.reason.clone().unwrap_or_default();
            format!("{reason} {obj}: {}", e.message.clone().unwrap_or_default())
        }
    }
}

fn describe_other(r: &Record, header: &Header, lesson: Option<&crate::lesson::Lesson>) -> String {
    let title = |i: usize| lesson.and_then(|l| l.step(i)).map(|s| s.title.clone()).unwrap_or_default();
    match r {
        Record::Apply { step, ok: true, message, .. } => format!("applied (step {step}): {message}"),
        Record::Apply { step, ok: false, message, .. } => {
            format!("apply failed (step {step}): {}", first_line(message))
        }
        Record::Command { line, ok, .. } => {
            format!("{}{}", line.trim_start_matches("$ "), if *ok { "" } else { " (failed)" })
        }
        Record::Checks { step, checks, .. } => {
            let pass = checks.iter().filter(|c| c.status == "pass").count();
            format!("checks of step {step}: {pass}/{} pass", checks.len())
        }
        Record::Step { step, .. } => format!("opened step {step}: {}", title(*step)),
        Record::Passed { step, .. } => format!("step {step} passed: {}", title(*step)),
        Record::Truncated { bytes, .. } => format!("the record stops here (its cap, {bytes} bytes, was reached)"),
        Record::Put { .. } | Record::Delete { .. } => format!("object change in {}", header.namespace),
    }
}

/// A `put` line decoded straight into its object's type.
#[derive(serde::Deserialize)]
struct PutLine<T> {
    at: jiff::Timestamp,
    object: T,
}

fn put_as<T: serde::de::DeserializeOwned>(line: &str, wrap: fn(Box<T>) -> Object) -> Option<(jiff::Timestamp, Step)> {
    let p: PutLine<T> = serde_json::from_str(line).ok()?;
    Some((p.at, Step::Put(wrap(Box::new(p.object)))))
}

/// The fast way for the lines kubetutor writes: the kind guessed from the first `"kind"` in
/// the line and the object decoded once, into that type. `None` when the guess does not hold
/// (the general way then decodes the line, and names what is wrong).
fn decode_put_fast(line: &str) -> Option<(jiff::Timestamp, Step)> {
    if !line.starts_with("{\"type\":\"put\"") {
        return None;
    }
    // A nested `kind` (an Event's involvedObject, an owner reference) may come first: each
    // kind named is tried once, in order.
    let mut tried: Vec<&str> = Vec::new();
    for (i, _) in line.match_indices("\"kind\":\"") {
        let rest = &line[i + 8..];
        let kind = &rest[..rest.find('"')?];
        if tried.contains(&kind) {
            continue;
        }
        tried.push(kind);
        let decoded = match kind {
            "Pod" => put_as::<Pod>(line, Object::Pod),
            "StatefulSet" => put_as::<StatefulSet>(line, Object::StatefulSet),
            "PersistentVolumeClaim" => put_as::<PersistentVolumeClaim>(line, Object::PersistentVolumeClaim),
            "Service" => put_as::<Service>(line, Object::Service),
            "Event" => put_as::<KubeEvent>(line, Object::Event),
            _ => None,
        };
        if decoded.is_some() {
            return decoded;
        }
    }
    None
}

/// Read one line into an event (line numbers for errors are the caller's).
fn decode_line(line: &str) -> Result<(jiff::Timestamp, Step), String> {
    if let Some(decoded) = decode_put_fast(line) {
        return Ok(decoded);
    }
    let mut v: serde_json::Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    if v.get("type").and_then(|t| t.as_str()) == Some("put") {
        let at: jiff::Timestamp = v
            .get("at")
            .and_then(|a| a.as_str())
            .ok_or("put without \"at\"")?
            .parse()
            .map_err(|e| format!("bad \"at\": {e}"))?;
        let object = v.get_mut("object").map(serde_json::Value::take).ok_or("put without \"object\"")?;
        return Ok((at, Step::Put(decode_object(object)?)));
    }
    let r: Record = serde_json::from_value(v).map_err(|e| format!("bad event: {e}"))?;
    Ok(match r {
        Record::Delete { at, kind, name } => (at, Step::Delete(kind, name)),
        other => (other.at(), Step::Other(other)),
    })
}

impl Replay {
    /// Open the record at `path`: the lesson (for step titles) is optional. Lines are decoded
    /// on every core (decoding the objects is most of the cost), then replayed in order.
    pub fn open(path: &Path, lesson: Option<&crate::lesson::Lesson>) -> Result<Replay, RecordError> {
        let io = |source| RecordError::Io { path: path.to_path_buf(), source };
        let text = std::fs::read_to_string(path).map_err(io)?;
        let mut lines = text.lines().enumerate();
        let Some((_, first)) = lines.next() else {
            return Err(RecordError::Empty { path: path.to_path_buf() });
        };
        let header = super::parse_header(path, first)?;
        let lines: Vec<(usize, &str)> = lines.filter(|(_, l)| !l.trim().is_empty()).collect();
        let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get).min(8);
        let chunk = lines.len().div_ceil(threads).max(1);
        let decoded: Vec<Result<Vec<(jiff::Timestamp, Step)>, (usize, String)>> = std::thread::scope(|scope| {
            let workers: Vec<_> = lines
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || {
                        part.iter()
                            .map(|(i, line)| decode_line(line).map_err(|message| (i + 1, message)))
                            .collect::<Result<Vec<_>, _>>()
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().unwrap_or_else(|_| Err((0, "the decoder failed".into())))).collect()
        });
        let mut raw = Vec::with_capacity(lines.len());
        for part in decoded {
            // Parts are in file order, so the first error met is the first in the file.
            raw.extend(part.map_err(|(line, message)| RecordError::Bad { path: path.to_path_buf(), line, message })?);
        }
        Ok(Replay::build(header, raw, lesson))
    }

    /// A replay of events already decoded.
    pub fn build(header: Header, raw: Vec<(jiff::Timestamp, Step)>, lesson: Option<&crate::lesson::Lesson>) -> Replay {
        let mut history = History::new(header.started);
        let mut state = State { step: header.step, done: header.done.clone(), ..Default::default() };
        let mut checkpoints = vec![state.clone()];
        let mut events = Vec::with_capacity(raw.len());
        let mut commands = Vec::new();
        let mut count = 0;
        for (at, step) in raw {
            if let Step::Other(Record::Command { line, output, .. }) = &step {
                commands.push((line.clone(), output.clone()));
            }
            let is_step_mark = matches!(step, Step::Other(Record::Step { .. } | Record::Passed { .. }));
            let mut ev = ReplayEvent { at, step, describe: String::new(), is_step_mark, timeline: 0 };
            let before = history.entries.len();
            state.apply(&ev, &mut count, Some(&mut history));
            state.timeline = history.entries.len();
            state.commands = count;
            ev.timeline = state.timeline;
            ev.describe = match &ev.step {
                Step::Put(o) => describe_put(o, &history.entries[before..]),
                Step::Delete(..) if history.entries.len() > before => {
                    history.entries[before..].iter().map(Entry::describe).collect::<Vec<_>>().join("; ")
                }
                Step::Delete(kind, name) => format!("{kind:?} {name} gone"),
                Step::Other(r) => describe_other(r, &header, lesson),
            };
            events.push(ev);
            if state.position.is_multiple_of(CHECKPOINT) {
                checkpoints.push(state.clone());
            }
        }
        Replay { header, events, history, commands, checkpoints }
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The state after `position` events (0: as recording began).
    pub fn state_at(&self, position: usize) -> State {
        let position = position.min(self.events.len());
        let mut state = self.checkpoints[position / CHECKPOINT].clone();
        self.advance(&mut state, position);
        state
    }

    /// Move `state` forward to `position` (it must not be past it).
    pub fn advance(&self, state: &mut State, position: usize) {
        let position = position.min(self.events.len());
        let mut count = state.commands;
        while state.position < position {
            let ev = &self.events[state.position];
            state.apply(ev, &mut count, None);
            state.commands = count;
        }
        // The history made while opening knows how long the timeline was then.
        state.timeline = position.checked_sub(1).map_or(0, |i| self.events[i].timeline);
    }

    /// The next event at or after `from` whose line holds every word of `query` (any case).
    pub fn find(&self, query: &str, from: usize, forward: bool) -> Option<usize> {
        let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
        if words.is_empty() {
            return None;
        }
        let hit = |i: usize| {
            let d = self.events[i].describe.to_lowercase();
            words.iter().all(|w| d.contains(w.as_str()))
        };
        if forward {
            (from..self.events.len()).find(|&i| hit(i))
        } else {
            (0..=from.min(self.events.len().saturating_sub(1))).rev().find(|&i| hit(i))
        }
    }
}
