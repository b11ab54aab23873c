//! A container's filesystem (`ContainerFs`): its image's root tree plus the kubelet's mounts,
//! resolved to the innermost mount as Linux does. Volumes themselves are in volume.rs. The
//! kubelet builds these; the shell and nginx read and write through them.

use std::sync::Arc;

use jiff::Timestamp;

use super::image::Image;
pub(crate) use super::volume::Pool;
pub(crate) use super::volume::{components, join, FileKind, FsError, Metadata, Volume, WriteMode};
use super::volume::{freed, mkdir_in, read_in, write_in, Node};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DirEntry {
    pub name: String,
    pub meta: Metadata,
}

#[derive(Debug, Clone)]
struct Mount {
    at: Vec<String>,
    volume: Volume,
    sub_path: Vec<String>,
    read_only: bool,
}

/// Where a path lives: which tree, the path inside it, and whether writes are allowed.
struct Place<'a> {
    volume: &'a Volume,
    inner: Vec<String>,
    read_only: bool,
    /// The path is a mount point itself (cannot be removed or replaced).
    mount_root: bool,
}

/// A container's view: the image's files plus volume mounts. Cheap to clone; clones share the
/// same files.
#[derive(Clone)]
pub(crate) struct ContainerFs {
    root: Volume,
    /// Shared by clones (the nginx server and exec of one container) until one mounts more.
    mounts: Arc<Vec<Mount>>,
    image: Arc<Image>,
    clock: Arc<dyn Fn() -> Timestamp + Send + Sync>,
}

impl std::fmt::Debug for ContainerFs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContainerFs")
            .field("image", &self.image.reference)
            .field("mounts", &self.mounts.iter().map(|m| join(&m.at)).collect::<Vec<_>>())
            .finish()
    }
}

impl ContainerFs {
    #[cfg(test)]
    /// A fresh root filesystem with the image's files (each container gets its own).
    pub(crate) fn for_image(reference: &str) -> Self {
        let image = Image::parse(reference);
        let root = Volume::new();
        image.populate(&root, Timestamp::now());
        ContainerFs::new(root, image)
    }

    pub(crate) fn new(root: Volume, image: impl Into<Arc<Image>>) -> Self {
        ContainerFs { root, mounts: Arc::default(), image: image.into(), clock: Arc::new(Timestamp::now) }
    }

    /// Use the sandbox's simulated clock for file times.
    pub(crate) fn with_clock(mut self, clock: impl Fn() -> Timestamp + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    pub(crate) fn image(&self) -> &Image {
        &self.image
    }

    #[cfg(test)]
    /// Mount `volume` at `path` (the mount point is created, as the runtime does).
    pub(crate) fn mount(&mut self, path: &str, volume: Volume, read_only: bool) -> Result<(), FsError> {
        self.mount_sub_path(path, volume, "", read_only)
    }

    /// Mount a subdirectory of `volume` (`volumeMounts[].subPath`, created if missing), or a
    /// single file when `sub_path` names one (how the kubelet's /etc/hosts is bind-mounted).
    pub(crate) fn mount_sub_path(
        &mut self,
        path: &str,
        volume: Volume,
        sub_path: &str,
        read_only: bool,
    ) -> Result<(), FsError> {
        let at = components(path);
        let sub = components(sub_path);
        let now = (self.clock)();
        let file = matches!(volume.lock().walk(&sub), Ok(Node::File { .. }));
        if !file {
            mkdir_in(&mut volume.lock(), &volume, &sub, true, now)?;
        }
        {
            // The runtime creates the mount point: a directory, or an empty file for a file.
            let place = self.place(&at);
            let mut guard = place.volume.lock();
            if file {
                if let Some((_, dir)) = place.inner.split_last() {
                    mkdir_in(&mut guard, place.volume, dir, true, now)?;
                }
                match guard.walk(&place.inner) {
                    Ok(Node::File { .. }) => {}
                    Ok(Node::Dir { .. }) => return Err(FsError::IsADirectory),
                    Err(_) => write_in(&mut guard, place.volume, &place.inner, "", WriteMode::Append, now)?,
                }
            } else {
                mkdir_in(&mut guard, place.volume, &place.inner, true, now)?;
            }
        }
        Arc::make_mut(&mut self.mounts).push(Mount { at, volume, sub_path: sub, read_only });
        Ok(())
    }

    fn place(&self, path: &[String]) -> Place<'_> {
        // The innermost mount wins; later mounts shadow earlier ones at the same path.
        let best = self
            .mounts
            .iter()
            .enumerate()
            .filter(|(_, m)| path.starts_with(&m.at))
            .max_by_key(|(i, m)| (m.at.len(), *i));
        match best {
            Some((_, m)) => {
                let mut inner = m.sub_path.clone();
                inner.extend_from_slice(&path[m.at.len()..]);
                Place { volume: &m.volume, inner, read_only: m.read_only, mount_root: path.len() == m.at.len() }
            }
            None => Place { volume: &self.root, inner: path.to_vec(), read_only: false, mount_root: false },
        }
    }

