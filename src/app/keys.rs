//! The key map: one binding list per pane (`commands`) plus the global one. The update step
//! looks keys up here, and the status bar and help overlay print the same lists, so a hint
//! can never drift from what the key does.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Which pane has the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pane {
    Lesson,
    Editor,
    Watch,
    /// The result area (command output, apply errors), while it shows something.
    Output,
}

impl Pane {
    /// The three panes that are always there (the tabs of a narrow screen).
    pub const ALL: [Pane; 3] = [Pane::Lesson, Pane::Editor, Pane::Watch];

    /// The pane after this one; the result area joins the cycle only while it is shown.
    pub fn next(self, output: bool) -> Pane {
        match self {
            Pane::Lesson => Pane::Editor,
            Pane::Editor => Pane::Watch,
            Pane::Watch if output => Pane::Output,
            Pane::Watch | Pane::Output => Pane::Lesson,
        }
    }

    pub fn prev(self, output: bool) -> Pane {
        match self {
            Pane::Lesson if output => Pane::Output,
            Pane::Lesson => Pane::Watch,
            Pane::Editor => Pane::Lesson,
            Pane::Watch => Pane::Editor,
            Pane::Output => Pane::Watch,
        }
    }
}

/// What the learner means by a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    FocusNext,
    FocusPrev,
    Help,
    CommandLine,
    Grade,
    // lesson pane
    StepUp,
    StepDown,
    OpenStep,
    ScrollUp,
    ScrollDown,
    NextHint,
    ShowSolution,
    /// Start the selected step afresh (reset this one, or skip ahead to a later one).
    Restart,
    /// Open the step after the open one (after a pass: the learner says when).
    NextStep,
    /// Put the next code block of the step text on the command line (and the clipboard).
    CopyBlock,
    /// Move the code lines of the step text sideways.
    CodeLeft,
    CodeRight,
    /// Open the recap quiz (the questions of the steps done).
    Quiz,
    // editor pane
    NextBlank,
    PrevBlank,
    Apply,
    Diff,
    Reset,
    Undo,
    Redo,
    // watch pane
    TimelineUp,
    TimelineDown,
    // result area
    OutputUp,
    OutputDown,
    OutputPageUp,
    OutputPageDown,
    CloseOutput,
}

#[derive(Debug, Clone, Copy)]
pub struct Binding {
    pub code: KeyCode,
    pub mods: KeyModifiers,
    pub action: Action,
    /// The key as printed (`Ctrl-N`, `j/↓`).
    pub label: &'static str,
    /// What it does, for the help overlay.
    pub help: &'static str,
    /// A word or two for the status bar; empty keeps it out of the bar.
    pub short: &'static str,
}

const NONE: KeyModifiers = KeyModifiers::NONE;
const CTRL: KeyModifiers = KeyModifiers::CONTROL;
const SHIFT: KeyModifiers = KeyModifiers::SHIFT;

const fn b(
    code: KeyCode,
    mods: KeyModifiers,
    action: Action,
    label: &'static str,
    help: &'static str,
    short: &'static str,
) -> Binding {
    Binding { code, mods, action, label, help, short }
}

/// Keys that work in every pane (the editor keeps printable keys for typing, so these use
/// Ctrl or keys that are never typed).
pub const GLOBAL: &[Binding] = &[
    b(KeyCode::Tab, NONE, Action::FocusNext, "Tab", "focus the next pane", "next pane"),
    b(KeyCode::BackTab, SHIFT, Action::FocusPrev, "Shift-Tab", "focus the previous pane", ""),
    b(KeyCode::F(1), NONE, Action::Help, "F1", "show all keys", "help"),
    b(KeyCode::Char('g'), CTRL, Action::Grade, "Ctrl-G", "check the step now", "check"),
    b(KeyCode::Char('t'), CTRL, Action::NextHint, "Ctrl-T", "reveal the next hint (under the checks)", "hint"),
    b(KeyCode::Char('o'), CTRL, Action::CommandLine, "Ctrl-O", "open the command line (kubectl syntax)", "command"),
    b(KeyCode::Char('q'), CTRL, Action::Quit, "Ctrl-Q", "quit (your editor text is saved)", "quit"),
    b(KeyCode::Char('c'), CTRL, Action::Quit, "Ctrl-C", "quit", ""),
];

