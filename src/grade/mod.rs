//! Grading: checks as pure functions over cluster objects and the watch history, and the
//! runner that fetches what they need (including probe pods for DNS and HTTP).

pub mod checks;
pub mod cli;
pub mod report;
pub mod runner;
pub mod solve;
pub mod validate;
pub mod watched;

pub use report::{CheckReport, Concern, Outcome, StepReport, StepStatus};

/// One check of a step, as the lesson file declares it. Defined with the checks.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
pub struct CheckSpec {
    /// What the check is called in the UI and in `check --json`.
    pub name: String,
    /// Which check (`headless_service`, `statefulset_spec`, ...).
    pub kind: String,
    /// The check's parameters.
    #[serde(default)]
    pub params: serde_json::Value,
}
