//! `kubectl port-forward` as kubectl 1.31 and later do it: a WebSocket with the subprotocol
//! `SPDY/3.1+portforward.k8s.io`, through which the client speaks SPDY/3.1 (the tunnel of
//! client-go's `tunneling_dialer.go`; the API server would hand it to the kubelet). Per
//! forwarded connection the client opens an `error` stream and a `data` stream (headers
//! `streamtype`, `port`, `requestid`); the sandbox answers each with SYN_REPLY, reads the HTTP
//! requests on the data stream and answers them from the pod's simulated server on that port,
//! which sees the client at 127.0.0.1 as a real port-forward's is. Nothing listening there:
//! the error stream says so, in the kubelet's words.
//!
//! SPDY/3.1 framing (draft-mbelshe-httpbis-spdy-00 and the 3.1 flow-control changes): 8-byte
//! frame headers, control frames SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS, PING, GOAWAY,
//! WINDOW_UPDATE; name/value header blocks zlib-compressed on one stream per direction, with the
//! spec's preset dictionary.

use std::collections::HashMap;

use axum::extract::Request;
use axum::response::Response;
use futures::{SinkExt, StreamExt};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use super::request::Target;
use super::ApiState;
use crate::error::{ApiError, ApiResult};
use crate::kubelet::Kubelet;
use crate::resources::kinds;
use crate::sim::{nginx, HttpResponse};

/// The WebSocket subprotocol of the SPDY tunnel.
pub(super) const TUNNEL_PROTOCOL: &str = "SPDY/3.1+portforward.k8s.io";

/// The most a forwarded connection may send before its request is complete.
const REQUEST_LIMIT: usize = 64 << 10;
/// The most frames' bytes the client may send ahead of what the sandbox has parsed.
const INPUT_LIMIT: usize = 1 << 20;

/// The SPDY/3 header compression dictionary: the spec's list of length-prefixed words, then its
/// run of common values.
fn dictionary() -> &'static [u8] {
    static DICT: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    DICT.get_or_init(|| {
        const WORDS: &[&str] = &[
            "options",
            "head",
            "post",
            "put",
            "delete",
            "trace",
            "accept",
            "accept-charset",
            "accept-encoding",
            "accept-language",
            "accept-ranges",
            "age",
            "allow",
            "authorization",
            "cache-control",
            "connection",
            "content-base",
            "content-encoding",
            "content-language",
            "content-length",
            "content-location",
            "content-md5",
            "content-range",
            "content-type",
            "date",
            "etag",
            "expect",
            "expires",
            "from",
            "host",
            "if-match",
            "if-modified-since",
            "if-none-match",
            "if-range",
            "if-unmodified-since",
            "last-modified",
            "location",
            "max-forwards",
            "pragma",
            "proxy-authenticate",
            "proxy-authorization",
            "range",
            "referer",
            "retry-after",
            "server",
            "te",
            "trailer",
            "transfer-encoding",
            "upgrade",
            "user-agent",
            "vary",
            "via",
            "warning",
            "www-authenticate",
            "method",
            "get",
            "status",
            "200 OK",
            "version",
            "HTTP/1.1",
            "url",
            "public",
            "set-cookie",
            "keep-alive",
            "origin",
        ];
        const TAIL: &str = "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505\
            203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized\
            403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable\
            Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT\
            chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,\
            text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.";
        let mut d = Vec::with_capacity(1423);
        for w in WORDS {
            d.extend_from_slice(&(w.len() as u32).to_be_bytes());
            d.extend_from_slice(w.as_bytes());
        }
        d.extend_from_slice(TAIL.as_bytes());
        d
    })
}

const SYN_STREAM: u16 = 1;
const SYN_REPLY: u16 = 2;
const RST_STREAM: u16 = 3;
const PING: u16 = 6;
const GOAWAY: u16 = 7;
const FLAG_FIN: u8 = 1;

/// A frame as read off the wire.
#[derive(Debug, PartialEq, Eq)]
enum Frame {
    Control { kind: u16, flags: u8, data: Vec<u8> },
    Data { stream: u32, flags: u8, data: Vec<u8> },
}

/// Take one whole frame off the front of `buf`, if there is one.
fn next_frame(buf: &mut Vec<u8>) -> Option<Frame> {
    if buf.len() < 8 {
        return None;
    }
    let len = u32::from_be_bytes([0, buf[5], buf[6], buf[7]]) as usize;
    if buf.len() < 8 + len {
        return None;
    }
    let data = buf[8..8 + len].to_vec();
    let flags = buf[4];
    let frame = if buf[0] & 0x80 != 0 {
        Frame::Control { kind: u16::from_be_bytes([buf[2], buf[3]]), flags, data }
    } else {
        Frame::Data { stream: u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) & 0x7fff_ffff, flags, data }
    };
    buf.drain(..8 + len);
    Some(frame)
}

