//! Integration tests: one binary, one module per area. Each test starts its own sandbox on
//! 127.0.0.1:0 and talks to it the way a user would (kube-rs over HTTP, or the real kubectl).

mod apply;
mod cli;
mod cluster;
mod doctor;
mod hardening;
mod instructor;
mod instructor_e2e;
mod kubectl;
mod kubectl_cmd;
mod lesson;
mod lesson_cli;
mod names;
mod ownership;
mod probes;
mod restart;
mod review;
mod review_e2e;
mod sandbox_api;
mod support;
mod tui_e2e;
mod tui_fixture;
mod tui_keys;
mod tui_loop;
mod tui_path;
mod tui_snap;
mod tutorial;
mod watch;
mod workshop;
