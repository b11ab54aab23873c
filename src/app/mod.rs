//! The tutor application: one [`App`] owns all state; everything that happens arrives as an
//! [`Event`]; [`update`] changes the state and returns [`Effect`]s (it never awaits); the run
//! loop ([`run`]) spawns the effects, which report back as Events, and redraws only when the
//! state changed. The panes in `crate::ui` only read the App; the app never imports ui (the
//! run loops take the draw function; the words and themes are leaf modules both use).

mod commands;
mod diff;
pub mod drafts;
pub mod editor;
pub mod effects;
mod hints;
pub mod instructor;
pub mod keys;
pub mod quiz;
pub mod recorder;
pub mod review;
pub mod run;
pub mod start;
mod update;
pub mod watch;
pub mod writer;
pub mod yaml;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crossterm::event::KeyEvent;

use crate::cluster::watch::{ClusterEvent, Connection};
use crate::cluster::{History, Snapshot};
use crate::grade::StepReport;
use crate::lesson::model::Lesson;
use crate::theme::Theme;

pub use commands::code_blocks;
pub use editor::EditorState;
pub use hints::{hint_list, next_step_key};
pub use keys::{Action, Pane};
pub use update::{update, DRAFT_DELAY};

/// Something that happened: from the terminal, the clock, the cluster, or a finished effect.
#[derive(Debug)]
pub enum Event {
    Key(KeyEvent),
    Resize(u16, u16),
    /// A second passed (ages in the watch pane move on).
    Tick,
    Cluster(ClusterEvent),
    Graded(StepReport),
    Applied {
        dry_run: bool,
        result: Result<Vec<String>, ApplyFailure>,
    },
    CommandDone {
        echo: String,
        result: Result<String, String>,
    },
    Timer(Timer),
    /// A background write failed (draft, progress); the text says what.
    SaveFailed(String),
    /// Something worth a line in the lesson pane (e.g. objects restored on a fresh sandbox).
    Notice(Level, String),
    /// Text pasted into the terminal (bracketed paste).
    Paste(String),
    /// SIGTERM / SIGHUP: save and leave.
    Terminate,
    /// The draft of step `index` was read ([`Effect::LoadDraft`]).
    DraftLoaded {
        index: usize,
        loaded: drafts::Loaded,
    },
    /// A restart of step `index` finished: what was deleted, or why it failed.
    Restarted {
        index: usize,
        result: Result<Vec<String>, String>,
    },
}

/// Debounce and fade timers; each carries the generation it was set for, so only the last
/// one of a burst does anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    Grade(u64),
    SaveDraft(u64),
    Fade,
}

/// An apply that did not go through, already placed on editor lines where it names a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyFailure {
    pub message: String,
    pub marks: Vec<yaml::Mark>,
    /// Another field manager owns a field: applying again with force takes it over.
    pub conflict: bool,
}

/// What the app wants done outside itself; the run loop performs it and reports back.
#[derive(Debug)]
pub enum Effect {
    Grade {
        index: usize,
        snapshot: Arc<Snapshot>,
        history: History,
    },
    Apply {
        yaml: String,
        dry_run: bool,
        force: bool,
    },
    RunCommand {
        line: String,
        editor_text: Option<String>,
    },
    SaveDraft {
        path: PathBuf,
        text: String,
        /// Where the cursor is, kept beside the draft.
        cursor: (usize, usize),
    },
    /// Put text on the terminal's clipboard (OSC 52).
    Clipboard(String),
    SaveProgress {
        current: usize,
        done: BTreeSet<usize>,
    },
    /// A hint of step `index` was revealed (kept in the progress file).
    HintUsed {
        index: usize,
    },
    /// Delete the lesson's objects and solve the steps before `index`.
    Restart {
        index: usize,
    },
    /// Read the draft of step `index` (and its cursor); the result comes back as
    /// [`Event::DraftLoaded`].
    LoadDraft {
        index: usize,
        path: PathBuf,
    },
    /// A recap quiz question of step `step` was answered (kept in the progress file).
    QuizAnswered {
        step: usize,
        question: usize,
        answer: crate::lesson::quiz::Answer,
    },
    After {
        delay: Duration,
        timer: Timer,
    },
    Quit,
}

impl Effect {
    /// Whether the effect acts as the learner: on their cluster (apply, commands, restarts),
    /// their files (drafts, progress, hints, quiz answers) or the terminal's clipboard. An
    /// observer's runtime drops these.
    pub fn writes(&self) -> bool {
        match self {
            Effect::Apply { .. }
            | Effect::RunCommand { .. }
            | Effect::Restart { .. }
            | Effect::SaveDraft { .. }
            | Effect::SaveProgress { .. }
            | Effect::HintUsed { .. }
            | Effect::QuizAnswered { .. }
            | Effect::Clipboard(_) => true,
            Effect::Grade { .. } | Effect::LoadDraft { .. } | Effect::After { .. } | Effect::Quit => false,
        }
    }
}

