//! Network tools against the cluster model: `nslookup` (busybox 1.28's getaddrinfo-based one
//! and the rewritten 1.29+ one), busybox `wget` and curl (Debian nginx images). Names and
//! requests go through `Host::resolve` and `Host::http_get`.

use std::net::IpAddr;
use std::time::Duration;

use super::super::image::Userland;
use super::super::nginx::reason_phrase;
use super::super::{DnsAddress, DnsAnswer, Host, HttpResponse, HttpResult, Resolution};
use super::applets::getopt;
use super::exec::Interp;

/// How long a resolver waits for an absent nameserver (musl: 5 s timeout, 2 attempts).
const DNS_TIMEOUT: Duration = Duration::from_secs(10);
/// Linux gives up on an unanswered connect after about this long.
const CONNECT_TIMEOUT: u64 = 127;

/// The User-Agent of the curl in Debian bookworm, which today's nginx images are built on.
const CURL_AGENT: &str = "curl/7.88.1";

/// A URL split as wget and curl need it.
struct Url {
    /// `host[:port]` as written (what busybox wget prints).
    authority: String,
    host: String,
    port: Option<u16>,
    path: String,
    /// `http://host[:port]/path`, what `Host::http_get` receives (`https` becomes port 443).
    full: String,
}

fn parse_url(raw: &str) -> Result<Url, String> {
    let (https, rest) = match raw.split_once("://") {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => (false, rest),
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("https") => (true, rest),
        Some(_) => return Err(format!("not an http or ftp url: {raw}")),
        None => (false, raw),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].to_string()),
        None => (rest, "/".to_string()),
    };
    let authority = authority.rsplit('@').next().unwrap_or(authority).to_string();
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h.to_string(), p.parse().ok()),
        None => (authority.clone(), None),
    };
    let port = port.or(https.then_some(443));
    let port_part = port.map(|p| format!(":{p}")).unwrap_or_default();
    Ok(Url { full: format!("http://{host}{port_part}{path}"), authority, host, port, path })
}

impl<'a, H: Host> Interp<'a, H> {
    pub(super) async fn nslookup(&mut self, args: &[String]) -> i32 {
        let Some(name) = args.iter().find(|a| !a.starts_with('-')).cloned() else {
            self.err("Usage: nslookup [HOST] [SERVER]\n\nQuery the nameserver for the IP address of the given HOST\noptionally using a specified DNS server\n");
            return 1;
        };
        match self.sh.userland {
            Userland::Busybox => self.nslookup_new(&name).await,
            userland => self.nslookup_old(&name, userland == Userland::BusyboxMusl128).await,
        }
    }

    /// busybox <= 1.28: getaddrinfo for the server, then for the name (`Address 1: ip ptr`).
    async fn nslookup_old(&mut self, name: &str, musl: bool) -> i32 {
        let res = self.host.resolve(name).await;
        if musl {
            // musl keeps no nameserver in `_res`, so the server lookup is of a NULL name.
            self.err("nslookup: can't resolve '(null)': Name does not resolve\n");
            self.out("\n");
        } else {
            let ptr = res.server.ptr.as_deref().map(|p| format!(" {p}")).unwrap_or_default();
            let ip = res.server.ip;
            self.out(&format!("{:<10} {ip}\nAddress 1: {ip}{ptr}\n\n", "Server:"));
        }
        let mut answer = res.answer;
        if let (Ok(ip), false) = (name.parse::<IpAddr>(), matches!(answer, DnsAnswer::Found { .. })) {
            // getaddrinfo takes an address as is; only its reverse name needs DNS.
            answer = DnsAnswer::Found { fqdn: name.to_string(), addresses: vec![DnsAddress::new(ip, None)] };
        }
        match answer {
            DnsAnswer::Found { addresses, .. } if !addresses.is_empty() => {
                let mut text = format!("{:<10} {name}\n", "Name:");
                for (i, a) in addresses.iter().enumerate() {
                    let ptr = a.ptr.as_deref().map(|p| format!(" {p}")).unwrap_or_default();
                    text.push_str(&format!("Address {}: {}{ptr}\n", i + 1, a.ip));
                }
                self.out(&text);
                0
            }
            DnsAnswer::Timeout => {
                self.host.sleep(DNS_TIMEOUT).await;
                let reason = if musl { ": Try again" } else { "" };
                self.err(&format!("nslookup: can't resolve '{name}'{reason}\n"));
                1
            }
            _ => {
                let reason = if musl { ": Name does not resolve" } else { "" };
                self.err(&format!("nslookup: can't resolve '{name}'{reason}\n"));
                1
            }
        }
    }

