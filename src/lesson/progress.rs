//! The learner's progress in one lesson, kept as JSON under the state dir
//! (`progress/<slug>.json`, written atomically): the steps done, the current one, time spent
//! and hints used per step, and what grading must remember across sessions (the baseline of
//! the pods when a step began, checks already proven) and the recap quiz's answers. Steps are keyed by id, so a lesson
//! that gains a step keeps the learner's place.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::Lesson;
use crate::checks::Baseline;
use crate::state;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Progress {
    pub lesson: String,
    /// Ids of the steps passed.
    pub done: BTreeSet<String>,
    /// Id of the step the learner is on (`None`: the first not done).
    pub current: Option<String>,
    /// Seconds spent on each step.
    pub seconds: BTreeMap<String, u64>,
    /// Hints revealed per step (step-level and blank hints together).
    pub hints_used: BTreeMap<String, u32>,
    /// The pods and claims when a step began, by step id.
    pub baselines: BTreeMap<String, Baseline>,
    /// Checks proven earlier, by step id.
    pub proven: BTreeMap<String, BTreeSet<String>>,
    /// When the lesson was finished.
    pub finished_at: Option<jiff::Timestamp>,
    /// The recap quiz's last answers, by step id and question number (from 0). Files written
    /// before the quiz have none.
    pub quiz: BTreeMap<String, BTreeMap<usize, super::quiz::Answer>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ProgressError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path} is not a progress file ({source}); move it away to start over")]
    Parse { path: PathBuf, source: serde_json::Error },
    #[error("cannot save {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}

impl Progress {
    /// Where the progress of lesson `slug` is kept.
    pub fn path(slug: &str) -> PathBuf {
        state::state_dir().join("progress").join(format!("{slug}.json"))
    }

