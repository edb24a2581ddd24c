//! Taking secrets out of text: the forms a secret takes in text that quotes
//! it, and a line writer that masks them. The host redacts its messages,
//! logs, reports and state with it; a plugin library redacts its own log
//! lines with it, from the values the host names in
//! [`LogSettings::redact`](crate::metadata::LogSettings::redact), so both
//! sides of the boundary mean the same by "redacted".
//!
//! A secret is searched for as it is, JSON-escaped (a JSON log line, a
//! report; non-ASCII as it is or as `\u` escapes), escaped as Rust's `{:?}` writes it (a text log line's string
//! field) and base64-encoded (an HTTP Basic `Authorization` header, where
//! it follows a user name: every alignment is covered, in the standard and
//! the URL-safe alphabets). Each of those is also found percent-encoded,
//! whichever characters the encoder chose to encode (a URL path keeps a
//! `+` that a query or a form encodes), in either case of hex digit and
//! with a space as `+`: the search decodes as it goes.

use std::io::Write;

/// What a secret is replaced with.
pub const MASK: &str = "****";

/// The shortest secret redacted, in bytes: shorter values would mask half
/// of every line.
pub const MIN_SECRET_LEN: usize = 4;

/// The forms `secret` takes in text that quotes it, itself included,
/// without duplicates, longest first; [`Redactor::redact`] finds each of
/// them percent-encoded too.
pub fn forms(secret: &str) -> Vec<String> {
    let mut forms = vec![secret.to_owned(), json_escaped(secret), ascii_json_escaped(secret), debug_escaped(secret)];
    for alphabet in [STANDARD, URL_SAFE] {
        for offset in 0..3 {
            forms.push(base64_core(secret.as_bytes(), offset, alphabet));
        }
    }
    forms.retain(|form| !form.is_empty());
    forms.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    forms.dedup();
    forms
}

/// `secret` as it appears inside a JSON string.
fn json_escaped(secret: &str) -> String {
    let quoted = serde_json::to_string(secret).unwrap_or_default();
    quoted.get(1..quoted.len().saturating_sub(1)).unwrap_or_default().to_owned()
}

/// `secret` as it appears inside a JSON string written in ASCII only (as
/// Python's `json.dumps` writes it): other characters as `\u00e9`, or as a
/// surrogate pair.
fn ascii_json_escaped(secret: &str) -> String {
    let mut escaped = String::new();
    for character in json_escaped(secret).chars() {
        if character.is_ascii() {
            escaped.push(character);
        } else {
            let mut units = [0u16; 2];
            for unit in character.encode_utf16(&mut units) {
                escaped.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    escaped
}

/// `secret` as it appears inside Rust's `{:?}` of a string.
fn debug_escaped(secret: &str) -> String {
    let quoted = format!("{secret:?}");
    quoted.get(1..quoted.len().saturating_sub(1)).unwrap_or_default().to_owned()
}

const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The base64 characters that `bytes` alone decide when they follow
/// `offset` (0 to 2) other bytes in the encoded text: the characters that
/// share bits with what comes before or after are left out, so the core is
/// found whatever surrounds the secret (a `user:` before it, padding after).
fn base64_core(bytes: &[u8], offset: usize, alphabet: &[u8; 64]) -> String {
    let mut padded = vec![0u8; offset];
    padded.extend_from_slice(bytes);
    let mut encoded = String::with_capacity(padded.len() * 4 / 3 + 4);
    for chunk in padded.chunks(3) {
        let word =
            chunk.iter().enumerate().fold(0u32, |word, (index, byte)| word | u32::from(*byte) << (16 - 8 * index));
        for index in 0..=chunk.len() {
            encoded.push(char::from(alphabet[(word >> (18 - 6 * index) & 63) as usize]));
        }
    }
    // A character holds 6 bits: the first one made of the secret's bits
    // only starts at bit 8 × offset, the last one ends at its last bit.
    let start = (8 * offset).div_ceil(6);
    let end = 8 * padded.len() / 6;
    encoded.get(start..end.max(start)).unwrap_or_default().to_owned()
}

/// A set of secrets to take out of text, each in every one of its
/// [`forms`]. Its `Debug` shows how many forms it holds, never one.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Redactor {
    /// Every form of every secret, longest first.
    forms: Vec<String>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redactor").field("forms", &self.forms.len()).finish()
    }
}

impl Redactor {
    /// A redactor that takes nothing out.
    pub fn new() -> Redactor {
        Redactor::default()
    }

    /// Adds `secret` (ignored when shorter than [`MIN_SECRET_LEN`]).
    pub fn add(&mut self, secret: &str) {
        if secret.len() < MIN_SECRET_LEN {
            return;
        }
        self.forms.extend(forms(secret));
        // Longest first: a form inside a longer one must not cut it up first.
        self.forms.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        self.forms.dedup();
    }

    /// Whether it holds no secret.
    pub fn is_empty(&self) -> bool {
        self.forms.is_empty()
    }

    /// `text` with every form of every secret, as it is or
    /// percent-encoded, replaced by [`MASK`].
    pub fn redact(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for form in &self.forms {
            if let Some(masked) = mask(&text, form.as_bytes()) {
                text = masked;
            }
        }
        text
    }
}

/// `text` with each run of bytes that is `form` masked, when there is one.
fn mask(text: &str, form: &[u8]) -> Option<String> {
    let bytes = text.as_bytes();
    let mut masked: Vec<u8> = Vec::new();
    let (mut at, mut copied) = (0, 0);
    while at < bytes.len() {
        match encoded_match(&bytes[at..], form) {
            Some(length) => {
                masked.extend_from_slice(&bytes[copied..at]);
                masked.extend_from_slice(MASK.as_bytes());
                at += length;
                copied = at;
            }
            None => at += 1,
        }
    }
    if copied == 0 {
        return None;
    }
    masked.extend_from_slice(&bytes[copied..]);
    // A match starts and ends on character boundaries (`text` and `form`
    // are UTF-8, and an escape is ASCII), so this is UTF-8 already.
    Some(String::from_utf8(masked).unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned()))
}

