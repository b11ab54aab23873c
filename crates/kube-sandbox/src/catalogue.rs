//! The image catalogue (assets/images.yaml): which image references "exist" for the simulated
//! kubelet, what they run, and the registry's answer for the ones that do not.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

/// What a simulated container of this image runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ImageKind {
    Nginx,
    Shell,
}

#[derive(Debug, Deserialize)]
struct Tag {
    version: String,
    size: u64,
}

#[derive(Debug, Deserialize)]
struct Repo {
    kind: ImageKind,
    tags: BTreeMap<String, Tag>,
}

#[derive(Debug, Deserialize)]
struct Catalogue {
    repositories: BTreeMap<String, Repo>,
}

/// A pullable image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Image {
    /// `docker.io/library/nginx:1.13.12`
    pub full: String,
    pub kind: ImageKind,
    /// The software version inside (nginx's version string, alpine's release).
    pub version: String,
    pub size: u64,
}

fn catalogue() -> &'static Catalogue {
    static CAT: OnceLock<Catalogue> = OnceLock::new();
    CAT.get_or_init(|| {
        serde_yaml::from_str(include_str!("../../../assets/images.yaml")).expect("assets/images.yaml is valid (tested)")
    })
}

/// `nginx` -> (`docker.io/library/nginx`, `latest`), as container runtimes normalise names.
pub(crate) fn normalise(reference: &str) -> (String, String) {
    let (name, tag) = match reference.rsplit_once(':') {
        Some((n, t)) if !t.contains('/') => (n, t),
        _ => (reference, "latest"),
    };
    let name = match name.split_once('/') {
        None => format!("docker.io/library/{name}"),
        Some((first, _)) if !first.contains('.') && !first.contains(':') && first != "localhost" => {
            format!("docker.io/{name}")
        }
        Some(_) => name.to_string(),
    };
    (name, tag.to_string())
}

/// Look an image up; `Err` carries the message a real containerd gives for a missing image.
pub(crate) fn lookup(reference: &str) -> Result<Image, String> {
    let (name, tag) = normalise(reference);
    let full = format!("{name}:{tag}");
    let not_found = || {
        format!(
            "rpc error: code = NotFound desc = failed to pull and unpack image \"{full}\": failed to resolve reference \"{full}\": {full}: not found"
        )
    };
    let repo = catalogue().repositories.get(&name).ok_or_else(|| {
        format!(
            "rpc error: code = Unknown desc = failed to pull and unpack image \"{full}\": failed to resolve reference \"{full}\": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed"
        )
    })?;
    let t = repo.tags.get(&tag).ok_or_else(not_found)?;
    Ok(Image { full, kind: repo.kind, version: t.version.clone(), size: t.size })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown_images() {
        let n = lookup("nginx:1.13.12").unwrap();
        assert_eq!((n.kind, n.version.as_str()), (ImageKind::Nginx, "1.13.12"));
        assert_eq!(lookup("nginx").unwrap().full, "docker.io/library/nginx:latest");
        assert_eq!(lookup("alpine:3.8").unwrap().kind, ImageKind::Shell);
        assert_eq!(lookup("docker.io/library/busybox:1.28").unwrap().kind, ImageKind::Shell);
        let e = lookup("nginx:1.13.99").unwrap_err();
        assert!(e.contains("docker.io/library/nginx:1.13.99: not found"), "{e}");
        let e = lookup("ngnix:mainline").unwrap_err();
        assert!(e.contains("pull access denied"), "{e}");
        // The StatefulSet Basics tutorial's images, today's and older pages'.
        for image in ["registry.k8s.io/nginx-slim:0.21", "registry.k8s.io/nginx-slim:0.24", "k8s.gcr.io/nginx-slim:0.8"]
        {
            assert_eq!(lookup(image).unwrap().kind, ImageKind::Nginx, "{image}");
        }
        assert_eq!(lookup("gcr.io/google_containers/nginx-slim:0.8").unwrap().version, "1.11.5");
        let e = lookup("registry.k8s.io/nginx-slim:0.99").unwrap_err();
        assert!(e.contains("registry.k8s.io/nginx-slim:0.99: not found"), "{e}");
    }

    #[test]
    fn normalisation() {
        assert_eq!(normalise("nginx"), ("docker.io/library/nginx".into(), "latest".into()));
        assert_eq!(normalise("bitnami/nginx:1"), ("docker.io/bitnami/nginx".into(), "1".into()));
        assert_eq!(normalise("localhost:5000/x"), ("localhost:5000/x".into(), "latest".into()));
    }
}
