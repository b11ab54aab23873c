//! Walks parsed scripts: lists, pipelines, redirections into the container filesystem,
//! expansion (parameters, `$(...)`, arithmetic, field splitting, globbing) and control flow.
//! Output goes through a stack of frames so pipes, `$(...)` and `> file` capture it.

use std::future::Future;
use std::pin::Pin;

use super::super::fs::{components, join, FsError, WriteMode};
use super::super::image::Userland;
use super::super::{Host, Output, Stream};
use super::ast::{AndOr, Command, Compound, Pipeline, Redir, RedirOp, Simple};
pub(super) use super::state::Shell;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Dest {
    Term(Stream),
    Capture(usize),
    File(String),
    Null,
}

#[derive(Debug, Clone)]
pub(super) struct Frame {
    pub out: Dest,
    pub err: Dest,
    /// What the command reads; there is no terminal input, so reads see end of file.
    pub input: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Flow {
    Normal,
    Exit(i32),
    Break(u32),
    Continue(u32),
}

/// What the pipes and command substitutions of one shell may hold at once.
pub(super) const MAX_CAPTURE: usize = 8 << 20;

pub(super) type Boxed<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The background jobs (`cmd &`) of a shell: what they wrote to the terminal, kept until the
/// foreground writes or waits (so the terminal shows both in the order they happened), and
/// how many still run (for `wait`).
#[derive(Default)]
pub(super) struct Jobs {
    pending: std::sync::Mutex<Vec<(Stream, String)>>,
    running: std::sync::atomic::AtomicUsize,
    finished: tokio::sync::Notify,
    started: std::sync::atomic::AtomicU32,
    /// Bytes in `pending`; past [`JOB_OUTPUT_LIMIT`] further output is dropped (said once).
    pending_bytes: std::sync::atomic::AtomicUsize,
}

/// The most background output kept while the foreground neither writes nor waits.
const JOB_OUTPUT_LIMIT: usize = 4 << 20;

pub(super) struct Interp<'a, H: Host> {
    pub host: &'a H,
    pub output: &'a mut Output,
    pub sh: &'a mut Shell,
    pub frames: Vec<Frame>,
    pub captures: Vec<String>,
    pub flow: Flow,
    /// Inside an `if`/`while` condition or a `&&`/`||` left side: `set -e` does not apply.
    pub cond: usize,
    /// Loops we are inside; `break` outside any is ignored.
    pub loops: usize,
    /// Shells, `eval`s and `.` scripts we are nested in.
    pub depth: usize,
    /// Status of the last `$(...)`, which a command of only assignments returns.
    pub subst_status: Option<i32>,
    /// A write to a redirected file failed (the volume is full): the command says so and fails.
    pub write_error: Option<FsError>,
    /// This shell's background jobs.
    pub jobs: std::sync::Arc<Jobs>,
}

impl<'a, H: Host> Interp<'a, H> {
    pub(super) fn new(host: &'a H, output: &'a mut Output, sh: &'a mut Shell) -> Self {
        Interp {
            host,
            output,
            sh,
            frames: vec![Frame { out: Dest::Term(Stream::Stdout), err: Dest::Term(Stream::Stderr), input: None }],
            captures: Vec::new(),
            flow: Flow::Normal,
            cond: 0,
            loops: 0,
            depth: 0,
            subst_status: None,
            write_error: None,
            jobs: std::sync::Arc::default(),
        }
    }

