//! Word expansion: parameters (`$x`, `${x:-y}`, `$?`), `$(...)` in a subshell, arithmetic,
//! field splitting of unquoted results and globbing against the container filesystem.

use super::super::Host;
use super::ast::{ParamOp, Part, Script, Word};
use super::exec::{Boxed, Dest, Flow, Frame, Interp};

/// The longest word an expansion may make (a shell's memory is the sandbox's).
const MAX_WORD: usize = 4 << 20;

fn sep(prefix: &str) -> &'static str {
    if prefix.is_empty() || prefix.ends_with('/') {
        ""
    } else {
        "/"
    }
}

fn kind_of(quoted: bool) -> Kind {
    if quoted {
        Kind::Quoted
    } else {
        Kind::Expanded
    }
}

/// Shell pattern matching (`*`, `?`, `[...]`); quoted characters match themselves.
pub(super) fn glob_match(pat: &[(char, bool)], name: &[char]) -> bool {
    match pat.first() {
        None => name.is_empty(),
        Some(('*', false)) => (0..=name.len()).any(|i| glob_match(&pat[1..], &name[i..])),
        Some(('?', false)) => !name.is_empty() && glob_match(&pat[1..], &name[1..]),
        Some(('[', false)) => {
            let Some(close) = pat.iter().skip(2).position(|(c, q)| *c == ']' && !q) else {
                return name.first() == Some(&'[') && glob_match(&pat[1..], &name[1..]);
            };
            let class = &pat[1..close + 2];
            let Some(&c) = name.first() else {
                return false;
            };
            let (negate, class) = match class.first() {
                Some(('!' | '^', false)) => (true, &class[1..]),
                _ => (false, class),
            };
            let mut hit = false;
            let mut i = 0;
            while i < class.len() {
                if i + 2 < class.len() && class[i + 1].0 == '-' {
                    hit |= class[i].0 <= c && c <= class[i + 2].0;
                    i += 3;
                } else {
                    hit |= class[i].0 == c;
                    i += 1;
                }
            }
            hit != negate && glob_match(&pat[close + 3..], &name[1..])
        }
        Some((c, _)) => name.first() == Some(c) && glob_match(&pat[1..], &name[1..]),
    }
}

/// Text pieces after expansion: quoted ones are neither split nor globbed, literal ones are
/// globbed but not split.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Quoted,
    Literal,
    Expanded,
}

type Field = Vec<(char, bool)>;

impl<'a, H: Host> Interp<'a, H> {
    /// One word to fields: expansion, field splitting of unquoted results, globbing.
    pub(super) async fn expand(&mut self, word: &Word) -> Vec<String> {
        let pieces = self.expand_pieces(word).await;
        let mut fields: Vec<Field> = Vec::new();
        let mut current: Field = Vec::new();
        let mut have = false;
        for (text, kind) in pieces {
            match kind {
                Kind::Quoted => {
                    current.extend(text.chars().map(|c| (c, true)));
                    have = true;
                }
                Kind::Literal => {
                    current.extend(text.chars().map(|c| (c, false)));
                    have = true;
                }
                Kind::Expanded => {
                    for c in text.chars() {
                        if matches!(c, ' ' | '\t' | '\n') {
                            if have {
                                fields.push(std::mem::take(&mut current));
                                have = false;
                            }
                        } else {
                            current.push((c, false));
                            have = true;
                        }
                    }
                }
            }
        }
        if have {
            fields.push(current);
        }
        let mut out = Vec::new();
        for field in fields {
            out.extend(self.glob(&field));
        }
        out
    }

    /// One word to one string (assignments, redirection targets, `case`-free contexts).
    pub(super) async fn expand_single(&mut self, word: &Word) -> String {
        self.expand_pieces(word).await.into_iter().map(|(t, _)| t).collect()
    }

    async fn expand_pieces(&mut self, word: &Word) -> Vec<(String, Kind)> {
        let mut out: Vec<(String, Kind)> = Vec::new();
        let mut len = 0;
        for part in word {
            // `$a$a$a...` of a large `a`: stop before the word outgrows a shell's memory.
            len += out.last().map_or(0, |(t, _)| t.len());
            if len > MAX_WORD {
                self.sh.out_of_memory = true;
                out.clear();
                break;
            }
            match part {
                Part::Lit(s) => out.push((s.clone(), Kind::Literal)),
                Part::Quoted(s) => out.push((s.clone(), Kind::Quoted)),
                Part::Tilde => out.push((self.sh.home(), Kind::Quoted)),
                Part::Param { name, op, quoted } => {
                    let value = self.param(name, op.as_ref()).await;
                    out.push((value, kind_of(*quoted)));
                }
                Part::Command { script, quoted } => {
                    let text = self.substitute(script).await;
                    out.push((text, kind_of(*quoted)));
                }
                Part::Arith { expr, quoted } => {
                    let value = match super::format::arith(expr, self.sh) {
                        Ok(v) => v.to_string(),
                        Err(msg) => {
                            self.shell_error(None, &msg);
                            String::new()
                        }
                    };
                    out.push((value, kind_of(*quoted)));
                }
            }
        }
        if out.iter().map(|(t, _)| t.len()).sum::<usize>() > MAX_WORD {
            self.sh.out_of_memory = true;
            out.clear();
        }
        out
    }

