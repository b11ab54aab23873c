//! The subcommands about a cluster from a kubeconfig: `doctor` (can it run the lesson? exit 1
//! when something blocks), `reset` (delete the lesson's objects, after asking) and `progress`
//! (the instructor's table of attendees: printed once, followed on a pipe, or the live screen).

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use super::args::{DoctorArgs, ProgressArgs, ResetArgs};
use super::{setup, CliError};
use crate::cluster::{self, doctor, progress};
use crate::lesson::load;
use crate::theme::Theme;

/// How long doctor waits for the lesson's images to start.
const DOCTOR_TIMEOUT: Duration = Duration::from_secs(90);

/// Exit status 0 when nothing blocks, 1 when something does (warnings do not fail).
pub(crate) async fn doctor(args: DoctorArgs) -> Result<ExitCode, CliError> {
    let lesson = load::find_in(&args.lesson.lesson, args.lessons_dir.dir().as_deref())?;
    let cl = cluster::connect_kubeconfig(&args.cluster.into()).await?;
    if !args.json {
        println!("Checking {} for the lesson \"{}\"...", cl.describe(), lesson.title);
    }
    let needs = doctor::Needs { images: crate::lesson::images::of_lesson(&lesson), timeout: DOCTOR_TIMEOUT };
    let findings = doctor::run(&cl, &needs).await;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&findings)?);
    } else {
        print!("{}", doctor::render(&findings));
    }
    Ok(if doctor::worst(&findings) == doctor::Level::Blocking { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

pub(crate) async fn reset(args: ResetArgs) -> Result<ExitCode, CliError> {
    let cl = cluster::connect_kubeconfig(&args.cluster.into()).await?;
    if !args.yes {
        print!(
            "Delete the lesson's objects in {}? Only objects labelled {}={} and their StatefulSets' claims go; nothing else is touched. [y/N] ",
            cl.describe(),
            cluster::probe::MANAGED_BY.0,
            cluster::probe::MANAGED_BY.1
        );
        let mut answer = String::new();
        std::io::stdout()
            .flush()
            .and_then(|()| std::io::stdin().lock().read_line(&mut answer))
            .map_err(CliError::io("cannot ask before deleting"))?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            println!("Nothing deleted.");
            return Ok(ExitCode::SUCCESS);
        }
    }
    let deleted = cluster::apply::reset_lesson_objects(&cl)
        .await
        .map_err(|e| CliError::Reset { namespace: cl.namespace.clone(), message: cluster::errors::explain(&e) })?;
    if deleted.is_empty() {
        println!("Nothing to delete: namespace {} holds no lesson objects.", cl.namespace);
    } else {
        println!("Deleted {} objects: {}", deleted.len(), deleted.join(", "));
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn progress(args: ProgressArgs) -> Result<ExitCode, CliError> {
    let cl = cluster::connect_kubeconfig(&args.kubeconfig.into()).await?;
    if args.once {
        let rows =
            progress::collect(&cl.client).await.map_err(|e| CliError::ListProgress(cluster::errors::explain(&e)))?;
        print!("{}", progress::render(&rows, jiff::Timestamp::now()));
        return Ok(ExitCode::SUCCESS);
    }
    if std::io::stdout().is_terminal() {
        let theme = Theme::pick(args.theme.theme.into(), Theme::no_color_env());
        // A signal ends the screen: dropping it gives the terminal back (it writes nothing).
        tokio::select! {
            done = crate::app::instructor::run_screen(cl, theme, crate::ui::instructor::draw) => done?,
            () = setup::shutdown_signal() => {}
        }
        return Ok(ExitCode::SUCCESS);
    }
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let client = cl.client.clone();
    let follow = tokio::spawn(async move { progress::follow(&client, |rows| drop(tx.send(rows.to_vec()))).await });
    let mut rows = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    let stop = setup::shutdown_signal();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => return Ok(ExitCode::SUCCESS),
            _ = tick.tick() => {}
            got = rx.recv() => match got {
                Some(r) => rows = r,
                // The watch ended: a clean end is the end of the table, an error is reported.
                None => return match follow.await {
                    Ok(Ok(())) => Ok(ExitCode::SUCCESS),
                    Ok(Err(e)) => Err(CliError::WatchProgress(e.to_string())),
                    Err(e) => Err(CliError::WatchProgress(e.to_string())),
                },
            },
        }
        // Clear the screen and redraw: a live table, refreshed on change and every 5 s.
        print!("\x1b[2J\x1b[H{} · {} learners · Ctrl-C to stop\n\n", cl.describe(), rows.len());
        print!("{}", progress::render(&rows, jiff::Timestamp::now()));
    }
}
