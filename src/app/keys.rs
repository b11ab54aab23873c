//! The key map: one binding table per mode (gitui's `commands()`): each pane (plus the global
//! keys), the overlays, the y/n question, the `:` command line, the recap quiz, the review and
//! instructor screens. `update` dispatches through the table of the current [`Mode`]
//! ([`resolve`]), and the status bar, the help overlay and the README print the same tables, so
//! a hint can never drift from what the key does.

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

/// A key of a modal table: a code with the Ctrl/Alt it needs (Shift is implied by the
/// character, as for the panes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

/// A plain key.
pub const fn k(code: KeyCode) -> Key {
    Key { code, mods: NONE }
}

/// A plain character key.
pub const fn c(ch: char) -> Key {
    k(KeyCode::Char(ch))
}

/// Ctrl and a character.
pub const fn ctrl(ch: char) -> Key {
    Key { code: KeyCode::Char(ch), mods: CTRL }
}

impl Key {
    pub fn matches(&self, key: &KeyEvent) -> bool {
        let relevant = KeyModifiers::CONTROL | KeyModifiers::ALT;
        self.code == key.code && (key.modifiers & relevant) == (self.mods & relevant)
    }

    /// Every key a table can hold, as the terminal sends it (for tests: every binding found).
    pub fn event(&self) -> KeyEvent {
        let shift = matches!(self.code, KeyCode::Char(ch) if ch.is_ascii_uppercase() || "?:!".contains(ch));
        KeyEvent::new(self.code, if shift { self.mods | SHIFT } else { self.mods })
    }
}

/// A binding of a modal table (an overlay, a question, the command line, the recap quiz, the
/// review and instructor screens): every key in `keys` does `action`.
#[derive(Debug, Clone, Copy)]
pub struct ModeBinding<A: 'static> {
    pub keys: &'static [Key],
    pub action: A,
    /// The keys as printed (`↑/k`).
    pub label: &'static str,
    /// What it does, for the help overlay and the README.
    pub help: &'static str,
    /// For the mode's key line; empty keeps it out.
    pub short: &'static str,
    /// The label on the key line when it differs (`←→` for two bindings shown as one).
    pub bar: &'static str,
}

const fn m<A>(
    keys: &'static [Key],
    action: A,
    label: &'static str,
    help: &'static str,
    short: &'static str,
) -> ModeBinding<A> {
    ModeBinding { keys, action, label, help, short, bar: label }
}

impl<A> ModeBinding<A> {
    const fn bar(mut self, bar: &'static str) -> Self {
        self.bar = bar;
        self
    }
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

/// The recap quiz.
pub const QUIZ: &[ModeBinding<ModeAction>] = &[
    m(&[c('1'), c('2'), c('3'), c('4')], ModeAction::Choose, "1-4", "answer with that choice", "answer"),
    m(&[k(KeyCode::Up), c('k')], ModeAction::Up, "↑/k", "select the choice above", ""),
    m(&[k(KeyCode::Down), c('j')], ModeAction::Down, "↓/j", "select the choice below", "select"),
    m(
        &[k(KeyCode::Enter), c(' ')],
        ModeAction::Confirm,
        "Enter",
        "answer the selected choice; once answered, the next question",
        "answer / next",
    ),
    m(&[k(KeyCode::Esc), c('q')], ModeAction::Back, "Esc/q", "close the quiz (answers so far are kept)", "close"),
];

/// `kubetutor progress` on a terminal: the table of attendees.
pub const ATTENDEES: &[ModeBinding<ModeAction>] = &[
    m(&[k(KeyCode::Up), c('k')], ModeAction::Up, "↑/k", "select the attendee above", ""),
    m(&[k(KeyCode::Down), c('j')], ModeAction::Down, "↓/j", "select the attendee below", "select"),
    m(&[k(KeyCode::Enter)], ModeAction::Confirm, "Enter", "open a live read-only review of the attendee", "review"),
    m(&[c('q'), k(KeyCode::Esc)], ModeAction::Quit, "q/Esc", "quit", "quit"),
];

/// The live read-only review of one attendee (besides the panes' own focus and scroll keys).
pub const ATTENDEE: &[ModeBinding<ModeAction>] = &[
    m(&[c(']'), c('n')], ModeAction::NextAttendee, "]/n", "the next attendee", "next"),
    m(&[c('['), c('p')], ModeAction::PrevAttendee, "[/p", "the previous attendee", "previous"),
    m(&[c('Q')], ModeAction::Quiz, "Q", "the recap quiz, to ask the room", "quiz"),
    m(&[k(KeyCode::Esc), c('q')], ModeAction::Back, "Esc/q", "back to the table", "table"),
    m(
        &[
            k(KeyCode::Tab),
            k(KeyCode::BackTab),
            k(KeyCode::Up),
            k(KeyCode::Down),
            c('k'),
            c('j'),
            k(KeyCode::Enter),
            k(KeyCode::PageUp),
            k(KeyCode::PageDown),
            k(KeyCode::Left),
            k(KeyCode::Right),
            c('h'),
            c('s'),
        ],
        ModeAction::Pane,
        "Tab ↑↓ Enter PgDn h s",
        "the panes' keys: focus, the step list and timeline, open a step, scroll, hints, solution",
        "panes",
    ),
];

/// Ctrl-C and Ctrl-Q on the instructor's screens: quit from anywhere.
pub const SCREEN_QUIT: &[ModeBinding<ModeAction>] =
    &[m(&[ctrl('c'), ctrl('q')], ModeAction::Quit, "Ctrl-Q", "quit", "")];

/// What a key does in `kubetutor review`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewAction {
    NextEvent,
    PrevEvent,
    NextMark,
    PrevMark,
    Play,
    Speed,
    Search,
    NextMatch,
    PrevMatch,
    First,
    Last,
    Solution,
    Quiz,
    /// Focus and scrolling: the panes' own keys (nothing they do reaches a cluster).
    Pane,
    Quit,
}