/// How many bytes at the start of `text` spell `form`, each of its bytes
/// as it is or percent-encoded (`%2f` or `%2F`), a space also as `+`.
fn encoded_match(text: &[u8], form: &[u8]) -> Option<usize> {
    // A `%` of the form's own before `25` can be read two ways: as an
    // escape (of the `%`), or as itself.
    spelled(text, form, true).or_else(|| spelled(text, form, false))
}

fn spelled(text: &[u8], form: &[u8], escapes_first: bool) -> Option<usize> {
    let mut at = 0;
    for &byte in form {
        let next = *text.get(at)?;
        let escaped = next == b'%' && text.get(at + 1..at + 3).and_then(hex_byte) == Some(byte);
        if escaped && (escapes_first || next != byte) {
            at += 3;
        } else if next == byte || (next == b'+' && byte == b' ') {
            at += 1;
        } else {
            return None;
        }
    }
    (at > 0).then_some(at)
}

fn hex_byte(digits: &[u8]) -> Option<u8> {
    let value = |digit: u8| char::from(digit).to_digit(16);
    let (high, low) = (value(*digits.first()?)?, value(*digits.get(1)?)?);
    u8::try_from(high * 16 + low).ok()
}

/// A writer for log lines that keeps what it is given and writes it to
/// `inner` passed through `redact` when it is dropped (or flushed, up to
/// the last whole line): a log formatter writes one event through one such
/// writer, so a secret split over two writes is still found.
pub struct RedactedLines<W: Write> {
    inner: W,
    pending: Vec<u8>,
    redact: fn(&str) -> String,
}

impl<W: Write> std::fmt::Debug for RedactedLines<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // What is pending is not redacted yet.
        f.debug_struct("RedactedLines").field("pending_bytes", &self.pending.len()).finish_non_exhaustive()
    }
}

impl<W: Write> RedactedLines<W> {
    /// A writer to `inner` that redacts with `redact`.
    pub fn new(inner: W, redact: fn(&str) -> String) -> RedactedLines<W> {
        RedactedLines { inner, pending: Vec::new(), redact }
    }

    /// Writes out the first `length` bytes kept, redacted.
    fn emit(&mut self, length: usize) -> std::io::Result<()> {
        if length == 0 {
            return Ok(());
        }
        let lines: Vec<u8> = self.pending.drain(..length).collect();
        self.inner.write_all((self.redact)(&String::from_utf8_lossy(&lines)).as_bytes())
    }
}

impl<W: Write> Write for RedactedLines<W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let whole_lines = self.pending.iter().rposition(|byte| *byte == b'\n').map_or(0, |end| end + 1);
        self.emit(whole_lines)?;
        self.inner.flush()
    }
}