    pub(crate) fn read(&self, path: &str) -> Result<String, FsError> {
        let place = self.place(&components(path));
        let guard = place.volume.lock();
        read_in(&guard, &place.inner)
    }

    pub(crate) fn write(&self, path: &str, data: &str, mode: WriteMode) -> Result<(), FsError> {
        let place = self.place(&components(path));
        let mut guard = place.volume.lock();
        // ENOENT/ENOTDIR/EISDIR come before EROFS, as the kernel checks the path first.
        if let Some((_, dir)) = place.inner.split_last() {
            match guard.walk(dir)? {
                Node::Dir { .. } => {}
                Node::File { .. } => return Err(FsError::NotADirectory),
            }
        }
        if let Ok(Node::Dir { .. }) = guard.walk(&place.inner) {
            return Err(FsError::IsADirectory);
        }
        if place.read_only {
            return Err(FsError::ReadOnly);
        }
        write_in(&mut guard, place.volume, &place.inner, data, mode, (self.clock)())
    }

    pub(crate) fn stat(&self, path: &str) -> Result<Metadata, FsError> {
        let place = self.place(&components(path));
        let guard = place.volume.lock();
        guard.walk(&place.inner).map(Node::meta)
    }

    pub(crate) fn exists(&self, path: &str) -> bool {
        self.stat(path).is_ok()
    }

    pub(crate) fn is_dir(&self, path: &str) -> bool {
        matches!(self.stat(path), Ok(m) if m.kind == FileKind::Dir)
    }

    pub(crate) fn is_file(&self, path: &str) -> bool {
        matches!(self.stat(path), Ok(m) if m.kind == FileKind::File)
    }

    /// Entries sorted by name; mount points show the mounted tree's details.
    pub(crate) fn list(&self, path: &str) -> Result<Vec<DirEntry>, FsError> {
        let dir = components(path);
        let place = self.place(&dir);
        let mut out = {
            let guard = place.volume.lock();
            match guard.walk(&place.inner)? {
                Node::Dir { entries, .. } => entries
                    .iter()
                    .map(|(name, node)| DirEntry { name: name.clone(), meta: node.meta() })
                    .collect::<Vec<_>>(),
                Node::File { .. } => return Err(FsError::NotADirectory),
            }
        };
        for entry in &mut out {
            let mut child = dir.clone();
            child.push(entry.name.clone());
            if self.mounts.iter().any(|m| m.at == child) {
                if let Ok(meta) = self.stat(&join(&child)) {
                    entry.meta = meta;
                }
            }
        }
        Ok(out)
    }

