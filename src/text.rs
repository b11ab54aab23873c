//! The fixed words of the tutor screen (pane titles, symbols, messages), in one place so that
//! wording stays consistent and can be changed without touching the panes; key hints come from
//! the key tables of `app::keys`. Both app and ui use it.

pub const APP: &str = "kubetutor";

pub const PANE_LESSON: &str = "Lesson";
pub const PANE_EDITOR: &str = "Editor";
pub const PANE_WATCH: &str = "Watch";
pub const PANE_HELP: &str = "Keys";
pub const PANE_OUTPUT: &str = "Output";
pub const PANE_SOLUTION: &str = "Reference solution";
pub const PANE_DIFF: &str = "Diff: live object → editor";

/// Step state symbols (shown with colours, never colours alone).
pub const SYM_DONE: &str = "✓";
pub const SYM_CURRENT: &str = "▶";
pub const SYM_FAILING: &str = "✗";
pub const SYM_NOT_STARTED: &str = "·";
pub const SYM_WAITING: &str = "…";
/// A step that passed and is failing now (the cluster changed since).
pub const SYM_BROKEN: &str = "!";

pub const CHECK_PASS: &str = "pass";
pub const CHECK_NOT_YET: &str = "not yet";
pub const RESTART_QUESTION: &str =
    "Start step {n} afresh? This deletes the lesson's objects and re-applies the reference solutions of the steps before it. [y/n]";
pub const SKIP_QUESTION: &str =
    "Skip ahead to step {n}? This deletes the lesson's objects and applies the reference solutions of every step before it. [y/n]";
pub const RESTARTING: &str = "Preparing step {n}: deleting the lesson's objects, then solving the steps before it...";
pub const RESTARTED: &str =
    "Step {n} starts afresh: {k} objects deleted, the steps before it solved with their reference solutions.";
pub const READ_ONLY: &str =
    "Read-only session (--readonly): the tutor watches and grades, but applies, deletes, scales and patches nothing.";
pub const READ_ONLY_EDITOR: &str =
    "Read-only session (--readonly): the editor shows the step's YAML but takes no edits, and no draft is saved.";
/// A key the instructor's live review does not take (the keys it does follow).
pub const LIVE_REVIEW_ONLY: &str = "A live review is read-only; its keys:";
pub const RESTART_FAILED: &str = "Could not prepare the step";
pub const CHECKS: &str = "Checks";
pub const CHECKS_NONE: &str = "not checked yet (apply, or Ctrl-G checks now)";
pub const CHECKS_RUNNING: &str = "checking…";
pub const HINT: &str = "Hint";
pub const HINTS_LEFT: &str = "more hints: press";
pub const STEP_PASSED: &str = "Step passed";
pub const STEP_BROKEN: &str = "Passed earlier, now failing: the cluster changed since (see the checks)";
/// After a check that passed from the record (what it proved is over, e.g. the order of a rollout).
pub const CHECK_PROVEN: &str = "(proven when it passed)";
pub const STEP_PASSED_NEXT: &str = "✓ Step {n} passed: {title}. Read on, then press {key} for step {next}.";
pub const NEXT_STEP: &str = "next step";
pub const CLOSE_OUTPUT: &str = "close output";
pub const LAST_STEP: &str = "this is the last step";
pub const PROVED: &str = "What it proved:";
pub const SOLUTION_KEY: &str = "s (lesson pane): the reference solution";
pub const YOUR_TURN: &str = "Your turn: the checks pass, now look for yourself. Press : and run";
pub const YOUR_TURN_OR: &str = "(or look from your own terminal, then press n to go on)";
pub const NO_MORE_HINTS: &str = "no more hints for this step";
pub const NO_CODE: &str = "this step's text has no code block";
pub const COPIED_RUN: &str =
    "code block {n} copied (clipboard); its command is on the command line: Enter runs it, Esc then c takes the next block";
