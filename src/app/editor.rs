//! The editor's state: a tui-textarea buffer holding the step's manifest, its `???` blanks,
//! and what the YAML checks and the last apply said about it (marks per line). Owned by
//! [`App`](super::App); the editor pane draws it.

use crossterm::event::KeyEvent;
use tui_textarea::{CursorMove, TextArea};

use super::yaml::{self, Mark};
use crate::lesson::model::{Starter, BLANK};

/// Where a mark came from: parse and schema marks follow the text, apply marks stay until the
/// next apply or the next edit of their line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkSource {
    Syntax,
    Schema,
    Apply,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineMark {
    pub source: MarkSource,
    pub mark: Mark,
}

/// A `???` in the buffer (0-based line, char column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlankPos {
    pub line: usize,
    pub column: usize,
}

pub struct EditorState {
    pub area: TextArea<'static>,
    /// The starter this buffer began from (`None`: the step has no manifest).
    pub starter: Option<Starter>,
    pub marks: Vec<LineMark>,
    /// First buffer line shown (kept so the cursor stays visible).
    pub top: std::cell::Cell<usize>,
    /// Bumped on every change; debounced saves and checks compare it.
    pub generation: u64,
}

fn lines_of(text: &str) -> Vec<String> {
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    if lines.is_empty() {
        vec![String::new()]
    } else {
        lines
    }
}

impl EditorState {
    /// A buffer for a step: the saved draft if there is one, else the starter.
    pub fn new(starter: Option<Starter>, draft: Option<String>) -> EditorState {
        let text = draft.or_else(|| starter.as_ref().map(|s| s.text.clone())).unwrap_or_default();
        let mut e = EditorState {
            area: TextArea::new(lines_of(&text)),
            starter,
            marks: Vec::new(),
            top: Default::default(),
            generation: 0,
        };
        e.recheck();
        e
    }

    /// Put the cursor at `(row, col)`, kept inside the text.
    pub fn set_cursor(&mut self, (row, col): (usize, usize)) {
        let clamp = |n: usize| u16::try_from(n).unwrap_or(u16::MAX);
        self.area.move_cursor(CursorMove::Jump(clamp(row), clamp(col)));
    }

    pub fn has_starter(&self) -> bool {
        self.starter.is_some()
    }

    pub fn file_name(&self) -> &str {
        self.starter.as_ref().map(|s| s.file_name.as_str()).unwrap_or("")
    }

    /// The buffer as a file (trailing newline).
    pub fn text(&self) -> String {
        let mut t = self.area.lines().join("\n");
        t.push('\n');
        t
    }

    /// Every `???` in the buffer, in order.
    pub fn blanks(&self) -> Vec<BlankPos> {
        let mut out = Vec::new();
        for (line, text) in self.area.lines().iter().enumerate() {
            let mut from = 0;
            while let Some(i) = text[from..].find(BLANK) {
                let byte = from + i;
                out.push(BlankPos { line, column: text[..byte].chars().count() });
                from = byte + BLANK.len();
            }
        }
        out
    }

    /// Select the next (or previous) blank after the cursor, wrapping around, so typing
    /// replaces it. Returns false when there are no blanks.
    pub fn select_blank(&mut self, forward: bool) -> bool {
        let blanks = self.blanks();
        if blanks.is_empty() {
            return false;
        }
        let (row, col) = self.area.cursor();
        // With a blank selected the cursor sits at its end; compare by its start.
        let at = match self.area.selection_range() {
            Some(((r, c), _)) => (r, c),
            None => (row, col),
        };
        let pos = |b: &BlankPos| (b.line, b.column);
        let target = if forward {
            blanks.iter().find(|b| pos(b) > at).or(blanks.first())
        } else {
            blanks.iter().rev().find(|b| pos(b) < at).or(blanks.last())
        };
        let b = *target.expect("blanks is not empty");
        self.area.cancel_selection();
        self.area.move_cursor(CursorMove::Jump(b.line as u16, b.column as u16));
        self.area.start_selection();
        for _ in 0..BLANK.chars().count() {
            self.area.move_cursor(CursorMove::Forward);
        }
        true
    }

    /// The starter blank the cursor is on (a selected `???`), by its place in the starter:
    /// the blank of the starter on the cursor's line nearest to the cursor's column.
    pub fn blank_at_cursor(&self) -> Option<(usize, &crate::lesson::Blank)> {
        let starter = self.starter.as_ref()?;
        let ((row, col), _) = self.area.selection_range()?;
        let line = self.area.lines().get(row)?;
        if !line.chars().skip(col).take(BLANK.len()).eq(BLANK.chars()) {
            return None;
        }
        let mut index = 0;
        let mut best: Option<(usize, usize)> = None;
        for (l, text) in starter.text.lines().enumerate() {
            let mut from = 0;
            while let Some(i) = text[from..].find(BLANK) {
                let c = text[..from + i].chars().count();
                if l == row {
                    let d = c.abs_diff(col);
                    if best.is_none_or(|(_, bd)| d < bd) {
                        best = Some((index, d));
                    }
                }
                index += 1;
                from += i + BLANK.len();
            }
        }
        let (i, _) = best?;
        starter.blanks.get(i).map(|b| (i, b))
    }

    /// Feed a key to the text area; returns whether the text changed.
    pub fn input(&mut self, key: KeyEvent) -> bool {
        let changed = self.area.input(key);
        if changed {
            self.touched();
        }
        changed
    }

    /// A key in a read-only session: moves the cursor, selects, scrolls, but never changes the
    /// text. Returns false (and changes nothing) when the key would have edited.
    pub fn input_readonly(&mut self, key: KeyEvent) -> bool {
        let mut probe = self.area.clone();
        if probe.input(key) {
            return false;
        }
        self.area = probe;
        true
    }

