//! The `:` command line's link to `cluster::kubectl`: parsing (for the confirmation of
//! destructive commands outside the lesson's objects), Tab completion of the last word, and
//! code blocks of the step text copied onto it (`c`).

use super::{App, CommandLine, Effect, Level, Message};
use crate::cluster::kubectl::{self, Command, Targets};
use crate::cluster::Snapshot;
use crate::text;

/// What the app needs to know about a command before running it.
pub(super) struct Checked {
    pub destructive: bool,
    /// `(kind, name)` of the objects it names.
    pub objects: Vec<(String, String)>,
    /// `delete ... --all`: names nothing, touches everything.
    pub everything: bool,
    /// `apply` of the editor (taken through the editor's own apply: dry run, marks on lines).
    pub editor_apply: bool,
}

pub(super) fn check(line: &str) -> Result<Checked, String> {
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
pub(super) fn complete(line: &str, snapshot: &Snapshot) -> (String, Vec<String>) {
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

/// The code blocks of the open step's text as the learner sees it (in their own names), in
/// order, as their lines.
pub fn code_blocks(app: &App) -> Vec<Vec<String>> {
    use pulldown_cmark::{Event as Md, Parser, Tag, TagEnd};
    let Some(step) = app.lesson.step(app.step) else { return Vec::new() };
    let text = app.names().fill(&step.text);
    let mut blocks = Vec::new();
    let mut current: Option<Vec<String>> = None;
    for event in Parser::new(&text) {
        match event {
            Md::Start(Tag::CodeBlock(_)) => current = Some(Vec::new()),
            Md::Text(t) => {
                if let Some(lines) = current.as_mut() {
                    lines.extend(t.lines().map(str::to_string));
                }
            }
            Md::End(TagEnd::CodeBlock) => blocks.extend(current.take()),
            _ => {}
        }
    }
    blocks
}

/// `c`: the next code block of the text goes to the clipboard, and its first command (without
/// `kubectl`) onto the command line, ready to run with Enter or to edit.
pub(super) fn copy_block(app: &mut App, fx: &mut Vec<Effect>) {
    let blocks = code_blocks(app);
    if blocks.is_empty() {
        app.message = Some(Message { level: Level::Info, text: text::NO_CODE.into() });
        return;
    }
    let i = app.copied_block.map_or(0, |i| (i + 1) % blocks.len());
    app.copied_block = Some(i);
    let block = &blocks[i];
    fx.push(Effect::Clipboard(block.join("\n")));
    let command = block.iter().map(|l| l.trim()).find(|l| check(l).is_ok());
    let n = format!("{}/{}", i + 1, blocks.len());
    match command {
        Some(line) => {
            let line = line.strip_prefix("kubectl ").unwrap_or(line).to_string();
            app.command = Some(CommandLine { input: line, ..Default::default() });
            app.message = Some(Message { level: Level::Info, text: text::COPIED_RUN.replace("{n}", &n) });
        }
        None => app.message = Some(Message { level: Level::Info, text: text::COPIED.replace("{n}", &n) }),
    }
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

    #[test]
    fn only_commands_that_look_ask_the_learner_to_look() {
        let text =
            "Run `:nslookup web-0.nginx`, then `:delete pod -l app=nginx`; `:get pods -L a` and `kubectl get pvc`.";
        assert_eq!(super::super::tutor_commands(text), ["nslookup web-0.nginx", "get pods -L a"]);
    }
}
