//! Markdown (the lesson's step texts) to styled ratatui lines with pulldown-cmark: headings,
//! emphasis, strong, inline code, code blocks, bullet and numbered lists, links, quotes and
//! tables. Code lines are marked, so the lesson pane can keep them unwrapped.

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::theme::Theme;

/// A rendered line; `code` lines belong to a code block and must not be wrapped.
#[derive(Debug, Clone)]
pub struct MdLine {
    pub line: Line<'static>,
    pub code: bool,
}

/// A table being read: rows of cells, each cell its spans.
#[derive(Default)]
struct Table {
    rows: Vec<Vec<Vec<Span<'static>>>>,
    cell: Vec<Span<'static>>,
}

struct Renderer<'t> {
    theme: &'t Theme,
    /// Tables are laid out for this many columns (side by side when they fit, else stacked).
    width: usize,
    lines: Vec<Line<'static>>,
    /// Indexes into `lines` of code lines.
    code_lines: Vec<usize>,
    table: Option<Table>,
    current: Vec<Span<'static>>,
    styles: Vec<Style>,
    /// One entry per open list: the next number for ordered lists.
    lists: Vec<Option<u64>>,
    in_code_block: bool,
    quote: usize,
    link: Option<String>,
}

impl Renderer<'_> {
    /// Lay out a finished table: columns side by side when they fit the width, else each row
    /// as a small record (`• first cell`, then `header: cell` lines).
    fn table(&mut self, table: Table) {
        let t = self.theme;
        let Some((head, body)) = table.rows.split_first() else { return };
        let cell_width = |c: &Vec<Span>| c.iter().map(|s| s.content.chars().count()).sum::<usize>();
        let n = table.rows.iter().map(Vec::len).max().unwrap_or(0);
        let mut widths = vec![0; n];
        for row in &table.rows {
            for (i, c) in row.iter().enumerate() {
                widths[i] = widths[i].max(cell_width(c));
            }
        }
        let total = widths.iter().sum::<usize>() + 3 * n.saturating_sub(1);
        self.blank();
        if total <= self.width {
            for (r, row) in table.rows.iter().enumerate() {
                let mut spans = Vec::new();
                for (i, c) in row.iter().enumerate() {
                    let style = if r == 0 { Some(t.strong) } else { None };
                    spans.extend(c.iter().map(|s| match style {
                        Some(st) => Span::styled(s.content.clone(), s.style.patch(st)),
                        None => s.clone(),
                    }));
                    if i + 1 < row.len() {
                        spans.push(Span::raw(" ".repeat(widths[i] - cell_width(c))));
                        spans.push(Span::styled(" │ ", t.dim));
                    }
                }
                self.lines.push(Line::from(spans));
                if r == 0 {
                    let rule: Vec<String> = widths.iter().map(|w| "─".repeat(*w)).collect();
                    self.lines.push(Line::from(Span::styled(rule.join("─┼─"), t.dim)));
                }
            }
        } else {
            for row in body {
                for (i, c) in row.iter().enumerate() {
                    let mut spans = if i == 0 {
                        vec![Span::styled("• ", t.dim)]
                    } else {
                        let name: String = head.get(i).into_iter().flatten().map(|s| s.content.as_ref()).collect();
                        vec![Span::styled(format!("  {name}: "), t.dim)]
                    };
                    spans.extend(c.iter().cloned());
                    self.lines.push(Line::from(spans));
                }
            }
        }
        self.lines.push(Line::default());
    }

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
                self.code_lines.push(self.lines.len() - 1);
            }
            return;
        }
        if let Some(table) = self.table.as_mut() {
            let style = self.styles.iter().fold(self.theme.base, |acc, s| acc.patch(*s));
            table.cell.push(Span::styled(text.to_string(), style));
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
    static CACHE: std::cell::RefCell<Vec<(u64, super::theme::ThemeName, Vec<MdLine>)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// [`render_uncached`] through a small per-thread cache, for a pane `width` columns wide.
pub fn render(markdown: &str, theme: &Theme, width: usize) -> Vec<MdLine> {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    markdown.hash(&mut h);
    width.hash(&mut h);
    let key = h.finish();
    CACHE.with(|c| {
        let mut cache = c.borrow_mut();
        if let Some((_, _, lines)) = cache.iter().find(|(k, n, _)| *k == key && *n == theme.name) {
            return lines.clone();
        }
        let lines = render_uncached(markdown, theme, width);
        if cache.len() >= 8 {
            cache.remove(0);
        }
        cache.push((key, theme.name, lines.clone()));
        lines
    })
}

/// Render `markdown` into lines styled by `theme` (wrapping prose is left to the Paragraph;
/// tables are laid out for `width` columns).
pub fn render_uncached(markdown: &str, theme: &Theme, width: usize) -> Vec<MdLine> {
    let mut r = Renderer {
        theme,
        width,
        lines: Vec::new(),
        code_lines: Vec::new(),
        table: None,
        current: Vec::new(),
        styles: Vec::new(),
        lists: Vec::new(),
        in_code_block: false,
        quote: 0,
        link: None,
    };
    let parser = Parser::new_ext(markdown, Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES);
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
                // The fence's language (sh, yaml) is for the renderer, not the reader.
                Tag::CodeBlock(_) => {
                    r.blank();
                    r.in_code_block = true;
                }
                Tag::Table(_) => r.table = Some(Table::default()),
                Tag::TableHead | Tag::TableRow => {
                    if let Some(t) = r.table.as_mut() {
                        t.rows.push(Vec::new());
                    }
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
                TagEnd::TableCell => {
                    if let Some(t) = r.table.as_mut() {
                        let cell = std::mem::take(&mut t.cell);
                        if let Some(row) = t.rows.last_mut() {
                            row.push(cell);
                        }
                    }
                }
                TagEnd::Table => {
                    if let Some(t) = r.table.take() {
                        r.table(t);
                    }
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
                if let Some(t) = r.table.as_mut() {
                    t.cell.push(Span::styled(c.to_string(), theme.code));
                    continue;
                }
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
    let mut out: Vec<MdLine> = r.lines.into_iter().map(|line| MdLine { line, code: false }).collect();
    for i in r.code_lines {
        out[i].code = true;
    }
    while out.last().is_some_and(|l| l.line.spans.is_empty()) {
        out.pop();
    }
    if out.first().is_some_and(|l| l.line.spans.is_empty()) {
        out.remove(0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(lines: &[MdLine]) -> Vec<String> {
        lines.iter().map(|l| l.line.spans.iter().map(|s| s.content.as_ref()).collect()).collect()
    }

    #[test]
    fn headings_lists_code_and_inline_styles() {
        let theme = Theme::dark();
        let md = "## Make a service\n\nA *headless* service has `clusterIP: None`.\n\n- one\n- **two**\n\n1. first\n2. second\n\n```yaml\nkind: Service\n```\n";
        let lines = render(md, &theme, 60);
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
                "  kind: Service",
            ]
        );
        let lines: Vec<Line> = lines.iter().map(|l| l.line.clone()).collect();
        assert_eq!(lines[0].spans[0].style, theme.base.patch(theme.heading));
        let emph = lines[2].spans.iter().find(|s| s.content == "headless").unwrap();
        assert_eq!(emph.style, theme.base.patch(theme.emphasis));
        let code = lines[2].spans.iter().find(|s| s.content.starts_with('`')).unwrap();
        assert_eq!(code.style, theme.code);
        let strong = lines[5].spans.iter().find(|s| s.content == "two").unwrap();
        assert_eq!(strong.style, theme.base.patch(theme.strong));
        assert_eq!(lines[10].spans[1].style, theme.code);
    }

    #[test]
    fn code_lines_are_marked_and_tables_are_laid_out_for_the_width() {
        let theme = Theme::dark();
        let md = "Text\n\n```sh\nkubectl get pvc\n```\n\n| this | must match |\n|---|---|\n| `spec.serviceName` | the Service |\n| selector | labels |\n";
        let wide = render(md, &theme, 60);
        assert!(wide.iter().filter(|l| l.code).all(|l| plain(std::slice::from_ref(l))[0].contains("kubectl")));
        assert_eq!(wide.iter().filter(|l| l.code).count(), 1);
        let text = plain(&wide);
        assert!(!text.iter().any(|l| l.contains('|')), "{text:?}");
        assert!(text.contains(&"this             │ must match".to_string()), "{text:?}");
        assert!(text.contains(&"spec.serviceName │ the Service".to_string()), "{text:?}");
        // Too narrow for side by side: one record per row.
        let narrow = plain(&render(md, &theme, 20));
        assert!(narrow.contains(&"• spec.serviceName".to_string()), "{narrow:?}");
        assert!(narrow.contains(&"  must match: the Service".to_string()), "{narrow:?}");
    }
}
