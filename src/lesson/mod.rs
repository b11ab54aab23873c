//! Lessons: the versioned lesson file model, its loader (with errors naming file, step and
//! field), the images a lesson may use, the `???` blanks of editor starters, the recap quiz, and
//! the per-lesson progress store.

pub mod blanks;
pub mod images;
pub mod load;
pub mod model;
pub mod progress;
pub mod quiz;

pub use model::{Blank, Lesson, Link, Starter, Step};
