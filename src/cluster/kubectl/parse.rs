//! Parsing a command line as kubectl (cobra/pflag) would: shell-like words, flags anywhere
//! (`--flag=v`, `--flag v`, `-fv`, `-f=v`, `--` ends flags), kinds by any of their names or
//! as `kind/name`. Errors name the word and suggest a close one.

use std::fmt;

use super::{Command, Kind, Output, PatchType, Targets};

/// Why a line is not a command the tutor runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub message: String,
    /// The word the error is about, when there is one.
    pub word: Option<String>,
}

impl ParseError {
    fn new(message: impl Into<String>) -> ParseError {
        ParseError { message: message.into(), word: None }
    }
    fn about(word: &str, message: impl Into<String>) -> ParseError {
        ParseError { message: message.into(), word: Some(word.to_string()) }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ParseError {}

/// Split a line into words as a POSIX shell does: whitespace separates, single quotes keep
/// everything, double quotes keep all but `\"`, `\\`, `\$` and `` \` ``, a backslash outside
/// quotes escapes the next character.
pub fn tokenize(line: &str) -> Result<Vec<String>, ParseError> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err(ParseError::new("unterminated single quote (')")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => word.push(c),
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err(ParseError::new("unterminated double quote (\")")),
                        },
                        Some(c) => word.push(c),
                        None => return Err(ParseError::new("unterminated double quote (\")")),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(c) = chars.next() {
                    word.push(c);
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// The commands, for errors and completion.
pub(super) const COMMANDS: [&str; 10] =
    ["get", "describe", "delete", "scale", "patch", "logs", "rollout", "apply", "nslookup", "wget"];

/// A flag a command accepts.
pub(super) struct Flag {
    pub long: &'static str,
    pub short: Option<char>,
    pub takes_value: bool,
}

const fn flag(long: &'static str, short: Option<char>, takes_value: bool) -> Flag {
    Flag { long, short, takes_value }
}

const GET_FLAGS: &[Flag] = &[
    flag("selector", Some('l'), true),
    flag("output", Some('o'), true),
    flag("show-labels", None, false),
    flag("label-columns", Some('L'), true),
];
const DELETE_FLAGS: &[Flag] = &[
    flag("selector", Some('l'), true),
    flag("all", None, false),
    flag("grace-period", None, true),
    flag("now", None, false),
    flag("force", None, false),
];
const SCALE_FLAGS: &[Flag] = &[flag("replicas", None, true)];
const PATCH_FLAGS: &[Flag] = &[flag("patch", Some('p'), true), flag("type", None, true)];
const LOGS_FLAGS: &[Flag] = &[flag("container", Some('c'), true)];
const APPLY_FLAGS: &[Flag] = &[
    flag("filename", Some('f'), true),
    flag("server-side", None, false),
    flag("dry-run", None, true),
    flag("force-conflicts", None, false),
    flag("field-manager", None, true),
];
const WGET_FLAGS: &[Flag] = &[flag("quiet", Some('q'), false), flag("output-document", Some('O'), true)];

pub(super) fn flags_of(command: &str) -> &'static [Flag] {
    match command {
        "get" => GET_FLAGS,
        "delete" => DELETE_FLAGS,
        "scale" => SCALE_FLAGS,
        "patch" => PATCH_FLAGS,
        "logs" => LOGS_FLAGS,
        "apply" => APPLY_FLAGS,
        "wget" => WGET_FLAGS,
        _ => &[],
    }
}

/// Flags kubectl has dropped, with when.
const REMOVED_FLAGS: [(&str, &str); 3] = [
    ("generator", "removed from kubectl in 1.21"),
    ("export", "removed from kubectl in 1.18"),
    ("record", "deprecated and ignored since kubectl 1.22"),
];

/// Positionals and flags (by long name) of one command's words.
struct Args {
    positionals: Vec<String>,
    flags: Vec<(&'static str, String)>,
}

impl Args {
    fn value(&self, long: &str) -> Option<&str> {
        self.flags.iter().rev().find(|(l, _)| *l == long).map(|(_, v)| v.as_str())
    }
    /// Every value of a flag that may be repeated, each also split at commas (`-L a,b -L c`).
    fn values(&self, long: &str) -> Vec<String> {
        self.flags
            .iter()
            .filter(|(l, _)| *l == long)
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .collect()
    }
    fn is_set(&self, long: &str) -> Result<bool, ParseError> {
        match self.value(long) {
            None => Ok(false),
            Some("" | "true") => Ok(true),
            Some("false") => Ok(false),
            Some(other) => Err(ParseError::about(
                other,
                format!("invalid argument \"{other}\" for \"--{long}\" flag: expected true or false"),
            )),
        }
    }
}

fn split_args(command: &str, words: &[String]) -> Result<Args, ParseError> {
    let spec = flags_of(command);
    let mut args = Args { positionals: Vec::new(), flags: Vec::new() };
    let mut i = 0;
    while i < words.len() {
        let w = &words[i];
        i += 1;
        if w == "--" {
            args.positionals.extend(words[i..].iter().cloned());
            break;
        }
        if let Some(long) = w.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            let Some(f) = spec.iter().find(|f| f.long == name) else {
                return Err(unknown_flag(command, &format!("--{name}")));
            };
            let value = match (inline, f.takes_value) {
                (Some(v), _) => v,
                (None, false) => String::new(),
                (None, true) => take_value(words, &mut i, &format!("--{name}"))?,
            };
            args.flags.push((f.long, value));
        } else if w.len() > 1 && w.starts_with('-') && !(command == "wget" && w == "-") {
            let mut rest = &w[1..];
            while let Some(c) = rest.chars().next() {
                rest = &rest[c.len_utf8()..];
                let Some(f) = spec.iter().find(|f| f.short == Some(c)) else {
                    return Err(unknown_shorthand(command, c, w));
                };
                if f.takes_value {
                    let value = match rest.strip_prefix('=').unwrap_or(rest) {
                        "" => take_value(words, &mut i, &format!("-{c}"))?,
                        v => v.to_string(),
                    };
                    args.flags.push((f.long, value));
                    break;
                }
                args.flags.push((f.long, String::new()));
            }
        } else {
            args.positionals.push(w.clone());
        }
    }
    Ok(args)
}

fn take_value(words: &[String], i: &mut usize, name: &str) -> Result<String, ParseError> {
    let v = words.get(*i).ok_or_else(|| ParseError::about(name, format!("flag needs an argument: {name}")))?;
    *i += 1;
    Ok(v.clone())
}

fn unknown_flag(command: &str, flag: &str) -> ParseError {
    let name = flag.trim_start_matches('-');
    if let Some((_, why)) = REMOVED_FLAGS.iter().find(|(f, _)| *f == name) {
        return ParseError::about(flag, format!("unknown flag: {flag} ({why})"));
    }
    if matches!(name, "namespace" | "all-namespaces" | "context" | "kubeconfig") {
        return ParseError::about(
            flag,
            format!("unknown flag: {flag} (the tutor runs every command in the lesson's namespace and cluster)"),
        );
    }
    let names: Vec<&str> = flags_of(command).iter().map(|f| f.long).collect();
    let hint = closest(name, &names).map(|s| format!(" (did you mean --{s}?)")).unwrap_or_default();
    ParseError::about(flag, format!("unknown flag: {flag}{hint}"))
}

fn unknown_shorthand(command: &str, c: char, word: &str) -> ParseError {
    let hint = match c {
        'n' | 'A' => " (the tutor runs every command in the lesson's namespace)".to_string(),
        'w' => " (watching is what the pods pane does)".to_string(),
        'f' if command == "logs" => " (following a log is not available here; run logs again)".to_string(),
        _ => String::new(),
    };
    ParseError::about(word, format!("unknown shorthand flag: '{c}' in {word}{hint}"))
}

/// The candidate at edit distance 1 or 2 from `word` (1 for short words), if any.
pub(super) fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let limit = if word.len() <= 3 { 1 } else { 2 };
    candidates
        .iter()
        .map(|c| (distance(word, c), *c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Edit distance with adjacent transpositions counting one (optimal string alignment), so
/// `gte` is one step from `get`.
fn distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// Parse a command line; a leading `kubectl` is optional.
pub fn parse(line: &str) -> Result<Command, ParseError> {
    let mut words = tokenize(line)?;
    if words.first().is_some_and(|w| w == "kubectl" || w == "k") {
        words.remove(0);
    }
    let Some(command) = words.first().cloned() else {
        return Err(ParseError::new("empty command: try get pods, describe sts web, or help"));
    };
    let rest = &words[1..];
    match command.as_str() {
        "run" => Err(run_error(rest)),
        "exec" | "attach" | "cp" | "port-forward" | "edit" => Err(ParseError::about(
            &command,
            format!("{command} is not available in the tutor's command line; use a terminal with the printed KUBECONFIG, or :nslookup NAME and :wget -q -O - URL to look from inside the cluster"),
        )),
        c if !COMMANDS.contains(&c) => {
            let hint = closest(c, &COMMANDS).map(|s| format!(" (did you mean {s}?)")).unwrap_or_default();
            Err(ParseError::about(c, format!("unknown command: {c}{hint}")))
        }
        _ => {
            let args = split_args(&command, rest)?;
            match command.as_str() {
                "get" => get(args),
                "describe" => describe(args),
                "delete" => delete(args),
                "scale" => scale(args),
                "patch" => patch(args),
                "logs" => logs(args),
                "rollout" => rollout(args),
                "apply" => apply(args),
                "nslookup" => nslookup(args),
                _ => wget(args),
            }
        }
    }
}

fn run_error(rest: &[String]) -> ParseError {
    if let Some(w) = rest.iter().take_while(|w| *w != "--").find(|w| w.starts_with("--generator")) {
        let _ = w;
        return unknown_flag("run", "--generator");
    }
    ParseError::about(
        "run",
        "run is not available in the tutor's command line: :nslookup NAME and :wget -q -O - URL run a probe pod for you",
    )
}

fn kind_of(word: &str) -> Result<Kind, ParseError> {
    Kind::from_word(word).ok_or_else(|| {
        let all: Vec<&str> = Kind::ALL.iter().flat_map(|k| k.words().iter().copied()).collect();
        let hint = closest(&word.to_ascii_lowercase(), &all).map(|s| format!(" (did you mean {s}?)")).unwrap_or_default();
        ParseError::about(
            word,
            format!("the server doesn't have a resource type \"{word}\" the tutor knows{hint}; try pods, sts, svc, pvc, events"),
        )
    })
}

/// `kind name...` or `kind/name...` (one kind).
fn kind_and_names(command: &str, positionals: &[String]) -> Result<(Kind, Vec<String>), ParseError> {
    let Some(first) = positionals.first() else {
        return Err(ParseError::new(format!(
            "{command}: say what to {command}, e.g. {command} pods or {command} statefulset/web"
        )));
    };
    if first.contains('/') {
        let mut kind = None;
        let mut names = Vec::new();
        for p in positionals {
            let Some((k, n)) = p.split_once('/') else {
                return Err(ParseError::about(p, format!("there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (got {p})")));
            };
            let k = kind_of(k)?;
            if kind.is_some_and(|prev| prev != k) {
                return Err(ParseError::about(p, "the tutor's command line takes one kind at a time"));
            }
            if n.is_empty() {
                return Err(ParseError::about(p, format!("{p}: a name is missing after the /")));
            }
            kind = Some(k);
            names.push(n.to_string());
        }
        return Ok((kind.unwrap_or(Kind::Pod), names));
    }
    if first.contains(',') {
        return Err(ParseError::about(first, "the tutor's command line takes one kind at a time"));
    }
    Ok((kind_of(first)?, positionals[1..].to_vec()))
}

fn exactly_one(command: &str, kind: Kind, names: Vec<String>) -> Result<String, ParseError> {
    match <[String; 1]>::try_from(names) {
        Ok([name]) => Ok(name),
        Err(names) if names.is_empty() => {
            Err(ParseError::new(format!("{command}: which {}? e.g. {command} {} NAME", kind.name(), kind.plural())))
        }
        Err(_) => Err(ParseError::new(format!("{command} takes one {} name", kind.name()))),
    }
}

fn get(args: Args) -> Result<Command, ParseError> {
    let (kind, names) = kind_and_names("get", &args.positionals)?;
    let output = match args.value("output") {
        None => Output::Table,
        Some("wide") => Output::Wide,
        Some("yaml") => Output::Yaml,
        Some("json") => Output::Json,
        Some("name") => Output::Name,
        Some(o) if o.starts_with("jsonpath=") => {
            let template = &o["jsonpath=".len()..];
            super::jsonpath::validate(template)
                .map_err(|e| ParseError::about(o, format!("error parsing jsonpath {template}: {e}")))?;
            Output::JsonPath(template.to_string())
        }
        Some(other) => {
            return Err(ParseError::about(
                other,
                format!("unable to match a printer suitable for the output format \"{other}\", allowed formats are: json, jsonpath, name, wide, yaml"),
            ))
        }
    };
    let selector = args.value("selector").map(str::to_string);
    if selector.is_some() && !names.is_empty() {
        return Err(ParseError::new("name cannot be provided when a selector is specified"));
    }
    Ok(Command::Get {
        kind,
        names,
        selector,
        output,
        show_labels: args.is_set("show-labels")?,
        label_columns: args.values("label-columns"),
    })
}

fn describe(args: Args) -> Result<Command, ParseError> {
    let (kind, names) = kind_and_names("describe", &args.positionals)?;
    Ok(Command::Describe { kind, name: exactly_one("describe", kind, names)? })
}

fn delete(args: Args) -> Result<Command, ParseError> {
    let (kind, names) = kind_and_names("delete", &args.positionals)?;
    let selector = args.value("selector").map(str::to_string);
    let all = args.is_set("all")?;
    let targets = match (names.is_empty(), selector, all) {
        (false, None, false) => Targets::Names(names),
        (true, Some(s), false) => Targets::Selector(s),
        (true, None, true) => Targets::All,
        (true, None, false) => {
            return Err(ParseError::new(format!(
                "resource(s) were provided, but no name was specified: delete {} NAME, -l SELECTOR or --all",
                kind.plural()
            )))
        }
        _ => return Err(ParseError::new("delete takes names, -l SELECTOR or --all: only one of them")),
    };
    let mut grace_period = match args.value("grace-period") {
        None => None,
        Some(v) => Some(v.parse::<i64>().map_err(|_| {
            ParseError::about(v, format!("invalid argument \"{v}\" for \"--grace-period\" flag: a number of seconds"))
        })?),
    };
    if args.is_set("now")? {
        grace_period = Some(1);
    }
    if args.is_set("force")? {
        grace_period = Some(0);
    }
    Ok(Command::Delete { kind, targets, grace_period })
}

fn scale(args: Args) -> Result<Command, ParseError> {
    let (kind, names) = kind_and_names("scale", &args.positionals)?;
    if kind != Kind::StatefulSet {
        return Err(ParseError::about(kind.plural(), "the tutor scales StatefulSets: scale sts NAME --replicas=N"));
    }
    let name = exactly_one("scale", kind, names)?;
    let Some(r) = args.value("replicas") else {
        return Err(ParseError::new("required flag(s) \"replicas\" not set: scale sts NAME --replicas=N"));
    };
    let replicas = r.parse::<i32>().ok().filter(|n| *n >= 0).ok_or_else(|| {
        ParseError::about(r, format!("invalid argument \"{r}\" for \"--replicas\" flag: a number, 0 or more"))
    })?;
    Ok(Command::Scale { name, replicas })
}

fn patch(args: Args) -> Result<Command, ParseError> {
    let (kind, names) = kind_and_names("patch", &args.positionals)?;
    let name = exactly_one("patch", kind, names)?;
    let patch_type = match args.value("type") {
        None | Some("strategic") => PatchType::Strategic,
        Some("merge") => PatchType::Merge,
        Some("json") => PatchType::Json,
        Some(other) => {
            return Err(ParseError::about(
                other,
                format!("--type must be one of [json merge strategic], not \"{other}\""),
            ))
        }
    };
    let Some(patch) = args.value("patch") else {
        return Err(ParseError::new("must specify -p to patch"));
    };
    Ok(Command::Patch { kind, name, patch: patch.to_string(), patch_type })
}

fn logs(args: Args) -> Result<Command, ParseError> {
    let pod = match args.positionals.as_slice() {
        [one] => match one.split_once('/') {
            Some((k, n)) if kind_of(k)? == Kind::Pod => n.to_string(),
            Some(_) => return Err(ParseError::about(one, "logs reads a pod's log: logs POD [-c CONTAINER]")),
            None => one.clone(),
        },
        [] => return Err(ParseError::new("logs: which pod? logs POD [-c CONTAINER]")),
        [_, extra, ..] => {
            return Err(ParseError::about(extra, format!("logs takes one pod; use -c {extra} to pick a container")))
        }
    };
    Ok(Command::Logs { pod, container: args.value("container").map(str::to_string) })
}

fn rollout(args: Args) -> Result<Command, ParseError> {
    let Some((sub, rest)) = args.positionals.split_first() else {
        return Err(ParseError::new("rollout: try rollout status sts/web"));
    };
    if sub != "status" {
        return Err(ParseError::about(
            sub,
            format!("rollout {sub} is not available here; the tutor has rollout status"),
        ));
    }
    let (kind, names) = kind_and_names("rollout status", rest)?;
    if kind != Kind::StatefulSet {
        return Err(ParseError::about(
            kind.plural(),
            "rollout status here is for StatefulSets: rollout status sts/NAME",
        ));
    }
    Ok(Command::RolloutStatus { name: exactly_one("rollout status", kind, names)? })
}

fn apply(args: Args) -> Result<Command, ParseError> {
    if let Some(p) = args.positionals.first() {
        return Err(ParseError::about(
            p,
            format!("unexpected argument {p}: apply takes the editor's text (apply, or apply -f FILE)"),
        ));
    }
    let dry_run = match args.value("dry-run") {
        None | Some("none") => false,
        Some("server" | "client") => true,
        Some(other) => {
            return Err(ParseError::about(
                other,
                format!("invalid dry-run value ({other}): must be \"none\", \"server\", or \"client\""),
            ))
        }
    };
    if let Some(m) = args.value("field-manager").filter(|m| *m != "kubetutor") {
        return Err(ParseError::about(m, "the tutor applies as field manager kubetutor"));
    }
    args.is_set("server-side")?;
    Ok(Command::Apply {
        file: args.value("filename").map(str::to_string),
        dry_run,
        force: args.is_set("force-conflicts")?,
    })
}

fn nslookup(args: Args) -> Result<Command, ParseError> {
    match args.positionals.as_slice() {
        [name] => Ok(Command::Nslookup { name: name.clone() }),
        [] => Err(ParseError::new("nslookup: which name? e.g. nslookup web-0.nginx")),
        [_, extra, ..] => Err(ParseError::about(extra, "nslookup takes one name")),
    }
}

fn wget(args: Args) -> Result<Command, ParseError> {
    if let Some(o) = args.value("output-document").filter(|o| *o != "-") {
        return Err(ParseError::about(o, "the tutor prints what wget fetches: use -O - (or leave -O out)"));
    }
    match args.positionals.as_slice() {
        [url] => Ok(Command::Wget { url: url.clone() }),
        [] => Err(ParseError::new("wget: which URL? e.g. wget -q -O - http://web-0.nginx")),
        [_, extra, ..] => Err(ParseError::about(extra, "wget takes one URL")),
    }
}

#[cfg(test)]
mod tests;
