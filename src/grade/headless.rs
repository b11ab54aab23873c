//! What the headless commands compute: `kubetutor check` grades a cluster as the tutor's
//! screen would ([`check`], then [`render_text`] or the JSON of [`CheckOutput`]), and `kubetutor
//! lessons` lists the catalogue ([`list`]). The command line (`crate::cli`) fills in
//! [`CheckOptions`], prints, and turns the result into the exit status.

use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;

use super::runner::Grader;
use super::{Outcome, StepReport, StepStatus};
use crate::cluster::{self, ClusterError, History, KubeconfigOptions, Snapshot};
use crate::lesson::load::{self, LoadError};
use crate::lesson::progress::{Progress, ProgressError};
use crate::lesson::Lesson;

/// The lesson graded when none is named.
pub const DEFAULT_LESSON: &str = "statefulset";

/// What `kubetutor check` grades, and where.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// The lesson to grade.
    pub lesson: String,
    /// An extra folder of lessons (or one lesson folder).
    pub lessons_dir: Option<PathBuf>,
    /// Grade only this step; `None`: every step.
    pub step: Option<usize>,
    pub cluster: KubeconfigOptions,
}

/// Why `check` could not grade.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Lesson(#[from] LoadError),
    #[error("the lesson has steps 0 to {last}; there is no step {step}")]
    NoSuchStep { step: usize, last: usize },
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    /// `next` says what to do when the kubeconfig is a sandbox's that has stopped.
    #[error("cannot read the lesson's objects in namespace {namespace}: {message}{next}")]
    Read { namespace: String, message: String, next: String },
}

/// A graded lesson.
#[derive(Debug)]
pub struct Checked {
    pub lesson: Arc<Lesson>,
    pub output: CheckOutput,
    /// The tutor's records could not be read: graded without them (from the objects alone).
    pub records_unread: Option<ProgressError>,
}

impl Checked {
    /// Every step graded counts as done, as the tutor's step list would show it.
    pub fn all_done(&self) -> bool {
        self.output.steps.iter().all(StepJson::counts_as_done)
    }
}

/// One check in `check --json`.
#[derive(Debug, Serialize)]
pub struct CheckJson {
    pub name: String,
    pub status: StepStatus,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blank: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// A pass from the record of when the check was proven (the tutor's progress file).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub proven: bool,
}

#[derive(Debug, Serialize)]
pub struct StepJson {
    pub index: usize,
    pub id: String,
    pub title: String,
    pub status: StepStatus,
    /// The learner's record says the step passed (the tutor's progress file); with status
    /// `not_yet` the step is "passed, now failing".
    pub passed_before: bool,
    pub checks: Vec<CheckJson>,
}

impl StepJson {
    /// What the tutor's step list shows: a passed step stays done while the cluster only
    /// catches up (waiting), and shows as failing when something is wrong now.
    pub fn counts_as_done(&self) -> bool {
        self.status == StepStatus::Pass || (self.passed_before && self.status == StepStatus::Waiting)
    }

    fn status_text(&self) -> &'static str {
        match (self.status, self.passed_before) {
            (StepStatus::Pass, _) => "pass",
            (StepStatus::NotYet, true) => "passed, now failing",
            (StepStatus::NotYet, false) => "not yet",
            (StepStatus::Waiting, true) => "passed, the cluster is catching up",
            (StepStatus::Waiting, false) => "waiting",
        }
    }
}

#[derive(Debug, Serialize)]
pub struct CheckOutput {
    pub lesson: String,
    pub title: String,
    pub cluster: String,
    pub steps: Vec<StepJson>,
}

