//! The app's way out to the cluster ([`Services`]), called by the run loop: apply and `:`
//! commands each run in a task of their own; grading, progress, hints, quiz answers and
//! restarts go to one grading task that owns the grader and the progress file (written through
//! the [`Writer`]), publishes progress for the instructor, and brings back done steps on a
//! fresh sandbox. Results come back as [`Event`]s.

use std::collections::BTreeSet;
use std::sync::Arc;

use tokio::sync::mpsc::UnboundedSender;

use super::writer::Writer;
use super::yaml::{line_of_path, Mark};
use super::{ApplyFailure, Event};
use crate::cluster::apply::{self, ApplyError, ApplyOptions};
use crate::cluster::kubectl;
use crate::cluster::{Cluster, History, Snapshot};
use crate::grade::runner::Grader;
use crate::lesson::progress::Progress;
use crate::lesson::Lesson;

/// What the grading task is asked to do.
enum GradeRequest {
    Grade { index: usize, snapshot: Arc<Snapshot>, history: History },
    Progress { current: usize, done: BTreeSet<usize> },
    Hint { index: usize },
    Restart { index: usize },
    Quiz { step: usize, question: usize, answer: crate::lesson::quiz::Answer },
}

/// The cluster-facing side of the app. Without a cluster (render tests) nothing is sent.
pub struct Services {
    pub cluster: Option<Cluster>,
    grades: Option<UnboundedSender<GradeRequest>>,
    /// Drafts and progress go to disk through it, off the event loop.
    pub writer: Writer,
}

/// The grading task: owns the [`Grader`] (probe cache, baselines, proven checks) and the
/// lesson's [`Progress`], so both live in one place and are saved together.
struct GradeTask {
    grader: Grader,
    lesson: Arc<Lesson>,
    progress: Progress,
    restore: Option<Restore>,
    /// After a restore: the current step's baseline is retaken once the restored pods are up.
    fresh: bool,
    /// What was last published for the workshop table (`kubetutor progress`).
    published: Option<crate::cluster::progress::Published>,
    /// Grading for someone else's eyes (the instructor's live review): nothing is published
    /// into the learner's namespace and no progress file is written.
    observer: bool,
    writer: Writer,
}

/// What to bring back on a fresh sandbox before grading starts.
pub struct Restore {
    pub done: BTreeSet<usize>,
    pub state_dir: std::path::PathBuf,
}

impl GradeTask {
    async fn run(mut self, mut rx: tokio::sync::mpsc::UnboundedReceiver<GradeRequest>, tx: UnboundedSender<Event>) {
        if let Some(r) = self.restore.take() {
            if !r.done.is_empty() {
                let cluster = self.grader.cluster().clone();
                let problems = restore_done_steps(&cluster, &self.lesson, &r.done, &r.state_dir).await;
                let _ = tx.send(restore_notice(&problems));
                self.fresh = true;
            }
        }
        while let Some(first) = rx.recv().await {
            // A burst of requests: every progress, hint and restart applies, in order; of the
            // grades only the newest matters, and it runs last (after the progress it follows).
            let mut grade = None;
            let mut next = Some(first);
            while let Some(req) = next.take().or_else(|| rx.try_recv().ok()) {
                match req {
                    GradeRequest::Progress { current, done } => self.set_progress(current, &done),
                    GradeRequest::Hint { index } => self.hint(index),
                    GradeRequest::Restart { index } => self.restart(index, &tx).await,
                    GradeRequest::Quiz { step, question, answer } => {
                        self.progress.answer_quiz(&self.lesson, step, question, answer);
                        self.save();
                    }
                    GradeRequest::Grade { index, snapshot, history } => grade = Some((index, snapshot, history)),
                }
            }
            let Some((index, snapshot, history)) = grade else { continue };
            if self.fresh {
                if !sets_settled(&snapshot) {
                    let _ = tx.send(Event::Graded(self.waiting_report(index)));
                    continue;
                }
                // The baseline of the last session names pods and claims that are gone.
                self.fresh = false;
                self.grader.forget_baseline(index);
                if let Some(step) = self.lesson.step(index) {
                    self.progress.baselines.remove(&step.id);
                }
            }
            if self.grader.begin_step(index, &snapshot).is_some() {
                self.grader.save_into(&self.lesson, &mut self.progress);
                self.save();
            }
            let report = self.grader.grade_step(index, &snapshot, &history).await;
            let before = self.progress.proven.clone();
            self.grader.save_into(&self.lesson, &mut self.progress);
            if before != self.progress.proven {
                self.save();
            }
            self.publish(&report).await;
            if tx.send(Event::Graded(report)).is_err() {
                return;
            }
        }
    }

