//! `kubetutor review [FILE]`: the tutor's three panes on a session record, no cluster needed.
//! A [`Review`] owns a read-only [`App`] and a [`Replay`]; its keys move through time (event by
//! event, step by step, play at 1x/4x/16x, search), and every move puts the replayed state
//! (objects, timeline, checks, steps done, the YAML applied then, commands run) into the App,
//! which the usual panes draw. The status bar becomes the review bar: where in the record the
//! screen stands and the review keys.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use futures::{Stream, StreamExt};
use ratatui::backend::Backend;
use ratatui::{Frame, Terminal};

use super::keys::{mode_lookup, ReviewAction, SearchAction, REVIEW, REVIEW_SEARCH};
use super::{update, App, ClusterInfo, EditorState, Event, Overlay, Pane};
use crate::cluster::watch::Connection;
use crate::cluster::History;
use crate::record::replay::State;
use crate::record::Replay;
use crate::theme::{Theme, ThemeName};

/// Timeline entries given to the watch pane at each moment (its scroll-back in review).
const TIMELINE_KEPT: usize = 500;
/// Play speeds, in turn.
pub const SPEEDS: [u32; 3] = [1, 4, 16];
/// The longest wait between two events while playing at 1x (a pause in the session is not
/// replayed whole).
const MAX_GAP: Duration = Duration::from_secs(2);
/// The shortest, so a burst of events is still seen to happen.
const MIN_GAP: Duration = Duration::from_millis(100);

/// Which record `kubetutor review` opens; the command line fills it in.
#[derive(Debug, Clone)]
pub struct ReviewOptions {
    /// The record to review (an exported file); default: your own last session of the lesson.
    pub file: Option<PathBuf>,
    /// The lesson whose last session to open when no FILE is given.
    pub lesson: String,
    /// An extra folder of lessons (or one lesson folder), where the record's lesson may be.
    pub lessons_dir: Option<PathBuf>,
    pub theme: ThemeName,
}

pub struct Review {
    pub app: App,
    pub replay: Replay,
    state: State,
    pub playing: bool,
    pub speed: u32,
    /// The search being typed.
    pub search: Option<String>,
    /// The last search, for n / N.
    pub query: Option<String>,
    /// A line about the last move (no match, the end).
    pub note: Option<String>,
    shown_yaml: Option<Option<String>>,
}

impl Review {
    /// A review of `replay` (of `lesson`), opened before its first event. `source` names the
    /// record in the status bar.
    pub fn new(replay: Replay, lesson: Arc<crate::lesson::Lesson>, theme: Theme, source: &Path) -> Review {
        let header = replay.header.clone();
        let info = ClusterInfo {
            describe: format!(
                "review of {} · recorded {} · ns {}",
                source.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default(),
                header.started.strftime("%Y-%m-%d %H:%M UTC"),
                header.namespace
            ),
            namespace: header.namespace.clone(),
            kubectl_hint: None,
            sandbox: false,
        };
        // Drafts are not the session's: a directory under the record file never exists.
        let no_drafts = source.join("no-drafts");
        let mut app = App::new(lesson, header.step, header.done.clone(), info, theme, no_drafts);
        app.readonly = true;
        app.connection = Connection::Connected;
        app.focus = Pane::Watch;
        let state = replay.state_at(0);
        let mut review = Review {
            app,
            replay,
            state,
            playing: false,
            speed: 1,
            search: None,
            query: None,
            note: None,
            shown_yaml: None,
        };
        review.show();
        review
    }

    /// How many events are applied (0: as recording began).
    /// The replayed state the screen shows.
    pub fn state(&self) -> &State {
        &self.state
    }

    pub fn position(&self) -> usize {
        self.state.position
    }

    /// Go to just after event `position` - 1 (clamped to the record).
    pub fn goto(&mut self, position: usize) {
        let position = position.min(self.replay.len());
        let near =
            position >= self.state.position && position - self.state.position < crate::record::replay::CHECKPOINT;
        if near {
            self.replay.advance(&mut self.state, position);
        } else {
            self.state = self.replay.state_at(position);
        }
        self.show();
    }

    /// When the screen stands (the time of the last event applied).
    pub fn time(&self) -> jiff::Timestamp {
        match self.state.position.checked_sub(1) {
            Some(i) => self.replay.events[i].at,
            None => self.replay.header.started,
        }
    }