/// A modal layer over the panes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Overlay {
    Help { scroll: u16 },
    Diff { title: String, lines: Vec<DiffLine>, scroll: u16 },
    Solution { scroll: u16 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffTag {
    Same,
    Added,
    Removed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffLine {
    pub tag: DiffTag,
    pub text: String,
}

/// A question waiting for y / n.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirm {
    ResetEditor,
    RunCommand {
        line: String,
        question: String,
    },
    /// Start step `index` afresh (reset or skip ahead).
    Restart {
        index: usize,
        question: String,
    },
}

/// The `:` line being typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandLine {
    pub input: String,
    /// Position in `App::command_history` while browsing with up/down.
    pub browsing: Option<usize>,
    /// The completions offered by the last Tab.
    pub completions: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Good,
    Problem,
    /// A hint just revealed (the lesson pane shows it under the checks already).
    Hint,
}

/// What the result area shows: the full output of the last command, or the full error of the
/// last apply. It sits below the editor (never over the watch pane) until closed or replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultBox {
    pub source: ResultSource,
    pub title: String,
    pub text: String,
    pub level: Level,
    /// Lines scrolled off the top.
    pub scroll: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultSource {
    Command,
    Apply,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub level: Level,
    pub text: String,
}

/// The state of the last apply, for the editor's footer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyState {
    Idle,
    DryRun,
    Applying,
    Applied(Vec<String>),
    Failed(String),
}

/// What the status bar says about the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterInfo {
    pub describe: String,
    /// The namespace the lesson's objects live in.
    pub namespace: String,
    pub kubectl_hint: Option<String>,
    pub sandbox: bool,
}

pub struct App {
    /// Watch and grade only (`--readonly`): nothing the learner does changes the cluster.
    pub readonly: bool,
    pub lesson: Arc<Lesson>,
    /// The open step.
    pub step: usize,
    /// The cursor in the step list.
    pub selected: usize,
    pub done: BTreeSet<usize>,
    pub reports: BTreeMap<usize, StepReport>,
    pub grading: bool,
    /// Steps where the learner applied or ran a command (a not-yet there shows as failing).
    pub attempted: BTreeSet<usize>,
    /// Hint tiers revealed per step.
    pub hints_shown: BTreeMap<usize, usize>,
    pub text_scroll: u16,
    /// How far the text can scroll at the size it was last drawn (the pane records it), so
    /// PgDn stops at the end and PgUp comes straight back.
    pub text_max_scroll: std::cell::Cell<u16>,
    pub editor: EditorState,
    pub apply: ApplyState,
    pub snapshot: Arc<Snapshot>,
    pub history: History,
    pub connection: Connection,
    /// Pods whose row changed, highlighted until the time given.
    pub changed: BTreeMap<String, jiff::Timestamp>,
    /// How many timeline entries back from the newest the view is.
    pub timeline_back: usize,
    pub focus: Pane,
    /// The pane shown on a narrow screen while the result area has the focus.
    pub tab: Pane,
    pub overlay: Option<Overlay>,
    /// The recap quiz, when open (over everything else).
    pub quiz: Option<quiz::Quiz>,
    /// The result area below the editor (command output, apply errors).
    pub result: Option<ResultBox>,
    /// The open step passed its checks but asks the learner to look for themselves first
    /// (run one of the commands its text names) before it counts as done.
    pub awaiting_probe: bool,
    /// Which code block of the step text `c` copied last.
    pub copied_block: Option<usize>,
    /// Columns the step text's code lines are moved sideways (`←`/`→`), and how far they can
    /// go at the width last drawn (the pane records it).
    pub code_shift: u16,
    pub code_max_shift: std::cell::Cell<u16>,
    pub command: Option<CommandLine>,
    pub command_history: Vec<String>,
    /// The commands run and what they printed, newest last (shown where a command-only step
    /// has no editor).
    pub command_log: Vec<(String, String)>,
    pub confirm: Option<Confirm>,
    /// The last apply hit a conflict: the next apply forces.
    pub force_next: bool,
    pub message: Option<Message>,
    pub cluster: ClusterInfo,
    pub theme: Theme,
    pub now: jiff::Timestamp,
    pub state_dir: PathBuf,
    pub quit: bool,
    /// Set by update when the screen must be redrawn.
    pub dirty: bool,
    grade_generation: u64,
    /// A draft save is scheduled (typing saves at most [`update::DRAFT_DELAY`] later).
    draft_pending: bool,
    /// The draft of this step is being read ([`Effect::LoadDraft`]).
    draft_loading: Option<usize>,
    /// Keys and pastes that came while the draft was being read, in order: handled once it is
    /// in, so nothing typed goes to the starter and is lost.
    waiting: Vec<Event>,
}

