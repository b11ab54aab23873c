//! `kubetutor progress` on a terminal: the instructor's screen. An [`Instructor`] shows the
//! table of attendees (from their published `kubetutor-progress` ConfigMaps, followed live);
//! Enter opens a [`Live`] review of the selected attendee's namespace: the tutor's own App,
//! read-only, with its panes, live checks and timeline, on the instructor's client. The live
//! review is an observer: its grading task publishes nothing and saves nothing
//! ([`Services::observer`]), and its runtime drops every effect that would write as the
//! attendee ([`Runtime::observer`]), so reviewing leaves the attendee's namespace and files as
//! they were. The keys are `keys::ATTENDEES` and `keys::ATTENDEE`.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use crossterm::event::{KeyCode, KeyEvent};
use futures::{Stream, StreamExt};
use ratatui::backend::Backend;
use ratatui::{Frame, Terminal};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

use super::effects::Services;
use super::keys::{self, mode_lookup, ModeAction, ATTENDEE, ATTENDEES, SCREEN_QUIT};
use super::run::Runtime;
use super::{update, App, ClusterInfo, EditorState, Event, Level, Message, Pane};
use crate::cluster::progress::{self, Row};
use crate::cluster::watch::WatchHandle;
use crate::cluster::Cluster;
use crate::theme::Theme;

/// The live read-only review of one attendee.
pub struct Live {
    pub namespace: String,
    pub app: App,
    pub runtime: Runtime,
    rx: UnboundedReceiver<Event>,
    _watch: WatchHandle,
    /// The YAML last put in the editor (what the attendee applied, as the cluster has it).
    shown: Option<String>,
}

/// The instructor's screen: the table, and the live review when one is open.
pub struct Instructor {
    /// The instructor's cluster (its namespace is not used: each review has the attendee's).
    cluster: Cluster,
    pub rows: Vec<Row>,
    pub selected: usize,
    pub live: Option<Live>,
    pub theme: Theme,
    /// A line about the last thing that went wrong (a lesson that cannot be loaded).
    pub note: Option<String>,
    pub now: jiff::Timestamp,
    pub dirty: bool,
}

impl Instructor {
    /// The instructor's cluster (for the screen's title).
    pub fn cluster(&self) -> &Cluster {
        &self.cluster
    }

    pub fn new(cluster: Cluster, theme: Theme) -> Instructor {
        Instructor {
            cluster,
            rows: Vec::new(),
            selected: 0,
            live: None,
            theme,
            note: None,
            now: jiff::Timestamp::now(),
            dirty: true,
        }
    }

    /// The table changed: the selection stays on the same attendee.
    pub fn set_rows(&mut self, rows: Vec<Row>) {
        let keep = self.rows.get(self.selected).map(|r| r.namespace.clone());
        self.rows = rows;
        self.selected = keep
            .and_then(|ns| self.rows.iter().position(|r| r.namespace == ns))
            .unwrap_or(self.selected)
            .min(self.rows.len().saturating_sub(1));
        self.dirty = true;
    }

    /// Open the live review of row `index` (replacing any open one).
    pub fn open(&mut self, index: usize) {
        let Some(row) = self.rows.get(index).cloned() else { return };
        self.selected = index;
        self.live = None;
        self.dirty = true;
        let lesson = match crate::lesson::load::find(&row.progress.lesson) {
            Ok(l) => Arc::new(l),
            Err(e) => {
                self.note = Some(format!("cannot review {}: {e}", row.namespace));
                return;
            }
        };
        self.note = None;
        self.live = Some(Live::start(&self.cluster, &row, lesson, self.theme.clone()));
    }

