//! The grader: runs a step's checks over a snapshot and the history, starting a probe pod only
//! for checks that need DNS or HTTP answers and re-using its answers while the pods stay the
//! same (so the UI's debounced re-grading does not start a pod each time). It also keeps what
//! a step needs beyond the cluster: the baseline taken when a step began, and checks already
//! proven (a canary is over once the rollout continues), which it restores from and saves
//! into the progress file.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kube::ResourceExt;

use super::{CheckReport, Outcome, StepReport};
use crate::checks::probe::{fqdn, script};
use crate::checks::{self, Baseline, Check, Inputs, ProbeAnswers};
use crate::cluster::snapshot::is_ready;
use crate::cluster::{probe, Cluster, History, Snapshot};
use crate::lesson::blanks::blank_for_field;
use crate::lesson::progress::Progress;
use crate::lesson::Lesson;

/// How long a probe pod may take (image pull and start included).
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(90);
/// When some probe check did not pass, ask again after this long even if the pods and the
/// Service are the same (DNS on a real cluster can take a moment to follow a new pod IP). Not
/// sooner: each probe pod is itself a change that triggers a re-grade.
const PROBE_RETRY: Duration = Duration::from_secs(10);

struct ProbeCache {
    key: String,
    answers: ProbeAnswers,
    at: Instant,
    all_passed: bool,
}

pub struct Grader {
    cluster: Cluster,
    lesson: Arc<Lesson>,
    /// Each step's checks, parsed (the loader has validated them).
    checks: Vec<Vec<Result<Check, String>>>,
    probe_cache: Option<ProbeCache>,
    probe_runs: usize,
    baselines: BTreeMap<usize, Baseline>,
    proven: BTreeSet<(usize, String)>,
}

impl Grader {
    /// Take what the progress remembers (baselines, proven checks). A step is done only when
    /// every check of it passed, so each check of a done step that proves something over by now
    /// (an order, a restart, a rollout) counts as proven, also in a progress file written before
    /// such checks were recorded one by one.
    pub fn restore(&mut self, lesson: &Lesson, progress: &Progress) {
        for (i, step) in lesson.steps.iter().enumerate() {
            if let Some(b) = progress.baselines.get(&step.id) {
                self.set_baseline(i, b.clone());
            }
            for check in progress.proven.get(&step.id).into_iter().flatten() {
                self.set_proven(i, check);
            }
            if progress.done.contains(&step.id) {
                for spec in &step.checks {
                    if Check::parse(spec).is_ok_and(|c| c.latches()) {
                        self.set_proven(i, &spec.name);
                    }
                }
            }
        }
    }

    /// Write what this grader proved (proven checks, baselines) into the progress.
    pub fn save_into(&self, lesson: &Lesson, progress: &mut Progress) {
        for (i, check) in self.proven() {
            progress.set_proven(lesson, *i, check);
        }
        for i in 0..lesson.steps.len() {
            if let Some(b) = self.baseline(i) {
                progress.set_baseline(lesson, i, b.clone());
            }
        }
    }

    pub fn new(cluster: Cluster, lesson: Arc<Lesson>) -> Grader {
        let checks = lesson.steps.iter().map(|s| s.checks.iter().map(Check::parse).collect()).collect();
        Grader {
            cluster,
            lesson,
            checks,
            probe_cache: None,
            probe_runs: 0,
            baselines: BTreeMap::new(),
            proven: BTreeSet::new(),
        }
    }

    pub fn cluster(&self) -> &Cluster {
        &self.cluster
    }

    pub fn lesson(&self) -> &Arc<Lesson> {
        &self.lesson
    }

    /// How many probe pods this grader has started (for tests and the status bar).
    pub fn probe_runs(&self) -> usize {
        self.probe_runs
    }

    /// Call when step `index` becomes the learner's current step: for a step that judges
    /// identity against the pods from before, it records them (once) and returns the baseline,
    /// for the caller to keep in the progress file.
    pub fn begin_step(&mut self, index: usize, snapshot: &Snapshot) -> Option<Baseline> {
        if self.baselines.contains_key(&index) {
            return None;
        }
        let sts = self.checks.get(index)?.iter().find_map(|c| match c {
            Ok(Check::StableIdentity(p)) => Some(p.statefulset.clone()),
            _ => None,
        })?;
        let baseline = Baseline::capture(snapshot, &sts);
        self.baselines.insert(index, baseline.clone());
        Some(baseline)
    }

    /// A baseline kept from an earlier session (the progress file).
    pub fn set_baseline(&mut self, index: usize, baseline: Baseline) {
        self.baselines.insert(index, baseline);
    }

    pub fn baseline(&self, index: usize) -> Option<&Baseline> {
        self.baselines.get(&index)
    }

    pub fn forget_baseline(&mut self, index: usize) {
        self.baselines.remove(&index);
    }

    /// Checks proven earlier, as (step index, check name).
    pub fn proven(&self) -> &BTreeSet<(usize, String)> {
        &self.proven
    }

    pub fn set_proven(&mut self, index: usize, check: &str) {
        self.proven.insert((index, check.to_string()));
    }

    /// Forget what steps `from..` proved (reset a step).
    pub fn forget_from(&mut self, from: usize) {
        self.proven.retain(|(i, _)| *i < from);
        self.baselines.retain(|i, _| *i < from);
    }

