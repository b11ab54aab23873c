//! The command line's grammar, parsed in-process with clap's `try_parse_from`: the shared
//! flag groups mean the same to every subcommand that takes them, help lists each once,
//! conflicts and bad values are clap's errors (exit status 2), and errors report as the edge
//! prints them.

use std::path::PathBuf;

use clap::error::ErrorKind;
use clap::{CommandFactory, Parser};

use super::args::{Cli, ClusterArgs, Command, KubeconfigArgs, LessonArgs, LessonsCommand, RecordCommand, Theme};
use super::CliError;
use crate::cluster::KubeconfigOptions;
use crate::theme::ThemeName;

fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
    Cli::try_parse_from(std::iter::once("kubetutor").chain(args.iter().copied()))
}

fn command(args: &[&str]) -> Command {
    let cli = parse(args).unwrap_or_else(|e| panic!("{args:?}: {e}"));
    cli.command.unwrap_or(Command::Tutor(cli.tutor))
}

fn error(args: &[&str]) -> clap::Error {
    match parse(args) {
        Ok(cli) => panic!("{args:?} parsed: {cli:?}"),
        Err(e) => e,
    }
}

/// The subcommands that take [`ClusterArgs`] ("" is the tutor), and theirs.
fn cluster_of(args: &[&str]) -> ClusterArgs {
    match command(args) {
        Command::Tutor(a) => a.cluster,
        Command::Check(a) => a.cluster,
        Command::Doctor(a) => a.cluster,
        Command::Reset(a) => a.cluster,
        other => panic!("{other:?} takes no ClusterArgs"),
    }
}

const CLUSTER_COMMANDS: [&[&str]; 4] = [&[], &["check"], &["doctor"], &["reset"]];

#[test]
fn the_grammar_is_consistent() {
    Cli::command().debug_assert();
}

#[test]
fn every_cluster_command_takes_the_cluster_flags_alike() {
    let named = ClusterArgs {
        kubeconfig: KubeconfigArgs { kubeconfig: Some(PathBuf::from("k.yaml")), context: Some("kind-kind".into()) },
        namespace: Some("lesson".into()),
    };
    for sub in CLUSTER_COMMANDS {
        for flags in [
            ["--kubeconfig", "k.yaml", "--context", "kind-kind", "--namespace", "lesson"],
            ["-n", "lesson", "--context=kind-kind", "--kubeconfig=k.yaml", "", ""],
        ] {
            let args: Vec<&str> = sub.iter().copied().chain(flags.into_iter().filter(|f| !f.is_empty())).collect();
            assert_eq!(cluster_of(&args), named, "{args:?}");
        }
        assert_eq!(cluster_of(sub), ClusterArgs::default(), "{sub:?} with no flags");
    }
    // The instructor's table spans every namespace: a kubeconfig and context, no namespace.
    let Command::Progress(p) = command(&["progress", "--kubeconfig", "k.yaml", "--context", "kind-kind"]) else {
        panic!()
    };
    assert_eq!(p.kubeconfig, named.kubeconfig);
    assert_eq!(error(&["progress", "-n", "lesson"]).kind(), ErrorKind::UnknownArgument);
}

#[test]
fn cluster_flags_become_the_kubeconfig_options() {
    let KubeconfigOptions { kubeconfig, context, namespace } =
        cluster_of(&["check", "--kubeconfig", "k.yaml", "-n", "lesson"]).into();
    assert_eq!((kubeconfig, context, namespace), (Some(PathBuf::from("k.yaml")), None, Some("lesson".into())));
}

#[test]
fn every_lesson_command_takes_the_lesson_flags_alike() {
    let lesson_of = |args: &[&str]| -> (LessonArgs, Option<PathBuf>) {
        match command(args) {
            Command::Tutor(a) => (a.lesson, a.lessons_dir.dir()),
            Command::Check(a) => (a.lesson, a.lessons_dir.dir()),
            Command::Doctor(a) => (a.lesson, a.lessons_dir.dir()),
            Command::Review(a) => (a.lesson, a.lessons_dir.dir()),
            other => panic!("{other:?}"),
        }
    };
    for sub in [&[][..], &["check"], &["doctor"], &["review"]] {
        let args: Vec<&str> = sub.iter().copied().chain(["--lesson", "mine", "--lessons-dir", "/l"]).collect();
        assert_eq!(lesson_of(&args), (LessonArgs { lesson: "mine".into() }, Some(PathBuf::from("/l"))), "{args:?}");
        // An empty folder is no folder (as an empty KUBETUTOR_LESSONS_DIR is).
        let args: Vec<&str> = sub.iter().copied().chain(["--lessons-dir", ""]).collect();
        assert_eq!(lesson_of(&args).1, None, "{args:?}");
    }
    if std::env::var_os(crate::lesson::load::LESSONS_DIR_ENV).is_none() {
        assert_eq!(lesson_of(&["check"]), (LessonArgs { lesson: "statefulset".into() }, None));
    }
    let Command::Record(r) = command(&["record", "export", "out.jsonl", "--lesson", "mine"]) else { panic!() };
    let RecordCommand::Export { lesson, from, .. } = r.command;
    assert_eq!((lesson.lesson.as_str(), from), ("mine", None));
    // `lessons` takes the folder before or after `validate`.
    for args in [&["lessons", "--lessons-dir", "/l", "validate"][..], &["lessons", "validate", "--lessons-dir", "/l"]] {
        let Command::Lessons(l) = command(args) else { panic!() };
        assert_eq!(l.lessons_dir.dir(), Some(PathBuf::from("/l")), "{args:?}");
        assert!(matches!(l.command, Some(LessonsCommand::Validate { lesson: None, timeout: 30 })), "{args:?}");
    }
}