    /// Handle a key; returns true to quit.
    pub fn key(&mut self, key: KeyEvent) -> bool {
        self.dirty = true;
        if mode_lookup(SCREEN_QUIT, &key).is_some() {
            return true;
        }
        if let Some(live) = &mut self.live {
            match live.key(key) {
                LiveMove::Stay => {}
                LiveMove::Back => self.live = None,
                LiveMove::Next | LiveMove::Prev if self.rows.is_empty() => {}
                step @ (LiveMove::Next | LiveMove::Prev) => {
                    let n = self.rows.len();
                    let here = self.rows.iter().position(|r| r.namespace == live.namespace).unwrap_or(self.selected);
                    let next = if matches!(step, LiveMove::Next) { (here + 1) % n } else { (here + n - 1) % n };
                    self.open(next);
                }
            }
            return false;
        }
        match mode_lookup(ATTENDEES, &key) {
            Some(ModeAction::Up) => self.selected = self.selected.saturating_sub(1),
            Some(ModeAction::Down) => self.selected = (self.selected + 1).min(self.rows.len().saturating_sub(1)),
            Some(ModeAction::Confirm) => self.open(self.selected),
            Some(ModeAction::Quit) => return true,
            _ => {}
        }
        false
    }

    /// Take the events the live review's tasks sent (watch, grades, timers) and perform what
    /// they ask (through the observer runtime).
    pub fn pump(&mut self) {
        if let Some(live) = &mut self.live {
            while let Ok(event) = live.rx.try_recv() {
                live.event(event);
            }
            self.dirty |= live.app.dirty;
        }
    }

    /// A second passed.
    pub fn tick(&mut self, now: jiff::Timestamp) {
        self.now = now;
        self.dirty = true;
        if let Some(live) = &mut self.live {
            live.app.now = now;
            live.event(Event::Tick);
        }
    }
}

/// What a key did in the live review.
enum LiveMove {
    Stay,
    Back,
    Next,
    Prev,
}

impl Live {
    /// Start watching and grading `row`'s namespace with `cluster`'s client.
    fn start(cluster: &Cluster, row: &Row, lesson: Arc<crate::lesson::Lesson>, theme: Theme) -> Live {
        let attendee = Cluster {
            client: cluster.client.clone(),
            namespace: row.namespace.clone(),
            backend: cluster.backend.clone(),
        };
        let steps = lesson.steps.len();
        let done: BTreeSet<usize> = (0..row.progress.step.min(steps)).collect();
        let info = ClusterInfo {
            describe: format!("live review of {} · read-only", row.namespace),
            namespace: row.namespace.clone(),
            kubectl_hint: None,
            sandbox: cluster.is_sandbox(),
        };
        // Drafts are the attendee's, on their machine: a folder that never exists.
        let no_drafts = std::env::temp_dir().join("kubetutor-instructor-no-drafts").join(&row.namespace);
        let step = row.progress.step.min(steps.saturating_sub(1));
        let mut app = App::new(lesson.clone(), step, done.clone(), info, theme, no_drafts);
        app.readonly = true;
        app.focus = Pane::Watch;
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let watch = super::start::spawn_watch(&attendee, tx.clone());
        let services = Services::observer(attendee, lesson, &done, tx.clone());
        let mut runtime = Runtime::new(tx, services);
        runtime.observer = true;
        let mut live = Live { namespace: row.namespace.clone(), app, runtime, rx, _watch: watch, shown: None };
        live.show_applied();
        live
    }

    /// Feed `event` to the App; its effects go through the observer runtime.
    pub fn event(&mut self, event: Event) {
        let quit = update(&mut self.app, event).into_iter().fold(false, |q, fx| self.runtime.perform(fx) | q);
        // The App never quits the instructor's screen (Esc/q go back; Ctrl-Q is taken before).
        self.app.quit &= !quit;
        self.show_applied();
    }

    /// The editor shows what the attendee applied for the open step: the live objects its
    /// starter describes, cut to the starter's fields (the starter itself until they exist).
    fn show_applied(&mut self) {
        let applied = applied_yaml(&self.app);
        if applied != self.shown {
            let starter = self.app.lesson.step(self.app.step).and_then(|s| s.starter.clone());
            self.app.editor = EditorState::new(starter, applied.clone());
            self.shown = applied;
            self.app.dirty = true;
        }
    }

