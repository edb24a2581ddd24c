//! The character encodings a CSV file may be in, and turning its bytes into
//! text and back.
//!
//! Parsing works on bytes: in every supported encoding the bytes that matter
//! to CSV (`"`, `,`, `;`, tab, CR, LF) are the ASCII ones, so each field is
//! decoded on its own and a bad byte spoils one row, not the file.

use schemars::JsonSchema;
use serde::Deserialize;
use std::borrow::Cow;

/// A file's character encoding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum TextEncoding {
    /// UTF-8; a byte sequence that is not UTF-8 makes its row a reject.
    #[default]
    #[serde(rename = "utf-8")]
    Utf8,
    /// ISO 8859-1: every byte is the character with that code.
    #[serde(rename = "latin-1")]
    Latin1,
    /// Windows-1252: Latin-1 with printable characters (`€`, `‘`) in 0x80–0x9F.
    #[serde(rename = "windows-1252")]
    Windows1252,
}

impl TextEncoding {
    /// The text of `bytes`, or `None` when they are not valid in this encoding.
    pub(crate) fn decode(self, bytes: &[u8]) -> Option<Cow<'_, str>> {
        match self {
            TextEncoding::Utf8 => std::str::from_utf8(bytes).ok().map(Cow::Borrowed),
            TextEncoding::Latin1 => Some(encoding_rs::mem::decode_latin1(bytes)),
            TextEncoding::Windows1252 => {
                encoding_rs::WINDOWS_1252.decode_without_bom_handling_and_without_replacement(bytes)
            }
        }
    }

    /// The text of `bytes` with what cannot be decoded replaced, for showing a rejected row.
    pub(crate) fn decode_lossy(self, bytes: &[u8]) -> String {
        match self.decode(bytes) {
            Some(text) => text.into_owned(),
            None => String::from_utf8_lossy(bytes).into_owned(),
        }
    }

    /// The bytes of `text`, or `None` when a character has no code in this encoding.
    pub(crate) fn encode(self, text: &str) -> Option<Cow<'_, [u8]>> {
        match self {
            TextEncoding::Utf8 => Some(Cow::Borrowed(text.as_bytes())),
            TextEncoding::Latin1 => text
                .chars()
                .map(|character| u8::try_from(u32::from(character)).ok())
                .collect::<Option<Vec<u8>>>()
                .map(Cow::Owned),
            TextEncoding::Windows1252 => {
                let (bytes, _, had_unmappable) = encoding_rs::WINDOWS_1252.encode(text);
                (!had_unmappable).then_some(bytes)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(encoding: TextEncoding, bytes: &[u8], expected: Option<&str>) {
        assert_eq!(encoding.decode(bytes).as_deref(), expected, "{encoding:?} {bytes:?}");
        if let Some(text) = expected {
            assert_eq!(encoding.encode(text).as_deref(), Some(bytes), "{encoding:?} {text:?}");
        }
    }

    #[test]
    fn text_is_decoded_and_encoded_back() {
        check(TextEncoding::Utf8, "Müller".as_bytes(), Some("Müller"));
        check(TextEncoding::Utf8, b"M\xfcller", None);
        check(TextEncoding::Latin1, b"M\xfcller", Some("Müller"));
        check(TextEncoding::Windows1252, b"M\xfcller \x80", Some("Müller €"));
        check(TextEncoding::Latin1, b"\x80", Some("\u{80}"));
    }

    #[test]
    fn characters_with_no_code_cannot_be_encoded() {
        assert_eq!(TextEncoding::Latin1.encode("美咲"), None);
        assert_eq!(TextEncoding::Windows1252.encode("Дмитрий"), None);
    }
}
