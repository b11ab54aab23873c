//! Simulated container userland: in-memory volumes and container filesystems, a busybox-style
//! shell and nginx's static-file answers. The kubelet runs every container command through
//! here; nothing in this module touches the host.

pub(crate) mod fs;
pub(crate) mod image;
pub(crate) mod nginx;
pub(crate) mod shell;
mod volume;

use std::future::Future;
use std::net::IpAddr;
use std::time::Duration;

pub(crate) use fs::{ContainerFs, Volume};
pub(crate) use shell::{check_entrypoint, run_argv, run_argv_with_input, Session};

/// Which stream a piece of output went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stream {
    Stdout,
    Stderr,
}

/// Where a container's output goes, in the order it was written. Either kept (tests, an
/// interactive session's reply) or handed on at once, so a long-running loop's lines reach the
/// pod log while the command still runs.
pub(crate) struct Output {
    chunks: Vec<(Stream, String)>,
    forward: Option<Sink>,
}

type Sink = Box<dyn FnMut(Stream, &str) + Send>;

impl Default for Output {
    fn default() -> Self {
        Output::buffered()
    }
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Output").field("chunks", &self.chunks).field("forwarding", &self.forward.is_some()).finish()
    }
}

impl Output {
    /// Keeps everything until `take`.
    pub(crate) fn buffered() -> Self {
        Output { chunks: Vec::new(), forward: None }
    }

    /// Hands every write to `sink` and keeps nothing (a container that runs for days).
    pub(crate) fn forwarding(sink: impl FnMut(Stream, &str) + Send + 'static) -> Self {
        Output { chunks: Vec::new(), forward: Some(Box::new(sink)) }
    }

    pub(crate) fn write(&mut self, stream: Stream, text: &str) {
        if text.is_empty() {
            return;
        }
        match &mut self.forward {
            Some(sink) => sink(stream, text),
            None => match self.chunks.last_mut() {
                Some((last, buf)) if *last == stream => buf.push_str(text),
                _ => self.chunks.push((stream, text.to_string())),
            },
        }
    }

    /// Both streams interleaved as a terminal would show them.
    pub(crate) fn text(&self) -> String {
        self.chunks.iter().map(|(_, s)| s.as_str()).collect()
    }

    #[cfg(test)]
    pub(crate) fn stdout(&self) -> String {
        self.only(Stream::Stdout)
    }

    #[cfg(test)]
    pub(crate) fn stderr(&self) -> String {
        self.only(Stream::Stderr)
    }

    #[cfg(test)]
    fn only(&self, stream: Stream) -> String {
        self.chunks.iter().filter(|(s, _)| *s == stream).map(|(_, t)| t.as_str()).collect()
    }
}

/// The world one container sees; the kubelet implements it per container. Futures are `Send`
/// so a container's command can run in a spawned task (and be killed by dropping it).
pub(crate) trait Host: Sync {
    /// The UTS hostname (the pod's `hostname`, else its name).
    fn hostname(&self) -> String;
    fn fs(&self) -> &ContainerFs;
    /// The container's environment as the runtime sets it (image ENV, pod env, service links).
    fn env(&self) -> Vec<(String, String)>;
    /// The container's `workingDir` (the image's WORKDIR when the pod does not set one).
    fn working_dir(&self) -> String {
        "/".into()
    }
    /// Wall-clock time for `date` and file times; the kubelet passes its simulated clock.
    fn now(&self) -> jiff::Timestamp {
        jiff::Timestamp::now()
    }
    /// Wait a simulated duration.
    fn sleep(&self, d: Duration) -> impl Future<Output = ()> + Send;
    /// Look `name` up as the pod's libc resolver would: a name ending in `.` is absolute;
    /// otherwise the pod's search path applies (`ndots:5`) and `fqdn` says which expansion
    /// answered. An IP literal answers itself with its PTR name.
    fn resolve(&self, name: &str) -> impl Future<Output = Resolution> + Send;
    /// `GET url` (always `http://host[:port]/path`); the kubelet resolves the host the same way
    /// as `resolve` and routes to the simulated server.
    fn http_get(&self, url: &str) -> impl Future<Output = HttpResult> + Send;
    /// `GET url` sent with this User-Agent (`curl/7.88.1`, `kube-probe/1.33`); the server logs it.
    fn http_get_as(&self, url: &str, agent: &str) -> impl Future<Output = HttpResult> + Send {
        let _ = agent;
        self.http_get(url)
    }
}

/// An address in a DNS answer, with the name its reverse (PTR) lookup gives, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DnsAddress {
    pub ip: IpAddr,
    pub ptr: Option<String>,
}

impl DnsAddress {
    pub(crate) fn new(ip: IpAddr, ptr: Option<&str>) -> Self {
        DnsAddress { ip, ptr: ptr.map(str::to_string) }
    }
}

/// The cluster DNS's answer to one lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Resolution {
    /// The nameserver from the pod's resolv.conf (the kube-dns Service) and its PTR name
    /// (`kube-dns.kube-system.svc.cluster.local`).
    pub server: DnsAddress,
    pub answer: DnsAnswer,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DnsAnswer {
    /// A records for `fqdn` (no trailing dot).
    Found {
        fqdn: String,
        addresses: Vec<DnsAddress>,
    },
    NxDomain,
    /// No nameserver answered (CoreDNS down or unreachable).
    Timeout,
}

/// An HTTP answer as the client sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HttpResponse {
    pub status: u16,
    /// Response headers in wire order, without the status line.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpResponse {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// What a GET ended in, seen from the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HttpResult {
    Response {
        ip: IpAddr,
        port: u16,
        response: HttpResponse,
    },
    /// The host name does not resolve.
    BadAddress,
    /// Nothing listens on the port (or a Service has no endpoints).
    Refused {
        ip: IpAddr,
        port: u16,
    },
    /// No route to the address (a pod IP nobody owns).
    Unreachable {
        ip: IpAddr,
        port: u16,
    },
    /// Packets vanish; the client waits for its own timeout.
    Timeout {
        ip: IpAddr,
        port: u16,
    },
}