    /// Put what the background jobs wrote so far on the terminal.
    pub(super) fn drain_jobs(&mut self) {
        let pending = std::mem::take(&mut *self.jobs.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        self.jobs.pending_bytes.store(0, std::sync::atomic::Ordering::Release);
        for (stream, text) in pending {
            self.output.write(stream, &text);
        }
    }

    /// `wait`: until every background job has ended.
    pub(super) async fn wait_jobs(&mut self) {
        loop {
            let finished = self.jobs.finished.notified();
            if self.jobs.running.load(std::sync::atomic::Ordering::Acquire) == 0 {
                break;
            }
            finished.await;
        }
        self.drain_jobs();
    }

    pub(super) fn frame(&mut self) -> &mut Frame {
        if self.frames.is_empty() {
            self.frames.push(Frame { out: Dest::Term(Stream::Stdout), err: Dest::Term(Stream::Stderr), input: None });
        }
        let last = self.frames.len() - 1;
        &mut self.frames[last]
    }

    fn write_to(&mut self, dest: Dest, text: &str) {
        match dest {
            Dest::Term(stream) => {
                self.drain_jobs();
                self.output.write(stream, text);
            }
            Dest::Capture(i) => {
                // Pipes and `$(...)` are read only when the writer ends: past MAX_CAPTURE in
                // all, the writer ends as if its reader had gone (SIGPIPE), keeping what fits.
                let held: usize = self.captures.iter().map(String::len).sum();
                let room = MAX_CAPTURE.saturating_sub(held);
                if let Some(buf) = self.captures.get_mut(i) {
                    if text.len() <= room {
                        buf.push_str(text);
                    } else {
                        let mut cut = room;
                        while !text.is_char_boundary(cut) {
                            cut -= 1;
                        }
                        buf.push_str(&text[..cut]);
                        self.flow = Flow::Exit(141);
                    }
                }
            }
            Dest::File(path) => {
                if let Err(e) = self.host.fs().write(&path, text, WriteMode::Append) {
                    self.write_error.get_or_insert(e);
                }
            }
            Dest::Null => {}
        }
    }

    pub(super) fn out(&mut self, text: &str) {
        let dest = self.frame().out.clone();
        self.write_to(dest, text);
    }

    pub(super) fn err(&mut self, text: &str) {
        let dest = self.frame().err.clone();
        self.write_to(dest, text);
    }

    /// Everything on standard input (consumed).
    pub(super) fn stdin(&mut self) -> String {
        self.frame().input.take().unwrap_or_default()
    }

    /// Whether standard output is the terminal (for `ls` columns).
    pub(super) fn out_is_tty(&mut self) -> bool {
        self.sh.tty && self.frame().out == Dest::Term(Stream::Stdout)
    }

    /// `path` made absolute against the working directory and normalised.
    pub(super) fn abs(&self, path: &str) -> String {
        if path.starts_with('/') {
            join(&components(path))
        } else {
            join(&components(&format!("{}/{}", self.sh.cwd, path)))
        }
    }

    /// Print a shell diagnostic the way ash (`sh: cd: line 1: ...`) or dash
    /// (`sh: 1: cd: ...`) does.
    pub(super) fn shell_error(&mut self, builtin: Option<&str>, msg: &str) {
        let sh = &self.sh;
        let mut text = format!("{}: ", sh.arg0);
        if sh.userland == Userland::Debian {
            text.push_str(&format!("{}: ", sh.line));
            if let Some(b) = builtin {
                text.push_str(&format!("{b}: "));
            }
        } else {
            let command = builtin.or(sh.script_file.then_some(sh.arg0.as_str()));
            if let Some(c) = command {
                if c != sh.arg0 {
                    text.push_str(&format!("{c}: "));
                }
                if !sh.interactive {
                    text.push_str(&format!("line {}: ", sh.line));
                }
            }
        }
        text.push_str(msg);
        text.push('\n');
        self.err(&text);
    }

    pub(super) fn run_list<'s>(&'s mut self, script: &'s [AndOr]) -> Boxed<'s, i32> {
        Box::pin(async move {
            let mut status = self.sh.status;
            for (k, item) in script.iter().enumerate() {
                if self.flow != Flow::Normal {
                    break;
                }
                if item.background {
                    return self.run_in_background(item, &script[k + 1..]).await;
                }
                let has_rest = !item.rest.is_empty();
                if has_rest {
                    self.cond += 1;
                }
                status = self.run_pipeline(&item.first).await;
                self.sh.status = status;
                let mut last_ran = item.rest.is_empty();
                let mut last_negated = item.first.negate;
                for (i, (and, pipeline)) in item.rest.iter().enumerate() {
                    if self.flow != Flow::Normal {
                        break;
                    }
                    if *and != (status == 0) {
                        continue;
                    }
                    let is_last = i + 1 == item.rest.len();
                    if is_last {
                        self.cond -= 1;
                    }
                    status = self.run_pipeline(pipeline).await;
                    if is_last {
                        self.cond += 1;
                        last_ran = true;
                        last_negated = pipeline.negate;
                    }
                    self.sh.status = status;
                }
                if has_rest {
                    self.cond -= 1;
                }
                if self.sh.errexit
                    && self.cond == 0
                    && status != 0
                    && last_ran
                    && !last_negated
                    && self.flow == Flow::Normal
                {
                    self.flow = Flow::Exit(status);
                }
            }
            status
        })
    }

    /// `job &` then `rest`: the job runs in a subshell of its own while the rest of the list
    /// goes on; when the rest ends, so does the job (the shell's exit ends its children here,
    /// as the container's end does). Its terminal output is shown as it comes, between the
    /// foreground's writes.
    async fn run_in_background(&mut self, job: &AndOr, rest: &[AndOr]) -> i32 {
        use std::sync::atomic::Ordering;
        let jobs = self.jobs.clone();
        jobs.running.fetch_add(1, Ordering::AcqRel);
        let n = jobs.started.fetch_add(1, Ordering::AcqRel) + 1;
        // `$!`: the job's process id, as the shell would number it.
        self.sh.set("!", &(100 + n).to_string());
        let sink = jobs.clone();
        let mut job_out = Output::forwarding(move |stream, text| {
            let before = sink.pending_bytes.fetch_add(text.len(), Ordering::AcqRel);
            let mut pending = sink.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if before + text.len() <= JOB_OUTPUT_LIMIT {
                pending.push((stream, text.to_string()));
            } else if before <= JOB_OUTPUT_LIMIT {
                let note = "sh: background job output dropped: over 4 MiB waiting for the terminal\n";
                pending.push((Stream::Stderr, note.to_string()));
            }
        });
        let mut job_sh = self.sh.clone();
        let host = self.host;
        // The job as a list of its own, without its `&`.
        let mut fg_job = AndOr { background: false, ..job.clone() };
        let background = async {
            let mut interp = Interp::new(host, &mut job_out, &mut job_sh);
            interp.depth = 1;
            let _ = interp.run_list(std::slice::from_mut(&mut fg_job)).await;
            interp.drain_jobs();
            jobs.running.fetch_sub(1, Ordering::AcqRel);
            jobs.finished.notify_waiters();
        };
        let mut background = std::pin::pin!(background);
        let mut job_done = false;
        let status = {
            let foreground = self.run_list(rest);
            let mut foreground = std::pin::pin!(foreground);
            loop {
                tokio::select! {
                    status = &mut foreground => break status,
                    () = &mut background, if !job_done => job_done = true,
                }
            }
        };
        if !job_done {
            // The shell is done: its job goes with it.
            self.jobs.running.fetch_sub(1, Ordering::AcqRel);
        }
        self.drain_jobs();
        status
    }

    async fn run_pipeline(&mut self, pipeline: &Pipeline) -> i32 {
        let status = self.run_pipeline_inner(pipeline).await;
        if std::mem::take(&mut self.sh.out_of_memory) {
            self.shell_error(None, "out of memory");
            self.flow = Flow::Exit(2);
            return 2;
        }
        status
    }

    async fn run_pipeline_inner(&mut self, pipeline: &Pipeline) -> i32 {
        if pipeline.negate {
            self.cond += 1;
        }
        let status = if pipeline.commands.len() == 1 {
            self.run_command(&pipeline.commands[0]).await
        } else {
            let mut input = self.frame().input.take();
            let mut status = 0;
            let count = pipeline.commands.len();
            for (i, cmd) in pipeline.commands.iter().enumerate() {
                let last = i + 1 == count;
                let out = if last {
                    self.frame().out.clone()
                } else {
                    self.captures.push(String::new());
                    Dest::Capture(self.captures.len() - 1)
                };
                let err = self.frame().err.clone();
                self.frames.push(Frame { out, err, input: input.take() });
                // Every member of a pipeline runs in its own subshell.
                let saved = self.sh.clone();
                status = self.run_command(cmd).await;
                *self.sh = saved;
                self.flow = Flow::Normal;
                self.frames.pop();
                if !last {
                    input = self.captures.pop();
                }
            }
            status
        };
        if pipeline.negate {
            self.cond -= 1;
            i32::from(status == 0)
        } else {
            status
        }
    }

    async fn run_command(&mut self, cmd: &Command) -> i32 {
        match cmd {
            Command::Simple(simple) => self.run_simple(simple).await,
            Command::Compound(compound, redirs) => {
                let Some(frame) = self.redirect(redirs).await else {
                    return self.redirect_failed();
                };
                self.frames.push(frame);
                let status = self.run_compound(compound).await;
                self.frames.pop();
                status
            }
        }
    }

    async fn run_compound(&mut self, compound: &Compound) -> i32 {
        match compound {
            Compound::Group(body) => self.run_list(body).await,
            Compound::Subshell(body) => {
                let saved = self.sh.clone();
                let mut status = self.run_list(body).await;
                *self.sh = saved;
                if let Flow::Exit(code) = self.flow {
                    status = code;
                }
                self.flow = Flow::Normal;
                status
            }
            Compound::If { branches, otherwise } => {
                for (cond, body) in branches {
                    self.cond += 1;
                    let s = self.run_list(cond).await;
                    self.cond -= 1;
                    if self.flow != Flow::Normal {
                        return s;
                    }
                    if s == 0 {
                        return self.run_list(body).await;
                    }
                }
                match otherwise {
                    Some(body) => self.run_list(body).await,
                    None => 0,
                }
            }
            Compound::Loop { until, cond, body } => {
                let mut status = 0;
                self.loops += 1;
                loop {
                    // A busy loop must not starve the other simulated containers.
                    tokio::task::yield_now().await;
                    self.cond += 1;
                    let s = self.run_list(cond).await;
                    self.cond -= 1;
                    if self.flow != Flow::Normal || (s == 0) == *until {
                        break;
                    }
                    status = self.run_list(body).await;
                    if self.loop_flow() {
                        break;
                    }
                }
                self.loops -= 1;
                status
            }
            Compound::For { var, items, body } => {
                let values = match items {
                    Some(words) => {
                        let mut values = Vec::new();
                        for w in words {
                            values.extend(self.expand(w).await);
                        }
                        values
                    }
                    None => self.sh.args.clone(),
                };
                let mut status = 0;
                self.loops += 1;
                for value in values {
                    self.sh.set(var, &value);
                    status = self.run_list(body).await;
                    if self.loop_flow() {
                        break;
                    }
                }
                self.loops -= 1;
                status
            }
        }
    }

    /// After a loop body: whether to leave the loop, consuming one level of break/continue.
    fn loop_flow(&mut self) -> bool {
        match self.flow {
            Flow::Normal => false,
            Flow::Exit(_) => true,
            Flow::Break(n) => {
                self.flow = if n > 1 { Flow::Break(n - 1) } else { Flow::Normal };
                true
            }
            Flow::Continue(n) => {
                if n > 1 {
                    self.flow = Flow::Continue(n - 1);
                    true
                } else {
                    self.flow = Flow::Normal;
                    false
                }
            }
        }
    }

    async fn run_simple(&mut self, cmd: &Simple) -> i32 {
        self.sh.line = self.sh.line_base + cmd.line;
        self.subst_status = None;
        let mut argv = Vec::new();
        for w in &cmd.words {
            argv.extend(self.expand(w).await);
        }
        let mut assigns = Vec::new();
        for (name, w) in &cmd.assigns {
            assigns.push((name.clone(), self.expand_single(w).await));
        }
        let Some(frame) = self.redirect(&cmd.redirs).await else {
            return self.redirect_failed();
        };
        if argv.is_empty() {
            for (name, value) in assigns {
                self.sh.set(&name, &value);
            }
            return self.subst_status.unwrap_or(0);
        }
        if argv[0] == "exec" && argv.len() == 1 {
            // `exec >log 2>&1` redirects the shell itself from here on.
            *self.frame() = frame;
            return 0;
        }
        self.frames.push(frame);
        let saved = (!assigns.is_empty()).then(|| self.sh.vars.clone());
        for (name, value) in &assigns {
            self.sh.set(name, value);
            self.sh.export(name);
        }
        let mut status = self.dispatch(&argv).await;
        if let Some(e) = self.write_error.take() {
            self.err(&format!("{}: write error: {e}\n", argv[0]));
            // That message may not fit either; it is not the next command's failure.
            self.write_error = None;
            status = 1;
        }
        if let Some(vars) = saved {
            self.sh.vars = vars;
        }
        self.frames.pop();
        status
    }

    /// Apply redirections on top of the current frame; `None` after printing why one failed.
    pub(super) async fn redirect(&mut self, redirs: &[Redir]) -> Option<Frame> {
        let mut frame = self.frame().clone();
        for r in redirs {
            let target = self.expand_single(&r.target).await;
            match r.op {
                RedirOp::Out | RedirOp::Append | RedirOp::Both => {
                    let dest = match target.as_str() {
                        "/dev/null" => Dest::Null,
                        "/dev/stdout" => frame.out.clone(),
                        "/dev/stderr" => frame.err.clone(),
                        _ => {
                            let path = self.abs(&target);
                            let mode = if r.op == RedirOp::Append { WriteMode::Append } else { WriteMode::Truncate };
                            if let Err(e) = self.host.fs().write(&path, "", mode) {
                                let msg = self.redirect_message(&target, e, true);
                                self.shell_error(None, &msg);
                                return None;
                            }
                            Dest::File(path)
                        }
                    };
                    match (r.op, r.fd) {
                        (RedirOp::Both, _) => {
                            frame.out = dest.clone();
                            frame.err = dest;
                        }
                        (_, 2) => frame.err = dest,
                        (_, 1) => frame.out = dest,
                        _ => {}
                    }
                }
                RedirOp::In => {
                    let text =
                        if target == "/dev/null" { Ok(String::new()) } else { self.host.fs().read(&self.abs(&target)) };
                    match text {
                        Ok(text) => frame.input = Some(text),
                        Err(FsError::IsADirectory) => frame.input = Some(String::new()),
                        Err(e) => {
                            let msg = self.redirect_message(&target, e, false);
                            self.shell_error(None, &msg);
                            return None;
                        }
                    }
                }
                RedirOp::Dup => {
                    let dest = match target.as_str() {
                        "-" => Some(Dest::Null),
                        "1" => Some(frame.out.clone()),
                        "2" => Some(frame.err.clone()),
                        _ => None,
                    };
                    match (dest, r.fd) {
                        (Some(d), 1) => frame.out = d,
                        (Some(d), 2) => frame.err = d,
                        (Some(_), _) => {}
                        (None, _) => {
                            let msg = format!("{target}: Bad file descriptor");
                            self.shell_error(None, &msg);
                            return None;
                        }
                    }
                }
            }
        }
        Some(frame)
    }

    /// The status of a command whose redirection failed (ash 1, dash 2).
    fn redirect_failed(&self) -> i32 {
        if self.sh.userland == Userland::Debian {
            2
        } else {
            1
        }
    }

    fn redirect_message(&self, target: &str, e: FsError, create: bool) -> String {
        let missing = matches!(e, FsError::NotFound | FsError::NotADirectory);
        match (self.sh.userland == Userland::Debian, create, missing) {
            (false, true, true) => format!("can't create {target}: nonexistent directory"),
            (false, true, false) => format!("can't create {target}: {e}"),
            (false, false, true) => format!("can't open {target}: no such file"),
            (false, false, false) => format!("can't open {target}: {e}"),
            (true, true, true) => format!("cannot create {target}: Directory nonexistent"),
            (true, true, false) => format!("cannot create {target}: {e}"),
            (true, false, true) => format!("cannot open {target}: No such file"),
            (true, false, false) => format!("cannot open {target}: {e}"),
        }
    }
}