    fn set_progress(&mut self, current: usize, done: &BTreeSet<usize>) {
        for &i in done {
            self.progress.mark_done(&self.lesson, i);
        }
        self.progress.set_current(&self.lesson, current);
        self.save();
    }

    /// Tell the workshop table where the learner is, when that changed (failures are only
    /// logged: a learner without rights on ConfigMaps still gets graded).
    async fn publish(&mut self, report: &crate::grade::StepReport) {
        use crate::cluster::progress::{publish, Published};
        if self.observer {
            return;
        }
        let steps = self.lesson.steps.len();
        let finished = (0..steps).all(|i| self.progress.is_done(&self.lesson, i));
        let step = if finished { steps } else { self.progress.current_index(&self.lesson) };
        if !finished && report.index != step {
            return;
        }
        let first_open = report.checks.iter().find(|c| !c.outcome.is_pass());
        let status = match report.status() {
            crate::grade::StepStatus::Pass => "pass",
            crate::grade::StepStatus::NotYet => "not_yet",
            crate::grade::StepStatus::Waiting => "waiting",
        };
        let message = first_open.map(|c| match &c.outcome {
            crate::grade::Outcome::NotYet { reason, .. } => reason.clone(),
            crate::grade::Outcome::Waiting { what } => what.clone(),
            crate::grade::Outcome::Pass => String::new(),
        });
        let now = jiff::Timestamp::now();
        let mut p = Published {
            lesson: self.lesson.slug.clone(),
            step,
            steps,
            step_title: self.lesson.step(step).map(|s| s.title.clone()).unwrap_or_default(),
            status: if finished { "pass".into() } else { status.into() },
            check: if finished { None } else { first_open.map(|c| c.name.clone()) },
            message: if finished { None } else { message },
            since: now,
            updated: now,
        };
        if let Some(last) = &self.published {
            let same =
                (last.step, &last.status, &last.check, &last.message) == (p.step, &p.status, &p.check, &p.message);
            if same {
                return;
            }
            if (last.step, &last.status) == (p.step, &p.status) {
                p.since = last.since;
            }
        }
        if let Err(e) = publish(self.grader.cluster(), &p).await {
            tracing::info!("cannot publish progress for the workshop table: {e}");
        }
        self.published = Some(p);
    }

    fn waiting_report(&self, index: usize) -> crate::grade::StepReport {
        let step = &self.lesson.steps[index.min(self.lesson.steps.len() - 1)];
        let checks = step
            .checks
            .iter()
            .map(|c| {
                crate::grade::CheckReport::live(
                    c.name.clone(),
                    crate::grade::Outcome::waiting("the restored objects of the finished steps to come up"),
                )
            })
            .collect();
        crate::grade::StepReport { index, id: step.id.clone(), title: step.title.clone(), checks }
    }

    /// Delete the lesson's objects and solve the steps before `index` with their reference
    /// solutions; progress then says steps `0..index` are done and `index` is current.
    async fn restart(&mut self, index: usize, tx: &UnboundedSender<Event>) {
        let cluster = self.grader.cluster().clone();
        let result = match crate::grade::watched::Watched::start(&cluster).await {
            Ok(mut watched) => crate::grade::solve::reset_step(&mut self.grader, &mut watched, index).await,
            Err(e) => Err(e),
        };
        let result = result.map_err(|e| e.to_string());
        if result.is_ok() {
            self.progress.reset_from(&self.lesson, 0);
            for i in 0..index {
                self.progress.mark_done(&self.lesson, i);
            }
            self.progress.set_current(&self.lesson, index);
            self.grader.save_into(&self.lesson, &mut self.progress);
            self.save();
        }
        let _ = tx.send(Event::Restarted { index, result });
    }

    fn hint(&mut self, index: usize) {
        self.progress.use_hint(&self.lesson, index);
        self.save();
    }

    /// Hand the progress file to the writer (it reports a failed write itself).
    fn save(&self) {
        if self.observer {
            return;
        }
        match serde_json::to_string_pretty(&self.progress) {
            Ok(text) => self.writer.write(Progress::path(&self.progress.lesson), text),
            Err(e) => tracing::warn!("cannot serialise progress: {e}"),
        }
    }
}

