//! The `csv` plugin's config: where the files are, how they are written, and
//! which column holds which canonical field.

use crate::encoding::TextEncoding;
use schemars::JsonSchema;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// A folder of CSV files, one per stream.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CsvConfig {
    /// Folder holding one CSV file per stream; relative to the migration
    /// config's folder. Created on the first write.
    pub folder: PathBuf,
    /// The field separator. When absent, a source file's separator is
    /// detected from its header line, and written files use `,`.
    #[serde(default)]
    pub delimiter: Option<Delimiter>,
    /// The files' character encoding: `utf-8` (default), `latin-1` or
    /// `windows-1252`. A written file uses it too.
    #[serde(default)]
    pub encoding: TextEncoding,
    /// The `source_platform` written into records read from a file that has
    /// no `source_platform` column.
    #[serde(default = "default_platform")]
    pub platform: String,
    /// Per stream (`contacts`, `partners`, `links`, `clicks`, `conversions`,
    /// `commissions`):
    /// its file and its column mapping.
    #[serde(default)]
    pub streams: BTreeMap<String, StreamConfig>,
    /// The longest a field may be, in bytes once its quotes are taken off;
    /// default 1 MiB (1048576). A row with a longer field is a `too_large`
    /// reject naming the column (its raw text cut to its first KiB); the
    /// rows after it are read.
    #[serde(default = "default_max_field_bytes")]
    #[schemars(range(min = 1))]
    pub max_field_bytes: u64,
    /// The longest a row may be, in bytes as the file holds them (quotes,
    /// separators and the line breaks of quoted fields included, its line end
    /// not); default 16 MiB (16777216). This bounds the memory a row takes. A
    /// longer row is a `too_large` reject (its raw text cut to its first KiB),
    /// and reading goes on at the next row, whose start is found without
    /// holding the long one: rows are split exactly as with no limit, so a
    /// field's text is never read as rows. A quote left open runs on to the
    /// next quote, or to the end of the file, as in any CSV reader: the reject
    /// then says which lines it swallowed.
    #[serde(default = "default_max_row_bytes")]
    #[schemars(range(min = 1))]
    pub max_row_bytes: u64,
}

fn default_platform() -> String {
    "csv".to_owned()
}

/// 1 MiB.
pub(crate) const DEFAULT_MAX_FIELD_BYTES: u64 = 1 << 20;
/// 16 MiB.
pub(crate) const DEFAULT_MAX_ROW_BYTES: u64 = 16 << 20;

fn default_max_field_bytes() -> u64 {
    DEFAULT_MAX_FIELD_BYTES
}

fn default_max_row_bytes() -> u64 {
    DEFAULT_MAX_ROW_BYTES
}

/// One stream's file and column mapping.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StreamConfig {
    /// The file name in the folder; default `<stream>.csv`.
    #[serde(default)]
    pub file: Option<PathBuf>,
    /// CSV header → canonical field: `source_id`, `source_platform`,
    /// `updated_at`, a field of the stream's entity (`email`, `amount`,
    /// `amount.currency`), `custom.<name>`, or `custom_fields` (a JSON map of
    /// typed custom values). A header that already is a canonical field name
    /// needs no entry (`First Name` reads as `first_name`, `id` as
    /// `source_id`); any other column becomes a text custom field named after
    /// its header, never dropped. A row with no `updated_at` takes the file's
    /// modification time: the export is at least that fresh.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
}

/// A field separator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum Delimiter {
    /// `,`
    #[serde(rename = ",")]
    Comma,
    /// `;`, as spreadsheets write in locales with a decimal comma.
    #[serde(rename = ";")]
    Semicolon,
    /// A tab.
    #[serde(rename = "\t")]
    Tab,
}

impl Delimiter {
    /// Every separator, in the order detection prefers on a tie.
    pub(crate) const ALL: [Delimiter; 3] = [Delimiter::Comma, Delimiter::Semicolon, Delimiter::Tab];

    pub(crate) fn byte(self) -> u8 {
        match self {
            Delimiter::Comma => b',',
            Delimiter::Semicolon => b';',
            Delimiter::Tab => b'\t',
        }
    }

    /// The separator a header line uses: the one that occurs most often
    /// outside quotes, `,` when none does.
    pub(crate) fn detect(header_line: &[u8]) -> Delimiter {
        let mut counts = [0usize; 3];
        let mut quoted = false;
        for byte in header_line {
            match byte {
                b'"' => quoted = !quoted,
                b'\n' if !quoted => break,
                _ if !quoted => {
                    if let Some(index) = Delimiter::ALL.iter().position(|delimiter| delimiter.byte() == *byte) {
                        counts[index] += 1;
                    }
                }
                _ => {}
            }
        }
        let mut best = Delimiter::Comma;
        let mut best_count = 0;
        for (delimiter, count) in Delimiter::ALL.into_iter().zip(counts) {
            if count > best_count {
                (best, best_count) = (delimiter, count);
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(header_line: &str, expected: Delimiter) {
        assert_eq!(Delimiter::detect(header_line.as_bytes()), expected, "{header_line:?}");
    }

    #[test]
    fn the_delimiter_is_detected_from_the_header_line() {
        check("email,first_name\n", Delimiter::Comma);
        check("email;first_name;last_name\r\n", Delimiter::Semicolon);
        check("email\tfirst_name\n", Delimiter::Tab);
        check("\"a;b\",c\n", Delimiter::Comma);
        check("email\n", Delimiter::Comma);
        check("a;b\nc,d,e,f\n", Delimiter::Semicolon);
    }

    #[test]
    fn the_config_is_read_with_its_defaults_and_refuses_typos() {
        let config: CsvConfig = serde_json::from_str(
            r#"{"folder":"in","delimiter":";","encoding":"latin-1",
                "streams":{"contacts":{"columns":{"E-Mail":"email"}}}}"#,
        )
        .unwrap();
        assert_eq!(config.delimiter, Some(Delimiter::Semicolon));
        assert_eq!(config.encoding, TextEncoding::Latin1);
        assert_eq!(config.platform, "csv");
        assert_eq!(config.streams["contacts"].columns["E-Mail"], "email");
        assert_eq!((config.max_field_bytes, config.max_row_bytes), (1 << 20, 16 << 20));
        assert!(serde_json::from_str::<CsvConfig>(r#"{"folder":"in","delimitr":";"}"#).is_err());
        assert!(serde_json::from_str::<CsvConfig>(r#"{"folder":"in","delimiter":"|"}"#).is_err());
    }
}
