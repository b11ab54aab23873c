//! `ls` as busybox and coreutils print it: one name per line into pipes and logs, columns on
//! a terminal, `-l` long format with `total`, and each tool's wording for missing paths.

use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::super::fs::{DirEntry, FileKind, Metadata};
use super::super::Host;
use super::exec::Interp;

struct Opts {
    long: bool,
    all: bool,
    almost_all: bool,
    one: bool,
    dir_itself: bool,
}

impl<'a, H: Host> Interp<'a, H> {
    pub(super) fn ls(&mut self, args: &[String]) -> i32 {
        let flags: String = args.iter().filter(|a| a.starts_with('-') && a.len() > 1).map(|a| &a[1..]).collect();
        let opts = Opts {
            long: flags.contains('l'),
            all: flags.contains('a'),
            almost_all: flags.contains('A'),
            one: flags.contains('1'),
            dir_itself: flags.contains('d'),
        };
        let mut operands: Vec<&String> = args.iter().filter(|a| !a.starts_with('-') || a.len() == 1).collect();
        let implicit = operands.is_empty();
        let dot = ".".to_string();
        if implicit {
            operands.push(&dot);
        }
        operands.sort();
        let busybox = self.sh.userland.is_busybox();
        let mut status = 0;
        let mut files: Vec<DirEntry> = Vec::new();
        let mut dirs: Vec<(String, Vec<DirEntry>, Metadata)> = Vec::new();
        for op in &operands {
            let path = self.abs(op);
            match self.host.fs().stat(&path) {
                Ok(meta) if meta.kind == FileKind::Dir && !opts.dir_itself => {
                    let mut entries = self.host.fs().list(&path).unwrap_or_default();
                    if !(opts.all || opts.almost_all) {
                        entries.retain(|e| !e.name.starts_with('.'));
                    }
                    if opts.all {
                        let parent = self.host.fs().stat(&self.abs(&format!("{op}/.."))).unwrap_or(meta.clone());
                        entries.insert(0, DirEntry { name: "..".into(), meta: parent });
                        entries.insert(0, DirEntry { name: ".".into(), meta: meta.clone() });
                    }
                    dirs.push(((*op).clone(), entries, meta));
                }
                Ok(meta) => files.push(DirEntry { name: (*op).clone(), meta }),
                Err(e) => {
                    let text =
                        if busybox { format!("ls: {op}: {e}\n") } else { format!("ls: cannot access '{op}': {e}\n") };
                    self.err(&text);
                    status = if busybox { 1 } else { 2 };
                }
            }
        }
        let tty = self.out_is_tty() && !opts.one;
        let width = self.sh.width.saturating_sub(1).max(1);
        let now = self.host.now();
        let mut text = String::new();
        if !files.is_empty() {
            text.push_str(&render(&files, &opts, tty, width, busybox, now));
        }
        let headers = operands.len() > 1;
        for (i, (name, entries, _)) in dirs.iter().enumerate() {
            if !text.is_empty() || i > 0 {
                text.push('\n');
            }
            if headers {
                text.push_str(&format!("{name}:\n"));
            }
            if opts.long {
                let blocks: u64 = entries
                    .iter()
                    .filter(|e| e.name != "." && e.name != ".." || opts.all)
                    .map(|e| blocks_of(&e.meta))
                    .sum();
                text.push_str(&format!("total {blocks}\n"));
            }
            text.push_str(&render(entries, &opts, tty, width, busybox, now));
        }
        self.out(&text);
        status
    }
}

/// 1 KiB blocks as `ls -s`/`total` count them on ext4 (4 KiB allocation units).
fn blocks_of(meta: &Metadata) -> u64 {
    meta.size.div_ceil(4096) * 4
}