    /// Put the replayed state into the App.
    fn show(&mut self) {
        let now = self.time_of(self.state.position);
        let st = &self.state;
        let app = &mut self.app;
        app.now = now;
        app.snapshot = st.snapshot.clone();
        // The newest entries are what the timeline shows (and scrolls back through).
        let mut history = History::new(self.replay.header.started);
        history.entries = self.replay.history.entries[st.timeline.saturating_sub(TIMELINE_KEPT)..st.timeline].to_vec();
        app.history = history;
        app.reports = st.reports.clone();
        app.done = st.done.clone();
        app.attempted = st.attempted.clone();
        app.timeline_back = 0;
        let step_changed = app.step != st.step;
        if step_changed {
            let focus = app.focus;
            app.open_step(st.step);
            app.focus = focus;
        }
        let applied = st.applied.get(&st.step).map(|(y, _)| y.clone());
        if step_changed || self.shown_yaml.as_ref() != Some(&applied) {
            let starter = app.lesson.step(st.step).and_then(|s| s.starter.clone());
            app.editor = EditorState::new(starter, applied.clone());
            self.shown_yaml = Some(applied);
        }
        app.command_log = self.replay.commands[..st.commands].to_vec();
        app.dirty = true;
    }

    fn time_of(&self, position: usize) -> jiff::Timestamp {
        match position.checked_sub(1) {
            Some(i) => self.replay.events[i].at,
            None => self.replay.header.started,
        }
    }

    /// `+M:SS` since recording began.
    pub fn offset(&self, at: jiff::Timestamp) -> String {
        let secs = (at.as_second() - self.replay.header.started.as_second()).max(0);
        format!("+{}:{:02}", secs / 60, secs % 60)
    }

    /// Handle a key; returns true to quit.
    pub fn key(&mut self, key: KeyEvent) -> bool {
        self.app.dirty = true;
        if let Some(input) = &mut self.search {
            match mode_lookup(REVIEW_SEARCH, &key) {
                Some(SearchAction::Cancel) => self.search = None,
                Some(SearchAction::Find) => {
                    let q = input.clone();
                    self.search = None;
                    self.query = Some(q);
                    self.find(true, true);
                }
                Some(SearchAction::Erase) => {
                    input.pop();
                }
                None => match key.code {
                    KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => input.push(c),
                    _ => {}
                },
            }
            return false;
        }
        let action = mode_lookup(REVIEW, &key);
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && action == Some(ReviewAction::Quit) {
            return true;
        }
        if self.app.quiz.is_some() {
            // Answers are the reviewer's own: kept in their progress file.
            let mut fx = Vec::new();
            super::quiz::on_key(&mut self.app, key, &mut fx);
            for effect in fx {
                if let super::Effect::QuizAnswered { step, question, answer } = effect {
                    self.note = keep_answer(&self.app.lesson, step, question, answer).err();
                }
            }
            return false;
        }
        if self.app.overlay.is_some() {
            // The overlay's own keys (scroll, close) change nothing outside it.
            let _ = update(&mut self.app, Event::Key(key));
            return false;
        }
        self.note = None;
        let pos = self.position();
        let Some(action) = action else { return false };
        match action {
            ReviewAction::Quit => return true,
            ReviewAction::NextEvent => self.goto(pos + 1),
            ReviewAction::PrevEvent => self.goto(pos.saturating_sub(1)),
            ReviewAction::NextMark => {
                let next = (pos..self.replay.len()).find(|&i| self.replay.events[i].is_step_mark);
                match next {
                    Some(i) => self.goto(i + 1),
                    None => self.note = Some("no step mark after this".into()),
                }
            }
            ReviewAction::PrevMark => {
                let prev = (0..pos.saturating_sub(1)).rev().find(|&i| self.replay.events[i].is_step_mark);
                self.goto(prev.map_or(0, |i| i + 1));
            }
            ReviewAction::Play => self.playing = !self.playing && pos < self.replay.len(),
            ReviewAction::Speed => {
                let i = SPEEDS.iter().position(|&s| s == self.speed).unwrap_or(0);
                self.speed = SPEEDS[(i + 1) % SPEEDS.len()];
            }
            ReviewAction::Search => self.search = Some(String::new()),
            ReviewAction::NextMatch => self.find(true, false),
            ReviewAction::PrevMatch => self.find(false, false),
            ReviewAction::First => self.goto(0),
            ReviewAction::Last => self.goto(self.replay.len()),
            ReviewAction::Solution => self.app.overlay = Some(Overlay::Solution { scroll: 0 }),
            ReviewAction::Quiz => super::quiz::open_all(&mut self.app),
            ReviewAction::Pane => {
                // Focus and scrolling are the panes' own keys; nothing they do reaches a cluster.
                let _ = update(&mut self.app, Event::Key(key));
            }
        }
        false
    }

