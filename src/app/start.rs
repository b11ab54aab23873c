//! `kubetutor` with no subcommand: connect (the embedded sandbox, or a kubeconfig's cluster),
//! load the lesson where the learner left off, take over the terminal (always given back: on
//! quit, on SIGTERM/SIGHUP, and from the panic hook; each flushes the file writer, and the hook
//! also saves the editor buffer), and run the app loop. Logs go where the command line put them
//! (`kubetutor.log` in the state dir), never to the screen.

use std::collections::BTreeSet;
use std::future::Future;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use crossterm::event::{Event as TermEvent, EventStream};
use crossterm::terminal::{disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen};
use futures::StreamExt;
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;

use super::effects::Services;
use super::run::{run, Runtime, RESCUE};
use super::{App, ClusterInfo, Event};
use crate::cluster::{self, watch, Cluster, KubeconfigOptions};
use crate::theme::{Theme, ThemeName};
use kube_sandbox::SandboxConfig;

/// What the tutor screen opens on; the command line fills it in.
#[derive(Debug, Clone)]
pub struct TutorOptions {
    /// Use the cluster of this kubeconfig instead of the embedded sandbox.
    pub kubeconfig: Option<PathBuf>,
    /// Use this kubeconfig context (implies a real cluster).
    pub context: Option<String>,
    /// The namespace the lesson's objects live in (sandbox: default; a real cluster: the context's, else "kubetutor").
    pub namespace: Option<String>,
    pub theme: ThemeName,
    /// Simulated time speed of the embedded sandbox: 2 starts pods twice as fast.
    pub speed: f64,
    /// Which lesson to open.
    pub lesson: String,
    /// An extra folder of lessons (or one lesson folder).
    pub lessons_dir: Option<PathBuf>,
    /// Watch and grade only: no apply, no deleting, scaling or patching (for review sessions).
    pub readonly: bool,
}

/// Restores the terminal when dropped (normal exit and errors).
pub(crate) struct TerminalGuard;

/// Raw mode and the alternate screen (for `kubetutor review`), given back when the guard drops
/// or on a panic.
pub(crate) fn take_terminal() -> Result<TerminalGuard> {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        previous(info);
    }));
    enable_raw_mode().context("cannot switch the terminal to raw mode (is this a terminal?)")?;
    let guard = TerminalGuard;
    crossterm::execute!(std::io::stdout(), EnterAlternateScreen)?;
    Ok(guard)
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

