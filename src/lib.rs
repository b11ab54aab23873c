//! kubetutor: an interactive terminal tutor for Kubernetes StatefulSets, with an embedded
//! sandbox cluster. The binary is a thin CLI over these modules.

pub mod app;
pub mod checks;
pub mod cluster;
pub mod grade;
pub mod lesson;
pub mod record;
pub mod sanitize;
pub mod state;
pub mod text;
pub mod theme;
pub mod ui;