    /// Insert pasted text at the cursor (replacing a selected blank).
    pub fn paste(&mut self, text: &str) {
        if self.area.insert_str(text.replace("\r\n", "\n").replace('\r', "\n")) {
            self.touched();
        }
    }

    pub fn undo(&mut self) -> bool {
        let changed = self.area.undo();
        if changed {
            self.touched();
        }
        changed
    }

    pub fn redo(&mut self) -> bool {
        let changed = self.area.redo();
        if changed {
            self.touched();
        }
        changed
    }

    /// Replace the whole buffer (reset to the starter).
    pub fn set_text(&mut self, text: &str) {
        self.area = TextArea::new(lines_of(text));
        self.top.set(0);
        self.touched();
    }

    fn touched(&mut self) {
        self.generation += 1;
        let row = self.area.cursor().0;
        self.marks.retain(|m| m.source != MarkSource::Apply || m.mark.line != row);
        self.recheck();
    }

    /// Re-run the parse and schema checks (cheap: the buffer is a few dozen lines).
    pub fn recheck(&mut self) {
        self.marks.retain(|m| m.source == MarkSource::Apply);
        if !self.has_starter() {
            return;
        }
        let text = self.text();
        match yaml::parse(&text) {
            Err(mark) => self.marks.push(LineMark { source: MarkSource::Syntax, mark }),
            Ok(docs) => {
                // Blanks are the learner's to fill; the schema check would only repeat that.
                if self.blanks().is_empty() {
                    for mark in yaml::schema_check(&text, &docs) {
                        self.marks.push(LineMark { source: MarkSource::Schema, mark });
                    }
                }
            }
        }
    }

    /// Marks that block an apply (syntax and schema).
    pub fn blocking_marks(&self) -> impl Iterator<Item = &LineMark> {
        self.marks.iter().filter(|m| m.source != MarkSource::Apply)
    }

    pub fn set_apply_marks(&mut self, marks: Vec<Mark>) {
        self.marks.retain(|m| m.source != MarkSource::Apply);
        self.marks.extend(marks.into_iter().map(|mark| LineMark { source: MarkSource::Apply, mark }));
    }

    /// The marks of one line.
    pub fn marks_at(&self, line: usize) -> impl Iterator<Item = &LineMark> {
        self.marks.iter().filter(move |m| m.mark.line == line)
    }

    /// The first line to show in a viewport of `height` rows so the cursor stays visible
    /// (remembered, so the view does not jump while the cursor moves inside it).
    pub fn scroll_top(&self, height: usize) -> usize {
        let row = self.area.cursor().0;
        let mut top = self.top.get();
        if height == 0 {
            return top;
        }
        if row < top {
            top = row;
        } else if row >= top + height {
            top = row + 1 - height;
        }
        self.top.set(top);
        top
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyCode, KeyModifiers};

    fn starter() -> Starter {
        Starter {
            file_name: "svc.yaml".into(),
            text: "kind: Service\napiVersion: v1\nmetadata:\n  name: ???\nspec:\n  clusterIP: ???\n".into(),
            blanks: Vec::new(),
            objects: Vec::new(),
        }
    }

    fn typ(e: &mut EditorState, s: &str) {
        for c in s.chars() {
            e.input(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
        }
    }

    #[test]
    fn blanks_are_selected_in_turn_and_overtyped() {
        let mut e = EditorState::new(Some(starter()), None);
        assert_eq!(e.blanks(), vec![BlankPos { line: 3, column: 8 }, BlankPos { line: 5, column: 13 }]);
        assert!(e.select_blank(true));
        assert_eq!(e.area.selection_range(), Some(((3, 8), (3, 11))));
        assert!(e.select_blank(true));
        assert_eq!(e.area.selection_range(), Some(((5, 13), (5, 16))));
        assert!(e.select_blank(false));
        assert_eq!(e.area.selection_range(), Some(((3, 8), (3, 11))));
        typ(&mut e, "nginx");
        assert_eq!(e.area.lines()[3], "  name: nginx");
        assert!(e.select_blank(true));
        typ(&mut e, "None");
        assert!(e.blanks().is_empty());
        assert!(!e.select_blank(true));
        assert!(e.marks.is_empty(), "{:?}", e.marks);
        assert_eq!(e.generation, 9);
    }

    #[test]
    fn the_selected_blank_is_named_even_after_others_are_filled() {
        let mut st = starter();
        let blank = |label: &str| crate::lesson::Blank { label: label.into(), ..Default::default() };
        st.blanks = vec![blank("name"), blank("clusterIP")];
        let mut e = EditorState::new(Some(st), None);
        assert!(e.blank_at_cursor().is_none());
        e.select_blank(true);
        assert_eq!(e.blank_at_cursor().map(|(i, b)| (i, b.label.as_str())), Some((0, "name")));
        typ(&mut e, "nginx");
        assert!(e.blank_at_cursor().is_none());
        e.select_blank(true);
        assert_eq!(e.blank_at_cursor().map(|(i, b)| (i, b.label.as_str())), Some((1, "clusterIP")));
    }

    #[test]
    fn a_draft_wins_over_the_starter_and_syntax_errors_are_marked() {
        let e = EditorState::new(Some(starter()), Some("kind: Service\nmetadata: [\n".into()));
        assert_eq!(e.area.lines()[0], "kind: Service");
        let m: Vec<_> = e.blocking_marks().collect();
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].source, MarkSource::Syntax);
    }
}
