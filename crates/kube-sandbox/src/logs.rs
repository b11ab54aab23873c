//! Container logs of simulated pods: the kubelet appends lines, `kubectl logs` (with
//! `--previous`, `-f`, `--tail`, `--timestamps`) reads them. Kept per pod name and container,
//! so a re-created pod starts a fresh log and a restarted container keeps its previous one.
//! Each container instance keeps at most [`MAX_CONTAINER_LOG`]: past it the oldest lines go,
//! as the kubelet rotates a container's log file at 10 MiB.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;

/// One line a container wrote, with when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LogLine {
    /// RFC 3339 with nanoseconds, as `--timestamps` prints.
    pub time: String,
    pub text: String,
}

/// One container instance's lines, compactly (thousands of pods keep their logs as long as
/// they live): the texts back to back, where each ends, and the time of each run of lines
/// written at one instant.
#[derive(Debug, Default)]
struct Buf {
    text: String,
    ends: Vec<u32>,
    /// (index of the first line, time) for each run of lines with the same time.
    times: Vec<(u32, Box<str>)>,
}

/// What one container instance's log may hold, counted as [`Buf::cost`] does.
pub const MAX_CONTAINER_LOG: usize = 10 * 1024 * 1024;

/// What a line costs besides its text: where it ends, and its share of times and reading.
/// About what a line's timestamp and stream tag take in the kubelet's log files.
const LINE_OVERHEAD: usize = 40;

/// The longest line kept whole; the kubelet splits longer ones at 16 KiB as well.
const MAX_LINE: usize = 16 * 1024;

impl Buf {
    fn push(&mut self, time: &str, line: &str, cap: usize) {
        let mut rest = line;
        loop {
            let mut cut = rest.len().min(MAX_LINE);
            while !rest.is_char_boundary(cut) {
                cut -= 1;
            }
            self.push_one(time, &rest[..cut]);
            rest = &rest[cut..];
            if rest.is_empty() {
                break;
            }
        }
        if self.cost() > cap {
            // Down to three quarters, so that dropping is rare and costs little per line.
            self.drop_oldest(cap / 4 * 3);
        }
    }

    fn push_one(&mut self, time: &str, line: &str) {
        if self.times.last().is_none_or(|(_, t)| &**t != time) {
            self.times.push((self.ends.len() as u32, time.into()));
        }
        self.text.push_str(line);
        self.ends.push(self.text.len() as u32);
    }

    /// Bytes this log stands for: its text and a fixed overhead per line.
    fn cost(&self) -> usize {
        self.text.len() + self.ends.len() * LINE_OVERHEAD
    }

    /// Drop the oldest lines until the log costs at most `target`.
    fn drop_oldest(&mut self, target: usize) {
        let (mut cost, mut k, mut start) = (self.cost(), 0, 0);
        while cost > target && k < self.ends.len() {
            let end = self.ends[k] as usize;
            cost -= end - start + LINE_OVERHEAD;
            start = end;
            k += 1;
        }
        self.text.drain(..start);
        self.ends.drain(..k);
        for e in &mut self.ends {
            *e -= start as u32;
        }
        // The run holding the first kept line becomes the first run.
        let first_run = self.times.iter().rposition(|(first, _)| *first as usize <= k).unwrap_or(0);
        self.times.drain(..first_run);
        for (first, _) in &mut self.times {
            *first = first.saturating_sub(k as u32);
        }
        if self.ends.is_empty() {
            self.times.clear();
        }
        self.text.shrink_to(self.text.len() * 2);
    }

    fn lines(&self) -> Vec<LogLine> {
        let mut out = Vec::with_capacity(self.ends.len());
        let (mut start, mut run) = (0, 0);
        for (i, &end) in self.ends.iter().enumerate() {
            while self.times.get(run + 1).is_some_and(|(first, _)| *first as usize <= i) {
                run += 1;
            }
            let time = self.times.get(run).map_or("", |(_, t)| t);
            out.push(LogLine { time: time.to_string(), text: self.text[start..end as usize].to_string() });
            start = end as usize;
        }
        out
    }
}

#[derive(Debug, Default)]
struct ContainerLog {
    pod_uid: String,
    current: Buf,
    previous: Option<Buf>,
    /// The current instance has exited: followers stop.
    ended: bool,
    started: bool,
}

type Key = (String, String, String);

/// What a follower receives.
#[derive(Debug, Clone)]
pub(crate) enum LogEvent {
    Line(LogLine),
    Ended,
}

/// What all container logs together should hold (as [`Buf::cost`] counts). Past it, a
/// container that writes keeps only its newest [`SHARE_WHEN_FULL`]: flooding containers then
/// hold a megabyte each instead of ten, and quiet ones (under a megabyte) are never trimmed.
pub(crate) const MAX_TOTAL_LOGS: usize = 256 * 1024 * 1024;
pub(crate) const SHARE_WHEN_FULL: usize = 1024 * 1024;

