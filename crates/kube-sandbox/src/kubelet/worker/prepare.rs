//! What a container needs before it starts: its image pulled (ErrImagePull, back-off, recovery
//! once the spec names a good image), its filesystem (the image's files, volume mounts, the
//! kubelet's /etc files) and its environment.

use std::time::Duration;

use serde_json::Value;

use super::{containers, field_path, image_id, Wake, Worker, MAX_BACKOFF};
use crate::catalogue;
use crate::consts::{CLUSTER_DOMAIN, DNS_SERVICE_IP, NODE_NAME};
use crate::kubelet::host::ContainerHost;
use crate::kubelet::status::State;
use crate::kubelet::WRITABLE_LAYER;
use crate::resources::kinds;
use crate::sim::{image as simimage, ContainerFs, Volume};
use crate::validation::names::quantity_bytes;

impl Worker {
    /// /etc/hosts, /etc/hostname and /etc/resolv.conf, as the kubelet writes them.
    pub(super) fn write_etc(&self, pod: &Value) {
        let hostname = pod.pointer("/spec/hostname").and_then(Value::as_str).unwrap_or(&self.name).to_string();
        let fqdn = pod
            .pointer("/spec/subdomain")
            .and_then(Value::as_str)
            .map(|sub| format!("{hostname}.{sub}.{}.svc.{CLUSTER_DOMAIN}", self.ns));
        let now = self.k.inner.clock.now();
        let _ = self.etc.put_file("hosts", &simimage::hosts_file(&self.state.pod_ip, &hostname, fqdn.as_deref()), now);
        let _ = self.etc.put_file("hostname", &format!("{hostname}\n"), now);
        let _ = self.etc.put_file("resolv.conf", &simimage::resolv_conf(&self.ns, DNS_SERVICE_IP, CLUSTER_DOMAIN), now);
    }

    /// Wait until `deadline`; `Changed` when the container's image in the spec is no longer
    /// `image` (a fixed image is tried at once), `Stop` when the pod goes away.
    async fn wait_unless_image_changes(
        &mut self,
        init: bool,
        i: usize,
        image: &str,
        deadline: tokio::time::Instant,
    ) -> Wake {
        loop {
            if tokio::time::Instant::now() >= deadline {
                return Wake::Elapsed;
            }
            match self.pause_until(deadline).await {
                Wake::Stop => return Wake::Stop,
                Wake::Elapsed => return Wake::Elapsed,
                Wake::Changed if self.spec_of(init, i).is_some_and(|s| s["image"] != image) => return Wake::Changed,
                Wake::Changed => {}
            }
        }
    }

