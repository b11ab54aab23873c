//! Interactive processes: a container started with `stdin: true` whose command is a shell
//! (what `kubectl run -it ... -- sh` creates), and `kubectl exec -it POD -- sh`. Input arrives
//! from attach/exec streams; a terminal line discipline (echo, backspace, Ctrl-C, Ctrl-D) runs
//! in front of the simulated shell, as the pty would on a real node.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::sync::{broadcast, mpsc};

use super::host::ContainerHost;
use crate::sim::{Output, Session, Stream};

/// What an attached client sends.
#[derive(Debug, Clone)]
pub(crate) enum Input {
    Data(Vec<u8>),
    /// Terminal size changed (to this many columns); the shell redraws its prompt, as ash does
    /// on SIGWINCH. The rows do not matter to a line-mode shell.
    Resize(u16),
    /// The client closed stdin.
    Close,
}

/// The stdin and stdout of an interactive container, shared by every attached client.
#[derive(Clone)]
pub(crate) struct Console {
    input: mpsc::UnboundedSender<Input>,
    output: broadcast::Sender<(Stream, Bytes)>,
    pub tty: bool,
}

impl Console {
    /// A console and the receiving end its process reads.
    pub(crate) fn new(tty: bool) -> (Console, mpsc::UnboundedReceiver<Input>) {
        let (input, rx) = mpsc::unbounded_channel();
        let (output, _) = broadcast::channel(1024);
        (Console { input, output, tty }, rx)
    }

    /// Where input goes, without keeping the output open: a client's input pump holds this, so
    /// the output ends when the process does.
    pub(crate) fn input(&self) -> mpsc::UnboundedSender<Input> {
        self.input.clone()
    }

    /// Output from now on; ends when the process exits.
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<(Stream, Bytes)> {
        self.output.subscribe()
    }

    fn emit(&self, stream: Stream, text: &str) {
        let _ = self.output.send((stream, Bytes::from(text.to_string())));
    }
}

/// Whether `argv` starts an interactive shell (no script, no command string).
pub(crate) fn is_interactive_shell(argv: &[String]) -> bool {
    let Some(first) = argv.first() else { return false };
    let base = first.rsplit('/').next().unwrap_or(first);
    matches!(base, "sh" | "ash" | "bash" | "dash") && argv[1..].iter().all(|a| a == "-i" || a == "-l" || a == "-il")
}

/// Terminal line editing in front of the shell: returns complete lines and control events, and
/// what to echo back.
#[derive(Default)]
struct LineDiscipline {
    tty: bool,
    line: String,
    /// Inside an escape sequence (arrow keys): ignore until its final byte.
    escape: u8,
    pending_utf8: Vec<u8>,
}

enum Event {
    Line(String),
    Interrupt,
    Eof,
}

impl LineDiscipline {
    fn feed(&mut self, bytes: &[u8], echo: &mut String, events: &mut Vec<Event>) {
        if !self.tty {
            self.pending_utf8.extend_from_slice(bytes);
            while let Some(i) = self.pending_utf8.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.pending_utf8.drain(..=i).collect();
                events.push(Event::Line(String::from_utf8_lossy(&line[..line.len() - 1]).into_owned()));
            }
            return;
        }
        for &b in bytes {
            if self.escape == 1 {
                self.escape = if b == b'[' || b == b'O' { 2 } else { 0 };
                continue;
            }
            if self.escape == 2 {
                if (0x40..=0x7e).contains(&b) {
                    self.escape = 0;
                }
                continue;
            }
            match b {
                b'\r' | b'\n' => {
                    echo.push_str("\r\n");
                    events.push(Event::Line(std::mem::take(&mut self.line)));
                }
                0x7f | 0x08 => {
                    if self.line.pop().is_some() {
                        echo.push_str("\x08 \x08");
                    }
                }
                0x03 => {
                    echo.push_str("^C\r\n");
                    self.line.clear();
                    events.push(Event::Interrupt);
                }
                0x04 => {
                    if self.line.is_empty() {
                        events.push(Event::Eof);
                    }
                }
                0x15 => {
                    for _ in 0..self.line.chars().count() {
                        echo.push_str("\x08 \x08");
                    }
                    self.line.clear();
                }
                0x1b => self.escape = 1,
                b'\t' => {}
                b if b < 0x20 => {}
                b => {
                    self.pending_utf8.push(b);
                    if let Ok(s) = std::str::from_utf8(&self.pending_utf8) {
                        echo.push_str(s);
                        self.line.push_str(s);
                        self.pending_utf8.clear();
                    } else if self.pending_utf8.len() >= 4 {
                        self.pending_utf8.clear();
                    }
                }
            }
        }
    }
}

/// Text as a terminal shows it: with a tty, `\n` becomes `\r\n` (the pty's onlcr).
fn on_terminal(tty: bool, text: &str) -> String {
    if tty {
        text.replace('\n', "\r\n")
    } else {
        text.to_string()
    }
}

/// Run an interactive shell on `console` until it exits; returns its exit status. Everything it
/// prints also goes to `log` (an attached container's output is its log; an exec's is not).
/// Where a shell's output is also logged (the container log of `kubectl run -it`).
pub(crate) type LogSink = Box<dyn FnMut(&str) + Send>;