/// Handle to all container logs; clones share them.
#[derive(Clone)]
pub(crate) struct Logs {
    inner: Arc<Mutex<HashMap<Key, ContainerLog>>>,
    followers: Arc<Mutex<HashMap<Key, broadcast::Sender<LogEvent>>>>,
    /// The cost of every log kept, and what it may reach.
    total: Arc<std::sync::atomic::AtomicUsize>,
    total_limit: usize,
}

impl Default for Logs {
    fn default() -> Self {
        Logs::with_total_limit(MAX_TOTAL_LOGS)
    }
}

impl ContainerLog {
    fn cost(&self) -> usize {
        self.current.cost() + self.previous.as_ref().map_or(0, Buf::cost)
    }
}

fn key(ns: &str, pod: &str, container: &str) -> Key {
    (ns.to_string(), pod.to_string(), container.to_string())
}

impl Logs {
    /// Logs that together may hold `limit` (tests use a small one).
    pub(crate) fn with_total_limit(limit: usize) -> Self {
        Logs { inner: Arc::default(), followers: Arc::default(), total: Arc::default(), total_limit: limit }
    }

    /// What all logs hold now, as [`Buf::cost`] counts.
    pub(crate) fn total(&self) -> usize {
        self.total.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Record a change of the logs' cost from `before` to `after` (called under the lock).
    fn account(&self, before: usize, after: usize) {
        use std::sync::atomic::Ordering::Relaxed;
        if after >= before {
            self.total.fetch_add(after - before, Relaxed);
        } else {
            self.total.fetch_sub(before - after, Relaxed);
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut HashMap<Key, ContainerLog>) -> R) -> R {
        let mut g = self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut g)
    }

    fn notify(&self, k: &Key, ev: LogEvent) {
        let g = self.followers.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(tx) = g.get(k) {
            let _ = tx.send(ev);
        }
    }

    /// A container instance starts: a new pod (by uid) starts a fresh log; a restart of the same
    /// pod keeps the last instance as `previous`.
    pub(crate) fn start(&self, ns: &str, pod: &str, pod_uid: &str, container: &str) {
        let k = key(ns, pod, container);
        self.with(|m| {
            let entry = m.entry(k).or_default();
            let before = entry.cost();
            if entry.pod_uid != pod_uid {
                *entry = ContainerLog { pod_uid: pod_uid.to_string(), ..Default::default() };
            } else if entry.started {
                entry.previous = Some(std::mem::take(&mut entry.current));
            }
            entry.started = true;
            entry.ended = false;
            self.account(before, entry.cost());
        });
    }

    pub(crate) fn append(&self, ns: &str, pod: &str, container: &str, time: String, text: &str) {
        let k = key(ns, pod, container);
        let mut lines = Vec::new();
        self.with(|m| {
            // Looked up under the log's lock: a follower subscribes before it reads the log, so
            // it either reads these lines or is found here.
            let followed = self.followers.lock().unwrap_or_else(std::sync::PoisonError::into_inner).contains_key(&k);
            let entry = m.entry(k.clone()).or_default();
            let before = entry.current.cost();
            for l in text.split_inclusive('\n') {
                let text = l.trim_end_matches('\n');
                entry.current.push(&time, text, MAX_CONTAINER_LOG);
                if followed {
                    lines.push(LogLine { time: time.clone(), text: text.to_string() });
                }
            }
            let after = entry.current.cost();
            if self.total() + after > self.total_limit + before && after > SHARE_WHEN_FULL {
                entry.current.drop_oldest(SHARE_WHEN_FULL);
            }
            self.account(before, entry.current.cost());
        });
        for l in lines {
            self.notify(&k, LogEvent::Line(l));
        }
    }

    /// The current instance exited.
    pub(crate) fn end(&self, ns: &str, pod: &str, container: &str) {
        let k = key(ns, pod, container);
        self.with(|m| {
            if let Some(e) = m.get_mut(&k) {
                e.ended = true;
            }
        });
        self.notify(&k, LogEvent::Ended);
    }

    /// Drop every log of a pod (it was deleted).
    pub(crate) fn forget(&self, ns: &str, pod: &str, pod_uid: &str) {
        self.with(|m| {
            m.retain(|(n, p, _), v| {
                let keep = !(n == ns && p == pod && v.pod_uid == pod_uid);
                if !keep {
                    self.account(v.cost(), 0);
                }
                keep
            });
        });
    }

    /// The lines of the current (or previous) instance, and whether it has ended.
    /// `None` when that container has not started (or has no previous instance).
    pub(crate) fn read(&self, ns: &str, pod: &str, container: &str, previous: bool) -> Option<(Vec<LogLine>, bool)> {
        self.with(|m| {
            let e = m.get(&key(ns, pod, container))?;
            if previous {
                e.previous.as_ref().map(|p| (p.lines(), true))
            } else if e.started {
                Some((e.current.lines(), e.ended))
            } else {
                None
            }
        })
    }

