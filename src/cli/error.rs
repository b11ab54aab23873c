//! Every way a subcommand fails, as the edge reports it: one line on stderr, `kubetutor: ` (or
//! `kubetutor check: `, ...) and the message, then exit status 2. The library's typed errors
//! come through whole; each message already carries its cause, so the report prints the
//! message alone and says every cause once.

use std::net::SocketAddr;
use std::process::ExitCode;

use crate::cluster::ClusterError;
use crate::grade::headless::CheckError;
use crate::grade::validate::NoSuchLesson;
use crate::lesson::load::LoadError;
use crate::record::RecordError;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error(transparent)]
    Lesson(#[from] LoadError),
    #[error(transparent)]
    Record(#[from] RecordError),
    #[error(transparent)]
    Check(#[from] CheckError),
    #[error(transparent)]
    Validate(#[from] NoSuchLesson),
    #[error(transparent)]
    Sandbox(#[from] kube_sandbox::TlsError),
    #[error(
        "refusing to listen on {0}: it is not a loopback address. Add --allow-remote if you mean it \
         (everyone who can reach it and has the token can use the sandbox)"
    )]
    NotLoopback(SocketAddr),
    #[error("cannot reset namespace {namespace}: {message}")]
    Reset { namespace: String, message: String },
    #[error("cannot list progress ConfigMaps in all namespaces: {0}")]
    ListProgress(String),
    #[error("the watch of progress ConfigMaps ended: {0}")]
    WatchProgress(String),
    #[error("cannot write JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// `what` says what was being done: "cannot listen on 127.0.0.1:80", "cannot write ...".
    #[error("{what}: {source}")]
    Io { what: String, source: std::io::Error },
    /// The screens (tutor, review, the instructor's), whose app layer reports with anyhow;
    /// printed with its chain of causes.
    #[error("{}", chain(.0))]
    App(anyhow::Error),
}

impl CliError {
    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> CliError {
        let what = what.into();
        move |source| CliError::Io { what, source }
    }

    /// Every failure exits 2: `check` and `doctor` keep 1 for "not done" / "blocked".
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(2)
    }
}

/// "what was done: why: why that", each cause once: a message that already quotes its cause
/// (`cannot read x: No such file`, whose source is that same io error) does not get it twice.
fn chain(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let cause = cause.to_string();
        if text.contains(&cause) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&cause);
    }
    text
}

impl From<anyhow::Error> for CliError {
    fn from(e: anyhow::Error) -> CliError {
        CliError::App(e)
    }
}
