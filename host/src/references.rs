//! Foreign keys kept across the move: every [`Reference`] a record holds to a
//! record of a kind this migration moves is rewritten through the id map to
//! the target's id before the record is written.
//!
//! Streams run in dependency order, so a reference to another stream's kind
//! finds its target already written; one that does not (the record pointed at
//! was rejected, skipped or is absent) rejects the record, and replaying the
//! rejects after fixing the first fixes both. A reference to the stream's own
//! kind (a partner's parent) cannot be resolved that way: its target may come
//! later in the same stream. Such records are held back and written by the
//! stream's second pass ([`SecondPass`]), parents before children; a cycle is
//! broken at one link, which is left unset and reported.

use crate::state::{IdLookup, StateError};
use cutover_schema::{CompactString, EntityKind, Record, Reference};
use std::collections::{BTreeMap, HashMap, HashSet};

// The migrated kinds are a bit set.
const _: () = assert!(EntityKind::ALL.len() <= 32);

/// Lookups kept before the cache starts afresh (bounded memory).
const CACHE_LIMIT: usize = 100_000;

/// What became of a record's references.
#[derive(Debug, PartialEq, Eq)]
pub enum Rewritten {
    /// Every reference points at the target now: write it.
    Ready,
    /// It references its own stream: hold it back for the second pass.
    Deferred,
    /// A reference points at a record that was not migrated; the record is
    /// unchanged.
    Unresolved(String),
}

/// Rewrites the references of one stream's records.
pub struct ReferenceRewriter {
    platform: String,
    own: EntityKind,
    /// The kinds migrated, one bit each.
    migrated: u32,
    lookup: Box<dyn IdLookup>,
    cache: HashMap<(EntityKind, CompactString), Option<String>>,
}

impl ReferenceRewriter {
    /// A rewriter for a stream of `own` records read from `platform`, in a
    /// migration that moves the `migrated` kinds; `None` when no record of
    /// the stream can reference one of them.
    pub fn for_stream(
        platform: &str,
        own: EntityKind,
        migrated: &HashSet<EntityKind>,
        lookup: impl FnOnce() -> Result<Box<dyn IdLookup>, StateError>,
    ) -> Result<Option<ReferenceRewriter>, StateError> {
        if !own.has_references() {
            return Ok(None);
        }
        Ok(Some(ReferenceRewriter {
            platform: platform.to_owned(),
            own,
            migrated: migrated.iter().fold(0, |bits, kind| bits | bit(*kind)),
            lookup: lookup()?,
            cache: HashMap::new(),
        }))
    }

    fn target(&mut self, reference: &Reference) -> Result<Option<String>, StateError> {
        let key = (reference.entity, reference.source_id.clone());
        if let Some(found) = self.cache.get(&key) {
            return Ok(found.clone());
        }
        let found = self.lookup.target_id(&self.platform, reference.entity.as_str(), &reference.source_id)?;
        // Misses are not cached: the second pass writes targets as it goes.
        if found.is_some() {
            if self.cache.len() >= CACHE_LIMIT {
                self.cache.clear();
            }
            self.cache.insert(key, found.clone());
        }
        Ok(found)
    }

    /// Whether `record` references its own stream's kind, and so will be
    /// held back for the second pass.
    pub fn references_own_kind(&self, record: &Record) -> bool {
        record.entity.references().iter().any(|(_, reference)| reference.entity == self.own)
    }

    /// First pass: rewrites the references to other streams' kinds, and
    /// holds back a record that references its own kind. An unresolved
    /// record is left as it was.
    pub fn rewrite(&mut self, record: &mut Record) -> Result<Rewritten, StateError> {
        let (own, migrated) = (self.own, self.migrated);
        Ok(match self.rewrite_where(record, |kind| kind != own && migrated & bit(kind) != 0)? {
            Rewritten::Ready if self.references_own_kind(record) => Rewritten::Deferred,
            other => other,
        })
    }

    /// Second pass: rewrites the references to the stream's own kind, whose
    /// targets the second pass has written first.
    pub fn rewrite_own(&mut self, record: &mut Record) -> Result<Rewritten, StateError> {
        let own = self.own;
        self.rewrite_where(record, |kind| kind == own)
    }