/// Place an apply error on the editor's lines: the YAML position if it has one, else the line
/// of each field it names, else the document's `metadata.name`.
pub fn apply_failure(yaml: &str, e: &ApplyError) -> ApplyFailure {
    let mut marks = Vec::new();
    if let Some((line, column)) = e.position {
        marks.push(Mark {
            line: line.saturating_sub(1),
            column: Some(column.saturating_sub(1)),
            message: e.message.clone(),
        });
    }
    for cause in &e.causes {
        if cause.field.is_empty() {
            continue;
        }
        if let Some(line) = line_of_path(yaml, e.document, &cause.field) {
            marks.push(Mark { line, column: None, message: format!("{}: {}", cause.field, cause.message) });
        }
    }
    if marks.is_empty() {
        let line = line_of_path(yaml, e.document, "metadata.name")
            .or_else(|| super::yaml::document_starts(yaml).get(e.document).copied())
            .unwrap_or(0);
        marks.push(Mark { line, column: None, message: e.message.clone() });
    }
    ApplyFailure { message: e.to_string().replace('\n', " "), marks, conflict: e.conflict }
}

impl Services {
    /// Services on `cluster`: starts the grading task for `lesson` with the saved `progress`.
    /// `restore`: bring back the finished steps' objects first (a fresh embedded sandbox).
    pub fn new(
        cluster: Cluster,
        lesson: Arc<Lesson>,
        progress: Progress,
        restore: Option<Restore>,
        tx: UnboundedSender<Event>,
    ) -> Services {
        let mut grader = Grader::new(cluster.clone(), lesson.clone());
        grader.restore(&lesson, &progress);
        let (gtx, grx) = tokio::sync::mpsc::unbounded_channel();
        let report = tx.clone();
        let writer = Writer::new(move |e| drop(report.send(Event::SaveFailed(e))));
        let task = GradeTask {
            grader,
            lesson,
            progress,
            restore,
            fresh: false,
            published: None,
            observer: false,
            writer: writer.clone(),
        };
        tokio::spawn(task.run(grx, tx));
        Services { cluster: Some(cluster), grades: Some(gtx), writer }
    }

    /// Services that grade `lesson` on `cluster` for an observer (the instructor's live review
    /// of an attendee): steps `done` count as passed; no progress is published into the
    /// namespace nor saved to a file. Effects that would write are for the [`Runtime`] to drop
    /// (`Runtime::observer`).
    ///
    /// [`Runtime`]: super::run::Runtime
    pub fn observer(
        cluster: Cluster,
        lesson: Arc<Lesson>,
        done: &BTreeSet<usize>,
        tx: UnboundedSender<Event>,
    ) -> Services {
        let mut progress = Progress { lesson: lesson.slug.clone(), ..Default::default() };
        for &i in done {
            progress.mark_done(&lesson, i);
        }
        let mut grader = Grader::new(cluster.clone(), lesson.clone());
        grader.restore(&lesson, &progress);
        let (gtx, grx) = tokio::sync::mpsc::unbounded_channel();
        // An observer writes nothing; the writer only has to exist.
        let writer = Writer::without_thread(|e| tracing::warn!("observer write: {e}"));
        let task = GradeTask {
            grader,
            lesson,
            progress,
            restore: None,
            fresh: false,
            published: None,
            observer: true,
            writer: writer.clone(),
        };
        tokio::spawn(task.run(grx, tx));
        Services { cluster: Some(cluster), grades: Some(gtx), writer }
    }

    /// Services that do nothing (drawing-only tests).
    pub fn none() -> Services {
        Services { cluster: None, grades: None, writer: Writer::new(|e| tracing::warn!("{e}")) }
    }

    pub fn grade(&self, index: usize, snapshot: Arc<Snapshot>, history: History) {
        if let Some(g) = &self.grades {
            let _ = g.send(GradeRequest::Grade { index, snapshot, history });
        }
    }

    pub fn apply(&self, yaml: String, dry_run: bool, force: bool, tx: UnboundedSender<Event>) {
        let Some(cluster) = self.cluster.clone() else { return };
        tokio::spawn(async move {
            let result = apply::apply_manifests(&cluster, &yaml, ApplyOptions { dry_run, force }).await;
            let result =
                result.map(|a| a.iter().map(ToString::to_string).collect()).map_err(|e| apply_failure(&yaml, &e));
            let _ = tx.send(Event::Applied { dry_run, result });
        });
    }

