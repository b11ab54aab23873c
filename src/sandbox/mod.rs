//! The embedded sandbox cluster: a Kubernetes-compatible API server with its store and
//! controllers. Knows nothing of the tutor; it could be its own crate.

pub mod clock;
pub mod error;
pub mod gc;
pub mod kubeconfig;
pub mod logs;
pub mod resources;
pub mod selector;
pub mod store;