    /// Fetch a snapshot and grade step `index`.
    pub async fn grade_now(&mut self, index: usize, history: &History) -> Result<StepReport, kube::Error> {
        let snapshot = Snapshot::fetch(&self.cluster.client, &self.cluster.namespace).await?;
        Ok(self.grade_step(index, &snapshot, history).await)
    }

    /// Grade step `index` (out of range: an empty report).
    pub async fn grade_step(&mut self, index: usize, snapshot: &Snapshot, history: &History) -> StepReport {
        let lesson = self.lesson.clone();
        let Some(step) = lesson.step(index) else {
            return StepReport { index, id: String::new(), title: String::new(), checks: Vec::new() };
        };
        let parsed = self.checks[index].clone();
        let probes = self.probes_for(&parsed, snapshot).await;
        let baseline = self.baselines.get(&index).cloned();
        let inputs = Inputs { snapshot, history, probes: &probes, baseline: baseline.as_ref() };
        let mut reports = Vec::new();
        let mut probe_checks_passed = true;
        for (spec, check) in step.checks.iter().zip(&parsed) {
            let key = (index, spec.name.clone());
            let proven = check.is_ok() && self.proven.contains(&key);
            let mut outcome = match check {
                Err(e) => Outcome::not_yet(format!("this check is broken in the lesson file: {e}")),
                Ok(_) if proven => Outcome::Pass,
                Ok(c) => checks::run(c, inputs),
            };
            if let Ok(c) = check {
                if c.needs_probe() && !outcome.is_pass() {
                    probe_checks_passed = false;
                }
                if c.latches() && outcome.is_pass() {
                    self.proven.insert(key);
                }
            }
            if let (Outcome::NotYet { concern, .. }, Some(starter)) = (&mut outcome, &step.starter) {
                if concern.blank.is_none() {
                    if let Some(field) = &concern.field {
                        concern.blank = blank_for_field(starter, concern.object.as_deref(), field);
                    }
                }
            }
            reports.push(CheckReport { name: spec.name.clone(), outcome, proven });
        }
        if let Some(cache) = &mut self.probe_cache {
            cache.all_passed = probe_checks_passed;
        }
        StepReport { index, id: step.id.clone(), title: step.title.clone(), checks: reports }
    }

    /// The probe answers the step's checks need: none when no check needs them or the pods are
    /// not all Ready yet (the checks then wait), cached while the pods are the same.
    async fn probes_for(&mut self, checks: &[Result<Check, String>], snapshot: &Snapshot) -> ProbeAnswers {
        let mut hosts: Vec<(String, String)> = Vec::new();
        let mut key = String::new();
        for check in checks.iter().flatten() {
            let (Check::Dns(p) | Check::HttpIndex(p)) = check else { continue };
            let service = checks::probe::service_of(snapshot, &p.statefulset);
            // No Service to look the pods up under: the checks say so without a probe.
            let Some(svc) = snapshot.services.get(service) else { return ProbeAnswers::default() };
            // A changed Service (a fixed selector) changes the answers too.
            let (uid, rv) = (svc.uid().unwrap_or_default(), svc.resource_version().unwrap_or_default());
            key.push_str(&format!("svc {service}={uid}@{rv};"));
            for n in 0..p.replicas {
                let name = format!("{}-{n}", p.statefulset);
                let Some(pod) = snapshot.pods.get(&name).filter(|pod| is_ready(pod)) else {
                    return ProbeAnswers::default();
                };
                let name_fqdn = fqdn(&name, service, &self.cluster.namespace);
                if hosts.iter().any(|(_, f)| *f == name_fqdn) {
                    continue;
                }
                let ip = pod.status.as_ref().and_then(|s| s.pod_ip.clone()).unwrap_or_default();
                key.push_str(&format!("{name_fqdn}={}@{ip};", pod.uid().unwrap_or_default()));
                hosts.push((name, name_fqdn));
            }
        }
        if hosts.is_empty() {
            return ProbeAnswers::default();
        }
        if let Some(cache) = &self.probe_cache {
            if cache.key == key && (cache.all_passed || cache.at.elapsed() < PROBE_RETRY) {
                return cache.answers.clone();
            }
        }
        self.probe_runs += 1;
        let answers = match probe::run(&self.cluster, probe::PROBE_IMAGE, &script(&hosts), PROBE_TIMEOUT).await {
            Ok(out) => ProbeAnswers::parse(&out.log),
            Err(e) => ProbeAnswers { hosts: BTreeMap::new(), failure: Some(e.to_string()) },
        };
        self.probe_cache = Some(ProbeCache { key, answers: answers.clone(), at: Instant::now(), all_passed: false });
        answers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The app spawns grading as a task: the grader and its future must be Send.
    #[allow(dead_code)]
    fn grading_can_be_spawned(mut grader: Grader, snapshot: Snapshot, history: History) {
        fn spawnable<T: Send + 'static>(_: T) {}
        spawnable(async move { grader.grade_step(0, &snapshot, &history).await });
    }

    #[test]
    fn the_checks_of_what_is_over_latch() {
        let lesson = crate::lesson::load::find_in("statefulset", None).unwrap();
        let latching: Vec<&str> = lesson
            .steps
            .iter()
            .flat_map(|s| s.checks.iter())
            .filter(|c| Check::parse(c).unwrap().latches())
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(
            latching,
            [
                "web-1 was created only after web-0 was Ready",
                "web-0 and web-1 came back under the same names",
                "index.html kept what the first pods wrote",
                "canary on web-2 only",
                "update rolled out from web-2 down to web-0"
            ]
        );
    }
}
