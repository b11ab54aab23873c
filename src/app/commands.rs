//! The `:` command line's link to `cluster::kubectl`: parsing (for the confirmation of
//! destructive commands outside the lesson's objects) and Tab completion of the last word.

use crate::cluster::kubectl::{self, Command, Targets};
use crate::cluster::Snapshot;

/// What the app needs to know about a command before running it.
pub struct Checked {
    pub destructive: bool,
    /// `(kind, name)` of the objects it names.
    pub objects: Vec<(String, String)>,
    /// `delete ... --all`: names nothing, touches everything.
    pub everything: bool,
    /// `apply` of the editor (taken through the editor's own apply: dry run, marks on lines).
    pub editor_apply: bool,
}

pub fn check(line: &str) -> Result<Checked, String> {
    let cmd = kubectl::parse(line).map_err(|e| e.to_string())?;
    Ok(Checked {
        destructive: cmd.is_destructive(),
        objects: cmd.object_names(),
        everything: matches!(cmd, Command::Delete { targets: Targets::All, .. }),
        editor_apply: matches!(cmd, Command::Apply { dry_run: false, force: false, .. }),
    })
}

/// The line with its last word completed: a single candidate replaces it (plus a space), several
/// are cut to their common prefix; also returns the candidates to show.
pub fn complete(line: &str, snapshot: &Snapshot) -> (String, Vec<String>) {
    let options = kubectl::complete(line, snapshot);
    let cut = if line.is_empty() || line.ends_with(char::is_whitespace) {
        line.len()
    } else {
        line.rfind(char::is_whitespace).map(|i| i + 1).unwrap_or(0)
    };
    let head = &line[..cut];
    match options.as_slice() {
        [] => (line.to_string(), Vec::new()),
        [only] => (format!("{head}{only} "), Vec::new()),
        many => {
            let common = common_prefix(many);
            let current = &line[cut..];
            let word = if common.len() > current.len() { common } else { current.to_string() };
            (format!("{head}{word}"), many.to_vec())
        }
    }
}

fn common_prefix(options: &[String]) -> String {
    let first = &options[0];
    let mut len = first.len();
    for o in &options[1..] {
        len = len.min(first.bytes().zip(o.bytes()).take_while(|(a, b)| a == b).count());
    }
    while !first.is_char_boundary(len) {
        len -= 1;
    }
    first[..len].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completion_replaces_the_last_word() {
        let snap = Snapshot::default();
        let (line, shown) = complete("sca", &snap);
        assert_eq!((line.as_str(), shown.len()), ("scale ", 0));
        let c = check("delete pod web-0").unwrap();
        assert!(c.destructive && !c.everything && !c.editor_apply);
        assert_eq!(c.objects, vec![("Pod".to_string(), "web-0".to_string())]);
        assert!(check("delete pods --all").unwrap().everything);
        assert!(check("apply -f web.yaml").unwrap().editor_apply);
        assert!(check("frobnicate").is_err());
    }
}
