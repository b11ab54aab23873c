//! What every subcommand runs inside, set up once here: the tracing subscriber (to a file in
//! the state dir for the screens, to stderr for the sandbox, none for the one-shot commands,
//! and never to a screen the TUI draws on), the tokio runtime, and the shutdown signals.

use std::path::Path;

use super::CliError;

/// Where a subcommand's logs go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Logging {
    /// Nowhere: its output is what it prints.
    Off,
    /// `kubetutor.log` in the state dir (level `info` unless `KUBETUTOR_LOG` says otherwise):
    /// the terminal belongs to the screen.
    File,
    /// stderr, warnings and worse unless `KUBETUTOR_LOG` says otherwise.
    Stderr,
}

/// How many threads the runtime runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Threads {
    /// Two: the tutor and its commands share the learner's machine with whatever else runs.
    Two,
    /// One per core: a served sandbox may answer a whole workshop room.
    PerCore,
}

/// The log environment variable (an `EnvFilter`: `debug`, `kube_sandbox=trace`, ...).
pub(crate) const LOG_ENV: &str = "KUBETUTOR_LOG";

/// Install the tracing subscriber `logging` asks for.
pub(crate) fn init_logging(logging: Logging, state_dir: &Path) -> Result<(), CliError> {
    let filter =
        |default: &str| tracing_subscriber::EnvFilter::try_from_env(LOG_ENV).unwrap_or_else(|_| default.into());
    match logging {
        Logging::Off => {}
        Logging::File => {
            std::fs::create_dir_all(state_dir)
                .map_err(CliError::io(format!("cannot create {}", state_dir.display())))?;
            let path = state_dir.join("kubetutor.log");
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(CliError::io(format!("cannot open the log file {}", path.display())))?;
            // A second subscriber (a test that runs two commands in one process) keeps the first.
            let _ = tracing_subscriber::fmt()
                .with_env_filter(filter("info"))
                .with_ansi(false)
                .with_writer(std::sync::Mutex::new(file))
                .try_init();
        }
        Logging::Stderr => {
            let _ = tracing_subscriber::fmt().with_env_filter(filter("warn")).with_writer(std::io::stderr).try_init();
        }
    }
    Ok(())
}

/// The runtime a subcommand's future runs on.
pub(crate) fn runtime(threads: Threads) -> Result<tokio::runtime::Runtime, CliError> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if threads == Threads::Two {
        builder.worker_threads(2);
    }
    builder.enable_all().build().map_err(CliError::io("cannot start the async runtime"))
}

/// Resolves on Ctrl-C (SIGINT), SIGTERM or SIGHUP: the commands that run until stopped
/// (`sandbox`, `progress`, the tutor) stop cleanly on it. The handlers are installed when it
/// is first polled; before that a signal does what it always does.
pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        // Without a handler there is nothing to wait for: never resolve, rather than stop now.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let other = async {
        use tokio::signal::unix::{signal, SignalKind};
        let wait = |kind: SignalKind| async move {
            match signal(kind) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            () = wait(SignalKind::terminate()) => {},
            () = wait(SignalKind::hangup()) => {},
        }
    };
    #[cfg(not(unix))]
    let other = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = other => {},
    }
}
