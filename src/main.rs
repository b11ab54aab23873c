//! The `kubetutor` command line: parses arguments, starts the runtime, reports errors.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};

use kube_sandbox::{self as sandbox, Sandbox, SandboxConfig};
use kubetutor::cluster::{self, doctor, progress};

#[derive(Parser)]
#[command(name = "kubetutor", version, about = "Learn Kubernetes StatefulSets hands-on, in your terminal")]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// With no subcommand: the tutor screen.
    #[command(flatten)]
    tutor: kubetutor::app::start::TutorArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Run the embedded sandbox cluster on its own, for kubectl in another terminal.
    Sandbox(SandboxArgs),
    /// Check that a cluster can run the lesson: API, RBAC, storage, DNS, images.
    Doctor(DoctorArgs),
    /// Delete the lesson's objects (only those kubetutor labelled, and their StatefulSets' claims).
    Reset(ResetArgs),
    /// For instructors: a live table of every attendee's step (from their published progress).
    Progress(ProgressArgs),
    /// Grade the lesson's steps on a cluster (from a kubeconfig) without the tutor screen.
    Check(kubetutor::grade::cli::CheckArgs),
    /// List the lessons, or validate them (`kubetutor lessons validate`).
    Lessons(kubetutor::grade::cli::LessonsArgs),
    /// Go back through a session record, step by step, with no cluster (default: your last session).
    Review(kubetutor::app::review::ReviewArgs),
    /// Session records: `kubetutor record export FILE` writes your last session to FILE.
    Record(RecordArgs),
}

#[derive(clap::Args)]
struct RecordArgs {
    #[command(subcommand)]
    command: RecordCommand,
}

#[derive(Subcommand)]
enum RecordCommand {
    /// Write a session record (JSON Lines, format version 1) to FILE, to share or review.
    Export {
        /// Where to write it.
        file: PathBuf,
        /// The session record to export (default: the newest of the lesson).
        #[arg(long)]
        from: Option<PathBuf>,
        /// The lesson whose newest session to export.
        #[arg(long, default_value = "statefulset")]
        lesson: String,
    },
}

/// Which cluster, as kubectl selects it.
#[derive(clap::Args, Clone, Default)]
struct ClusterArgs {
    /// The kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long)]
    kubeconfig: Option<PathBuf>,
    /// The kubeconfig context (default: the current context).
    #[arg(long)]
    context: Option<String>,
    /// The namespace for the lesson (default: the context's namespace, else "kubetutor").
    #[arg(long, short = 'n')]
    namespace: Option<String>,
}

impl ClusterArgs {
    fn options(&self) -> cluster::KubeconfigOptions {
        cluster::KubeconfigOptions {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
            namespace: self.namespace.clone(),
        }
    }
}