pub const LESSON: &[Binding] = &[
    b(KeyCode::Char('k'), NONE, Action::StepUp, "k/↑", "select the previous step", ""),
    b(KeyCode::Up, NONE, Action::StepUp, "↑", "select the previous step", ""),
    b(KeyCode::Char('j'), NONE, Action::StepDown, "j/↓", "select the next step", "steps"),
    b(KeyCode::Down, NONE, Action::StepDown, "↓", "select the next step", ""),
    b(KeyCode::Enter, NONE, Action::OpenStep, "Enter", "open the selected step", "open"),
    b(KeyCode::PageUp, NONE, Action::ScrollUp, "PgUp", "scroll the text up", ""),
    b(KeyCode::PageDown, NONE, Action::ScrollDown, "PgDn", "scroll the text down", "scroll"),
    b(KeyCode::Left, NONE, Action::CodeLeft, "←", "move long code lines back", ""),
    b(KeyCode::Right, NONE, Action::CodeRight, "→", "move long code lines sideways to read their end", ""),
    b(KeyCode::Char('h'), NONE, Action::NextHint, "h", "reveal the next hint", "hint"),
    b(KeyCode::Char('n'), NONE, Action::NextStep, "n", "go on to the next step", ""),
    b(KeyCode::Char('s'), NONE, Action::ShowSolution, "s", "show the reference solution (after a pass)", "solution"),
    b(
        KeyCode::Char('c'),
        NONE,
        Action::CopyBlock,
        "c",
        "copy the next code block (command line, clipboard)",
        "copy code",
    ),
    b(KeyCode::Char('R'), NONE, Action::Restart, "R", "start the selected step afresh, or skip ahead (asks)", ""),
    b(KeyCode::Char(':'), NONE, Action::CommandLine, ":", "open the command line", "command"),
    b(KeyCode::Esc, NONE, Action::CloseOutput, "Esc", "close the output area", ""),
    b(KeyCode::Char('Q'), NONE, Action::Quiz, "Q", "recap quiz on the steps done", ""),
    b(KeyCode::Char('?'), NONE, Action::Help, "?", "show all keys", ""),
    b(KeyCode::Char('q'), NONE, Action::Quit, "q", "quit", ""),
];

pub const EDITOR: &[Binding] = &[
    b(
        KeyCode::Char('n'),
        CTRL,
        Action::NextBlank,
        "Ctrl-N",
        "next ??? blank (type over it); none left, step passed: next step",
        "next ???",
    ),
    b(KeyCode::Char('p'), CTRL, Action::PrevBlank, "Ctrl-P", "select the previous ??? blank", "prev ???"),
    b(KeyCode::Char('s'), CTRL, Action::Apply, "Ctrl-S", "apply: schema check, server dry run, then apply", "apply"),
    b(KeyCode::Char('d'), CTRL, Action::Diff, "Ctrl-D", "diff the live object against the editor", "diff"),
    b(KeyCode::Char('r'), CTRL, Action::Reset, "Ctrl-R", "reset the editor to the starter (asks first)", "reset"),
    b(KeyCode::Char('z'), CTRL, Action::Undo, "Ctrl-Z", "undo", ""),
    b(KeyCode::Char('y'), CTRL, Action::Redo, "Ctrl-Y", "redo", ""),
];

pub const WATCH: &[Binding] = &[
    b(KeyCode::Char('k'), NONE, Action::TimelineUp, "k/↑", "scroll the timeline back", ""),
    b(KeyCode::Up, NONE, Action::TimelineUp, "↑", "scroll the timeline back", ""),
    b(KeyCode::Char('j'), NONE, Action::TimelineDown, "j/↓", "scroll the timeline forward", "timeline"),
    b(KeyCode::Down, NONE, Action::TimelineDown, "↓", "scroll the timeline forward", ""),
    b(KeyCode::Char('n'), NONE, Action::NextStep, "n", "go on to the next step", ""),
    b(KeyCode::Char(':'), NONE, Action::CommandLine, ":", "open the command line", "command"),
    b(KeyCode::Esc, NONE, Action::CloseOutput, "Esc", "close the output area", ""),
    b(KeyCode::Char('Q'), NONE, Action::Quiz, "Q", "recap quiz on the steps done", ""),
    b(KeyCode::Char('?'), NONE, Action::Help, "?", "show all keys", ""),
    b(KeyCode::Char('q'), NONE, Action::Quit, "q", "quit", ""),
];

