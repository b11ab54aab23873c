//! What grading says: per check an [`Outcome`] (never a bare "failed"), per step a
//! [`StepReport`]. The UI draws these; `kubetutor check --json` serialises them.

use serde::Serialize;

/// Where a problem is: the object, the field path in it, and the editor blank it comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Concern {
    /// `StatefulSet/web`, `Service/nginx`, `Pod/web-1`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// A field path in the object, dotted with list indexes: `spec.template.spec.containers[0].ports[0].name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The index of the `???` blank of the step's starter this comes from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blank: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    /// Not there yet: what is wrong, where, and what to try.
    NotYet {
        reason: String,
        concern: Concern,
        hint: Option<String>,
    },
    /// Nothing wrong so far; waiting for the cluster (`web-1 to be Ready`).
    Waiting {
        what: String,
    },
}

impl Outcome {
    pub fn not_yet(reason: impl Into<String>) -> Outcome {
        Outcome::NotYet { reason: reason.into(), concern: Concern::default(), hint: None }
    }

    pub fn waiting(what: impl Into<String>) -> Outcome {
        Outcome::Waiting { what: what.into() }
    }

    pub fn is_pass(&self) -> bool {
        matches!(self, Outcome::Pass)
    }

    /// `pass`, `not_yet` or `waiting`, as in `check --json`.
    pub fn status(&self) -> StepStatus {
        match self {
            Outcome::Pass => StepStatus::Pass,
            Outcome::NotYet { .. } => StepStatus::NotYet,
            Outcome::Waiting { .. } => StepStatus::Waiting,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Pass,
    NotYet,
    Waiting,
}

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