pub const COPIED: &str = "code block {n} copied to the clipboard";
pub const LAST_APPLY_FAILED: &str = "last apply failed";
pub const CHECKS_BEFORE_APPLY: &str = "(the results below are from before that apply)";
pub const APPLY_MORE_IN_OUTPUT: &str = "… (all of it in the Output area)";
pub const MORE_CHECKS: &str = "  ▼ more checks";
pub const MORE_BELOW: &str = "▼ more below (PgDn)";
pub const MORE_ABOVE: &str = "▲ more above";
pub const LESSON_DONE: &str = "Lesson complete";
/// Offered with the lesson's end (message line and above the recap).
pub const QUIZ_OFFER: &str = "Press Q for the recap quiz.";
pub const QUIZ_NONE_YET: &str = "The recap quiz asks about the steps you have done: finish a step first.";
pub const QUIZ_NONE: &str = "This lesson has no recap quiz.";
pub const QUIZ_SCORE: &str = "Recap quiz: {right} of {n} right (your answers are kept with your progress).";
pub const QUIZ_TITLE: &str = "Recap quiz";
pub const QUIZ_RIGHT: &str = "✓ Right.";
pub const QUIZ_WRONG: &str = "✗ Not quite: the answer is {n}.";
pub const QUIZ_DONE: &str = "That was the last question.";

pub const EDITOR_NO_STARTER: &str = "This step is done with commands: press : and type them (kubectl syntax).";
pub const BLANKS_LEFT: &str = "blanks left";
pub const NO_BLANKS: &str = "no blanks left";
pub const YAML_OK: &str = "YAML ok";
pub const YAML_ERROR: &str = "YAML error";
pub const SCHEMA_ERROR: &str = "schema";
pub const APPLY_DRY_RUN: &str = "dry run…";
pub const APPLY_RUNNING: &str = "applying…";
pub const APPLY_FAILED: &str = "apply failed";
pub const APPLY_SEE_OUTPUT: &str = "(all of it below)";
pub const APPLY_BLOCKED: &str = "not applied: fix the marked lines first";
pub const APPLY_BLANKS: &str = "not applied: fill the ??? blanks first (next blank: Ctrl-N)";
pub const APPLY_FORCE: &str = "Ctrl-S again takes the fields over";
pub const RESTORED: &str = "fresh sandbox: restored what your finished steps created";
pub const RESET_CONFIRM: &str = "Reset the editor to the starter? Your text is lost. y / n";
pub const RESET_DONE: &str = "editor reset to the starter";
pub const DIFF_NO_LIVE: &str = "nothing live to compare with yet: apply first";
pub const DIFF_SAME: &str = "the live object matches the editor";
pub const SOLUTION_LOCKED: &str = "the reference solution opens after the step passes";

pub const WATCH_SIMULATED: &str = "simulated pods";
pub const WATCH_NO_PODS: &str = "no pods yet";
pub const WATCH_PROBE: &str = "tutor probe";
pub const WATCH_TIMELINE: &str = "Timeline";
pub const WATCH_PVCS: &str = "PVCs";
pub const POD_HEADERS: [&str; 6] = ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IMAGE"];
pub const PVC_HEADERS: [&str; 4] = ["NAME", "STATUS", "VOLUME", "CAPACITY"];

pub const CONNECTING: &str = "connecting…";
pub const CONNECTED: &str = "connected";
pub const RECONNECTING: &str = "reconnecting:";

pub const CMD_PROMPT: &str = ":";
pub const CMD_RUNNING: &str = "running…";
pub const CMD_NO_OUTPUT: &str = "(no output)";
pub const CMD_CONFIRM: &str = "is outside the lesson's objects. Run it anyway? y / n";
pub const HELP_TITLE: &str = "Keys (Esc closes)";
pub const HELP_GLOBAL: &str = "Everywhere";
pub const HELP_COMMAND_LINE: &str = "Command line (:)";
pub const HELP_OUTPUT: &str = "Output (results, apply errors; Tab reaches it)";
pub const HELP_OUTSIDE_EDITOR: &str = "Lesson, Watch and Output (q closes the Output)";
pub const OUTPUT_KEYS_FOCUSED: &str = "j/k scroll · Esc closes";
pub const OUTPUT_KEYS: &str = "Tab here to scroll · Esc closes";
pub const OUTPUT_KEYS_SHORT: &str = "Esc closes";

/// A step's saved draft was not text; what follows is where it was kept.
pub const DRAFT_SET_ASIDE: &str = "Your saved draft for this step could not be read (it is not UTF-8 text), so the editor starts afresh; the old file is kept as";