impl App {
    /// The learner's names as the cluster shows them now (the Service, the pods' selector),
    /// for the lesson text and hints.
    pub fn names(&self) -> crate::checks::Names {
        crate::checks::Names::find(&self.snapshot, &self.lesson.names)
    }

    /// An app on `lesson` opened at `step`, with `done` steps already passed; the draft of the
    /// step is read from `state_dir` (here, before the loop; `update` never reads).
    pub fn new(
        lesson: Arc<Lesson>,
        step: usize,
        done: BTreeSet<usize>,
        cluster: ClusterInfo,
        theme: Theme,
        state_dir: PathBuf,
    ) -> App {
        let step = step.min(lesson.steps.len().saturating_sub(1));
        let editor = EditorState::new(None, None);
        let mut app = App {
            readonly: false,
            lesson,
            step,
            selected: step,
            done,
            reports: BTreeMap::new(),
            grading: false,
            attempted: BTreeSet::new(),
            hints_shown: BTreeMap::new(),
            text_scroll: 0,
            text_max_scroll: std::cell::Cell::new(u16::MAX),
            editor,
            apply: ApplyState::Idle,
            snapshot: Arc::new(Snapshot::default()),
            history: History::default(),
            connection: Connection::Connecting,
            changed: BTreeMap::new(),
            timeline_back: 0,
            focus: Pane::Editor,
            tab: Pane::Editor,
            overlay: None,
            quiz: None,
            result: None,
            awaiting_probe: false,
            copied_block: None,
            code_shift: 0,
            code_max_shift: std::cell::Cell::new(u16::MAX),
            command: None,
            command_history: Vec::new(),
            command_log: Vec::new(),
            confirm: None,
            force_next: false,
            message: None,
            cluster,
            theme,
            now: jiff::Timestamp::now(),
            state_dir,
            quit: false,
            dirty: true,
            grade_generation: 0,
            draft_pending: false,
            draft_loading: None,
            waiting: Vec::new(),
        };
        app.open_step(step);
        app.focus = if app.editor.has_starter() { Pane::Editor } else { Pane::Lesson };
        app
    }

    /// Where the keyboard goes now (the quiz over everything, then a question, the command
    /// line, an overlay, else the focused pane): the table keys are looked up in.
    pub fn mode(&self) -> keys::Mode {
        use keys::Mode;
        if self.quiz.is_some() {
            Mode::Quiz
        } else if self.confirm.is_some() {
            Mode::Confirm
        } else if self.command.is_some() {
            Mode::CommandLine
        } else if self.overlay.is_some() {
            Mode::Overlay
        } else {
            Mode::Pane(self.focus)
        }
    }

    /// The pane a narrow screen shows (the focused one, or the last one before the result
    /// area took the focus).
    pub fn shown_pane(&self) -> Pane {
        if self.focus == Pane::Output {
            self.tab
        } else {
            self.focus
        }
    }

    /// Move the focus to `pane`, remembering which pane a narrow screen shows.
    pub fn set_focus(&mut self, pane: Pane) {
        if pane == Pane::Output && self.result.is_none() {
            return;
        }
        if self.focus != Pane::Output {
            self.tab = self.focus;
        }
        self.focus = pane;
    }

    /// The first step not yet done (where the learner's progress stands).
    pub fn frontier(&self) -> usize {
        (0..self.lesson.steps.len()).find(|i| !self.done.contains(i)).unwrap_or(self.lesson.steps.len())
    }

    /// Whether step `index` asks the learner to look for themselves before it counts: a step
    /// done with commands whose text names tutor commands (`:nslookup ...`).
    pub fn asks_to_probe(&self, index: usize) -> bool {
        self.lesson.step(index).is_some_and(|s| s.starter.is_none() && !tutor_commands(&s.text).is_empty())
    }

    /// Where the open step's draft lives.
    pub fn draft_path(&self) -> Option<PathBuf> {
        let step = self.lesson.step(self.step)?;
        Some(drafts::draft_path(&self.state_dir, &self.lesson.slug, &step.id))
    }

    /// Open step `index` with its draft read now (construction, the review, tests): the
    /// starter, then the draft of the step over it.
    pub fn open_step(&mut self, index: usize) {
        if let Some(Effect::LoadDraft { index, path }) = self.begin_step(index) {
            let loaded = drafts::read(&path);
            self.draft_loaded(index, loaded);
        }
    }

