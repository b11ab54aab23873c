//! The tree behind a `Volume`: directories and text files with modification times, and the
//! path walks `ContainerFs` builds on. A volume is shared by every container that mounts it.
//! Directories and file contents are copy-on-write, so every container started from one image
//! shares that image's files until it changes them (10,000 nginx pods cost one nginx tree).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use jiff::Timestamp;

/// Why a file operation failed; `Display` is the C library's `strerror` text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum FsError {
    #[error("No such file or directory")]
    NotFound,
    #[error("Not a directory")]
    NotADirectory,
    #[error("Is a directory")]
    IsADirectory,
    #[error("File exists")]
    Exists,
    #[error("Read-only file system")]
    ReadOnly,
    #[error("Directory not empty")]
    NotEmpty,
    /// Removing a mount point; glibc says "Device or resource busy".
    #[error("Resource busy")]
    Busy,
    #[error("Invalid cross-device link")]
    CrossDevice,
    /// A volume or a container's writable layer is full (ENOSPC).
    #[error("No space left on device")]
    NoSpace,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileKind {
    File,
    Dir,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Metadata {
    pub kind: FileKind,
    /// Bytes for a file, 4096 for a directory (what ext4 reports).
    pub size: u64,
    pub mtime: Timestamp,
    /// Link count as `ls -l` shows it: 1 for files, 2 + subdirectories for directories.
    pub nlink: u64,
}

/// How `write` treats an existing file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WriteMode {
    Truncate,
    Append,
    /// Fail with `Exists` if the file is there (O_EXCL).
    CreateNew,
}

#[derive(Debug, Clone)]
pub(super) enum Node {
    File { data: Arc<String>, mtime: Timestamp },
    Dir { entries: Arc<BTreeMap<String, Node>>, mtime: Timestamp },
}

impl Node {
    pub(super) fn dir(mtime: Timestamp) -> Node {
        Node::Dir { entries: Arc::new(BTreeMap::new()), mtime }
    }

    pub(super) fn meta(&self) -> Metadata {
        match self {
            Node::File { data, mtime } => {
                Metadata { kind: FileKind::File, size: data.len() as u64, mtime: *mtime, nlink: 1 }
            }
            Node::Dir { entries, mtime } => Metadata {
                kind: FileKind::Dir,
                size: 4096,
                mtime: *mtime,
                nlink: 2 + entries.values().filter(|n| matches!(n, Node::Dir { .. })).count() as u64,
            },
        }
    }

    pub(super) fn walk(&self, path: &[String]) -> Result<&Node, FsError> {
        let mut node = self;
        for name in path {
            node = match node {
                Node::Dir { entries, .. } => entries.get(name).ok_or(FsError::NotFound)?,
                Node::File { .. } => return Err(FsError::NotADirectory),
            };
        }
        Ok(node)
    }

    pub(super) fn walk_mut(&mut self, path: &[String]) -> Result<&mut Node, FsError> {
        let mut node = self;
        for name in path {
            node = match node {
                Node::Dir { entries, .. } => Arc::make_mut(entries).get_mut(name).ok_or(FsError::NotFound)?,
                Node::File { .. } => return Err(FsError::NotADirectory),
            };
        }
        Ok(node)
    }

    /// The directory holding `path`'s last component, and that component.
    pub(super) fn parent_mut<'a>(
        &'a mut self,
        path: &'a [String],
    ) -> Result<(&'a mut BTreeMap<String, Node>, &'a mut Timestamp, &'a String), FsError> {
        let (name, dir) = path.split_last().ok_or(FsError::Exists)?;
        match self.walk_mut(dir)? {
            Node::Dir { entries, mtime } => Ok((Arc::make_mut(entries), mtime, name)),
            Node::File { .. } => Err(FsError::NotADirectory),
        }
    }
}

/// What a directory takes on disk, and a file besides its data (an inode and a block): so
/// that `mkdir` and `touch` in a loop fill a volume as they would a real one.
const DIR_COST: i64 = 4096;
const FILE_COST: i64 = 512;

impl Node {
    /// What this file or tree takes, as [`Space`] counts it.
    fn cost(&self) -> i64 {
        match self {
            Node::File { data, .. } => data.len() as i64 + FILE_COST,
            Node::Dir { entries, .. } => DIR_COST + entries.values().map(Node::cost).sum::<i64>(),
        }
    }
}