fn restore_terminal() {
    let _ = disable_raw_mode();
    let _ = crossterm::execute!(
        std::io::stdout(),
        crossterm::event::DisableBracketedPaste,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

/// Write the last editor buffer the run loop saw to its draft file (used on panic).
fn save_rescue() {
    if let Ok(guard) = RESCUE.lock() {
        if let Some((path, text)) = guard.as_ref() {
            let _ = super::drafts::save(path, text);
        }
    }
}

async fn connect(
    args: &TutorOptions,
    state_dir: &std::path::Path,
) -> Result<(Cluster, Option<cluster::EmbeddedSandbox>)> {
    if args.kubeconfig.is_some() || args.context.is_some() {
        let opts = KubeconfigOptions {
            kubeconfig: args.kubeconfig.clone(),
            context: args.context.clone(),
            namespace: args.namespace.clone(),
        };
        let cluster = cluster::connect_kubeconfig(&opts).await?;
        if !args.readonly {
            cluster.ensure_namespace().await?;
        }
        return Ok((cluster, None));
    }
    let config = SandboxConfig { speed: args.speed, ..Default::default() };
    let ns = args.namespace.as_deref().unwrap_or("default");
    let (cluster, sandbox) = cluster::start_sandbox(config, state_dir.join("sandbox.kubeconfig"), ns).await?;
    Ok((cluster, Some(sandbox)))
}

/// On a real cluster, the preflight doctor runs as the lesson opens: all well is one line,
/// anything else opens its findings with the fixes.
fn spawn_doctor(cluster: &Cluster, lesson: &crate::lesson::Lesson, tx: tokio::sync::mpsc::UnboundedSender<Event>) {
    use crate::cluster::doctor;
    let cluster = cluster.clone();
    let needs =
        doctor::Needs { images: crate::lesson::images::of_lesson(lesson), timeout: std::time::Duration::from_secs(90) };
    tokio::spawn(async move {
        let findings = doctor::run(&cluster, &needs).await;
        let event = match doctor::worst(&findings) {
            doctor::Level::Ok => Event::Notice(
                super::Level::Good,
                "Preflight: this cluster can run the lesson (kubetutor doctor found nothing to fix).".into(),
            ),
            _ => Event::CommandDone { echo: "$ kubetutor doctor".into(), result: Ok(doctor::render(&findings)) },
        };
        let _ = tx.send(event);
    });
}

/// The tutor screen, run until the learner quits (or `terminate` resolves: the edge's SIGTERM
/// and SIGHUP): what can fail before it needs the runtime fails here, the rest in the future.
/// `draw` paints the screen from the App (`crate::ui::draw`).
pub fn run_tutor(
    args: TutorOptions,
    draw: fn(&mut ratatui::Frame, &App),
    terminate: impl Future<Output = ()> + Send + 'static,
) -> Result<impl Future<Output = Result<()>>> {
    if args.speed.is_nan() || args.speed <= 0.0 {
        bail!("--speed must be a positive number, got {}", args.speed);
    }
    let state_dir = crate::state::state_dir();
    std::fs::create_dir_all(&state_dir).with_context(|| format!("cannot create {}", state_dir.display()))?;
    let lesson = Arc::new(
        crate::lesson::load::find_in(&args.lesson, args.lessons_dir.as_deref())
            .with_context(|| format!("cannot load the lesson {}", args.lesson))?,
    );
    let progress = crate::lesson::progress::Progress::load(&lesson.slug)
        .with_context(|| format!("cannot read the progress of {}", lesson.slug))?;
    let start_step = progress.current_index(&lesson);
    let done: BTreeSet<usize> = (0..lesson.steps.len()).filter(|&i| progress.is_done(&lesson, i)).collect();
    let theme = Theme::pick(args.theme, Theme::no_color_env());
    Ok(async move {
        let (cluster, _sandbox) = connect(&args, &state_dir).await?;
        let describe = if args.readonly { format!("{} · read-only", cluster.describe()) } else { cluster.describe() };
        let info = ClusterInfo {
            describe,
            namespace: cluster.namespace.clone(),
            kubectl_hint: cluster.kubectl_hint(),
            sandbox: cluster.is_sandbox(),
        };
        let info_namespace = info.namespace.clone();
        let slug = lesson.slug.clone();
        let mut app = App::new(lesson.clone(), start_step, done.clone(), info, theme, state_dir.clone());
        app.readonly = args.readonly;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Event>();
        if !cluster.is_sandbox() {
            spawn_doctor(&cluster, &lesson, tx.clone());
        }
        let _watch = spawn_watch(&cluster, tx.clone());
        spawn_terminate(terminate, tx.clone());
        let restore =
            cluster.is_sandbox().then(|| super::effects::Restore { done: done.clone(), state_dir: state_dir.clone() });
        let services = Services::new(cluster, lesson, progress, restore, tx.clone());
        let mut runtime = Runtime::new(tx.clone(), services);
        runtime.osc52 = true;
        runtime.recorder = start_record(&state_dir, &slug, &info_namespace, start_step, &done, &tx);

        let previous = std::panic::take_hook();
        let writer = runtime.services.writer.clone();
        std::panic::set_hook(Box::new(move |info| {
            restore_terminal();
            // What is waiting to be written, then the buffer as the loop last saw it.
            writer.flush_on_panic();
            save_rescue();
            previous(info);
        }));
        enable_raw_mode().context("cannot switch the terminal to raw mode (is this a terminal?)")?;
        let _guard = TerminalGuard;
        let mut stdout = std::io::stdout();
        crossterm::execute!(stdout, EnterAlternateScreen, crossterm::event::EnableBracketedPaste)?;
        stdout.flush()?;
        let mut terminal = Terminal::new(CrosstermBackend::new(stdout))?;
        let input = EventStream::new().filter_map(|e| async move {
            match e {
                Ok(TermEvent::Key(k)) => Some(Event::Key(k)),
                Ok(TermEvent::Resize(w, h)) => Some(Event::Resize(w, h)),
                Ok(TermEvent::Paste(text)) => Some(Event::Paste(text)),
                Ok(_) => None,
                Err(e) => {
                    tracing::warn!("terminal input: {e}");
                    None
                }
            }
        });
        let clock = || jiff::Timestamp::now();
        run(&mut terminal, &mut app, Box::pin(input), &runtime, &mut rx, &clock, draw).await?;
        tracing::info!("tutor quit on step {}", app.step);
        Ok(())
    })
}

/// Begin this session's record under the state dir; without one the tutor still runs (the
/// lesson pane says why).
fn start_record(
    state_dir: &std::path::Path,
    lesson: &str,
    namespace: &str,
    step: usize,
    done: &BTreeSet<usize>,
    tx: &tokio::sync::mpsc::UnboundedSender<Event>,
) -> Option<std::sync::Mutex<crate::app::recorder::Recorder>> {
    let header = crate::record::Header {
        format: crate::record::FORMAT.into(),
        version: crate::record::VERSION,
        lesson: lesson.into(),
        namespace: namespace.into(),
        started: jiff::Timestamp::now(),
        step,
        done: done.clone(),
    };
    match crate::app::recorder::Recorder::create(state_dir, &header) {
        Ok(r) => Some(std::sync::Mutex::new(r)),
        Err(e) => {
            tracing::warn!("no session record: {e}");
            let text = format!("This session is not recorded (kubetutor review will not have it): {e}");
            let _ = tx.send(Event::Notice(super::Level::Problem, text));
            None
        }
    }
}

/// Watch the lesson namespace, feeding the app's event channel.
pub fn spawn_watch(cluster: &Cluster, tx: tokio::sync::mpsc::UnboundedSender<Event>) -> watch::WatchHandle {
    let (ctx, mut crx) = tokio::sync::mpsc::unbounded_channel();
    let handle = watch::spawn(cluster, ctx);
    tokio::spawn(async move {
        while let Some(e) = crx.recv().await {
            if tx.send(Event::Cluster(e)).is_err() {
                break;
            }
        }
    });
    handle
}

/// Quit (saving, giving the terminal back) when `terminate` resolves.
fn spawn_terminate(
    terminate: impl Future<Output = ()> + Send + 'static,
    tx: tokio::sync::mpsc::UnboundedSender<Event>,
) {
    tokio::spawn(async move {
        terminate.await;
        let _ = tx.send(Event::Terminate);
    });
}
