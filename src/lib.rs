//! kubetutor: an interactive terminal tutor for Kubernetes StatefulSets, with an embedded
//! sandbox cluster. The binary is a thin CLI over these modules.

pub mod sandbox;