pub(crate) async fn run_shell(
    argv0: &str,
    host: Arc<ContainerHost>,
    console: Console,
    mut input: mpsc::UnboundedReceiver<Input>,
    log: Option<LogSink>,
) -> i32 {
    let tty = console.tty;
    let log = Arc::new(Mutex::new(log));
    let say = {
        let console = console.clone();
        let log = log.clone();
        move |stream: Stream, text: &str| {
            if let Some(l) = log.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
                l(text);
            }
            console.emit(stream, &on_terminal(tty, text));
        }
    };
    let mut session = Session::new(argv0, host.as_ref());
    let mut ld = LineDiscipline { tty, ..Default::default() };
    let mut queued: std::collections::VecDeque<Event> = Default::default();
    if tty {
        say(Stream::Stdout, &session.prompt());
    }
    loop {
        let event = match queued.pop_front() {
            Some(e) => e,
            None => match input.recv().await {
                None | Some(Input::Close) => Event::Eof,
                Some(Input::Resize(cols)) => {
                    session.set_width(usize::from(cols));
                    if tty {
                        say(Stream::Stdout, &format!("\r{}{}", session.prompt(), ld.line));
                    }
                    continue;
                }
                Some(Input::Data(bytes)) => {
                    let mut echo = String::new();
                    let mut events = Vec::new();
                    ld.feed(&bytes, &mut echo, &mut events);
                    if !echo.is_empty() {
                        console.emit(Stream::Stdout, &echo);
                    }
                    queued.extend(events);
                    continue;
                }
            },
        };
        match event {
            Event::Eof => {
                if tty {
                    say(Stream::Stdout, "\n");
                }
                return session.eof();
            }
            Event::Interrupt => session.interrupt(),
            Event::Line(line) => {
                let sink = say.clone();
                let mut out = Output::forwarding(move |s, t| sink(s, t));
                // A command runs until it ends or Ctrl-C; keystrokes typed meanwhile are kept.
                let fed = {
                    let run = session.feed(&line, host.as_ref(), &mut out);
                    tokio::pin!(run);
                    loop {
                        tokio::select! {
                            code = &mut run => break Some(code),
                            i = input.recv() => match i {
                                Some(Input::Data(bytes)) => {
                                    let mut echo = String::new();
                                    let mut events = Vec::new();
                                    ld.feed(&bytes, &mut echo, &mut events);
                                    if !echo.is_empty() {
                                        console.emit(Stream::Stdout, &echo);
                                    }
                                    if events.iter().any(|e| matches!(e, Event::Interrupt)) {
                                        break None;
                                    }
                                    queued.extend(events);
                                }
                                Some(Input::Resize(..)) => {}
                                None | Some(Input::Close) => queued.push_back(Event::Eof),
                            }
                        }
                    }
                };
                match fed {
                    Some(Some(code)) => return code,
                    Some(None) => {}
                    None => session.interrupt(),
                }
            }
        }
        if let Some(code) = session.exit_code() {
            return code;
        }
        if tty {
            say(Stream::Stdout, &session.prompt());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_discipline_echoes_and_edits() {
        let mut ld = LineDiscipline { tty: true, ..Default::default() };
        let (mut echo, mut ev) = (String::new(), Vec::new());
        ld.feed(b"lsx\x7f -l\x1b[A\r", &mut echo, &mut ev);
        assert_eq!(echo, "lsx\x08 \x08 -l\r\n");
        assert!(matches!(&ev[..], [Event::Line(l)] if l == "ls -l"));
        let (mut echo, mut ev) = (String::new(), Vec::new());
        ld.feed(b"sleep 9\x03\x04", &mut echo, &mut ev);
        assert_eq!(echo, "sleep 9^C\r\n");
        assert!(matches!(&ev[..], [Event::Interrupt, Event::Eof]));
    }

    #[test]
    fn without_a_tty_lines_split_on_newlines() {
        let mut ld = LineDiscipline::default();
        let (mut echo, mut ev) = (String::new(), Vec::new());
        ld.feed(b"echo a\necho", &mut echo, &mut ev);
        ld.feed(b" b\n", &mut echo, &mut ev);
        assert!(echo.is_empty());
        let lines: Vec<&str> = ev
            .iter()
            .map(|e| match e {
                Event::Line(l) => l.as_str(),
                _ => "?",
            })
            .collect();
        assert_eq!(lines, ["echo a", "echo b"]);
    }

    #[test]
    fn interactive_shell_commands() {
        let v = |a: &[&str]| a.iter().map(ToString::to_string).collect::<Vec<_>>();
        assert!(is_interactive_shell(&v(&["sh"])));
        assert!(is_interactive_shell(&v(&["/bin/sh", "-i"])));
        assert!(!is_interactive_shell(&v(&["sh", "-c", "echo hi"])));
        assert!(!is_interactive_shell(&v(&["nslookup", "web-0.nginx"])));
        assert!(!is_interactive_shell(&[]));
    }
}
