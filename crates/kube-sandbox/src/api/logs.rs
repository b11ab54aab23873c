//! GET pods/<name>/log: a container's log as plain text, following it with `follow=true`.

use std::convert::Infallible;

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::StatusCode;
use serde_json::Value;
use tokio_stream::wrappers::ReceiverStream;

use super::request::{Query, Target};
use super::ApiState;
use crate::error::{ApiError, ApiResult};
use crate::logs::{LogEvent, LogLine};
use crate::store::name_of;

fn names(pod: &Value, list: &str) -> Vec<String> {
    pod.pointer(&format!("/spec/{list}"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|c| c["name"].as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// The container a log request means, with upstream's messages when it is ambiguous or wrong.
fn pick_container(pod: &Value, asked: Option<&str>) -> ApiResult<String> {
    let pod_name = name_of(pod);
    let containers = names(pod, "containers");
    let inits = names(pod, "initContainers");
    match asked {
        Some(c) if containers.iter().chain(&inits).any(|n| n == c) => Ok(c.to_string()),
        Some(c) => Err(ApiError::bad_request(format!("container {c} is not valid for pod {pod_name}"))),
        None if containers.len() == 1 => Ok(containers[0].clone()),
        None => {
            let mut msg = format!(
                "a container name must be specified for pod {pod_name}, choose one of: [{}]",
                containers.join(" ")
            );
            if !inits.is_empty() {
                msg.push_str(&format!(" or one of the init containers: [{}]", inits.join(" ")));
            }
            Err(ApiError::bad_request(msg))
        }
    }
}

fn waiting_reason(pod: &Value, container: &str) -> String {
    for list in ["initContainerStatuses", "containerStatuses"] {
        if let Some(statuses) = pod.pointer(&format!("/status/{list}")).and_then(Value::as_array) {
            for s in statuses.iter().filter(|s| s["name"] == container) {
                if let Some(r) = s.pointer("/state/waiting/reason").and_then(Value::as_str) {
                    return r.to_string();
                }
            }
        }
    }
    "ContainerCreating".into()
}

fn render(lines: &[LogLine], timestamps: bool) -> String {
    let mut out = String::new();
    for l in lines {
        if timestamps {
            out.push_str(&l.time);
            out.push(' ');
        }
        out.push_str(&l.text);
        out.push('\n');
    }
    out
}

pub(super) async fn logs(st: &ApiState, t: &Target, q: &Query) -> ApiResult<Response> {
    let ns = t.namespace.as_deref().unwrap_or("");
    let name = t.name.as_deref().unwrap_or("");
    let pod = st.store.get(t.rt, ns, name).ok_or_else(|| ApiError::not_found("", "pods", name))?;
    let container = pick_container(&pod, q.get("container"))?;
    let previous = q.flag("previous");
    let timestamps = q.flag("timestamps");
    let follow = q.flag("follow") && !previous;
    // Subscribe before reading so no line falls between the two.
    let rx = follow.then(|| st.logs.follow(ns, name, &container));
    let Some((mut lines, ended)) = st.logs.read(ns, name, &container, previous) else {
        return Err(ApiError::bad_request(if previous {
            format!("previous terminated container \"{container}\" in pod \"{name}\" not found")
        } else {
            format!(
                "container \"{container}\" in pod \"{name}\" is waiting to start: {}",
                waiting_reason(&pod, &container)
            )
        }));
    };
    if let Some(n) = q.int("tailLines")? {
        let n = n.max(0) as usize;
        if lines.len() > n {
            lines.drain(..lines.len() - n);
        }
    }
    let text = render(&lines, timestamps);
    let builder = Response::builder().status(StatusCode::OK).header(http::header::CONTENT_TYPE, "text/plain");
    match rx {
        Some(mut rx) if !ended => {
            let (tx, body_rx) = tokio::sync::mpsc::channel::<Result<Bytes, Infallible>>(64);
            tokio::spawn(async move {
                if tx.send(Ok(Bytes::from(text))).await.is_err() {
                    return;
                }
                while let Ok(ev) = rx.recv().await {
                    match ev {
                        LogEvent::Line(l) => {
                            if tx.send(Ok(Bytes::from(render(&[l], timestamps)))).await.is_err() {
                                return;
                            }
                        }
                        LogEvent::Ended => return,
                    }
                }
            });
            Ok(builder.body(Body::from_stream(ReceiverStream::new(body_rx))).expect("static response parts"))
        }
        _ => Ok(builder.body(Body::from(text)).expect("static response parts")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn container_choice_messages() {
        let pod = json!({"metadata": {"name": "web-0"}, "spec": {"containers": [{"name": "nginx"}, {"name": "side"}],
                         "initContainers": [{"name": "setup"}]}});
        assert_eq!(pick_container(&pod, Some("setup")).unwrap(), "setup");
        assert_eq!(
            pick_container(&pod, None).unwrap_err().message,
            "a container name must be specified for pod web-0, choose one of: [nginx side] or one of the init containers: [setup]"
        );
        assert_eq!(pick_container(&pod, Some("x")).unwrap_err().message, "container x is not valid for pod web-0");
        let one = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]}});
        assert_eq!(pick_container(&one, None).unwrap(), "c");
    }
}
