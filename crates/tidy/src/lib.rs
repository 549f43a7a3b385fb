//! Tidy checks over Strongroom's own source tree. The checks live in `tests/tidy.rs` and
//! run with every other test; this library only finds the files they read.

use std::path::{Path, PathBuf};

/// The repository's root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every file under `dir` whose name ends with `ext`, skipping build output and packages.
pub fn files_with_ext(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in rd.flatten() {
        let p = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if p.is_dir() {
            if matches!(
                name.as_ref(),
                "target" | "node_modules" | "dist" | ".git" | "gen" | ".demo"
            ) {
                continue;
            }
            out.extend(files_with_ext(&p, ext));
        } else if name.ends_with(ext) {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// A macro call found in a source text: its name, the line it starts on (from 1), and the
/// text between its outer brackets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MacroCall {
    pub name: String,
    pub line: usize,
    pub args: String,
}

/// Every call of the macros named in `names` (`info` finds `info!(..)` and
/// `tracing::info!(..)`), however many lines it spans. Brackets inside string and char
/// literals and comments are skipped; an unbalanced call runs to the end of the text.
pub fn macro_calls(text: &str, names: &[&str]) -> Vec<MacroCall> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let Some(at) = text[i..].find('!') else { break };
        let bang = i + at;
        i = bang + 1;
        // The identifier just before the `!`.
        let start = text[..bang]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(0, |p| p + 1);
        let name = &text[start..bang];
        if !names.contains(&name) {
            continue;
        }
        let rest = &text[bang + 1..];
        let open_at = rest.len() - rest.trim_start().len();
        let Some(open) = rest[open_at..].chars().next() else {
            continue;
        };
        let close = match open {
            '(' => ')',
            '[' => ']',
            '{' => '}',
            _ => continue,
        };
        let body_start = bang + 1 + open_at + 1;
        let end = matching(text, body_start, open, close);
        out.push(MacroCall {
            name: name.to_owned(),
            line: text[..bang].matches('\n').count() + 1,
            args: text[body_start..end].to_owned(),
        });
        i = end;
    }
    out
}

/// Where the bracket opened just before `from` closes (or the text's end).
fn matching(text: &str, from: usize, open: char, close: char) -> usize {
    let mut depth = 1usize;
    let mut chars = text[from..].char_indices().peekable();
    while let Some((off, c)) = chars.next() {
        match c {
            '"' => {
                // A string literal: skip to its unescaped end.
                while let Some((_, s)) = chars.next() {
                    match s {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
            }
            '\'' => skip_char_literal(&mut chars),
            '/' if chars.peek().map(|p| p.1) == Some('/') => {
                for (_, s) in chars.by_ref() {
                    if s == '\n' {
                        break;
                    }
                }
            }
            c if c == open => depth += 1,
            c if c == close => {
                depth -= 1;
                if depth == 0 {
                    return from + off;
                }
            }
            _ => {}
        }
    }
    text.len()
}

/// Skips the rest of a char literal (`'x'`, `'\''`, `'\n'`) after its opening quote; a
/// lifetime (`'a`) is left as it is.
fn skip_char_literal(chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>) {
    let mut ahead = chars.clone();
    match ahead.next().map(|p| p.1) {
        Some('\\') => {
            // An escape: up to the closing quote.
            chars.next();
            chars.next();
            for (_, c) in chars.by_ref() {
                if c == '\'' {
                    break;
                }
            }
        }
        Some(_) if ahead.next().map(|p| p.1) == Some('\'') => {
            chars.next();
            chars.next();
        }
        _ => {}
    }
}

/// `text` with the contents of its string literals blanked (quotes kept), so that words
/// inside messages are not taken for identifiers.
pub fn without_strings(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '\'' {
            // A char literal such as '"' holds no string.
            let mut ahead = chars.clone();
            if let (Some(x), Some('\'')) = (ahead.next(), ahead.next())
                && x != '\\'
            {
                chars.next();
                chars.next();
                out.push('\'');
            }
        } else if c == '"' {
            while let Some(s) = chars.next() {
                match s {
                    '\\' => {
                        chars.next();
                    }
                    '"' => {
                        out.push('"');
                        break;
                    }
                    _ => {}
                }
            }
        }
    }
    out
}

/// The identifiers (words of letters, digits and `_`) in `text`.
pub fn identifiers(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty() && !w.starts_with(|c: char| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_found_across_lines_and_strings_are_skipped() {
        let text = "fn f() {\n    tracing::warn!(\n        token = %t, \"a ) in text\"\n    );\n    info!(\"x {}\", (a + b));\n    not_this!(y);\n}\n";
        let calls = macro_calls(text, &["warn", "info"]);
        assert_eq!(calls.len(), 2, "{calls:?}");
        assert_eq!(calls[0].name, "warn");
        assert_eq!(calls[0].line, 2);
        assert!(calls[0].args.contains("token = %t"));
        assert!(calls[0].args.contains("\"a ) in text\""));
        assert_eq!(calls[1].args, "\"x {}\", (a + b)");
        // A quote or bracket in a char literal does not open anything.
        let text = "format!(\"{}\", w.replace('\"', \"\").trim_matches(')')); next!(1)";
        let calls = macro_calls(text, &["format", "next"]);
        assert_eq!(calls.len(), 2, "{calls:?}");
        assert_eq!(calls[1].args, "1");
    }

    #[test]
    fn words_inside_strings_are_not_identifiers() {
        let t = without_strings(r#"user = %id, "the password \" was wrong", secret"#);
        let ids: Vec<&str> = identifiers(&t).collect();
        assert_eq!(ids, ["user", "id", "secret"]);
    }
}
