//! The `kubetutor` command line: parses arguments, starts the runtime, reports errors.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};

use kubetutor::sandbox::{self, kubeconfig, Sandbox, SandboxConfig};

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
    /// Grade the lesson's steps on a cluster (from a kubeconfig) without the tutor screen.
    Check(kubetutor::grade::cli::CheckArgs),
    /// List the lessons, or validate them (`kubetutor lessons validate`).
    Lessons(kubetutor::grade::cli::LessonsArgs),
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
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Sandbox(args)) => run_sandbox(args),
        Some(Command::Check(args)) => std::process::exit(kubetutor::grade::cli::run_check(args)),
        Some(Command::Lessons(args)) => std::process::exit(kubetutor::grade::cli::run_lessons(args)),
        None => kubetutor::app::start::run_tutor(cli.tutor),
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
            ..Default::default()
        })?;
        let path = args.kubeconfig.unwrap_or_else(kubeconfig::default_path);
        let host = if addr.ip().is_unspecified() { "127.0.0.1".to_string() } else { addr.ip().to_string() };
        let server = if addr.is_ipv6() {
            format!("https://[{host}]:{}", addr.port())
        } else {
            format!("https://{host}:{}", addr.port())
        };
        kubeconfig::write_private(&path, &sb.kubeconfig(&server, "default"))
            .with_context(|| format!("cannot write the kubeconfig to {}", path.display()))?;
        if !addr.ip().is_loopback() {
            eprintln!("WARNING: the sandbox listens on {addr}, reachable from other machines. Keep the token secret.");
        }
        println!("kubetutor sandbox: Kubernetes {} API at {server}", sandbox::api::KUBE_VERSION);
        println!("Pods, storage, DNS and HTTP are simulated inside kubetutor; nothing runs on this machine.");
        println!("kubeconfig (mode 0600): {}", path.display());
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