/// Bytes shared by several volumes: a namespace's share of the node's disk, so that one
/// namespace cannot take the memory behind every volume of the sandbox.
#[derive(Debug)]
pub(crate) struct Pool {
    used: AtomicI64,
    limit: i64,
}

impl Pool {
    pub(crate) fn new(limit: u64) -> Arc<Pool> {
        Arc::new(Pool { used: AtomicI64::new(0), limit: limit.min(i64::MAX as u64) as i64 })
    }
}

/// How much a volume holds and may hold: its own limit (a claim's capacity, an emptyDir's
/// `sizeLimit`, a container's writable layer) and the pool it draws from. Only changes are
/// counted: a container's root starts at zero with its image's files, which are shared.
#[derive(Debug)]
struct Space {
    used: AtomicI64,
    limit: i64,
    pool: Option<Arc<Pool>>,
}

impl Space {
    /// Change the usage by `delta` (negative when freeing), or fail with ENOSPC if it grows
    /// past this volume's limit or its pool's. Called with the volume locked.
    fn charge(&self, delta: i64) -> Result<(), FsError> {
        let used = self.used.load(Ordering::Relaxed);
        // Removing image files frees nothing real: usage never goes below zero.
        let new = used.saturating_add(delta).max(0);
        if delta > 0 && new > self.limit {
            return Err(FsError::NoSpace);
        }
        let change = new - used;
        if let Some(pool) = &self.pool {
            let before = pool.used.fetch_add(change, Ordering::Relaxed);
            if change > 0 && before + change > pool.limit {
                pool.used.fetch_sub(change, Ordering::Relaxed);
                return Err(FsError::NoSpace);
            }
        }
        self.used.store(new, Ordering::Relaxed);
        Ok(())
    }
}

impl Drop for Space {
    fn drop(&mut self) {
        if let Some(pool) = &self.pool {
            pool.used.fetch_sub(*self.used.get_mut(), Ordering::Relaxed);
        }
    }
}

/// A shared directory tree; clones are handles to the same files.
#[derive(Debug, Clone)]
pub(crate) struct Volume {
    root: Arc<Mutex<Node>>,
    space: Arc<Space>,
}

impl Default for Volume {
    fn default() -> Self {
        Volume::new()
    }
}

impl Volume {
    /// An empty volume, as a freshly provisioned PV or emptyDir.
    pub(crate) fn new() -> Self {
        Volume::at(Timestamp::now())
    }

    pub(crate) fn at(created: Timestamp) -> Self {
        Volume::limited(created, u64::MAX, None)
    }

    /// An empty volume that holds at most `limit` bytes, drawn from `pool` if given; writes
    /// past either fail with ENOSPC.
    pub(crate) fn limited(created: Timestamp, limit: u64, pool: Option<Arc<Pool>>) -> Self {
        let space = Space { used: AtomicI64::new(0), limit: limit.min(i64::MAX as u64) as i64, pool };
        Volume { root: Arc::new(Mutex::new(Node::dir(created))), space: Arc::new(space) }
    }

    /// Account for a change of `delta` bytes made under this volume's lock.
    pub(super) fn charge(&self, delta: i64) -> Result<(), FsError> {
        self.space.charge(delta)
    }

    /// Whether both handles are the same volume.
    pub(crate) fn same(&self, other: &Volume) -> bool {
        Arc::ptr_eq(&self.root, &other.root)
    }

    /// The whole tree, sharing its contents with this volume until either side changes.
    pub(super) fn snapshot(&self) -> Node {
        self.lock().clone()
    }

