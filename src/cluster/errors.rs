//! Clear words for what the API or the connection answered: 403, 404, 409, 422, 5xx, timeouts
//! and refused connections each say what happened and what to do, instead of a debug dump.

use std::error::Error as _;

/// A one-line explanation of `err` for the learner.
pub fn explain(err: &kube::Error) -> String {
    match err {
        kube::Error::Api(s) => {
            let message = if s.message.is_empty() { s.reason.clone() } else { s.message.clone() };
            match s.code {
                401 => format!("the cluster did not accept your credentials ({message}): log in again or check the kubeconfig's user"),
                403 => format!("not allowed: {message} (`kubetutor doctor` lists what the lesson needs)"),
                404 => format!("not found: {message}"),
                409 if s.reason == "AlreadyExists" => format!("already exists: {message}"),
                409 => format!("conflict: {message} (it changed meanwhile; try again)"),
                410 => format!("expired: {message} (the watch starts over)"),
                422 => format!("invalid: {message}"),
                429 => format!("the API server is busy ({message}); it will be retried"),
                500..=599 => format!("the API server failed ({} {}): {message}; try again", s.code, s.reason),
                code => format!("the API server answered {code} {}: {message}", s.reason),
            }
        }
        other => {
            let chain = causes(other);
            let lower = chain.to_ascii_lowercase();
            if lower.contains("connection refused") {
                "cannot reach the API server: connection refused (is the cluster running?)".into()
            } else if lower.contains("timed out") || lower.contains("timeout") || lower.contains("elapsed") {
                "the API server did not answer in time (a slow or unreachable cluster); it will be retried".into()
            } else if lower.contains("certificate") || lower.contains("tls") {
                format!("the TLS connection to the API server failed: {chain} (check the kubeconfig's certificate-authority)")
            } else if lower.contains("dns error") || lower.contains("failed to lookup") {
                format!("cannot resolve the API server's host name: {chain}")
            } else {
                format!("cannot talk to the API server: {chain}")
            }
        }
    }
}

/// The error and its sources, innermost last, without repeats: `client error (Connect): tcp connect error: ...`.
fn causes(err: &kube::Error) -> String {
    let mut parts: Vec<String> = vec![err.to_string()];
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if parts.last() != Some(&text) && !parts.last().is_some_and(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: u16, reason: &str, message: &str) -> kube::Error {
        let status: kube::core::Status = serde_json::from_value(serde_json::json!({
            "status": "Failure", "code": code, "reason": reason, "message": message
        }))
        .unwrap();
        kube::Error::Api(Box::new(status))
    }

    #[test]
    fn api_answers_in_words() {
        let forbidden = api(403, "Forbidden", "pods is forbidden: User \"x\" cannot list resource \"pods\"");
        assert_eq!(
            explain(&forbidden),
            "not allowed: pods is forbidden: User \"x\" cannot list resource \"pods\" (`kubetutor doctor` lists what the lesson needs)"
        );
        assert_eq!(explain(&api(404, "NotFound", "pods \"web-7\" not found")), "not found: pods \"web-7\" not found");
        assert!(explain(&api(409, "Conflict", "Operation cannot be fulfilled"))
            .ends_with("(it changed meanwhile; try again)"));
        assert!(explain(&api(409, "AlreadyExists", "services \"nginx\" already exists")).starts_with("already exists"));
        assert_eq!(
            explain(&api(422, "Invalid", "Service \"nginx\" is invalid: spec.clusterIP: Invalid value")),
            "invalid: Service \"nginx\" is invalid: spec.clusterIP: Invalid value"
        );
        assert_eq!(
            explain(&api(503, "ServiceUnavailable", "etcd leader changed")),
            "the API server failed (503 ServiceUnavailable): etcd leader changed; try again"
        );
    }

    #[tokio::test]
    async fn a_refused_connection_says_so() {
        // A port nothing listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let config = kube::Config::new(format!("http://127.0.0.1:{port}").parse().unwrap());
        let client = kube::Client::try_from(config).unwrap();
        let err = client.apiserver_version().await.unwrap_err();
        assert_eq!(explain(&err), "cannot reach the API server: connection refused (is the cluster running?)");
    }
}
