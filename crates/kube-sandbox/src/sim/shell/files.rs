//! File applets: `cat`, `touch`, `mkdir`, `rm`/`rmdir`, `cp`, `mv`, and the busybox or
//! coreutils wording of their failures.

use super::super::fs::{ContainerFs, FileKind, FsError, Metadata, WriteMode};
use super::super::Host;
use super::exec::Interp;

impl<'a, H: Host> Interp<'a, H> {
    /// `cat: can't open 'x': No such file or directory` (busybox) or `cat: x: No such file
    /// or directory` (coreutils).
    pub(super) fn file_error(&mut self, applet: &str, verb: &str, file: &str, e: FsError) {
        let text = if self.busybox() {
            format!("{applet}: can't {verb} '{file}': {e}\n")
        } else {
            let verb = match verb {
                "remove" => "cannot remove",
                "stat" => "cannot stat",
                "create directory" => "cannot create directory",
                _ => "",
            };
            if verb.is_empty() {
                format!("{applet}: {file}: {e}\n")
            } else {
                format!("{applet}: {verb} '{file}': {e}\n")
            }
        };
        self.err(&text);
    }

    /// Read the named files (or stdin for none or `-`), reporting unreadable ones.
    pub(super) fn inputs(&mut self, applet: &str, files: &[&String]) -> (Vec<(String, String)>, i32) {
        if files.is_empty() {
            return (vec![("-".into(), self.stdin())], 0);
        }
        let mut out = Vec::new();
        let mut status = 0;
        for f in files {
            if f.as_str() == "-" {
                out.push(("-".into(), self.stdin()));
                continue;
            }
            match self.host.fs().read(&self.abs(f)) {
                Ok(text) => out.push(((*f).clone(), text)),
                Err(FsError::IsADirectory) if applet == "cat" && self.busybox() => {
                    self.err("cat: read error: Is a directory\n");
                    status = 1;
                }
                Err(e) if self.busybox() && applet == "cat" => {
                    self.file_error(applet, "open", f, e);
                    status = 1;
                }
                Err(e) => {
                    self.err(&format!("{applet}: {f}: {e}\n"));
                    status = if applet == "grep" { 2 } else { 1 };
                }
            }
        }
        (out, status)
    }

    pub(super) fn cat(&mut self, args: &[String]) -> i32 {
        let files: Vec<&String> = args.iter().filter(|a| *a == "-" || !a.starts_with('-')).collect();
        let (inputs, status) = self.inputs("cat", &files);
        for (_, text) in inputs {
            self.out(&text);
        }
        status
    }

    pub(super) fn each_file(
        &mut self,
        args: &[String],
        mut op: impl FnMut(&mut Self, &str) -> Result<(), (FsError, String)>,
    ) -> i32 {
        let mut status = 0;
        for f in args.iter().filter(|a| !a.starts_with('-')) {
            if let Err((e, f)) = op(self, f) {
                let text = if self.busybox() {
                    format!("touch: {f}: {e}\n")
                } else {
                    format!("touch: cannot touch '{f}': {e}\n")
                };
                self.err(&text);
                status = 1;
            }
        }
        status
    }

    pub(super) fn mkdir(&mut self, args: &[String]) -> i32 {
        let parents = args.iter().any(|a| a.starts_with('-') && a.contains('p'));
        let mut status = 0;
        for d in args.iter().filter(|a| !a.starts_with('-')) {
            if let Err(e) = self.host.fs().mkdir(&self.abs(d), parents) {
                self.file_error("mkdir", "create directory", d, e);
                status = 1;
            }
        }
        status
    }

    pub(super) fn rm(&mut self, name: &str, args: &[String]) -> i32 {
        let flags: String = args.iter().filter(|a| a.starts_with('-')).map(|a| &a[1..]).collect();
        let recursive = name == "rm" && (flags.contains('r') || flags.contains('R'));
        let force = flags.contains('f');
        let mut status = 0;
        for p in args.iter().filter(|a| !a.starts_with('-')) {
            let path = self.abs(p);
            let fs = self.host.fs();
            let result = match fs.stat(&path) {
                Ok(meta) if meta.kind == FileKind::Dir && name == "rm" && !recursive => {
                    let text = if self.busybox() {
                        format!("rm: '{p}' is a directory\n")
                    } else {
                        format!("rm: cannot remove '{p}': Is a directory\n")
                    };
                    self.err(&text);
                    status = 1;
                    continue;
                }
                Ok(meta) if meta.kind == FileKind::File && name == "rmdir" => Err(FsError::NotADirectory),
                Ok(_) => fs.remove(&path, recursive),
                Err(e) => Err(e),
            };
            match result {
                Err(FsError::NotFound) if force => {}
                Err(e) => {
                    self.file_error(name, "remove", p, e);
                    status = 1;
                }
                Ok(()) => {}
            }
        }
        status
    }

    pub(super) fn copy_move(&mut self, mv: bool, args: &[String]) -> i32 {
        let name = if mv { "mv" } else { "cp" };
        let recursive =
            args.iter().any(|a| a.starts_with('-') && (a.contains('r') || a.contains('R') || a.contains('a')));
        let paths: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
        let Some((dest, sources)) = paths.split_last().filter(|(_, s)| !s.is_empty()) else {
            self.err(&format!("{name}: missing file operand\n"));
            return 1;
        };
        let fs = self.host.fs().clone();
        let dest_abs = self.abs(dest);
        let into_dir = fs.is_dir(&dest_abs);
        let mut status = 0;
        for src in sources {
            let src_abs = self.abs(src);
            let base = src_abs.rsplit('/').next().unwrap_or_default();
            let target = if into_dir { format!("{dest_abs}/{base}") } else { dest_abs.clone() };
            let meta = match fs.stat(&src_abs) {
                Ok(m) => m,
                Err(e) => {
                    self.file_error(name, "stat", src, e);
                    status = 1;
                    continue;
                }
            };
            let result = if mv {
                match fs.rename(&src_abs, &target) {
                    Err(FsError::CrossDevice) => {
                        copy_tree(&fs, &src_abs, &target, &meta).and_then(|()| fs.remove(&src_abs, true))
                    }
                    r => r,
                }
            } else if meta.kind == FileKind::Dir && !recursive {
                let text = if self.busybox() {
                    format!("cp: omitting directory '{src}'\n")
                } else {
                    format!("cp: -r not specified; omitting directory '{src}'\n")
                };
                self.err(&text);
                status = 1;
                continue;
            } else {
                copy_tree(&fs, &src_abs, &target, &meta)
            };
            if let Err(e) = result {
                self.file_error(name, "create", dest, e);
                status = 1;
            }
        }
        status
    }
}

fn copy_tree(fs: &ContainerFs, from: &str, to: &str, meta: &Metadata) -> Result<(), FsError> {
    if meta.kind == FileKind::File {
        let data = fs.read(from)?;
        return fs.write(to, &data, WriteMode::Truncate);
    }
    fs.mkdir(to, true)?;
    for entry in fs.list(from)? {
        copy_tree(fs, &format!("{from}/{}", entry.name), &format!("{to}/{}", entry.name), &entry.meta)?;
    }
    Ok(())
}
