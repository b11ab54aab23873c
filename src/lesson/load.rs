//! Loads lessons: the ones embedded in the binary (`lessons/` at build time) and an
//! instructor's own from a folder (`--lessons-dir` / `KUBETUTOR_LESSONS_DIR`). Every problem is
//! reported with the file, the step and the field, e.g.
//! `lessons/statefulset/lesson.yaml: step 1 (statefulset): editor.blanks: the starter has 9 blanks (???) but 8 are described`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::blanks::find_blanks;
use super::model::{Blank, Lesson, Link, Starter, Step, FORMAT_VERSION};
use crate::checks::roles::PLACEHOLDERS;
use crate::checks::CheckSpec;
use crate::checks::{Check, Names};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/lessons.rs"));
}

/// The environment variable naming an extra lessons folder.
pub const LESSONS_DIR_ENV: &str = "KUBETUTOR_LESSONS_DIR";

/// The prefix of a solution action that waits for a check of the step to pass.
pub const WAIT_FOR: &str = "wait for ";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    /// A file is missing or unreadable, or is not valid YAML for its place.
    #[error("{file}: {message}")]
    File { file: String, message: String },
    /// The file parses but says something invalid.
    #[error("{file}: {}{field}: {message}", step_prefix(.step))]
    Invalid { file: String, step: Option<(usize, String)>, field: String, message: String },
    #[error("there is no lesson called {slug:?} (known: {known})")]
    NotFound { slug: String, known: String },
}