    /// Rewrites the references to the kinds `rewritten` picks, all or none.
    fn rewrite_where(
        &mut self,
        record: &mut Record,
        rewritten: impl Fn(EntityKind) -> bool,
    ) -> Result<Rewritten, StateError> {
        let mut targets = Vec::new();
        for (field, reference) in record.entity.references() {
            if !rewritten(reference.entity) {
                targets.push(None);
                continue;
            }
            match self.target(reference)? {
                Some(target) => targets.push(Some(target)),
                None => return Ok(Rewritten::Unresolved(not_migrated(field, reference))),
            }
        }
        for ((_, reference), target) in record.entity.references_mut().into_iter().zip(targets) {
            if let Some(target) = target {
                reference.source_id = target.into();
            }
        }
        Ok(Rewritten::Ready)
    }
}

fn bit(kind: EntityKind) -> u32 {
    1 << (kind as u32)
}

fn not_migrated(field: &str, reference: &Reference) -> String {
    format!(
        "`{field}` points at {} {}, which was not migrated (rejected, skipped or absent from the source); fix that record, then run `cutover rejects replay`",
        reference.entity.as_str(),
        reference.source_id
    )
}

/// The records a stream held back, released in waves: each wave holds the
/// records whose own-kind references all point outside the records still
/// held, so writing the waves in order writes every parent before its
/// children.
pub struct SecondPass {
    own: EntityKind,
    pending: BTreeMap<CompactString, Record>,
    warnings: Vec<String>,
}

impl SecondPass {
    /// The held-back `records` of a stream of `own` records.
    pub fn new(own: EntityKind, records: impl IntoIterator<Item = Record>) -> SecondPass {
        let pending = records.into_iter().map(|record| (record.source_id.clone(), record)).collect();
        SecondPass { own, pending, warnings: Vec::new() }
    }

