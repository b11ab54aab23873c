//! Markdown (the lesson's step texts) to styled ratatui lines with pulldown-cmark: headings,
//! emphasis, strong, inline code, code blocks, bullet and numbered lists, links, quotes.

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::theme::Theme;

struct Renderer<'t> {
    theme: &'t Theme,
    lines: Vec<Line<'static>>,
    current: Vec<Span<'static>>,
    styles: Vec<Style>,
    /// One entry per open list: the next number for ordered lists.
    lists: Vec<Option<u64>>,
    in_code_block: bool,
    quote: usize,
    link: Option<String>,
}

impl Renderer<'_> {
    fn style(&self) -> Style {
        self.styles.iter().fold(self.theme.base, |acc, s| acc.patch(*s))
    }

    fn flush(&mut self) {
        if !self.current.is_empty() {
            let spans = std::mem::take(&mut self.current);
            self.lines.push(Line::from(spans));
        }
    }

    fn blank(&mut self) {
        self.flush();
        if self.lines.last().is_some_and(|l| !l.spans.is_empty()) {
            self.lines.push(Line::default());
        }
    }

    fn prefix(&mut self) {
        if self.current.is_empty() {
            if self.quote > 0 {
                self.current.push(Span::styled("│ ".repeat(self.quote), self.theme.dim));
            }
            let indent = self.lists.len().saturating_sub(1) * 2;
            if indent > 0 && !self.in_code_block {
                self.current.push(Span::raw(" ".repeat(indent + 2)));
            }
        }
    }

    fn text(&mut self, text: &str) {
        if self.in_code_block {
            for line in text.lines() {
                self.prefix();
                self.current.push(Span::styled("  ", self.theme.dim));
                self.current.push(Span::styled(line.to_string(), self.theme.code));
                self.flush();
            }
            return;
        }
        self.prefix();
        let style = self.style();
        self.current.push(Span::styled(text.to_string(), style));
    }
}