#[test]
fn themes_are_spelt_as_before() {
    for (word, name) in [
        ("dark", ThemeName::Dark),
        ("light", ThemeName::Light),
        ("high-contrast", ThemeName::HighContrast),
        ("mono", ThemeName::Mono),
    ] {
        let theme = |args: &[&str]| -> Theme {
            match command(args) {
                Command::Tutor(a) => a.theme.theme,
                Command::Review(a) => a.theme.theme,
                Command::Progress(a) => a.theme.theme,
                other => panic!("{other:?}"),
            }
        };
        for sub in [&[][..], &["review"], &["progress"]] {
            let args: Vec<&str> = sub.iter().copied().chain(["--theme", word]).collect();
            assert_eq!(ThemeName::from(theme(&args)), name, "{args:?}");
        }
    }
    assert_eq!(error(&["--theme", "pink"]).kind(), ErrorKind::InvalidValue);
}

#[test]
fn the_sandbox_speed_is_one_flag_for_the_tutor_and_the_sandbox() {
    let Command::Tutor(t) = command(&["--speed", "2.5"]) else { panic!() };
    assert!((t.speed.speed - 2.5).abs() < f64::EPSILON);
    let Command::Sandbox(s) = command(&["sandbox", "--speed", "0.5", "--kubeconfig", "out.kubeconfig"]) else {
        panic!()
    };
    assert!((s.speed.speed - 0.5).abs() < f64::EPSILON);
    // The sandbox's --kubeconfig is where it writes one, not a cluster to use: no conflict.
    assert_eq!(s.kubeconfig, Some(PathBuf::from("out.kubeconfig")));
    let Command::Tutor(t) = command(&[]) else { panic!() };
    assert!((t.speed.speed - 1.0).abs() < f64::EPSILON);
    for bad in ["0", "-1", "NaN", "fast"] {
        for sub in [&[][..], &["sandbox"]] {
            let args: Vec<&str> = sub.iter().copied().chain(["--speed", bad]).collect();
            let e = error(&args);
            assert_eq!((e.kind(), e.exit_code()), (ErrorKind::ValueValidation, 2), "{args:?}: {e}");
        }
    }
}

#[test]
fn conflicting_flags_are_claps_error_with_status_2() {
    for args in [
        // The sandbox's speed, on a real cluster.
        &["--speed", "2", "--kubeconfig", "k.yaml"][..],
        &["--context", "kind-kind", "--speed", "2"],
        // A FILE names its own lesson.
        &["review", "session.jsonl", "--lesson", "mine"],
        &["record", "export", "out.jsonl", "--from", "in.jsonl", "--lesson", "mine"],
    ] {
        let e = error(args);
        assert_eq!((e.kind(), e.exit_code()), (ErrorKind::ArgumentConflict, 2), "{args:?}: {e}");
        assert!(e.to_string().contains("cannot be used with"), "{e}");
    }
    // The tutor's flags are not a subcommand's.
    let e = error(&["--speed", "2", "check"]);
    assert_eq!(e.exit_code(), 2, "{e}");
    assert!(e.to_string().contains("the subcommand 'check' cannot be used with '--speed <X>'"), "{e}");
    // Defaults conflict with nothing: a real cluster at the default speed, a FILE with the default lesson.
    command(&["--kubeconfig", "k.yaml", "--namespace", "me"]);
    command(&["review", "session.jsonl"]);
    let e = error(&["--bogus"]);
    assert_eq!((e.kind(), e.exit_code()), (ErrorKind::UnknownArgument, 2));
}

