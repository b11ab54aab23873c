//! A small YAML highlighter for the editor: keys, strings, numbers and booleans, comments,
//! list dashes, and `???` blanks. It works per line and per character (styles as a Vec), so
//! the editor can lay the cursor and selection over it.

use ratatui::style::Style;

use super::theme::Theme;
use crate::lesson::model::BLANK;

/// One style per char of `line`.
pub fn line_styles(line: &str, theme: &Theme) -> Vec<Style> {
    let chars: Vec<char> = line.chars().collect();
    let n = chars.len();
    let mut styles = vec![theme.base; n];
    // Comment: `#` at the start or after whitespace, outside quotes.
    let mut comment = n;
    let mut quote: Option<char> = None;
    for (i, &c) in chars.iter().enumerate() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == '#' && (i == 0 || chars[i - 1].is_whitespace()) => {
                comment = i;
                break;
            }
            None => {}
        }
    }
    for s in &mut styles[comment..] {
        *s = theme.yaml_comment;
    }
    // Leading spaces and `- ` markers.
    let mut i = 0;
    loop {
        while i < comment && chars[i] == ' ' {
            i += 1;
        }
        if i < comment && chars[i] == '-' && (i + 1 == comment || chars[i + 1] == ' ') {
            styles[i] = theme.yaml_punct;
            i += 1;
        } else {
            break;
        }
    }
    let body: String = chars[i..comment].iter().collect();
    let mut value_start = i;
    if let Some(colon) = key_colon(&body) {
        let key_len = body[..colon].chars().count();
        for s in &mut styles[i..i + key_len] {
            *s = theme.yaml_key;
        }
        styles[i + key_len] = theme.yaml_punct;
        value_start = i + key_len + 1;
    }
    let value: String = chars[value_start..comment].iter().collect();
    let lead = value.chars().take_while(|c| *c == ' ').count();
    let v = value.trim();
    let vstart = value_start + lead;
    let vlen = v.chars().count();
    if vlen > 0 {
        let style = if v.starts_with('"') || v.starts_with('\'') {
            theme.yaml_string
        } else if v.parse::<f64>().is_ok() || matches!(v, "true" | "false" | "null" | "~") {
            theme.yaml_number
        } else if v.starts_with('[') || v.starts_with('{') || v == "|" || v == ">" {
            theme.yaml_punct
        } else {
            theme.yaml_string
        };
        for s in &mut styles[vstart..vstart + vlen] {
            *s = style;
        }
    }
    // Blanks last: they win over everything.
    let blank_len = BLANK.chars().count();
    let mut j = 0;
    while j + blank_len <= n {
        if chars[j..j + blank_len].iter().all(|c| *c == '?') {
            for s in &mut styles[j..j + blank_len] {
                *s = theme.blank;
            }
            j += blank_len;
        } else {
            j += 1;
        }
    }
    styles
}

/// The byte index of the colon ending a mapping key (`key: v` or `key:`), outside quotes.
fn key_colon(body: &str) -> Option<usize> {
    let bytes = body.as_bytes();
    let mut quote = None;
    for (i, &b) in bytes.iter().enumerate() {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if (b == b'"' || b == b'\'') && i == 0 => quote = Some(b),
            None if b == b'[' || b == b'{' => return None,
            None if b == b':' && (i + 1 == bytes.len() || bytes[i + 1] == b' ') => return Some(i),
            None => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_values_comments_and_blanks() {
        let t = Theme::dark();
        let s = line_styles("  - name: ??? # the claim", &t);
        assert_eq!(s[2], t.yaml_punct);
        assert_eq!(s[4], t.yaml_key);
        assert_eq!(s[8], t.yaml_punct);
        assert_eq!(&s[10..13], &[t.blank; 3]);
        assert_eq!(s[14], t.yaml_comment);
        let s = line_styles("replicas: 2", &t);
        assert_eq!(s[10], t.yaml_number);
        let s = line_styles("serviceName: \"nginx\"", &t);
        assert_eq!(s[13], t.yaml_string);
        let s = line_styles("image: nginx:mainline", &t);
        assert_eq!((s[0], s[5], s[7], s[13]), (t.yaml_key, t.yaml_punct, t.yaml_string, t.yaml_string));
        let s = line_styles("accessModes: [ \"ReadWriteOnce\" ]", &t);
        assert_eq!(s[13], t.yaml_punct);
        assert_eq!(line_styles("", &t), Vec::<Style>::new());
    }
}
