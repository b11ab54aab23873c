//! Text the shell formats itself: `echo` (busybox and dash flavours), backslash escapes,
//! `printf` formats and `$((...))` arithmetic.

use super::super::image::Userland;
use super::exec::Shell;

/// busybox echo interprets `\n` and friends only with `-e`; dash's always does.
pub(super) fn echo(args: &[String], userland: Userland) -> String {
    let mut newline = true;
    let mut escapes = userland == Userland::Debian;
    let mut i = 0;
    while let Some(a) = args.get(i) {
        let flags = if userland == Userland::Debian { "n" } else { "neE" };
        if a.len() < 2 || !a.starts_with('-') || !a[1..].chars().all(|c| flags.contains(c)) {
            break;
        }
        for c in a[1..].chars() {
            match c {
                'n' => newline = false,
                'e' => escapes = true,
                _ => escapes = false,
            }
        }
        i += 1;
    }
    let mut out = args[i..].join(" ");
    if escapes {
        let (text, stop) = unescape(&out);
        out = text;
        if stop {
            return out;
        }
    }
    if newline {
        out.push('\n');
    }
    out
}

/// Backslash escapes of echo -e and printf; `true` when `\c` asked to stop output.
pub(super) fn unescape(s: &str) -> (String, bool) {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('a') => out.push('\x07'),
            Some('b') => out.push('\x08'),
            Some('f') => out.push('\x0c'),
            Some('v') => out.push('\x0b'),
            Some('e') => out.push('\x1b'),
            Some('\\') => out.push('\\'),
            Some('c') => return (out, true),
            Some('0') => {
                let mut n = 0u32;
                for _ in 0..3 {
                    match chars.peek().and_then(|c| c.to_digit(8)) {
                        Some(d) => {
                            n = n * 8 + d;
                            chars.next();
                        }
                        None => break,
                    }
                }
                out.push(char::from_u32(n).unwrap_or('?'));
            }
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    (out, false)
}

/// One pass over a printf format; returns whether it consumed any argument.
pub(super) fn printf_once(format: &str, args: &mut std::slice::Iter<'_, String>, out: &mut String) -> bool {
    let (format, _) = unescape(format);
    let mut used = false;
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = String::new();
        while let Some(&f) = chars.peek() {
            if "-+ #0123456789.".contains(f) {
                spec.push(f);
                chars.next();
            } else {
                break;
            }
        }
        let Some(conv) = chars.next() else {
            out.push('%');
            break;
        };
        if conv == '%' {
            out.push('%');
            continue;
        }
        let arg = args.next().map(String::as_str);
        used |= arg.is_some();
        let arg = arg.unwrap_or("");
        let left = spec.starts_with('-');
        let zero = spec.starts_with('0');
        let nums = spec.trim_start_matches(['-', '+', ' ', '#', '0']);
        let (width, precision) = match nums.split_once('.') {
            Some((w, p)) => (w.parse().unwrap_or(0), p.parse().ok()),
            None => (nums.parse().unwrap_or(0usize), None),
        };
        let n = || arg.trim().parse::<i64>().unwrap_or(0);
        let text = match conv {
            's' => match precision {
                Some(p) => arg.chars().take(p).collect(),
                None => arg.to_string(),
            },
            'b' => unescape(arg).0,
            'c' => arg.chars().next().map(String::from).unwrap_or_default(),
            'd' | 'i' | 'u' => n().to_string(),
            'x' => format!("{:x}", n()),
            'X' => format!("{:X}", n()),
            'o' => format!("{:o}", n()),
            other => format!("%{spec}{other}"),
        };
        let pad = width.min(4096).saturating_sub(text.chars().count());
        if left {
            out.push_str(&text);
            out.push_str(&" ".repeat(pad));
        } else if zero && conv != 's' {
            out.push_str(&"0".repeat(pad));
            out.push_str(&text);
        } else {
            out.push_str(&" ".repeat(pad));
            out.push_str(&text);
        }
    }
    used
}

/// `$((expr))` over integers: `+ - * / %`, comparisons, `&& || !`, parentheses and variables.
pub(super) fn arith(expr: &str, sh: &Shell) -> Result<i64, String> {
    let mut tokens = Vec::new();
    let chars: Vec<char> = expr.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_alphanumeric() {
                i += 1;
            }
            let s: String = chars[start..i].iter().collect();
            tokens.push(Tok::Num(s.parse().map_err(|_| "arithmetic syntax error".to_string())?));
        } else if c == '_' || c.is_ascii_alphabetic() || c == '$' {
            if c == '$' {
                i += 1;
            }
            let start = i;
            while i < chars.len() && (chars[i] == '_' || chars[i].is_ascii_alphanumeric()) {
                i += 1;
            }
            let name: String = chars[start..i].iter().collect();
            let value = sh.get(&name).unwrap_or("").trim().to_string();
            tokens.push(Tok::Num(if value.is_empty() {
                0
            } else {
                value.parse().map_err(|_| "arithmetic syntax error".to_string())?
            }));
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            let op = ["<=", ">=", "==", "!=", "&&", "||"]
                .into_iter()
                .find(|o| *o == two)
                .map(ToString::to_string)
                .unwrap_or_else(|| c.to_string());
            i += op.len();
            tokens.push(Tok::Op(op));
        }
    }
    let mut p = Arith { tokens, pos: 0 };
    let v = p.binary(0)?;
    if p.pos != p.tokens.len() {
        return Err("arithmetic syntax error".into());
    }
    Ok(v)
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(i64),
    Op(String),
}

struct Arith {
    tokens: Vec<Tok>,
    pos: usize,
}

const LEVELS: &[&[&str]] = &[&["||"], &["&&"], &["==", "!="], &["<", "<=", ">", ">="], &["+", "-"], &["*", "/", "%"]];

impl Arith {
    fn binary(&mut self, level: usize) -> Result<i64, String> {
        if level == LEVELS.len() {
            return self.unary();
        }
        let mut left = self.binary(level + 1)?;
        while let Some(Tok::Op(op)) = self.tokens.get(self.pos).cloned() {
            if !LEVELS[level].contains(&op.as_str()) {
                break;
            }
            self.pos += 1;
            let right = self.binary(level + 1)?;
            left = match op.as_str() {
                "||" => i64::from(left != 0 || right != 0),
                "&&" => i64::from(left != 0 && right != 0),
                "==" => i64::from(left == right),
                "!=" => i64::from(left != right),
                "<" => i64::from(left < right),
                "<=" => i64::from(left <= right),
                ">" => i64::from(left > right),
                ">=" => i64::from(left >= right),
                "+" => left.wrapping_add(right),
                "-" => left.wrapping_sub(right),
                "*" => left.wrapping_mul(right),
                _ if right == 0 => return Err("divide by zero".into()),
                "/" => left.wrapping_div(right),
                _ => left.wrapping_rem(right),
            };
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<i64, String> {
        let tok = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        match tok {
            Some(Tok::Num(n)) => Ok(n),
            Some(Tok::Op(op)) if op == "-" => Ok(self.unary()?.wrapping_neg()),
            Some(Tok::Op(op)) if op == "+" => self.unary(),
            Some(Tok::Op(op)) if op == "!" => Ok(i64::from(self.unary()? == 0)),
            Some(Tok::Op(op)) if op == "(" => {
                let v = self.binary(0)?;
                match self.tokens.get(self.pos) {
                    Some(Tok::Op(c)) if c == ")" => {
                        self.pos += 1;
                        Ok(v)
                    }
                    _ => Err("arithmetic syntax error".into()),
                }
            }
            _ => Err("arithmetic syntax error".into()),
        }
    }
}
