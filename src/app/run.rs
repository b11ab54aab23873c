//! The run loop: waits for the next [`Event`] (terminal input, effect results, a 1 s tick),
//! passes it to [`update`], hands the returned effects to the [`Runtime`], and redraws only when
//! the state changed. Generic over the ratatui backend and the input stream, so tests drive it
//! with a `TestBackend` and scripted keys.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEventKind, KeyModifiers};
use futures::{FutureExt, Stream, StreamExt};
use ratatui::backend::Backend;
use ratatui::{Frame, Terminal};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

use super::effects::Services;
use super::{drafts, update, App, Effect, Event};

/// The editor buffer as last seen by the run loop, for the panic hook to save.
pub static RESCUE: Mutex<Option<(PathBuf, String)>> = Mutex::new(None);

/// Performs effects: spawns the slow ones (they report back on `tx`); file writes go to the
/// services' [`Writer`](super::writer::Writer), flushed once when the loop ends.
pub struct Runtime {
    pub tx: UnboundedSender<Event>,
    pub services: Services,
    /// Copies go to the terminal's clipboard (OSC 52 on stdout); off where stdout is not the
    /// tutor's terminal (tests).
    pub osc52: bool,
    /// The session record, when one is kept (`crate::record`).
    pub recorder: Option<Mutex<crate::app::recorder::Recorder>>,
    /// Someone else's session is on screen (the instructor's live review): every effect that
    /// writes as the learner ([`Effect::writes`]) is dropped.
    pub observer: bool,
}

impl Runtime {
    pub fn new(tx: UnboundedSender<Event>, services: Services) -> Runtime {
        Runtime { tx, services, osc52: false, recorder: None, observer: false }
    }

    /// Write every draft and progress file still waiting, now (quit, signals, panic).
    pub fn flush(&self) {
        self.services.writer.flush();
    }

    /// Perform one effect; returns true for Quit.
    pub fn perform(&self, effect: Effect) -> bool {
        if self.observer && effect.writes() {
            tracing::debug!("observer: dropped {effect:?}");
            return false;
        }
        match effect {
            Effect::Quit => return true,
            Effect::After { delay, timer } => {
                let tx = self.tx.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    let _ = tx.send(Event::Timer(timer));
                });
            }
            Effect::SaveDraft { path, text, cursor } => {
                // Off the loop: the writer thread writes it (fsync) within moments, and the
                // flush on quit, signal or panic writes whatever is still waiting.
                self.services.writer.write(drafts::cursor_path(&path), drafts::cursor_text(cursor));
                self.services.writer.write(path, text);
            }
            Effect::LoadDraft { index, path } => {
                let tx = self.tx.clone();
                let writer = self.services.writer.clone();
                tokio::task::spawn_blocking(move || {
                    // A draft still waiting in the writer (the learner left the step a moment
                    // ago) is written first, so the newest text is what comes back.
                    writer.flush();
                    let _ = tx.send(Event::DraftLoaded { index, loaded: drafts::read(&path) });
                });
            }
            Effect::Clipboard(text) if self.osc52 => {
                use std::io::Write;
                // OSC 52: the terminal (also over ssh, and through tmux with set-clipboard on)
                // puts the text on the system clipboard; terminals without it ignore it.
                use base64::Engine;
                let encoded = base64::engine::general_purpose::STANDARD.encode(text);
                let mut out = std::io::stdout();
                let _ = write!(out, "\x1b]52;c;{encoded}\x07").and_then(|()| out.flush());
            }
            Effect::Clipboard(_) => {}
            Effect::SaveProgress { current, done } => self.services.save_progress(current, &done),
            Effect::HintUsed { index } => self.services.hint_used(index),
            Effect::Restart { index } => self.services.restart(index),
            Effect::QuizAnswered { step, question, answer } => self.services.quiz_answered(step, question, answer),
            Effect::Grade { index, snapshot, history } => self.services.grade(index, snapshot, history),
            Effect::Apply { yaml, dry_run, force } => self.services.apply(yaml, dry_run, force, self.tx.clone()),
            Effect::RunCommand { line, editor_text } => self.services.command(line, editor_text, self.tx.clone()),
        }
        false
    }
}