impl From<&StepReport> for StepJson {
    fn from(r: &StepReport) -> StepJson {
        let checks = r
            .checks
            .iter()
            .map(|c| {
                let status = c.outcome.status();
                match &c.outcome {
                    Outcome::Pass => CheckJson {
                        name: c.name.clone(),
                        status,
                        message: "ok".into(),
                        object: None,
                        field: None,
                        blank: None,
                        hint: None,
                        proven: c.proven,
                    },
                    Outcome::NotYet { reason, concern, hint } => CheckJson {
                        name: c.name.clone(),
                        status,
                        message: reason.clone(),
                        object: concern.object.clone(),
                        field: concern.field.clone(),
                        blank: concern.blank,
                        hint: hint.clone(),
                        proven: false,
                    },
                    Outcome::Waiting { what } => CheckJson {
                        name: c.name.clone(),
                        status,
                        message: what.clone(),
                        object: None,
                        field: None,
                        blank: None,
                        hint: None,
                        proven: false,
                    },
                }
            })
            .collect();
        StepJson {
            index: r.index,
            id: r.id.clone(),
            title: r.title.clone(),
            status: r.status(),
            passed_before: false,
            checks,
        }
    }
}

/// The text form of `check`'s result.
pub fn render_text(lesson: &Lesson, out: &CheckOutput) -> String {
    let mut s = format!("{} ({}) on {}\n", lesson.title, lesson.slug, out.cluster);
    for step in &out.steps {
        s.push_str(&format!("\nstep {} {}: {}\n", step.index, step.title, step.status_text()));
        for c in &step.checks {
            let mark = match c.status {
                StepStatus::Pass => "ok  ",
                StepStatus::NotYet => "FIX ",
                StepStatus::Waiting => "... ",
            };
            if c.status == StepStatus::Pass {
                let proven = if c.proven { " (proven when it passed)" } else { "" };
                s.push_str(&format!("  {mark}{}{proven}\n", c.name));
                continue;
            }
            s.push_str(&format!("  {mark}{}: {}\n", c.name, c.message));
            let starter = lesson.step(step.index).and_then(|st| st.starter.as_ref());
            let place = match (&c.object, &c.field) {
                (Some(o), Some(f)) => Some(format!("{o} {f}")),
                (Some(o), None) => Some(o.clone()),
                (None, Some(f)) => Some(f.clone()),
                (None, None) => None,
            };
            if let Some(place) = place {
                let blank = c
                    .blank
                    .and_then(|b| Some((b, starter?.blanks.get(b)?.label.clone())))
                    .map(|(b, label)| format!(" (blank {}: {label})", b + 1))
                    .unwrap_or_default();
                s.push_str(&format!("        at {place}{blank}\n"));
            }
            if let Some(hint) = &c.hint {
                s.push_str(&format!("        hint: {hint}\n"));
            }
        }
    }
    // Messages quote what the cluster holds (a page a pod serves, an event): nothing in them
    // may act on the terminal of whoever runs `check` (an instructor on an attendee's namespace).
    crate::sanitize::escape(&s, true).into_owned()
}

/// Grade the steps `opts` asks for on the cluster it names, with what the tutor recorded in
/// its progress file (the steps passed, what they proved, the pods before step 3), so the
/// result agrees with the tutor's screen.
pub async fn check(opts: &CheckOptions) -> Result<Checked, CheckError> {
    let lesson = Arc::new(load::find_in(&opts.lesson, opts.lessons_dir.as_deref())?);
    let steps: Vec<usize> = match opts.step {
        Some(step) if step >= lesson.steps.len() => {
            return Err(CheckError::NoSuchStep { step, last: lesson.steps.len() - 1 })
        }
        Some(n) => vec![n],
        None => (0..lesson.steps.len()).collect(),
    };
    let cluster = cluster::connect_kubeconfig(&opts.cluster).await?;
    let described = cluster.describe();
    let snapshot = Snapshot::fetch(&cluster.client, &cluster.namespace).await.map_err(|e| {
        let sandbox = matches!(&cluster.backend, cluster::Backend::Kubeconfig { context, .. }
            if context == kube_sandbox::consts::KUBECONFIG_CONTEXT && !matches!(e, kube::Error::Api(_)));
        CheckError::Read {
            namespace: cluster.namespace.clone(),
            message: cluster::errors::explain(&e),
            next: if sandbox { format!("; {}", cluster::doctor::SANDBOX_GONE) } else { String::new() },
        }
    })?;
    let mut grader = Grader::new(cluster, lesson.clone());
    let (progress, records_unread) = match Progress::load(&lesson.slug) {
        Ok(progress) => {
            grader.restore(&lesson, &progress);
            (progress, None)
        }
        Err(e) => (Progress::default(), Some(e)),
    };
    // Nothing was watched: order is judged from the objects' timestamps.
    let history = History::new(jiff::Timestamp::now());
    let mut reports = Vec::new();
    for i in steps {
        reports.push(grader.grade_step(i, &snapshot, &history).await);
    }
    let steps: Vec<StepJson> = reports
        .iter()
        .map(|r| StepJson { passed_before: progress.is_done(&lesson, r.index), ..StepJson::from(r) })
        .collect();
    let output = CheckOutput { lesson: lesson.slug.clone(), title: lesson.title.clone(), cluster: described, steps };
    Ok(Checked { lesson, output, records_unread })
}