    /// Run a `:` command; the result comes back with the equivalent kubectl line.
    pub fn command(&self, line: String, editor_text: Option<String>, tx: UnboundedSender<Event>) {
        let cmd = match kubectl::parse(&line) {
            Ok(cmd) => cmd,
            Err(e) => {
                let _ = tx.send(Event::CommandDone { echo: format!(":{line}"), result: Err(e.to_string()) });
                return;
            }
        };
        let Some(cluster) = self.cluster.clone() else { return };
        tokio::spawn(async move {
            let echo = format!("$ {}", cmd.kubectl_line());
            let result = kubectl::execute(&cluster, &cmd, editor_text.as_deref()).await;
            let result = result.map(|o| o.text).map_err(|e| e.to_string());
            let _ = tx.send(Event::CommandDone { echo, result });
        });
    }

    pub fn restart(&self, index: usize) {
        if let Some(g) = &self.grades {
            let _ = g.send(GradeRequest::Restart { index });
        }
    }

    pub fn quiz_answered(&self, step: usize, question: usize, answer: crate::lesson::quiz::Answer) {
        if let Some(g) = &self.grades {
            let _ = g.send(GradeRequest::Quiz { step, question, answer });
        }
    }

    pub fn hint_used(&self, index: usize) {
        if let Some(g) = &self.grades {
            let _ = g.send(GradeRequest::Hint { index });
        }
    }

    pub fn save_progress(&self, current: usize, done: &BTreeSet<usize>) {
        if let Some(g) = &self.grades {
            let _ = g.send(GradeRequest::Progress { current, done: done.clone() });
        }
    }
}

/// On a fresh embedded sandbox the objects of finished steps are gone: apply the learner's own
/// drafts of those steps (the reference solution where there is no draft) and replay the
/// command-only steps' solution actions. Returns what went wrong, if anything.
pub async fn restore_done_steps(
    cluster: &Cluster,
    lesson: &Lesson,
    done: &BTreeSet<usize>,
    state_dir: &std::path::Path,
) -> Vec<String> {
    let mut problems = Vec::new();
    for &i in done {
        let Some(step) = lesson.step(i) else { continue };
        let draft = super::drafts::load(&super::drafts::draft_path(state_dir, &lesson.slug, &step.id));
        let yaml = match draft.filter(|d| crate::lesson::blanks::find_blanks(d).is_empty()) {
            Some(d) if step.starter.is_some() => d,
            _ => crate::lesson::load::solution_for(lesson, i),
        };
        if !yaml.trim().is_empty() {
            if let Err(e) = apply::apply_manifests(cluster, &yaml, ApplyOptions::default()).await {
                problems.push(format!("step {i}: {e}"));
            }
        }
        if step.starter.is_none() {
            for line in step.solution_actions.iter().filter(|l| !l.starts_with(crate::lesson::load::WAIT_FOR)) {
                // In the names of the learner's restored objects (their selector, their Service).
                let names = match Snapshot::fetch(&cluster.client, &cluster.namespace).await {
                    Ok(snapshot) => crate::checks::Names::find(&snapshot, &lesson.names),
                    Err(_) => lesson.names.clone(),
                };
                let line = &names.fill(line);
                let result = match kubectl::parse(line) {
                    Ok(cmd) => kubectl::execute(cluster, &cmd, None).await.map(|_| ()).map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                };
                if let Err(e) = result {
                    problems.push(format!("step {i}: {line}: {e}"));
                }
            }
        }
    }
    problems
}

/// The lesson-pane notice for a restore.
pub fn restore_notice(problems: &[String]) -> Event {
    let restored = crate::text::RESTORED;
    if problems.is_empty() {
        Event::Notice(super::Level::Info, restored.to_string())
    } else {
        Event::Notice(super::Level::Problem, format!("{restored}; but: {}", problems.join("; ")))
    }
}

/// Whether every StatefulSet has all its replicas Ready (a restore has come up).
fn sets_settled(snapshot: &Snapshot) -> bool {
    snapshot.statefulsets.values().all(|s| {
        let want = s.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
        s.status.as_ref().and_then(|st| st.ready_replicas).unwrap_or(0) == want
    })
}