pub const OUTPUT: &[Binding] = &[
    b(KeyCode::Char('k'), NONE, Action::OutputUp, "k/↑", "scroll the output up", ""),
    b(KeyCode::Up, NONE, Action::OutputUp, "↑", "scroll the output up", ""),
    b(KeyCode::Char('j'), NONE, Action::OutputDown, "j/↓", "scroll the output down", "scroll"),
    b(KeyCode::Down, NONE, Action::OutputDown, "↓", "scroll the output down", ""),
    b(KeyCode::PageUp, NONE, Action::OutputPageUp, "PgUp", "scroll the output a page up", ""),
    b(KeyCode::PageDown, NONE, Action::OutputPageDown, "PgDn", "scroll the output a page down", ""),
    b(KeyCode::Esc, NONE, Action::CloseOutput, "Esc", "close the output", "close"),
    b(KeyCode::Char('q'), NONE, Action::CloseOutput, "q", "close the output", ""),
    b(KeyCode::Char(':'), NONE, Action::CommandLine, ":", "open the command line", "command"),
    b(KeyCode::Char('?'), NONE, Action::Help, "?", "show all keys", ""),
];

/// The binding list of a pane.
pub fn commands(pane: Pane) -> &'static [Binding] {
    match pane {
        Pane::Lesson => LESSON,
        Pane::Editor => EDITOR,
        Pane::Watch => WATCH,
        Pane::Output => OUTPUT,
    }
}

fn matches(binding: &Binding, key: &KeyEvent) -> bool {
    if binding.code != key.code {
        return false;
    }
    // Shift is implied by upper-case and symbol characters; only Ctrl/Alt must match exactly.
    let relevant = KeyModifiers::CONTROL | KeyModifiers::ALT;
    match binding.code {
        KeyCode::BackTab => true,
        _ => (key.modifiers & relevant) == (binding.mods & relevant),
    }
}

/// The action of `key` in `pane`: the pane's own bindings first, then the global ones.
pub fn lookup(pane: Pane, key: &KeyEvent) -> Option<Action> {
    commands(pane).iter().chain(GLOBAL).find(|b| matches(b, key)).map(|b| b.action)
}

/// `(label, short)` pairs for the status bar: the focused pane's keys, then the global ones.
pub fn status_hints(pane: Pane) -> Vec<(&'static str, &'static str)> {
    let own = commands(pane);
    let global = GLOBAL.iter().filter(|g| !own.iter().any(|b| b.action == g.action && !b.short.is_empty()));
    own.iter().chain(global).filter(|b| !b.short.is_empty()).map(|b| (b.label, b.short)).collect()
}

/// What a key means on a screen of its own (the recap quiz, the instructor's table and its
/// live review of one attendee), outside the tutor's panes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModeAction {
    Up,
    Down,
    /// Take the choice of the digit pressed (the quiz).
    Choose,
    /// Answer the selected choice, go on, or open the selected row.
    Confirm,
    /// Close the quiz, or go back to the table.
    Back,
    NextAttendee,
    PrevAttendee,
    /// Open the recap quiz.
    Quiz,
    /// A key the tutor's panes handle as usual (focus, the step list, scrolling, hints).
    Pane,
    Quit,
}

/// A key of such a screen: every key code in `codes` does `action`.
#[derive(Debug, Clone, Copy)]
pub struct ModeBinding {
    pub codes: &'static [KeyCode],
    pub action: ModeAction,
    pub label: &'static str,
    pub help: &'static str,
    /// For the screen's key line; empty keeps it out.
    pub short: &'static str,
}

const fn m(
    codes: &'static [KeyCode],
    action: ModeAction,
    label: &'static str,
    help: &'static str,
    short: &'static str,
) -> ModeBinding {
    ModeBinding { codes, action, label, help, short }
}

/// The recap quiz.
pub const QUIZ: &[ModeBinding] = &[
    m(
        &[KeyCode::Char('1'), KeyCode::Char('2'), KeyCode::Char('3'), KeyCode::Char('4')],
        ModeAction::Choose,
        "1-4",
        "answer with that choice",
        "answer",
    ),
    m(&[KeyCode::Up, KeyCode::Char('k')], ModeAction::Up, "↑/k", "select the choice above", ""),
    m(&[KeyCode::Down, KeyCode::Char('j')], ModeAction::Down, "↓/j", "select the choice below", "select"),
    m(
        &[KeyCode::Enter, KeyCode::Char(' ')],
        ModeAction::Confirm,
        "Enter",
        "answer the selected choice; once answered, the next question",
        "answer / next",
    ),
    m(
        &[KeyCode::Esc, KeyCode::Char('q')],
        ModeAction::Back,
        "Esc/q",
        "close the quiz (answers so far are kept)",
        "close",
    ),
];

/// `kubetutor progress` on a terminal: the table of attendees.
pub const ATTENDEES: &[ModeBinding] = &[
    m(&[KeyCode::Up, KeyCode::Char('k')], ModeAction::Up, "↑/k", "select the attendee above", ""),
    m(&[KeyCode::Down, KeyCode::Char('j')], ModeAction::Down, "↓/j", "select the attendee below", "select"),
    m(&[KeyCode::Enter], ModeAction::Confirm, "Enter", "open a live read-only review of the attendee", "review"),
    m(&[KeyCode::Char('q'), KeyCode::Esc], ModeAction::Quit, "q/Esc", "quit", "quit"),
];

