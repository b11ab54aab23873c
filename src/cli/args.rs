//! The command line's grammar: every subcommand and flag, with clap. A flag several
//! subcommands take is defined once, in a group flattened into each of them ([`ClusterArgs`],
//! [`LessonArgs`], [`LessonsDirArgs`], [`ThemeArgs`], [`SpeedArgs`]); the groups turn into the
//! library's plain option structs here, so no library module knows clap.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::cluster::KubeconfigOptions;
use crate::grade::headless::DEFAULT_LESSON;
use crate::lesson::load::LESSONS_DIR_ENV;
use crate::theme::ThemeName;

#[derive(Parser, Debug)]
#[command(name = "kubetutor", version, about = "Learn Kubernetes StatefulSets hands-on, in your terminal")]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
    /// With no subcommand: the tutor screen.
    #[command(flatten)]
    pub(crate) tutor: TutorArgs,
}

#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// Run the embedded sandbox cluster on its own, for kubectl in another terminal.
    Sandbox(SandboxArgs),
    /// Check that a cluster can run the lesson: API, RBAC, storage, DNS, images.
    Doctor(DoctorArgs),
    /// Delete the lesson's objects (only those kubetutor labelled, and their StatefulSets' claims).
    Reset(ResetArgs),
    /// For instructors: a live table of every attendee's step (from their published progress).
    Progress(ProgressArgs),
    /// Grade the lesson's steps on a cluster (from a kubeconfig) without the tutor screen.
    Check(CheckArgs),
    /// List the lessons, or validate them (`kubetutor lessons validate`).
    Lessons(LessonsArgs),
    /// Go back through a session record, step by step, with no cluster (default: your last session).
    Review(ReviewArgs),
    /// Session records: `kubetutor record export FILE` writes your last session to FILE.
    Record(RecordArgs),
    /// No subcommand: the tutor screen ([`Cli::tutor`]); not a word of the command line.
    #[command(skip)]
    Tutor(TutorArgs),
}

/// A kubeconfig and one of its contexts, as kubectl selects them.
#[derive(Args, Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct KubeconfigArgs {
    /// The kubeconfig of a real cluster (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long, value_name = "FILE")]
    pub(crate) kubeconfig: Option<PathBuf>,
    /// The kubeconfig context (default: its current context).
    #[arg(long, value_name = "NAME")]
    pub(crate) context: Option<String>,
}

/// Which cluster, and the namespace the lesson lives in there.
#[derive(Args, Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ClusterArgs {
    #[command(flatten)]
    pub(crate) kubeconfig: KubeconfigArgs,
    /// The namespace of the lesson's objects (default: the context's, else "kubetutor"; on the
    /// embedded sandbox "default").
    #[arg(long, short = 'n', value_name = "NAME")]
    pub(crate) namespace: Option<String>,
}

impl From<KubeconfigArgs> for KubeconfigOptions {
    fn from(args: KubeconfigArgs) -> KubeconfigOptions {
        KubeconfigOptions { kubeconfig: args.kubeconfig, context: args.context, namespace: None }
    }
}

impl From<ClusterArgs> for KubeconfigOptions {
    fn from(args: ClusterArgs) -> KubeconfigOptions {
        KubeconfigOptions { namespace: args.namespace, ..args.kubeconfig.into() }
    }
}

/// Which lesson.
#[derive(Args, Debug, Clone, PartialEq, Eq)]
pub(crate) struct LessonArgs {
    /// The lesson, by its slug (see `kubetutor lessons`).
    #[arg(long, value_name = "SLUG", default_value = DEFAULT_LESSON)]
    pub(crate) lesson: String,
}

/// Where lessons come from besides those built in.
#[derive(Args, Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct LessonsDirArgs {
    /// An extra folder of lessons (or one lesson folder).
    // Read as an OsString so an empty KUBETUTOR_LESSONS_DIR means none, as everywhere else.
    #[arg(long, value_name = "DIR", env = LESSONS_DIR_ENV, value_parser = clap::builder::OsStringValueParser::new())]
    lessons_dir: Option<OsString>,
}

impl LessonsDirArgs {
    pub(crate) fn dir(&self) -> Option<PathBuf> {
        self.lessons_dir.as_ref().filter(|d| !d.is_empty()).map(PathBuf::from)
    }
}

/// The screens' colours.
#[derive(Args, Debug, Clone, PartialEq, Eq)]
pub(crate) struct ThemeArgs {
    /// Colours: dark, light, high-contrast (colour-blind safe) or mono. NO_COLOR forces mono.
    #[arg(long, value_enum, default_value_t = Theme::Dark)]
    pub(crate) theme: Theme,
}

/// [`ThemeName`] as the command line spells it.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Theme {
    Dark,
    Light,
    HighContrast,
    Mono,
}

impl From<Theme> for ThemeName {
    fn from(t: Theme) -> ThemeName {
        match t {
            Theme::Dark => ThemeName::Dark,
            Theme::Light => ThemeName::Light,
            Theme::HighContrast => ThemeName::HighContrast,
            Theme::Mono => ThemeName::Mono,
        }
    }
}

/// The embedded sandbox's simulated time.
#[derive(Args, Debug, Clone, PartialEq)]
pub(crate) struct SpeedArgs {
    /// Simulated time speed of the sandbox: 2 starts pods twice as fast, 0.5 half as fast.
    #[arg(long, value_name = "X", default_value_t = 1.0, value_parser = positive_speed, allow_negative_numbers = true)]
    pub(crate) speed: f64,
}

fn positive_speed(s: &str) -> Result<f64, String> {
    let x: f64 = s.trim().parse().map_err(|e| format!("{e}"))?;
    if x.is_nan() || x <= 0.0 {
        return Err("it must be a positive number".into());
    }
    Ok(x)
}