fn render(entries: &[DirEntry], opts: &Opts, tty: bool, width: usize, busybox: bool, now: Timestamp) -> String {
    if entries.is_empty() {
        return String::new();
    }
    if opts.long {
        return long_listing(entries, busybox, now);
    }
    if !tty {
        return entries.iter().map(|e| format!("{}\n", e.name)).collect();
    }
    if !busybox {
        return coreutils_columns(entries, width + 1);
    }
    // busybox's layout: equal columns of the longest name + 2, filled top to bottom.
    let column = entries.iter().map(|e| e.name.chars().count()).max().unwrap_or(0) + 2;
    let ncols = (width / column).max(1);
    let nrows = entries.len().div_ceil(ncols);
    let mut out = String::new();
    for row in 0..nrows {
        let mut line = String::new();
        for col in 0..ncols {
            let Some(e) = entries.get(col * nrows + row) else {
                continue;
            };
            if col > 0 {
                let pad = column * col - line.chars().count();
                line.push_str(&" ".repeat(pad));
            }
            line.push_str(&e.name);
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// coreutils' layout: as many columns as fit in `width`, each as wide as its longest name + 2.
fn coreutils_columns(entries: &[DirEntry], width: usize) -> String {
    let lens: Vec<usize> = entries.iter().map(|e| e.name.chars().count()).collect();
    let n = lens.len();
    let layout = |cols: usize| -> Option<(usize, Vec<usize>)> {
        let rows = n.div_ceil(cols);
        let mut widths = vec![0; cols];
        for (i, len) in lens.iter().enumerate() {
            let col = i / rows;
            let w = len + if col + 1 == cols { 0 } else { 2 };
            widths[col] = widths[col].max(w);
        }
        (widths.iter().sum::<usize>() < width).then_some((rows, widths))
    };
    let (rows, widths) = (1..=n.min(width / 3).max(1)).rev().find_map(layout).unwrap_or((n, vec![0]));
    let mut out = String::new();
    for row in 0..rows {
        let mut line = String::new();
        for (col, w) in widths.iter().enumerate() {
            let Some(e) = entries.get(col * rows + row) else {
                continue;
            };
            line.push_str(&e.name);
            if entries.get((col + 1) * rows + row).is_some() {
                line.push_str(&" ".repeat(w.saturating_sub(e.name.chars().count())));
            }
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

fn long_listing(entries: &[DirEntry], busybox: bool, now: Timestamp) -> String {
    let rows: Vec<(String, u64, u64, String, &str)> = entries
        .iter()
        .map(|e| {
            let mode = match e.meta.kind {
                FileKind::Dir => "drwxr-xr-x",
                FileKind::File => "-rw-r--r--",
            };
            (mode.to_string(), e.meta.nlink, e.meta.size, file_time(e.meta.mtime, now), e.name.as_str())
        })
        .collect();
    let mut out = String::new();
    if busybox {
        for (mode, nlink, size, time, name) in rows {
            out.push_str(&format!("{mode:<10} {nlink:>4} root     root     {size:>9} {time} {name}\n"));
        }
    } else {
        let lw = rows.iter().map(|r| r.1.to_string().len()).max().unwrap_or(1);
        let sw = rows.iter().map(|r| r.2.to_string().len()).max().unwrap_or(1);
        for (mode, nlink, size, time, name) in rows {
            out.push_str(&format!("{mode} {nlink:>lw$} root root {size:>sw$} {time} {name}\n"));
        }
    }
    out
}

/// `Nov 24 22:00` for the last six months, `Nov 24  2025` before.
fn file_time(t: Timestamp, now: Timestamp) -> String {
    let zoned = t.to_zoned(TimeZone::UTC);
    let age = now.as_second() - t.as_second();
    let recent = age < 3600 * 24 * 365 / 2 && age > -15 * 60;
    let format = if recent { "%b %e %H:%M" } else { "%b %e  %Y" };
    zoned.strftime(format).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(names: &[&str]) -> Vec<DirEntry> {
        let meta = Metadata { kind: FileKind::Dir, size: 4096, mtime: Timestamp::UNIX_EPOCH, nlink: 2 };
        names.iter().map(|n| DirEntry { name: n.to_string(), meta: meta.clone() }).collect()
    }

    #[test]
    fn coreutils_fits_columns_to_their_names() {
        let names = [
            "bin",
            "boot",
            "dev",
            "docker-entrypoint.d",
            "docker-entrypoint.sh",
            "etc",
            "home",
            "lib",
            "lib64",
            "media",
            "mnt",
            "opt",
            "proc",
            "root",
            "run",
            "sbin",
            "srv",
            "sys",
            "tmp",
            "usr",
            "var",
        ];
        assert_eq!(
            coreutils_columns(&entries(&names), 80),
            "bin   docker-entrypoint.d   home   media  proc  sbin  tmp\n\
             boot  docker-entrypoint.sh  lib    mnt    root  srv   usr\n\
             dev   etc                   lib64  opt    run   sys   var\n"
        );
        assert_eq!(coreutils_columns(&entries(&["a", "b"]), 80), "a  b\n");
    }

    #[test]
    fn long_format_of_each_tool() {
        let now: Timestamp = "2026-11-24T22:00:00Z".parse().unwrap();
        let mut list = entries(&["d"]);
        list[0].meta.mtime = now;
        assert_eq!(long_listing(&list, true, now), "drwxr-xr-x    2 root     root          4096 Nov 24 22:00 d\n");
        assert_eq!(long_listing(&list, false, now), "drwxr-xr-x 2 root root 4096 Nov 24 22:00 d\n");
        list[0].meta.mtime = "2025-01-02T03:04:05Z".parse().unwrap();
        assert_eq!(long_listing(&list, false, now), "drwxr-xr-x 2 root root 4096 Jan  2  2025 d\n");
    }
}
