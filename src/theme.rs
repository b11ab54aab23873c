//! Colour themes for every pane: dark (default), light, high-contrast (colour-blind safe:
//! blue/orange instead of green/red, and always paired with symbols), and monochrome when
//! `NO_COLOR` is set. Panes ask the theme for a style by role, never for a colour.

use ratatui::style::{Color, Modifier, Style};

/// The light theme's background, and its status bar's.
pub const LIGHT_BACKGROUND: Color = Color::Rgb(255, 255, 255);
pub const LIGHT_STATUS_BAR: Color = Color::Rgb(230, 230, 230);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThemeName {
    Dark,
    Light,
    HighContrast,
    Mono,
}

#[derive(Debug, Clone)]
pub struct Theme {
    pub name: ThemeName,
    pub base: Style,
    pub dim: Style,
    pub title: Style,
    pub focus_border: Style,
    pub border: Style,
    pub heading: Style,
    pub emphasis: Style,
    pub strong: Style,
    pub code: Style,
    pub pass: Style,
    pub fail: Style,
    pub waiting: Style,
    pub current: Style,
    pub selected: Style,
    pub yaml_key: Style,
    pub yaml_string: Style,
    pub yaml_number: Style,
    pub yaml_comment: Style,
    pub yaml_punct: Style,
    pub blank: Style,
    pub error_line: Style,
    pub gutter: Style,
    pub cursor: Style,
    pub selection: Style,
    pub changed: Style,
    pub status_bar: Style,
    pub key: Style,
    pub diff_add: Style,
    pub diff_del: Style,
}

impl Theme {
    /// The theme to use: `NO_COLOR` (non-empty) forces monochrome whatever was asked for.
    pub fn pick(requested: ThemeName, no_color: bool) -> Theme {
        if no_color {
            return Theme::mono();
        }
        match requested {
            ThemeName::Dark => Theme::dark(),
            ThemeName::Light => Theme::light(),
            ThemeName::HighContrast => Theme::high_contrast(),
            ThemeName::Mono => Theme::mono(),
        }
    }

    /// Whether `NO_COLOR` asks for no colour (https://no-color.org: set and not empty).
    pub fn no_color_env() -> bool {
        std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
    }

    pub fn dark() -> Theme {
        let fg = |c| Style::new().fg(c);
        Theme {
            name: ThemeName::Dark,
            base: Style::new(),
            dim: fg(Color::DarkGray),
            title: fg(Color::Cyan).add_modifier(Modifier::BOLD),
            focus_border: fg(Color::Cyan),
            border: fg(Color::DarkGray),
            heading: fg(Color::Yellow).add_modifier(Modifier::BOLD),
            emphasis: Style::new().add_modifier(Modifier::ITALIC),
            strong: Style::new().add_modifier(Modifier::BOLD),
            code: fg(Color::LightMagenta),
            pass: fg(Color::Green),
            fail: fg(Color::Red),
            waiting: fg(Color::Yellow),
            current: fg(Color::Cyan).add_modifier(Modifier::BOLD),
            selected: Style::new().bg(Color::DarkGray),
            yaml_key: fg(Color::LightBlue),
            yaml_string: fg(Color::Green),
            yaml_number: fg(Color::LightMagenta),
            yaml_comment: fg(Color::DarkGray).add_modifier(Modifier::ITALIC),
            yaml_punct: fg(Color::Gray),
            blank: Style::new().fg(Color::Black).bg(Color::Yellow).add_modifier(Modifier::BOLD),
            error_line: fg(Color::Red).add_modifier(Modifier::BOLD),
            gutter: fg(Color::DarkGray),
            cursor: Style::new().add_modifier(Modifier::REVERSED),
            selection: Style::new().bg(Color::Blue),
            changed: Style::new().bg(Color::Rgb(40, 60, 40)).add_modifier(Modifier::BOLD),
            status_bar: Style::new().bg(Color::Rgb(30, 30, 40)),
            key: fg(Color::Cyan).add_modifier(Modifier::BOLD),
            diff_add: fg(Color::Green),
            diff_del: fg(Color::Red),
        }
    }