fn step_prefix(step: &Option<(usize, String)>) -> String {
    match step {
        Some((i, id)) => format!("step {i} ({id}): "),
        None => String::new(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LessonFile {
    #[allow(dead_code)]
    format_version: u32,
    title: String,
    summary: String,
    steps: Vec<StepFile>,
    recap: String,
    #[serde(default)]
    links: Vec<LinkFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StepFile {
    id: String,
    title: String,
    text: String,
    #[serde(default)]
    editor: Option<EditorFile>,
    #[serde(default)]
    hints: Vec<String>,
    checks: Vec<CheckFile>,
    #[serde(default)]
    solution: Vec<String>,
    #[serde(default)]
    solution_actions: Vec<String>,
    #[serde(default)]
    quiz: Vec<super::quiz::QuestionFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EditorFile {
    file: String,
    #[serde(default)]
    blanks: Vec<BlankFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BlankFile {
    label: String,
    #[serde(default)]
    hints: Vec<String>,
    #[serde(default)]
    agrees_with: Option<String>,
    #[serde(default)]
    fills: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckFile {
    name: String,
    kind: String,
    #[serde(default)]
    params: serde_json::Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkFile {
    title: String,
    url: String,
}

/// Where a lesson's files come from.
enum Source<'a> {
    Embedded { slug: &'a str },
    Dir(&'a Path),
}

impl Source<'_> {
    fn display(&self, rel: &str) -> String {
        match self {
            Source::Embedded { slug } => format!("lessons/{slug}/{rel}"),
            Source::Dir(dir) => dir.join(rel).display().to_string(),
        }
    }

    fn dir(&self) -> PathBuf {
        match self {
            Source::Embedded { slug } => PathBuf::from("lessons").join(slug),
            Source::Dir(dir) => dir.to_path_buf(),
        }
    }

    /// The text of `rel`, a path inside the lesson folder.
    fn read(&self, rel: &str) -> Result<String, String> {
        if rel.is_empty() || Path::new(rel).is_absolute() || rel.split(['/', '\\']).any(|c| c == "..") {
            return Err(format!("{rel:?} must be a relative path inside the lesson folder"));
        }
        match self {
            Source::Embedded { slug } => {
                let key = format!("{slug}/{rel}");
                embedded::FILES
                    .iter()
                    .find(|(p, _)| *p == key)
                    .map(|(_, t)| t.to_string())
                    .ok_or_else(|| format!("{} does not exist", self.display(rel)))
            }
            Source::Dir(dir) => {
                std::fs::read_to_string(dir.join(rel)).map_err(|e| format!("cannot read {}: {e}", self.display(rel)))
            }
        }
    }
}

/// The lessons built into this binary, by slug.
pub fn builtin() -> Result<Vec<Lesson>, LoadError> {
    let mut slugs: Vec<&str> = embedded::FILES
        .iter()
        .filter_map(|(p, _)| p.strip_suffix("/lesson.yaml"))
        .filter(|s| !s.contains('/'))
        .collect();
    slugs.sort();
    slugs.into_iter().map(|slug| load(&Source::Embedded { slug }, slug)).collect()
}

/// Load the lesson in folder `dir` (the folder holding `lesson.yaml`); its slug is the folder name.
pub fn load_dir(dir: &Path) -> Result<Lesson, LoadError> {
    let slug = dir
        .canonicalize()
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "lesson".into());
    load(&Source::Dir(dir), &slug)
}

/// Every lesson: the built-in ones, plus those of `extra` (a lesson folder, or a folder of
/// lesson folders); an extra lesson with a built-in's slug replaces it.
pub fn catalog(extra: Option<&Path>) -> Result<Vec<Lesson>, LoadError> {
    let mut lessons = builtin()?;
    let Some(extra) = extra else { return Ok(lessons) };
    let mut found = Vec::new();
    if extra.join("lesson.yaml").is_file() {
        found.push(load_dir(extra)?);
    } else {
        let entries = std::fs::read_dir(extra).map_err(|e| LoadError::File {
            file: extra.display().to_string(),
            message: format!("cannot read the lessons folder: {e}"),
        })?;
        let mut dirs: Vec<PathBuf> =
            entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.join("lesson.yaml").is_file()).collect();
        dirs.sort();
        if dirs.is_empty() {
            return Err(LoadError::File {
                file: extra.display().to_string(),
                message: "no lesson.yaml here, nor in any folder inside".into(),
            });
        }
        for d in dirs {
            found.push(load_dir(&d)?);
        }
    }
    for lesson in found {
        lessons.retain(|l| l.slug != lesson.slug);
        lessons.push(lesson);
    }
    Ok(lessons)
}

/// The extra lessons folder named by `KUBETUTOR_LESSONS_DIR`, if set.
pub fn env_lessons_dir() -> Option<PathBuf> {
    std::env::var_os(LESSONS_DIR_ENV).filter(|d| !d.is_empty()).map(PathBuf::from)
}

/// The lesson `slug` from [`catalog`] with the `KUBETUTOR_LESSONS_DIR` folder.
pub fn find(slug: &str) -> Result<Lesson, LoadError> {
    find_in(slug, env_lessons_dir().as_deref())
}

/// The lesson `slug` from [`catalog`]`(extra)`.
pub fn find_in(slug: &str, extra: Option<&Path>) -> Result<Lesson, LoadError> {
    let lessons = catalog(extra)?;
    let known = lessons.iter().map(|l| l.slug.as_str()).collect::<Vec<_>>().join(", ");
    lessons.into_iter().find(|l| l.slug == slug).ok_or(LoadError::NotFound { slug: slug.into(), known })
}

/// The reference solution of step `index` as one multi-document YAML text (empty when the
/// step has none).
pub fn solution_for(lesson: &Lesson, index: usize) -> String {
    let Some(step) = lesson.step(index) else { return String::new() };
    let docs: Vec<&str> = step.solution.iter().map(|d| d.trim_end()).collect();
    if docs.is_empty() {
        String::new()
    } else {
        format!("{}\n", docs.join("\n---\n"))
    }
}

/// `Kind/name` of each document of a YAML text, skipping empty documents.
fn objects_of(text: &str) -> Result<Vec<String>, String> {
    let mut objects = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(text) {
        let value = serde_yaml::Value::deserialize(doc).map_err(|e| e.to_string())?;
        if value.is_null() {
            continue;
        }
        let kind = value.get("kind").and_then(|k| k.as_str()).ok_or("a document has no kind")?;
        let name = value.get("metadata").and_then(|m| m.get("name")).and_then(|n| n.as_str()).unwrap_or_default();
        objects.push(format!("{kind}/{name}"));
    }
    Ok(objects)
}

fn load(src: &Source, slug: &str) -> Result<Lesson, LoadError> {
    let file = src.display("lesson.yaml");
    let text = src.read("lesson.yaml").map_err(|message| LoadError::File { file: file.clone(), message })?;
    let invalid = |step: Option<(usize, &str)>, field: &str, message: String| LoadError::Invalid {
        file: file.clone(),
        step: step.map(|(i, id)| (i, id.to_string())),
        field: field.to_string(),
        message,
    };
    // The version first: a newer file may have fields this build does not know.
    let value: serde_yaml::Value =
        serde_yaml::from_str(&text).map_err(|e| LoadError::File { file: file.clone(), message: e.to_string() })?;
    match value.get("format_version").map(serde_yaml::Value::as_u64) {
        None => {
            return Err(invalid(
                None,
                "format_version",
                format!("missing; this kubetutor reads format_version {FORMAT_VERSION}"),
            ))
        }
        Some(Some(v)) if v == u64::from(FORMAT_VERSION) => {}
        Some(v) => {
            let shown = v.map(|v| v.to_string()).unwrap_or_else(|| "that is not a number".into());
            return Err(invalid(
                None,
                "format_version",
                format!("{shown}, but this kubetutor reads format_version {FORMAT_VERSION}"),
            ));
        }
    }
    // From the text again, not the value, so errors carry the path and line.
    let raw: LessonFile =
        serde_yaml::from_str(&text).map_err(|e| LoadError::File { file: file.clone(), message: e.to_string() })?;
    if raw.title.trim().is_empty() {
        return Err(invalid(None, "title", "is empty".into()));
    }
    if raw.steps.is_empty() {
        return Err(invalid(None, "steps", "a lesson needs at least one step".into()));
    }
    let mut steps = Vec::new();
    for (i, s) in raw.steps.into_iter().enumerate() {
        let at = Some((i, s.id.as_str()));
        if s.id.is_empty() || !s.id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
            return Err(invalid(at, "id", format!("{:?} must be lower case letters, digits and '-'", s.id)));
        }
        if steps.iter().any(|st: &Step| st.id == s.id) {
            return Err(invalid(at, "id", format!("{:?} is already the id of an earlier step", s.id)));
        }
        if s.title.trim().is_empty() {
            return Err(invalid(at, "title", "is empty".into()));
        }
        let text = src.read(&s.text).map_err(|m| invalid(at, "text", m))?;
        let starter = match s.editor {
            None => None,
            Some(editor) => Some(load_starter(src, editor).map_err(|(field, m)| invalid(at, field, m))?),
        };
        if s.checks.is_empty() {
            return Err(invalid(at, "checks", "a step needs at least one check".into()));
        }
        let mut checks = Vec::new();
        for (n, c) in s.checks.into_iter().enumerate() {
            let field = format!("checks[{n}] ({})", c.name);
            if c.name.trim().is_empty() {
                return Err(invalid(at, &format!("checks[{n}].name"), "is empty".into()));
            }
            if checks.iter().any(|k: &CheckSpec| k.name == c.name) {
                return Err(invalid(at, &field, "two checks of a step cannot have the same name".into()));
            }
            let spec = CheckSpec { name: c.name, kind: c.kind, params: c.params };
            Check::parse(&spec).map_err(|m| invalid(at, &field, m))?;
            checks.push(spec);
        }
        let mut solution = Vec::new();
        for (n, rel) in s.solution.iter().enumerate() {
            let field = format!("solution[{n}]");
            let doc = src.read(rel).map_err(|m| invalid(at, &field, m))?;
            objects_of(&doc).map_err(|m| invalid(at, &field, format!("{}: {m}", src.display(rel))))?;
            if !find_blanks(&doc).is_empty() {
                return Err(invalid(at, &field, format!("{} still has ??? blanks", src.display(rel))));
            }
            solution.push(doc);
        }
        for (n, action) in s.solution_actions.iter().enumerate() {
            if let Some(name) = action.strip_prefix(WAIT_FOR) {
                if !checks.iter().any(|c| c.name == name) {
                    let known: Vec<&str> = checks.iter().map(|c| c.name.as_str()).collect();
                    return Err(invalid(
                        at,
                        &format!("solution_actions[{n}]"),
                        format!("waits for {name:?}, which is not a check of this step ({})", known.join("; ")),
                    ));
                }
            }
        }
        let mut quiz = Vec::new();
        for (n, q) in s.quiz.into_iter().enumerate() {
            let q = super::quiz::Question::from_file(q).map_err(|(f, m)| invalid(at, &format!("quiz[{n}].{f}"), m))?;
            quiz.push(q);
        }
        steps.push(Step {
            id: s.id,
            title: s.title,
            text,
            starter,
            hints: s.hints,
            checks,
            solution,
            solution_actions: s.solution_actions,
            solution_files: s.solution,
            quiz,
        });
    }
    let recap = src.read(&raw.recap).map_err(|m| invalid(None, "recap", m))?;
    let mut links = Vec::new();
    for (n, l) in raw.links.into_iter().enumerate() {
        if !l.url.starts_with("https://") && !l.url.starts_with("http://") {
            return Err(invalid(None, &format!("links[{n}].url"), format!("{:?} is not an http(s) address", l.url)));
        }
        links.push(Link { title: l.title, url: l.url });
    }
    let names = default_names(&steps);
    for (i, step) in steps.iter().enumerate() {
        let at = Some((i, step.id.as_str()));
        unknown_placeholder(&step.text).map_err(|m| invalid(at, "text", m))?;
        for (n, h) in step.hints.iter().enumerate() {
            unknown_placeholder(h).map_err(|m| invalid(at, &format!("hints[{n}]"), m))?;
        }
        for (n, b) in step.starter.iter().flat_map(|s| &s.blanks).enumerate() {
            for h in b.hints.iter().chain(&b.agrees_with) {
                unknown_placeholder(h).map_err(|m| invalid(at, &format!("editor.blanks[{n}]"), m))?;
            }
        }
        for (n, q) in step.quiz.iter().enumerate() {
            for t in q.texts() {
                unknown_placeholder(t).map_err(|m| invalid(at, &format!("quiz[{n}]"), m))?;
            }
        }
        for (n, action) in step.solution_actions.iter().enumerate() {
            unknown_placeholder(action).map_err(|m| invalid(at, &format!("solution_actions[{n}]"), m))?;
            if action.starts_with(WAIT_FOR) {
                continue;
            }
            let filled = names.fill(action);
            if let Err(e) = crate::cluster::kubectl::parse(&filled) {
                return Err(invalid(at, &format!("solution_actions[{n}]"), format!("`{filled}`: {e}")));
            }
        }
    }
    unknown_placeholder(&recap).map_err(|m| invalid(None, "recap", m))?;
    Ok(Lesson {
        slug: slug.to_string(),
        title: raw.title,
        summary: raw.summary,
        steps,
        recap,
        links,
        dir: src.dir(),
        names,
    })
}

/// `Err` naming the first `{{word}}` of `text` that is not a known placeholder.
fn unknown_placeholder(text: &str) -> Result<(), String> {
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { return Ok(()) };
        let word = &after[..end];
        if !PLACEHOLDERS.contains(&word) {
            let known: Vec<String> = PLACEHOLDERS.iter().map(|p| format!("{{{{{p}}}}}")).collect();
            return Err(format!("unknown placeholder {{{{{word}}}}}; known: {}", known.join(", ")));
        }
        rest = &after[end + 2..];
    }
    Ok(())
}

/// The names the lesson's text uses before the learner has objects of their own: the
/// StatefulSet its checks are about, and the Service and selector of its reference solution.
fn default_names(steps: &[Step]) -> Names {
    let statefulset = steps
        .iter()
        .flat_map(|s| &s.checks)
        .find_map(|c| c.params.get("statefulset").and_then(|v| v.as_str()).map(str::to_string))
        .unwrap_or_default();
    let mut service = String::new();
    let mut selector = String::new();
    for doc in steps.iter().flat_map(|s| &s.solution) {
        for d in serde_yaml::Deserializer::from_str(doc) {
            let Ok(value) = serde_yaml::Value::deserialize(d) else { continue };
            if value.get("kind").and_then(|k| k.as_str()) != Some("Service") || !service.is_empty() {
                continue;
            }
            service = value.get("metadata").and_then(|m| m.get("name")).and_then(|n| n.as_str()).unwrap_or("").into();
            if let Some(map) = value.get("spec").and_then(|s| s.get("selector")).and_then(|s| s.as_mapping()) {
                let pairs: Vec<String> =
                    map.iter().filter_map(|(k, v)| Some(format!("{}={}", k.as_str()?, v.as_str()?))).collect();
                selector = pairs.join(",");
            }
        }
    }
    Names { statefulset, service, selector }
}

fn load_starter(src: &Source, editor: EditorFile) -> Result<Starter, (&'static str, String)> {
    let text = src.read(&editor.file).map_err(|m| ("editor.file", m))?;
    let objects = objects_of(&text).map_err(|m| ("editor.file", format!("{}: {m}", src.display(&editor.file))))?;
    let found = find_blanks(&text).len();
    if found != editor.blanks.len() {
        return Err((
            "editor.blanks",
            format!("the starter has {found} blanks (???) but {} are described", editor.blanks.len()),
        ));
    }
    let mut blanks = Vec::new();
    for b in editor.blanks {
        if b.label.trim().is_empty() {
            return Err(("editor.blanks", format!("blank {} has an empty label", blanks.len())));
        }
        if b.hints.is_empty() {
            return Err(("editor.blanks", format!("blank {} ({}) has no hints", blanks.len(), b.label)));
        }
        blanks.push(Blank { label: b.label, hints: b.hints, agrees_with: b.agrees_with, fills: b.fills });
    }
    let file_name =
        Path::new(&editor.file).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or(editor.file);
    Ok(Starter { file_name, text, blanks, objects })
}

#[cfg(test)]
mod tests;