    /// `mkdir` (or `mkdir -p` with `parents`, which also accepts an existing directory).
    pub(crate) fn mkdir(&self, path: &str, parents: bool) -> Result<(), FsError> {
        let parts = components(path);
        if parts.is_empty() || self.mounts.iter().any(|m| m.at == parts) {
            return if parents && self.is_dir(path) { Ok(()) } else { Err(FsError::Exists) };
        }
        let place = self.place(&parts);
        let mut guard = place.volume.lock();
        if place.read_only {
            return match guard.walk(&place.inner) {
                Ok(Node::Dir { .. }) if parents => Ok(()),
                Ok(_) => Err(FsError::Exists),
                Err(_) => Err(FsError::ReadOnly),
            };
        }
        mkdir_in(&mut guard, place.volume, &place.inner, parents, (self.clock)())
    }

    /// Remove a file, an empty directory, or with `recursive` a whole tree.
    pub(crate) fn remove(&self, path: &str, recursive: bool) -> Result<(), FsError> {
        let parts = components(path);
        let place = self.place(&parts);
        if parts.is_empty() || place.mount_root {
            return Err(FsError::Busy);
        }
        if self.mounts.iter().any(|m| m.at.len() > parts.len() && m.at.starts_with(&parts)) {
            return Err(FsError::Busy);
        }
        let mut guard = place.volume.lock();
        let now = (self.clock)();
        let (entries, dir_mtime, name) = guard.parent_mut(&place.inner)?;
        match entries.get(name) {
            None => return Err(FsError::NotFound),
            Some(_) if place.read_only => return Err(FsError::ReadOnly),
            Some(Node::Dir { entries: sub, .. }) if !recursive && !sub.is_empty() => return Err(FsError::NotEmpty),
            Some(_) => {}
        }
        if let Some(gone) = entries.remove(name) {
            let _ = place.volume.charge(freed(&gone));
        }
        *dir_mtime = now;
        Ok(())
    }

    /// Move a file or directory within one volume, replacing a file at `to` (`rename(2)`).
    pub(crate) fn rename(&self, from: &str, to: &str) -> Result<(), FsError> {
        let (src, dst) = (components(from), components(to));
        let (a, b) = (self.place(&src), self.place(&dst));
        if a.mount_root || b.mount_root || src.is_empty() {
            return Err(FsError::Busy);
        }
        if !a.volume.same(b.volume) {
            return Err(FsError::CrossDevice);
        }
        if a.read_only || b.read_only {
            return Err(FsError::ReadOnly);
        }
        if dst.starts_with(&src) && dst.len() > src.len() {
            return Err(FsError::NotFound);
        }
        let now = (self.clock)();
        let mut guard = a.volume.lock();
        let moving_dir = matches!(guard.walk(&a.inner)?, Node::Dir { .. });
        match guard.walk(&b.inner) {
            Ok(Node::Dir { .. }) => return Err(FsError::IsADirectory),
            Ok(Node::File { .. }) if moving_dir => return Err(FsError::NotADirectory),
            _ => {}
        }
        let Node::Dir { .. } = guard.walk(b.inner.split_last().map_or(&[][..], |(_, d)| d))? else {
            return Err(FsError::NotADirectory);
        };
        let node = {
            let (entries, mtime, name) = guard.parent_mut(&a.inner)?;
            *mtime = now;
            entries.remove(name).ok_or(FsError::NotFound)?
        };
        let (entries, mtime, name) = guard.parent_mut(&b.inner)?;
        *mtime = now;
        if let Some(replaced) = entries.insert(name.clone(), node) {
            let _ = a.volume.charge(freed(&replaced));
        }
        Ok(())
    }

