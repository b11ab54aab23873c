//! Text tools over files and pipes: `grep` (basic regular expressions), `wc`, `head`, `tail`,
//! with busybox's or coreutils' column widths.

use super::super::Host;
use super::exec::Interp;

impl<'a, H: Host> Interp<'a, H> {
    pub(super) fn grep(&mut self, args: &[String]) -> i32 {
        let mut flags = String::new();
        let mut operands = Vec::new();
        for a in args {
            if a.starts_with('-') && a.len() > 1 && operands.is_empty() {
                flags.push_str(&a[1..]);
            } else {
                operands.push(a);
            }
        }
        let Some((pattern, files)) = operands.split_first() else {
            self.err("Usage: grep [-icnqv] PATTERN [FILE]...\n");
            return 2;
        };
        let ignore_case = flags.contains('i');
        let pattern = if ignore_case { pattern.to_lowercase() } else { (*pattern).clone() };
        let fixed = flags.contains('F');
        let (inputs, err_status) = self.inputs("grep", files);
        let many = inputs.len() > 1;
        let mut found = false;
        let mut text = String::new();
        for (name, content) in inputs {
            let mut count = 0;
            for (n, line) in content.lines().enumerate() {
                let hay = if ignore_case { line.to_lowercase() } else { line.to_string() };
                let hit = if fixed { hay.contains(&pattern) } else { regex_find(&pattern, &hay) };
                if hit == flags.contains('v') {
                    continue;
                }
                found = true;
                count += 1;
                if flags.contains('c') || flags.contains('q') {
                    continue;
                }
                if many {
                    text.push_str(&format!("{name}:"));
                }
                if flags.contains('n') {
                    text.push_str(&format!("{}:", n + 1));
                }
                text.push_str(line);
                text.push('\n');
            }
            if flags.contains('c') {
                let prefix = if many { format!("{name}:") } else { String::new() };
                text.push_str(&format!("{prefix}{count}\n"));
            }
        }
        if !flags.contains('q') {
            self.out(&text);
        }
        match (found, err_status) {
            (_, 2) if !flags.contains('q') || !found => 2,
            (true, _) => 0,
            (false, _) => 1,
        }
    }

    pub(super) fn wc(&mut self, args: &[String]) -> i32 {
        let flags: String = args.iter().filter(|a| a.starts_with('-') && a.len() > 1).map(|a| &a[1..]).collect();
        let files: Vec<&String> = args.iter().filter(|a| !a.starts_with('-') || *a == "-").collect();
        let mut which: Vec<char> = "lwc".chars().filter(|c| flags.contains(*c)).collect();
        if which.is_empty() {
            which = vec!['l', 'w', 'c'];
        }
        let no_files = files.is_empty();
        let (inputs, status) = self.inputs("wc", &files);
        let single = which.len() == 1 && inputs.len() <= 1;
        let mut text = String::new();
        let mut totals = [0usize; 3];
        for (name, content) in &inputs {
            let counts = [content.matches('\n').count(), content.split_whitespace().count(), content.len()];
            for (t, c) in totals.iter_mut().zip(counts) {
                *t += c;
            }
            text.push_str(&wc_line(&which, &counts, single, self.busybox()));
            if !no_files {
                text.push_str(&format!(" {name}"));
            }
            text.push('\n');
        }
        if inputs.len() > 1 {
            text.push_str(&wc_line(&which, &totals, false, self.busybox()));
            text.push_str(" total\n");
        }
        self.out(&text);
        status
    }

    pub(super) fn head_tail(&mut self, head: bool, args: &[String]) -> i32 {
        let mut count = 10usize;
        let mut files = Vec::new();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            if a == "-n" {
                count = it.next().and_then(|n| n.trim_start_matches('+').parse().ok()).unwrap_or(10);
            } else if let Some(n) = a.strip_prefix("-n").or_else(|| a.strip_prefix('-')).filter(|n| !n.is_empty()) {
                count = n.parse().unwrap_or(10);
            } else {
                files.push(a);
            }
        }
        let name = if head { "head" } else { "tail" };
        let (inputs, status) = self.inputs(name, &files);
        let many = inputs.len() > 1;
        let mut text = String::new();
        for (i, (file, content)) in inputs.iter().enumerate() {
            if many {
                text.push_str(&format!("{}==> {file} <==\n", if i > 0 { "\n" } else { "" }));
            }
            let lines: Vec<&str> = content.split_inclusive('\n').collect();
            let picked =
                if head { &lines[..count.min(lines.len())] } else { &lines[lines.len().saturating_sub(count)..] };
            text.extend(picked.iter().copied());
        }
        self.out(&text);
        status
    }
}

fn wc_line(which: &[char], counts: &[usize; 3], single: bool, busybox: bool) -> String {
    let mut text = String::new();
    for (i, c) in which.iter().enumerate() {
        let n = counts["lwc".find(*c).unwrap_or(0)];
        if single {
            text.push_str(&n.to_string());
        } else if busybox {
            text.push_str(&if i == 0 { format!("{n:>9}") } else { format!(" {n:>9}") });
        } else {
            text.push_str(&if i == 0 { format!("{n:>7}") } else { format!(" {n:>7}") });
        }
    }
    text
}

/// A basic regular expression search: `^`, `$`, `.`, `*` and `\` escapes.
pub(super) fn regex_find(pattern: &str, text: &str) -> bool {
    let pat: Vec<char> = pattern.chars().collect();
    let hay: Vec<char> = text.chars().collect();
    if let Some(rest) = pat.strip_prefix(&['^']) {
        return match_here(rest, &hay);
    }
    (0..=hay.len()).any(|i| match_here(&pat, &hay[i..]))
}

fn match_here(pat: &[char], text: &[char]) -> bool {
    let (atom, len) = match pat {
        [] => return true,
        ['$'] => return text.is_empty(),
        ['\\', c, ..] => (Some(*c), 2),
        ['.', ..] => (None, 1),
        [c, ..] => (Some(*c), 1),
    };
    let matches = |t: Option<&char>| t.is_some_and(|t| atom.is_none_or(|a| a == *t));
    if pat.get(len) == Some(&'*') {
        let rest = &pat[len + 1..];
        let mut i = 0;
        loop {
            if match_here(rest, &text[i..]) {
                return true;
            }
            if !matches(text.get(i)) {
                return false;
            }
            i += 1;
        }
    }
    matches(text.first()) && match_here(&pat[len..], &text[1..])
}
