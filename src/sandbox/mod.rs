//! The embedded sandbox cluster: a Kubernetes-compatible API server with its store and
//! controllers. Knows nothing of the tutor; it could be its own crate.

pub mod clock;
pub mod error;
pub mod resources;
pub mod store;