    /// Follow new lines of a container.
    pub(crate) fn follow(&self, ns: &str, pod: &str, container: &str) -> broadcast::Receiver<LogEvent> {
        let mut g = self.followers.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        g.entry(key(ns, pod, container)).or_insert_with(|| broadcast::channel(1024).0).subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restarts_keep_previous_and_new_pods_start_fresh() {
        let l = Logs::default();
        assert!(l.read("d", "web-0", "nginx", false).is_none());
        l.start("d", "web-0", "u1", "nginx");
        l.append("d", "web-0", "nginx", "t".into(), "a\nb\n");
        assert_eq!(l.read("d", "web-0", "nginx", false).unwrap().0.len(), 2);
        l.end("d", "web-0", "nginx");
        l.start("d", "web-0", "u1", "nginx");
        assert_eq!(l.read("d", "web-0", "nginx", true).unwrap().0[1].text, "b");
        assert!(l.read("d", "web-0", "nginx", false).unwrap().0.is_empty());
        l.start("d", "web-0", "u2", "nginx");
        assert!(l.read("d", "web-0", "nginx", true).is_none());
    }

    #[test]
    fn a_flooding_container_keeps_only_its_newest_lines() {
        let l = Logs::default();
        l.start("d", "flood", "u", "c");
        let line = "y".repeat(1000);
        for i in 0..30_000 {
            l.append("d", "flood", "c", format!("t{}", i / 7), &format!("{i} {line}\n"));
        }
        let (lines, _) = l.read("d", "flood", "c", false).unwrap();
        let kept: usize = lines.iter().map(|x| x.text.len() + LINE_OVERHEAD).sum();
        assert!(kept <= MAX_CONTAINER_LOG, "{kept} bytes kept");
        assert!(kept > MAX_CONTAINER_LOG / 2, "{kept} bytes kept");
        // The newest lines, in order, each with its own time.
        let last = lines.last().unwrap();
        assert!(last.text.starts_with("29999 "));
        assert_eq!(last.time, "t4285");
        let first: usize = lines[0].text.split(' ').next().unwrap().parse().unwrap();
        assert_eq!(lines.len(), 30_000 - first);
        assert_eq!(lines[0].time, format!("t{}", first / 7));
        let numbers: Vec<usize> = lines.iter().map(|x| x.text.split(' ').next().unwrap().parse().unwrap()).collect();
        assert!(numbers.windows(2).all(|w| w[1] == w[0] + 1));
        // A line longer than 16 KiB is split, as the kubelet does.
        l.start("d", "long", "u", "c");
        l.append("d", "long", "c", "t".into(), &format!("{}\n", "z".repeat(40_000)));
        let sizes: Vec<usize> = l.read("d", "long", "c", false).unwrap().0.iter().map(|x| x.text.len()).collect();
        assert_eq!(sizes, [16_384, 16_384, 7_232]);
    }

    #[test]
    fn many_flooding_containers_share_a_bounded_total() {
        let l = Logs::with_total_limit(8 * SHARE_WHEN_FULL);
        let line = format!("{}\n", "y".repeat(1000));
        l.start("d", "quiet", "q", "c");
        l.append("d", "quiet", "c", "t".into(), "hello\n");
        for i in 0..20 {
            let pod = format!("flood-{i}");
            l.start("d", &pod, &pod, "c");
            for _ in 0..3000 {
                l.append("d", &pod, "c", "t".into(), &line);
            }
        }
        // 20 containers of 3 MB would be 60 MB: past the 8 MiB each new writer keeps 1 MiB.
        assert!(l.total() <= 8 * SHARE_WHEN_FULL + 20 * SHARE_WHEN_FULL, "{}", l.total());
        let kept: usize = (0..20)
            .map(|i| {
                l.read("d", &format!("flood-{i}"), "c", false)
                    .unwrap()
                    .0
                    .iter()
                    .map(|x| x.text.len() + LINE_OVERHEAD)
                    .sum::<usize>()
            })
            .sum::<usize>()
            + 5
            + LINE_OVERHEAD;
        assert_eq!(kept, l.total(), "the count matches what is kept");
        assert_eq!(l.read("d", "quiet", "c", false).unwrap().0[0].text, "hello", "a quiet log is kept");
        for i in 0..20 {
            l.forget("d", &format!("flood-{i}"), &format!("flood-{i}"));
        }
        assert_eq!(l.total(), 5 + LINE_OVERHEAD);
    }

    #[tokio::test]
    async fn followers_see_new_lines() {
        let l = Logs::default();
        l.start("d", "p", "u", "c");
        let mut rx = l.follow("d", "p", "c");
        l.append("d", "p", "c", "t".into(), "hello\n");
        l.end("d", "p", "c");
        assert!(matches!(rx.recv().await.unwrap(), LogEvent::Line(x) if x.text == "hello"));
        assert!(matches!(rx.recv().await.unwrap(), LogEvent::Ended));
    }
}
