//! `tar` as `kubectl cp` runs it: `tar cf - PATH...` (a pod's files to the client) and
//! `tar -xmf - -C DIR` (the client's files into a pod), with `-t`, `-v`, `-C` and the GNU
//! long options kubectl may add. Archives are ustar, built and read with the `tar` crate. The
//! simulated filesystem holds text, so the archive stream is text too (a file that is not UTF-8
//! cannot be copied in).

use std::io::Read as _;

use super::super::fs::{FileKind, WriteMode};
use super::super::Host;
use super::exec::Interp;

impl<H: Host> Interp<'_, H> {
    pub(super) async fn tar(&mut self, args: &[String]) -> i32 {
        let gnu = !self.sh.userland.is_busybox();
        let mut mode = None;
        let mut file = None;
        let mut dir = None;
        let mut verbose = false;
        let mut operands = Vec::new();
        let mut it = args.iter().enumerate().peekable();
        while let Some((i, a)) = it.next() {
            if a.starts_with("--") {
                match a.as_str() {
                    "--no-same-permissions" | "--no-same-owner" | "--touch" => {}
                    "--extract" | "--get" => mode = Some('x'),
                    "--create" => mode = Some('c'),
                    "--list" => mode = Some('t'),
                    "--verbose" => verbose = true,
                    other => {
                        self.err(&format!("tar: unrecognized option '{other}'\n"));
                        return 2;
                    }
                }
                continue;
            }
            // The first word may be a cluster of letters without a dash (`tar cf - x`).
            let letters = match a.strip_prefix('-') {
                Some(l) => l,
                None if i == 0 => a.as_str(),
                None => {
                    operands.push(a.clone());
                    continue;
                }
            };
            for c in letters.chars() {
                match c {
                    'c' | 'x' | 't' => mode = Some(c),
                    'v' => verbose = true,
                    'm' | 'o' | 'p' => {}
                    'f' | 'C' => {
                        let Some((_, value)) = it.next() else {
                            self.err(&format!("tar: option requires an argument -- '{c}'\n"));
                            return 2;
                        };
                        if c == 'f' {
                            file = Some(value.clone());
                        } else {
                            dir = Some(value.clone());
                        }
                    }
                    other => {
                        self.err(&format!("tar: invalid option -- '{other}'\n"));
                        return 2;
                    }
                }
            }
        }
        if file.as_deref().is_some_and(|f| f != "-") {
            self.err("tar: only - (standard input or output) is supported as the archive here\n");
            return 2;
        }
        let base = self.abs(dir.as_deref().unwrap_or("."));
        match mode {
            Some('c') => self.tar_create(&base, &operands, verbose, gnu),
            Some('x') => self.tar_extract(&base, verbose, false),
            Some('t') => self.tar_extract(&base, verbose, true),
            _ => {
                let msg = if gnu {
                    "tar: You must specify one of the '-Acdtrux', '--delete' or '--test-label' options\nTry 'tar --help' or 'tar --usage' for more information.\n"
                } else {
                    "tar: need at least one of -c, -t or -x\n"
                };
                self.err(msg);
                2
            }
        }
    }

    fn tar_create(&mut self, base: &str, paths: &[String], verbose: bool, gnu: bool) -> i32 {
        if paths.is_empty() {
            let msg = if gnu { "tar: Cowardly refusing to create an empty archive\n" } else { "tar: empty archive\n" };
            self.err(msg);
            return 2;
        }
        let mut builder = tar::Builder::new(Vec::new());
        let mut status = 0;
        let mut warned = false;
        for p in paths {
            let name = p.trim_start_matches('/');
            if name.len() != p.len() && !warned {
                self.err("tar: Removing leading `/' from member names\n");
                warned = true;
            }
            let full = if p.starts_with('/') { self.abs(p) } else { self.abs(&format!("{base}/{p}")) };
            if let Err(e) = self.tar_add(&mut builder, &full, name.trim_end_matches('/'), verbose) {
                self.err(&format!("tar: {p}: {e}\n"));
                status = 2;
            }
        }
        match builder.into_inner() {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => self.out(&text),
                Err(_) => {
                    self.err("tar: the archive is not text, which this simulated tar cannot write\n");
                    return 2;
                }
            },
            Err(e) => {
                self.err(&format!("tar: {e}\n"));
                return 2;
            }
        }
        status
    }

    fn tar_add(
        &mut self,
        builder: &mut tar::Builder<Vec<u8>>,
        path: &str,
        name: &str,
        verbose: bool,
    ) -> Result<(), String> {
        let fs = self.host.fs();
        let meta = fs.stat(path).map_err(|e| e.to_string())?;
        let mut header = tar::Header::new_ustar();
        header.set_mtime(meta.mtime.as_second().max(0) as u64);
        header.set_uid(0);
        header.set_gid(0);
        if verbose {
            self.err(&format!("{name}{}\n", if meta.kind == FileKind::Dir { "/" } else { "" }));
        }
        if meta.kind == FileKind::Dir {
            header.set_entry_type(tar::EntryType::Directory);
            header.set_mode(0o755);
            header.set_size(0);
            header.set_cksum();
            builder.append_data(&mut header, format!("{name}/"), std::io::empty()).map_err(|e| e.to_string())?;
            let entries = self.host.fs().list(path).map_err(|e| e.to_string())?;
            for e in entries {
                self.tar_add(builder, &format!("{path}/{}", e.name), &format!("{name}/{}", e.name), verbose)?;
            }
            return Ok(());
        }
        let data = fs.read(path).map_err(|e| e.to_string())?;
        header.set_entry_type(tar::EntryType::Regular);
        header.set_mode(0o644);
        header.set_size(data.len() as u64);
        header.set_cksum();
        builder.append_data(&mut header, name, data.as_bytes()).map_err(|e| e.to_string())
    }

    fn tar_extract(&mut self, base: &str, verbose: bool, list_only: bool) -> i32 {
        let input = self.stdin();
        if input.is_empty() {
            self.err(
                "tar: This does not look like a tar archive\ntar: Exiting with failure status due to previous errors\n",
            );
            return 2;
        }
        let mut archive = tar::Archive::new(input.as_bytes());
        let entries = match archive.entries() {
            Ok(e) => e,
            Err(e) => {
                self.err(&format!("tar: {e}\n"));
                return 2;
            }
        };
        let mut status = 0;
        for entry in entries {
            let Ok(mut entry) = entry else {
                self.err("tar: This does not look like a tar archive\ntar: Exiting with failure status due to previous errors\n");
                return 2;
            };
            let name = entry.path().map(|p| p.to_string_lossy().into_owned()).unwrap_or_default();
            if name.split('/').any(|c| c == "..") {
                self.err(&format!("tar: {name}: Member name contains '..'\n"));
                status = 2;
                continue;
            }
            if list_only || verbose {
                self.out(&format!("{name}\n"));
            }
            if list_only {
                continue;
            }
            let dest = self.abs(&format!("{base}/{}", name.trim_start_matches('/')));
            let fs = self.host.fs();
            let result = if entry.header().entry_type().is_dir() {
                fs.mkdir(&dest, true).map_err(|e| e.to_string())
            } else {
                let mut data = String::new();
                match entry.read_to_string(&mut data) {
                    Ok(_) => {
                        if let Some((parent, _)) = dest.rsplit_once('/').filter(|(p, _)| !p.is_empty()) {
                            let _ = fs.mkdir(parent, true);
                        }
                        fs.write(&dest, &data, WriteMode::Truncate).map_err(|e| e.to_string())
                    }
                    Err(e) => Err(e.to_string()),
                }
            };
            if let Err(e) = result {
                self.err(&format!("tar: {name}: Cannot open: {e}\n"));
                status = 2;
            }
        }
        status
    }
}
