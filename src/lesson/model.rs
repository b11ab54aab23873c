//! The in-memory form of a lesson, as the loader builds it from `lessons/<slug>/`. The UI reads
//! it to draw the lesson pane and the editor; the grader reads each step's checks.

use std::path::PathBuf;

use crate::checks::CheckSpec;

/// The lesson file format this build reads.
pub const FORMAT_VERSION: u32 = 1;

/// The marker of a blank in an editor starter.
pub const BLANK: &str = "???";

#[derive(Debug, Clone)]
pub struct Lesson {
    /// Folder name under `lessons/`, e.g. `statefulset`.
    pub slug: String,
    pub title: String,
    /// One or two sentences for `kubetutor lessons`.
    pub summary: String,
    pub steps: Vec<Step>,
    /// Markdown shown after the last step passes.
    pub recap: String,
    /// Further reading (upstream docs).
    pub links: Vec<Link>,
    /// Where the lesson was loaded from.
    pub dir: PathBuf,
    /// The names `{{statefulset}}`, `{{service}}` and `{{selector}}` stand for until the
    /// learner's own objects show theirs (from the checks and the reference solution).
    pub names: crate::checks::Names,
}

#[derive(Debug, Clone)]
pub struct Step {
    /// Stable id (`headless-service`), used by progress and drafts.
    pub id: String,
    pub title: String,
    /// The step's text, Markdown.
    pub text: String,
    /// What the editor opens with for this step; `None` for steps done with commands only.
    pub starter: Option<Starter>,
    /// Step-level hints, revealed one tier at a time.
    pub hints: Vec<String>,
    /// What grades the step; all must pass.
    pub checks: Vec<CheckSpec>,
    /// Reference solution manifests (YAML text, one or more documents each), applied by
    /// "reset step" / "skip ahead" and shown next to the learner's after a pass.
    pub solution: Vec<String>,
    /// Commands the reference solution runs after applying `solution` (kubectl syntax,
    /// e.g. `delete pod -l {{selector}}`, `scale sts web --replicas=3`; placeholders are
    /// filled with the learner's names), or `wait for <check name>` (wait until that check of
    /// this step passes before the next line).
    pub solution_actions: Vec<String>,
    /// The file names of `solution`, in the same order (`solution/web.yaml`).
    pub solution_files: Vec<String>,
    /// The recap quiz's questions about this step (may be none).
    pub quiz: Vec<super::quiz::Question>,
}

#[derive(Debug, Clone)]
pub struct Starter {
    /// A file name for the buffer (`web.yaml`), shown in the editor title.
    pub file_name: String,
    /// The YAML with `???` blanks.
    pub text: String,
    /// One entry per `???` in `text`, in order of appearance.
    pub blanks: Vec<Blank>,
    /// The objects the starter describes, `Kind/name` (`StatefulSet/web`), so a grading
    /// concern about that object can name the blank.
    pub objects: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Blank {
    /// A short label for the blank (`claim template name`).
    pub label: String,
    /// Hints from gentle to explicit.
    pub hints: Vec<String>,
    /// What the value must agree with, in words (`the name of the volume claim template`).
    pub agrees_with: Option<String>,
    /// The field paths this blank fills in the starter's object (`spec.serviceName`), matched
    /// against a check's concern to point at the blank.
    pub fills: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Link {
    pub title: String,
    pub url: String,
}

impl Lesson {
    pub fn step(&self, index: usize) -> Option<&Step> {
        self.steps.get(index)
    }
}