/// [`update`], shown to the session's recorder before and after (at the app's `now`); returns
/// the effects and any notice the recorder has (its cap reached).
pub fn update_recorded(
    app: &mut App,
    recorder: Option<&mut crate::app::recorder::Recorder>,
    event: Event,
) -> (Vec<Effect>, Vec<String>) {
    let Some(recorder) = recorder else { return (update(app, event), Vec::new()) };
    let at = app.now;
    let mut notices: Vec<String> = recorder.before(at, &event).into_iter().collect();
    let effects = update(app, event);
    notices.extend(recorder.after(at, app, &effects));
    (effects, notices)
}

/// Feed `event` to the app and perform what it asks; returns true when the app is done.
pub fn step(app: &mut App, runtime: &Runtime, event: Event) -> bool {
    let generation = app.editor.generation;
    let mut quit = false;
    let mut recorder = runtime.recorder.as_ref().and_then(|r| r.lock().ok());
    let (effects, notices) = update_recorded(app, recorder.as_deref_mut(), event);
    drop(recorder);
    for notice in notices {
        let _ = runtime.tx.send(Event::Notice(super::Level::Info, notice));
    }
    for effect in effects {
        quit |= runtime.perform(effect);
    }
    if app.editor.generation != generation && app.editor.has_starter() {
        if let (Some(path), Ok(mut rescue)) = (app.draft_path(), RESCUE.lock()) {
            *rescue = Some((path, app.editor.text()));
        }
    }
    quit || app.quit
}

/// Most input events taken at once before the screen is drawn again.
const INPUT_BURST: usize = 4096;

/// The text a key types into the editor, if the editor would take it as typing.
fn typed(app: &App, event: &Event) -> Option<char> {
    let Event::Key(key) = event else { return None };
    let typing = app.mode() == super::keys::Mode::Pane(super::Pane::Editor)
        && app.editor.has_starter()
        && key.kind != KeyEventKind::Release
        && (key.modifiers - KeyModifiers::SHIFT).is_empty()
        && super::keys::lookup(app.focus, key).is_none();
    match key.code {
        _ if !typing => None,
        KeyCode::Char(c) => Some(c),
        KeyCode::Enter => Some('\n'),
        _ => None,
    }
}

/// Run until the learner quits (or the input ends and nothing is left to do). `draw` paints
/// the screen from the App (`crate::ui::draw`; the app does not know the panes).
pub async fn run<B, S>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    input: S,
    runtime: &Runtime,
    rx: &mut UnboundedReceiver<Event>,
    clock: &(dyn Fn() -> jiff::Timestamp + Send + Sync),
    draw: fn(&mut Frame, &App),
) -> std::io::Result<()>
where
    B: Backend,
    S: Stream<Item = Event> + Unpin,
{
    let mut input = input.fuse();
    let mut input_done = false;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    app.now = clock();
    terminal.draw(|f| draw(f, app))?;
    app.dirty = false;
    loop {
        let event = tokio::select! {
            e = input.next(), if !input_done => match e {
                Some(e) => e,
                None => { input_done = true; continue; }
            },
            Some(e) = rx.recv() => e,
            _ = tick.tick() => Event::Tick,
        };
        app.now = clock();
        let mut quit = false;
        // Keys already waiting come with this one: a paste without bracketed-paste mode is a
        // key event per character, and typed text in a burst is applied as one paste (one
        // check of the buffer, one draft save) instead of a check and a frame per character.
        let mut burst = vec![event];
        while burst.len() < INPUT_BURST && !input_done {
            match input.next().now_or_never() {
                Some(Some(e)) => burst.push(e),
                Some(None) => input_done = true,
                None => break,
            }
        }
        let mut burst = burst.into_iter().peekable();
        while let Some(event) = burst.next() {
            if quit {
                break;
            }
            // Judged against the state as it is now: typing changes only the buffer.
            let event = match typed(app, &event) {
                Some(c) if burst.peek().is_some_and(|next| typed(app, next).is_some()) => {
                    let mut text = String::from(c);
                    while let Some(c) = burst.peek().and_then(|next| typed(app, next)) {
                        text.push(c);
                        burst.next();
                    }
                    Event::Paste(text)
                }
                _ => event,
            };
            quit = step(app, runtime, event);
        }
        // Take whatever else is already waiting before drawing: one frame for a burst.
        while !quit {
            match rx.try_recv() {
                Ok(e) => quit = step(app, runtime, e),
                Err(_) => break,
            }
        }
        if app.dirty {
            terminal.draw(|f| draw(f, app))?;
            app.dirty = false;
        }
        if quit {
            // The one synchronous write: what the learner typed last is on disk before the
            // terminal is given back.
            runtime.flush();
            return Ok(());
        }
    }
}
