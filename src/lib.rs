//! kubetutor: an interactive terminal tutor for Kubernetes StatefulSets, with an embedded
//! sandbox cluster. The binary is `cli::main`: the command line over these modules.

pub mod app;
pub mod checks;
pub mod cli;
pub mod cluster;
pub mod grade;
pub mod lesson;
pub mod record;
pub mod sanitize;
pub mod state;
pub mod text;
pub mod theme;
pub mod ui;