fn control(kind: u16, flags: u8, data: &[u8]) -> Vec<u8> {
    let mut f = vec![0x80, 3];
    f.extend_from_slice(&kind.to_be_bytes());
    f.push(flags);
    f.extend_from_slice(&(data.len() as u32).to_be_bytes()[1..]);
    f.extend_from_slice(data);
    f
}

fn data_frame(stream: u32, flags: u8, data: &[u8]) -> Vec<u8> {
    let mut f = (stream & 0x7fff_ffff).to_be_bytes().to_vec();
    f.push(flags);
    f.extend_from_slice(&(data.len() as u32).to_be_bytes()[1..]);
    f.extend_from_slice(data);
    f
}

/// The per-connection header (de)compression contexts.
struct Headers {
    inflate: flate2::Decompress,
    deflate: flate2::Compress,
}

impl Headers {
    fn new() -> Headers {
        Headers {
            inflate: flate2::Decompress::new(true),
            deflate: flate2::Compress::new(flate2::Compression::default(), true),
        }
    }

    /// A compressed name/value block as pairs, names lower case.
    fn read(&mut self, block: &[u8]) -> Result<Vec<(String, String)>, String> {
        let mut out = Vec::with_capacity(256);
        let mut input = block;
        loop {
            out.reserve(1024);
            let before_in = self.inflate.total_in();
            match self.inflate.decompress_vec(input, &mut out, flate2::FlushDecompress::Sync) {
                Ok(_) => {}
                Err(e) if e.needs_dictionary().is_some() => {
                    self.inflate.set_dictionary(dictionary()).map_err(|e| e.to_string())?;
                }
                Err(e) => return Err(e.to_string()),
            }
            let used = (self.inflate.total_in() - before_in) as usize;
            input = &input[used..];
            if input.is_empty() && out.len() < out.capacity() {
                break;
            }
            if out.len() > REQUEST_LIMIT {
                return Err("header block too large".into());
            }
        }
        let word = |b: &[u8], at: &mut usize| -> Option<String> {
            let n = u32::from_be_bytes(b.get(*at..*at + 4)?.try_into().ok()?) as usize;
            let s = String::from_utf8_lossy(b.get(*at + 4..*at + 4 + n)?).into_owned();
            *at += 4 + n;
            Some(s)
        };
        let mut at = 0;
        let count = u32::from_be_bytes(out.get(0..4).ok_or("empty header block")?.try_into().unwrap_or([0; 4]));
        at += 4;
        let mut pairs = Vec::new();
        for _ in 0..count.min(64) {
            let (Some(k), Some(v)) = (word(&out, &mut at), word(&out, &mut at)) else {
                return Err("truncated header block".into());
            };
            pairs.push((k.to_ascii_lowercase(), v));
        }
        Ok(pairs)
    }

    /// An empty name/value block, compressed on this connection's stream.
    fn empty_block(&mut self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        let _ = self.deflate.compress_vec(&0u32.to_be_bytes(), &mut out, flate2::FlushCompress::Sync);
        out
    }
}

/// One forwarded connection's data stream.
struct Forward {
    port: u16,
    error_stream: Option<u32>,
    pending: Vec<u8>,
}

/// The pod being forwarded to.
struct Pod {
    namespace: String,
    name: String,
    uid: String,
    ip: String,
}

/// `GET .../pods/NAME/portforward` with a WebSocket upgrade to the SPDY tunnel.
pub(super) fn portforward(st: &ApiState, t: &Target, mut req: Request) -> ApiResult<Response> {
    let ns = t.namespace.clone().unwrap_or_default();
    let name = t.name.clone().unwrap_or_default();
    let pod = st.store.get(kinds::pods(), &ns, &name).ok_or_else(|| ApiError::not_found("", "pods", &name))?;
    let phase = pod.pointer("/status/phase").and_then(Value::as_str).unwrap_or("Pending");
    if phase != "Running" {
        return Err(ApiError::bad_request(format!("pod {name} is not running: its phase is {phase}")));
    }
    let ip = pod.pointer("/status/podIP").and_then(Value::as_str).unwrap_or("").to_string();
    let Ok((key, _)) = super::stream::websocket_request(&req, &[TUNNEL_PROTOCOL]) else {
        return Err(ApiError::bad_request(format!(
            "Upgrade request required: the sandbox forwards ports through a WebSocket with the subprotocol {TUNNEL_PROTOCOL} (kubectl 1.31 or newer)"
        )));
    };
    let target = Pod { namespace: ns, name, uid: pod["metadata"]["uid"].as_str().unwrap_or("").to_string(), ip };
    let kubelet = st.kubelet.clone();
    let on_upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        let Ok(upgraded) = on_upgrade.await else { return };
        let ws = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
        tunnel(ws, kubelet, target).await;
    });
    super::stream::switching_protocols(&key, TUNNEL_PROTOCOL)
}

