//! The `:` command line's link to the kubectl module: completion and the destructive check.

use crate::cluster::Snapshot;

pub struct Checked {
    pub destructive: bool,
    pub objects: Vec<(String, String)>,
}

pub fn complete(_line: &str, _snapshot: &Snapshot) -> Vec<String> {
    Vec::new()
}

pub fn check(line: &str) -> Result<Checked, String> {
    Ok(Checked { destructive: line.starts_with("delete"), objects: Vec::new() })
}