#[test]
fn help_lists_each_shared_flag_once() {
    let help = |args: &[&str]| {
        let args: Vec<&str> = args.iter().copied().chain(["--help"]).collect();
        let e = error(&args);
        assert_eq!((e.kind(), e.exit_code()), (ErrorKind::DisplayHelp, 0), "{args:?}");
        e.to_string()
    };
    let cluster = ["--kubeconfig <FILE>", "--context <NAME>", "-n, --namespace <NAME>"];
    let lesson = ["--lesson <SLUG>", "--lessons-dir <DIR>"];
    let cases: [(&[&str], &[&str]); 9] = [
        (&[], &[&cluster[..], &lesson, &["--theme <THEME>", "--speed <X>", "--readonly"]].concat()),
        (&["check"], &[&cluster[..], &lesson, &["--step <N>", "--json"]].concat()),
        (&["doctor"], &[&cluster[..], &lesson, &["--json"]].concat()),
        (&["reset"], &[&cluster[..], &["-y, --yes"]].concat()),
        (&["progress"], &["--kubeconfig <FILE>", "--context <NAME>", "--once", "--theme <THEME>"]),
        (&["review"], &[&lesson[..], &["--theme <THEME>"]].concat()),
        (&["sandbox"], &["--listen <ADDR>", "--kubeconfig <PATH>", "--speed <X>", "--attendees <N>"]),
        (&["lessons"], &["--lessons-dir <DIR>"]),
        (&["lessons", "validate"], &["--lesson <SLUG>", "--lessons-dir <DIR>", "--timeout <SECONDS>"]),
    ];
    for (sub, flags) in cases {
        let text = help(sub);
        for flag in flags {
            assert_eq!(text.matches(flag).count(), 1, "{flag} in `kubetutor {sub:?} --help`:\n{text}");
        }
        // Every option line of help is one flag: no flag twice under another value name.
        let longs: Vec<&str> =
            text.lines().filter_map(|l| l.split_whitespace().find(|w| w.starts_with("--"))).collect();
        let mut unique = longs.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(longs.len(), unique.len(), "`kubetutor {sub:?} --help` repeats a flag:\n{text}");
    }
    // Options that are not the subcommand's stay out of its help.
    assert!(!help(&["sandbox"]).contains("--lessons-dir"));
    assert!(!help(&["progress"]).contains("--namespace"));
}

#[test]
fn errors_begin_with_the_command_that_failed() {
    let prefix = |args: &[&str]| command(args).error_prefix();
    assert_eq!(prefix(&[]), "kubetutor");
    assert_eq!(prefix(&["doctor"]), "kubetutor");
    assert_eq!(prefix(&["check"]), "kubetutor check");
    assert_eq!(prefix(&["lessons"]), "kubetutor lessons");
    assert_eq!(prefix(&["lessons", "validate"]), "kubetutor lessons validate");
}

#[test]
fn an_error_says_each_cause_once_and_exits_2() {
    let read = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file");
    // A typed error whose message quotes its source, through anyhow's context as the screens report.
    let record = crate::record::RecordError::Io { path: "s.jsonl".into(), source: read };
    let e = CliError::from(anyhow::Error::new(record).context("cannot open the review"));
    assert_eq!(e.to_string(), "cannot open the review: cannot read s.jsonl: No such file");
    assert_eq!(format!("{:?}", e.exit_code()), format!("{:?}", std::process::ExitCode::from(2)));
    let e = CliError::from(anyhow::anyhow!("refused").context("cannot apply"));
    assert_eq!(e.to_string(), "cannot apply: refused");
    let e = CliError::from(crate::grade::validate::NoSuchLesson("nope".into()));
    assert_eq!(e.to_string(), "there is no lesson called \"nope\"");
}

/// Every command line README.md shows (in its shell blocks and its inline code) still parses.
#[test]
fn the_command_lines_the_readme_shows_parse() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let mut lines: Vec<String> = Vec::new();
    let mut in_block = false;
    for line in readme.lines() {
        if line.starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if in_block {
            let line = line.split("  #").next().unwrap_or_default().trim();
            let line =
                line.strip_prefix("cargo run --release -- ").map_or(line.to_string(), |l| format!("kubetutor {l}"));
            if line == "kubetutor" || line.starts_with("kubetutor ") {
                lines.push(line);
            }
        } else {
            // Inline code: the odd pieces between backticks.
            for span in line.split('`').skip(1).step_by(2) {
                if span == "kubetutor" || span.starts_with("kubetutor ") {
                    lines.push(span.to_string());
                }
            }
        }
    }
    assert!(lines.len() > 20, "{lines:?}");
    for needed in ["kubetutor check --step 1 --json", "kubetutor sandbox", "kubetutor reset"] {
        assert!(lines.iter().any(|l| l.starts_with(needed)), "{needed} in {lines:?}");
    }
    for line in &lines {
        let words: Vec<&str> = line.split_whitespace().collect();
        if let Err(e) = Cli::try_parse_from(&words) {
            panic!("README's `{line}` no longer parses: {e}");
        }
    }
}