    fn key(&mut self, key: KeyEvent) -> LiveMove {
        if self.app.quiz.is_some() {
            self.event(Event::Key(key));
            return LiveMove::Stay;
        }
        match mode_lookup(ATTENDEE, &key) {
            Some(ModeAction::NextAttendee) => return LiveMove::Next,
            Some(ModeAction::PrevAttendee) => return LiveMove::Prev,
            Some(ModeAction::Back) => return LiveMove::Back,
            Some(ModeAction::Quiz) => {
                super::quiz::open_all(&mut self.app);
                self.app.dirty = true;
                return LiveMove::Stay;
            }
            Some(ModeAction::Pane) => {
                // The panes' own keys: focus, the step list, scrolling, hints. In the editor
                // only focus and moving the cursor: nothing is typed into what they applied.
                let moves = matches!(
                    key.code,
                    KeyCode::Up | KeyCode::Down | KeyCode::Left | KeyCode::Right | KeyCode::PageUp | KeyCode::PageDown
                );
                if self.app.focus != Pane::Editor || moves || keys::lookup(Pane::Editor, &key).is_some() {
                    self.event(Event::Key(key));
                }
                return LiveMove::Stay;
            }
            Some(_) | None => {}
        }
        let keys: Vec<String> = ATTENDEE.iter().map(|b| format!("{} {}", b.label, b.help)).collect();
        let text = format!("{} {}.", crate::text::LIVE_REVIEW_ONLY, keys.join(" · "));
        self.app.message = Some(Message { level: Level::Info, text });
        self.app.dirty = true;
        LiveMove::Stay
    }
}

/// What the attendee applied for the open step, as the cluster has it now: each object of the
/// step's starter (the learner's own name where the starter leaves it blank), cut to the
/// fields the starter names; `None` when the step has no starter or nothing of it exists yet.
pub fn applied_yaml(app: &App) -> Option<String> {
    use serde::Deserialize;
    let starter = app.lesson.step(app.step)?.starter.as_ref()?;
    let names = app.names();
    let mut out = String::new();
    for doc in serde_yaml::Deserializer::from_str(&starter.text) {
        let Ok(mine) = serde_yaml::Value::deserialize(doc) else { continue };
        let kind = mine.get("kind").and_then(|k| k.as_str()).unwrap_or_default();
        let name = mine.get("metadata").and_then(|m| m.get("name")).and_then(|n| n.as_str()).unwrap_or_default();
        let snap = &app.snapshot;
        let live = match kind {
            "StatefulSet" => snap
                .statefulsets
                .get(name)
                .or_else(|| snap.statefulsets.get(&names.statefulset))
                .and_then(|o| serde_yaml::to_value(o).ok()),
            "Service" => snap
                .services
                .get(name)
                .or_else(|| snap.services.get(&names.service))
                .and_then(|o| serde_yaml::to_value(o).ok()),
            _ => None,
        };
        let Some(live) = live else { continue };
        // The object as served has no apiVersion and kind (they come from the type).
        let mut trimmed = cut_to(&mine, &live);
        if let (Some(m), Some(t)) = (mine.as_mapping(), trimmed.as_mapping_mut()) {
            for key in ["apiVersion", "kind"] {
                if let Some(v) = m.get(key) {
                    t.insert(key.into(), v.clone());
                }
            }
        }
        if !out.is_empty() {
            out.push_str("---\n");
        }
        out.push_str(&serde_yaml::to_string(&reorder(&mine, trimmed)).ok()?);
    }
    (!out.is_empty()).then(|| format!("# {} (live; read-only)\n{out}", app.namespace()))
}

/// `live` restricted to the fields `mine` names, in `mine`'s order; a map with a `???` key (a
/// label the learner chose) is kept whole.
fn cut_to(mine: &serde_yaml::Value, live: &serde_yaml::Value) -> serde_yaml::Value {
    use serde_yaml::Value;
    match (mine, live) {
        (Value::Mapping(m), Value::Mapping(l)) => {
            if m.keys().any(|k| k.as_str() == Some(crate::lesson::model::BLANK)) {
                return live.clone();
            }
            let mut out = serde_yaml::Mapping::new();
            for (k, mv) in m {
                if let Some(lv) = l.get(k) {
                    out.insert(k.clone(), cut_to(mv, lv));
                }
            }
            Value::Mapping(out)
        }
        (Value::Sequence(m), Value::Sequence(l)) => Value::Sequence(
            l.iter().enumerate().map(|(i, lv)| m.get(i).map_or_else(|| lv.clone(), |mv| cut_to(mv, lv))).collect(),
        ),
        _ => live.clone(),
    }
}

