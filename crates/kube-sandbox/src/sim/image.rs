//! What an image reference means to the simulation: which userland its shell and tools behave
//! like, nginx's version, and the few files its root filesystem starts with. Also the files the
//! kubelet bind-mounts into every container (/etc/hosts, /etc/resolv.conf, /etc/hostname).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use jiff::Timestamp;

use super::volume::{Node, Volume};

/// nginx version behind the moving tags (`nginx`, `nginx:mainline`, `nginx:stable`).
pub(crate) const NGINX_MAINLINE: &str = "1.31.4";
pub(crate) const NGINX_STABLE: &str = "1.30.4";
/// Alpine release behind `alpine:latest` and unknown alpine tags.
const ALPINE_LATEST: &str = "3.22.2";

/// Whose tools answer in a container: the wording of errors and of `nslookup` differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Userland {
    /// busybox 1.28 on musl (alpine 3.8 and older): the old `nslookup`, which on musl first
    /// prints `can't resolve '(null)'` for the server.
    BusyboxMusl128,
    /// busybox 1.28 and older on uclibc/glibc (`busybox:1.28`): the old `nslookup` with a
    /// `Server:` line.
    BusyboxLibc128,
    /// busybox 1.29 and newer (alpine 3.9+, `busybox:latest`): the rewritten `nslookup`.
    Busybox,
    /// Debian (nginx's default images): dash and coreutils; no `nslookup` or `wget`.
    Debian,
}