    fn lookup(&self, name: &str) -> Option<String> {
        match name {
            "?" => Some(self.sh.status.to_string()),
            "$" => Some("1".into()),
            "#" => Some(self.sh.args.len().to_string()),
            "0" => Some(self.sh.arg0.clone()),
            "@" | "*" => Some(self.sh.args.join(" ")),
            "!" => self.sh.get("!").map(str::to_string),
            "-" => Some(if self.sh.errexit { "e" } else { "" }.into()),
            n if n.chars().all(|c| c.is_ascii_digit()) => {
                n.parse::<usize>().ok().and_then(|i| i.checked_sub(1)).and_then(|i| self.sh.args.get(i).cloned())
            }
            n => self.sh.get(n).map(str::to_string),
        }
    }

    async fn param(&mut self, name: &str, op: Option<&ParamOp>) -> String {
        let value = self.lookup(name);
        let Some(op) = op else {
            return value.unwrap_or_default();
        };
        let unset = |colon: bool| match &value {
            None => true,
            Some(v) => colon && v.is_empty(),
        };
        match op {
            ParamOp::Length => value.unwrap_or_default().chars().count().to_string(),
            ParamOp::Default(colon, word) => {
                if unset(*colon) {
                    self.expand_boxed(word).await
                } else {
                    value.unwrap_or_default()
                }
            }
            ParamOp::Assign(colon, word) => {
                if unset(*colon) {
                    let v = self.expand_boxed(word).await;
                    self.sh.set(name, &v);
                    v
                } else {
                    value.unwrap_or_default()
                }
            }
            ParamOp::Alt(colon, word) => {
                if unset(*colon) {
                    String::new()
                } else {
                    self.expand_boxed(word).await
                }
            }
        }
    }

    fn expand_boxed<'s>(&'s mut self, word: &'s Word) -> Boxed<'s, String> {
        Box::pin(self.expand_single(word))
    }

    /// `$(...)`: run in a subshell, capture stdout, drop trailing newlines.
    async fn substitute(&mut self, script: &Script) -> String {
        self.captures.push(String::new());
        let err = self.frame().err.clone();
        self.frames.push(Frame { out: Dest::Capture(self.captures.len() - 1), err, input: None });
        let saved = self.sh.clone();
        let mut status = self.run_list(script).await;
        if let Flow::Exit(code) = self.flow {
            status = code;
        }
        *self.sh = saved;
        self.flow = Flow::Normal;
        self.frames.pop();
        self.subst_status = Some(status);
        self.sh.status = status;
        let mut text = self.captures.pop().unwrap_or_default();
        while text.ends_with('\n') {
            text.pop();
        }
        text
    }

    fn glob(&self, field: &Field) -> Vec<String> {
        let literal: String = field.iter().map(|(c, _)| *c).collect();
        if !field.iter().any(|(c, q)| !q && matches!(c, '*' | '?' | '[')) {
            return vec![literal];
        }
        let absolute = field.first().is_some_and(|(c, _)| *c == '/');
        let mut segments: Vec<Field> = vec![Vec::new()];
        for &(c, q) in field {
            if c == '/' {
                segments.push(Vec::new());
            } else if let Some(last) = segments.last_mut() {
                last.push((c, q));
            }
        }
        let segments: Vec<Field> = segments.into_iter().filter(|s| !s.is_empty()).collect();
        let mut matches: Vec<String> = vec![if absolute { "/".into() } else { String::new() }];
        let fs = self.host.fs();
        for seg in &segments {
            let pattern = seg.iter().any(|(c, q)| !q && matches!(c, '*' | '?' | '['));
            let mut next = Vec::new();
            for prefix in &matches {
                if pattern {
                    let dir = if prefix.is_empty() { ".".to_string() } else { prefix.clone() };
                    for entry in fs.list(&self.abs(&dir)).unwrap_or_default() {
                        let hidden_ok = seg.first() == Some(&('.', false)) || seg.first() == Some(&('.', true));
                        if entry.name.starts_with('.') && !hidden_ok {
                            continue;
                        }
                        let name: Vec<char> = entry.name.chars().collect();
                        if glob_match(seg, &name) {
                            next.push(format!("{prefix}{}{}", sep(prefix), entry.name));
                        }
                    }
                } else {
                    let s: String = seg.iter().map(|(c, _)| *c).collect();
                    let candidate = format!("{prefix}{}{s}", sep(prefix));
                    if fs.exists(&self.abs(&candidate)) {
                        next.push(candidate);
                    }
                }
            }
            matches = next;
        }
        matches.sort();
        if matches.is_empty() {
            vec![literal]
        } else {
            matches
        }
    }
}