/// `kubetutor lessons`: one paragraph per lesson.
pub fn list(lessons: &[Lesson]) -> String {
    let mut s = String::new();
    for l in lessons {
        s.push_str(&format!("{}  {} ({} steps)\n    {}\n", l.slug, l.title, l.steps.len(), l.summary));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grade::{CheckReport, Concern};

    #[test]
    fn text_never_carries_terminal_controls_from_the_cluster() {
        let lesson = load::find_in("statefulset", None).unwrap();
        let report = StepReport {
            index: 2,
            id: "ordered-creation".into(),
            title: "t".into(),
            checks: vec![CheckReport::live(
                "each pod serves its own hostname",
                Outcome::not_yet("web-0 serves \"\u{1b}]52;c;aGk=\u{7}\" instead of its hostname"),
            )],
        };
        let out = CheckOutput {
            lesson: "statefulset".into(),
            title: lesson.title.clone(),
            cluster: "sandbox".into(),
            steps: vec![StepJson::from(&report)],
        };
        let text = render_text(&lesson, &out);
        assert!(!text.contains('\u{1b}') && !text.contains('\u{7}'), "{text:?}");
        assert!(text.contains("web-0 serves \"^[]52;c;aGk=^G\""), "{text}");
    }

    #[test]
    fn text_names_the_place_and_the_blank() {
        let lesson = load::find_in("statefulset", None).unwrap();
        let report = StepReport {
            index: 1,
            id: "statefulset".into(),
            title: "The StatefulSet web".into(),
            checks: vec![
                CheckReport {
                    name: "spec".into(),
                    outcome: Outcome::NotYet {
                        reason: "spec.serviceName is \"ngnix\" but the headless Service is called \"nginx\"".into(),
                        concern: Concern {
                            object: Some("StatefulSet/web".into()),
                            field: Some("spec.serviceName".into()),
                            blank: Some(0),
                        },
                        hint: Some("Set serviceName.".into()),
                    },
                    proven: false,
                },
                CheckReport::live("pods", Outcome::waiting("waiting for web-0 to be created")),
            ],
        };
        let out = CheckOutput {
            lesson: "statefulset".into(),
            title: lesson.title.clone(),
            cluster: "sandbox".into(),
            steps: vec![StepJson::from(&report)],
        };
        let text = render_text(&lesson, &out);
        assert!(
            text.ends_with(
                "\nstep 1 The StatefulSet web: not yet\n  FIX spec: spec.serviceName is \"ngnix\" but the headless Service is called \"nginx\"\n        \
                 at StatefulSet/web spec.serviceName (blank 1: serviceName)\n        hint: Set serviceName.\n  ... pods: waiting for web-0 to be created\n"
            ),
            "{text}"
        );
        let json = serde_json::to_value(&out).unwrap();
        assert_eq!(
            json["steps"][0]["checks"][1],
            serde_json::json!({"name": "pods", "status": "waiting", "message": "waiting for web-0 to be created"})
        );
    }
}
