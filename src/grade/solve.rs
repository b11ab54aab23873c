//! Solving steps with the lesson's reference solutions: "skip ahead" and "reset step" in the
//! tutor, `kubetutor lessons validate`, and the tests. On a [`Watched`] cluster (so order and
//! canary checks see what happened) each step's solution is applied, its actions run
//! (kubectl lines through `cluster::kubectl`, and waits for checks), and it is graded until it
//! passes.

use std::sync::Arc;
use std::time::Duration;

use super::runner::Grader;
pub use super::watched::SolveError;
use super::watched::{wait_for_step, wait_until, Watched};
use super::StepReport;
use crate::cluster::apply::{self, ApplyOptions};
use crate::cluster::{kubectl, Cluster};
use crate::lesson::load::WAIT_FOR;
use crate::lesson::Lesson;

/// How long a step may take to pass after its solution (simulated pods at speed 1 start in a
/// few seconds; a real cluster may pull images).
pub const STEP_TIMEOUT: Duration = Duration::from_secs(180);

/// Apply step `index`'s reference solution and run its actions (kubectl lines, and waits for
/// checks of the step), then wait until the step passes; each wait is at most `timeout`.
pub async fn solve_step(
    grader: &mut Grader,
    watched: &mut Watched,
    index: usize,
    timeout: Duration,
) -> Result<StepReport, SolveError> {
    let lesson = grader.lesson().clone();
    let step = lesson.step(index).ok_or(SolveError::NoStep(index))?;
    let cluster = grader.cluster().clone();
    if let Some(b) = grader.begin_step(index, &watched.snapshot) {
        tracing::debug!(step = index, pods = b.pods.len(), "baseline taken");
    }
    for (file, doc) in step.solution_files.iter().zip(&step.solution) {
        apply::apply_manifests(&cluster, doc, ApplyOptions::default()).await.map_err(|error| SolveError::Apply {
            step: index,
            file: file.clone(),
            error,
        })?;
    }
    for action in &step.solution_actions {
        if let Some(name) = action.strip_prefix(WAIT_FOR) {
            wait_until(grader, watched, index, timeout, |r| {
                r.checks.iter().any(|c| c.name == name && c.outcome.is_pass())
            })
            .await?;
            continue;
        }
        // In the learner's names: `delete pod -l {{selector}}` deletes the pods they labelled.
        let action = &crate::checks::Names::find(&watched.snapshot, &lesson.names).fill(action);
        let fail = |message: String| SolveError::Action { step: index, action: action.clone(), message };
        let cmd = kubectl::parse(action).map_err(|e| fail(e.to_string()))?;
        kubectl::execute(&cluster, &cmd, None).await.map_err(|e| fail(e.to_string()))?;
        watched.settle(Duration::from_millis(50)).await?;
    }
    wait_for_step(grader, watched, index, timeout).await
}

/// Solve steps `0..step` in order, each passing before the next.
pub async fn solve_steps(
    grader: &mut Grader,
    watched: &mut Watched,
    step: usize,
    timeout: Duration,
) -> Result<(), SolveError> {
    for i in 0..step {
        solve_step(grader, watched, i, timeout).await?;
    }
    Ok(())
}

/// Delete the lesson's objects, then solve the steps before `step`: the cluster as it is when
/// the learner reaches `step`. Returns what was deleted.
pub async fn reset_step(grader: &mut Grader, watched: &mut Watched, step: usize) -> Result<Vec<String>, SolveError> {
    let deleted = apply::reset_lesson_objects(grader.cluster()).await.map_err(SolveError::Reset)?;
    grader.forget_from(0);
    // Grade nothing on a snapshot that still shows the old objects.
    watched.wait_gone(&deleted, STEP_TIMEOUT).await?;
    solve_steps(grader, watched, step, STEP_TIMEOUT).await?;
    Ok(deleted)
}

/// Skip ahead: solve the steps before `step` on a cluster, with a grader and watch of its own.
pub async fn solve_up_to(cluster: &Cluster, lesson: Arc<Lesson>, step: usize) -> Result<(), SolveError> {
    let mut grader = Grader::new(cluster.clone(), lesson);
    let mut watched = Watched::start(cluster).await?;
    solve_steps(&mut grader, &mut watched, step, STEP_TIMEOUT).await
}