impl Userland {
    pub(crate) fn is_busybox(self) -> bool {
        self != Userland::Debian
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Image {
    /// As written in the pod spec.
    pub reference: String,
    /// Last path segment of the repository (`nginx` for `docker.io/library/nginx`).
    pub name: String,
    pub tag: String,
    pub userland: Userland,
    /// For nginx images: the version nginx reports (`1.27.3`).
    pub nginx_version: Option<String>,
    /// `/etc/os-release`'s PRETTY_NAME style identity, used to build the file.
    os: Os,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Os {
    Alpine(String),
    Busybox,
    Debian { version: &'static str, codename: &'static str },
}

/// `(major, minor, patch)` of a tag like `1.27`, `3.8.5` or `1.28.4-musl`.
fn version_of(tag: &str) -> Option<(u32, u32, Option<u32>)> {
    let numeric = tag.split('-').next()?;
    let mut parts = numeric.split('.').map(|p| p.parse::<u32>().ok());
    let major = parts.next()??;
    let minor = parts.next().flatten().unwrap_or(0);
    let patch = parts.next().flatten();
    Some((major, minor, patch))
}

impl Image {
    pub(crate) fn parse(reference: &str) -> Image {
        let without_digest = reference.split('@').next().unwrap_or(reference);
        let (repo, tag) = match without_digest.rsplit_once(':') {
            Some((r, t)) if !t.contains('/') => (r, t),
            _ => (without_digest, "latest"),
        };
        let name = repo.rsplit('/').next().unwrap_or(repo).to_string();
        let tag = tag.to_string();
        let (userland, nginx_version, os) = match name.as_str() {
            "alpine" => {
                let release = match version_of(&tag) {
                    Some((3, 8, _)) => "3.8.5".to_string(),
                    Some((3, minor, Some(p))) => format!("3.{minor}.{p}"),
                    Some((3, minor, None)) if minor > 0 => format!("3.{minor}.0"),
                    _ => ALPINE_LATEST.to_string(),
                };
                let old = matches!(version_of(&release), Some((3, m, _)) if m <= 8);
                let userland = if old { Userland::BusyboxMusl128 } else { Userland::Busybox };
                (userland, None, Os::Alpine(release))
            }
            "busybox" => {
                let old = matches!(version_of(&tag), Some((1, m, _)) if m <= 28);
                let userland = match (old, tag.contains("musl")) {
                    (true, true) => Userland::BusyboxMusl128,
                    (true, false) => Userland::BusyboxLibc128,
                    (false, _) => Userland::Busybox,
                };
                (userland, None, Os::Busybox)
            }
            "nginx" => {
                let version = nginx_version_for(&tag);
                if tag.contains("alpine") {
                    (Userland::Busybox, Some(version), Os::Alpine(ALPINE_LATEST.into()))
                } else {
                    let os = debian_for_nginx(&version);
                    (Userland::Debian, Some(version), os)
                }
            }
            _ => (Userland::Debian, None, debian_for_nginx(NGINX_MAINLINE)),
        };
        Image { reference: reference.to_string(), name, tag, userland, nginx_version, os }
    }

    /// The parse of `reference`, shared by every container of that image.
    pub(crate) fn shared(reference: &str) -> Arc<Image> {
        static PARSED: OnceLock<Mutex<HashMap<String, Arc<Image>>>> = OnceLock::new();
        let mut parsed = PARSED.get_or_init(Default::default).lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        parsed.entry(reference.to_string()).or_insert_with(|| Arc::new(Image::parse(reference))).clone()
    }

    pub(crate) fn is_nginx(&self) -> bool {
        self.nginx_version.is_some()
    }

    /// When the image was built: its files carry this date (`ls -l` shows the year).
    fn built(&self) -> Timestamp {
        let date = match (&self.os, self.userland) {
            (Os::Alpine(_), Userland::BusyboxMusl128) => "2020-01-23T10:00:00Z",
            (Os::Alpine(_), _) => "2025-10-08T10:00:00Z",
            (Os::Busybox, Userland::Busybox) => "2024-09-26T21:31:42Z",
            (Os::Busybox, _) => "2018-12-06T15:13:21Z",
            (Os::Debian { codename: "stretch", .. }, _) => "2018-04-30T13:55:50Z",
            (Os::Debian { .. }, _) => "2025-10-21T02:08:55Z",
        };
        date.parse().unwrap_or(Timestamp::UNIX_EPOCH)
    }

    /// Write the image's files into a fresh root volume. Files carry the image's build date;
    /// `/` is dated `created`, when the runtime set the container up.
    pub(crate) fn populate(&self, root: &Volume, created: Timestamp) {
        static TREES: OnceLock<Mutex<HashMap<String, Node>>> = OnceLock::new();
        let trees = TREES.get_or_init(Default::default);
        let cached = trees.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(&self.reference).cloned();
        let tree = match cached {
            Some(t) => t,
            None => {
                let fresh = Volume::at(self.built());
                self.build(&fresh);
                let t = fresh.snapshot();
                trees
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .insert(self.reference.clone(), t.clone());
                t
            }
        };
        root.restore(tree);
        // Only the root directory's own time: /etc stays the image's, as its files (and the
        // kubelet's mount points in it) come with the image, and changing it would copy the
        // shared tree for every container.
        let _ = root.set_mtime("/", created);
    }

    /// Write the image's files, all dated with the image's build date.
    fn build(&self, root: &Volume) {
        let built = self.built();
        let mut files: Vec<(String, String)> = Vec::new();
        let dirs: &[&str] = match self.os {
            Os::Alpine(_) => &[
                "bin",
                "dev",
                "etc",
                "home",
                "lib",
                "media",
                "mnt",
                "opt",
                "proc",
                "root",
                "run",
                "sbin",
                "srv",
                "sys",
                "tmp",
                "usr/bin",
                "usr/lib",
                "usr/local",
                "usr/sbin",
                "usr/share",
                "var/cache",
                "var/lib",
                "var/log",
                "var/tmp",
            ],
            Os::Busybox => &[
                "bin",
                "dev",
                "etc",
                "home",
                "lib",
                "proc",
                "root",
                "sys",
                "tmp",
                "usr/sbin",
                "var/spool/mail",
                "var/www",
            ],
            Os::Debian { .. } => &[
                "bin",
                "boot",
                "dev",
                "etc",
                "home",
                "lib",
                "lib64",
                "media",
                "mnt",
                "opt",
                "proc",
                "root",
                "run",
                "sbin",
                "srv",
                "sys",
                "tmp",
                "usr/bin",
                "usr/lib",
                "usr/local",
                "usr/sbin",
                "usr/share",
                "var/cache",
                "var/lib",
                "var/log",
                "var/tmp",
            ],
        };
        match &self.os {
            Os::Alpine(release) => {
                let minor = release.rsplit_once('.').map_or(release.as_str(), |(m, _)| m);
                files.push(("etc/alpine-release".into(), format!("{release}\n")));
                let (home, bugs) = if self.userland == Userland::BusyboxMusl128 {
                    ("http://alpinelinux.org", "http://bugs.alpinelinux.org")
                } else {
                    ("https://alpinelinux.org/", "https://gitlab.alpinelinux.org/alpine/aports/-/issues")
                };
                files.push((
                    "etc/os-release".into(),
                    format!(
                        "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID={release}\n\
                         PRETTY_NAME=\"Alpine Linux v{minor}\"\nHOME_URL=\"{home}\"\n\
                         BUG_REPORT_URL=\"{bugs}\"\n"
                    ),
                ));
                files.push((
                    "etc/passwd".into(),
                    "root:x:0:0:root:/root:/bin/ash\nbin:x:1:1:bin:/bin:/sbin/nologin\n\
                     daemon:x:2:2:daemon:/sbin:/sbin/nologin\n\
                     nobody:x:65534:65534:nobody:/:/sbin/nologin\n"
                        .into(),
                ));
                files.push(("etc/group".into(), "root:x:0:root\nbin:x:1:root,bin,daemon\n".into()));
            }
            Os::Busybox => {
                files.push((
                    "etc/passwd".into(),
                    "root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\n\
                     bin:x:2:2:bin:/bin:/bin/false\nnobody:x:65534:65534:nobody:/home:/bin/false\n"
                        .into(),
                ));
                files.push(("etc/group".into(), "root:x:0:\ndaemon:x:1:\nbin:x:2:\n".into()));
            }
            Os::Debian { version, codename } => {
                files.push((
                    "etc/os-release".into(),
                    format!(
                        "PRETTY_NAME=\"Debian GNU/Linux {version} ({codename})\"\n\
                         NAME=\"Debian GNU/Linux\"\nVERSION_ID=\"{version}\"\n\
                         VERSION=\"{version} ({codename})\"\nVERSION_CODENAME={codename}\n\
                         ID=debian\nHOME_URL=\"https://www.debian.org/\"\n\
                         SUPPORT_URL=\"https://www.debian.org/support\"\n\
                         BUG_REPORT_URL=\"https://bugs.debian.org/\"\n"
                    ),
                ));
                files.push(("etc/debian_version".into(), format!("{version}\n")));
                files.push((
                    "etc/passwd".into(),
                    "root:x:0:0:root:/root:/bin/bash\n\
                     daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n\
                     nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
                        .into(),
                ));
                files.push(("etc/group".into(), "root:x:0:\ndaemon:x:1:\n".into()));
            }
        }
        if let Some(version) = &self.nginx_version {
            files.extend(nginx_files(version));
            files.push(("docker-entrypoint.d/".into(), String::new()));
            files.push(("docker-entrypoint.sh".into(), ENTRYPOINT.into()));
        }
        // The files the kubelet bind-mounts over come with every image (empty ones, as an image
        // build leaves them), so mounting them changes nothing in the shared tree.
        for f in ["etc/hosts", "etc/hostname", "etc/resolv.conf"] {
            if !files.iter().any(|(p, _)| p == f) {
                files.push((f.into(), String::new()));
            }
        }
        // So is the ServiceAccount token's mount point (a runtime makes it at mount time; here
        // it is in the shared tree so that 10,000 mounts copy nothing).
        files.push(("var/run/secrets/kubernetes.io/serviceaccount/".into(), String::new()));
        // alpine-baselayout gained /opt after 3.8.
        let old_alpine = self.userland == Userland::BusyboxMusl128;
        for dir in dirs.iter().filter(|d| !(old_alpine && **d == "opt")) {
            let _ = root.put_dir(dir, built);
        }
        for (path, data) in files {
            match path.strip_suffix('/') {
                Some(dir) => root.put_dir(dir, built),
                None => root.put_file(&path, &data, built),
            }
            .unwrap_or_default();
        }
    }
}

/// The last release of each nginx minor a learner is likely to name.
fn nginx_version_for(tag: &str) -> String {
    const LAST_PATCH: &[(u32, u32)] = &[
        (13, 12),
        (14, 2),
        (15, 12),
        (16, 1),
        (17, 10),
        (18, 0),
        (19, 10),
        (20, 2),
        (21, 6),
        (22, 1),
        (23, 4),
        (24, 0),
        (25, 5),
        (26, 3),
        (27, 5),
        (28, 3),
        (29, 8),
        (30, 4),
        (31, 4),
    ];
    let base = tag.split('-').next().unwrap_or(tag);
    match base {
        "stable" => return NGINX_STABLE.to_string(),
        "" | "latest" | "mainline" | "alpine" | "perl" | "alpine-slim" => return NGINX_MAINLINE.to_string(),
        _ => {}
    }
    match version_of(base) {
        Some((1, minor, Some(patch))) => format!("1.{minor}.{patch}"),
        Some((1, minor, None)) if minor > 0 => {
            let patch = LAST_PATCH.iter().find(|(m, _)| *m == minor).map_or(0, |(_, p)| *p);
            format!("1.{minor}.{patch}")
        }
        _ => NGINX_MAINLINE.to_string(),
    }
}

fn debian_for_nginx(version: &str) -> Os {
    let minor = version_of(version).map_or(0, |(_, m, _)| m);
    let (version, codename) = match minor {
        0..=14 => ("9", "stretch"),
        15..=20 => ("10", "buster"),
        21..=22 => ("11", "bullseye"),
        23..=28 => ("12", "bookworm"),
        _ => ("13", "trixie"),
    };
    Os::Debian { version, codename }
}

/// Whether `version` is at least 1.`minor`.`patch` (the welcome page changed in 1.21.2 and
/// 1.29.6).
fn nginx_at_least(version: &str, minor: u32, patch: u32) -> bool {
    match version_of(version) {
        Some((1, m, p)) => (m, p.unwrap_or(0)) >= (minor, patch),
        Some((major, _, _)) => major > 1,
        None => true,
    }
}

fn nginx_files(version: &str) -> Vec<(String, String)> {
    let style = if nginx_at_least(version, 21, 2) {
        "html { color-scheme: light dark; }\nbody { width: 35em; margin: 0 auto;\n\
         font-family: Tahoma, Verdana, Arial, sans-serif; }\n"
    } else {
        "    body {\n        width: 35em;\n        margin: 0 auto;\n        \
         font-family: Tahoma, Verdana, Arial, sans-serif;\n    }\n"
    };
    let body = if nginx_at_least(version, 29, 6) {
        "<p>If you see this page, nginx is successfully installed and working.\n\
         Further configuration is required for the web server, reverse proxy, \n\
         API gateway, load balancer, content cache, or other features.</p>\n\n\
         <p>For online documentation and support please refer to\n\
         <a href=\"https://nginx.org/\">nginx.org</a>.<br/>\n\
         To engage with the community please visit\n\
         <a href=\"https://community.nginx.org/\">community.nginx.org</a>.<br/>\n\
         For enterprise grade support, professional services, additional \n\
         security features and capabilities please refer to\n\
         <a href=\"https://f5.com/nginx\">f5.com/nginx</a>.</p>\n"
    } else {
        "<p>If you see this page, the nginx web server is successfully installed and\n\
         working. Further configuration is required.</p>\n\n\
         <p>For online documentation and support please refer to\n\
         <a href=\"http://nginx.org/\">nginx.org</a>.<br/>\n\
         Commercial support is available at\n\
         <a href=\"http://nginx.com/\">nginx.com</a>.</p>\n"
    };
    let index = format!(
        "<!DOCTYPE html>\n<html>\n<head>\n<title>Welcome to nginx!</title>\n<style>\n{style}</style>\n\
         </head>\n<body>\n<h1>Welcome to nginx!</h1>\n{body}\n\
         <p><em>Thank you for using nginx.</em></p>\n</body>\n</html>\n"
    );
    let log_hint = if nginx_at_least(version, 21, 2) {
        "the error log for details.</p>\n"
    } else {
        "the <a href=\"http://nginx.org/r/error_log\">error log</a> for details.</p>\n"
    };
    let fifty = format!(
        "<!DOCTYPE html>\n<html>\n<head>\n<title>Error</title>\n<style>\n{style}</style>\n\
         </head>\n<body>\n<h1>An error occurred.</h1>\n\
         <p>Sorry, the page you are looking for is currently unavailable.<br/>\n\
         Please try again later.</p>\n\
         <p>If you are the system administrator of this resource then you should check\n\
         {log_hint}<p><em>Faithfully yours, nginx.</em></p>\n</body>\n</html>\n"
    );
    let conf = "\nuser  nginx;\nworker_processes  auto;\n\n\
        error_log  /var/log/nginx/error.log notice;\npid        /run/nginx.pid;\n\n\n\
        events {\n    worker_connections  1024;\n}\n\n\nhttp {\n\
        \x20   include       /etc/nginx/mime.types;\n\
        \x20   default_type  application/octet-stream;\n\n\
        \x20   log_format  main  '$remote_addr - $remote_user [$time_local] \"$request\" '\n\
        \x20                     '$status $body_bytes_sent \"$http_referer\" '\n\
        \x20                     '\"$http_user_agent\" \"$http_x_forwarded_for\"';\n\n\
        \x20   access_log  /var/log/nginx/access.log  main;\n\n\
        \x20   sendfile        on;\n    #tcp_nopush     on;\n\n\
        \x20   keepalive_timeout  65;\n\n    #gzip  on;\n\n\
        \x20   include /etc/nginx/conf.d/*.conf;\n}\n";
    let default_conf = "server {\n    listen       80;\n    listen  [::]:80;\n\
        \x20   server_name  localhost;\n\n\
        \x20   #access_log  /var/log/nginx/host.access.log  main;\n\n\
        \x20   location / {\n        root   /usr/share/nginx/html;\n\
        \x20       index  index.html index.htm;\n    }\n\n\
        \x20   #error_page  404              /404.html;\n\n\
        \x20   # redirect server error pages to the static page /50x.html\n    #\n\
        \x20   error_page   500 502 503 504  /50x.html;\n    location = /50x.html {\n\
        \x20       root   /usr/share/nginx/html;\n    }\n}\n";
    vec![
        ("usr/share/nginx/html/index.html".into(), index),
        ("usr/share/nginx/html/50x.html".into(), fifty),
        ("etc/nginx/nginx.conf".into(), conf.to_string()),
        ("etc/nginx/conf.d/default.conf".into(), default_conf.to_string()),
        ("var/cache/nginx/".into(), String::new()),
        ("var/log/nginx/".into(), String::new()),
    ]
}

/// The start of the official image's entrypoint (it runs /docker-entrypoint.d/*.sh, then nginx).
const ENTRYPOINT: &str = "#!/bin/sh\n# vim:sw=4:ts=4:et\n\nset -e\n\n\
    entrypoint_log() {\n    if [ -z \"${NGINX_ENTRYPOINT_QUIET_LOGS:-}\" ]; then\n\
    \x20       echo \"$@\"\n    fi\n}\n\n\
    if [ \"$1\" = \"nginx\" ] || [ \"$1\" = \"nginx-debug\" ]; then\n\
    \x20   entrypoint_log \"$0: /docker-entrypoint.d/ is not empty, will attempt to perform configuration\"\n\
    fi\n\nexec \"$@\"\n";

/// `/etc/hosts` as the kubelet writes it for a pod. `fqdn` is set when the pod has a
/// `subdomain` (StatefulSet pods under their headless Service).
pub(crate) fn hosts_file(pod_ip: &str, hostname: &str, fqdn: Option<&str>) -> String {
    let own = match fqdn {
        Some(fqdn) => format!("{pod_ip}\t{fqdn}\t{hostname}\n"),
        None => format!("{pod_ip}\t{hostname}\n"),
    };
    format!(
        "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n\
         ::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n\
         fe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n{own}"
    )
}

/// `/etc/resolv.conf` for `dnsPolicy: ClusterFirst`, as containerd writes it.
pub(crate) fn resolv_conf(namespace: &str, nameserver: &str, cluster_domain: &str) -> String {
    format!(
        "search {namespace}.svc.{cluster_domain} svc.{cluster_domain} {cluster_domain}\n\
         nameserver {nameserver}\noptions ndots:5\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userland_follows_the_image() {
        assert_eq!(Image::parse("alpine:3.8").userland, Userland::BusyboxMusl128);
        assert_eq!(Image::parse("alpine:3.7").userland, Userland::BusyboxMusl128);
        assert_eq!(Image::parse("alpine").userland, Userland::Busybox);
        assert_eq!(Image::parse("alpine:3.19").userland, Userland::Busybox);
        assert_eq!(Image::parse("busybox:1.28").userland, Userland::BusyboxLibc128);
        assert_eq!(Image::parse("busybox:1.28.4-musl").userland, Userland::BusyboxMusl128);
        assert_eq!(Image::parse("docker.io/library/busybox:latest").userland, Userland::Busybox);
        assert_eq!(Image::parse("nginx:mainline").userland, Userland::Debian);
        assert_eq!(Image::parse("nginx:1.27-alpine").userland, Userland::Busybox);
    }

    #[test]
    fn nginx_versions() {
        assert_eq!(Image::parse("nginx:1.13.12").nginx_version.as_deref(), Some("1.13.12"));
        assert_eq!(Image::parse("nginx:1.27").nginx_version.as_deref(), Some("1.27.5"));
        assert_eq!(Image::parse("nginx").nginx_version.as_deref(), Some(NGINX_MAINLINE));
        assert_eq!(Image::parse("nginx:stable-alpine").nginx_version.as_deref(), Some(NGINX_STABLE));
        assert_eq!(Image::parse("registry.local:5000/nginx").tag, "latest");
        assert_eq!(Image::parse("alpine:3.8").nginx_version, None);
    }

    #[test]
    fn root_filesystems() {
        let v = Volume::new();
        Image::parse("alpine:3.8").populate(&v, Timestamp::now());
        assert_eq!(v.read_file("/etc/alpine-release").unwrap(), "3.8.5\n");
        assert!(v.read_file("/etc/os-release").unwrap().contains("PRETTY_NAME=\"Alpine Linux v3.8\""));
        assert!(v.read_file("/tmp/.keep").is_err());

        let old = Volume::new();
        Image::parse("nginx:1.13.12").populate(&old, Timestamp::now());
        let index = old.read_file("/usr/share/nginx/html/index.html").unwrap();
        assert!(index.contains("    body {\n        width: 35em;"));
        assert!(old.read_file("/etc/os-release").unwrap().contains("stretch"));
        let new = Volume::new();
        Image::parse("nginx:1.27.3").populate(&new, Timestamp::now());
        let fifty = new.read_file("/usr/share/nginx/html/50x.html").unwrap();
        assert!(fifty.contains("html { color-scheme: light dark; }"));
        assert!(fifty.contains("check\nthe error log for details.</p>"));
    }

    #[test]
    fn pod_files() {
        assert_eq!(
            hosts_file("10.244.0.5", "web-0", Some("web-0.nginx.default.svc.cluster.local")).lines().last(),
            Some("10.244.0.5\tweb-0.nginx.default.svc.cluster.local\tweb-0")
        );
        assert_eq!(
            resolv_conf("default", "10.96.0.10", "cluster.local"),
            "search default.svc.cluster.local svc.cluster.local cluster.local\n\
             nameserver 10.96.0.10\noptions ndots:5\n"
        );
    }
}
