//! `kubetutor sandbox`: the embedded cluster served on its own for kubectl (and, with
//! `--attendees`, for a workshop room), until Ctrl-C or SIGTERM.

use std::process::ExitCode;

use kube_sandbox::{Sandbox, SandboxConfig};

use super::args::SandboxArgs;
use super::{setup, CliError};
use crate::state;

pub(crate) async fn run(args: SandboxArgs) -> Result<ExitCode, CliError> {
    if !args.listen.ip().is_loopback() && !args.allow_remote {
        return Err(CliError::NotLoopback(args.listen));
    }
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(CliError::io(format!("cannot listen on {}", args.listen)))?;
    let addr = listener.local_addr().map_err(CliError::io("cannot tell the address listened on"))?;
    let sb = Sandbox::start(SandboxConfig {
        speed: args.speed.speed,
        default_storage_class: !args.no_default_storage_class,
        tls_ips: vec![addr.ip()],
        attendees: usize::from(args.attendees),
        ..Default::default()
    })?;
    let path = args.kubeconfig.unwrap_or_else(state::sandbox_kubeconfig);
    let host = if addr.ip().is_unspecified() { "127.0.0.1".to_string() } else { addr.ip().to_string() };
    let server = if addr.is_ipv6() {
        format!("https://[{host}]:{}", addr.port())
    } else {
        format!("https://{host}:{}", addr.port())
    };
    state::write_atomic(&path, &sb.kubeconfig(&server, "default"))
        .map_err(CliError::io(format!("cannot write the kubeconfig to {}", path.display())))?;
    if !addr.ip().is_loopback() {
        eprintln!("WARNING: the sandbox listens on {addr}, reachable from other machines. Keep the token secret.");
    }
    println!("kubetutor sandbox: Kubernetes {} API at {server}", kube_sandbox::consts::KUBE_VERSION);
    println!("Pods, storage, DNS and HTTP are simulated inside kubetutor; nothing runs on this machine.");
    println!("kubeconfig (mode 0600): {}", path.display());
    if let (Some(first), Some(last)) = (sb.attendees().first(), sb.attendees().last()) {
        let dir = path.parent().map(std::path::Path::to_path_buf).unwrap_or_default();
        for a in sb.attendees() {
            let file = dir.join(format!("{}.kubeconfig", a.namespace));
            state::write_atomic(&file, &sb.attendee_kubeconfig(&server, a))
                .map_err(CliError::io(format!("cannot write {}", file.display())))?;
        }
        println!(
            "{} attendee kubeconfigs ({} to {}, each allowed only its own namespace) in {}",
            sb.attendees().len(),
            first.namespace,
            last.namespace,
            dir.display()
        );
        println!("  attendees run: kubetutor --kubeconfig {}.kubeconfig", first.namespace);
    }
    println!();
    println!("  export KUBECONFIG={}", path.display());
    println!("  kubectl get pods -w");
    println!();
    println!("Press Ctrl-C to stop.");
    sb.serve(listener, setup::shutdown_signal()).await.map_err(CliError::io("the sandbox stopped serving"))?;
    println!("kubetutor sandbox stopped.");
    Ok(ExitCode::SUCCESS)
}