    /// Replace the whole tree (with a snapshot of another volume).
    pub(super) fn restore(&self, root: Node) {
        *self.lock() = root;
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, Node> {
        // A panic elsewhere must not take the files with it.
        self.root.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Seed a file (parents created), for ConfigMap-like contents or test fixtures.
    pub(crate) fn put_file(&self, path: &str, data: &str, now: Timestamp) -> Result<(), FsError> {
        let parts = components(path);
        if let Some((_, dir)) = parts.split_last() {
            mkdir_in(&mut self.lock(), self, dir, true, now)?;
        }
        write_in(&mut self.lock(), self, &parts, data, WriteMode::Truncate, now)
    }

    #[cfg(test)]
    pub(crate) fn read_file(&self, path: &str) -> Result<String, FsError> {
        read_in(&self.lock(), &components(path))
    }

    /// Create a directory and its parents (`mkdir -p`) dated `now`.
    pub(crate) fn put_dir(&self, path: &str, now: Timestamp) -> Result<(), FsError> {
        mkdir_in(&mut self.lock(), self, &components(path), true, now)
    }

    /// Set a file's or directory's modification time.
    pub(crate) fn set_mtime(&self, path: &str, at: Timestamp) -> Result<(), FsError> {
        match self.lock().walk_mut(&components(path))? {
            Node::File { mtime, .. } | Node::Dir { mtime, .. } => *mtime = at,
        }
        Ok(())
    }
}

pub(super) fn read_in(root: &Node, path: &[String]) -> Result<String, FsError> {
    match root.walk(path)? {
        Node::File { data, .. } => Ok(data.to_string()),
        Node::Dir { .. } => Err(FsError::IsADirectory),
    }
}

/// Write a file of the tree `root` locked from `volume`, whose space it is charged to.
pub(super) fn write_in(
    root: &mut Node,
    volume: &Volume,
    path: &[String],
    data: &str,
    mode: WriteMode,
    now: Timestamp,
) -> Result<(), FsError> {
    let (entries, dir_mtime, name) = root.parent_mut(path).map_err(|e| match e {
        FsError::Exists => FsError::IsADirectory,
        e => e,
    })?;
    match entries.get_mut(name) {
        Some(Node::Dir { .. }) => Err(FsError::IsADirectory),
        Some(Node::File { .. }) if mode == WriteMode::CreateNew => Err(FsError::Exists),
        Some(Node::File { data: old, mtime }) => {
            let kept = if mode == WriteMode::Truncate { 0 } else { old.len() };
            volume.charge((kept + data.len()) as i64 - old.len() as i64)?;
            let old = Arc::make_mut(old);
            if mode == WriteMode::Truncate {
                old.clear();
            }
            old.push_str(data);
            *mtime = now;
            Ok(())
        }
        None => {
            volume.charge(data.len() as i64 + FILE_COST)?;
            entries.insert(name.clone(), Node::File { data: Arc::new(data.to_string()), mtime: now });
            *dir_mtime = now;
            Ok(())
        }
    }
}

pub(super) fn mkdir_in(
    root: &mut Node,
    volume: &Volume,
    path: &[String],
    parents: bool,
    now: Timestamp,
) -> Result<(), FsError> {
    // An existing path is answered without touching the tree: writing through a shared
    // directory would copy it (every container's /etc, say, shares its image's).
    match root.walk(path) {
        Ok(Node::Dir { .. }) if parents || path.is_empty() => return Ok(()),
        Ok(Node::Dir { .. }) => return Err(FsError::Exists),
        Ok(Node::File { .. }) => return Err(FsError::Exists),
        Err(_) => {}
    }
    let mut node = root;
    for (i, name) in path.iter().enumerate() {
        let last = i + 1 == path.len();
        let Node::Dir { entries, mtime } = node else {
            return Err(FsError::NotADirectory);
        };
        let entries = Arc::make_mut(entries);
        if !entries.contains_key(name) {
            if !parents && !last {
                return Err(FsError::NotFound);
            }
            volume.charge(DIR_COST)?;
            entries.insert(name.clone(), Node::dir(now));
            *mtime = now;
        } else if last && !parents {
            return Err(FsError::Exists);
        }
        node = entries.get_mut(name).ok_or(FsError::NotFound)?;
    }
    match node {
        Node::Dir { .. } => Ok(()),
        Node::File { .. } => Err(if parents { FsError::Exists } else { FsError::NotADirectory }),
    }
}

/// What removing `node` frees.
pub(super) fn freed(node: &Node) -> i64 {
    -node.cost()
}

/// Path components after resolving `.` and `..` (no symlinks exist here); relative paths
/// count from `/`.
pub(crate) fn components(path: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            p => out.push(p.to_string()),
        }
    }
    out
}

/// `/a/b` for the given components.
pub(crate) fn join(parts: &[String]) -> String {
    format!("/{}", parts.join("/"))
}