/// The live read-only review of one attendee (besides the panes' own focus and scroll keys).
pub const ATTENDEE: &[ModeBinding] = &[
    m(&[KeyCode::Char(']'), KeyCode::Char('n')], ModeAction::NextAttendee, "]/n", "the next attendee", "next"),
    m(&[KeyCode::Char('['), KeyCode::Char('p')], ModeAction::PrevAttendee, "[/p", "the previous attendee", "previous"),
    m(&[KeyCode::Char('Q')], ModeAction::Quiz, "Q", "the recap quiz, to ask the room", "quiz"),
    m(&[KeyCode::Esc, KeyCode::Char('q')], ModeAction::Back, "Esc/q", "back to the table", "table"),
    m(
        &[
            KeyCode::Tab,
            KeyCode::BackTab,
            KeyCode::Up,
            KeyCode::Down,
            KeyCode::Char('k'),
            KeyCode::Char('j'),
            KeyCode::Enter,
            KeyCode::PageUp,
            KeyCode::PageDown,
            KeyCode::Left,
            KeyCode::Right,
            KeyCode::Char('h'),
            KeyCode::Char('s'),
        ],
        ModeAction::Pane,
        "Tab ↑↓ Enter PgDn h s",
        "the panes' keys: focus, the step list and timeline, open a step, scroll, hints, solution",
        "panes",
    ),
];

/// The action of `key` in a screen's binding list (Ctrl and Alt keys are never these).
pub fn mode_lookup(list: &[ModeBinding], key: &KeyEvent) -> Option<ModeAction> {
    if key.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) {
        return None;
    }
    list.iter().find(|b| b.codes.contains(&key.code)).map(|b| b.action)
}

/// `(label, short)` pairs of a screen's key line.
pub fn mode_hints(list: &[ModeBinding]) -> Vec<(&'static str, &'static str)> {
    list.iter().filter(|b| !b.short.is_empty()).map(|b| (b.label, b.short)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    #[test]
    fn pane_keys_win_over_global_and_typing_keys_stay_free_in_the_editor() {
        assert_eq!(lookup(Pane::Editor, &key(KeyCode::Char('n'), CTRL)), Some(Action::NextBlank));
        assert_eq!(lookup(Pane::Editor, &key(KeyCode::Char('q'), NONE)), None);
        assert_eq!(lookup(Pane::Editor, &key(KeyCode::Char('?'), NONE)), None);
        assert_eq!(lookup(Pane::Lesson, &key(KeyCode::Char('q'), NONE)), Some(Action::Quit));
        assert_eq!(lookup(Pane::Watch, &key(KeyCode::Char('?'), SHIFT)), Some(Action::Help));
        assert_eq!(lookup(Pane::Watch, &key(KeyCode::Tab, NONE)), Some(Action::FocusNext));
        assert_eq!(lookup(Pane::Lesson, &key(KeyCode::BackTab, SHIFT)), Some(Action::FocusPrev));
    }

    #[test]
    fn every_action_in_a_pane_has_a_status_or_help_text() {
        for pane in Pane::ALL {
            for b in commands(pane) {
                assert!(!b.help.is_empty(), "{:?} in {pane:?}", b.action);
            }
            assert!(!status_hints(pane).is_empty());
        }
    }

    #[test]
    fn screen_keys_are_found_by_every_code_and_never_with_ctrl() {
        assert_eq!(mode_lookup(QUIZ, &key(KeyCode::Char('3'), NONE)), Some(ModeAction::Choose));
        assert_eq!(mode_lookup(QUIZ, &key(KeyCode::Char('5'), NONE)), None);
        assert_eq!(mode_lookup(QUIZ, &key(KeyCode::Char('j'), NONE)), Some(ModeAction::Down));
        assert_eq!(mode_lookup(ATTENDEE, &key(KeyCode::Char('n'), NONE)), Some(ModeAction::NextAttendee));
        assert_eq!(mode_lookup(ATTENDEE, &key(KeyCode::Char('q'), CTRL)), None);
        assert_eq!(mode_hints(ATTENDEES).first(), Some(&("↓/j", "select")));
        // The tutor's panes give the quiz the same key.
        assert_eq!(lookup(Pane::Lesson, &key(KeyCode::Char('Q'), SHIFT)), Some(Action::Quiz));
        assert_eq!(lookup(Pane::Watch, &key(KeyCode::Char('Q'), SHIFT)), Some(Action::Quiz));
    }
}
