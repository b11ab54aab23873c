//! The recap quiz of a lesson: a few multiple-choice questions per step, written in
//! `lesson.yaml` under each step's `quiz:` (see lessons/README.md). The loader turns each entry
//! into a [`Question`] through [`Question::from_file`], which refuses what a learner could not
//! answer (one choice, two the same, an answer that is not a choice); the tutor's quiz overlay
//! (`crate::app::quiz`) asks them, and the learner's answers are kept in the progress file as
//! [`Answer`]s.

use serde::{Deserialize, Serialize};

/// The most choices a question may have: answered with the keys 1 to 4.
pub const MAX_CHOICES: usize = 4;

/// One question as written in `lesson.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionFile {
    pub question: String,
    pub choices: Vec<String>,
    /// The right choice, counted from 1 as the learner presses it.
    pub answer: usize,
    /// Why the right answer is right (shown after any answer, right or wrong).
    pub explain: String,
}

/// One question as the tutor asks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub question: String,
    pub choices: Vec<String>,
    /// The right choice, from 0.
    pub answer: usize,
    pub explain: String,
}

/// What the learner answered to one question (kept in progress).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    /// The choice taken, from 0.
    pub chosen: usize,
    pub correct: bool,
    pub at: jiff::Timestamp,
}

impl Question {
    /// Check a question of the lesson file; `Err((field, message))` names what is wrong, the
    /// field relative to the question (`answer`, `choices[2]`).
    pub fn from_file(q: QuestionFile) -> Result<Question, (String, String)> {
        let err = |field: &str, m: String| Err((field.to_string(), m));
        if q.question.trim().is_empty() {
            return err("question", "is empty".into());
        }
        if q.choices.len() < 2 || q.choices.len() > MAX_CHOICES {
            return err(
                "choices",
                format!("has {} choices; a question has 2 to {MAX_CHOICES} (answered with keys 1-4)", q.choices.len()),
            );
        }
        for (i, c) in q.choices.iter().enumerate() {
            if c.trim().is_empty() {
                return err(&format!("choices[{i}]"), "is empty".into());
            }
            if q.choices[..i].iter().any(|d| d.trim() == c.trim()) {
                return err(&format!("choices[{i}]"), format!("{c:?} is already an earlier choice"));
            }
        }
        if q.answer == 0 || q.answer > q.choices.len() {
            return err(
                "answer",
                format!(
                    "{} is not one of the choices: answer counts from 1 (the key the learner presses) to {}",
                    q.answer,
                    q.choices.len()
                ),
            );
        }
        if q.explain.trim().is_empty() {
            return err("explain", "is empty: say why the answer is right".into());
        }
        Ok(Question { question: q.question, choices: q.choices, answer: q.answer - 1, explain: q.explain })
    }

    /// Every text of the question (for the placeholder check).
    pub fn texts(&self) -> impl Iterator<Item = &String> {
        std::iter::once(&self.question).chain(&self.choices).chain(std::iter::once(&self.explain))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(choices: &[&str], answer: usize) -> QuestionFile {
        QuestionFile {
            question: "Which pod goes first on scale-down?".into(),
            choices: choices.iter().map(ToString::to_string).collect(),
            answer,
            explain: "The highest ordinal.".into(),
        }
    }

    #[test]
    fn quiz_question_counts_its_answer_from_one() {
        let q = Question::from_file(file(&["web-0", "web-2"], 2)).unwrap();
        assert_eq!(q.answer, 1);
        assert_eq!(q.choices, ["web-0", "web-2"]);
        assert_eq!(q.texts().count(), 4);
    }

    #[test]
    fn quiz_question_mistakes_are_named() {
        let e = |f: QuestionFile| Question::from_file(f).unwrap_err();
        assert_eq!(e(file(&["web-0"], 1)).0, "choices");
        assert!(e(file(&["a", "b", "c", "d", "e"], 1)).1.contains("has 5 choices; a question has 2 to 4"));
        assert_eq!(
            e(file(&["a", "b"], 0)),
            (
                "answer".into(),
                "0 is not one of the choices: answer counts from 1 (the key the learner presses) to 2".into()
            )
        );
        assert_eq!(e(file(&["a", "b"], 3)).0, "answer");
        assert_eq!(e(file(&["a", " a"], 1)), ("choices[1]".into(), "\" a\" is already an earlier choice".into()));
        assert_eq!(e(file(&["a", ""], 1)).0, "choices[1]");
        let mut f = file(&["a", "b"], 1);
        f.explain = " ".into();
        assert_eq!(e(f).0, "explain");
        let mut f = file(&["a", "b"], 1);
        f.question = String::new();
        assert_eq!(e(f).0, "question");
    }
}