    /// Pull a container's image, re-reading the spec on every try so a fixed image recovers.
    /// False when the pod is going away.
    pub(super) async fn pull(&mut self, init: bool, i: usize) -> bool {
        let mut backoff = Duration::from_secs(10);
        loop {
            let Some(spec) = self.spec_of(init, i) else { return false };
            let image = spec["image"].as_str().unwrap_or("").to_string();
            let cname = spec["name"].as_str().unwrap_or("").to_string();
            let fp = field_path(init, &cname);
            self.slot(init, i).image = image.clone();
            let policy = spec["imagePullPolicy"].as_str().unwrap_or("IfNotPresent").to_string();
            if policy != "Always" && self.k.is_present(&image) {
                if let Ok(img) = catalogue::lookup(&image) {
                    self.slot(init, i).image_id = image_id(&img.full);
                }
                self.event(
                    "Normal",
                    "Pulled",
                    &format!("Container image \"{image}\" already present on machine"),
                    Some(&fp),
                );
                return true;
            }
            self.event("Normal", "Pulling", &format!("Pulling image \"{image}\""), Some(&fp));
            match catalogue::lookup(&image) {
                Ok(img) => {
                    let secs = 0.4 + img.size as f64 / 30_000_000.0;
                    if !self.hold(Duration::from_secs_f64(secs)).await {
                        return false;
                    }
                    self.k.mark_pulled(&image);
                    self.slot(init, i).image_id = image_id(&img.full);
                    self.event("Normal", "Pulled", &format!(
                        "Successfully pulled image \"{image}\" in {secs:.3}s ({secs:.3}s including waiting). Image size: {} bytes.", img.size), Some(&fp));
                    return true;
                }
                Err(why) => {
                    if !self.hold(Duration::from_millis(800)).await {
                        return false;
                    }
                    self.event("Warning", "Failed", &format!("Failed to pull image \"{image}\": {why}"), Some(&fp));
                    self.event("Warning", "Failed", "Error: ErrImagePull", Some(&fp));
                    self.slot(init, i).state =
                        State::Waiting { reason: "ErrImagePull".into(), message: Some(why.clone()) };
                    self.write_status();
                    // The status write itself changes the pod: only a new image cuts the wait short,
                    // so each try makes one set of events, as upstream's.
                    let shown = tokio::time::Instant::now() + self.k.inner.clock.backoff(Duration::from_secs(2));
                    match self.wait_unless_image_changes(init, i, &image, shown).await {
                        Wake::Stop => return false,
                        Wake::Changed => continue,
                        Wake::Elapsed => {}
                    }
                    self.slot(init, i).state = State::Waiting {
                        reason: "ImagePullBackOff".into(),
                        message: Some(format!("Back-off pulling image \"{image}\": ErrImagePull: {why}")),
                    };
                    self.write_status();
                    self.event("Normal", "BackOff", &format!("Back-off pulling image \"{image}\""), Some(&fp));
                    self.event("Warning", "Failed", "Error: ImagePullBackOff", Some(&fp));
                    let deadline = tokio::time::Instant::now() + self.k.inner.clock.backoff(backoff);
                    if self.wait_unless_image_changes(init, i, &image, deadline).await == Wake::Stop {
                        return false;
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }

    /// A container's filesystem: the image's files, its volume mounts and the kubelet's /etc files.
    fn container_fs(&mut self, pod: &Value, spec: &Value) -> ContainerFs {
        let image = spec["image"].as_str().unwrap_or("");
        let clock = self.k.inner.clock;
        let root = Volume::limited(clock.now(), WRITABLE_LAYER, Some(self.k.disk(&self.ns)));
        let parsed = simimage::Image::shared(image);
        parsed.populate(&root, clock.now());
        let mut fs = ContainerFs::new(root, parsed).with_clock(move || clock.now());
        let volumes = containers(pod, "volumes");
        for m in spec["volumeMounts"].as_array().into_iter().flatten() {
            let vname = m["name"].as_str().unwrap_or("");
            let Some(v) = volumes.iter().find(|v| v["name"] == vname) else { continue };
            let vol = self.volume_for(v);
            let path = m["mountPath"].as_str().unwrap_or("");
            let sub = m["subPath"].as_str().unwrap_or("");
            let ro = m["readOnly"].as_bool().unwrap_or(false);
            let _ = fs.mount_sub_path(path, vol, sub, ro);
        }
        for f in ["hosts", "hostname", "resolv.conf"] {
            let _ = fs.mount_sub_path(&format!("/etc/{f}"), self.etc.clone(), f, false);
        }
        fs
    }

    fn volume_for(&mut self, v: &Value) -> Volume {
        let now = self.k.inner.clock.now();
        if let Some(claim) = v.pointer("/persistentVolumeClaim/claimName").and_then(Value::as_str) {
            let pvc = self.k.inner.store.get(kinds::pvcs(), &self.ns, claim);
            let pv = pvc.as_ref().and_then(|c| c.pointer("/spec/volumeName").and_then(Value::as_str));
            // The claim's size: what was provisioned, else what it asks for.
            let capacity = pvc
                .as_ref()
                .and_then(|c| {
                    c.pointer("/status/capacity/storage").or_else(|| c.pointer("/spec/resources/requests/storage"))
                })
                .and_then(Value::as_str)
                .and_then(quantity_bytes)
                .unwrap_or(u64::MAX);
            return match pv {
                Some(pv) => self.k.volume(pv, &self.ns, capacity),
                None => Volume::limited(now, WRITABLE_LAYER, Some(self.k.disk(&self.ns))),
            };
        }
        if let Some(cm) = v.pointer("/configMap/name").and_then(Value::as_str) {
            let vol = Volume::at(now);
            if let Some(c) = self.k.inner.store.get(kinds::configmaps(), &self.ns, cm) {
                for (key, val) in c["data"].as_object().into_iter().flatten() {
                    let _ = vol.put_file(key, val.as_str().unwrap_or(""), now);
                }
            }
            return vol;
        }
        if let Some(sources) = v.pointer("/projected/sources").and_then(Value::as_array) {
            // One per pod, as the kubelet mounts one: every container shares it.
            let name = v["name"].as_str().unwrap_or("").to_string();
            if let Some(vol) = self.empty_dirs.get(&name) {
                return vol.clone();
            }
            let vol = self.projected(sources);
            self.empty_dirs.insert(name, vol.clone());
            return vol;
        }
        let name = v["name"].as_str().unwrap_or("").to_string();
        let limit =
            v.pointer("/emptyDir/sizeLimit").and_then(Value::as_str).and_then(quantity_bytes).unwrap_or(u64::MAX);
        let disk = self.k.disk(&self.ns);
        self.empty_dirs.entry(name).or_insert_with(|| Volume::limited(now, limit, Some(disk))).clone()
    }

    /// A projected volume (the ServiceAccount token volume): a service account token, ConfigMap
    /// keys and downward API fields as files. The token is shaped like the kubelet's (a JWT
    /// naming the pod's ServiceAccount) but signed by nobody: the simulated API server does not
    /// take it.
    fn projected(&self, sources: &[Value]) -> Volume {
        use base64::Engine as _;
        let now = self.k.inner.clock.now();
        let vol = Volume::at(now);
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let pod = self.current();
        let sa = pod
            .as_ref()
            .and_then(|p| p.pointer("/spec/serviceAccountName").and_then(Value::as_str).map(str::to_string));
        for source in sources {
            if let Some(t) = source.get("serviceAccountToken") {
                let path = t["path"].as_str().unwrap_or("token");
                let expires = now.as_second() + t["expirationSeconds"].as_i64().unwrap_or(3607);
                let header = b64.encode(r#"{"alg":"RS256","kid":"kubetutor-sandbox"}"#);
                let claims = serde_json::json!({"aud": ["https://kubernetes.default.svc.cluster.local"],
                    "exp": expires, "iat": now.as_second(), "iss": "https://kubernetes.default.svc.cluster.local",
                    "sub": format!("system:serviceaccount:{}:{}", self.ns, sa.as_deref().unwrap_or("default"))});
                let signature: [u8; 32] = rand::random();
                let token = format!("{header}.{}.{}", b64.encode(claims.to_string()), b64.encode(signature));
                let _ = vol.put_file(path, &token, now);
            }
            if let Some(cm) = source.get("configMap") {
                let data = cm["name"].as_str().and_then(|n| self.k.inner.store.get(kinds::configmaps(), &self.ns, n));
                for item in cm["items"].as_array().into_iter().flatten() {
                    let value = data
                        .as_ref()
                        .and_then(|d| d["data"][item["key"].as_str().unwrap_or("")].as_str().map(str::to_string));
                    if let (Some(value), Some(path)) = (value, item["path"].as_str()) {
                        let _ = vol.put_file(path, &value, now);
                    }
                }
            }
            for item in source.pointer("/downwardAPI/items").and_then(Value::as_array).into_iter().flatten() {
                let value = match item.pointer("/fieldRef/fieldPath").and_then(Value::as_str) {
                    Some("metadata.namespace") => self.ns.clone(),
                    Some("metadata.name") => self.name.clone(),
                    Some("metadata.uid") => self.uid.clone(),
                    _ => continue,
                };
                if let Some(path) = item["path"].as_str() {
                    let _ = vol.put_file(path, &value, now);
                }
            }
        }
        vol
    }

    fn env_for(&self, pod: &Value, spec: &Value) -> Vec<(String, String)> {
        let hostname = pod.pointer("/spec/hostname").and_then(Value::as_str).unwrap_or(&self.name).to_string();
        let path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        let mut env = vec![
            ("PATH".to_string(), path.to_string()),
            ("HOSTNAME".to_string(), hostname),
            ("HOME".to_string(), "/root".to_string()),
            ("KUBERNETES_SERVICE_HOST".to_string(), "10.96.0.1".to_string()),
            ("KUBERNETES_SERVICE_PORT".to_string(), "443".to_string()),
            ("KUBERNETES_PORT".to_string(), "tcp://10.96.0.1:443".to_string()),
        ];
        for e in spec["env"].as_array().into_iter().flatten() {
            let name = e["name"].as_str().unwrap_or("").to_string();
            let value = match e.pointer("/valueFrom/fieldRef/fieldPath").and_then(Value::as_str) {
                Some("metadata.name") => self.name.clone(),
                Some("metadata.namespace") => self.ns.clone(),
                Some("status.podIP") => self.state.pod_ip.clone(),
                Some("spec.nodeName") => NODE_NAME.to_string(),
                Some(_) => String::new(),
                None => e["value"].as_str().unwrap_or("").to_string(),
            };
            env.push((name, value));
        }
        env
    }

    pub(super) fn host_for(&mut self, pod: &Value, spec: &Value) -> ContainerHost {
        let fs = self.container_fs(pod, spec);
        let env = self.env_for(pod, spec);
        ContainerHost {
            kubelet: self.k.clone(),
            namespace: self.ns.clone(),
            hostname: pod.pointer("/spec/hostname").and_then(Value::as_str).unwrap_or(&self.name).to_string(),
            pod_ip: self.state.pod_ip.clone(),
            fs,
            env,
        }
    }
}
