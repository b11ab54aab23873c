//! Grading: the runner that gathers what the checks ([`crate::checks`]) look at (snapshots,
//! the watch history, probe pods for DNS and HTTP) and keeps what a pass proves, the reports,
//! solving with reference solutions, `kubetutor check` and `lessons validate`.

pub mod headless;
pub mod report;
pub mod runner;
pub mod solve;
pub mod validate;
pub mod watched;

pub use report::{CheckReport, Concern, Outcome, StepReport, StepStatus};

pub use crate::checks::CheckSpec;