    /// busybox 1.29+: its own queries, A then AAAA; the search list only for names without a
    /// dot, so `web-0.nginx` is asked as is and fails.
    async fn nslookup_new(&mut self, name: &str) -> i32 {
        let search: Vec<String> = self
            .host
            .fs()
            .read("/etc/resolv.conf")
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("search "))
            .map(|s| s.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default();
        let queries: Vec<String> = if name.contains('.') || search.is_empty() {
            vec![name.trim_end_matches('.').to_string()]
        } else {
            search.iter().map(|d| format!("{name}.{d}")).collect()
        };
        let mut answers: Vec<(String, Resolution)> = Vec::new();
        for q in &queries {
            let absolute = if search.is_empty() && !name.contains('.') { q.clone() } else { format!("{q}.") };
            answers.push((q.clone(), self.host.resolve(&absolute).await));
        }
        if answers.iter().all(|(_, r)| r.answer == DnsAnswer::Timeout) {
            self.host.sleep(DNS_TIMEOUT).await;
            self.out(";; connection timed out; no servers could be reached\n\n");
            return 1;
        }
        let server = answers.first().map(|(_, r)| r.server.ip);
        let mut text = match server {
            Some(ip) => format!("Server:\t\t{ip}\nAddress:\t{ip}:53\n\n"),
            None => String::new(),
        };
        let mut status = 0;
        for aaaa in [false, true] {
            for (q, res) in &answers {
                match &res.answer {
                    DnsAnswer::Found { fqdn, addresses } => {
                        if !fqdn.ends_with(".local") {
                            text.push_str("Non-authoritative answer:\n");
                        }
                        for a in addresses.iter().filter(|a| a.ip.is_ipv6() == aaaa) {
                            text.push_str(&format!("Name:\t{fqdn}\nAddress: {}\n", a.ip));
                        }
                    }
                    DnsAnswer::NxDomain => {
                        status = 1;
                        text.push_str(&format!("** server can't find {q}: NXDOMAIN\n"));
                    }
                    DnsAnswer::Timeout => {}
                }
                text.push('\n');
            }
        }
        self.out(&text);
        status
    }

