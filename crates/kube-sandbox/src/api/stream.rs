//! attach and exec over the Kubernetes WebSocket streaming protocol (`v5.channel.k8s.io`, and
//! `v4.channel.k8s.io`), as kubectl 1.30+ speaks it: binary frames whose first byte is the
//! channel (0 stdin, 1 stdout, 2 stderr, 3 error/status, 4 resize, 255 close). SPDY, which
//! kubectl 1.27 to 1.29 use, is not served.

use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use std::time::Duration;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use super::request::Target;
use super::ApiState;
use crate::error::{ApiError, ApiResult};
use crate::kubelet::{console, Console, Input, RunningContainer};
use crate::logs::LogEvent;
use crate::resources::kinds;
use crate::sim::{self, Output, Stream};

const PROTOCOLS: [&str; 2] = ["v5.channel.k8s.io", "v4.channel.k8s.io"];

/// What goes back to the client.
enum Out {
    Data(u8, Bytes),
    /// The final status on the error channel; the stream ends after it.
    Done(Value),
}

fn success() -> Value {
    json!({"metadata": {}, "status": "Success"})
}

fn exit_status(argv: &[String], code: i32) -> Value {
    if code == 0 {
        return success();
    }
    json!({
        "metadata": {},
        "status": "Failure",
        "message": format!("command terminated with non-zero exit code: error executing command [{}], exit code {code}", argv.join(" ")),
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": code.to_string()}]},
    })
}

/// Every query parameter, repeated ones included (exec's `command`).
fn query_pairs(req: &Request) -> Vec<(String, String)> {
    req.uri().query().map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default()
}

pub(super) fn stream(st: &ApiState, t: &Target, mut req: Request) -> ApiResult<Response> {
    let ns = t.namespace.clone().unwrap_or_default();
    let name = t.name.clone().unwrap_or_default();
    let exec = t.sub.as_deref() == Some("exec");
    let params = query_pairs(&req);
    let flag = |k: &str| params.iter().any(|(key, v)| key == k && (v == "true" || v == "1"));
    let pod = st.store.get(kinds::pods(), &ns, &name).ok_or_else(|| ApiError::not_found("", "pods", &name))?;
    let names: Vec<String> = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c["name"].as_str().map(str::to_string))
        .collect();
    let container = match params.iter().find(|(k, _)| k == "container").map(|(_, v)| v.clone()) {
        Some(c) if names.contains(&c) => c,
        Some(c) => return Err(ApiError::bad_request(format!("container {c} is not valid for pod {name}"))),
        None if names.len() == 1 => names[0].clone(),
        None => {
            return Err(ApiError::bad_request(format!(
                "a container name must be specified for pod {name}, choose one of: [{}]",
                names.join(" ")
            )))
        }
    };
    let phase = pod.pointer("/status/phase").and_then(Value::as_str).unwrap_or("Pending");
    if phase == "Succeeded" || phase == "Failed" {
        let verb = if exec { "exec into" } else { "attach" };
        return Err(ApiError::bad_request(format!(
            "cannot {verb} a container in a completed pod; current phase is {phase}"
        )));
    }
    let running = st
        .kubelet
        .running(&ns, &name, &container)
        .ok_or_else(|| ApiError::bad_request(format!("container not found (\"{container}\")")))?;
    let command: Vec<String> = params.iter().filter(|(k, _)| k == "command").map(|(_, v)| v.clone()).collect();
    if exec && command.is_empty() {
        return Err(ApiError::bad_request("you must specify at least 1 command"));
    }

    let (key, protocol) = websocket_request(&req, &PROTOCOLS).map_err(|offered| match offered {
        None => ApiError::bad_request(
            "Upgrade request required: the sandbox streams attach and exec over WebSocket (kubectl 1.30 or newer)",
        ),
        Some(offered) => ApiError::bad_request(format!(
            "none of the offered WebSocket subprotocols {offered:?} is supported; use one of {PROTOCOLS:?}"
        )),
    })?;
    let on_upgrade = hyper::upgrade::on(&mut req);
    let stdin = flag("stdin");
    let tty = flag("tty");
    let logs = st.logs.clone();
    let (tx, rx) = mpsc::unbounded_channel::<Out>();
    let (input_tx, input_rx) = mpsc::unbounded_channel::<Input>();
    if exec {
        start_exec(&st.kubelet, running, command, stdin, tty, tx, input_rx);
    } else {
        let stdin_once = pod
            .pointer("/spec/containers")
            .and_then(Value::as_array)
            .and_then(|cs| cs.iter().find(|c| c["name"] == container.as_str()))
            .is_some_and(|c| c["stdinOnce"] == true);
        start_attach(running, logs, (ns, name, container), (stdin, stdin_once), tx, input_rx);
    }
    tokio::spawn(async move {
        let Ok(upgraded) = on_upgrade.await else { return };
        let ws = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
        session(ws, rx, input_tx, tty).await;
    });
    switching_protocols(&key, protocol)
}