    /// Find the last query forward or back; `here` includes the event the screen stands on
    /// after (a new search starts from the next event).
    fn find(&mut self, forward: bool, new: bool) {
        let Some(q) = self.query.clone() else {
            self.note = Some("no search yet: / to search".into());
            return;
        };
        let pos = self.position();
        let found = if forward {
            self.replay.find(&q, if new { pos } else { pos.max(1) }, true)
        } else {
            pos.checked_sub(2).and_then(|from| self.replay.find(&q, from, false))
        };
        match found {
            Some(i) => self.goto(i + 1),
            None => self.note = Some(format!("“{q}” not found {}", if forward { "after this" } else { "before this" })),
        }
    }

    /// How long until the next event while playing.
    pub fn play_delay(&self) -> Option<Duration> {
        if !self.playing {
            return None;
        }
        let pos = self.position();
        let next = self.replay.events.get(pos)?;
        let gap = next.at.duration_since(self.time_of(pos)).unsigned_abs().clamp(MIN_GAP, MAX_GAP);
        Some(gap / self.speed)
    }

    /// Playing: the next event is due.
    pub fn play_tick(&mut self) {
        let pos = self.position();
        self.goto(pos + 1);
        if self.position() >= self.replay.len() {
            self.playing = false;
            self.note = Some("end of the record".into());
        }
    }
}

/// Keep a quiz answer given in review in the reviewer's progress of the lesson.
fn keep_answer(
    lesson: &crate::lesson::Lesson,
    step: usize,
    question: usize,
    mut answer: crate::lesson::quiz::Answer,
) -> Result<(), String> {
    // The screen's clock is the record's; the answer is given now.
    answer.at = jiff::Timestamp::now();
    use crate::lesson::progress::Progress;
    let mut progress = Progress::load(&lesson.slug).map_err(|e| e.to_string())?;
    progress.answer_quiz(lesson, step, question, answer);
    progress.save().map_err(|e| format!("the quiz answer is not kept: {e}"))
}

/// Run the review until the reviewer quits (or the input ends).
pub async fn run<B, S>(
    terminal: &mut Terminal<B>,
    review: &mut Review,
    input: S,
    draw: fn(&mut Frame, &Review),
) -> std::io::Result<()>
where
    B: Backend,
    S: Stream<Item = Event> + Unpin,
{
    let mut input = input.fuse();
    terminal.draw(|f| draw(f, review))?;
    loop {
        let delay = review.play_delay();
        tokio::select! {
            e = input.next() => match e {
                Some(Event::Key(k)) => {
                    if review.key(k) {
                        return Ok(());
                    }
                }
                Some(Event::Resize(..)) => review.app.dirty = true,
                Some(_) => continue,
                None => return Ok(()),
            },
            _ = tokio::time::sleep(delay.unwrap_or_default()), if delay.is_some() => review.play_tick(),
        }
        if review.app.dirty {
            terminal.draw(|f| draw(f, review))?;
            review.app.dirty = false;
        }
    }
}

/// Open the record named by `args` (or the learner's last session) as a [`Review`].
pub fn open(args: &ReviewOptions) -> Result<Review> {
    let path = match &args.file {
        Some(p) => p.clone(),
        None => crate::record::latest(&crate::state::state_dir(), &args.lesson)?,
    };
    let header_lesson = crate::record::read_header(&path)?.lesson;
    let lesson =
        Arc::new(crate::lesson::load::find_in(&header_lesson, args.lessons_dir.as_deref()).with_context(|| {
            format!("{}: the record is of lesson {header_lesson}, which cannot be loaded", path.display())
        })?);
    let replay = Replay::open(&path, Some(&lesson))?;
    let theme = Theme::pick(args.theme, Theme::no_color_env());
    Ok(Review::new(replay, lesson, theme, &path))
}

/// `kubetutor review`: take over the terminal and run the review.
/// `draw` paints the screen (`crate::ui::review::draw`).
pub async fn run_review(args: &ReviewOptions, draw: fn(&mut Frame, &Review)) -> Result<()> {
    use crossterm::event::{Event as TermEvent, EventStream};
    let mut review = open(args)?;
    let _guard = super::start::take_terminal()?;
    let mut terminal = Terminal::new(ratatui::backend::CrosstermBackend::new(std::io::stdout()))?;
    let input = EventStream::new().filter_map(|e| async move {
        match e {
            Ok(TermEvent::Key(k)) => Some(Event::Key(k)),
            Ok(TermEvent::Resize(w, h)) => Some(Event::Resize(w, h)),
            _ => None,
        }
    });
    run(&mut terminal, &mut review, Box::pin(input), draw).await?;
    Ok(())
}
