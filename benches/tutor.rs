//! The tutor screen benchmark (`cargo bench --bench tutor`): frame render time at 200x60 on a
//! TestBackend, pod change → screen latency through the real watch and app loop, launch to the
//! first interactive frame on the embedded sandbox, and the RSS of tutor + sandbox. Prints a
//! Markdown table for README.

use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, PostParams};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use serde_json::json;

use kube_sandbox::SandboxConfig;
use kubetutor::app::effects::Services;
use kubetutor::app::run::{self, Runtime};
use kubetutor::app::{App, ClusterInfo, Event};
use kubetutor::cluster::watch::Connection;
use kubetutor::lesson::progress::Progress;
use kubetutor::ui::theme::Theme;

fn text_of(terminal: &Terminal<TestBackend>) -> String {
    let buf = terminal.backend().buffer();
    let mut s = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            s.push_str(buf[(x, y)].symbol());
        }
        s.push('\n');
    }
    s
}

fn percentile(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

/// Pump events into the app until `done`, drawing after each change like the run loop does.
async fn pump(
    app: &mut App,
    runtime: &Runtime,
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<Event>,
    terminal: &mut Terminal<TestBackend>,
    done: impl Fn(&App, &str) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let screen = text_of(terminal);
        if done(app, &screen) {
            return;
        }
        assert!(Instant::now() < deadline, "benchmark timed out; screen:\n{screen}");
        let Ok(Some(e)) = tokio::time::timeout(Duration::from_secs(60), rx.recv()).await else { panic!("no events") };
        app.now = jiff::Timestamp::now();
        run::step(app, runtime, e);
        // As the run loop does: a burst of events, one frame.
        while let Ok(e) = rx.try_recv() {
            run::step(app, runtime, e);
        }
        if app.dirty {
            terminal.draw(|f| kubetutor::ui::draw(f, app)).unwrap();
            app.dirty = false;
        }
    }
}

fn main() {
    let state = tempfile::tempdir().expect("tempdir");
    std::env::set_var("KUBETUTOR_STATE_DIR", state.path());
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async move {
        // Launch: sandbox up, lesson loaded, app built, first frame drawn (keys are read from here on).
        let t0 = Instant::now();
        let lesson = Arc::new(kubetutor::lesson::load::find("statefulset").unwrap());
        let config = SandboxConfig { speed: f64::INFINITY, ..Default::default() };
        let (cluster, _sandbox) =
            kubetutor::cluster::start_sandbox(config, state.path().join("sandbox.kubeconfig"), "default")
                .await
                .unwrap();
        let info = ClusterInfo {
            describe: cluster.describe(),
            namespace: cluster.namespace.clone(),
            kubectl_hint: cluster.kubectl_hint(),
            sandbox: true,
        };
        let mut app = App::new(lesson.clone(), 0, Default::default(), info, Theme::dark(), state.path().to_path_buf());
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let _watch = kubetutor::app::start::spawn_watch(&cluster, tx.clone());
        let progress = Progress { lesson: lesson.slug.clone(), ..Default::default() };
        let runtime = Runtime::new(tx.clone(), Services::new(cluster.clone(), lesson.clone(), progress, None, tx));
        let mut terminal = Terminal::new(TestBackend::new(200, 60)).unwrap();
        terminal.draw(|f| kubetutor::ui::draw(f, &app)).unwrap();
        let first_frame = t0.elapsed();
        pump(&mut app, &runtime, &mut rx, &mut terminal, |a, _| a.connection == Connection::Connected).await;
        let connected = t0.elapsed();

        // The lesson's objects: the reference solutions of steps 0 and 1, pods Ready.
        for i in 0..2 {
            let yaml = kubetutor::lesson::load::solution_for(&lesson, i);
            kubetutor::cluster::apply::apply_manifests(&cluster, &yaml, Default::default()).await.unwrap();
        }
        pump(&mut app, &runtime, &mut rx, &mut terminal, |a, _| {
            a.snapshot.pods.values().filter(|p| kubetutor::cluster::snapshot::is_ready(p)).count() >= 2
                && a.history.entries.len() >= 4
        })
        .await;

        // Frame render time at 200x60 with pods, PVCs, timeline and the lesson text.
        let mut frames = Vec::new();
        for _ in 0..300 {
            let t = Instant::now();
            terminal.draw(|f| kubetutor::ui::draw(f, &app)).unwrap();
            frames.push(t.elapsed());
        }
        let frame_p50 = percentile(&mut frames, 0.5);
        let frame_p99 = percentile(&mut frames, 0.99);

        // Pod change → screen: a pod created through the API, until its row is drawn.
        let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), "default");
        let mut latencies = Vec::new();
        for n in 0..20 {
            let name = format!("bench-{n}");
            let pod: Pod = serde_json::from_value(json!({
                "metadata": {"name": name},
                "spec": {"containers": [{"name": "c", "image": "nginx:mainline"}]}
            }))
            .unwrap();
            pods.create(&PostParams::default(), &pod).await.unwrap();
            let t = Instant::now();
            let row = format!("{name} ");
            pump(&mut app, &runtime, &mut rx, &mut terminal, |_, s| s.contains(&row)).await;
            latencies.push(t.elapsed());
            pods.delete(&name, &Default::default()).await.unwrap();
            pump(&mut app, &runtime, &mut rx, &mut terminal, |a, _| !a.snapshot.pods.contains_key(&name)).await;
        }
        let lat_p50 = percentile(&mut latencies, 0.5);
        let lat_max = percentile(&mut latencies, 1.0);
        let rss = rss_mb();

        println!("| tutor measure | figure | target |");
        println!("|---|---|---|");
        println!("| frame render 200x60 (p50 / p99) | {:.2} ms / {:.2} ms | < 2 ms |", ms(frame_p50), ms(frame_p99));
        println!("| pod change → screen (p50 / max of 20) | {:.1} ms / {:.1} ms | < 50 ms |", ms(lat_p50), ms(lat_max));
        println!("| launch → first interactive frame | {:.1} ms | < 200 ms |", ms(first_frame));
        println!("| launch → watch connected | {:.1} ms | |", ms(connected));
        println!("| RSS, tutor + sandbox (lesson running) | {rss:.1} MB | < 40 MB |");
    });
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
