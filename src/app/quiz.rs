//! The recap quiz as the tutor asks it: a [`Quiz`] walks the questions of some steps (the ones
//! done, in the tutor; all of them, in review and for the instructor), takes an answer by key
//! (1-4, or ↑/↓ and Enter), explains it, right or wrong, and ends with the score. The keys are
//! `keys::QUIZ`; `crate::ui::quiz` draws it over the panes. Answers leave as
//! [`Effect::QuizAnswered`], which the tutor keeps in the progress file.

use crossterm::event::{KeyCode, KeyEvent};

use super::keys::{mode_lookup, ModeAction, QUIZ};
use super::{App, Effect, Level, Message};
use crate::lesson::quiz::{Answer, Question};
use crate::lesson::Lesson;
use crate::text;

/// One recap quiz in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quiz {
    /// The questions asked, in order: (step index, question number within the step).
    pub items: Vec<(usize, usize)>,
    /// The question on screen; `items.len()` once all are answered (the score).
    pub at: usize,
    /// The choice the cursor is on.
    pub selected: usize,
    /// The choice taken for the question on screen, once answered.
    pub chosen: Option<usize>,
    /// Right or wrong, per question answered.
    pub results: Vec<bool>,
}

/// What a key did to the quiz.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuizMove {
    Nothing,
    /// Question `question` of step `step` was answered.
    Answered {
        step: usize,
        question: usize,
        answer: Answer,
    },
    /// The quiz is to close.
    Close,
}

impl Quiz {
    /// A quiz of the questions of `steps` (in that order); `None` when they have none.
    pub fn new(lesson: &Lesson, steps: impl IntoIterator<Item = usize>) -> Option<Quiz> {
        let items: Vec<(usize, usize)> = steps
            .into_iter()
            .filter_map(|i| lesson.step(i).map(|s| (i, s.quiz.len())))
            .flat_map(|(i, n)| (0..n).map(move |q| (i, q)))
            .collect();
        (!items.is_empty()).then(|| Quiz { items, at: 0, selected: 0, chosen: None, results: Vec::new() })
    }

    /// The question on screen (`None` once the score shows).
    pub fn current<'a>(&self, lesson: &'a Lesson) -> Option<(usize, &'a Question)> {
        let &(step, q) = self.items.get(self.at)?;
        Some((step, lesson.step(step)?.quiz.get(q)?))
    }

    pub fn finished(&self) -> bool {
        self.at >= self.items.len()
    }

    /// How many answers were right.
    pub fn score(&self) -> usize {
        self.results.iter().filter(|r| **r).count()
    }

    /// Handle a key; `now` stamps an answer.
    pub fn key(&mut self, lesson: &Lesson, key: &KeyEvent, now: jiff::Timestamp) -> QuizMove {
        let Some(action) = mode_lookup(QUIZ, key) else { return QuizMove::Nothing };
        if action == ModeAction::Back {
            return QuizMove::Close;
        }
        let Some((step, question)) = self.current(lesson) else {
            // The score: Enter closes it too.
            return if action == ModeAction::Confirm { QuizMove::Close } else { QuizMove::Nothing };
        };
        let n = question.choices.len();
        if self.chosen.is_some() {
            if action == ModeAction::Confirm {
                self.at += 1;
                self.selected = 0;
                self.chosen = None;
            }
            return QuizMove::Nothing;
        }
        let choice = match action {
            ModeAction::Up => {
                self.selected = self.selected.saturating_sub(1);
                return QuizMove::Nothing;
            }
            ModeAction::Down => {
                self.selected = (self.selected + 1).min(n - 1);
                return QuizMove::Nothing;
            }
            ModeAction::Choose => match key.code {
                KeyCode::Char(c) => match c.to_digit(10).map(|d| d as usize) {
                    Some(d) if (1..=n).contains(&d) => d - 1,
                    _ => return QuizMove::Nothing,
                },
                _ => return QuizMove::Nothing,
            },
            ModeAction::Confirm => self.selected,
            _ => return QuizMove::Nothing,
        };
        self.selected = choice;
        self.chosen = Some(choice);
        let correct = choice == question.answer;
        self.results.push(correct);
        let (_, number) = self.items[self.at];
        QuizMove::Answered { step, question: number, answer: Answer { chosen: choice, correct, at: now } }
    }
}

/// `Q` in the tutor: the quiz of the steps done, or why there is none yet.
pub fn open(app: &mut App) {
    let done: Vec<usize> = app.done.iter().copied().collect();
    match Quiz::new(&app.lesson, done) {
        Some(quiz) => app.quiz = Some(quiz),
        None => app.message = Some(Message { level: Level::Info, text: text::QUIZ_NONE_YET.into() }),
    }
}