/// `kubetutor review` (the README's review table and the review bar).
pub const REVIEW: &[ModeBinding<ReviewAction>] = &[
    m(&[k(KeyCode::Right), c('l')], ReviewAction::NextEvent, "→/l", "next event", "event").bar("←→"),
    m(&[k(KeyCode::Left), c('h')], ReviewAction::PrevEvent, "←/h", "previous event", ""),
    m(&[c(']')], ReviewAction::NextMark, "]", "next step mark (opened, passed)", "step").bar("[]"),
    m(&[c('[')], ReviewAction::PrevMark, "[", "previous step mark", ""),
    m(&[c(' ')], ReviewAction::Play, "Space", "play / pause", "play"),
    m(&[c('x')], ReviewAction::Speed, "x", "play speed 1x, 4x, 16x", "speed"),
    m(&[c('/')], ReviewAction::Search, "/", "search events (pod, reason, words)", "search"),
    m(&[c('n')], ReviewAction::NextMatch, "n", "next match", "again").bar("n/N"),
    m(&[c('N')], ReviewAction::PrevMatch, "N", "previous match", ""),
    m(&[k(KeyCode::Home), c('g')], ReviewAction::First, "Home/g", "first event", ""),
    m(&[k(KeyCode::End), c('G')], ReviewAction::Last, "End/G", "last event", ""),
    m(&[c('s')], ReviewAction::Solution, "s", "the YAML applied then next to the reference", "vs reference"),
    m(&[c('Q')], ReviewAction::Quiz, "Q", "recap quiz (1-4 or ↑↓ Enter answer, Esc closes)", "quiz"),
    m(
        &[
            k(KeyCode::Tab),
            k(KeyCode::BackTab),
            k(KeyCode::PageUp),
            k(KeyCode::PageDown),
            k(KeyCode::Up),
            k(KeyCode::Down),
        ],
        ReviewAction::Pane,
        "Tab",
        "focus the next pane",
        "pane",
    ),
    m(&[c('q'), ctrl('q'), ctrl('c')], ReviewAction::Quit, "q", "quit", "quit"),
];

/// What a key does while a review search is typed (other keys type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchAction {
    Find,
    Erase,
    Cancel,
}

/// Typing a review search (`/`).
pub const REVIEW_SEARCH: &[ModeBinding<SearchAction>] = &[
    m(&[k(KeyCode::Enter)], SearchAction::Find, "Enter", "find", "finds"),
    m(&[k(KeyCode::Backspace)], SearchAction::Erase, "Backspace", "", ""),
    m(&[k(KeyCode::Esc)], SearchAction::Cancel, "Esc", "cancel", "cancels"),
];

/// What a key does over an overlay (help, diff, reference solution).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverlayAction {
    Close,
    Down,
    Up,
    PageDown,
    PageUp,
}

/// The overlays (help, diff, reference solution); their frame shows the key line.
pub const OVERLAY: &[ModeBinding<OverlayAction>] = &[
    m(
        &[k(KeyCode::Esc), c('q'), c('?'), k(KeyCode::F(1)), k(KeyCode::Enter)],
        OverlayAction::Close,
        "Esc",
        "close (q, ?, F1 and Enter too)",
        "closes",
    ),
    m(&[c('j'), k(KeyCode::Down)], OverlayAction::Down, "j/k", "scroll down", "scroll"),
    m(&[c('k'), k(KeyCode::Up)], OverlayAction::Up, "k/↑", "scroll up", ""),
    m(&[k(KeyCode::PageDown), c(' ')], OverlayAction::PageDown, "PgDn/Space", "scroll a page down", ""),
    m(&[k(KeyCode::PageUp)], OverlayAction::PageUp, "PgUp", "scroll a page up", ""),
];

/// A question waiting for y / n.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfirmAction {
    Yes,
    No,
}

/// The y / n question (reset the editor, a command outside the lesson, restart a step). A key
/// not in the table answers no as well, which the label says.
pub const CONFIRM: &[ModeBinding<ConfirmAction>] = &[
    m(&[c('y'), c('Y')], ConfirmAction::Yes, "y", "yes, do it", "yes"),
    m(&[c('n'), c('N'), k(KeyCode::Esc)], ConfirmAction::No, "any other key", "no, leave it", "no"),
];