/// `kubetutor` alone: the tutor screen, on the embedded sandbox unless a cluster is named.
#[derive(Args, Debug, Clone)]
// The sandbox's speed means nothing on a real cluster.
#[command(mut_arg("speed", |a| a.conflicts_with_all(["kubeconfig", "context"])))]
pub(crate) struct TutorArgs {
    #[command(flatten)]
    pub(crate) cluster: ClusterArgs,
    #[command(flatten)]
    pub(crate) lesson: LessonArgs,
    #[command(flatten)]
    pub(crate) lessons_dir: LessonsDirArgs,
    #[command(flatten)]
    pub(crate) theme: ThemeArgs,
    #[command(flatten)]
    pub(crate) speed: SpeedArgs,
    /// Watch and grade only: no apply, no deleting, scaling or patching (for review sessions).
    #[arg(long)]
    pub(crate) readonly: bool,
}

#[derive(Args, Debug)]
pub(crate) struct SandboxArgs {
    /// Address to listen on. Loopback unless --allow-remote is given.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub(crate) listen: SocketAddr,
    /// Allow listening on a non-loopback address (anyone who can reach it and has the token gets in).
    #[arg(long)]
    pub(crate) allow_remote: bool,
    /// Where to write the kubeconfig (mode 0600). Default: the XDG state dir.
    #[arg(long, value_name = "PATH")]
    pub(crate) kubeconfig: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) speed: SpeedArgs,
    /// Start without a default StorageClass (PVCs then stay Pending, as on a bare cluster).
    #[arg(long)]
    pub(crate) no_default_storage_class: bool,
    /// Workshop mode: make N attendee namespaces, each with a kubeconfig whose token works only
    /// there (written as attendee-NN.kubeconfig next to the admin kubeconfig).
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = clap::value_parser!(u16).range(0..=500))]
    pub(crate) attendees: u16,
}

#[derive(Args, Debug)]
pub(crate) struct DoctorArgs {
    #[command(flatten)]
    pub(crate) cluster: ClusterArgs,
    #[command(flatten)]
    pub(crate) lesson: LessonArgs,
    #[command(flatten)]
    pub(crate) lessons_dir: LessonsDirArgs,
    /// Print the findings as JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Args, Debug)]
pub(crate) struct ResetArgs {
    #[command(flatten)]
    pub(crate) cluster: ClusterArgs,
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    pub(crate) yes: bool,
}

/// The instructor's kubeconfig must be allowed to list ConfigMaps in all namespaces.
#[derive(Args, Debug)]
pub(crate) struct ProgressArgs {
    #[command(flatten)]
    pub(crate) kubeconfig: KubeconfigArgs,
    /// Print the table once and exit instead of following changes (on a terminal, without
    /// it: the live screen, where Enter reviews an attendee).
    #[arg(long)]
    pub(crate) once: bool,
    #[command(flatten)]
    pub(crate) theme: ThemeArgs,
}

#[derive(Args, Debug)]
pub(crate) struct CheckArgs {
    #[command(flatten)]
    pub(crate) cluster: ClusterArgs,
    #[command(flatten)]
    pub(crate) lesson: LessonArgs,
    #[command(flatten)]
    pub(crate) lessons_dir: LessonsDirArgs,
    /// Grade only this step (numbered from 0); default: every step.
    #[arg(long, value_name = "N")]
    pub(crate) step: Option<usize>,
    /// Print the result as JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Args, Debug)]
// `kubetutor lessons validate --lessons-dir DIR` as well as `kubetutor lessons --lessons-dir DIR validate`.
#[command(mut_arg("lessons_dir", |a| a.global(true)))]
pub(crate) struct LessonsArgs {
    #[command(subcommand)]
    pub(crate) command: Option<LessonsCommand>,
    #[command(flatten)]
    pub(crate) lessons_dir: LessonsDirArgs,
}

#[derive(Subcommand, Debug)]
pub(crate) enum LessonsCommand {
    /// Check every lesson: it loads, and on a fresh sandbox each step's reference solution
    /// passes (and the step does not pass before it).
    Validate {
        /// Validate only this lesson.
        #[arg(long, value_name = "SLUG")]
        lesson: Option<String>,
        /// Seconds each step may take to pass on the sandbox (it runs at infinite speed: a
        /// step that needs more is stuck).
        #[arg(long, value_name = "SECONDS", default_value_t = 30)]
        timeout: u64,
    },
}

#[derive(Args, Debug)]
pub(crate) struct ReviewArgs {
    /// The record to review (an exported file); default: your own last session of the lesson.
    #[arg(value_name = "FILE", conflicts_with = "lesson")]
    pub(crate) file: Option<PathBuf>,
    // --lesson picks the session when no FILE is given; a FILE names its own lesson.
    #[command(flatten)]
    pub(crate) lesson: LessonArgs,
    #[command(flatten)]
    pub(crate) lessons_dir: LessonsDirArgs,
    #[command(flatten)]
    pub(crate) theme: ThemeArgs,
}

#[derive(Args, Debug)]
pub(crate) struct RecordArgs {
    #[command(subcommand)]
    pub(crate) command: RecordCommand,
}

#[derive(Subcommand, Debug)]
pub(crate) enum RecordCommand {
    /// Write a session record (JSON Lines, format version 1) to FILE, to share or review.
    Export {
        /// Where to write it.
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// The session record to export (default: the newest of the lesson).
        #[arg(long, value_name = "FILE", conflicts_with = "lesson")]
        from: Option<PathBuf>,
        #[command(flatten)]
        lesson: LessonArgs,
    },
}
