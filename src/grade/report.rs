//! What grading says: per check a [`CheckReport`] (its [`Outcome`] from `crate::checks`, and
//! whether the pass was proven earlier), per step a [`StepReport`] and its status. The UI draws
//! these; `grade::cli` turns them into `kubetutor check`'s text and JSON.

pub use crate::checks::{Concern, Outcome, StepStatus};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport {
    pub name: String,
    pub outcome: Outcome,
    /// A pass kept from the record of when it was proven (an order or a rollout that is over,
    /// pods re-created and their data kept), not seen in the cluster as it is now.
    pub proven: bool,
}

impl CheckReport {
    /// A check as graded now, not from the record.
    pub fn live(name: impl Into<String>, outcome: Outcome) -> CheckReport {
        CheckReport { name: name.into(), outcome, proven: false }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepReport {
    pub index: usize,
    pub id: String,
    pub title: String,
    pub checks: Vec<CheckReport>,
}

impl StepReport {
    /// Pass when every check passes; otherwise NotYet if any check is not yet, else Waiting.
    pub fn status(&self) -> StepStatus {
        if self.checks.iter().all(|c| c.outcome.is_pass()) {
            StepStatus::Pass
        } else if self.checks.iter().any(|c| matches!(c.outcome, Outcome::NotYet { .. })) {
            StepStatus::NotYet
        } else {
            StepStatus::Waiting
        }
    }
}
