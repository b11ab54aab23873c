//! The review screen (`kubetutor review`): the tutor's panes on the replayed App, and the review
//! bar over the status bar (where in the record the screen stands, then the review keys).

use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use crate::app::keys::{mode_hints, mode_line, REVIEW, REVIEW_SEARCH};
use crate::app::review::Review;

/// Draw the review: the tutor's panes, then the review bar over the status bar.
pub fn draw(frame: &mut Frame, review: &Review) {
    super::draw(frame, &review.app);
    let areas = super::app_layout(frame.area(), &review.app);
    let t = &review.app.theme;
    let w = areas.status.width as usize;
    let pos = review.position();
    let total = review.replay.len();
    let what = match pos.checked_sub(1) {
        Some(i) => review.replay.events[i].describe.clone(),
        None => "recording began".into(),
    };
    let play = if review.playing { format!("▶ {}x", review.speed) } else { format!("⏸ {}x", review.speed) };
    let editor = match review.state().applied.get(&review.state().step) {
        Some((_, at)) => format!("editor: applied {}", review.offset(*at)),
        None => "editor: starter".into(),
    };
    let first = format!(
        "{play} · event {pos}/{total} · {} · {}",
        review.offset(review.time()),
        review.note.clone().unwrap_or(what)
    );
    let first =
        if first.chars().count() + editor.chars().count() + 3 <= w { format!("{first} · {editor}") } else { first };
    let second = match &review.search {
        Some(q) => Line::from(vec![
            Span::styled("/", t.key),
            Span::styled(q.clone(), t.base),
            Span::styled(" ", t.cursor),
            Span::styled(format!("  {}", mode_line(REVIEW_SEARCH)), t.dim),
        ]),
        None => Line::from(super::status::key_spans(&mode_hints(REVIEW), w, t).0),
    };
    let lines = vec![Line::from(Span::styled(super::fit(&first, w), t.strong)), second];
    frame.render_widget(ratatui::widgets::Clear, areas.status);
    frame.render_widget(Paragraph::new(lines).style(t.status_bar), areas.status);
}
