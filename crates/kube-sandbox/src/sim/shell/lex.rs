//! The lexer half of the parser: operators, redirections with their fd, and words with their
//! quoting and `$`/backtick substitutions (which recurse into the parser).

use super::ast::{ParamOp, Part, Word};
use super::parse::{parse, ParseError, Parser, Tok};

impl Parser {
    pub(super) fn lex(&mut self) -> Result<Tok, ParseError> {
        loop {
            match self.peek_char() {
                Some(' ' | '\t') => self.pos += 1,
                Some('\\') if self.src.get(self.pos + 1) == Some(&'\n') => {
                    self.pos += 2;
                    self.line += 1;
                }
                Some('#') => {
                    while !matches!(self.peek_char(), None | Some('\n')) {
                        self.pos += 1;
                    }
                }
                _ => break,
            }
        }
        let Some(c) = self.peek_char() else {
            return Ok(Tok::Eof);
        };
        let two: String = self.src[self.pos..(self.pos + 2).min(self.src.len())].iter().collect();
        if c == '\n' {
            self.pos += 1;
            self.line += 1;
            return Ok(Tok::Newline);
        }
        for op in ["&&", "||", ";;"] {
            if two == op {
                self.pos += 2;
                return Ok(Tok::Op(op));
            }
        }
        for op in [">>", ">&", "<&", ">|", "&>"] {
            if two == op {
                self.pos += 2;
                return Ok(Tok::Redir(None, op));
            }
        }
        if two == "<<" {
            // Here-documents are outside the subset; say where parsing stopped.
            return Err(ParseError::Unexpected { found: "\"<<\"".into(), expecting: None });
        }
        match c {
            ';' | '&' | '|' | '(' | ')' => {
                self.pos += 1;
                return Ok(Tok::Op(match c {
                    ';' => ";",
                    '&' => "&",
                    '|' => "|",
                    '(' => "(",
                    _ => ")",
                }));
            }
            '>' | '<' => {
                self.pos += 1;
                return Ok(Tok::Redir(None, if c == '>' { ">" } else { "<" }));
            }
            _ => {}
        }
        // An all-digit word glued to a redirection is the fd it redirects (`2>&1`).
        let digits = self.src[self.pos..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits > 0 {
            if let Some(&next) = self.src.get(self.pos + digits) {
                if next == '>' || next == '<' {
                    let fd: String = self.src[self.pos..self.pos + digits].iter().collect();
                    self.pos += digits;
                    if let Tok::Redir(None, op) = self.lex()? {
                        return Ok(Tok::Redir(fd.parse().ok(), op));
                    }
                }
            }
        }
        self.word()
    }

    fn word(&mut self) -> Result<Tok, ParseError> {
        let mut parts: Vec<Part> = Vec::new();
        let mut lit = String::new();
        let mut all_plain = true;
        if self.peek_char() == Some('~') {
            let next = self.src.get(self.pos + 1).copied();
            if next.is_none_or(|c| c == '/' || is_meta(c)) {
                self.pos += 1;
                parts.push(Part::Tilde);
                all_plain = false;
            }
        }
        while let Some(c) = self.peek_char() {
            if is_meta(c) {
                break;
            }
            match c {
                '\\' => {
                    self.pos += 1;
                    match self.peek_char() {
                        Some('\n') => {
                            self.pos += 1;
                            self.line += 1;
                        }
                        Some(n) => {
                            self.pos += 1;
                            flush(&mut parts, &mut lit);
                            parts.push(Part::Quoted(n.to_string()));
                            all_plain = false;
                        }
                        None => {}
                    }
                }
                '\'' => {
                    self.pos += 1;
                    let mut s = String::new();
                    loop {
                        match self.peek_char() {
                            None => return Err(ParseError::UnterminatedQuote),
                            Some('\'') => break,
                            Some(ch) => {
                                if ch == '\n' {
                                    self.line += 1;
                                }
                                s.push(ch);
                                self.pos += 1;
                            }
                        }
                    }
                    self.pos += 1;
                    flush(&mut parts, &mut lit);
                    parts.push(Part::Quoted(s));
                    all_plain = false;
                }
                '"' => {
                    self.pos += 1;
                    flush(&mut parts, &mut lit);
                    self.double_quoted(&mut parts)?;
                    all_plain = false;
                }
                '$' | '`' => {
                    flush(&mut parts, &mut lit);
                    match self.dollar(false)? {
                        Some(part) => {
                            parts.push(part);
                            all_plain = false;
                        }
                        None => lit.push('$'),
                    }
                }
                _ => {
                    lit.push(c);
                    self.pos += 1;
                }
            }
        }
        flush(&mut parts, &mut lit);
        let plain = match (&parts[..], all_plain) {
            ([Part::Lit(s)], true) => Some(s.clone()),
            _ => None,
        };
        Ok(Tok::Word { word: parts, plain })
    }

    fn double_quoted(&mut self, parts: &mut Vec<Part>) -> Result<(), ParseError> {
        let mut s = String::new();
        loop {
            match self.peek_char() {
                None => return Err(ParseError::UnterminatedQuote),
                Some('"') => {
                    self.pos += 1;
                    break;
                }
                Some('\\') => {
                    self.pos += 1;
                    match self.peek_char() {
                        Some('\n') => {
                            self.pos += 1;
                            self.line += 1;
                        }
                        Some(n @ ('$' | '`' | '"' | '\\')) => {
                            self.pos += 1;
                            s.push(n);
                        }
                        _ => s.push('\\'),
                    }
                }
                Some('$' | '`') => {
                    if !s.is_empty() {
                        parts.push(Part::Quoted(std::mem::take(&mut s)));
                    }
                    match self.dollar(true)? {
                        Some(part) => parts.push(part),
                        None => s.push('$'),
                    }
                }
                Some(c) => {
                    if c == '\n' {
                        self.line += 1;
                    }
                    s.push(c);
                    self.pos += 1;
                }
            }
        }
        // `""` is still a word, an empty one.
        parts.push(Part::Quoted(s));
        Ok(())
    }

    /// At `$` or a backtick: the substitution, or `None` for a lone `$` (consumed).
    fn dollar(&mut self, quoted: bool) -> Result<Option<Part>, ParseError> {
        if self.peek_char() == Some('`') {
            self.pos += 1;
            let mut inner = String::new();
            loop {
                match self.peek_char() {
                    None => return Err(ParseError::UnterminatedQuote),
                    Some('`') => break,
                    Some('\\') => {
                        self.pos += 1;
                        match self.peek_char() {
                            Some(n @ ('`' | '\\' | '$')) => {
                                inner.push(n);
                                self.pos += 1;
                            }
                            _ => inner.push('\\'),
                        }
                    }
                    Some(c) => {
                        inner.push(c);
                        self.pos += 1;
                    }
                }
            }
            self.pos += 1;
            let script = parse(&inner)?;
            return Ok(Some(Part::Command { script, quoted }));
        }
        self.pos += 1; // the `$`
        match self.peek_char() {
            Some('(') if self.src.get(self.pos + 1) == Some(&'(') => {
                self.pos += 2;
                let mut depth = 0usize;
                let mut expr = String::new();
                loop {
                    match self.peek_char() {
                        None => return Err(ParseError::UnterminatedQuote),
                        Some(')') if depth == 0 && self.src.get(self.pos + 1) == Some(&')') => {
                            self.pos += 2;
                            break;
                        }
                        Some(c) => {
                            if c == '(' {
                                depth += 1;
                            } else if c == ')' {
                                depth = depth.saturating_sub(1);
                            }
                            expr.push(c);
                            self.pos += 1;
                        }
                    }
                }
                Ok(Some(Part::Arith { expr, quoted }))
            }
            Some('(') => {
                self.pos += 1;
                let saved = self.peeked.take();
                let script = self.list(&[])?;
                let close = self.next()?;
                self.peeked = saved;
                match close {
                    Tok::Op(")") => Ok(Some(Part::Command { script, quoted })),
                    tok => Err(self.unexpected(&tok, Some(")"))),
                }
            }
            Some('{') => {
                self.pos += 1;
                self.braced_param(quoted).map(Some)
            }
            Some(c) if c.is_ascii_digit() || "?$#@*!-".contains(c) => {
                self.pos += 1;
                Ok(Some(Part::Param { name: c.to_string(), op: None, quoted }))
            }
            Some(c) if c == '_' || c.is_ascii_alphabetic() => {
                let mut name = String::new();
                while let Some(c) = self.peek_char().filter(|c| *c == '_' || c.is_ascii_alphanumeric()) {
                    name.push(c);
                    self.pos += 1;
                }
                Ok(Some(Part::Param { name, op: None, quoted }))
            }
            _ => Ok(None),
        }
    }

    fn braced_param(&mut self, quoted: bool) -> Result<Part, ParseError> {
        let length = self.peek_char() == Some('#') && self.src.get(self.pos + 1) != Some(&'}');
        if length {
            self.pos += 1;
        }
        let mut name = String::new();
        while let Some(c) = self.peek_char() {
            let special = name.is_empty() && "?$#@*!-".contains(c);
            if c == '_' || c.is_ascii_alphanumeric() || special {
                name.push(c);
                self.pos += 1;
                if special {
                    break;
                }
            } else {
                break;
            }
        }
        if length {
            self.close_brace()?;
            return Ok(Part::Param { name, op: Some(ParamOp::Length), quoted });
        }
        let colon = self.peek_char() == Some(':');
        if colon {
            self.pos += 1;
        }
        let op = match self.peek_char() {
            Some('}') if !colon => {
                self.pos += 1;
                return Ok(Part::Param { name, op: None, quoted });
            }
            Some(c @ ('-' | '=' | '+')) => {
                self.pos += 1;
                let word = self.word_until_brace()?;
                match c {
                    '-' => ParamOp::Default(colon, word),
                    '=' => ParamOp::Assign(colon, word),
                    _ => ParamOp::Alt(colon, word),
                }
            }
            _ => return Err(ParseError::Unexpected { found: "word".into(), expecting: Some("}") }),
        };
        Ok(Part::Param { name, op: Some(op), quoted })
    }

    fn close_brace(&mut self) -> Result<(), ParseError> {
        if self.peek_char() == Some('}') {
            self.pos += 1;
            Ok(())
        } else {
            Err(ParseError::UnterminatedQuote)
        }
    }

    /// The word inside `${name:-word}`, up to the closing brace.
    fn word_until_brace(&mut self) -> Result<Word, ParseError> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        loop {
            match self.peek_char() {
                None => return Err(ParseError::UnterminatedQuote),
                Some('}') => {
                    self.pos += 1;
                    break;
                }
                Some('"') => {
                    self.pos += 1;
                    flush(&mut parts, &mut lit);
                    self.double_quoted(&mut parts)?;
                }
                Some('\'') => {
                    self.pos += 1;
                    let start = self.pos;
                    while self.peek_char().is_some_and(|c| c != '\'') {
                        self.pos += 1;
                    }
                    if self.peek_char().is_none() {
                        return Err(ParseError::UnterminatedQuote);
                    }
                    flush(&mut parts, &mut lit);
                    parts.push(Part::Quoted(self.src[start..self.pos].iter().collect()));
                    self.pos += 1;
                }
                Some('$' | '`') => {
                    flush(&mut parts, &mut lit);
                    match self.dollar(false)? {
                        Some(p) => parts.push(p),
                        None => lit.push('$'),
                    }
                }
                Some(c) => {
                    lit.push(c);
                    self.pos += 1;
                }
            }
        }
        flush(&mut parts, &mut lit);
        Ok(parts)
    }
}

fn flush(parts: &mut Vec<Part>, lit: &mut String) {
    if !lit.is_empty() {
        parts.push(Part::Lit(std::mem::take(lit)));
    }
}

fn is_meta(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | ';' | '&' | '|' | '<' | '>' | '(' | ')')
}