    /// Open step `index` without I/O (what `update` does): its starter in the editor, its text
    /// at the top; the draft, when the step has an editor, is read by the returned
    /// [`Effect::LoadDraft`], whose [`Event::DraftLoaded`] puts it in. Until then keys wait
    /// (`App::waiting`) and no draft is saved, so the starter never overwrites the draft.
    pub(crate) fn begin_step(&mut self, index: usize) -> Option<Effect> {
        let lesson = self.lesson.clone();
        let step = lesson.step(index)?;
        self.step = index;
        self.selected = index;
        self.text_scroll = 0;
        self.apply = ApplyState::Idle;
        self.awaiting_probe = false;
        self.copied_block = None;
        self.code_shift = 0;
        if self.result.as_ref().is_some_and(|r| r.source == ResultSource::Apply) {
            self.close_result();
        }
        self.editor = EditorState::new(step.starter.clone(), None);
        self.dirty = true;
        step.starter.as_ref()?;
        self.draft_loading = Some(index);
        Some(Effect::LoadDraft { index, path: drafts::draft_path(&self.state_dir, &self.lesson.slug, &step.id) })
    }

    /// Whether the open step's draft is still being read (keys wait for it).
    pub fn loading_draft(&self) -> bool {
        self.draft_loading.is_some()
    }

    /// The draft of step `index` was read: into the editor, if that step is still open.
    /// Returns the key events that waited for it, to be handled now.
    pub(crate) fn draft_loaded(&mut self, index: usize, loaded: drafts::Loaded) -> Vec<Event> {
        if self.draft_loading != Some(index) {
            // A later step was opened meanwhile; its own load is on the way.
            return Vec::new();
        }
        self.draft_loading = None;
        self.dirty = true;
        let starter = self.lesson.step(index).and_then(|s| s.starter.clone());
        match loaded.draft {
            drafts::Draft::Text(text) => self.editor = EditorState::new(starter, Some(text)),
            drafts::Draft::SetAside(kept) => {
                let text = format!("{} {}", crate::text::DRAFT_SET_ASIDE, kept.display());
                self.message = Some(Message { level: Level::Problem, text });
            }
            drafts::Draft::Absent | drafts::Draft::Unreadable => {}
        }
        if let Some(pos) = loaded.cursor {
            self.editor.set_cursor(pos);
        }
        std::mem::take(&mut self.waiting)
    }

    /// Close the result area; its focus goes back to the pane it came from.
    pub fn close_result(&mut self) {
        self.result = None;
        if self.focus == Pane::Output {
            self.focus = self.tab;
        }
    }

    /// The object names of the lesson (from the starters and solutions of every step), for
    /// deciding which commands need a confirmation.
    pub fn lesson_object_names(&self) -> BTreeSet<String> {
        let mut names = BTreeSet::new();
        for step in &self.lesson.steps {
            let texts = step.solution.iter().chain(step.starter.iter().map(|s| &s.text));
            for text in texts {
                for doc in serde_yaml::Deserializer::from_str(text) {
                    use serde::Deserialize;
                    if let Ok(v) = serde_yaml::Value::deserialize(doc) {
                        if let Some(n) = v.get("metadata").and_then(|m| m.get("name")).and_then(|n| n.as_str()) {
                            names.insert(n.to_string());
                        }
                    }
                }
            }
        }
        // Pods and claims of the lesson's StatefulSets belong to it too.
        for sts in self.snapshot.statefulsets.keys() {
            names.insert(sts.clone());
        }
        names
    }

    pub fn namespace(&self) -> &str {
        &self.cluster.namespace
    }

    pub fn is_lesson_object(&self, name: &str) -> bool {
        let names = self.lesson_object_names();
        if names.contains(name) {
            return true;
        }
        self.snapshot.statefulsets.keys().any(|sts| {
            crate::cluster::snapshot::ordinal(name, sts).is_some()
                || name
                    .rsplit_once('-')
                    .is_some_and(|(rest, n)| n.parse::<u32>().is_ok() && rest.ends_with(&format!("-{sts}")))
        })
    }
}

/// The commands for looking that a step text names: inline code starting with `:` that only
/// reads (`:nslookup web-0.nginx`, `:get pods`; not `:delete ...`, whose effect the checks see).
pub fn tutor_commands(markdown: &str) -> Vec<String> {
    use pulldown_cmark::{Event, Parser};
    Parser::new(markdown)
        .filter_map(|e| match e {
            Event::Code(c) if c.len() > 1 && c.starts_with(':') => Some(c[1..].to_string()),
            _ => None,
        })
        .filter(|c| commands::check(c).is_ok_and(|c| !c.destructive && !c.editor_apply))
        .collect()
}

pub use run::run;
