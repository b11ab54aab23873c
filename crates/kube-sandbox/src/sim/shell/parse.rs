//! Parser for the POSIX-sh subset the simulated shell runs: lists, `&&`/`||`, pipes,
//! redirections, quoting, parameter/command/arithmetic substitution, `if`/`while`/`until`/`for`,
//! `{ }` and `( )`. Produces the tree `exec` walks.

use super::ast::*;

/// A syntax error, kept structured so ash and dash can word it their own way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum ParseError {
    UnterminatedQuote,
    /// `found` is ash's token name: `end of file`, `newline`, `word` or a quoted `"done"`.
    Unexpected {
        found: String,
        expecting: Option<&'static str>,
    },
}

impl ParseError {
    /// Whether more input could complete the script (an interactive shell asks with `> `).
    pub(super) fn wants_more(&self) -> bool {
        match self {
            ParseError::UnterminatedQuote => true,
            ParseError::Unexpected { found, .. } => found == "end of file",
        }
    }

    /// busybox ash's wording (after `syntax error: `).
    pub(super) fn ash(&self) -> String {
        match self {
            ParseError::UnterminatedQuote => "unterminated quoted string".into(),
            ParseError::Unexpected { found, expecting } => match expecting {
                Some(e) => format!("unexpected {found} (expecting \"{e}\")"),
                None => format!("unexpected {found}"),
            },
        }
    }