thread_local! {
    /// Rendered texts by (hash of the text, theme): a step's text is drawn every frame but
    /// changes only when the step does.
    static CACHE: std::cell::RefCell<Vec<(u64, super::theme::ThemeName, Vec<Line<'static>>)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// [`render_uncached`] through a small per-thread cache.
pub fn render(markdown: &str, theme: &Theme) -> Vec<Line<'static>> {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    markdown.hash(&mut h);
    let key = h.finish();
    CACHE.with(|c| {
        let mut cache = c.borrow_mut();
        if let Some((_, _, lines)) = cache.iter().find(|(k, n, _)| *k == key && *n == theme.name) {
            return lines.clone();
        }
        let lines = render_uncached(markdown, theme);
        if cache.len() >= 8 {
            cache.remove(0);
        }
        cache.push((key, theme.name, lines.clone()));
        lines
    })
}

/// Render `markdown` into lines styled by `theme` (wrapping is left to the Paragraph).
pub fn render_uncached(markdown: &str, theme: &Theme) -> Vec<Line<'static>> {
    let mut r = Renderer {
        theme,
        lines: Vec::new(),
        current: Vec::new(),
        styles: Vec::new(),
        lists: Vec::new(),
        in_code_block: false,
        quote: 0,
        link: None,
    };
    let parser = Parser::new_ext(markdown, Options::ENABLE_STRIKETHROUGH);
    for event in parser {
        match event {
            Event::Start(tag) => match tag {
                Tag::Heading { level, .. } => {
                    r.blank();
                    let marker = match level {
                        HeadingLevel::H1 => "",
                        HeadingLevel::H2 => "",
                        _ => "› ",
                    };
                    if !marker.is_empty() {
                        r.current.push(Span::styled(marker, theme.heading));
                    }
                    r.styles.push(theme.heading);
                }
                Tag::Paragraph if r.lists.is_empty() => r.blank(),
                Tag::Emphasis => r.styles.push(theme.emphasis),
                Tag::Strong => r.styles.push(theme.strong),
                Tag::Strikethrough => r.styles.push(theme.dim),
                Tag::BlockQuote(_) => {
                    r.blank();
                    r.quote += 1;
                }
                Tag::CodeBlock(kind) => {
                    r.blank();
                    if let CodeBlockKind::Fenced(lang) = kind {
                        if !lang.is_empty() {
                            r.lines.push(Line::from(Span::styled(format!("  {lang}"), theme.dim)));
                        }
                    }
                    r.in_code_block = true;
                }
                Tag::List(start) => {
                    if r.lists.is_empty() {
                        r.blank();
                    } else {
                        r.flush();
                    }
                    r.lists.push(start);
                }
                Tag::Item => {
                    r.flush();
                    let indent = "  ".repeat(r.lists.len().saturating_sub(1));
                    let bullet = match r.lists.last_mut() {
                        Some(Some(n)) => {
                            let b = format!("{indent}{n}. ");
                            *n += 1;
                            b
                        }
                        _ => format!("{indent}• "),
                    };
                    r.current.push(Span::styled(bullet, theme.dim));
                }
                Tag::Link { dest_url, .. } => {
                    r.link = Some(dest_url.to_string());
                    r.styles
                        .push(theme.emphasis.patch(Style::new().add_modifier(ratatui::style::Modifier::UNDERLINED)));
                }
                _ => {}
            },
            Event::End(tag) => match tag {
                TagEnd::Heading(_) => {
                    r.styles.pop();
                    r.flush();
                }
                TagEnd::Paragraph => r.flush(),
                TagEnd::Emphasis | TagEnd::Strong | TagEnd::Strikethrough => {
                    r.styles.pop();
                }
                TagEnd::BlockQuote(_) => {
                    r.flush();
                    r.quote = r.quote.saturating_sub(1);
                }
                TagEnd::CodeBlock => {
                    r.in_code_block = false;
                    r.blank();
                }
                TagEnd::List(_) => {
                    r.flush();
                    r.lists.pop();
                }
                TagEnd::Item => r.flush(),
                TagEnd::Link => {
                    r.styles.pop();
                    if let Some(url) = r.link.take() {
                        r.current.push(Span::styled(format!(" <{url}>"), theme.dim));
                    }
                }
                _ => {}
            },
            Event::Text(t) => r.text(&t),
            Event::Code(c) => {
                r.prefix();
                r.current.push(Span::styled(format!("`{c}`"), theme.code));
            }
            Event::SoftBreak => r.text(" "),
            Event::HardBreak => r.flush(),
            Event::Rule => {
                r.blank();
                r.lines.push(Line::from(Span::styled("────────", theme.dim)));
            }
            _ => {}
        }
    }
    r.flush();
    while r.lines.last().is_some_and(|l| l.spans.is_empty()) {
        r.lines.pop();
    }
    if r.lines.first().is_some_and(|l| l.spans.is_empty()) {
        r.lines.remove(0);
    }
    r.lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(lines: &[Line]) -> Vec<String> {
        lines.iter().map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect()).collect()
    }

    #[test]
    fn headings_lists_code_and_inline_styles() {
        let theme = Theme::dark();
        let md = "## Make a service\n\nA *headless* service has `clusterIP: None`.\n\n- one\n- **two**\n\n1. first\n2. second\n\n```yaml\nkind: Service\n```\n";
        let lines = render(md, &theme);
        assert_eq!(
            plain(&lines),
            [
                "Make a service",
                "",
                "A headless service has `clusterIP: None`.",
                "",
                "• one",
                "• two",
                "",
                "1. first",
                "2. second",
                "",
                "  yaml",
                "  kind: Service",
            ]
        );
        assert_eq!(lines[0].spans[0].style, theme.base.patch(theme.heading));
        let emph = lines[2].spans.iter().find(|s| s.content == "headless").unwrap();
        assert_eq!(emph.style, theme.base.patch(theme.emphasis));
        let code = lines[2].spans.iter().find(|s| s.content.starts_with('`')).unwrap();
        assert_eq!(code.style, theme.code);
        let strong = lines[5].spans.iter().find(|s| s.content == "two").unwrap();
        assert_eq!(strong.style, theme.base.patch(theme.strong));
        assert_eq!(lines[11].spans[1].style, theme.code);
    }
}
