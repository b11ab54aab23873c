//! `kubetutor lessons validate`, the lesson catalogue's own test (rustlings' `dev check`):
//! every lesson loads; then on a fresh in-process sandbox at infinite speed, step by step, the
//! step does not pass before its solution, its starter (with the `???` still in) is refused or
//! does not pass, and its reference solution and actions make it pass.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::runner::Grader;
use super::solve::{solve_step, solve_steps};
use super::watched::{summary, wait_until, Watched};
use super::StepStatus;
use crate::cluster::apply::{apply_manifests, ApplyOptions};
use crate::cluster::{self, Cluster, EmbeddedSandbox};
use crate::lesson::load;
use crate::lesson::Lesson;
use kube_sandbox::SandboxConfig;

/// How long an applied starter is watched to see that it does not pass.
const STARTER_WATCH: Duration = Duration::from_secs(3);

struct Fresh {
    cluster: Cluster,
    _sandbox: EmbeddedSandbox,
    _dir: tempfile::TempDir,
}

async fn fresh() -> Result<Fresh, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("cannot make a temporary directory: {e}"))?;
    let config = SandboxConfig { speed: f64::INFINITY, ..Default::default() };
    let (cluster, sandbox) =
        cluster::start_sandbox(config, dir.path().join("kubeconfig"), "default").await.map_err(|e| e.to_string())?;
    Ok(Fresh { cluster, _sandbox: sandbox, _dir: dir })
}

/// Validate one lesson; the lines say what was proven, the error what failed.
pub async fn validate_lesson(lesson: Arc<Lesson>, timeout: Duration) -> Result<Vec<String>, String> {
    let sb = fresh().await?;
    let mut grader = Grader::new(sb.cluster.clone(), lesson.clone());
    let mut watched = Watched::start(&sb.cluster).await.map_err(|e| e.to_string())?;
    let mut lines = Vec::new();
    for (i, step) in lesson.steps.iter().enumerate() {
        let name = format!("step {i} ({})", step.id);
        if !step.solution.is_empty() || !step.solution_actions.is_empty() {
            watched.settle(Duration::from_millis(100)).await.map_err(|e| e.to_string())?;
            let snapshot = watched.snapshot.clone();
            let report = grader.grade_step(i, &snapshot, &watched.history).await;
            if report.status() == StepStatus::Pass {
                return Err(format!("{name} passes before its solution is applied"));
            }
        }
        if let Some(starter) = &step.starter {
            let said = starter_does_not_pass(&lesson, i, &starter.text, &sb.cluster, timeout).await?;
            lines.push(format!("{name}: the starter {said}"));
        }
        let started = Instant::now();
        solve_step(&mut grader, &mut watched, i, timeout)
            .await
            .map_err(|e| format!("{name}: the reference solution does not pass: {e}"))?;
        lines.push(format!("{name}: the reference solution passes ({} ms)", started.elapsed().as_millis()));
    }
    Ok(lines)
}

/// The starter of step `index` is refused by the API server (dry run on `cluster`), or, when
/// accepted, does not pass on a scratch sandbox where the earlier steps are solved.
async fn starter_does_not_pass(
    lesson: &Arc<Lesson>,
    index: usize,
    text: &str,
    cluster: &Cluster,
    timeout: Duration,
) -> Result<String, String> {
    if let Err(e) = apply_manifests(cluster, text, ApplyOptions { dry_run: true, force: false }).await {
        let fields: Vec<&str> = e.causes.iter().map(|c| c.field.as_str()).filter(|f| !f.is_empty()).collect();
        let said = match fields.first() {
            Some(first) => format!("{} invalid field(s), the first {first}", fields.len()),
            None => e.message.chars().take(120).collect(),
        };
        return Ok(format!("is refused as it is ({said})"));
    }
    let scratch = fresh().await?;
    let mut grader = Grader::new(scratch.cluster.clone(), lesson.clone());
    let mut watched = Watched::start(&scratch.cluster).await.map_err(|e| e.to_string())?;
    solve_steps(&mut grader, &mut watched, index, timeout).await.map_err(|e| e.to_string())?;
    apply_manifests(&scratch.cluster, text, ApplyOptions::default()).await.map_err(|e| e.to_string())?;
    match wait_until(&mut grader, &mut watched, index, STARTER_WATCH, |r| r.status() == StepStatus::Pass).await {
        Ok(_) => Err(format!("step {index}: the starter passes as it is, with its ??? blanks")),
        Err(_) => {
            let snapshot = watched.snapshot.clone();
            let report = grader.grade_step(index, &snapshot, &watched.history).await;
            Ok(format!("is accepted but does not pass ({})", summary(&report)))
        }
    }
}

/// `lessons validate` was asked for a lesson there is not.
#[derive(Debug, thiserror::Error)]
#[error("there is no lesson called {0:?}")]
pub struct NoSuchLesson(pub String);

/// Validate the catalogue (or the one lesson `only`), printing a line per finding; true when
/// everything holds (a catalogue that does not load is a finding, not an error).
pub async fn run(lessons_dir: Option<&Path>, only: Option<&str>, timeout: Duration) -> Result<bool, NoSuchLesson> {
    let lessons = match load::catalog(lessons_dir) {
        Ok(l) => l,
        Err(e) => {
            println!("FAIL {e}");
            return Ok(false);
        }
    };
    let lessons: Vec<Lesson> = lessons.into_iter().filter(|l| only.is_none_or(|s| s == l.slug)).collect();
    if lessons.is_empty() {
        return Err(NoSuchLesson(only.unwrap_or_default().to_string()));
    }
    let mut failed = 0;
    for lesson in lessons {
        println!("{}: loads ({} steps)", lesson.slug, lesson.steps.len());
        let slug = lesson.slug.clone();
        match validate_lesson(Arc::new(lesson), timeout).await {
            Ok(lines) => {
                for l in lines {
                    println!("  ok   {l}");
                }
            }
            Err(e) => {
                failed += 1;
                println!("  FAIL {slug}: {e}");
            }
        }
    }
    if failed == 0 {
        println!("all lessons valid");
    } else {
        println!("{failed} lesson(s) failed");
    }
    Ok(failed == 0)
}
