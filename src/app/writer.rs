//! The writer: drafts, their cursors and progress go to disk off the event loop. A [`Writer`]
//! is a cheap handle; [`Writer::write`] only records the newest contents of a file (latest
//! wins: a burst of typing is one write), and a thread of its own writes them atomically with
//! fsync. [`Writer::flush`] writes whatever is still waiting, synchronously: once on quit,
//! on SIGTERM/SIGHUP and from the panic hook, so nothing the learner typed is lost. The run
//! loop's [`Runtime`](super::run::Runtime) and the grading task (progress) write through it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Files waiting at most; past this a write is done in place (the caller waits), so the
/// queue stays bounded whatever happens to the disk.
const MAX_PENDING: usize = 64;
/// How long the panic hook waits for a write in progress before giving up on the flush.
const PANIC_WAIT: Duration = Duration::from_millis(500);

type Report = Box<dyn Fn(String) + Send + Sync>;

struct Shared {
    /// The newest contents of each file not yet written.
    pending: Mutex<BTreeMap<PathBuf, String>>,
    wake: Condvar,
    /// Held while files are taken from `pending` and written, so an older contents can never
    /// land after a newer one (the thread and a flush never write the same file at once).
    io: Mutex<()>,
    /// The last handle is gone: the thread writes what is left and ends.
    closed: Mutex<bool>,
    /// Tells the learner a write failed (a `SaveFailed` event).
    report: Report,
}

/// A handle on the writer; clones share it. The thread ends once every handle is dropped,
/// after writing what is still waiting.
#[derive(Clone)]
pub struct Writer {
    handle: Arc<Handle>,
}

struct Handle {
    shared: Arc<Shared>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        *lock(&self.shared.closed) = true;
        self.shared.wake.notify_all();
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Writer {
    /// A writer with its thread; `report` hears of every failed write.
    pub fn new(report: impl Fn(String) + Send + Sync + 'static) -> Writer {
        let writer = Writer::without_thread(report);
        let shared = writer.handle.shared.clone();
        let spawned = std::thread::Builder::new().name("kubetutor-writer".into()).spawn(move || run(&shared));
        if let Err(e) = spawned {
            // Without the thread every write still happens: on flush, or in place once the
            // queue is full.
            tracing::warn!("no writer thread ({e}); files are written on flush");
        }
        writer
    }

    /// A writer whose files are written only by [`Writer::flush`] (or in place when the queue
    /// is full): for tests of the flush paths.
    pub fn without_thread(report: impl Fn(String) + Send + Sync + 'static) -> Writer {
        let shared = Arc::new(Shared {
            pending: Mutex::new(BTreeMap::new()),
            wake: Condvar::new(),
            io: Mutex::new(()),
            closed: Mutex::new(false),
            report: Box::new(report),
        });
        Writer { handle: Arc::new(Handle { shared }) }
    }

    /// Have `contents` written to `path` (atomically, with fsync) soon; a newer write of the
    /// same file before then replaces it.
    pub fn write(&self, path: PathBuf, contents: String) {
        let shared = &self.handle.shared;
        let mut pending = lock(&shared.pending);
        if pending.len() >= MAX_PENDING && !pending.contains_key(&path) {
            drop(pending);
            let _io = lock(&shared.io);
            write_one(shared, &path, &contents);
            return;
        }
        pending.insert(path, contents);
        drop(pending);
        shared.wake.notify_all();
    }

    /// Write everything still waiting, now, on the caller's thread.
    pub fn flush(&self) {
        let shared = &self.handle.shared;
        let _io = lock(&shared.io);
        write_pending(shared);
    }

    /// [`Writer::flush`] for the panic hook: never waits long for a write in progress (the
    /// panic may have happened in the middle of one).
    pub fn flush_on_panic(&self) {
        let shared = &self.handle.shared;
        let deadline = Instant::now() + PANIC_WAIT;
        loop {
            match shared.io.try_lock() {
                Ok(_io) => return write_pending(shared),
                Err(std::sync::TryLockError::Poisoned(p)) => {
                    let _io = p.into_inner();
                    return write_pending(shared);
                }
                Err(std::sync::TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(std::sync::TryLockError::WouldBlock) => return,
            }
        }
    }

    /// Files waiting to be written.
    pub fn pending(&self) -> usize {
        lock(&self.handle.shared.pending).len()
    }
}

/// Take what is waiting and write it (the caller holds `io`).
fn write_pending(shared: &Shared) {
    let files = std::mem::take(&mut *lock(&shared.pending));
    for (path, contents) in files {
        write_one(shared, &path, &contents);
    }
}

fn write_one(shared: &Shared, path: &std::path::Path, contents: &str) {
    if let Err(e) = crate::state::write_atomic(path, contents) {
        tracing::warn!("cannot write {}: {e}", path.display());
        (shared.report)(format!("cannot save {}: {e}", path.display()));
    }
}

/// The writer thread: wait for files, write them, until the last handle is gone.
fn run(shared: &Shared) {
    loop {
        {
            let mut pending = lock(&shared.pending);
            while pending.is_empty() && !*lock(&shared.closed) {
                pending = shared.wake.wait(pending).unwrap_or_else(std::sync::PoisonError::into_inner);
            }
        }
        let _io = lock(&shared.io);
        write_pending(shared);
        if *lock(&shared.closed) && lock(&shared.pending).is_empty() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_contents_win_and_flush_writes_them_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let w = Writer::without_thread(|e| panic!("{e}"));
        let path = dir.path().join("drafts/a.yaml");
        w.write(path.clone(), "one".into());
        w.write(path.clone(), "two".into());
        w.write(dir.path().join("b"), "b".into());
        assert_eq!(w.pending(), 2);
        assert!(!path.exists(), "nothing is written before the flush without a thread");
        w.flush();
        assert_eq!(w.pending(), 0);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "two");
        assert_eq!(std::fs::read_to_string(dir.path().join("b")).unwrap(), "b");
    }

    #[test]
    fn the_queue_is_bounded_by_writing_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let w = Writer::without_thread(|e| panic!("{e}"));
        for i in 0..MAX_PENDING + 3 {
            w.write(dir.path().join(format!("f{i}")), i.to_string());
        }
        assert_eq!(w.pending(), MAX_PENDING);
        assert_eq!(std::fs::read_to_string(dir.path().join(format!("f{}", MAX_PENDING + 2))).unwrap(), "66");
        w.flush_on_panic();
        assert_eq!(std::fs::read_to_string(dir.path().join("f0")).unwrap(), "0");
    }

    #[test]
    fn the_thread_writes_without_a_flush_and_reports_failures() {
        let dir = tempfile::tempdir().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let w = Writer::new(move |e| drop(tx.send(e)));
        let path = dir.path().join("drafts/a.yaml");
        w.write(path.clone(), "typed".into());
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::fs::read_to_string(&path).ok().as_deref() != Some("typed") {
            assert!(Instant::now() < deadline, "the writer thread did not write");
            std::thread::sleep(Duration::from_millis(5));
        }
        // A file under a regular file cannot be written: the failure is reported.
        w.write(path.join("below"), "x".into());
        let failure = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert!(failure.contains("cannot save"), "{failure}");
    }
}
