//! The checks: pure functions from a check's parameters, a [`Snapshot`] of the lesson's
//! objects, the recorded [`History`], the probe pod's answers and the step's [`Baseline`] to
//! an [`Outcome`]. The runner gathers the inputs; the lesson file picks the checks and their
//! parameters.

pub mod outcome;
pub mod params;
pub mod pods;
pub mod probe;
pub mod roles;
pub mod service;
pub mod update;
pub mod util;

pub use outcome::{CheckSpec, Concern, Outcome, StepStatus};
pub use params::{Check, KINDS};
pub use pods::Baseline;
pub use probe::{HostAnswer, ProbeAnswers};
pub use roles::Names;

use crate::cluster::{History, Snapshot};

/// Everything a check may look at.
#[derive(Clone, Copy)]
pub struct Inputs<'a> {
    pub snapshot: &'a Snapshot,
    pub history: &'a History,
    pub probes: &'a ProbeAnswers,
    /// The pods and claims when the step began (for `stable_identity`).
    pub baseline: Option<&'a Baseline>,
}

/// Run one check.
pub fn run(check: &Check, inputs: Inputs<'_>) -> Outcome {
    let Inputs { snapshot, history, probes, baseline } = inputs;
    match check {
        Check::HeadlessService(p) => service::headless_service(p, snapshot),
        Check::StatefulSetSpec(p) => service::statefulset_spec(p, snapshot),
        Check::PodsReady(p) => pods::pods_ready(p, snapshot),
        Check::OrderedCreation(p) => pods::ordered_creation(p, snapshot, history),
        Check::PvcsBound(p) => pods::pvcs_bound(p, snapshot),
        Check::Dns(p) => probe::dns(p, snapshot, probes),
        Check::HttpIndex(p) => probe::http_index(p, snapshot, probes),
        Check::StableIdentity(p) => pods::stable_identity(p, snapshot, history, baseline),
        Check::Scaled(p) => pods::scaled(p, snapshot),
        Check::Canary(p) => update::canary(p, snapshot, history),
        Check::RolloutComplete(p) => update::rollout_complete(p, snapshot, history),
    }
}

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod tests;
