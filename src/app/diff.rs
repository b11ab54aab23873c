//! The editor's diff (Ctrl-D): the live version of the editor's objects, cut to the fields the
//! editor mentions, against the editor's text, both normalised the same way so that only real
//! differences show. `update` calls it; the overlay draws the lines.

use super::{App, DiffLine, DiffTag, Level, Message, Overlay};
use crate::text;

/// The live version of the editor's objects as YAML, trimmed of what the server adds.
fn live_yaml(app: &App) -> Option<String> {
    use serde::Deserialize;
    let mut out = String::new();
    for doc in serde_yaml::Deserializer::from_str(&app.editor.text()) {
        let v = serde_yaml::Value::deserialize(doc).ok()?;
        let kind = v.get("kind").and_then(|k| k.as_str()).unwrap_or("");
        let name = v.get("metadata").and_then(|m| m.get("name")).and_then(|n| n.as_str()).unwrap_or("");
        let live = match kind {
            "StatefulSet" => serde_json::to_value(app.snapshot.statefulsets.get(name)?).ok()?,
            "Service" => serde_json::to_value(app.snapshot.services.get(name)?).ok()?,
            _ => continue,
        };
        let trimmed = trim_like(&serde_json::to_value(&v).ok()?, &live);
        if !out.is_empty() {
            out.push_str("---\n");
        }
        out.push_str(&serde_yaml::to_string(&trimmed).ok()?);
    }
    (!out.is_empty()).then_some(out)
}

/// The live object restricted to the fields the editor mentions (defaults the server filled in
/// and status would drown the diff).
fn trim_like(mine: &serde_json::Value, live: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match (mine, live) {
        (Value::Object(m), Value::Object(l)) => {
            let mut out = serde_json::Map::new();
            for (k, mv) in m {
                if let Some(lv) = l.get(k) {
                    out.insert(k.clone(), trim_like(mv, lv));
                }
            }
            Value::Object(out)
        }
        (Value::Array(m), Value::Array(l)) => Value::Array(
            l.iter().enumerate().map(|(i, lv)| m.get(i).map(|mv| trim_like(mv, lv)).unwrap_or(lv.clone())).collect(),
        ),
        _ => live.clone(),
    }
}

/// `Ctrl-D`: the diff of the live objects against the editor, or a message when there is
/// nothing live or nothing different.
pub(super) fn show_diff(app: &mut App) {
    let Some(live) = live_yaml(app) else {
        app.message = Some(Message { level: Level::Info, text: text::DIFF_NO_LIVE.into() });
        return;
    };
    // Normalise the editor text the same way so only real differences show.
    let mine = {
        use serde::Deserialize;
        let mut s = String::new();
        for doc in serde_yaml::Deserializer::from_str(&app.editor.text()) {
            if let Ok(v) = serde_yaml::Value::deserialize(doc) {
                let kind = v.get("kind").and_then(|k| k.as_str()).unwrap_or("");
                if !matches!(kind, "StatefulSet" | "Service") {
                    continue;
                }
                if !s.is_empty() {
                    s.push_str("---\n");
                }
                // Through serde_json (sorted keys) like the live side, so only values differ.
                let json = serde_json::to_value(&v).unwrap_or_default();
                s.push_str(&serde_yaml::to_string(&json).unwrap_or_default());
            }
        }
        s
    };
    let diff = similar::TextDiff::from_lines(&live, &mine);
    let lines: Vec<DiffLine> = diff
        .iter_all_changes()
        .map(|c| DiffLine {
            tag: match c.tag() {
                similar::ChangeTag::Equal => DiffTag::Same,
                similar::ChangeTag::Insert => DiffTag::Added,
                similar::ChangeTag::Delete => DiffTag::Removed,
            },
            text: c.value().trim_end_matches('\n').to_string(),
        })
        .collect();
    if lines.iter().all(|l| l.tag == DiffTag::Same) {
        app.message = Some(Message { level: Level::Good, text: text::DIFF_SAME.into() });
        return;
    }
    app.overlay = Some(Overlay::Diff { title: text::PANE_DIFF.into(), lines, scroll: 0 });
}
