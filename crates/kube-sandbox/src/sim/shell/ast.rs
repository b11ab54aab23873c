//! The syntax tree of a parsed script: lists of and-or chains of pipelines of simple or
//! compound commands, and words made of literal, quoted and substituted parts.

pub(super) type Word = Vec<Part>;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Part {
    /// Unquoted text: split and globbed after expansion.
    Lit(String),
    /// Quoted text: taken as is.
    Quoted(String),
    /// `~` at the start of a word.
    Tilde,
    Param {
        name: String,
        op: Option<ParamOp>,
        quoted: bool,
    },
    Command {
        script: Script,
        quoted: bool,
    },
    Arith {
        expr: String,
        quoted: bool,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum ParamOp {
    /// `${#name}`
    Length,
    /// `${name:-word}` (`colon`: also when set but empty)
    Default(bool, Word),
    /// `${name:=word}`
    Assign(bool, Word),
    /// `${name:+word}`
    Alt(bool, Word),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RedirOp {
    /// `>` and `>|`
    Out,
    /// `>>`
    Append,
    /// `<`
    In,
    /// `>&N` / `<&N` / `>&-`
    Dup,
    /// `&>` (ash's bash-compatible stdout+stderr)
    Both,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Redir {
    pub fd: u32,
    pub op: RedirOp,
    pub target: Word,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct Simple {
    pub assigns: Vec<(String, Word)>,
    pub words: Vec<Word>,
    pub redirs: Vec<Redir>,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Compound {
    Group(Script),
    Subshell(Script),
    If { branches: Vec<(Script, Script)>, otherwise: Option<Script> },
    Loop { until: bool, cond: Script, body: Script },
    For { var: String, items: Option<Vec<Word>>, body: Script },
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Command {
    Simple(Simple),
    Compound(Box<Compound>, Vec<Redir>),
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Pipeline {
    pub negate: bool,
    pub commands: Vec<Command>,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct AndOr {
    pub first: Pipeline,
    /// `true` for `&&`, `false` for `||`.
    pub rest: Vec<(bool, Pipeline)>,
    /// Ended by `&`: runs in the background while the list goes on.
    pub background: bool,
}

pub(super) type Script = Vec<AndOr>;