#[derive(clap::Args)]
struct DoctorArgs {
    #[command(flatten)]
    cluster: ClusterArgs,
    /// The lesson whose needs to check.
    #[arg(long, default_value = "statefulset")]
    lesson: String,
    /// Print the findings as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
struct ResetArgs {
    #[command(flatten)]
    cluster: ClusterArgs,
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    yes: bool,
}

#[derive(clap::Args)]
struct ProgressArgs {
    /// The instructor's kubeconfig (it must be allowed to list ConfigMaps in all namespaces).
    #[arg(long)]
    kubeconfig: Option<PathBuf>,
    #[arg(long)]
    context: Option<String>,
    /// Print the table once and exit instead of following changes (on a terminal, without
    /// it: the live screen, where Enter reviews an attendee).
    #[arg(long)]
    once: bool,
    /// Colours of the live screen: dark, light, high-contrast or mono. NO_COLOR forces mono.
    #[arg(long, value_enum, default_value_t = kubetutor::ui::theme::ThemeName::Dark)]
    theme: kubetutor::ui::theme::ThemeName,
}

#[derive(clap::Args)]
struct SandboxArgs {
    /// Address to listen on. Loopback unless --allow-remote is given.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Allow listening on a non-loopback address (anyone who can reach it and has the token gets in).
    #[arg(long)]
    allow_remote: bool,
    /// Where to write the kubeconfig (mode 0600). Default: the XDG state dir.
    #[arg(long)]
    kubeconfig: Option<PathBuf>,
    /// Simulated time speed: 2 runs pod start-up twice as fast.
    #[arg(long, default_value_t = 1.0)]
    speed: f64,
    /// Start without a default StorageClass (PVCs then stay Pending, as on a bare cluster).
    #[arg(long)]
    no_default_storage_class: bool,
    /// Workshop mode: make N attendee namespaces, each with a kubeconfig whose token works only
    /// there (written as attendee-NN.kubeconfig next to the admin kubeconfig).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u16).range(0..=500))]
    attendees: u16,
}

fn main() -> std::process::ExitCode {
    match run(Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // One line with the whole chain of causes: "cannot reset namespace x: ...: connection refused".
            eprintln!("kubetutor: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Some(Command::Sandbox(args)) => run_sandbox(args),
        Some(Command::Doctor(args)) => runtime()?.block_on(run_doctor(args)),
        Some(Command::Reset(args)) => runtime()?.block_on(run_reset(args)),
        Some(Command::Progress(args)) => runtime()?.block_on(run_progress(args)),
        Some(Command::Check(args)) => std::process::exit(kubetutor::grade::cli::run_check(args)),
        Some(Command::Lessons(args)) => std::process::exit(kubetutor::grade::cli::run_lessons(args)),
        Some(Command::Review(args)) => kubetutor::app::review::run_review(args, kubetutor::ui::review::draw),
        Some(Command::Record(args)) => run_record(args),
        None => kubetutor::app::start::run_tutor(cli.tutor, kubetutor::ui::draw),
    }
}

fn run_record(args: RecordArgs) -> Result<()> {
    match args.command {
        RecordCommand::Export { file, from, lesson } => {
            let from = match from {
                Some(f) => f,
                None => kubetutor::record::latest(&kubetutor::state::state_dir(), &lesson)?,
            };
            let n = kubetutor::record::export(&from, &file)?;
            println!(
                "Wrote {} ({n} events, record format {} version {}) from {}.",
                file.display(),
                kubetutor::record::FORMAT,
                kubetutor::record::VERSION,
                from.display()
            );
            println!("Open it with: kubetutor review {}", file.display());
            Ok(())
        }
    }
}

fn run_sandbox(args: SandboxArgs) -> Result<()> {
    if args.speed.is_nan() || args.speed <= 0.0 {
        bail!("--speed must be a positive number, got {}", args.speed);
    }
    if !args.listen.ip().is_loopback() && !args.allow_remote {
        bail!(
            "refusing to listen on {}: it is not a loopback address. Add --allow-remote if you mean it \
             (everyone who can reach it and has the token can use the sandbox)",
            args.listen
        );
    }
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("KUBETUTOR_LOG").unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let addr = listener.local_addr()?;
        let sb = Sandbox::start(SandboxConfig {
            speed: args.speed,
            default_storage_class: !args.no_default_storage_class,
            tls_ips: vec![addr.ip()],
            attendees: usize::from(args.attendees),
            ..Default::default()
        })?;
        let path = args.kubeconfig.unwrap_or_else(kubetutor::state::sandbox_kubeconfig);
        let host = if addr.ip().is_unspecified() { "127.0.0.1".to_string() } else { addr.ip().to_string() };
        let server = if addr.is_ipv6() {
            format!("https://[{host}]:{}", addr.port())
        } else {
            format!("https://{host}:{}", addr.port())
        };
        kubetutor::state::write_atomic(&path, &sb.kubeconfig(&server, "default"))
            .with_context(|| format!("cannot write the kubeconfig to {}", path.display()))?;
        if !addr.ip().is_loopback() {
            eprintln!("WARNING: the sandbox listens on {addr}, reachable from other machines. Keep the token secret.");
        }
        println!("kubetutor sandbox: Kubernetes {} API at {server}", sandbox::consts::KUBE_VERSION);
        println!("Pods, storage, DNS and HTTP are simulated inside kubetutor; nothing runs on this machine.");
        println!("kubeconfig (mode 0600): {}", path.display());
        if !sb.attendees().is_empty() {
            let dir = path.parent().map(std::path::Path::to_path_buf).unwrap_or_default();
            for a in sb.attendees() {
                let file = dir.join(format!("{}.kubeconfig", a.namespace));
                kubetutor::state::write_atomic(&file, &sb.attendee_kubeconfig(&server, a))
                    .with_context(|| format!("cannot write {}", file.display()))?;
            }
            let first = &sb.attendees()[0].namespace;
            let last = &sb.attendees()[sb.attendees().len() - 1].namespace;
            println!(
                "{} attendee kubeconfigs ({first} to {last}, each allowed only its own namespace) in {}",
                sb.attendees().len(),
                dir.display()
            );
            println!("  attendees run: kubetutor --kubeconfig {first}.kubeconfig");
        }
        println!();
        println!("  export KUBECONFIG={}", path.display());
        println!("  kubectl get pods -w");
        println!();
        println!("Press Ctrl-C to stop.");
        sb.serve(listener, shutdown_signal()).await?;
        println!("kubetutor sandbox stopped.");
        Ok(())
    })
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().enable_all().build()?)
}

