//! Drafts: the editor text of each step, saved atomically under
//! `state_dir()/drafts/<lesson>/<step-id>.yaml` as the learner types (debounced by the app) and
//! read back when the step opens, so no work is lost to a crash, a quit or a power cut.

use std::path::{Path, PathBuf};

pub fn draft_path(state_dir: &Path, lesson: &str, step_id: &str) -> PathBuf {
    state_dir.join("drafts").join(lesson).join(format!("{step_id}.yaml"))
}

/// The saved draft, if any (unreadable drafts are treated as absent and logged).
pub fn load(path: &Path) -> Option<String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            tracing::warn!("cannot read the draft {}: {e}", path.display());
            None
        }
    }
}

pub fn save(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    crate::state::write_atomic(path, text)
}

/// Where the cursor of a draft is kept: beside it, as `row col` (0-based).
fn cursor_path(draft: &Path) -> PathBuf {
    draft.with_extension("cursor")
}

/// Keep the cursor of the draft at `draft` (best effort: a lost cursor only costs a jump).
pub fn save_cursor(draft: &Path, (row, col): (usize, usize)) -> std::io::Result<()> {
    crate::state::write_atomic(&cursor_path(draft), &format!("{row} {col}\n"))
}

/// The cursor saved with the draft at `draft`, if any.
pub fn load_cursor(draft: &Path) -> Option<(usize, usize)> {
    let text = std::fs::read_to_string(cursor_path(draft)).ok()?;
    let (row, col) = text.trim().split_once(' ')?;
    Some((row.parse().ok()?, col.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drafts_round_trip_under_the_lesson_folder() {
        let dir = tempfile::tempdir().unwrap();
        let p = draft_path(dir.path(), "statefulset", "headless-service");
        assert!(p.ends_with("drafts/statefulset/headless-service.yaml"));
        assert_eq!(load(&p), None);
        save(&p, "kind: Service\n").unwrap();
        assert_eq!(load(&p).as_deref(), Some("kind: Service\n"));
        assert_eq!(load_cursor(&p), None);
        save_cursor(&p, (3, 7)).unwrap();
        assert_eq!(load_cursor(&p), Some((3, 7)));
    }
}
