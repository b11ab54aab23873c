//! nslookup, wget and curl against the fake cluster of `tests`: the StatefulSet exercise's
//! probe script, each busybox generation's nslookup, and HTTP failures.

use std::time::Duration;

use super::{alpine, ip, sh, FakeHost};
use crate::sim::DnsAddress;

#[tokio::test]
async fn probe_script_finds_a_pod() {
    let (code, out) = sh(&alpine(), "nslookup web-0.nginx; wget -q -O - web-0.nginx").await;
    assert_eq!(code, 0);
    assert_eq!(
        out.text(),
        "nslookup: can't resolve '(null)': Name does not resolve\n\n\
         Name:      web-0.nginx\n\
         Address 1: 10.244.0.5 web-0.nginx.default.svc.cluster.local\n\
         web-0\n"
    );
    let (_, out) = sh(&alpine(), "nslookup 10.1.2.3").await;
    assert!(out.stdout().ends_with("Name:      10.1.2.3\nAddress 1: 10.1.2.3\n"));
    let (_, out) = sh(&alpine(), "nslookup nginx").await;
    assert!(out.stdout().ends_with(
        "Name:      nginx\nAddress 1: 10.244.0.5 web-0.nginx.default.svc.cluster.local\n\
         Address 2: 10.244.0.6 web-1.nginx.default.svc.cluster.local\n"
    ));
}

#[tokio::test]
async fn probe_script_for_a_missing_name() {
    let (code, out) = sh(&alpine(), "nslookup nope.nginx; wget -q -O - nope.nginx").await;
    assert_eq!(code, 1);
    assert_eq!(
        out.text(),
        "nslookup: can't resolve '(null)': Name does not resolve\n\n\
         nslookup: can't resolve 'nope.nginx': Name does not resolve\n\
         wget: bad address 'nope.nginx'\n"
    );
}

#[tokio::test(start_paused = true)]
async fn nslookup_in_other_busyboxes() {
    let old = FakeHost::new("busybox:1.28", "dns-test");
    let (code, out) = sh(&old, "nslookup web-0.nginx").await;
    assert_eq!(code, 0);
    assert_eq!(
        out.text(),
        "Server:    10.96.0.10\nAddress 1: 10.96.0.10 kube-dns.kube-system.svc.cluster.local\n\n\
         Name:      web-0.nginx\nAddress 1: 10.244.0.5 web-0.nginx.default.svc.cluster.local\n"
    );
    let (code, out) = sh(&old, "nslookup nope").await;
    assert_eq!(code, 1);
    assert!(out.text().ends_with("\nnslookup: can't resolve 'nope'\n"));

    // busybox 1.29+ does not apply the search path to names with a dot.
    let new = FakeHost::new("busybox:latest", "dns-test");
    let (code, out) = sh(&new, "nslookup web-0.nginx").await;
    assert_eq!(code, 1);
    assert_eq!(
        out.text(),
        "Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\n\
         ** server can't find web-0.nginx: NXDOMAIN\n\n** server can't find web-0.nginx: NXDOMAIN\n\n"
    );
    let (code, out) = sh(&new, "nslookup web-0.nginx.default.svc.cluster.local").await;
    assert_eq!(code, 0);
    assert_eq!(
        out.text(),
        "Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\n\
         Name:\tweb-0.nginx.default.svc.cluster.local\nAddress: 10.244.0.5\n\n\n"
    );

    let mut down = alpine();
    down.dns_down = true;
    let (code, out) = sh(&down, "nslookup web-0.nginx").await;
    assert_eq!(code, 1);
    assert!(out.stderr().ends_with("nslookup: can't resolve 'web-0.nginx': Try again\n"));
}

#[tokio::test]
async fn wget_outcomes() {
    let host = alpine();
    let (code, out) = sh(&host, "wget web-0.nginx && cat index.html").await;
    assert_eq!(code, 0);
    assert_eq!(
        out.stderr(),
        "Connecting to web-0.nginx (10.244.0.5:80)\n\
         index.html           100% |*******************************|     6   0:00:00 ETA\n\n"
    );
    assert_eq!(out.stdout(), "web-0\n");
    let (code, out) = sh(&host, "wget -q web-0.nginx").await;
    assert_eq!((code, out.stderr().as_str()), (1, "wget: can't open 'index.html': File exists\n"));

    let (code, out) = sh(&host, "wget -q -O - http://web-0.nginx/nope").await;
    assert_eq!((code, out.stderr().as_str()), (1, "wget: server returned error: HTTP/1.1 404 Not Found\n"));
    let (code, out) = sh(&host, "wget -O - web-1.nginx").await;
    assert_eq!(code, 1);
    assert_eq!(
        out.stderr(),
        "Connecting to web-1.nginx (10.244.0.6:80)\n\
         wget: can't connect to remote host (10.244.0.6): Connection refused\n"
    );
    let (code, out) = sh(&host, "wget -qO- web-0.nginx:80/index.html; wget -O- -q nope:8080").await;
    assert_eq!(code, 1);
    assert_eq!(out.text(), "web-0\nwget: bad address 'nope:8080'\n");
    let (_, out) = sh(&host, "wget -q -S -O /dev/null web-0.nginx").await;
    assert!(out.stderr().starts_with("  HTTP/1.1 200 OK\n  Server: nginx/1.27.3\n"));
    let (code, out) = sh(&host, "wget -q -O - ftp://x").await;
    assert_eq!((code, out.stderr().as_str()), (1, "wget: not an http or ftp url: ftp://x\n"));
}

#[tokio::test(start_paused = true)]
async fn wget_waits_for_its_timeout() {
    let mut host = alpine();
    host.records.push(("slow.default.svc.cluster.local".into(), vec![DnsAddress::new(ip("10.0.0.99"), None)]));
    let start = tokio::time::Instant::now();
    let (code, out) = sh(&host, "wget -q -T 5 slow").await;
    assert_eq!((code, out.stderr().as_str()), (1, "wget: download timed out\n"));
    assert_eq!(start.elapsed(), Duration::from_secs(5));
}

#[tokio::test]
async fn curl_on_debian_images() {
    let host = FakeHost::new("nginx:1.27.3", "web-1");
    let (code, out) = sh(&host, "curl -s web-0.nginx; curl -s nope; echo $?; curl -sf web-0.nginx/x").await;
    assert_eq!(code, 22);
    assert_eq!(out.stdout(), "web-0\n6\n");
    let (code, out) = sh(&host, "curl web-1.nginx").await;
    assert_eq!(code, 7);
    assert_eq!(
        out.stderr(),
        "curl: (7) Failed to connect to web-1.nginx port 80 after 0 ms: Couldn't connect to server\n"
    );
    let (code, out) = sh(&host, "wget -q web-0.nginx; nslookup x").await;
    assert_eq!(code, 127);
    assert_eq!(out.stderr(), "/bin/sh: 1: wget: not found\n/bin/sh: 1: nslookup: not found\n");
}
