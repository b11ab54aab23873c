//! What the official nginx image answers with its default config (`root /usr/share/nginx/html;
//! index index.html index.htm;`), read from a container filesystem where that directory may be
//! a mounted volume; plus the access- and error-log lines it writes. The kubelet's simulated
//! nginx containers and their HTTP routing call these.

use jiff::{tz::TimeZone, Timestamp};

use super::fs::{components, ContainerFs, FileKind, FsError};
use super::HttpResponse;

/// The document root of the image's default server.
pub(crate) const ROOT: &str = "/usr/share/nginx/html";
const INDEXES: [&str; 2] = ["index.html", "index.htm"];

/// One request as nginx sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Request {
    pub method: String,
    /// Path and query as sent (`/index.html?x=1`).
    pub target: String,
    /// The Host header (what the client typed, e.g. `web-0.nginx`).
    pub host: String,
    /// The peer address nginx logs (`$remote_addr`).
    pub client: String,
    pub user_agent: Option<String>,
}

impl Request {
    pub(crate) fn get(target: &str, host: &str, client: &str, user_agent: Option<&str>) -> Self {
        Request {
            method: "GET".into(),
            target: target.into(),
            host: host.into(),
            client: client.into(),
            user_agent: user_agent.map(str::to_string),
        }
    }

    /// `GET / HTTP/1.1`, as `$request` logs it.
    pub(crate) fn line(&self) -> String {
        format!("{} {} HTTP/1.1", self.method, self.target)
    }
}

/// nginx's answer and, for failures nginx logs, the error-log message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Served {
    pub response: HttpResponse,
    /// E.g. `open() "/usr/share/nginx/html/x" failed (2: No such file or directory)`.
    pub error: Option<String>,
}

/// The reason phrase nginx puts on the status line.
pub(crate) fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Moved Temporarily",
        304 => "Not Modified",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Not Allowed",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Temporarily Unavailable",
        504 => "Gateway Time-out",
        _ => "",
    }
}