    /// Dark text on white. Every text colour is an exact RGB value with at least 4.5:1
    /// contrast (WCAG AA) against the white background and the status bar's grey (see the
    /// tests), so secondary text stays readable.
    pub fn light() -> Theme {
        let fg = |c| Style::new().fg(c);
        let black = Color::Rgb(0, 0, 0);
        let grey = Color::Rgb(95, 95, 95);
        let blue = Color::Rgb(0, 70, 180);
        let magenta = Color::Rgb(150, 0, 150);
        let green = Color::Rgb(0, 110, 0);
        let red = Color::Rgb(180, 0, 0);
        let amber = Color::Rgb(130, 85, 0);
        Theme {
            name: ThemeName::Light,
            base: Style::new().fg(black).bg(LIGHT_BACKGROUND),
            dim: fg(grey),
            title: fg(blue).add_modifier(Modifier::BOLD),
            focus_border: fg(blue),
            border: fg(Color::Rgb(150, 150, 150)),
            heading: fg(magenta).add_modifier(Modifier::BOLD),
            emphasis: Style::new().add_modifier(Modifier::ITALIC),
            strong: Style::new().add_modifier(Modifier::BOLD),
            code: fg(magenta),
            pass: fg(green),
            fail: fg(red),
            waiting: fg(amber),
            current: fg(blue).add_modifier(Modifier::BOLD),
            selected: Style::new().bg(Color::Rgb(220, 220, 235)),
            yaml_key: fg(blue),
            yaml_string: fg(green),
            yaml_number: fg(magenta),
            yaml_comment: fg(grey).add_modifier(Modifier::ITALIC),
            yaml_punct: fg(grey),
            blank: Style::new().fg(black).bg(Color::Rgb(255, 220, 80)).add_modifier(Modifier::BOLD),
            error_line: fg(red).add_modifier(Modifier::BOLD),
            gutter: fg(grey),
            cursor: Style::new().add_modifier(Modifier::REVERSED),
            selection: Style::new().bg(Color::Rgb(180, 200, 255)),
            changed: Style::new().bg(Color::Rgb(210, 240, 210)).add_modifier(Modifier::BOLD),
            status_bar: Style::new().bg(LIGHT_STATUS_BAR).fg(black),
            key: fg(blue).add_modifier(Modifier::BOLD),
            diff_add: fg(green),
            diff_del: fg(red),
        }
    }

    /// Blue for pass, orange for problems (safe for red-green colour blindness), bold
    /// everywhere it matters, white on black.
    pub fn high_contrast() -> Theme {
        let fg = |c| Style::new().fg(c).add_modifier(Modifier::BOLD);
        let orange = Color::Rgb(255, 150, 0);
        let blue = Color::Rgb(80, 160, 255);
        Theme {
            name: ThemeName::HighContrast,
            base: Style::new().fg(Color::White),
            dim: Style::new().fg(Color::Gray),
            title: fg(Color::White).add_modifier(Modifier::UNDERLINED),
            focus_border: fg(Color::White),
            border: Style::new().fg(Color::Gray),
            heading: fg(Color::White).add_modifier(Modifier::UNDERLINED),
            code: fg(blue),
            pass: fg(blue),
            fail: fg(orange),
            waiting: fg(Color::White),
            current: fg(Color::White).add_modifier(Modifier::REVERSED),
            selected: Style::new().add_modifier(Modifier::REVERSED),
            yaml_key: fg(blue),
            yaml_string: Style::new().fg(Color::White),
            yaml_number: fg(Color::White),
            yaml_comment: Style::new().fg(Color::Gray).add_modifier(Modifier::ITALIC),
            yaml_punct: Style::new().fg(Color::White),
            blank: Style::new().fg(Color::Black).bg(orange).add_modifier(Modifier::BOLD),
            error_line: fg(orange),
            gutter: Style::new().fg(Color::Gray),
            selection: Style::new().bg(blue).fg(Color::Black),
            changed: Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            status_bar: Style::new().bg(Color::Black).fg(Color::White),
            key: fg(Color::White).add_modifier(Modifier::UNDERLINED),
            diff_add: fg(blue),
            diff_del: fg(orange),
            ..Theme::dark()
        }
    }

