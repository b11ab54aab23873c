//! The checks: pure functions from a check's parameters, a [`Snapshot`] of the lesson's
//! objects, the recorded [`History`] and the probe pod's answers to an [`Outcome`]. The runner
//! gathers the inputs; the lesson file picks the checks and their parameters.

pub mod params;

pub use params::{Check, KINDS};
