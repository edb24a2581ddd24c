//! The load benchmark's input: a messy contacts CSV of any size, written
//! deterministically from a fixed seed.
//!
//! The mess is the kind `examples/generate_samples.py` puts in the sample
//! export, with the same columns: about 3 % emails that are not addresses,
//! 3 % addresses that repeat an earlier one in upper case, names in Latin,
//! Cyrillic, Greek, Han, Arabic and Vietnamese scripts, 5 % notes with a
//! quoted newline, amounts with thousands separators and decimal commas,
//! timestamps with and without offsets, and a row with no id (row 137 and
//! every 100,000th after it). The random numbers are SplitMix64, written out
//! here so that the file is the same on every machine and release.

use anyhow::{Context, Result};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

/// The seed of every generated file (the sample export's seed).
pub const SEED: u64 = 20_261_123;

const HEADER: &str = "Email Address,First Name,Last Name,Phone,Status,Tags,Lifetime Value,Notes,Last Changed,LEID\n";
const FIRST: &[&str] = &[
    "Ada",
    "Zoë",
    "José",
    "Chloé",
    "Björn",
    "Aiko",
    "Wei",
    "Olusegun",
    "Priya",
    "Łukasz",
    "Дмитрий",
    "Σοφία",
    "美咲",
    "Noah",
    "Fatima",
    "محمد",
    "Nguyễn",
    "Søren",
];
const LAST: &[&str] = &[
    "Lovelace",
    "Müller",
    "García",
    "Ødegaard",
    "Tanaka",
    "Chen",
    "Adeyemi",
    "Patel",
    "Kowalski",
    "Иванов",
    "Παπαδοπούλου",
    "佐藤",
    "O'Brien",
    "Al-Sayed",
    "Trần",
    "Jensen",
];
const DOMAINS: &[&str] = &["example.com", "example.org", "mail.example.net", "example.co.uk"];
const STATUSES: &[&str] = &[
    "subscribed",
    "subscribed",
    "subscribed",
    "subscribed",
    "subscribed",
    "subscribed",
    "unsubscribed",
    "cleaned",
    "pending",
    "transactional",
];
const TAGS: &[&str] = &["vip", "newsletter", "black-friday", "webinar", "trial"];

/// How many rows of each kind of mess a file holds.
#[derive(Debug, Default, Clone, Copy)]
pub struct Mess {
    pub bad_email: u64,
    pub case_duplicate: u64,
    pub quoted_newline: u64,
    pub missing_id: u64,
    /// Rows a validating loader must reject: a bad email, no id, or both.
    pub rejectable: u64,
}

/// SplitMix64: tiny, fast, and stable, which is all a test file needs.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..bound` (the modulo bias is irrelevant here).
    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }

    /// A number in `0.0..1.0`.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