    /// No colours at all: bold, underline and reverse only.
    pub fn mono() -> Theme {
        let s = Style::new;
        let b = || Style::new().add_modifier(Modifier::BOLD);
        Theme {
            name: ThemeName::Mono,
            base: s(),
            dim: s(),
            title: b(),
            focus_border: b(),
            border: s(),
            heading: b().add_modifier(Modifier::UNDERLINED),
            emphasis: s().add_modifier(Modifier::ITALIC),
            strong: b(),
            code: s(),
            pass: b(),
            fail: b(),
            waiting: s(),
            current: b(),
            selected: s().add_modifier(Modifier::REVERSED),
            yaml_key: b(),
            yaml_string: s(),
            yaml_number: s(),
            yaml_comment: s(),
            yaml_punct: s(),
            blank: s().add_modifier(Modifier::REVERSED),
            error_line: b().add_modifier(Modifier::UNDERLINED),
            gutter: s(),
            cursor: s().add_modifier(Modifier::REVERSED),
            selection: s().add_modifier(Modifier::UNDERLINED),
            changed: b(),
            status_bar: s(),
            key: b(),
            diff_add: b(),
            diff_del: s().add_modifier(Modifier::CROSSED_OUT),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_color_forces_monochrome() {
        let t = Theme::pick(ThemeName::Dark, true);
        assert_eq!(t.name, ThemeName::Mono);
        for style in [t.pass, t.fail, t.blank, t.yaml_key, t.status_bar] {
            assert_eq!(style.fg, None);
            assert_eq!(style.bg, None);
        }
        assert_eq!(Theme::pick(ThemeName::Light, false).name, ThemeName::Light);
    }

    /// WCAG 2 relative luminance of an sRGB colour.
    fn luminance(c: Color) -> f64 {
        let Color::Rgb(r, g, b) = c else { panic!("{c:?} is no exact colour: its contrast is the terminal's guess") };
        let lin = |v: u8| {
            let v = f64::from(v) / 255.0;
            if v <= 0.03928 {
                v / 12.92
            } else {
                ((v + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
    }

    fn contrast(a: Color, b: Color) -> f64 {
        let (x, y) = (luminance(a), luminance(b));
        (x.max(y) + 0.05) / (x.min(y) + 0.05)
    }

    #[test]
    fn contrast_is_computed_as_wcag_does() {
        assert!((contrast(Color::Rgb(0, 0, 0), Color::Rgb(255, 255, 255)) - 21.0).abs() < 0.01);
        assert!((contrast(Color::Rgb(118, 118, 118), Color::Rgb(255, 255, 255)) - 4.54).abs() < 0.01);
        // The grey the light theme used to draw secondary text in fails AA on white.
        assert!(contrast(Color::Rgb(192, 192, 192), LIGHT_BACKGROUND) < 4.5);
    }

    #[test]
    fn light_theme_text_meets_wcag_aa_on_its_backgrounds() {
        let t = Theme::light();
        assert_eq!(t.base.bg, Some(LIGHT_BACKGROUND));
        let text = [
            ("base", t.base),
            ("dim", t.dim),
            ("title", t.title),
            ("heading", t.heading),
            ("code", t.code),
            ("pass", t.pass),
            ("fail", t.fail),
            ("waiting", t.waiting),
            ("current", t.current),
            ("yaml_key", t.yaml_key),
            ("yaml_string", t.yaml_string),
            ("yaml_number", t.yaml_number),
            ("yaml_comment", t.yaml_comment),
            ("yaml_punct", t.yaml_punct),
            ("error_line", t.error_line),
            ("gutter", t.gutter),
            ("key", t.key),
            ("diff_add", t.diff_add),
            ("diff_del", t.diff_del),
        ];
        for (name, style) in text {
            let fg = t.base.patch(style).fg.unwrap();
            for (bg_name, bg) in [("background", LIGHT_BACKGROUND), ("status bar", LIGHT_STATUS_BAR)] {
                let c = contrast(fg, bg);
                assert!(c >= 4.5, "{name} {fg:?} on the {bg_name}: {c:.2}:1, below 4.5:1");
            }
        }
        // Text on the highlighted backgrounds (selected step, a blank) too.
        for (name, style) in [("selected", t.base.patch(t.selected)), ("blank", t.blank)] {
            let c = contrast(style.fg.unwrap(), style.bg.unwrap());
            assert!(c >= 4.5, "{name}: {c:.2}:1");
        }
    }
}