fn http_date(t: Timestamp) -> String {
    t.to_zoned(TimeZone::UTC).strftime("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

fn content_type(path: &str) -> &'static str {
    let ext = path.rsplit_once('.').map_or("", |(_, e)| e);
    match ext.to_ascii_lowercase().as_str() {
        "html" | "htm" | "shtml" => "text/html",
        "css" => "text/css",
        "txt" => "text/plain",
        "xml" => "text/xml",
        "js" => "application/javascript",
        "json" => "application/json",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "svg" | "svgz" => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

/// nginx's built-in error page (`<center>nginx/1.27.3</center>` with `server_tokens on`).
pub(crate) fn error_page(status: u16, version: &str) -> String {
    let title = format!("{status} {}", reason_phrase(status));
    // The white background attribute went away in 1.15.4.
    let nums: Vec<u32> = version.split('.').map(|p| p.parse().unwrap_or(0)).collect();
    let old = matches!(nums[..], [1, minor, ..] if minor < 15) || matches!(nums[..], [1, 15, patch, ..] if patch < 4);
    let body = if old { "<body bgcolor=\"white\">" } else { "<body>" };
    format!(
        "<html>\r\n<head><title>{title}</title></head>\r\n{body}\r\n\
         <center><h1>{title}</h1></center>\r\n<hr><center>nginx/{version}</center>\r\n\
         </body>\r\n</html>\r\n"
    )
}

fn error_response(status: u16, version: &str, now: Timestamp, location: Option<String>) -> HttpResponse {
    let body = error_page(status, version);
    let mut headers = vec![
        ("Server".to_string(), format!("nginx/{version}")),
        ("Date".to_string(), http_date(now)),
        ("Content-Type".to_string(), "text/html".to_string()),
        ("Content-Length".to_string(), body.len().to_string()),
    ];
    if let Some(location) = location {
        headers.push(("Location".to_string(), location));
    }
    headers.push(("Connection".to_string(), "close".to_string()));
    HttpResponse { status, headers, body }
}

/// `%XX` decoding as nginx does before mapping a URI to a file; `None` for malformed escapes.
fn percent_decode(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn errno(e: FsError) -> &'static str {
    match e {
        FsError::NotADirectory => "20: Not a directory",
        FsError::IsADirectory => "21: Is a directory",
        _ => "2: No such file or directory",
    }
}

/// Answer `req` from `fs` the way nginx `version` with the image's default server does.
pub(crate) fn serve(fs: &ContainerFs, version: &str, req: &Request, now: Timestamp) -> Served {
    let fail =
        |status: u16, error: Option<String>| Served { response: error_response(status, version, now, None), error };
    if req.method != "GET" && req.method != "HEAD" {
        return fail(405, None);
    }
    let raw_path = req.target.split(['?', '#']).next().unwrap_or("");
    let Some(decoded) = percent_decode(raw_path) else {
        return fail(400, None);
    };
    if !decoded.starts_with('/') {
        return fail(400, None);
    }
    // A `..` that climbs above the root is a bad request, not a way out.
    let mut depth: i64 = 0;
    for part in decoded.split('/') {
        match part {
            "" | "." => {}
            ".." => depth -= 1,
            _ => depth += 1,
        }
        if depth < 0 {
            return fail(400, None);
        }
    }
    let parts = components(&decoded);
    let uri = if parts.is_empty() {
        "/".to_string()
    } else {
        format!("/{}{}", parts.join("/"), if decoded.ends_with('/') { "/" } else { "" })
    };
    let path = format!("{ROOT}{uri}");

    let (file, data) = if uri.ends_with('/') {
        let mut found = None;
        for index in INDEXES {
            let candidate = format!("{path}{index}");
            if let Ok(data) = fs.read(&candidate) {
                found = Some((candidate, data));
                break;
            }
        }
        match found {
            Some(hit) => hit,
            None => {
                return match fs.stat(&path) {
                    Ok(meta) if meta.kind == FileKind::Dir => {
                        fail(403, Some(format!("directory index of \"{path}\" is forbidden")))
                    }
                    Ok(_) => fail(404, Some(format!("\"{path}{}\" is not found (20: Not a directory)", INDEXES[0]))),
                    Err(e) => fail(404, Some(format!("\"{path}{}\" is not found ({})", INDEXES[0], errno(e)))),
                };
            }
        }
    } else {
        match fs.read(&path) {
            Ok(data) => (path.clone(), data),
            Err(FsError::IsADirectory) => {
                // nginx sends clients to the slash-terminated URI of a directory.
                let location = format!("http://{}{uri}/", req.host);
                return Served { response: error_response(301, version, now, Some(location)), error: None };
            }
            Err(e) => {
                return fail(404, Some(format!("open() \"{path}\" failed ({})", errno(e))));
            }
        }
    };
    let mtime = fs.stat(&file).map(|m| m.mtime).unwrap_or(now);
    let headers = vec![
        ("Server".to_string(), format!("nginx/{version}")),
        ("Date".to_string(), http_date(now)),
        ("Content-Type".to_string(), content_type(&file).to_string()),
        ("Content-Length".to_string(), data.len().to_string()),
        ("Last-Modified".to_string(), http_date(mtime)),
        ("Connection".to_string(), "close".to_string()),
        ("ETag".to_string(), format!("\"{:x}-{:x}\"", mtime.as_second(), data.len())),
        ("Accept-Ranges".to_string(), "bytes".to_string()),
    ];
    let body = if req.method == "HEAD" { String::new() } else { data };
    Served { response: HttpResponse { status: 200, headers, body }, error: None }
}

/// One line of the image's `main` log format, as nginx writes it to stdout.
pub(crate) fn access_log_line(req: &Request, response: &HttpResponse, at: Timestamp) -> String {
    let time = at.to_zoned(TimeZone::UTC).strftime("%d/%b/%Y:%H:%M:%S %z");
    format!(
        "{} - - [{time}] \"{}\" {} {} \"-\" \"{}\" \"-\"",
        req.client,
        req.line(),
        response.status,
        response.body.len(),
        req.user_agent.as_deref().unwrap_or("-"),
    )
}

/// An error-log line (nginx writes them to stderr in the image), e.g. for a 404.
pub(crate) fn error_log_line(req: &Request, message: &str, at: Timestamp, pid: u32, connection: u64) -> String {
    let time = at.to_zoned(TimeZone::UTC).strftime("%Y/%m/%d %H:%M:%S");
    format!(
        "{time} [error] {pid}#{pid}: *{connection} {message}, client: {}, server: localhost, \
         request: \"{}\", host: \"{}\"",
        req.client,
        req.line(),
        req.host
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::fs::{Volume, WriteMode};

    fn now() -> Timestamp {
        "2026-11-24T22:00:00Z".parse().unwrap()
    }

    fn web0() -> ContainerFs {
        let vol = Volume::at(now());
        vol.put_file("index.html", "web-0\n", now()).unwrap();
        vol.put_file("empty/.hidden", "", now()).unwrap();
        let mut fs = ContainerFs::for_image("nginx:1.27.3").with_clock(now);
        fs.mount(ROOT, vol, false).unwrap();
        fs
    }

    fn get(fs: &ContainerFs, target: &str) -> Served {
        serve(fs, "1.27.3", &Request::get(target, "web-0.nginx", "10.244.0.7", Some("Wget")), now())
    }

    #[test]
    fn serves_index_from_the_volume() {
        let fs = web0();
        let served = get(&fs, "/");
        assert_eq!(served.response.status, 200);
        assert_eq!(served.response.body, "web-0\n");
        assert_eq!(served.response.header("content-type"), Some("text/html"));
        assert_eq!(served.response.header("Content-Length"), Some("6"));
        assert_eq!(served.response.header("Server"), Some("nginx/1.27.3"));
        assert_eq!(served.response.header("Date"), Some("Tue, 24 Nov 2026 22:00:00 GMT"));
        assert_eq!(get(&fs, "/index.html?x=1").response.body, "web-0\n");
        assert_eq!(get(&fs, "//./index.html").response.status, 200);
        assert_eq!(served.error, None);
    }

    #[test]
    fn missing_file_is_404_with_nginx_page() {
        let served = get(&web0(), "/nope.html");
        assert_eq!(served.response.status, 404);
        assert_eq!(
            served.response.body,
            "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n\
             <center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx/1.27.3</center>\r\n\
             </body>\r\n</html>\r\n"
        );
        assert_eq!(
            served.error.as_deref(),
            Some("open() \"/usr/share/nginx/html/nope.html\" failed (2: No such file or directory)")
        );
        assert_eq!(
            error_log_line(
                &Request::get("/nope.html", "web-0.nginx", "10.244.0.7", Some("Wget")),
                served.error.as_deref().unwrap_or_default(),
                now(),
                29,
                1
            ),
            "2026/11/24 22:00:00 [error] 29#29: *1 open() \"/usr/share/nginx/html/nope.html\" failed \
             (2: No such file or directory), client: 10.244.0.7, server: localhost, \
             request: \"GET /nope.html HTTP/1.1\", host: \"web-0.nginx\""
        );
    }

    #[test]
    fn directory_without_index_is_403() {
        let fs = web0();
        fs.remove("/usr/share/nginx/html/index.html", false).unwrap();
        let served = get(&fs, "/");
        assert_eq!(served.response.status, 403);
        assert!(served.response.body.contains("<title>403 Forbidden</title>"));
        assert_eq!(served.error.as_deref(), Some("directory index of \"/usr/share/nginx/html/\" is forbidden"));
        assert_eq!(get(&fs, "/empty/").response.status, 403);
        assert_eq!(get(&fs, "/none/").response.status, 404);
    }

    #[test]
    fn directory_without_slash_redirects() {
        let served = get(&web0(), "/empty");
        assert_eq!(served.response.status, 301);
        assert_eq!(served.response.header("Location"), Some("http://web-0.nginx/empty/"));
        assert!(served.response.body.contains("301 Moved Permanently"));
    }

    #[test]
    fn bad_requests() {
        let fs = web0();
        assert_eq!(get(&fs, "/../etc/passwd").response.status, 400);
        assert_eq!(get(&fs, "/%zz").response.status, 400);
        let mut post = Request::get("/", "x", "10.0.0.1", None);
        post.method = "POST".into();
        assert_eq!(serve(&fs, "1.27.3", &post, now()).response.status, 405);
    }

    #[test]
    fn image_default_page_and_old_versions() {
        let fs = ContainerFs::for_image("nginx:1.13.12");
        let served = serve(&fs, "1.13.12", &Request::get("/", "h", "c", None), now());
        assert!(served.response.body.contains("Welcome to nginx!"));
        assert!(error_page(404, "1.13.12").contains("<body bgcolor=\"white\">\r\n"));
        assert!(error_page(404, "1.15.4").contains("<body>\r\n"));
        fs.write("/usr/share/nginx/html/a.txt", "t", WriteMode::Truncate).unwrap();
        let txt = serve(&fs, "1.13.12", &Request::get("/a.txt", "h", "c", None), now());
        assert_eq!(txt.response.header("Content-Type"), Some("text/plain"));
    }

    #[test]
    fn access_log_format() {
        let req = Request::get("/", "web-0.nginx", "10.244.0.7", Some("Wget"));
        let served = serve(&web0(), "1.27.3", &req, now());
        assert_eq!(
            access_log_line(&req, &served.response, now()),
            "10.244.0.7 - - [24/Nov/2026:22:00:00 +0000] \"GET / HTTP/1.1\" 200 6 \"-\" \"Wget\" \"-\""
        );
    }
}