    pub(super) async fn wget(&mut self, args: &[String]) -> i32 {
        let longs = [
            ("quiet", 'q'),
            ("server-response", 'S'),
            ("output-document", 'O'),
            ("timeout", 'T'),
            ("user-agent", 'U'),
            ("proxy", 'Y'),
            ("directory-prefix", 'P'),
            ("tries", 't'),
            ("header", 'H'),
            ("continue", 'c'),
            ("spider", 's'),
        ];
        let (opts, urls) = getopt(args, "cqSsO:P:Y:U:T:t:H:", &longs);
        let has = |c: char| opts.iter().any(|(o, _)| *o == c);
        let (quiet, headers, spider) = (has('q'), has('S'), has('s'));
        let output = opts.iter().rev().find(|(o, _)| *o == 'O').map(|(_, v)| v.clone());
        let timeout = opts.iter().rev().find(|(o, _)| *o == 'T').and_then(|(_, v)| v.parse().ok()).unwrap_or(900u64);
        if urls.is_empty() {
            self.err("Usage: wget [-c|--continue] [--spider] [-q|--quiet] [-O|--output-document FILE]\n\t[--header 'header: value'] [-Y|--proxy on/off] [-P DIR]\n\t[-S|--server-response] [-U|--user-agent AGENT] [-T SEC] URL...\n");
            return 1;
        }
        for raw in urls {
            let mut url = match parse_url(&raw) {
                Ok(u) => u,
                Err(msg) => {
                    self.err(&format!("wget: {msg}\n"));
                    return 1;
                }
            };
            let mut redirects = 0;
            let (resp, url) = loop {
                let (ip, port, resp) = match self.host.http_get(&url.full).await {
                    HttpResult::BadAddress => {
                        self.err(&format!("wget: bad address '{}'\n", url.authority));
                        return 1;
                    }
                    HttpResult::Response { ip, port, response } => (ip, port, Ok(response)),
                    HttpResult::Refused { ip, port } => (ip, port, Err("Connection refused")),
                    HttpResult::Unreachable { ip, port } => (ip, port, Err("Host is unreachable")),
                    HttpResult::Timeout { ip, port } => (ip, port, Err("")),
                };
                if !quiet {
                    self.err(&format!("Connecting to {} ({ip}:{port})\n", url.authority));
                }
                let resp = match resp {
                    Ok(r) => r,
                    Err("") => {
                        self.host.sleep(Duration::from_secs(timeout.min(CONNECT_TIMEOUT))).await;
                        if timeout < CONNECT_TIMEOUT {
                            self.err("wget: download timed out\n");
                        } else {
                            self.err(&format!("wget: can't connect to remote host ({ip}): Connection timed out\n"));
                        }
                        return 1;
                    }
                    Err(reason) => {
                        self.err(&format!("wget: can't connect to remote host ({ip}): {reason}\n"));
                        return 1;
                    }
                };
                let status_line = format!("HTTP/1.1 {} {}", resp.status, reason_phrase(resp.status));
                if headers {
                    let mut text = format!("  {status_line}\n");
                    for (k, v) in &resp.headers {
                        text.push_str(&format!("  {k}: {v}\n"));
                    }
                    self.err(&text);
                }
                match resp.status {
                    200..=205 => break (resp, url),
                    300..=303 => {
                        let Some(location) = resp.header("Location").map(str::to_string) else {
                            break (resp, url);
                        };
                        redirects += 1;
                        if redirects > 5 {
                            self.err("wget: too many redirections\n");
                            return 1;
                        }
                        url = match parse_url(&location) {
                            Ok(u) => u,
                            Err(msg) => {
                                self.err(&format!("wget: {msg}\n"));
                                return 1;
                            }
                        };
                    }
                    _ => {
                        self.err(&format!("wget: server returned error: {status_line}\n"));
                        return 1;
                    }
                }
            };
            if spider {
                continue;
            }
            let name = match &output {
                Some(o) => o.clone(),
                None => match url.path.rsplit('/').next() {
                    Some(last) if !last.is_empty() => last.split('?').next().unwrap_or(last).to_string(),
                    _ => "index.html".into(),
                },
            };
            if name == "-" {
                self.out(&resp.body);
            } else {
                use super::super::fs::WriteMode;
                let mode = if output.is_some() { WriteMode::Truncate } else { WriteMode::CreateNew };
                if let Err(e) = self.host.fs().write(&self.abs(&name), &resp.body, mode) {
                    self.err(&format!("wget: can't open '{name}': {e}\n"));
                    return 1;
                }
            }
            if !quiet {
                let bar = self.progress_bar(&name, resp.body.len() as u64);
                self.err(&bar);
            }
        }
        0
    }

    /// busybox's final progress line (the transfer is instant here).
    fn progress_bar(&mut self, name: &str, size: u64) -> String {
        let tty = self.sh.tty && self.frame().err == super::exec::Dest::Term(super::super::Stream::Stderr);
        if size == 0 {
            return "\n".into();
        }
        let base = name.rsplit('/').next().unwrap_or(name);
        let width = if tty { self.sh.width } else { 80 };
        let bar_len = width.saturating_sub(49);
        let bar = if bar_len > 0 { format!(" |{}|", "*".repeat(bar_len)) } else { String::new() };
        let (mut shown, mut unit) = (size, 0);
        while shown >= 100_000 {
            shown >>= 10;
            unit += 1;
        }
        let unit = " kMGTPEZY".chars().nth(unit).unwrap_or(' ');
        let line = format!("{base:<20.20} 100%{bar}{shown:>6}{unit}  0:00:00 ETA");
        if tty {
            format!("\r{line}\n")
        } else {
            format!("{line}\n\n")
        }
    }

