//! The map as an nginx `map` file, for serving the redirects with nginx
//! instead of `cutover redirects serve`.
//!
//! Links without a query of their own are an exact-match `map $host$uri`
//! (nginx's hash); links named by their query (Scaleo's `?o=…&a=…`) are
//! regular expressions on `$host$uri?$args`, one lookahead per parameter,
//! so order and extra parameters do not matter. Unlike the redirect server,
//! nginx carries no sub-id over and matches the raw query text (`a=%33` is
//! not `a=3`); a link it cannot express is left out and counted.

use crate::map::{LinkKey, MapEntry};
use crate::params::Target;
use std::io::Write;

/// What was written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NginxReport {
    /// Links in the file.
    pub written: usize,
    /// Links left out: (old URL, why).
    pub left_out: Vec<(String, &'static str)>,
}

/// `text` as an nginx double-quoted string.
fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for character in text.chars() {
        if matches!(character, '"' | '\\') {
            out.push('\\');
        }
        out.push(character);
    }
    out.push('"');
    out
}

/// `text` escaped for a PCRE pattern: every ASCII byte that is not a letter
/// or digit is escaped (always literal in PCRE).
fn regex_escaped(text: &str, out: &mut String) {
    for character in text.chars() {
        if character.is_ascii() && !character.is_ascii_alphanumeric() {
            out.push('\\');
        }
        out.push(character);
    }
}

/// Whether nginx would read `text` as it is inside a quoted string: no
/// control character, and no `$` (a variable in a map's values).
fn plain(text: &str) -> bool {
    !text.chars().any(|character| character.is_control() || character == '$')
}

/// Writes the nginx map of `entries`: `$cutover_redirect` (links matched
/// on `$host$uri`) and, if some links are named by their query,
/// `$cutover_redirect_query`; both are empty for a miss, and the comment at
/// the top shows the server block that sends misses to `fallback`.
pub fn write(
    out: &mut impl Write,
    entries: &[MapEntry],
    fallback: Option<&str>,
    path_names: &[Box<str>],
    generated: &str,
) -> std::io::Result<NginxReport> {
    let mut report = NginxReport::default();
    let mut by_path: Vec<String> = Vec::new();
    let mut by_query: Vec<String> = Vec::new();
    for entry in entries {
        let Ok(link_key) = LinkKey::of(&entry.old_url, path_names) else {
            report.left_out.push((entry.old_url.clone(), "the old link cannot be matched"));
            continue;
        };
        // `$uri` is decoded.
        let Ok(path) = percent_encoding::percent_decode_str(&link_key.path).decode_utf8() else {
            report.left_out.push((entry.old_url.clone(), "its path is not UTF-8 once decoded"));
            continue;
        };
        let Ok(target) = Target::parse(&entry.new_url) else {
            report.left_out.push((entry.old_url.clone(), "the new link cannot be a redirect target"));
            continue;
        };
        let new_url = target.as_str();
        if !plain(&path) || !plain(&link_key.host) || !plain(new_url) {
            report.left_out.push((entry.old_url.clone(), "it has a `$` or a control character nginx would misread"));
            continue;
        }
        if link_key.query.is_empty() {
            by_path.push(format!("    {} {};\n", quoted(&format!("{}{path}", link_key.host)), quoted(new_url)));
        } else {
            let mut pattern = String::from("~^");
            regex_escaped(&link_key.host, &mut pattern);
            regex_escaped(&path, &mut pattern);
            pattern.push_str("\\?");
            for (name, value) in &link_key.query {
                pattern.push_str("(?=(?:.*&)?");
                regex_escaped(name, &mut pattern);
                pattern.push('=');
                regex_escaped(value, &mut pattern);
                pattern.push_str("(?:&|$))");
            }
            by_query.push(format!("    {} {};\n", quoted(&pattern), quoted(new_url)));
        }
        report.written += 1;
    }
    writeln!(out, "# cutover redirects: {} old links → new links ({generated}).", report.written)?;
    writeln!(out, "# Include this file in nginx's `http` block (100,000 links need")?;
    writeln!(out, "# `map_hash_max_size 262144; map_hash_bucket_size 256;` there), then in the")?;
    writeln!(out, "# server block of the old links' hosts:")?;
    writeln!(out, "#")?;
    if !by_query.is_empty() {
        writeln!(out, "#     if ($cutover_redirect_query) {{ return 301 $cutover_redirect_query; }}")?;
    }
    writeln!(out, "#     if ($cutover_redirect) {{ return 301 $cutover_redirect; }}")?;
    match fallback.filter(|fallback| plain(fallback)) {
        Some(fallback) => writeln!(out, "#     return 302 {};", quoted(fallback))?,
        None => writeln!(out, "#     return 404;")?,
    }
    writeln!(out, "#")?;
    writeln!(out, "# Matching is on host and decoded path; the query is dropped (no sub-id is")?;
    writeln!(out, "# carried over: `cutover redirects serve` does that).")?;
    writeln!(out, "map $host$uri $cutover_redirect {{\n    default \"\";")?;
    for line in &by_path {
        out.write_all(line.as_bytes())?;
    }
    writeln!(out, "}}")?;
    if !by_query.is_empty() {
        writeln!(out, "map \"$host$uri?$args\" $cutover_redirect_query {{\n    default \"\";")?;
        for line in &by_query {
            out.write_all(line.as_bytes())?;
        }
        writeln!(out, "}}")?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(old: &str, new: &str) -> MapEntry {
        MapEntry {
            old_url: old.into(),
            new_url: new.into(),
            partner: String::new(),
            source_id: String::new(),
            target_id: String::new(),
        }
    }

    #[test]
    fn links_become_exact_keys_or_lookahead_patterns() {
        let entries = [
            entry("https://Go.Example.com/r/5000", "https://new.example.net/t/a"),
            entry("https://go.example.com/r/caf%C3%A9", "https://new.example.net/t/\"b\""),
            entry("https://trk.example.com/click?o=1&a=10", "https://new.example.net/1-10"),
            entry("https://go.example.com/r/x", "https://new.example.net/$1"),
        ];
        let mut out = Vec::new();
        let report = write(
            &mut out,
            &entries,
            Some("https://shop.example.com/"),
            &[],
            "from cutover.toml at 2025-01-01T00:00:00Z",
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(report.written, 3);
        assert_eq!(report.left_out.len(), 1);
        assert!(text.contains("#     return 302 \"https://shop.example.com/\";\n"), "{text}");
        assert!(text.contains("    \"go.example.com/r/5000\" \"https://new.example.net/t/a\";\n"), "{text}");
        assert!(text.contains("    \"go.example.com/r/café\" \"https://new.example.net/t/%22b%22\";\n"), "{text}");
        assert!(
            text.contains(
                "    \"~^trk\\\\.example\\\\.com\\\\/click\\\\?(?=(?:.*&)?a=10(?:&|$))(?=(?:.*&)?o=1(?:&|$))\" \"https://new.example.net/1-10\";\n"
            ),
            "{text}"
        );
        assert!(!text.contains("$1"), "{text}");
    }
}
