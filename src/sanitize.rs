//! Text from the cluster never drives the terminal: container logs, command output, watch rows
//! and progress ConfigMaps are written by whoever uses the cluster (on a shared sandbox, any
//! attendee), and a control character in them (ESC starting an escape sequence, OSC 52 that
//! sets the clipboard, a bell, a C1 CSI) would reach the terminal as it is. [`escape`] makes
//! such characters visible for text printed as it is (`kubetutor progress`, `kubetutor
//! check`); [`buffer`] removes
//! them from every cell of a drawn frame, since ratatui keeps zero-width characters in cells.

use std::borrow::Cow;
use std::fmt::Write;

use ratatui::buffer::Buffer;

/// Characters that change how a terminal shows text rather than being shown: the C0 and C1
/// controls, DEL, and the bidirectional overrides and isolates (which reorder what follows).
pub fn is_unsafe(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `s` with every unsafe character written visibly, as `cat -v` does: `^[` for ESC, `^G` for
/// BEL, `^?` for DEL, `M-^[` for the C1 CSI, `<U+202E>` for a bidi override. With
/// `keep_newlines`, `\n` stays a line break; tabs always become a space.
pub fn escape(s: &str, keep_newlines: bool) -> Cow<'_, str> {
    if !s.chars().any(|c| is_unsafe(c) && !(keep_newlines && c == '\n')) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' if keep_newlines => out.push('\n'),
            '\t' => out.push(' '),
            '\u{7f}' => out.push_str("^?"),
            c if (c as u32) < 0x20 => {
                out.push('^');
                out.push(char::from(b'@' + c as u8));
            }
            c if (0x80..0xa0).contains(&(c as u32)) => {
                out.push_str("M-^");
                out.push(char::from(b'@' + (c as u32 - 0x80) as u8));
            }
            c if is_unsafe(c) => {
                let _ = write!(out, "<U+{:04X}>", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Remove unsafe characters from every cell of a drawn frame; a cell left empty shows a space.
/// The tutor calls this after drawing, so no pane can pass them to the terminal.
pub fn buffer(buf: &mut Buffer) {
    for cell in &mut buf.content {
        let symbol = cell.symbol();
        if symbol.chars().any(is_unsafe) {
            let kept: String = symbol.chars().filter(|c| !is_unsafe(*c)).collect();
            cell.set_symbol(if kept.is_empty() { " " } else { &kept });
        }
    }
}

#[cfg(test)]
mod tests {
    use ratatui::layout::Rect;
    use ratatui::text::Line;
    use ratatui::widgets::{Paragraph, Widget};

    use super::*;

    #[test]
    fn controls_are_written_visibly() {
        assert_eq!(escape("plain text ✓", false), "plain text ✓");
        assert_eq!(escape("\x1b]52;c;ZXZpbA==\x07", false), "^[]52;c;ZXZpbA==^G");
        assert_eq!(escape("\u{9b}31mred", false), "M-^[31mred");
        assert_eq!(escape("a\tb\x7f", false), "a b^?");
        assert_eq!(escape("x\u{202e}y", false), "x<U+202E>y");
        assert_eq!(escape("one\ntwo\r", true), "one\ntwo^M");
        assert_eq!(escape("one\ntwo", false), "one^Jtwo");
    }

    #[test]
    fn a_drawn_frame_keeps_no_control_characters() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 40, 2));
        let lines = vec![Line::from("log: \x1b]52;c;ZXZpbA==\x07 \x1b[2J"), Line::from("\u{9b}6n \x07bell")];
        Paragraph::new(lines).render(buf.area, &mut buf);
        let before: String = buf.content.iter().map(ratatui::buffer::Cell::symbol).collect();
        assert!(before.contains('\x1b'), "ratatui keeps them in cells: {before:?}");
        buffer(&mut buf);
        let after: String = buf.content.iter().map(ratatui::buffer::Cell::symbol).collect();
        assert!(!after.chars().any(is_unsafe), "{after:?}");
        // Paragraph gives each control its own cell: those now show a space.
        assert!(after.starts_with("log:  ]52;c;ZXZpbA==   [2J"), "{after:?}");
    }
}