/// The whole HTTP requests at the front of `buf` (taken off it), as nginx sees them.
fn take_requests(buf: &mut Vec<u8>) -> Vec<(nginx::Request, bool)> {
    let mut out = Vec::new();
    while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
        let head = String::from_utf8_lossy(&buf[..end]).into_owned();
        let mut lines = head.split("\r\n");
        let mut first = lines.next().unwrap_or("").split_whitespace();
        let (method, target) = (first.next().unwrap_or("GET").to_string(), first.next().unwrap_or("/").to_string());
        let header = |name: &str| {
            head.split("\r\n")
                .skip(1)
                .filter_map(|l| l.split_once(':'))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
                .map(|(_, v)| v.trim().to_string())
        };
        let body = header("content-length").and_then(|n| n.parse::<usize>().ok()).unwrap_or(0);
        if buf.len() < end + 4 + body {
            break;
        }
        let close = header("connection").is_some_and(|c| c.eq_ignore_ascii_case("close"));
        let req = nginx::Request {
            method,
            target,
            host: header("host").unwrap_or_default(),
            client: "127.0.0.1".into(),
            user_agent: header("user-agent"),
        };
        buf.drain(..end + 4 + body);
        let _ = lines.next();
        out.push((req, close));
    }
    out
}

fn wire(resp: &HttpResponse, head_only: bool) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {} {}\r\n", resp.status, nginx::reason_phrase(resp.status));
    for (k, v) in &resp.headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    if !head_only {
        bytes.extend_from_slice(resp.body.as_bytes());
    }
    bytes
}

