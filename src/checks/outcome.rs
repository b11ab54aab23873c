//! What a check finds: an [`Outcome`] (passed, or failed with the [`Concern`]s that say what
//! is wrong and where), and the [`CheckSpec`] a lesson file declares a check with.

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Pass,
    NotYet,
    Waiting,
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

/// One check of a step, as the lesson file declares it.
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