    /// dash's wording (after `Syntax error: `).
    pub(super) fn dash(&self) -> String {
        match self {
            ParseError::UnterminatedQuote => "Unterminated quoted string".into(),
            ParseError::Unexpected { found, expecting } => match expecting {
                Some(e) => format!("{found} unexpected (expecting \"{e}\")"),
                None => format!("{found} unexpected"),
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Word { word: Word, plain: Option<String> },
    Op(&'static str),
    Redir(Option<u32>, &'static str),
    Newline,
    Eof,
}

fn tok_name(tok: &Tok) -> String {
    match tok {
        Tok::Eof => "end of file".into(),
        Tok::Newline => "newline".into(),
        Tok::Redir(..) => "redirection".into(),
        Tok::Word { plain: Some(p), .. } if KEYWORDS.contains(&p.as_str()) => format!("\"{p}\""),
        Tok::Word { .. } => "word".into(),
        Tok::Op(op) => format!("\"{op}\""),
    }
}

const KEYWORDS: [&str; 14] =
    ["!", "case", "do", "done", "elif", "else", "esac", "fi", "for", "if", "then", "until", "while", "}"];

pub(super) fn parse(src: &str) -> Result<Script, ParseError> {
    let mut p = Parser { src: src.chars().collect(), pos: 0, line: 1, peeked: None };
    let script = p.list(&[])?;
    match p.next()? {
        Tok::Eof => Ok(script),
        tok => Err(p.unexpected(&tok, None)),
    }
}

pub(super) struct Parser {
    pub src: Vec<char>,
    pub pos: usize,
    pub line: usize,
    pub peeked: Option<Tok>,
}

pub(super) fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

impl Parser {
    pub(super) fn unexpected(&self, tok: &Tok, expecting: Option<&'static str>) -> ParseError {
        ParseError::Unexpected { found: tok_name(tok), expecting }
    }

    pub(super) fn peek_char(&self) -> Option<char> {
        self.src.get(self.pos).copied()
    }

    fn peek(&mut self) -> Result<&Tok, ParseError> {
        if self.peeked.is_none() {
            let tok = self.lex()?;
            self.peeked = Some(tok);
        }
        Ok(self.peeked.get_or_insert(Tok::Eof))
    }

    pub(super) fn next(&mut self) -> Result<Tok, ParseError> {
        match self.peeked.take() {
            Some(tok) => Ok(tok),
            None => self.lex(),
        }
    }

    fn peek_keyword(&mut self) -> Result<Option<String>, ParseError> {
        Ok(match self.peek()? {
            Tok::Word { plain: Some(p), .. } if KEYWORDS.contains(&p.as_str()) => Some(p.clone()),
            _ => None,
        })
    }

    fn skip_newlines(&mut self) -> Result<(), ParseError> {
        while self.peek()? == &Tok::Newline {
            self.next()?;
        }
        Ok(())
    }

    fn expect_keyword(&mut self, kw: &'static str) -> Result<(), ParseError> {
        let tok = self.next()?;
        match &tok {
            Tok::Word { plain: Some(p), .. } if p == kw => Ok(()),
            _ => Err(self.unexpected(&tok, Some(kw))),
        }
    }

    /// Commands separated by `;`, `&` or newlines, up to one of `stops` (a keyword), `)`,
    /// `;;` or end of input, which is left unread.
    pub(super) fn list(&mut self, stops: &[&str]) -> Result<Script, ParseError> {
        let mut script = Vec::new();
        loop {
            self.skip_newlines()?;
            match self.peek()? {
                Tok::Eof | Tok::Op(")" | ";;") => break,
                _ => {}
            }
            if let Some(kw) = self.peek_keyword()? {
                if stops.contains(&kw.as_str()) {
                    break;
                }
            }
            script.push(self.and_or()?);
            match self.peek()? {
                Tok::Op("&") => {
                    self.next()?;
                    if let Some(last) = script.last_mut() {
                        last.background = true;
                    }
                }
                Tok::Op(";") | Tok::Newline => {
                    self.next()?;
                }
                _ => break,
            }
        }
        Ok(script)
    }

    fn and_or(&mut self) -> Result<AndOr, ParseError> {
        let first = self.pipeline()?;
        let mut rest = Vec::new();
        loop {
            let and = match self.peek()? {
                Tok::Op("&&") => true,
                Tok::Op("||") => false,
                _ => break,
            };
            self.next()?;
            self.skip_newlines()?;
            rest.push((and, self.pipeline()?));
        }
        Ok(AndOr { first, rest, background: false })
    }

    fn pipeline(&mut self) -> Result<Pipeline, ParseError> {
        let negate = self.peek_keyword()?.as_deref() == Some("!");
        if negate {
            self.next()?;
        }
        let mut commands = vec![self.command()?];
        while self.peek()? == &Tok::Op("|") {
            self.next()?;
            self.skip_newlines()?;
            commands.push(self.command()?);
        }
        Ok(Pipeline { negate, commands })
    }

    fn command(&mut self) -> Result<Command, ParseError> {
        let compound = match self.peek_keyword()?.as_deref() {
            Some("if") => {
                self.next()?;
                Some(self.if_clause()?)
            }
            Some(kw @ ("while" | "until")) => {
                let until = kw == "until";
                self.next()?;
                let cond = self.list(&["do"])?;
                self.expect_keyword("do")?;
                let body = self.list(&["done"])?;
                self.expect_keyword("done")?;
                Some(Compound::Loop { until, cond, body })
            }
            Some("for") => {
                self.next()?;
                Some(self.for_clause()?)
            }
            Some(_) => {
                let tok = self.next()?;
                return Err(self.unexpected(&tok, None));
            }
            None => None,
        };
        let compound = match compound {
            Some(c) => Some(c),
            None => match self.peek()? {
                Tok::Op("(") => {
                    self.next()?;
                    let body = self.list(&[])?;
                    match self.next()? {
                        Tok::Op(")") => Some(Compound::Subshell(body)),
                        tok => return Err(self.unexpected(&tok, Some(")"))),
                    }
                }
                Tok::Word { plain: Some(p), .. } if p == "{" => {
                    self.next()?;
                    let body = self.list(&["}"])?;
                    self.expect_keyword("}")?;
                    Some(Compound::Group(body))
                }
                _ => None,
            },
        };
        match compound {
            Some(c) => {
                let mut redirs = Vec::new();
                while let Tok::Redir(..) = self.peek()? {
                    redirs.push(self.redir()?);
                }
                Ok(Command::Compound(Box::new(c), redirs))
            }
            None => self.simple().map(Command::Simple),
        }
    }

    fn if_clause(&mut self) -> Result<Compound, ParseError> {
        let mut branches = Vec::new();
        let mut otherwise = None;
        loop {
            let cond = self.list(&["then"])?;
            self.expect_keyword("then")?;
            let body = self.list(&["elif", "else", "fi"])?;
            branches.push((cond, body));
            let tok = self.next()?;
            match &tok {
                Tok::Word { plain: Some(p), .. } if p == "elif" => continue,
                Tok::Word { plain: Some(p), .. } if p == "else" => {
                    otherwise = Some(self.list(&["fi"])?);
                    self.expect_keyword("fi")?;
                    break;
                }
                Tok::Word { plain: Some(p), .. } if p == "fi" => break,
                _ => return Err(self.unexpected(&tok, Some("fi"))),
            }
        }
        Ok(Compound::If { branches, otherwise })
    }

    fn for_clause(&mut self) -> Result<Compound, ParseError> {
        let tok = self.next()?;
        let var = match &tok {
            Tok::Word { plain: Some(p), .. } if is_name(p) => p.clone(),
            _ => return Err(self.unexpected(&tok, None)),
        };
        self.skip_newlines()?;
        let mut items = None;
        if let Tok::Word { plain: Some(p), .. } = self.peek()? {
            if p == "in" {
                self.next()?;
                let mut words = Vec::new();
                while let Tok::Word { .. } = self.peek()? {
                    if let Tok::Word { word, .. } = self.next()? {
                        words.push(word);
                    }
                }
                items = Some(words);
                match self.next()? {
                    Tok::Op(";") | Tok::Newline => {}
                    tok => return Err(self.unexpected(&tok, Some("do"))),
                }
            }
        }
        if items.is_none() && self.peek()? == &Tok::Op(";") {
            self.next()?;
        }
        self.skip_newlines()?;
        self.expect_keyword("do")?;
        let body = self.list(&["done"])?;
        self.expect_keyword("done")?;
        Ok(Compound::For { var, items, body })
    }

    fn redir(&mut self) -> Result<Redir, ParseError> {
        let Tok::Redir(fd, op) = self.next()? else {
            return Err(ParseError::Unexpected { found: "redirection".into(), expecting: None });
        };
        let (default_fd, op) = match op {
            ">" | ">|" => (1, RedirOp::Out),
            ">>" => (1, RedirOp::Append),
            "<" => (0, RedirOp::In),
            ">&" => (1, RedirOp::Dup),
            "<&" => (0, RedirOp::Dup),
            _ => (1, RedirOp::Both),
        };
        match self.next()? {
            Tok::Word { word, .. } => Ok(Redir { fd: fd.unwrap_or(default_fd), op, target: word }),
            tok => Err(self.unexpected(&tok, None)),
        }
    }

    fn simple(&mut self) -> Result<Simple, ParseError> {
        let mut cmd = Simple { line: self.line, ..Simple::default() };
        loop {
            match self.peek()? {
                Tok::Redir(..) => {
                    let r = self.redir()?;
                    cmd.redirs.push(r);
                }
                Tok::Word { .. } => {
                    let Tok::Word { word, .. } = self.next()? else {
                        break;
                    };
                    if cmd.words.is_empty() {
                        if let Some((name, value)) = split_assignment(&word) {
                            cmd.assigns.push((name, value));
                            continue;
                        }
                    }
                    cmd.words.push(word);
                }
                _ => break,
            }
        }
        if cmd.words.is_empty() && cmd.assigns.is_empty() && cmd.redirs.is_empty() {
            let tok = self.next()?;
            return Err(self.unexpected(&tok, None));
        }
        Ok(cmd)
    }
}

/// `NAME=value` at the start of a simple command.
fn split_assignment(word: &Word) -> Option<(String, Word)> {
    let Some(Part::Lit(first)) = word.first() else {
        return None;
    };
    let (name, rest) = first.split_once('=')?;
    if !is_name(name) {
        return None;
    }
    let mut value = Vec::new();
    if !rest.is_empty() {
        value.push(Part::Quoted(rest.to_string()));
    }
    value.extend(word[1..].iter().cloned());
    Some((name.to_string(), value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(src: &str) -> Vec<Word> {
        let script = parse(src).unwrap();
        match &script[0].first.commands[0] {
            Command::Simple(s) => s.words.clone(),
            other => panic!("not simple: {other:?}"),
        }
    }

    #[test]
    fn quoting() {
        assert_eq!(
            words(r#"echo 'a b' "c $X" d\ e"#),
            vec![
                vec![Part::Lit("echo".into())],
                vec![Part::Quoted("a b".into())],
                vec![
                    Part::Quoted("c ".into()),
                    Part::Param { name: "X".into(), op: None, quoted: true },
                    Part::Quoted("".into())
                ],
                vec![Part::Lit("d".into()), Part::Quoted(" ".into()), Part::Lit("e".into())],
            ]
        );
    }

    #[test]
    fn structure() {
        let s = parse("a && b || c; d | e\nf &").unwrap();
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].rest.iter().map(|(and, _)| *and).collect::<Vec<_>>(), vec![true, false]);
        assert_eq!(s[1].first.commands.len(), 2);
        let s = parse("for i in 1 2; do echo $i; done; if true; then :; elif x; then y; else z; fi").unwrap();
        assert!(matches!(&s[0].first.commands[0], Command::Compound(c, _) if matches!(**c, Compound::For { .. })));
        assert!(
            matches!(&s[1].first.commands[0], Command::Compound(c, _) if matches!(&**c, Compound::If { branches, otherwise: Some(_) } if branches.len() == 2))
        );
        let s = parse("x=1 y=$(echo 2) env >out 2>&1").unwrap();
        let Command::Simple(cmd) = &s[0].first.commands[0] else { panic!() };
        assert_eq!(cmd.assigns.len(), 2);
        assert_eq!(
            cmd.redirs.iter().map(|r| (r.fd, r.op)).collect::<Vec<_>>(),
            vec![(1, RedirOp::Out), (2, RedirOp::Dup)]
        );
    }

    #[test]
    fn errors_in_ash_and_dash_words() {
        let e = parse("echo 'oops").unwrap_err();
        assert!(e.wants_more());
        assert_eq!(e.ash(), "unterminated quoted string");
        let e = parse("while true; do echo").unwrap_err();
        assert!(e.wants_more());
        assert_eq!(e.ash(), "unexpected end of file (expecting \"done\")");
        assert_eq!(e.dash(), "end of file unexpected (expecting \"done\")");
        let e = parse("echo a; done").unwrap_err();
        assert!(!e.wants_more());
        assert_eq!(e.ash(), "unexpected \"done\"");
        assert_eq!(parse("| x").unwrap_err().ash(), "unexpected \"|\"");
        assert!(parse("echo a &&").unwrap_err().wants_more());
        assert!(parse("echo $(date").unwrap_err().wants_more());
    }

    #[test]
    fn substitutions() {
        let w = words("echo $(hostname) `date` $((1+2)) ${A:-b} ${#A} $?");
        assert!(matches!(&w[1][0], Part::Command { quoted: false, .. }));
        assert!(matches!(&w[2][0], Part::Command { .. }));
        assert_eq!(w[3], vec![Part::Arith { expr: "1+2".into(), quoted: false }]);
        assert!(matches!(&w[4][0], Part::Param { op: Some(ParamOp::Default(true, _)), .. }));
        assert!(matches!(&w[5][0], Part::Param { op: Some(ParamOp::Length), .. }));
        assert!(matches!(&w[6][0], Part::Param { name, .. } if name == "?"));
        assert_eq!(words("echo $ a")[1], vec![Part::Lit("$".into())]);
    }
}