/// Writes `rows` rows (after the header) to `path` and says what mess they hold.
pub fn write(path: &Path, rows: u64) -> Result<Mess> {
    let file = std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut random = Random(SEED);
    let mut mess = Mess::default();
    let mut line = String::with_capacity(512);
    let mut cell = String::with_capacity(64);
    out.write_all(HEADER.as_bytes()).with_context(|| format!("cannot write {}", path.display()))?;
    for index in 0..rows {
        line.clear();
        let (first, last) = (random.pick(FIRST), random.pick(LAST));
        let domain = random.pick(DOMAINS);
        let roll = random.unit();
        let missing_id = index % 100_000 == 137;
        if roll < 0.03 || missing_id {
            mess.rejectable += 1;
        }
        cell.clear();
        if roll < 0.03 {
            let _ = match random.below(4) {
                0 => write!(cell, "member{index}.example.com"),
                1 => write!(cell, "member{index}@"),
                2 => write!(cell, "not an email"),
                _ => write!(cell, "m {index}@example.com"),
            };
            mess.bad_email += 1;
        } else if roll < 0.06 && index > 0 {
            let _ = write!(cell, "MEMBER{}@{}", index - 1, DOMAINS[0].to_uppercase());
            mess.case_duplicate += 1;
        } else {
            let _ = write!(cell, "member{index}@{domain}");
        }
        push_cell(&mut line, &cell);
        push_cell(&mut line, first);
        push_cell(&mut line, last);
        cell.clear();
        let _ = match random.below(3) {
            0 => Ok(()),
            1 => write!(cell, "+44 20 7946 {:04}", random.below(10_000)),
            _ => write!(cell, "(212) 555-{:04}", random.below(10_000)),
        };
        push_cell(&mut line, &cell);
        push_cell(&mut line, random.pick(STATUSES));
        cell.clear();
        let tag_count = random.below(3) as usize;
        let mut tags: Vec<&str> = Vec::with_capacity(2);
        while tags.len() < tag_count {
            let tag = random.pick(TAGS);
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        tags.sort_unstable();
        cell.push_str(&tags.join(","));
        push_cell(&mut line, &cell);
        cell.clear();
        amount(&mut random, &mut cell);
        push_cell(&mut line, &cell);
        let notes = if random.unit() < 0.05 {
            mess.quoted_newline += 1;
            "called twice,\nasked for a callback"
        } else {
            ""
        };
        push_cell(&mut line, notes);
        cell.clear();
        timestamp(&mut random, &mut cell);
        push_cell(&mut line, &cell);
        if missing_id {
            mess.missing_id += 1;
        } else {
            let _ = write!(line, "{}", 100_000 + index);
        }
        line.push('\n');
        out.write_all(line.as_bytes()).with_context(|| format!("cannot write {}", path.display()))?;
    }
    out.flush().with_context(|| format!("cannot write {}", path.display()))?;
    Ok(mess)
}

/// Appends `cell` and a comma, quoted when it holds a comma, quote or line break.
fn push_cell(line: &mut String, cell: &str) {
    if cell.contains([',', '"', '\n', '\r']) {
        line.push('"');
        line.push_str(&cell.replace('"', "\"\""));
        line.push('"');
    } else {
        line.push_str(cell);
    }
    line.push(',');
}

/// An amount of up to 5,000.00 in one of four spellings: `1234.56`,
/// `1,234.56`, `1234,56`, `1.234,56`.
fn amount(random: &mut Random, out: &mut String) {
    let cents = random.below(500_001);
    let (whole, fraction) = (cents / 100, cents % 100);
    let grouped = |separator: char| {
        let digits = whole.to_string();
        let mut text = String::with_capacity(digits.len() + 2);
        for (position, digit) in digits.chars().enumerate() {
            if position > 0 && (digits.len() - position) % 3 == 0 {
                text.push(separator);
            }
            text.push(digit);
        }
        text
    };
    let _ = match random.below(4) {
        0 => write!(out, "{whole}.{fraction:02}"),
        1 => write!(out, "{}.{fraction:02}", grouped(',')),
        2 => write!(out, "{whole},{fraction:02}"),
        _ => write!(out, "{},{fraction:02}", grouped('.')),
    };
}

/// A 2025 timestamp, half without offset (`2025-05-04 13:41:07`), half
/// RFC 3339 with `+02:00`, `-05:00` or `Z`.
fn timestamp(random: &mut Random, out: &mut String) {
    let (day, hour, minute, month) = (1 + random.below(28), random.below(24), random.below(60), 1 + random.below(12));
    if random.unit() < 0.5 {
        let _ = write!(out, "2025-{month:02}-{day:02} {hour:02}:{minute:02}:07");
    } else {
        let offset = random.pick(&["+02:00", "-05:00", "Z"]);
        let _ = write!(out, "2025-{month:02}-{day:02}T{hour:02}:{minute:02}:07{offset}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_is_the_same_every_time_and_holds_every_kind_of_mess() -> Result<()> {
        let folder = tempfile::tempdir()?;
        let (one, two) = (folder.path().join("one.csv"), folder.path().join("two.csv"));
        let mess = write(&one, 2_000)?;
        write(&two, 2_000)?;
        let text = std::fs::read_to_string(&one)?;
        assert_eq!(text, std::fs::read_to_string(&two)?);
        assert!(text.starts_with(HEADER));
        assert!(mess.bad_email > 20 && mess.case_duplicate > 20 && mess.quoted_newline > 40, "{mess:?}");
        assert_eq!(mess.missing_id, 1);
        assert_eq!(mess.rejectable, mess.bad_email + 1, "row 137 has a good email");
        assert!(text.contains("\"called twice,\nasked for a callback\""));
        assert!(text.contains("Дмитрий") && text.contains("Z,") && text.contains("+02:00,"));
        assert!(text.lines().any(|line| line.contains(",\"1,") || line.contains(",\"2,")), "thousands separators");
        Ok(())
    }
}
