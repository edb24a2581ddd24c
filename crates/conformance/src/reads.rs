//! Reading a stream whole, in batches and from every cursor, and judging
//! what was read against the data set the kit knows.

use crate::Kit;
use crate::checks::describe_error;
use cutover_contract::wire::ReadBatch;
use cutover_schema::{EntityKind, Record};
use std::collections::{BTreeSet, HashMap, HashSet};

/// Everything a read gives: its records in order, and its rejects (by
/// location) in order. How the two interleave is not observable: a batch
/// holds them apart, and the host commits a batch whole.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Items {
    pub(crate) records: Vec<Record>,
    pub(crate) rejects: Vec<String>,
}

impl Items {
    fn len(&self) -> usize {
        self.records.len() + self.rejects.len()
    }

    /// What follows the first `records` records and `rejects` rejects.
    fn after(&self, (records, rejects): Position) -> Items {
        Items {
            records: self.records.get(records..).unwrap_or_default().to_vec(),
            rejects: self.rejects.get(rejects..).unwrap_or_default().to_vec(),
        }
    }
}

/// Records and rejects read before a cursor.
type Position = (usize, usize);

/// A cursor seen during a read, with what came before it.
type ResumePoint = (Position, String);

/// Reads `stream` to its end through a new instance, from `from`, in
/// batches of `batch_size`; also returns every cursor met on the way.
pub(crate) fn read_all(
    kit: &Kit,
    stream: &str,
    from: Option<String>,
    batch_size: u32,
) -> Result<(Items, Vec<ResumePoint>), String> {
    let handle = kit.open(&kit.config).map_err(|error| format!("open: {}", describe_error(&error)))?;
    let mut items = Items::default();
    let mut cursors = Vec::new();
    let mut seen_cursors = HashSet::new();
    let mut cursor = from;
    let outcome = loop {
        let batch: ReadBatch = match kit.client.read(handle, stream, cursor.as_deref(), batch_size) {
            Ok(batch) => batch,
            Err(error) => break Err(format!("read after cursor {cursor:?}: {}", describe_error(&error))),
        };
        let size = batch.records.len() + batch.rejects.len();
        if size > batch_size as usize {
            break Err(format!("asked for {batch_size} items, got {size}"));
        }
        items.records.extend(batch.records);
        items.rejects.extend(batch.rejects.into_iter().map(|reject| reject.location));
        if batch.done {
            break Ok(());
        }
        if size == 0 && batch.next_cursor == cursor {
            break Err(format!("an empty batch that is not done left the cursor at {cursor:?}: the read would loop"));
        }
        if let Some(next) = &batch.next_cursor
            && size > 0
            && !seen_cursors.insert(next.clone())
        {
            break Err(format!(
                "after {} items the read was sent back to cursor `{next}`, which it had passed: the cursor is not \
                 followed and the read would never end",
                items.len()
            ));
        }
        cursor = batch.next_cursor;
        if let Some(position) = &cursor {
            cursors.push(((items.records.len(), items.rejects.len()), position.clone()));
        }
        if items.len() > 10_000_000 {
            break Err("more than 10,000,000 items without `done`".into());
        }
    };
    let closed = kit.client.close(handle).map_err(|error| format!("close: {}", describe_error(&error)));
    outcome.and(closed)?;
    Ok((items, cursors))
}

/// The identity of a record in a stream: no two reads of one stream may
/// give it twice.
type Identity<'a> = (&'a str, EntityKind, &'a str);

fn identity(record: &Record) -> Identity<'_> {
    (record.source_platform.as_str(), record.entity.kind(), record.source_id.as_str())
}

/// Whether `id` names `record`: its source id, or `<source platform>:<source id>`.
pub(crate) fn names(id: &str, record: &Record) -> bool {
    id == record.source_id
        || id
            .strip_prefix(record.source_platform.as_str())
            .and_then(|rest| rest.strip_prefix(':'))
            .is_some_and(|rest| rest == record.source_id)
}

/// What the kit knows a stream must yield; by default nothing (any records,
/// none required).
#[derive(Debug, Clone)]
pub(crate) struct Expectation {
    /// Ids that must each be read exactly once.
    pub(crate) required: BTreeSet<String>,
    /// Whether records with other ids may be read too.
    pub(crate) others_allowed: bool,
    /// How many records must be read, if known.
    pub(crate) count: Option<usize>,
    /// Where the expectation comes from, for messages.
    pub(crate) origin: String,
}

impl Default for Expectation {
    fn default() -> Self {
        Expectation { required: BTreeSet::new(), others_allowed: true, count: None, origin: String::new() }
    }
}

impl Expectation {
    fn is_empty(&self) -> bool {
        self.required.is_empty() && self.others_allowed && self.count.is_none()
    }

