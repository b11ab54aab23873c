//! The subcommands that grade: `check` (exit 0 exactly when every step it grades counts as
//! done, 1 when one does not) and `lessons` (list; `validate`: exit 0 when every lesson holds,
//! 1 when one does not).

use std::process::ExitCode;
use std::time::Duration;

use super::args::{CheckArgs, LessonsArgs, LessonsCommand};
use super::CliError;
use crate::grade::{headless, validate};
use crate::lesson::load;

pub(crate) async fn check(args: CheckArgs) -> Result<ExitCode, CliError> {
    let options = headless::CheckOptions {
        lesson: args.lesson.lesson,
        lessons_dir: args.lessons_dir.dir(),
        step: args.step,
        cluster: args.cluster.into(),
    };
    let checked = headless::check(&options).await?;
    if let Some(e) = &checked.records_unread {
        eprintln!("kubetutor check: not using the tutor's records: {e}");
    }
    let text = if args.json {
        format!("{}\n", serde_json::to_string_pretty(&checked.output)?)
    } else {
        headless::render_text(&checked.lesson, &checked.output)
    };
    print!("{text}");
    Ok(if checked.all_done() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

pub(crate) async fn lessons(args: LessonsArgs) -> Result<ExitCode, CliError> {
    let dir = args.lessons_dir.dir();
    match args.command {
        None => {
            print!("{}", headless::list(&load::catalog(dir.as_deref())?));
            Ok(ExitCode::SUCCESS)
        }
        Some(LessonsCommand::Validate { lesson, timeout }) => {
            let valid = validate::run(dir.as_deref(), lesson.as_deref(), Duration::from_secs(timeout)).await?;
            Ok(if valid { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
    }
}
