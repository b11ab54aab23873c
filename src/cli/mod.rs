//! The `kubetutor` command line, the program's one edge: [`main`] parses the arguments
//! ([`args`]), sets up logging and the runtime ([`setup`]), runs the subcommand (each an async
//! function returning its exit status or a [`CliError`]) and reports: the status as it is, an
//! error as one line on stderr with status 2. Nothing below it exits the process.

mod args;
mod cluster;
mod error;
mod lessons;
mod sandbox;
mod setup;
#[cfg(test)]
mod tests;

use std::process::ExitCode;

use clap::Parser;

use args::{
    Cli, ClusterArgs, Command, KubeconfigArgs, LessonsCommand, RecordArgs, RecordCommand, ReviewArgs, TutorArgs,
};
pub use error::CliError;
use setup::{Logging, Threads};

/// The binary's `main`: parse, run, report.
pub fn main() -> ExitCode {
    match Cli::try_parse() {
        Ok(cli) => run(cli),
        // Help and --version (exit 0), or a usage error (exit 2), as clap words them.
        Err(e) => {
            let _ = e.print();
            ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2))
        }
    }
}

/// Run a parsed command line to its exit status.
fn run(cli: Cli) -> ExitCode {
    let command = cli.command.unwrap_or(Command::Tutor(cli.tutor));
    let prefix = command.error_prefix();
    match start(command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{prefix}: {e}");
            e.exit_code()
        }
    }
}

fn start(command: Command) -> Result<ExitCode, CliError> {
    let (logging, threads) = command.needs();
    setup::init_logging(logging, &crate::state::state_dir())?;
    setup::runtime(threads)?.block_on(dispatch(command))
}

async fn dispatch(command: Command) -> Result<ExitCode, CliError> {
    match command {
        Command::Tutor(args) => tutor(args).await,
        Command::Sandbox(args) => sandbox::run(args).await,
        Command::Doctor(args) => cluster::doctor(args).await,
        Command::Reset(args) => cluster::reset(args).await,
        Command::Progress(args) => cluster::progress(args).await,
        Command::Check(args) => lessons::check(args).await,
        Command::Lessons(args) => lessons::lessons(args).await,
        Command::Review(args) => review(args).await,
        Command::Record(args) => record(args),
    }
}

impl Command {
    /// Where the subcommand logs and how many threads it runs on.
    fn needs(&self) -> (Logging, Threads) {
        match self {
            Command::Tutor(_) => (Logging::File, Threads::Two),
            Command::Sandbox(_) => (Logging::Stderr, Threads::PerCore),
            _ => (Logging::Off, Threads::Two),
        }
    }

    /// How an error of this subcommand begins on stderr.
    fn error_prefix(&self) -> &'static str {
        match self {
            Command::Check(_) => "kubetutor check",
            Command::Lessons(args) => match args.command {
                None => "kubetutor lessons",
                Some(LessonsCommand::Validate { .. }) => "kubetutor lessons validate",
            },
            _ => "kubetutor",
        }
    }
}

/// `kubetutor` alone: the tutor screen until the learner quits or a signal stops it.
async fn tutor(args: TutorArgs) -> Result<ExitCode, CliError> {
    let ClusterArgs { kubeconfig: KubeconfigArgs { kubeconfig, context }, namespace } = args.cluster;
    let options = crate::app::start::TutorOptions {
        kubeconfig,
        context,
        namespace,
        theme: args.theme.theme.into(),
        speed: args.speed.speed,
        lesson: args.lesson.lesson,
        lessons_dir: args.lessons_dir.dir(),
        readonly: args.readonly,
    };
    crate::app::start::run_tutor(options, crate::ui::draw, setup::shutdown_signal())?.await?;
    Ok(ExitCode::SUCCESS)
}

/// `kubetutor review [FILE]`.
async fn review(args: ReviewArgs) -> Result<ExitCode, CliError> {
    let options = crate::app::review::ReviewOptions {
        file: args.file,
        lesson: args.lesson.lesson,
        lessons_dir: args.lessons_dir.dir(),
        theme: args.theme.theme.into(),
    };
    // A signal ends the screen: dropping it gives the terminal back (nothing to save in review).
    tokio::select! {
        done = crate::app::review::run_review(&options, crate::ui::review::draw) => done?,
        () = setup::shutdown_signal() => {}
    }
    Ok(ExitCode::SUCCESS)
}

/// `kubetutor record export FILE`.
fn record(args: RecordArgs) -> Result<ExitCode, CliError> {
    use crate::record;
    let RecordCommand::Export { file, from, lesson } = args.command;
    let from = match from {
        Some(f) => f,
        None => record::latest(&crate::state::state_dir(), &lesson.lesson)?,
    };
    let n = record::export(&from, &file)?;
    println!(
        "Wrote {} ({n} events, record format {} version {}) from {}.",
        file.display(),
        record::FORMAT,
        record::VERSION,
        from.display()
    );
    println!("Open it with: kubetutor review {}", file.display());
    Ok(ExitCode::SUCCESS)
}