/// `Q` where every step may be asked about (review, the instructor's screen).
pub fn open_all(app: &mut App) {
    let all = 0..app.lesson.steps.len();
    match Quiz::new(&app.lesson, all) {
        Some(quiz) => app.quiz = Some(quiz),
        None => app.message = Some(Message { level: Level::Info, text: text::QUIZ_NONE.into() }),
    }
}

/// A key while the quiz is open; an answer becomes an effect (kept in progress).
pub fn on_key(app: &mut App, key: KeyEvent, fx: &mut Vec<Effect>) {
    let Some(quiz) = app.quiz.as_mut() else { return };
    app.dirty = true;
    match quiz.key(&app.lesson, &key, app.now) {
        QuizMove::Nothing => {}
        QuizMove::Close => {
            if quiz.finished() {
                let text = text::QUIZ_SCORE
                    .replace("{right}", &quiz.score().to_string())
                    .replace("{n}", &quiz.items.len().to_string());
                app.message = Some(Message { level: Level::Good, text });
            }
            app.quiz = None;
        }
        QuizMove::Answered { step, question, answer } => fx.push(Effect::QuizAnswered { step, question, answer }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyModifiers;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn lesson() -> Lesson {
        crate::lesson::load::find_in("statefulset", None).unwrap()
    }

    #[test]
    fn quiz_of_the_statefulset_lesson_asks_about_every_step() {
        let l = lesson();
        for (i, s) in l.steps.iter().enumerate() {
            assert!((2..=3).contains(&s.quiz.len()), "step {i} has {} questions", s.quiz.len());
        }
        // Not always the same key: a learner cannot pass by pressing 1.
        let answers: std::collections::BTreeSet<usize> =
            l.steps.iter().flat_map(|s| &s.quiz).map(|q| q.answer).collect();
        assert_eq!(answers.len(), 4, "{answers:?}");
        let canary = &l.steps[4].quiz[0];
        assert!(canary.question.contains("partition: 2"));
        assert_eq!(canary.choices[canary.answer], "Only web-2");
        let scale_down =
            l.steps[2].quiz.iter().find(|q| q.question.contains("scale web from 3 replicas down to 1")).unwrap();
        assert_eq!(scale_down.choices[scale_down.answer], "web-2");
        assert!(Quiz::new(&l, []).is_none());
    }

    #[test]
    fn quiz_answers_by_digit_or_by_arrows_and_enter_then_scores() {
        let l = lesson();
        let now = jiff::Timestamp::UNIX_EPOCH;
        let mut quiz = Quiz::new(&l, [4]).unwrap();
        assert_eq!(quiz.items, [(4, 0), (4, 1), (4, 2)]);
        let (step, q) = quiz.current(&l).unwrap();
        assert_eq!(step, 4);
        // A digit past the choices does nothing; the right digit answers.
        let right = q.answer;
        assert_eq!(quiz.key(&l, &key(KeyCode::Char('9')), now), QuizMove::Nothing);
        let got = quiz.key(&l, &key(KeyCode::Char(char::from(b'1' + right as u8))), now);
        assert_eq!(
            got,
            QuizMove::Answered { step: 4, question: 0, answer: Answer { chosen: right, correct: true, at: now } }
        );
        // Answered: more digits change nothing, Enter goes on.
        assert_eq!(quiz.key(&l, &key(KeyCode::Char('1')), now), QuizMove::Nothing);
        assert_eq!(quiz.chosen, Some(right));
        quiz.key(&l, &key(KeyCode::Enter), now);
        assert_eq!((quiz.at, quiz.chosen, quiz.selected), (1, None, 0));
        // Arrows and Enter: a wrong choice.
        let wrong = (quiz.current(&l).unwrap().1.answer + 1) % quiz.current(&l).unwrap().1.choices.len();
        for _ in 0..wrong {
            quiz.key(&l, &key(KeyCode::Down), now);
        }
        quiz.key(&l, &key(KeyCode::Up), now);
        quiz.key(&l, &key(KeyCode::Down), now);
        let got = quiz.key(&l, &key(KeyCode::Enter), now);
        assert!(
            matches!(got, QuizMove::Answered { question: 1, answer: Answer { correct: false, .. }, .. }),
            "{got:?}"
        );
        quiz.key(&l, &key(KeyCode::Enter), now);
        let third = quiz.current(&l).unwrap().1.answer;
        quiz.key(&l, &key(KeyCode::Char(char::from(b'1' + third as u8))), now);
        quiz.key(&l, &key(KeyCode::Enter), now);
        assert!(quiz.finished() && quiz.current(&l).is_none());
        assert_eq!((quiz.score(), quiz.results.clone()), (2, vec![true, false, true]));
        assert_eq!(quiz.key(&l, &key(KeyCode::Enter), now), QuizMove::Close);
        // Esc closes at any time.
        let mut quiz = Quiz::new(&l, [0]).unwrap();
        assert_eq!(quiz.key(&l, &key(KeyCode::Esc), now), QuizMove::Close);
    }
}