async fn tunnel<S>(ws: WebSocketStream<S>, kubelet: Kubelet, pod: Pod)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let (mut sink, mut incoming) = ws.split();
    let mut buf: Vec<u8> = Vec::new();
    let mut headers = Headers::new();
    let mut forwards: HashMap<u32, Forward> = HashMap::new();
    // requestid -> the error stream opened for it
    let mut errors: HashMap<String, u32> = HashMap::new();
    while let Some(msg) = incoming.next().await {
        match msg {
            Ok(Message::Binary(b)) => buf.extend_from_slice(&b),
            Ok(Message::Close(_)) | Err(_) => return,
            Ok(_) => continue,
        }
        if buf.len() > INPUT_LIMIT {
            let _ = sink.send(Message::Binary(control(GOAWAY, 0, &[0; 8]).into())).await;
            return;
        }
        let mut out: Vec<u8> = Vec::new();
        while let Some(frame) = next_frame(&mut buf) {
            match frame {
                Frame::Control { kind: SYN_STREAM, data, .. } if data.len() >= 10 => {
                    let id = u32::from_be_bytes([data[0], data[1], data[2], data[3]]) & 0x7fff_ffff;
                    let Ok(pairs) = headers.read(&data[10..]) else {
                        out.extend(control(GOAWAY, 0, &[0; 8]));
                        let _ = sink.send(Message::Binary(out.into())).await;
                        return;
                    };
                    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
                    let mut reply = id.to_be_bytes().to_vec();
                    reply.extend(headers.empty_block());
                    out.extend(control(SYN_REPLY, 0, &reply));
                    let request = get("requestid").unwrap_or_default();
                    match get("streamtype").as_deref() {
                        Some("error") => {
                            errors.insert(request, id);
                        }
                        Some("data") => {
                            let port = get("port").and_then(|p| p.parse().ok()).unwrap_or(0);
                            let error_stream = errors.remove(&request);
                            if kubelet.server_at(&pod.ip, port).is_none() {
                                let message = format!(
                                    "error forwarding port {port} to pod {}, uid {}: failed to connect to localhost:{port} inside namespace \"{}\": dial tcp4 127.0.0.1:{port}: connect: connection refused",
                                    pod.name, pod.uid, pod.namespace
                                );
                                if let Some(e) = error_stream {
                                    out.extend(data_frame(e, FLAG_FIN, message.as_bytes()));
                                }
                                out.extend(data_frame(id, FLAG_FIN, &[]));
                                continue;
                            }
                            forwards.insert(id, Forward { port, error_stream, pending: Vec::new() });
                        }
                        _ => out.extend(control(RST_STREAM, 0, &[id.to_be_bytes(), 1u32.to_be_bytes()].concat())),
                    }
                }
                Frame::Control { kind: PING, flags, data } => out.extend(control(PING, flags, &data)),
                Frame::Control { kind: GOAWAY, .. } => return,
                Frame::Control { kind: RST_STREAM, data, .. } if data.len() >= 4 => {
                    let id = u32::from_be_bytes([data[0], data[1], data[2], data[3]]) & 0x7fff_ffff;
                    forwards.remove(&id);
                }
                Frame::Control { .. } => {}
                Frame::Data { stream, flags, data } => {
                    let Some(f) = forwards.get_mut(&stream) else { continue };
                    f.pending.extend_from_slice(&data);
                    let mut done = flags & FLAG_FIN != 0;
                    if f.pending.len() > REQUEST_LIMIT {
                        done = true;
                    }
                    let server = kubelet.server_at(&pod.ip, f.port);
                    for (req, close) in take_requests(&mut f.pending) {
                        let resp = match &server {
                            Some(s) => kubelet.serve_http(s, &req),
                            None => break,
                        };
                        for chunk in wire(&resp, req.method == "HEAD").chunks(16 << 10) {
                            out.extend(data_frame(stream, 0, chunk));
                        }
                        // nginx answers `Connection: close` when it closes; the stream ends with it.
                        done |= close || resp.header("connection").is_some_and(|c| c.eq_ignore_ascii_case("close"));
                    }
                    if done {
                        out.extend(data_frame(stream, FLAG_FIN, &[]));
                        if let Some(e) = f.error_stream {
                            out.extend(data_frame(e, FLAG_FIN, &[]));
                        }
                        forwards.remove(&stream);
                    }
                }
            }
        }
        if !out.is_empty() && sink.send(Message::Binary(out.into())).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dictionary_is_the_specs() {
        let d = dictionary();
        assert_eq!(d.len(), 1423);
        assert_eq!(&d[..11], b"\0\0\0\x07options");
        assert!(d.ends_with(b"enq=0."));
    }

    #[test]
    fn frames_and_header_blocks_round_trip() {
        // A client's SYN_STREAM: headers compressed with the dictionary, as spdystream does.
        let mut block = Vec::new();
        let pairs = [("streamtype", "data"), ("port", "80"), ("requestid", "0")];
        block.extend_from_slice(&(pairs.len() as u32).to_be_bytes());
        for (k, v) in pairs {
            block.extend_from_slice(&(k.len() as u32).to_be_bytes());
            block.extend_from_slice(k.as_bytes());
            block.extend_from_slice(&(v.len() as u32).to_be_bytes());
            block.extend_from_slice(v.as_bytes());
        }
        let mut c = flate2::Compress::new(flate2::Compression::best(), true);
        c.set_dictionary(dictionary()).unwrap();
        let mut compressed = Vec::with_capacity(512);
        c.compress_vec(&block, &mut compressed, flate2::FlushCompress::Sync).unwrap();
        let mut syn = 3u32.to_be_bytes().to_vec();
        syn.extend_from_slice(&[0; 6]);
        syn.extend_from_slice(&compressed);
        let mut wire_bytes = control(SYN_STREAM, 0, &syn);
        wire_bytes.extend(data_frame(3, FLAG_FIN, b"GET / HTTP/1.1\r\nHost: localhost:8080\r\n\r\n"));
        let Some(Frame::Control { kind: SYN_STREAM, data, .. }) = next_frame(&mut wire_bytes) else { panic!() };
        let mut h = Headers::new();
        assert_eq!(
            h.read(&data[10..]).unwrap(),
            [
                ("streamtype".to_string(), "data".to_string()),
                ("port".into(), "80".into()),
                ("requestid".into(), "0".into())
            ]
        );
        let Some(Frame::Data { stream: 3, flags: FLAG_FIN, mut data }) = next_frame(&mut wire_bytes) else { panic!() };
        assert!(wire_bytes.is_empty());
        let reqs = take_requests(&mut data);
        assert_eq!(reqs.len(), 1);
        assert_eq!(
            (reqs[0].0.target.as_str(), reqs[0].0.host.as_str(), reqs[0].0.client.as_str()),
            ("/", "localhost:8080", "127.0.0.1")
        );
        // An incomplete request waits for the rest.
        let mut partial = b"GET /a HTTP/1.1\r\nHost: x\r\n".to_vec();
        assert!(take_requests(&mut partial).is_empty());
        // Our own empty block decompresses to zero pairs on the client's side.
        let block = h.empty_block();
        let mut d = flate2::Decompress::new(true);
        let mut out = Vec::with_capacity(16);
        d.decompress_vec(&block, &mut out, flate2::FlushDecompress::Sync).unwrap();
        assert_eq!(out, [0, 0, 0, 0]);
    }
}