    /// What is wrong with `records` as a whole read of the stream.
    pub(crate) fn judge(&self, records: &[&Record]) -> Vec<String> {
        let mut problems = Vec::new();
        let mut twice = Vec::new();
        let mut identities = HashSet::new();
        for record in records {
            if !identities.insert(identity(record)) {
                twice.push(record.source_id.to_string());
            }
        }
        if !twice.is_empty() {
            problems.push(format!("{} read more than once: {}", plural(twice.len(), "record"), quoted(&twice)));
        }
        if self.is_empty() {
            return problems;
        }
        // Index the records by both names they answer to.
        let mut by_name: HashMap<String, usize> = HashMap::new();
        for record in records {
            *by_name.entry(record.source_id.to_string()).or_default() += 1;
            *by_name.entry(format!("{}:{}", record.source_platform, record.source_id)).or_default() += 1;
        }
        let missing: Vec<String> =
            self.required.iter().filter(|id| !by_name.contains_key(id.as_str())).cloned().collect();
        if !missing.is_empty() {
            problems.push(format!(
                "{} of {} {} missing: {}",
                missing.len(),
                self.origin,
                if missing.len() == 1 { "is" } else { "are" },
                quoted(&missing)
            ));
        }
        let repeated: Vec<String> =
            self.required.iter().filter(|id| by_name.get(id.as_str()).is_some_and(|n| *n > 1)).cloned().collect();
        if !repeated.is_empty() {
            problems.push(format!(
                "{} of {} {} read more than once: {}",
                repeated.len(),
                self.origin,
                if repeated.len() == 1 { "is" } else { "are" },
                quoted(&repeated)
            ));
        }
        if !self.others_allowed {
            let unknown: Vec<String> = records
                .iter()
                .filter(|record| !self.required.iter().any(|id| names(id, record)))
                .map(|record| record.source_id.to_string())
                .collect();
            if !unknown.is_empty() {
                let verb = if unknown.len() == 1 { "is" } else { "are" };
                problems.push(format!(
                    "{} read {verb} not in {}: {}",
                    plural(unknown.len(), "record"),
                    self.origin,
                    quoted(&unknown)
                ));
            }
        }
        if let Some(count) = self.count
            && count != records.len()
        {
            problems.push(format!("{} read, {} declared", plural(records.len(), "record"), count));
        }
        problems
    }
}

/// `1 record`, `2 records`.
pub(crate) fn plural(count: usize, noun: &str) -> String {
    if count == 1 { format!("1 {noun}") } else { format!("{count} {noun}s") }
}

/// The first few of `items`, for a message.
pub(crate) fn sample(items: &[String]) -> String {
    const SHOWN: usize = 8;
    let shown: Vec<&str> = items.iter().take(SHOWN).map(String::as_str).collect();
    if items.len() > SHOWN {
        format!("{}, … ({} more)", shown.join(", "), items.len() - SHOWN)
    } else {
        shown.join(", ")
    }
}

/// The first few of `ids`, each in backticks, for a message.
pub(crate) fn quoted(ids: &[String]) -> String {
    sample(&ids.iter().map(|id| format!("`{id}`")).collect::<Vec<_>>())
}

/// What the read checks of one stream found.
pub(crate) struct ReadOutcome {
    /// Whether the stream read at least one record.
    pub(crate) any_records: bool,
    /// Whether the whole read holds the known data set.
    pub(crate) data_set: Result<(), String>,
    /// Whether reads resume at their cursor.
    pub(crate) resume: Result<(), String>,
}

/// Reads `stream` whole, in small batches and from every sampled cursor.
pub(crate) fn check_stream(kit: &Kit, stream: &str, expected: &Expectation) -> Result<ReadOutcome, String> {
    let (whole, _) = read_all(kit, stream, None, 10_000)?;
    let all: Vec<&Record> = whole.records.iter().collect();
    let data_set = as_outcome(expected.judge(&all));
    let resume = resumes_exactly(kit, stream, expected, &whole);
    Ok(ReadOutcome { any_records: !whole.records.is_empty(), data_set, resume })
}

fn as_outcome(problems: Vec<String>) -> Result<(), String> {
    if problems.is_empty() { Ok(()) } else { Err(problems.join("; ")) }
}

fn resumes_exactly(kit: &Kit, stream: &str, expected: &Expectation, whole: &Items) -> Result<(), String> {
    let (batched, cursors) = read_all(kit, stream, None, kit.batch_size)?;
    if batched != *whole {
        return Err(format!(
            "a read in batches of {} gives {} records and {} rejects, one large read {} and {}",
            kit.batch_size,
            batched.records.len(),
            batched.rejects.len(),
            whole.records.len(),
            whole.rejects.len()
        ));
    }
    let step = cursors.len().div_ceil(kit.max_resume_points).max(1);
    for (position, cursor) in cursors.iter().step_by(step) {
        let (rest, _) = read_all(kit, stream, Some(cursor.clone()), kit.batch_size)
            .map_err(|error| format!("resumed from cursor `{cursor}`: {error}"))?;
        let before_and_after: Vec<&Record> =
            batched.records.iter().take(position.0).chain(rest.records.iter()).collect();
        let problems = expected.judge(&before_and_after);
        if !problems.is_empty() {
            return Err(format!(
                "the {} records before cursor `{cursor}` and the {} read resumed from it: {}",
                position.0,
                rest.records.len(),
                problems.join("; ")
            ));
        }
        let tail = whole.after(*position);
        if rest != tail {
            return Err(format!(
                "a read resumed from cursor `{cursor}` gives {} records and {} rejects, expected the {} and {} after \
                 record {} and reject {}",
                rest.records.len(),
                rest.rejects.len(),
                tail.records.len(),
                tail.rejects.len(),
                position.0,
                position.1
            ));
        }
    }
    Ok(())
}