/// A WebSocket upgrade request's key and the first of `accepted` it offers as subprotocol;
/// `Err(None)` when it is no upgrade at all, `Err(Some(offered))` when no subprotocol fits.
pub(super) fn websocket_request(
    req: &Request,
    accepted: &[&'static str],
) -> Result<(String, &'static str), Option<Vec<String>>> {
    let headers = req.headers();
    let upgrade = headers
        .get(http::header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let key = headers.get(http::header::SEC_WEBSOCKET_KEY).and_then(|v| v.to_str().ok()).map(str::to_string);
    let (true, Some(key)) = (upgrade, key) else { return Err(None) };
    let offered: Vec<String> = headers
        .get_all(http::header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|p| p.trim().to_string())
        .collect();
    match accepted.iter().find(|p| offered.iter().any(|o| o == *p)) {
        Some(p) => Ok((key, *p)),
        None => Err(Some(offered)),
    }
}

/// The `101 Switching Protocols` answer to a WebSocket upgrade.
pub(super) fn switching_protocols(key: &str, protocol: &str) -> ApiResult<Response> {
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
    Response::builder()
        .status(http::StatusCode::SWITCHING_PROTOCOLS)
        .header(http::header::UPGRADE, "websocket")
        .header(http::header::CONNECTION, "Upgrade")
        .header(http::header::SEC_WEBSOCKET_ACCEPT, accept)
        .header(http::header::SEC_WEBSOCKET_PROTOCOL, protocol)
        .body(Body::empty())
        .map_err(|e| ApiError::internal(e.to_string()))
}

/// Forward a console's output until its process exits.
fn forward_console(con: &Console, tx: mpsc::UnboundedSender<Out>, done: Option<tokio::sync::oneshot::Receiver<Value>>) {
    let mut out = con.subscribe();
    let tty = con.tty;
    tokio::spawn(async move {
        loop {
            match out.recv().await {
                Ok((s, b)) => {
                    let ch = if s == Stream::Stderr && !tty { 2 } else { 1 };
                    if tx.send(Out::Data(ch, b)).is_err() {
                        return;
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
        }
        let status = match done {
            Some(rx) => rx.await.unwrap_or_else(|_| success()),
            None => success(),
        };
        let _ = tx.send(Out::Done(status));
    });
}

fn start_attach(
    running: RunningContainer,
    logs: crate::logs::Logs,
    (ns, pod, container): (String, String, String),
    (stdin, stdin_once): (bool, bool),
    tx: mpsc::UnboundedSender<Out>,
    mut input: mpsc::UnboundedReceiver<Input>,
) {
    match running.console {
        Some(con) => {
            forward_console(&con, tx, None);
            let con = con.input();
            tokio::spawn(async move {
                while let Some(i) = input.recv().await {
                    // Detaching closes the container's stdin only with stdinOnce (kubectl run -it).
                    let wanted = match i {
                        Input::Resize(..) => true,
                        Input::Close => stdin && stdin_once,
                        Input::Data(_) => stdin,
                    };
                    if wanted && con.send(i).is_err() {
                        return;
                    }
                }
            });
        }
        None => {
            // Not interactive: attach shows what the process writes from now on.
            let mut follow = logs.follow(&ns, &pod, &container);
            tokio::spawn(async move {
                loop {
                    match follow.recv().await {
                        Ok(LogEvent::Line(l)) => {
                            if tx.send(Out::Data(1, Bytes::from(l.text))).is_err() {
                                return;
                            }
                        }
                        Ok(LogEvent::Ended) | Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    }
                }
                let _ = tx.send(Out::Done(success()));
            });
        }
    }
}

/// How long a runtime takes to start an exec'd process, as a real one does (tens of
/// milliseconds). Not only for looks: client-go's WebSocket executor starts reading frames
/// while it is still creating its streams, and output that comes sooner is dropped ("Unknown
/// stream id 1, discarding message") and the exec fails with "closed all streams".
const EXEC_START: Duration = Duration::from_millis(25);

fn start_exec(
    kubelet: &crate::kubelet::Kubelet,
    running: RunningContainer,
    argv: Vec<String>,
    stdin: bool,
    tty: bool,
    tx: mpsc::UnboundedSender<Out>,
    input: mpsc::UnboundedReceiver<Input>,
) {
    let host = running.host;
    if stdin && console::is_interactive_shell(&argv) {
        let (con, con_input) = Console::new(tty);
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        forward_console(&con, tx, Some(done_rx));
        let feeder = con.input();
        tokio::spawn(async move {
            let mut input = input;
            while let Some(i) = input.recv().await {
                if feeder.send(i).is_err() {
                    return;
                }
            }
            let _ = feeder.send(Input::Close);
        });
        let argv0 = argv[0].clone();
        kubelet.spawn_process(async move {
            tokio::time::sleep(EXEC_START).await;
            let code = console::run_shell(&argv0, host, con, con_input, None).await;
            let _ = done_tx.send(exit_status(&argv, code));
        });
        return;
    }
    kubelet.spawn_process(async move {
        let mut input = input;
        tokio::time::sleep(EXEC_START).await;
        if let Err(e) = sim::check_entrypoint(&argv, &host.fs) {
            let msg = format!(
                "Internal error occurred: error executing command in container: failed to exec in container: failed to start exec: OCI runtime exec failed: exec failed: unable to start container process: {e}: unknown"
            );
            let status =
                json!({"metadata": {}, "status": "Failure", "message": msg, "reason": "InternalError", "code": 500});
            let _ = tx.send(Out::Done(status));
            return;
        }
        let sink = tx.clone();
        let mut out = Output::forwarding(move |s, text| {
            let ch = if s == Stream::Stderr && !tty { 2 } else { 1 };
            let text = if tty { text.replace('\n', "\r\n") } else { text.to_string() };
            let _ = sink.send(Out::Data(ch, Bytes::from(text)));
        });
        let stdin = if stdin { Some(read_stdin(&mut input).await) } else { None };
        let stdin = match stdin {
            Some(Err(msg)) => {
                let _ = tx.send(Out::Data(2, Bytes::from(msg)));
                let _ = tx.send(Out::Done(exit_status(&argv, 1)));
                return;
            }
            Some(Ok(text)) => Some(text),
            None => None,
        };
        let code = sim::run_argv_with_input(&argv, host.as_ref(), &mut out, stdin).await;
        let _ = tx.send(Out::Done(exit_status(&argv, code)));
        // Keep the channel open until the end.
        drop(input);
    });
}

/// The most a non-interactive command's standard input may hold (the simulated shells hold
/// text in memory).
const STDIN_LIMIT: usize = 8 << 20;

/// Standard input for a non-interactive `exec -i`: what the client sends until it closes stdin
/// (`kubectl cp`, `... | kubectl exec -i`). A client that sends nothing (a terminal left open)
/// is not waited for: after a short quiet moment the command runs with what came. The simulated
/// commands read their input whole, so it is gathered first.
async fn read_stdin(input: &mut mpsc::UnboundedReceiver<Input>) -> Result<String, String> {
    let mut bytes = Vec::new();
    loop {
        let quiet = if bytes.is_empty() { Duration::from_millis(200) } else { Duration::from_secs(2) };
        match tokio::time::timeout(quiet, input.recv()).await {
            Ok(Some(Input::Data(d))) => {
                bytes.extend_from_slice(&d);
                if bytes.len() > STDIN_LIMIT {
                    return Err(format!("standard input over {} MiB: not read\n", STDIN_LIMIT >> 20));
                }
            }
            Ok(Some(Input::Resize(..))) => {}
            Ok(Some(Input::Close) | None) | Err(_) => break,
        }
    }
    String::from_utf8(bytes)
        .map_err(|_| "standard input is not text, which the simulated commands cannot read\n".to_string())
}

/// A close frame with status 1000: clients treat a close without a status as an error.
fn normal_close() -> Message {
    use tokio_tungstenite::tungstenite::protocol::frame::{coding::CloseCode, CloseFrame};
    Message::Close(Some(CloseFrame { code: CloseCode::Normal, reason: "".into() }))
}

/// Shuttle frames between the WebSocket and the process until it ends or the client leaves.
async fn session<S>(
    ws: WebSocketStream<S>,
    mut out: mpsc::UnboundedReceiver<Out>,
    input: mpsc::UnboundedSender<Input>,
    _tty: bool,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let (mut sink, mut incoming) = ws.split();
    loop {
        tokio::select! {
            o = out.recv() => match o {
                Some(Out::Data(ch, bytes)) => {
                    let mut frame = Vec::with_capacity(bytes.len() + 1);
                    frame.push(ch);
                    frame.extend_from_slice(&bytes);
                    if sink.send(Message::Binary(frame.into())).await.is_err() {
                        return;
                    }
                }
                Some(Out::Done(status)) => {
                    let mut frame = vec![3u8];
                    frame.extend_from_slice(&serde_json::to_vec(&status).unwrap_or_default());
                    let _ = sink.send(Message::Binary(frame.into())).await;
                    let _ = sink.send(normal_close()).await;
                    return;
                }
                None => {
                    let _ = sink.send(normal_close()).await;
                    return;
                }
            },
            m = incoming.next() => match m {
                Some(Ok(Message::Binary(data))) => {
                    let Some((&ch, rest)) = data.split_first() else { continue };
                    let i = match ch {
                        0 => Input::Data(rest.to_vec()),
                        4 => {
                            let size: Value = serde_json::from_slice(rest).unwrap_or(Value::Null);
                            Input::Resize(size["Width"].as_u64().unwrap_or(80).min(u64::from(u16::MAX)) as u16)
                        }
                        255 if rest.first() == Some(&0) => Input::Close,
                        _ => continue,
                    };
                    let _ = input.send(i);
                }
                Some(Ok(Message::Close(_)) | Err(_)) | None => {
                    let _ = input.send(Input::Close);
                    return;
                }
                Some(Ok(_)) => {}
            }
        }
    }
}
