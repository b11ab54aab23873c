//! What a command of the command line fails with, in kubectl's words.

use crate::cluster::apply::ApplyError;
use crate::cluster::probe::ProbeError;

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The server refused: kubectl's `Error from server (NotFound): pods "web-9" not found`.
    #[error("Error from server ({reason}): {message}")]
    Api { code: u16, reason: String, message: String },
    #[error("{0}")]
    Apply(Box<ApplyError>),
    #[error("{0}")]
    Probe(ProbeError),
    /// The command cannot run as given (nothing to apply, a bad patch, ...).
    #[error("error: {0}")]
    Usage(String),
    #[error("cannot reach the cluster: {0}")]
    Connection(String),
}

impl From<kube::Error> for CommandError {
    fn from(e: kube::Error) -> Self {
        match e {
            kube::Error::Api(s) => {
                let reason = if s.reason.is_empty() { format!("{}", s.code) } else { s.reason.clone() };
                CommandError::Api { code: s.code, reason, message: s.message.clone() }
            }
            other => CommandError::Connection(other.to_string()),
        }
    }
}