/// Exit status 0 when nothing blocks, 1 when something does (warnings do not fail).
async fn run_doctor(args: DoctorArgs) -> Result<()> {
    let lesson = kubetutor::lesson::load::find(&args.lesson)?;
    let cl = cluster::connect_kubeconfig(&args.cluster.options()).await?;
    if !args.json {
        println!("Checking {} for the lesson \"{}\"...", cl.describe(), lesson.title);
    }
    let needs = doctor::Needs {
        images: kubetutor::lesson::images::of_lesson(&lesson),
        timeout: std::time::Duration::from_secs(90),
    };
    let findings = doctor::run(&cl, &needs).await;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&findings)?);
    } else {
        print!("{}", doctor::render(&findings));
    }
    if doctor::worst(&findings) == doctor::Level::Blocking {
        std::process::exit(1);
    }
    Ok(())
}

async fn run_reset(args: ResetArgs) -> Result<()> {
    let cl = cluster::connect_kubeconfig(&args.cluster.options()).await?;
    if !args.yes {
        use std::io::{BufRead, Write};
        print!(
            "Delete the lesson's objects in {}? Only objects labelled {}={} and their StatefulSets' claims go; nothing else is touched. [y/N] ",
            cl.describe(),
            cluster::probe::MANAGED_BY.0,
            cluster::probe::MANAGED_BY.1
        );
        std::io::stdout().flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            println!("Nothing deleted.");
            return Ok(());
        }
    }
    let deleted = cluster::apply::reset_lesson_objects(&cl)
        .await
        .map_err(|e| anyhow::anyhow!("cannot reset namespace {}: {}", cl.namespace, cluster::errors::explain(&e)))?;
    if deleted.is_empty() {
        println!("Nothing to delete: namespace {} holds no lesson objects.", cl.namespace);
    } else {
        println!("Deleted {} objects: {}", deleted.len(), deleted.join(", "));
    }
    Ok(())
}

async fn run_progress(args: ProgressArgs) -> Result<()> {
    let opts = cluster::KubeconfigOptions { kubeconfig: args.kubeconfig, context: args.context, namespace: None };
    let cl = cluster::connect_kubeconfig(&opts).await?;
    if args.once {
        let rows = progress::collect(&cl.client).await.map_err(|e| {
            anyhow::anyhow!("cannot list progress ConfigMaps in all namespaces: {}", cluster::errors::explain(&e))
        })?;
        print!("{}", progress::render(&rows, jiff::Timestamp::now()));
        return Ok(());
    }
    if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        return kubetutor::app::instructor::run_screen(
            cl,
            kubetutor::ui::theme::Theme::pick(args.theme, kubetutor::ui::theme::Theme::no_color_env()),
            kubetutor::ui::instructor::draw,
        )
        .await;
    }
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let client = cl.client.clone();
    let follow = tokio::spawn(async move { progress::follow(&client, |rows| drop(tx.send(rows.to_vec()))).await });
    let mut rows = Vec::new();
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
    let stop = shutdown_signal();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => return Ok(()),
            _ = tick.tick() => {}
            got = rx.recv() => match got {
                Some(r) => rows = r,
                None => {
                    let why = follow.await.map_err(anyhow::Error::from).and_then(|r| r.map_err(anyhow::Error::from));
                    return why.context("the watch of progress ConfigMaps ended");
                }
            },
        }
        // Clear the screen and redraw: a live table, refreshed on change and every 5 s.
        print!("\x1b[2J\x1b[H{} · {} learners · Ctrl-C to stop\n\n", cl.describe(), rows.len());
        print!("{}", progress::render(&rows, jiff::Timestamp::now()));
    }
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