    /// Create an empty file or refresh its time (`touch`).
    pub(crate) fn touch(&self, path: &str) -> Result<(), FsError> {
        let parts = components(path);
        let place = self.place(&parts);
        let now = (self.clock)();
        {
            let mut guard = place.volume.lock();
            if let Ok(node) = guard.walk_mut(&place.inner) {
                if place.read_only {
                    return Err(FsError::ReadOnly);
                }
                match node {
                    Node::File { mtime, .. } | Node::Dir { mtime, .. } => *mtime = now,
                }
                return Ok(());
            }
        }
        self.write(path, "", WriteMode::Append)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> Timestamp {
        "2026-11-24T22:00:00Z".parse().unwrap()
    }

    fn fs_with_volume() -> (ContainerFs, Volume) {
        let vol = Volume::at(t0());
        let mut fs = ContainerFs::for_image("alpine:3.8").with_clock(t0);
        fs.mount("/work-dir", vol.clone(), false).unwrap();
        (fs, vol)
    }

    #[test]
    fn components_resolve_dots() {
        assert_eq!(components("/a/./b//../c/"), vec!["a", "c"]);
        assert_eq!(components("/../.."), Vec::<String>::new());
        assert_eq!(join(&components("x/y")), "/x/y");
    }

    #[test]
    fn writes_land_in_the_mounted_volume() {
        let (fs, vol) = fs_with_volume();
        fs.write("/work-dir/index.html", "web-0\n", WriteMode::Append).unwrap();
        fs.write("/work-dir/index.html", "web-0\n", WriteMode::Append).unwrap();
        assert_eq!(vol.read_file("index.html").unwrap(), "web-0\nweb-0\n");
        // Another container mounting the same volume elsewhere sees the same file.
        let mut nginx = ContainerFs::for_image("nginx:1.27.3");
        nginx.mount("/usr/share/nginx/html", vol, true).unwrap();
        assert_eq!(nginx.read("/usr/share/nginx/html/index.html").unwrap(), "web-0\nweb-0\n");
        assert_eq!(nginx.write("/usr/share/nginx/html/x", "", WriteMode::Truncate), Err(FsError::ReadOnly));
    }

    #[test]
    fn mounts_shadow_the_image_and_innermost_wins() {
        let mut fs = ContainerFs::for_image("nginx:1.27.3");
        assert!(fs.read("/usr/share/nginx/html/index.html").unwrap().contains("Welcome to nginx!"));
        let outer = Volume::at(t0());
        let inner = Volume::at(t0());
        fs.mount("/usr/share/nginx/html", outer.clone(), false).unwrap();
        fs.mount("/usr/share/nginx/html/sub", inner.clone(), false).unwrap();
        assert_eq!(fs.read("/usr/share/nginx/html/index.html"), Err(FsError::NotFound));
        fs.write("/usr/share/nginx/html/sub/a", "A", WriteMode::Truncate).unwrap();
        assert_eq!(inner.read_file("/a").unwrap(), "A");
        // The runtime created the mount point inside the outer volume.
        let names: Vec<_> = fs.list("/usr/share/nginx/html").unwrap().into_iter().map(|e| e.name).collect();
        assert_eq!(names, vec!["sub"]);
        assert_eq!(fs.remove("/usr/share/nginx/html/sub", true), Err(FsError::Busy));
        assert_eq!(fs.remove("/usr/share/nginx", true), Err(FsError::Busy));
    }

    #[test]
    fn file_mounts_from_a_volume() {
        let etc = Volume::at(t0());
        etc.put_file("hosts", "127.0.0.1\tlocalhost\n", t0()).unwrap();
        let mut fs = ContainerFs::for_image("busybox:1.28").with_clock(t0);
        fs.mount_sub_path("/etc/hosts", etc.clone(), "hosts", false).unwrap();
        assert_eq!(fs.read("/etc/hosts").unwrap(), "127.0.0.1\tlocalhost\n");
        assert!(fs.is_file("/etc/hosts"));
        fs.write("/etc/hosts", "x\n", WriteMode::Append).unwrap();
        assert_eq!(etc.read_file("hosts").unwrap(), "127.0.0.1\tlocalhost\nx\n");
        assert_eq!(fs.remove("/etc/hosts", false), Err(FsError::Busy));
        assert_eq!(fs.mkdir("/etc/hosts", true), Err(FsError::Exists));
        assert_eq!(fs.mkdir("/etc/hosts", false), Err(FsError::Exists));
        assert_eq!(fs.read("/etc/hosts/x"), Err(FsError::NotADirectory));
        let names: Vec<_> = fs.list("/etc").unwrap().into_iter().map(|e| e.name).collect();
        assert!(names.contains(&"hosts".to_string()));
    }

    #[test]
    fn sub_path_mounts_a_subdirectory() {
        let vol = Volume::at(t0());
        let mut fs = ContainerFs::for_image("alpine:3.8");
        fs.mount_sub_path("/data", vol.clone(), "web-0", false).unwrap();
        fs.write("/data/f", "x", WriteMode::Truncate).unwrap();
        assert_eq!(vol.read_file("web-0/f").unwrap(), "x");
    }

    #[test]
    fn errors_match_the_kernel() {
        let (fs, _) = fs_with_volume();
        assert_eq!(fs.write("/x/y", "", WriteMode::Truncate), Err(FsError::NotFound));
        assert_eq!(fs.write("/etc", "", WriteMode::Truncate), Err(FsError::IsADirectory));
        assert_eq!(fs.write("/work-dir", "", WriteMode::Truncate), Err(FsError::IsADirectory));
        assert_eq!(fs.write("/etc/os-release/x", "", WriteMode::Truncate), Err(FsError::NotADirectory));
        assert_eq!(fs.read("/nope"), Err(FsError::NotFound));
        assert_eq!(fs.read("/etc"), Err(FsError::IsADirectory));
        assert_eq!(fs.mkdir("/a/b", false), Err(FsError::NotFound));
        fs.mkdir("/a/b", true).unwrap();
        fs.mkdir("/a/b", true).unwrap();
        assert_eq!(fs.mkdir("/a/b", false), Err(FsError::Exists));
        assert_eq!(fs.remove("/a", false), Err(FsError::NotEmpty));
        fs.remove("/a", true).unwrap();
        assert!(!fs.exists("/a"));
        assert_eq!(fs.remove("/a", true), Err(FsError::NotFound));
        fs.write("/tmp/f", "1", WriteMode::CreateNew).unwrap();
        assert_eq!(fs.write("/tmp/f", "1", WriteMode::CreateNew), Err(FsError::Exists));
        assert_eq!(FsError::NotFound.to_string(), "No such file or directory");
    }

    #[test]
    fn rename_within_a_volume_only() {
        let (fs, vol) = fs_with_volume();
        fs.write("/work-dir/a", "A", WriteMode::Truncate).unwrap();
        fs.rename("/work-dir/a", "/work-dir/b").unwrap();
        assert_eq!(vol.read_file("b").unwrap(), "A");
        assert_eq!(fs.read("/work-dir/a"), Err(FsError::NotFound));
        assert_eq!(fs.rename("/work-dir/b", "/tmp/b"), Err(FsError::CrossDevice));
        fs.mkdir("/tmp/d", false).unwrap();
        fs.rename("/tmp/d", "/tmp/e").unwrap();
        assert!(fs.is_dir("/tmp/e"));
        assert_eq!(fs.rename("/tmp/e", "/tmp/e/x"), Err(FsError::NotFound));
        assert_eq!(fs.rename("/tmp/nope", "/tmp/x"), Err(FsError::NotFound));
    }

    #[test]
    fn listing_and_metadata() {
        let (fs, _) = fs_with_volume();
        fs.touch("/work-dir/b").unwrap();
        fs.write("/work-dir/a", "hello", WriteMode::Truncate).unwrap();
        fs.mkdir("/work-dir/d", false).unwrap();
        let list = fs.list("/work-dir").unwrap();
        let names: Vec<_> = list.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, vec!["a", "b", "d"]);
        assert_eq!(list[0].meta.size, 5);
        assert_eq!(list[2].meta.kind, FileKind::Dir);
        assert_eq!(fs.stat("/work-dir").unwrap().nlink, 3);
        assert_eq!(fs.list("/work-dir/a"), Err(FsError::NotADirectory));
        let root: Vec<_> = fs.list("/").unwrap().into_iter().map(|e| e.name).collect();
        assert!(root.contains(&"work-dir".to_string()) && root.contains(&"etc".to_string()));
    }
}