    /// The cycles broken so far, one message each.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The records still held that `record` points at.
    fn held_targets<'a>(&'a self, record: &'a Record) -> impl Iterator<Item = &'a CompactString> + 'a {
        record
            .entity
            .references()
            .into_iter()
            .filter(|(_, reference)| reference.entity == self.own && self.pending.contains_key(&reference.source_id))
            .map(|(_, reference)| &reference.source_id)
    }

    /// The next wave, or `None` when every record has been released. A
    /// cycle among the records held is broken first: the link that closes
    /// it is removed and reported.
    pub fn next_wave(&mut self) -> Option<Vec<Record>> {
        if self.pending.is_empty() {
            return None;
        }
        loop {
            let ready: Vec<CompactString> = self
                .pending
                .iter()
                .filter(|(_, record)| self.held_targets(record).next().is_none())
                .map(|(id, _)| id.clone())
                .collect();
            if !ready.is_empty() {
                return Some(ready.iter().filter_map(|id| self.pending.remove(id)).collect());
            }
            self.break_a_cycle();
        }
    }

    /// Every held record points at another held one, so walking from any of
    /// them comes back to a record already seen: that closes a cycle.
    fn break_a_cycle(&mut self) {
        let Some(start) = self.pending.keys().next().cloned() else { return };
        let mut path: Vec<CompactString> = vec![start];
        loop {
            let Some(current) = path.last().and_then(|id| self.pending.get(id)) else { return };
            let Some(next) = self.held_targets(current).next().cloned() else { return };
            if let Some(position) = path.iter().position(|id| *id == next) {
                let closing = path[path.len() - 1].clone();
                let cycle: Vec<&str> =
                    path[position..].iter().chain(std::iter::once(&next)).map(CompactString::as_str).collect();
                let mut field_name = "";
                if let Some(record) = self.pending.get_mut(&closing) {
                    let own = self.own;
                    record.entity.retain_references(|field, reference| {
                        let closes = reference.entity == own && reference.source_id == next;
                        if closes {
                            field_name = field;
                        }
                        !closes
                    });
                }
                self.warnings.push(format!(
                    "reference cycle {} {}: `{field_name}` of {closing} left unset (it points back into its own line)",
                    self.own.as_str(),
                    cycle.join(" → ")
                ));
                return;
            }
            path.push(next);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cutover_schema::{Entity, Partner};

    fn partner(id: &str, parent: Option<&str>) -> Record {
        Record::new(
            "old",
            id,
            chrono::DateTime::UNIX_EPOCH,
            Entity::Partner(Partner {
                parent: parent.map(|parent| Reference::new(EntityKind::Partner, parent)),
                ..Partner::default()
            }),
        )
    }

    fn parent_of(record: &Record) -> Option<&str> {
        match &record.entity {
            Entity::Partner(partner) => partner.parent.as_ref().map(|parent| parent.source_id.as_str()),
            _ => None,
        }
    }

    fn waves(records: Vec<Record>) -> (Vec<Vec<String>>, Vec<String>) {
        let mut pass = SecondPass::new(EntityKind::Partner, records);
        let mut waves = Vec::new();
        while let Some(wave) = pass.next_wave() {
            waves.push(wave.iter().map(|record| record.source_id.to_string()).collect());
        }
        (waves, pass.warnings().to_vec())
    }

    #[test]
    fn parents_are_released_before_their_children() {
        let (waves, warnings) = waves(vec![
            partner("c", Some("b")),
            partner("b", Some("a")),
            partner("d", Some("x")),
            partner("a", Some("root")),
        ]);
        assert_eq!(waves, [vec!["a", "d"], vec!["b"], vec!["c"]]);
        assert!(warnings.is_empty());
    }

    #[test]
    fn a_cycle_is_broken_once_and_reported() {
        let mut pass = SecondPass::new(
            EntityKind::Partner,
            vec![partner("a", Some("b")), partner("b", Some("c")), partner("c", Some("a")), partner("d", Some("c"))],
        );
        let first = pass.next_wave().unwrap();
        assert_eq!(first.len(), 1);
        assert_eq!((first[0].source_id.as_str(), parent_of(&first[0])), ("c", None));
        assert_eq!(
            pass.warnings(),
            ["reference cycle partner a → b → c → a: `parent` of c left unset (it points back into its own line)"]
        );
        let rest: Vec<Vec<String>> = std::iter::from_fn(|| pass.next_wave())
            .map(|wave| wave.iter().map(|record| record.source_id.to_string()).collect())
            .collect();
        assert_eq!(rest, [vec!["b", "d"], vec!["a"]]);
        assert_eq!(pass.warnings().len(), 1);
    }

    #[test]
    fn a_record_that_is_its_own_parent_is_a_cycle_of_one() {
        let (waves, warnings) = waves(vec![partner("a", Some("a"))]);
        assert_eq!(waves, [vec!["a"]]);
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].starts_with("reference cycle partner a → a"), "{warnings:?}");
    }

    struct MapLookup(HashMap<String, String>);

    impl IdLookup for MapLookup {
        fn target_id(&mut self, _: &str, entity: &str, source_id: &str) -> Result<Option<String>, StateError> {
            Ok(self.0.get(&format!("{entity}/{source_id}")).cloned())
        }
    }

    #[test]
    fn references_to_migrated_kinds_are_rewritten_or_reject_and_own_kind_defers() {
        let migrated = HashSet::from([EntityKind::Partner, EntityKind::Click]);
        let lookup = MapLookup(HashMap::from([("partner/p1".to_owned(), "T-1".to_owned())]));
        let mut rewriter = ReferenceRewriter::for_stream("old", EntityKind::Click, &migrated, || Ok(Box::new(lookup)))
            .unwrap()
            .unwrap();
        let click = |partner: &str| {
            Record::new(
                "old",
                "k1",
                chrono::DateTime::UNIX_EPOCH,
                Entity::Click(cutover_schema::Click {
                    partner: Some(Reference::new(EntityKind::Partner, partner)),
                    program: Some(Reference::new(EntityKind::Program, "not moved")),
                    ..cutover_schema::Click::default()
                }),
            )
        };
        let mut record = click("p1");
        assert_eq!(rewriter.rewrite(&mut record).unwrap(), Rewritten::Ready);
        let ids: Vec<&str> =
            record.entity.references().iter().map(|(_, reference)| reference.source_id.as_str()).collect();
        assert_eq!(ids, ["T-1", "not moved"]);
        let mut unresolved = click("p9");
        let Rewritten::Unresolved(message) = rewriter.rewrite(&mut unresolved).unwrap() else { panic!() };
        assert!(message.starts_with("`partner` points at partner p9, which was not migrated"), "{message}");
        assert_eq!(unresolved, click("p9"), "left as it was");
        assert!(
            ReferenceRewriter::for_stream("old", EntityKind::Contact, &migrated, || unreachable!()).unwrap().is_none()
        );
    }
}