    /// curl as installed in Debian nginx images: body to stdout, `curl: (N) ...` errors.
    pub(super) async fn curl(&mut self, args: &[String]) -> i32 {
        let longs = [
            ("silent", 's'),
            ("show-error", 'S'),
            ("fail", 'f'),
            ("head", 'I'),
            ("include", 'i'),
            ("location", 'L'),
            ("output", 'o'),
            ("max-time", 'm'),
            ("connect-timeout", 'C'),
            ("header", 'H'),
            ("user-agent", 'A'),
            ("request", 'X'),
            ("verbose", 'v'),
        ];
        let (opts, urls) = getopt(args, "sSfIiLvo:m:C:H:A:X:", &longs);
        let has = |c: char| opts.iter().any(|(o, _)| *o == c);
        let (silent, show_error, fail) = (has('s'), has('S'), has('f'));
        let (head, include, follow) = (has('I'), has('i'), has('L'));
        let output = opts.iter().rev().find(|(o, _)| *o == 'o').map(|(_, v)| v.clone());
        let Some(raw) = urls.first() else {
            self.err("curl: try 'curl --help' or 'curl --manual' for more information\n");
            return 2;
        };
        let quiet_errors = silent && !show_error;
        let Ok(mut url) = parse_url(raw) else {
            if !quiet_errors {
                self.err(&format!("curl: (1) Protocol \"{}\" not supported\n", raw.split("://").next().unwrap_or(raw)));
            }
            return 1;
        };
        let mut hops = 0;
        let resp = loop {
            let port = url.port.unwrap_or(80);
            let (code, msg) = match self.host.http_get_as(&url.full, CURL_AGENT).await {
                HttpResult::Response { response, .. } => {
                    let location = response.header("Location").map(str::to_string);
                    match location {
                        Some(loc) if follow && (300..400).contains(&response.status) && hops < 50 => {
                            hops += 1;
                            match parse_url(&loc) {
                                Ok(u) => {
                                    url = u;
                                    continue;
                                }
                                Err(_) => break response,
                            }
                        }
                        _ => break response,
                    }
                }
                HttpResult::BadAddress => (6, format!("Could not resolve host: {}", url.host)),
                HttpResult::Refused { .. } => {
                    (7, format!("Failed to connect to {} port {port} after 0 ms: Couldn't connect to server", url.host))
                }
                HttpResult::Unreachable { .. } => {
                    self.host.sleep(Duration::from_secs(3)).await;
                    (
                        7,
                        format!(
                            "Failed to connect to {} port {port} after 3071 ms: Couldn't connect to server",
                            url.host
                        ),
                    )
                }
                HttpResult::Timeout { .. } => {
                    self.host.sleep(Duration::from_secs(CONNECT_TIMEOUT)).await;
                    (
                        28,
                        format!(
                            "Failed to connect to {} port {port} after {} ms: Timeout was reached",
                            url.host,
                            CONNECT_TIMEOUT * 1000
                        ),
                    )
                }
            };
            if !quiet_errors {
                self.err(&format!("curl: ({code}) {msg}\n"));
            }
            return code;
        };
        if fail && resp.status >= 400 {
            if !quiet_errors {
                self.err(&format!("curl: (22) The requested URL returned error: {}\n", resp.status));
            }
            return 22;
        }
        let mut text = String::new();
        if head || include {
            text.push_str(&header_block(&resp));
        }
        if !head {
            text.push_str(&resp.body);
        }
        match output {
            Some(file) if file != "-" => {
                if let Err(e) = self.host.fs().write(&self.abs(&file), &text, super::super::fs::WriteMode::Truncate) {
                    if !quiet_errors {
                        self.err(&format!("curl: (23) Failure writing output to destination, passed {} returned 0\nWarning: Failed to open the file {file}: {e}\n", text.len()));
                    }
                    return 23;
                }
                if !silent {
                    self.err(&curl_meter(text.len()));
                }
            }
            _ => {
                if !silent && !self.out_is_tty() {
                    self.err(&curl_meter(text.len()));
                }
                self.out(&text);
            }
        }
        0
    }
}

fn header_block(resp: &HttpResponse) -> String {
    let mut text = format!("HTTP/1.1 {} {}\r\n", resp.status, reason_phrase(resp.status));
    for (k, v) in &resp.headers {
        text.push_str(&format!("{k}: {v}\r\n"));
    }
    text.push_str("\r\n");
    text
}

/// curl's progress meter when its output is not a terminal, after a 1 ms transfer.
fn curl_meter(bytes: usize) -> String {
    let speed = bytes * 1000;
    let speed = if speed >= 100_000 { format!("{}k", speed / 1024) } else { speed.to_string() };
    format!(
        "  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current\n\
         \x20                                Dload  Upload   Total   Spent    Left  Speed\n\
         \r  0     0    0     0    0     0      0      0 --:--:-- --:--:-- --:--:--     0\
         \r100 {bytes:>5}  100 {bytes:>5}    0     0 {speed:>6}      0 --:--:-- --:--:-- --:--:-- {speed:>5}\n"
    )
}