/// What a key does on the `:` command line (other keys type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandAction {
    Run,
    Complete,
    Older,
    Newer,
    Clear,
    Erase,
    Cancel,
}

/// The `:` command line.
pub const COMMAND_LINE: &[ModeBinding<CommandAction>] = &[
    m(
        &[k(KeyCode::Enter)],
        CommandAction::Run,
        "Enter",
        "run the command (kubectl syntax, e.g. get pods, scale sts web --replicas=3)",
        "runs",
    ),
    m(&[k(KeyCode::Tab)], CommandAction::Complete, "Tab", "complete a resource name", "completes"),
    m(&[k(KeyCode::Up)], CommandAction::Older, "↑ / ↓", "earlier / later commands", "history").bar("↑↓"),
    m(&[k(KeyCode::Down)], CommandAction::Newer, "↓", "", ""),
    m(&[ctrl('u')], CommandAction::Clear, "Ctrl-U", "clear the line", "clears"),
    m(&[k(KeyCode::Backspace)], CommandAction::Erase, "Backspace", "", ""),
    m(&[k(KeyCode::Esc)], CommandAction::Cancel, "Esc", "cancel", "cancels"),
];

/// The action of `key` in a modal table.
pub fn mode_lookup<A: Copy>(list: &[ModeBinding<A>], key: &KeyEvent) -> Option<A> {
    list.iter().find(|b| b.keys.iter().any(|k| k.matches(key))).map(|b| b.action)
}

/// `(label, short)` pairs of a modal table's key line.
pub fn mode_hints<A>(list: &[ModeBinding<A>]) -> Vec<(&'static str, &'static str)> {
    list.iter().filter(|b| !b.short.is_empty()).map(|b| (b.bar, b.short)).collect()
}

/// A modal table's key line as one text: `Esc closes · j/k scroll`.
pub fn mode_line<A>(list: &[ModeBinding<A>]) -> String {
    mode_hints(list).iter().map(|(k, what)| format!("{k} {what}")).collect::<Vec<_>>().join(" · ")
}

/// Where the tutor's keyboard goes: the mode decides which table a key is looked up in, and
/// which keys the status bar shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Pane(Pane),
    Quiz,
    Confirm,
    CommandLine,
    Overlay,
}

/// A key found in the table of a mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    Pane(Action),
    Quiz(ModeAction),
    Overlay(OverlayAction),
    Confirm(ConfirmAction),
    Command(CommandAction),
}

/// Ctrl-C: quit, whatever the mode.
pub const ANYWHERE: &[Binding] = &[b(KeyCode::Char('c'), CTRL, Action::Quit, "Ctrl-C", "quit", "")];

/// The binding of `key` in `mode` (`None`: not a binding; the editor and the command line take
/// it as typing, a question as no).
pub fn resolve(mode: Mode, key: &KeyEvent) -> Option<Bound> {
    if let Some(b) = ANYWHERE.iter().find(|b| matches(b, key)) {
        return Some(Bound::Pane(b.action));
    }
    match mode {
        Mode::Pane(pane) => lookup(pane, key).map(Bound::Pane),
        Mode::Quiz => mode_lookup(QUIZ, key).map(Bound::Quiz),
        Mode::Overlay => mode_lookup(OVERLAY, key).map(Bound::Overlay),
        Mode::Confirm => mode_lookup(CONFIRM, key).map(Bound::Confirm),
        Mode::CommandLine => mode_lookup(COMMAND_LINE, key).map(Bound::Command),
    }
}

/// Every binding of `mode` as (keys, what it resolves to): the table the status bar shows.
pub fn bindings(mode: Mode) -> Vec<(Vec<KeyEvent>, Bound)> {
    fn modal<A: Copy>(list: &[ModeBinding<A>], f: fn(A) -> Bound) -> Vec<(Vec<KeyEvent>, Bound)> {
        list.iter().map(|b| (b.keys.iter().map(Key::event).collect(), f(b.action))).collect()
    }
    match mode {
        Mode::Pane(pane) => commands(pane)
            .iter()
            .chain(GLOBAL)
            .map(|b| (vec![KeyEvent::new(b.code, b.mods)], Bound::Pane(b.action)))
            .collect(),
        Mode::Quiz => modal(QUIZ, Bound::Quiz),
        Mode::Overlay => modal(OVERLAY, Bound::Overlay),
        Mode::Confirm => modal(CONFIRM, Bound::Confirm),
        Mode::CommandLine => modal(COMMAND_LINE, Bound::Command),
    }
}

/// `(label, short)` pairs for the status bar in `mode`.
pub fn hints(mode: Mode) -> Vec<(&'static str, &'static str)> {
    match mode {
        Mode::Pane(pane) => status_hints(pane),
        Mode::Quiz => mode_hints(QUIZ),
        Mode::Overlay => mode_hints(OVERLAY),
        Mode::Confirm => mode_hints(CONFIRM),
        Mode::CommandLine => mode_hints(COMMAND_LINE),
    }
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