    /// The saved progress of `slug`, or a fresh one when there is none.
    pub fn load(slug: &str) -> Result<Progress, ProgressError> {
        let path = Progress::path(slug);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let mut p: Progress =
                    serde_json::from_str(&text).map_err(|source| ProgressError::Parse { path, source })?;
                p.lesson = slug.to_string();
                Ok(p)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Ok(Progress { lesson: slug.into(), ..Default::default() })
            }
            Err(source) => Err(ProgressError::Read { path, source }),
        }
    }

    pub fn save(&self) -> Result<(), ProgressError> {
        let path = Progress::path(&self.lesson);
        let text = serde_json::to_string_pretty(self).expect("progress serialises");
        state::write_atomic(&path, &text).map_err(|source| ProgressError::Write { path, source })
    }

    /// The index of the step to resume at: the saved current step if it still exists, else the
    /// first step not done (the last step when all are done).
    pub fn current_index(&self, lesson: &Lesson) -> usize {
        if let Some(i) = self.current.as_ref().and_then(|id| lesson.steps.iter().position(|s| &s.id == id)) {
            return i;
        }
        lesson.steps.iter().position(|s| !self.done.contains(&s.id)).unwrap_or(lesson.steps.len().saturating_sub(1))
    }

    pub fn set_current(&mut self, lesson: &Lesson, index: usize) {
        self.current = lesson.step(index).map(|s| s.id.clone());
    }

    pub fn is_done(&self, lesson: &Lesson, index: usize) -> bool {
        lesson.step(index).is_some_and(|s| self.done.contains(&s.id))
    }

    /// Mark step `index` passed; returns true when that finished the lesson.
    pub fn mark_done(&mut self, lesson: &Lesson, index: usize) -> bool {
        let Some(step) = lesson.step(index) else { return false };
        self.done.insert(step.id.clone());
        let all = lesson.steps.iter().all(|s| self.done.contains(&s.id));
        if all && self.finished_at.is_none() {
            self.finished_at = Some(jiff::Timestamp::now());
            return true;
        }
        false
    }

    pub fn add_time(&mut self, lesson: &Lesson, index: usize, secs: u64) {
        if let Some(step) = lesson.step(index) {
            *self.seconds.entry(step.id.clone()).or_default() += secs;
        }
    }

    pub fn total_seconds(&self) -> u64 {
        self.seconds.values().sum()
    }

    pub fn use_hint(&mut self, lesson: &Lesson, index: usize) {
        if let Some(step) = lesson.step(index) {
            *self.hints_used.entry(step.id.clone()).or_default() += 1;
        }
    }

    pub fn hints_for(&self, lesson: &Lesson, index: usize) -> u32 {
        lesson.step(index).and_then(|s| self.hints_used.get(&s.id)).copied().unwrap_or(0)
    }

    pub fn set_baseline(&mut self, lesson: &Lesson, index: usize, baseline: Baseline) {
        if let Some(step) = lesson.step(index) {
            self.baselines.insert(step.id.clone(), baseline);
        }
    }

    pub fn baseline(&self, lesson: &Lesson, index: usize) -> Option<&Baseline> {
        self.baselines.get(&lesson.step(index)?.id)
    }

    pub fn set_proven(&mut self, lesson: &Lesson, index: usize, check: &str) {
        if let Some(step) = lesson.step(index) {
            self.proven.entry(step.id.clone()).or_default().insert(check.to_string());
        }
    }

    /// Keep the answer to question `question` of step `index` (the last answer counts).
    pub fn answer_quiz(&mut self, lesson: &Lesson, index: usize, question: usize, answer: super::quiz::Answer) {
        if let Some(step) = lesson.step(index) {
            self.quiz.entry(step.id.clone()).or_default().insert(question, answer);
        }
    }

    /// The last answer to question `question` of step `index`.
    pub fn quiz_answer(&self, lesson: &Lesson, index: usize, question: usize) -> Option<&super::quiz::Answer> {
        self.quiz.get(&lesson.step(index)?.id)?.get(&question)
    }

    /// Forget steps `index..` (done, baselines, proven checks): a reset of step `index`.
    pub fn reset_from(&mut self, lesson: &Lesson, index: usize) {
        for step in lesson.steps.iter().skip(index) {
            self.done.remove(&step.id);
            self.baselines.remove(&step.id);
            self.proven.remove(&step.id);
        }
        self.finished_at = None;
        self.set_current(lesson, index);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// KUBETUTOR_STATE_DIR is process-wide: the tests that use it run under this lock.
    pub(crate) static STATE_DIR: std::sync::Mutex<()> = std::sync::Mutex::new(());

    #[test]
    fn saved_and_resumed() {
        let _guard = STATE_DIR.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let tmp = tempfile::tempdir().unwrap();
        std::env::set_var("KUBETUTOR_STATE_DIR", tmp.path());
        let lesson = crate::lesson::load::find_in("statefulset", None).unwrap();
        let mut p = Progress::load("statefulset").unwrap();
        assert_eq!(p.current_index(&lesson), 0);
        assert!(!p.mark_done(&lesson, 0));
        p.add_time(&lesson, 0, 30);
        p.add_time(&lesson, 0, 12);
        p.use_hint(&lesson, 1);
        p.set_baseline(
            &lesson,
            3,
            Baseline {
                statefulset: "web".into(),
                pods: [("web-0".into(), "u0".into())].into(),
                claims: Default::default(),
            },
        );
        p.set_proven(&lesson, 4, "canary on web-2 only");
        p.save().unwrap();

        let q = Progress::load("statefulset").unwrap();
        assert_eq!(q, p);
        assert_eq!(q.current_index(&lesson), 1);
        assert_eq!(q.seconds["headless-service"], 42);
        assert_eq!(q.hints_for(&lesson, 1), 1);
        assert_eq!(q.baseline(&lesson, 3).unwrap().pods["web-0"], "u0");
        let text = std::fs::read_to_string(Progress::path("statefulset")).unwrap();
        assert!(text.contains("\"done\": [\n    \"headless-service\"\n  ]"), "{text}");

        let mut r = q.clone();
        for i in 0..5 {
            let last = r.mark_done(&lesson, i);
            assert_eq!(last, i == 4);
        }
        assert_eq!(r.current_index(&lesson), 4);
        r.reset_from(&lesson, 3);
        assert!(r.is_done(&lesson, 2) && !r.is_done(&lesson, 3));
        assert!(r.baseline(&lesson, 3).is_none() && r.proven.is_empty() && r.finished_at.is_none());
        assert_eq!(r.current_index(&lesson), 3);

        // The recap quiz's answers: the last one counts, and they come back.
        let mut r = q.clone();
        let answer = |chosen, correct| crate::lesson::quiz::Answer { chosen, correct, at: jiff::Timestamp::UNIX_EPOCH };
        r.answer_quiz(&lesson, 4, 0, answer(1, false));
        r.answer_quiz(&lesson, 4, 0, answer(0, true));
        r.answer_quiz(&lesson, 2, 1, answer(3, false));
        r.save().unwrap();
        let back = Progress::load("statefulset").unwrap();
        assert_eq!(back.quiz_answer(&lesson, 4, 0), Some(&answer(0, true)));
        assert_eq!(back.quiz_answer(&lesson, 2, 1).map(|a| a.correct), Some(false));
        assert_eq!(back.quiz_answer(&lesson, 0, 0), None);
        assert_eq!(back.quiz["canary"].len(), 1);

        // A file written before the quiz (no "quiz" key) still loads.
        let old = r#"{"lesson":"statefulset","done":["headless-service"],"current":"statefulset","seconds":{},"hints_used":{},"baselines":{},"proven":{},"finished_at":null}"#;
        std::fs::write(Progress::path("statefulset"), old).unwrap();
        let old = Progress::load("statefulset").unwrap();
        assert!(old.quiz.is_empty() && old.is_done(&lesson, 0) && old.current_index(&lesson) == 1);

        std::fs::write(Progress::path("statefulset"), "{ not json").unwrap();
        let e = Progress::load("statefulset").unwrap_err().to_string();
        assert!(e.contains("is not a progress file"), "{e}");
        std::env::remove_var("KUBETUTOR_STATE_DIR");
    }
}
