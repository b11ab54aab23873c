//! The headless commands: `kubetutor check` (grade a cluster, text or JSON, exit status 0 only
//! when every asked step passes), `kubetutor lessons` (list) and `kubetutor lessons validate`
//! (every lesson loads, and each step's solution passes on a fresh sandbox). main.rs parses the
//! arguments with the structs here and calls [`run_check`] / [`run_lessons`].

use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;

use super::runner::Grader;
use super::{Outcome, StepReport, StepStatus};
use crate::cluster::{self, History, KubeconfigOptions, Snapshot};
use crate::lesson::load::{self, LoadError};
use crate::lesson::progress::Progress;
use crate::lesson::Lesson;

/// The lesson graded when none is named.
pub const DEFAULT_LESSON: &str = "statefulset";

#[derive(Debug, Clone, clap::Args)]
pub struct CheckArgs {
    /// The lesson to grade (see `kubetutor lessons`).
    #[arg(long, default_value = DEFAULT_LESSON)]
    pub lesson: String,
    /// Grade only this step (numbered from 0); default: every step.
    #[arg(long)]
    pub step: Option<usize>,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
    /// The kubeconfig to use (default: $KUBECONFIG or ~/.kube/config).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context (default: the current context).
    #[arg(long)]
    pub context: Option<String>,
    /// The namespace the lesson's objects are in (default: the context's, else "kubetutor").
    #[arg(long, short = 'n')]
    pub namespace: Option<String>,
    /// An extra folder of lessons (or one lesson folder).
    #[arg(long, env = load::LESSONS_DIR_ENV)]
    pub lessons_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct LessonsArgs {
    #[command(subcommand)]
    pub command: Option<LessonsCommand>,
    /// An extra folder of lessons (or one lesson folder).
    #[arg(long, env = load::LESSONS_DIR_ENV, global = true)]
    pub lessons_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum LessonsCommand {
    /// Check every lesson: it loads, and on a fresh sandbox each step's reference solution
    /// passes (and the step does not pass before it).
    Validate {
        /// Validate only this lesson.
        #[arg(long)]
        lesson: Option<String>,
        /// Seconds each step may take to pass on the sandbox (it runs at infinite speed: a
        /// step that needs more is stuck).
        #[arg(long, default_value_t = 30)]
        timeout: u64,
    },
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

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()
}

/// `kubetutor check`: the exit status (0 all asked steps pass, 1 not, 2 error).
pub fn run_check(args: CheckArgs) -> i32 {
    match runtime().map_err(|e| e.to_string()).and_then(|rt| rt.block_on(check(&args))) {
        Ok((pass, text)) => {
            print!("{text}");
            if pass {
                0
            } else {
                1
            }
        }
        Err(e) => {
            eprintln!("kubetutor check: {e}");
            2
        }
    }
}

async fn check(args: &CheckArgs) -> Result<(bool, String), String> {
    let lesson = Arc::new(load::find_in(&args.lesson, args.lessons_dir.as_deref()).map_err(|e| e.to_string())?);
    let steps: Vec<usize> = match args.step {
        Some(n) if n >= lesson.steps.len() => {
            return Err(format!("the lesson has steps 0 to {}; there is no step {n}", lesson.steps.len() - 1))
        }
        Some(n) => vec![n],
        None => (0..lesson.steps.len()).collect(),
    };
    let opts = KubeconfigOptions {
        kubeconfig: args.kubeconfig.clone(),
        context: args.context.clone(),
        namespace: args.namespace.clone(),
    };
    let cluster = cluster::connect_kubeconfig(&opts).await.map_err(|e| e.to_string())?;
    let described = cluster.describe();
    let snapshot = Snapshot::fetch(&cluster.client, &cluster.namespace).await.map_err(|e| {
        let why = cluster::errors::explain(&e);
        let sandbox = matches!(&cluster.backend, cluster::Backend::Kubeconfig { context, .. }
            if context == kube_sandbox::consts::KUBECONFIG_CONTEXT && !matches!(e, kube::Error::Api(_)));
        let next = if sandbox { format!("; {}", cluster::doctor::SANDBOX_GONE) } else { String::new() };
        format!("cannot read the lesson's objects in namespace {}: {why}{next}", cluster.namespace)
    })?;
    let mut grader = Grader::new(cluster, lesson.clone());
    // What the tutor recorded (the steps passed, what they proved, the pods before step 3):
    // `check` grades as the tutor's screen does.
    let progress = match Progress::load(&lesson.slug) {
        Ok(progress) => {
            grader.restore(&lesson, &progress);
            progress
        }
        Err(e) => {
            eprintln!("kubetutor check: not using the tutor's records: {e}");
            Progress::default()
        }
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
    let pass = steps.iter().all(StepJson::counts_as_done);
    let out = CheckOutput { lesson: lesson.slug.clone(), title: lesson.title.clone(), cluster: described, steps };
    let text = if args.json {
        format!("{}\n", serde_json::to_string_pretty(&out).expect("check output serialises"))
    } else {
        render_text(&lesson, &out)
    };
    Ok((pass, text))
}

/// `kubetutor lessons [validate]`: the exit status.
pub fn run_lessons(args: LessonsArgs) -> i32 {
    match &args.command {
        None => match load::catalog(args.lessons_dir.as_deref()) {
            Ok(lessons) => {
                print!("{}", list(&lessons));
                0
            }
            Err(e) => {
                eprintln!("kubetutor lessons: {e}");
                2
            }
        },
        Some(LessonsCommand::Validate { lesson, timeout }) => {
            let rt = match runtime() {
                Ok(rt) => rt,
                Err(e) => {
                    eprintln!("kubetutor lessons validate: {e}");
                    return 2;
                }
            };
            let timeout = std::time::Duration::from_secs(*timeout);
            rt.block_on(super::validate::run(args.lessons_dir.as_deref(), lesson.as_deref(), timeout))
        }
    }
}

/// `kubetutor lessons`: one paragraph per lesson.
pub fn list(lessons: &[Lesson]) -> String {
    let mut s = String::new();
    for l in lessons {
        s.push_str(&format!("{}  {} ({} steps)\n    {}\n", l.slug, l.title, l.steps.len(), l.summary));
    }
    s
}

/// A lesson load failure in `lessons validate`'s words.
pub fn load_failure(e: &LoadError) -> String {
    format!("FAIL {e}")
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
