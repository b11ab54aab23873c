//! Drafts: the editor text of each step, saved atomically under
//! `state_dir()/drafts/<lesson>/<step-id>.yaml` as the learner types (debounced by the app) and
//! read back when the step opens, so no work is lost to a crash, a quit or a power cut.

use std::path::{Path, PathBuf};

pub fn draft_path(state_dir: &Path, lesson: &str, step_id: &str) -> PathBuf {
    state_dir.join("drafts").join(lesson).join(format!("{step_id}.yaml"))
}

/// What was found where a step's draft lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Draft {
    Absent,
    Text(String),
    /// The file is not text (not UTF-8): it was moved to this path, so that the next save
    /// cannot overwrite it, and the learner is told where it went.
    SetAside(PathBuf),
    /// It could not be read (permissions and the like); logged, and left where it is.
    Unreadable,
}

/// Read the draft at `path`, moving an undecodable one aside.
pub fn open(path: &Path) -> Draft {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Draft::Absent,
        Err(e) => {
            tracing::warn!("cannot read the draft {}: {e}", path.display());
            return Draft::Unreadable;
        }
    };
    match String::from_utf8(bytes) {
        Ok(text) => Draft::Text(text),
        Err(_) => match set_aside(path) {
            Ok(to) => {
                tracing::warn!("the draft {} is not UTF-8; kept as {}", path.display(), to.display());
                Draft::SetAside(to)
            }
            Err(e) => {
                tracing::warn!("the draft {} is not UTF-8 and cannot be moved aside: {e}", path.display());
                Draft::Unreadable
            }
        },
    }
}

/// Rename `path` to a free `<name>.undecodable-<n>` beside it.
fn set_aside(path: &Path) -> std::io::Result<PathBuf> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    for n in 1..1000 {
        let to = path.with_file_name(format!("{name}.undecodable-{n}"));
        if !to.exists() {
            std::fs::rename(path, &to)?;
            return Ok(to);
        }
    }
    Err(std::io::Error::other("too many drafts set aside already"))
}

/// A step's draft as read by [`read`]: what was found, and the cursor kept beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    pub draft: Draft,
    pub cursor: Option<(usize, usize)>,
}

/// Read the draft at `path` and its cursor (what [`super::Effect::LoadDraft`] does).
pub fn read(path: &Path) -> Loaded {
    let draft = open(path);
    let cursor = if matches!(draft, Draft::Text(_)) { load_cursor(path) } else { None };
    Loaded { draft, cursor }
}

/// The saved draft, if any (an undecodable one is set aside, an unreadable one logged).
pub fn load(path: &Path) -> Option<String> {
    match open(path) {
        Draft::Text(text) => Some(text),
        _ => None,
    }
}

pub fn save(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    crate::state::write_atomic(path, text)
}

/// Where the cursor of a draft is kept: beside it, as `row col` (0-based).
pub fn cursor_path(draft: &Path) -> PathBuf {
    draft.with_extension("cursor")
}

/// Keep the cursor of the draft at `draft` (best effort: a lost cursor only costs a jump).
pub fn save_cursor(draft: &Path, cursor: (usize, usize)) -> std::io::Result<()> {
    crate::state::write_atomic(&cursor_path(draft), &cursor_text(cursor))
}

/// The cursor file's contents.
pub fn cursor_text((row, col): (usize, usize)) -> String {
    format!("{row} {col}\n")
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

    #[test]
    fn an_undecodable_draft_is_set_aside_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let p = draft_path(dir.path(), "statefulset", "headless-service");
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, b"kind: Service\nname: caf\xe9\n").unwrap();
        let Draft::SetAside(kept) = open(&p) else { panic!("not set aside") };
        assert!(kept.ends_with("headless-service.yaml.undecodable-1"), "{}", kept.display());
        assert_eq!(std::fs::read(&kept).unwrap(), b"kind: Service\nname: caf\xe9\n");
        assert_eq!(open(&p), Draft::Absent);
        // The next save writes a fresh draft; the one set aside stays.
        save(&p, "kind: Service\n").unwrap();
        std::fs::write(&p, b"\xff").unwrap();
        assert!(matches!(open(&p), Draft::SetAside(k) if k.ends_with("headless-service.yaml.undecodable-2")));
        assert!(kept.exists());
    }
}