/// `apiVersion` and `kind` first, as the starter has them.
fn reorder(mine: &serde_yaml::Value, v: serde_yaml::Value) -> serde_yaml::Value {
    let (Some(m), serde_yaml::Value::Mapping(t)) = (mine.as_mapping(), &v) else { return v };
    let mut out = serde_yaml::Mapping::new();
    for k in m.keys() {
        if let Some(x) = t.get(k) {
            out.insert(k.clone(), x.clone());
        }
    }
    serde_yaml::Value::Mapping(out)
}

/// Run the screen until the instructor quits (or the input ends). `rows` brings the table
/// each time it changes.
pub async fn run<B, S>(
    terminal: &mut Terminal<B>,
    screen: &mut Instructor,
    input: S,
    rows: &mut UnboundedReceiver<Vec<Row>>,
    draw: fn(&mut Frame, &Instructor),
) -> std::io::Result<()>
where
    B: Backend,
    S: Stream<Item = Event> + Unpin,
{
    enum Got {
        Input(Option<Event>),
        Rows(Option<Vec<Row>>),
        Live(Option<Event>),
        Tick,
    }
    let mut input = input.fuse();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut rows_open = true;
    terminal.draw(|f| draw(f, screen))?;
    loop {
        let got = tokio::select! {
            e = input.next() => Got::Input(e),
            r = rows.recv(), if rows_open => Got::Rows(r),
            e = async {
                match screen.live.as_mut() {
                    Some(live) => live.rx.recv().await,
                    None => std::future::pending().await,
                }
            } => Got::Live(e),
            _ = tick.tick() => Got::Tick,
        };
        match got {
            Got::Input(Some(Event::Key(k))) => {
                if screen.key(k) {
                    return Ok(());
                }
            }
            Got::Input(Some(_)) => screen.dirty = true,
            Got::Input(None) => return Ok(()),
            Got::Rows(Some(r)) => screen.set_rows(r),
            Got::Rows(None) => {
                rows_open = false;
                screen.note = Some("the watch of progress ConfigMaps ended; the table no longer changes".into());
                screen.dirty = true;
            }
            Got::Live(Some(e)) => {
                if let Some(live) = screen.live.as_mut() {
                    live.app.now = jiff::Timestamp::now();
                    live.event(e);
                }
                screen.pump();
            }
            Got::Live(None) => {}
            Got::Tick => screen.tick(jiff::Timestamp::now()),
        }
        let live_dirty = screen.live.as_ref().is_some_and(|l| l.app.dirty);
        if screen.dirty || live_dirty {
            terminal.draw(|f| draw(f, screen))?;
            screen.dirty = false;
            if let Some(live) = screen.live.as_mut() {
                live.app.dirty = false;
            }
        }
    }
}

/// `kubetutor progress` on a terminal: follow the attendees' progress and run the screen.
/// `draw` paints the screen (`crate::ui::instructor::draw`).
pub async fn run_screen(cluster: Cluster, theme: Theme, draw: fn(&mut Frame, &Instructor)) -> Result<()> {
    use crossterm::event::{Event as TermEvent, EventStream};
    let (tx, mut rx): (UnboundedSender<Vec<Row>>, _) = tokio::sync::mpsc::unbounded_channel();
    let client = cluster.client.clone();
    let follow = tokio::spawn(async move { progress::follow(&client, |rows| drop(tx.send(rows.to_vec()))).await });
    let mut screen = Instructor::new(cluster, theme);
    {
        let _guard = super::start::take_terminal()?;
        let mut terminal = Terminal::new(ratatui::backend::CrosstermBackend::new(std::io::stdout()))?;
        let input = EventStream::new().filter_map(|e| async move {
            match e {
                Ok(TermEvent::Key(k)) => Some(Event::Key(k)),
                Ok(TermEvent::Resize(w, h)) => Some(Event::Resize(w, h)),
                _ => None,
            }
        });
        run(&mut terminal, &mut screen, Box::pin(input), &mut rx, draw).await?;
    }
    follow.abort();
    Ok(())
}