impl<W: Write> Drop for RedactedLines<W> {
    fn drop(&mut self) {
        // Nowhere to report a failed log write; the line is lost as it would be unredacted.
        let _ = self.emit(self.pending.len()).and_then(|()| self.inner.flush());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Standard base64 with padding, written out plainly, to check the cores against.
    fn base64(bytes: &[u8]) -> String {
        let mut encoded = String::new();
        for chunk in bytes.chunks(3) {
            let word =
                chunk.iter().enumerate().fold(0u32, |word, (index, byte)| word | u32::from(*byte) << (16 - 8 * index));
            for index in 0..4 {
                if index <= chunk.len() {
                    encoded.push(char::from(STANDARD[(word >> (18 - 6 * index) & 63) as usize]));
                } else {
                    encoded.push('=');
                }
            }
        }
        encoded
    }

    const SECRET: &str = "k3y\"q\\uo/te+d=é\n9 %x";

    #[test]
    fn every_form_of_a_secret_is_masked() {
        let mut redactor = Redactor::new();
        redactor.add(SECRET);
        let quoted = [
            ("raw", SECRET.to_owned()),
            ("JSON", serde_json::to_string(SECRET).unwrap()),
            ("JSON in ASCII", r#""k3y\"q\\uo/te+d=\u00e9\n9 %x""#.to_owned()),
            ("Debug", format!("{SECRET:?}")),
            ("percent, RFC 3986 unreserved only", "k3y%22q%5Cuo%2Fte%2Bd%3D%C3%A9%0A9%20%25x".to_owned()),
            ("percent, lowercase", "k3y%22q%5cuo%2fte%2bd%3d%c3%a9%0a9%20%25x".to_owned()),
            ("percent, a URL path segment's set", "k3y%22q%5Cuo%2Fte+d=%C3%A9%0A9%20%25x".to_owned()),
            ("form-encoded", "k3y%22q%5Cuo%2Fte%2Bd%3D%C3%A9%0A9+%25x".to_owned()),
            ("JSON-escaped, then percent-encoded", "k3y%5C%22q%5C%5Cuo/te+d=%C3%A9%5Cn9 %25x".to_owned()),
        ];
        for (form, text) in quoted {
            let redacted = redactor.redact(&format!("before {text} after"));
            assert!(redacted.starts_with("before ") && redacted.ends_with(" after"), "{form}: {redacted}");
            assert!(redacted.contains(MASK) && !redacted.contains("k3y"), "{form}: {redacted}");
        }
        let mut emoji = Redactor::new();
        emoji.add("key\u{1f511}-1234");
        assert_eq!(emoji.redact(r#"{"k":"key\ud83d\udd11-1234"}"#), r#"{"k":"****"}"#);
        // Base64 after a user name of every length modulo 3, and in either alphabet.
        for user in ["", "a:", "ab:", "abc:", "anystring:", "cutover:"] {
            let encoded = base64(format!("{user}{SECRET}").as_bytes());
            let redacted = redactor.redact(&format!("Authorization: Basic {encoded}"));
            assert!(redacted.contains(MASK), "{user}: {redacted}");
            // At most the two characters around the mask carry a few of the secret's bits.
            let left = redacted.trim_start_matches("Authorization: Basic ").replace(MASK, "");
            assert!(left.len() <= base64(user.as_bytes()).trim_end_matches('=').len() + 4, "{user}: {redacted}");
            let url_safe = encoded.replace('+', "-").replace('/', "_");
            assert!(redactor.redact(&url_safe).contains(MASK), "URL-safe after {user:?}: {url_safe}");
        }
    }

    #[test]
    fn base64_cores_are_the_characters_the_secret_alone_decides() {
        assert_eq!(base64_core(b"foobar", 0, STANDARD), "Zm9vYmFy");
        assert_eq!(base64(b"foob"), "Zm9vYg==");
        assert_eq!(base64_core(b"foob", 0, STANDARD), "Zm9vY");
        // After one byte, the second character mixes the byte and the secret.
        let after_one = base64(b"xfoobar");
        assert!(after_one.contains(&base64_core(b"foobar", 1, STANDARD)), "{after_one}");
        let after_two = base64(b"xyfoobar");
        assert!(after_two.contains(&base64_core(b"foobar", 2, STANDARD)), "{after_two}");
    }

    #[test]
    fn a_percent_sign_that_is_no_escape_is_text() {
        let mut redactor = Redactor::new();
        redactor.add("50%off-code");
        assert_eq!(
            redactor.redact("a 50%off-code b 50%25off-code c 50%2off-code %%"),
            "a **** b **** c 50%2off-code %%"
        );
        assert_eq!(redactor.redact("é%C3%A9 %"), "é%C3%A9 %");
        // A secret that holds what looks like an escape, as it is and encoded.
        redactor.add("ab%25cd");
        assert_eq!(redactor.redact("x ab%25cd y ab%2525cd z"), "x **** y **** z");
    }

    #[test]
    fn short_values_and_other_text_are_left_alone() {
        let mut redactor = Redactor::new();
        redactor.add("abc");
        assert!(redactor.is_empty());
        redactor.add("abcd");
        assert_eq!(redactor.redact("xyz abcd abc"), "xyz **** abc");
        assert_eq!(format!("{redactor:?}"), format!("Redactor {{ forms: {} }}", forms("abcd").len()));
    }

    #[test]
    fn a_secret_inside_another_is_masked_after_it() {
        let mut redactor = Redactor::new();
        redactor.add("token");
        redactor.add("token-and-more");
        assert_eq!(redactor.redact("a token-and-more b token c"), "a **** b **** c");
    }

    fn mask_test_secret(text: &str) -> String {
        text.replace("piece-wise-secret", MASK)
    }

    #[test]
    fn a_line_written_in_pieces_is_redacted_whole() {
        let mut out = Vec::new();
        {
            let mut writer = RedactedLines::new(&mut out, mask_test_secret);
            writer.write_all(b"first piece-wi").unwrap();
            writer.write_all(b"se-secret line\nsecond").unwrap();
            writer.flush().unwrap();
            assert!(!format!("{writer:?}").contains("second"), "{writer:?}");
        }
        assert_eq!(String::from_utf8(out).unwrap(), "first **** line\nsecond");
    }
}
