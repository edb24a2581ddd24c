//! Streams as units: a stream is a type with its name, entity and direction,
//! its read and/or its write, registered in the plugin's [`Streams`].
//!
//! The SDK then does the plumbing every plugin used to write by hand: it
//! declares the registered streams in the metadata, dispatches each call by
//! the stream's name (an unknown stream is refused before plugin code runs),
//! renders and parses each stream's typed cursor (serde, versioned, opaque
//! to the host), runs the async read or write on the plugin's runtime,
//! counts each stream for `discover`, and walks the parents of a
//! [`ChildStream`] (members of each list, events of each metric), resuming
//! inside the child from one cursor.
//!
//! A plugin can still implement [`crate::Source`] and [`crate::Destination`]
//! by hand where a platform is odd: streams described with
//! [`crate::Description::stream`] and not registered here go there.

use crate::{Direction, ErrorCode, PluginError, StreamInfo};
use cutover_contract::stream::Batch;
use cutover_contract::wire::{ReadBatch, RejectReason, WriteOutcome, WriteResult};
use cutover_schema::{EntityKind, Record};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// One stream of plugin `P`: its name, entity and direction, and its read
/// and/or its write. Implement it on a unit struct and register it with
/// [`Streams::stream`].
///
/// The methods are async and take the opened plugin, so a stream borrows
/// what it needs (an HTTP client, a cache) from it; the SDK runs them on the
/// plugin's runtime. A method the direction does not offer is never called.
#[allow(async_fn_in_trait)] // run with `block_on` on the plugin's runtime: no `Send` bound is needed
pub trait Stream<P>: 'static {
    /// The name operators write in `cutover.toml`.
    const NAME: &'static str;
    /// The canonical entity its records carry.
    const ENTITY: EntityKind;
    /// Read, written, or both.
    const DIRECTION: Direction;
    /// Where a read stands. The SDK renders it as a versioned string the
    /// host keeps as its checkpoint, and hands it back parsed. Use `()` for
    /// a stream that is only written.
    type Cursor: Serialize + DeserializeOwned;
    /// The version of [`Stream::Cursor`]'s shape. Bump it when the shape
    /// changes: a checkpoint written by the old shape is then refused with
    /// a clear error instead of being misread.
    const CURSOR_VERSION: u32 = 1;

    /// Reads up to `max_records` items after `cursor` (`None`: from the
    /// start). The batch's `next` must resume exactly after the last item
    /// returned: no gap, no duplicate. Items that cannot be made into
    /// records go in `rejects`.
    async fn read(
        plugin: &mut P,
        cursor: Option<Self::Cursor>,
        max_records: usize,
    ) -> Result<Batch<Self::Cursor>, PluginError> {
        let _ = (plugin, cursor, max_records);
        Err(not_offered(Self::NAME, Direction::Source))
    }

    /// Writes `records` and answers one outcome per record, in order. The
    /// rules of [`crate::Destination::write`] apply: upserts, the same
    /// target id every time, a refused record is a `Rejected` outcome.
    async fn write(plugin: &mut P, records: Vec<Record>) -> Result<Vec<WriteOutcome>, PluginError> {
        let _ = (plugin, records);
        Err(not_offered(Self::NAME, Direction::Destination))
    }

    /// How many records the platform holds for this stream, for
    /// `discover`; `None` when it cannot tell cheaply.
    async fn count(plugin: &mut P) -> Result<Option<u64>, PluginError> {
        let _ = plugin;
        Ok(None)
    }
}

/// A stream read parent by parent: members of each list, events of each
/// metric. The plugin lists the parents and reads one parent's children;
/// the SDK walks the parents in order and keeps one cursor for the whole
/// stream (which parent, and where inside it). Register it with
/// [`Streams::children`].
///
/// The parent list is taken when the stream is read from its start and
/// kept by the instance while its cursors follow; an instance that resumes
/// from a checkpoint takes it again. A parent that is gone when a read
/// resumes is skipped: the read goes on with the parent now in its place
/// (or the one [`ChildStream::resume_at`] names).
#[allow(async_fn_in_trait)] // run with `block_on` on the plugin's runtime: no `Send` bound is needed
pub trait ChildStream<P>: 'static {
    /// The name operators write in `cutover.toml`.
    const NAME: &'static str;
    /// The canonical entity its records carry.
    const ENTITY: EntityKind;
    /// Read, written, or both.
    const DIRECTION: Direction;
    /// What names one parent (a list id), kept in the cursor.
    type Parent: Serialize + DeserializeOwned + Clone + PartialEq + Send + 'static;
    /// Where a read stands inside one parent.
    type Cursor: Serialize + DeserializeOwned;
    /// The version of the cursor's shape; see [`Stream::CURSOR_VERSION`].
    const CURSOR_VERSION: u32 = 1;

    /// Every parent, in a stable order.
    async fn parents(plugin: &mut P) -> Result<Vec<Self::Parent>, PluginError>;

    /// Reads up to `max_records` children of `parent` after `cursor`
    /// (`None`: its first child). `done` means this parent has no more.
    async fn read(
        plugin: &mut P,
        parent: &Self::Parent,
        cursor: Option<Self::Cursor>,
        max_records: usize,
    ) -> Result<Batch<Self::Cursor>, PluginError>;

    /// Writes `records`; see [`Stream::write`].
    async fn write(plugin: &mut P, records: Vec<Record>) -> Result<Vec<WriteOutcome>, PluginError> {
        let _ = (plugin, records);
        Err(not_offered(Self::NAME, Direction::Destination))
    }

    /// How many records the platform holds for this stream; see
    /// [`Stream::count`].
    async fn count(plugin: &mut P) -> Result<Option<u64>, PluginError> {
        let _ = plugin;
        Ok(None)
    }

    /// Where a read resumes when the parent its cursor names (`gone`, at
    /// `index` when the cursor was written) is no longer among `parents`:
    /// the index of the next parent to read. The default is the parent now
    /// at `index`. A stream whose parents come sorted by key answers the
    /// first parent after `gone`, so that no parent is skipped when others
    /// before it went too.
    fn resume_at(parents: &[Self::Parent], gone: &Self::Parent, index: usize) -> usize {
        let _ = gone;
        index.min(parents.len())
    }
}

/// Writes `records` one at a time with `write_one`, for a platform without
/// a bulk write: one outcome per record, in order, its result or `Rejected`
/// with the reason `write_one` gave. An error from `write_one` ends the
/// batch, naming the record it failed on.
///
/// ```ignore
/// async fn write(plugin: &mut Acme, records: Vec<Record>) -> Result<Vec<WriteOutcome>, PluginError> {
///     cutover_sdk::write_each(records, async |record| plugin.client.upsert(record).await).await
/// }
/// ```
pub async fn write_each<R: Into<RejectReason>>(
    records: Vec<Record>,
    mut write_one: impl AsyncFnMut(&Record) -> Result<Result<WriteResult, R>, PluginError>,
) -> Result<Vec<WriteOutcome>, PluginError> {
    let mut outcomes = Vec::with_capacity(records.len());
    for record in records {
        let result = write_one(&record).await.map_err(|error| error.for_record(record.source_id.as_str()))?;
        outcomes.push(WriteOutcome::of(record.source_id, result));
    }
    Ok(outcomes)
}

fn not_offered(stream: &str, direction: Direction) -> PluginError {
    PluginError::new(
        ErrorCode::Internal,
        format!("stream `{stream}` declares {} but does not implement it: a plugin bug", direction.as_str()),
    )
}

/// The streams of plugin `P`, as [`crate::Plugin::streams`] registers them.
/// The SDK makes one per opened instance, so a [`ChildStream`]'s parent list
/// belongs to that instance.
pub struct Streams<P> {
    entries: Vec<Box<dyn Entry<P>>>,
}

impl<P: 'static> Default for Streams<P> {
    fn default() -> Streams<P> {
        Streams { entries: Vec::new() }
    }
}

impl<P: 'static> Streams<P> {
    /// No streams: a plugin that implements [`crate::Source`] and
    /// [`crate::Destination`] by hand.
    pub fn new() -> Streams<P> {
        Streams::default()
    }

    /// Registers the stream `S`.
    pub fn stream<S: Stream<P>>(mut self) -> Streams<P> {
        self.entries.push(Box::new(Flat::<S>(std::marker::PhantomData)));
        self
    }

    /// Registers the parent/child stream `S`.
    pub fn children<S: ChildStream<P>>(mut self) -> Streams<P> {
        self.entries.push(Box::new(Children::<P, S> { parents: None }));
        self
    }

    /// What each registered stream declares, in registration order.
    pub fn infos(&self) -> Vec<StreamInfo> {
        self.entries.iter().map(|entry| entry.info()).collect()
    }

    pub(crate) fn find(&mut self, stream: &str) -> Option<&mut Box<dyn Entry<P>>> {
        self.entries.iter_mut().find(|entry| entry.info().name == stream)
    }

    pub(crate) fn entries(&mut self) -> impl Iterator<Item = &mut Box<dyn Entry<P>>> {
        self.entries.iter_mut()
    }
}

impl<P: crate::Plugin> Streams<P> {
    /// Reads `stream` of the opened `plugin` through the registered stream
    /// of that name, as the SDK does for the host (less the schema check the
    /// boundary adds, [`crate::reject_invalid`]). For code that drives an
    /// instance in-process: a plugin whose streams are all registered stays
    /// a [`crate::Source`] to its own tests with this. Keep one registry per
    /// instance, so a [`ChildStream`]'s parent list lives from batch to
    /// batch as it does behind the boundary.
    pub fn read(
        &mut self,
        plugin: &mut P,
        stream: &str,
        cursor: Option<&str>,
        max_records: usize,
    ) -> Result<ReadBatch, PluginError> {
        let name = P::describe().name().to_owned();
        let entry = self.offered(&name, stream, Direction::Source)?;
        entry.read(plugin, &name, cursor, max_records).map_err(|error| error.in_stream(stream))
    }

    /// Writes `records` to `stream` of the opened `plugin` through the
    /// registered stream of that name; see [`Streams::read`].
    pub fn write(
        &mut self,
        plugin: &mut P,
        stream: &str,
        records: Vec<Record>,
    ) -> Result<Vec<WriteOutcome>, PluginError> {
        let name = P::describe().name().to_owned();
        let entry = self.offered(&name, stream, Direction::Destination)?;
        entry.write(plugin, records).map_err(|error| error.in_stream(stream))
    }

    /// Counts every registered stream of the opened `plugin`
    /// ([`Stream::count`]), in registration order, as the SDK adds them to
    /// `discover`; see [`Streams::read`]. A plugin whose `discover` is only
    /// its streams' counts answers with this, so that an in-process caller
    /// (its tests) gets them too.
    pub fn discover(&mut self, plugin: &mut P) -> Result<crate::Inventory, PluginError> {
        let mut inventory = crate::Inventory::default();
        for entry in self.entries() {
            let stream = entry.info().name;
            let records = entry.count(plugin).map_err(|error| error.in_stream(&stream))?;
            inventory.streams.push(crate::StreamCount { stream, records });
        }
        Ok(inventory)
    }

    /// The registered stream `stream` if it offers `wanted`, else the error
    /// the boundary gives for it.
    fn offered(
        &mut self,
        plugin: &str,
        stream: &str,
        wanted: Direction,
    ) -> Result<&mut Box<dyn Entry<P>>, PluginError> {
        let infos = self.infos();
        let offers = infos.iter().any(|info| info.name == stream && info.direction.offers(wanted));
        match self.find(stream) {
            Some(entry) if offers => Ok(entry),
            _ => Err(PluginError::new(
                ErrorCode::Unsupported,
                format!(
                    "plugin `{plugin}` offers no {} stream `{stream}`; it offers: {}",
                    wanted.as_str(),
                    cutover_contract::metadata::stream_list(&infos)
                ),
            )
            .in_stream(stream)),
        }
    }
}

/// A registered stream with its types erased, so the registry can hold
/// every kind in one list. `Send` because the instance that owns it is
/// called from the host's threads.
pub(crate) trait Entry<P>: Send {
    fn info(&self) -> StreamInfo;
    fn read(
        &mut self,
        plugin: &mut P,
        plugin_name: &str,
        cursor: Option<&str>,
        max_records: usize,
    ) -> Result<ReadBatch, PluginError>;
    fn write(&mut self, plugin: &mut P, records: Vec<Record>) -> Result<Vec<WriteOutcome>, PluginError>;
    fn count(&mut self, plugin: &mut P) -> Result<Option<u64>, PluginError>;
}

struct Flat<S>(std::marker::PhantomData<fn() -> S>);

impl<P, S: Stream<P>> Entry<P> for Flat<S> {
    fn info(&self) -> StreamInfo {
        StreamInfo { name: S::NAME.into(), entity: S::ENTITY, direction: S::DIRECTION }
    }

    fn read(
        &mut self,
        plugin: &mut P,
        plugin_name: &str,
        cursor: Option<&str>,
        max_records: usize,
    ) -> Result<ReadBatch, PluginError> {
        let cursor = cursor.map(|cursor| parse_cursor(plugin_name, S::CURSOR_VERSION, cursor)).transpose()?;
        let batch = crate::context::block_on(S::read(plugin, cursor, max_records))??;
        render_batch(batch, S::CURSOR_VERSION)
    }

    fn write(&mut self, plugin: &mut P, records: Vec<Record>) -> Result<Vec<WriteOutcome>, PluginError> {
        crate::context::block_on(S::write(plugin, records))?
    }

    fn count(&mut self, plugin: &mut P) -> Result<Option<u64>, PluginError> {
        crate::context::block_on(S::count(plugin))?
    }
}

/// Where a parent/child read stands: the parent's place in the list and
/// its key (to find it again if the list moved), and the cursor inside it.
#[derive(Debug, Serialize, Deserialize)]
struct ChildCursor<K, C> {
    /// Index of the parent being read; the list's length once every parent
    /// was read.
    index: usize,
    /// That parent's key.
    parent: Option<K>,
    /// Where the read stands inside it; `None` at its first child.
    inner: Option<C>,
}

struct Children<P, S: ChildStream<P>> {
    parents: Option<Vec<S::Parent>>,
}

impl<P, S: ChildStream<P>> Children<P, S> {
    async fn read_children(
        &mut self,
        plugin: &mut P,
        cursor: Option<ChildCursor<S::Parent, S::Cursor>>,
        max_records: usize,
    ) -> Result<Batch<ChildCursor<S::Parent, S::Cursor>>, PluginError> {
        // A read from the start sees the platform as it is now.
        if cursor.is_none() {
            self.parents = None;
        }
        let parents = match &mut self.parents {
            Some(parents) => parents,
            empty => empty.insert(S::parents(plugin).await?),
        };
        let (mut index, mut inner) = match cursor {
            None => (0, None),
            Some(cursor) => match &cursor.parent {
                None => (cursor.index.min(parents.len()), None),
                Some(key) if parents.get(cursor.index) == Some(key) => (cursor.index, cursor.inner),
                Some(key) => match parents.iter().position(|parent| parent == key) {
                    Some(found) => (found, cursor.inner),
                    // The parent is gone: its cursor means nothing now.
                    None => (S::resume_at(parents, key, cursor.index), None),
                },
            },
        };
        let mut batch = Batch::default();
        while !batch.is_full(max_records) && index < parents.len() {
            let part = S::read(plugin, &parents[index], inner.take(), max_records - batch.items()).await?;
            let taken = part.items();
            let done = part.done;
            batch.records.extend(part.records);
            batch.rejects.extend(part.rejects);
            if done {
                index += 1;
            } else {
                inner = part.next;
                if taken == 0 {
                    // Nothing yet and not finished: hand back the cursor
                    // rather than ask again at once.
                    break;
                }
            }
        }
        batch.next = Some(ChildCursor { index, parent: parents.get(index).cloned(), inner });
        batch.done = index >= parents.len();
        Ok(batch)
    }
}

impl<P, S: ChildStream<P>> Entry<P> for Children<P, S> {
    fn info(&self) -> StreamInfo {
        StreamInfo { name: S::NAME.into(), entity: S::ENTITY, direction: S::DIRECTION }
    }

    fn read(
        &mut self,
        plugin: &mut P,
        plugin_name: &str,
        cursor: Option<&str>,
        max_records: usize,
    ) -> Result<ReadBatch, PluginError> {
        let cursor = cursor.map(|cursor| parse_cursor(plugin_name, S::CURSOR_VERSION, cursor)).transpose()?;
        let batch = crate::context::block_on(self.read_children(plugin, cursor, max_records))??;
        render_batch(batch, S::CURSOR_VERSION)
    }

    fn write(&mut self, plugin: &mut P, records: Vec<Record>) -> Result<Vec<WriteOutcome>, PluginError> {
        crate::context::block_on(S::write(plugin, records))?
    }

    fn count(&mut self, plugin: &mut P) -> Result<Option<u64>, PluginError> {
        crate::context::block_on(S::count(plugin))?
    }
}

/// A cursor as the host keeps it: the stream's cursor and the version of
/// its shape.
#[derive(Serialize, Deserialize)]
struct Versioned<C> {
    v: u32,
    at: C,
}

fn render_batch<C: Serialize>(batch: Batch<C>, version: u32) -> Result<ReadBatch, PluginError> {
    let next_cursor = batch.next.map(|at| render_cursor(version, at)).transpose()?;
    Ok(ReadBatch { records: batch.records, rejects: batch.rejects, next_cursor, done: batch.done })
}

fn render_cursor<C: Serialize>(version: u32, at: C) -> Result<String, PluginError> {
    serde_json::to_string(&Versioned { v: version, at })
        .map_err(|error| PluginError::new(ErrorCode::Internal, format!("cannot write the cursor: {error}")))
}

fn parse_cursor<C: DeserializeOwned>(plugin: &str, version: u32, cursor: &str) -> Result<C, PluginError> {
    let refused = |why: String| {
        PluginError::new(ErrorCode::InvalidCursor, format!("`{cursor}` {why}"))
            .with_help("read the stream again from its start (drop its checkpoint)")
    };
    #[derive(Deserialize)]
    struct Version {
        v: u32,
    }
    let found = serde_json::from_str::<Version>(cursor)
        .map_err(|_| refused(format!("is not a cursor the {plugin} plugin wrote")))?;
    if found.v != version {
        return Err(refused(format!(
            "was written by another version of the {plugin} plugin (cursor version {}, this one reads {version})",
            found.v
        )));
    }
    serde_json::from_str::<Versioned<C>>(cursor)
        .map(|versioned| versioned.at)
        .map_err(|_| refused(format!("is not a cursor the {plugin} plugin wrote")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cutover_contract::wire::{RejectReason, SourceReject, WriteResult};
    use cutover_schema::{Contact, Entity};

    /// A platform of numbered lists, each with `size` members.
    struct Platform {
        lists: Vec<(String, u64)>,
        list_reads: usize,
    }

    fn member(list: &str, at: u64) -> Record {
        Record::new("test", format!("{list}:{at}"), chrono::DateTime::UNIX_EPOCH, Entity::Contact(Contact::default()))
    }

    struct Numbers;

    impl Stream<Platform> for Numbers {
        const NAME: &'static str = "numbers";
        const ENTITY: EntityKind = EntityKind::Contact;
        const DIRECTION: Direction = Direction::Both;
        type Cursor = u64;

        async fn read(_: &mut Platform, cursor: Option<u64>, max: usize) -> Result<Batch<u64>, PluginError> {
            let start = cursor.unwrap_or(0);
            let end = (start + max as u64).min(5);
            let mut batch = Batch::at(end);
            for at in start..end {
                if at == 3 {
                    let reason = RejectReason::new("odd", "three is refused");
                    batch.push(Err(SourceReject { location: "numbers 3".into(), raw: "3".into(), reason }));
                } else {
                    batch.push(Ok(member("n", at)));
                }
            }
            batch.done = end == 5;
            Ok(batch)
        }

        async fn write(_: &mut Platform, records: Vec<Record>) -> Result<Vec<WriteOutcome>, PluginError> {
            Ok(records
                .into_iter()
                .map(|record| {
                    let id = record.source_id.clone();
                    WriteOutcome::of(record.source_id, Ok::<_, RejectReason>(WriteResult::created(id)))
                })
                .collect())
        }

        async fn count(_: &mut Platform) -> Result<Option<u64>, PluginError> {
            Ok(Some(5))
        }
    }

    struct Members;

    impl ChildStream<Platform> for Members {
        const NAME: &'static str = "members";
        const ENTITY: EntityKind = EntityKind::Contact;
        const DIRECTION: Direction = Direction::Source;
        type Parent = String;
        type Cursor = u64;

        async fn parents(platform: &mut Platform) -> Result<Vec<String>, PluginError> {
            platform.list_reads += 1;
            Ok(platform.lists.iter().map(|(id, _)| id.clone()).collect())
        }

        async fn read(
            platform: &mut Platform,
            parent: &String,
            cursor: Option<u64>,
            max: usize,
        ) -> Result<Batch<u64>, PluginError> {
            let size = platform.lists.iter().find(|(id, _)| id == parent).map_or(0, |(_, size)| *size);
            let start = cursor.unwrap_or(0);
            let end = (start + max as u64).min(size);
            let mut batch = Batch::at(end);
            batch.records = (start..end).map(|at| member(parent, at)).collect();
            batch.done = end == size;
            Ok(batch)
        }
    }

    fn platform(lists: &[(&str, u64)]) -> Platform {
        Platform { lists: lists.iter().map(|(id, size)| (id.to_string(), *size)).collect(), list_reads: 0 }
    }

    fn ids(batch: &ReadBatch) -> Vec<String> {
        batch.records.iter().map(|record| record.source_id.to_string()).collect()
    }

    /// Reads `stream` to its end in batches of `max`, through a new
    /// registry (a new instance) at every batch when `fresh`.
    fn read_all(platform: &mut Platform, stream: &str, max: usize, fresh: bool) -> Vec<String> {
        let mut streams = registry();
        let mut cursor: Option<String> = None;
        let mut seen = Vec::new();
        for _ in 0..100 {
            if fresh {
                streams = registry();
            }
            let entry = streams.find(stream).expect("registered");
            let batch = entry.read(platform, "test", cursor.as_deref(), max).expect("read");
            seen.extend(ids(&batch));
            seen.extend(batch.rejects.iter().map(|reject| reject.location.clone()));
            cursor = batch.next_cursor;
            if batch.done {
                return seen;
            }
        }
        panic!("no end after 100 batches");
    }

    fn registry() -> Streams<Platform> {
        Streams::new().stream::<Numbers>().children::<Members>()
    }

    #[test]
    fn each_record_is_written_in_order_and_a_failure_names_its_record() {
        let records = vec![member("l", 1), member("l", 2), member("l", 3)];
        let mut written = Vec::new();
        let outcomes = crate::context::block_on(write_each(records.clone(), async |record: &Record| {
            written.push(record.source_id.to_string());
            match record.source_id.as_str() {
                "l:2" => Ok(Err(RejectReason::new("refused", "the platform said no"))),
                id => Ok(Ok(WriteResult::created(format!("t-{id}")))),
            }
        }))
        .expect("runtime")
        .expect("written");
        assert_eq!(written, ["l:1", "l:2", "l:3"]);
        let results: Vec<&str> = outcomes.iter().map(|outcome| outcome.result.as_str()).collect();
        assert_eq!(results, ["created", "rejected", "created"]);
        let error =
            crate::context::block_on(write_each(records, async |record: &Record| match record.source_id.as_str() {
                "l:2" => Err(PluginError::new(ErrorCode::Network, "connection reset")),
                _ => Ok(Ok::<_, RejectReason>(WriteResult::unchanged("t"))),
            }))
            .expect("runtime")
            .expect_err("the batch fails");
        assert_eq!(error.record_id.as_deref(), Some("l:2"));
    }

    #[test]
    fn registered_streams_are_declared_in_order() {
        let names: Vec<_> = registry().infos().into_iter().map(|info| (info.name, info.direction)).collect();
        assert_eq!(names, [("numbers".into(), Direction::Both), ("members".into(), Direction::Source)]);
    }

    #[test]
    fn discover_counts_every_registered_stream_in_order() {
        let inventory = registry().discover(&mut platform(&[("a", 3)])).expect("counts");
        let counts: Vec<_> = inventory.streams.into_iter().map(|count| (count.stream, count.records)).collect();
        assert_eq!(counts, [("numbers".into(), Some(5)), ("members".into(), None)]);
    }

    #[test]
    fn a_stream_reads_resumes_and_rejects_through_its_typed_cursor() {
        let mut platform = platform(&[]);
        let seen = read_all(&mut platform, "numbers", 2, true);
        assert_eq!(seen, ["n:0", "n:1", "n:2", "numbers 3", "n:4"]);
        let mut streams = registry();
        let entry = streams.find("numbers").expect("registered");
        let batch = entry.read(&mut platform, "test", None, 2).expect("read");
        assert_eq!(batch.next_cursor.as_deref(), Some(r#"{"v":1,"at":2}"#));
        assert_eq!(entry.count(&mut platform).expect("count"), Some(5));
        let written = entry.write(&mut platform, vec![member("x", 1)]).expect("write");
        assert_eq!(written[0].result, WriteResult::created("x:1"));
    }

    #[test]
    fn children_are_read_parent_by_parent_and_resume_inside_a_parent() {
        let lists = [("a", 3), ("empty", 0), ("b", 2), ("c", 4)];
        let expected: Vec<String> =
            ["a:0", "a:1", "a:2", "b:0", "b:1", "c:0", "c:1", "c:2", "c:3"].map(String::from).into();
        for max in [1, 2, 3, 4, 100] {
            for fresh in [false, true] {
                let mut platform = platform(&lists);
                assert_eq!(read_all(&mut platform, "members", max, fresh), expected, "batches of {max}, fresh {fresh}");
            }
        }
        // One instance takes the parent list once per read from the start.
        let mut platform = platform(&lists);
        read_all(&mut platform, "members", 1, false);
        assert_eq!(platform.list_reads, 1);
    }

    #[test]
    fn a_child_read_goes_on_when_its_parent_is_gone() {
        let mut platform = platform(&[("a", 2), ("b", 2), ("c", 1)]);
        let mut streams = registry();
        let entry = streams.find("members").expect("registered");
        let first = entry.read(&mut platform, "test", None, 3).expect("read");
        assert_eq!(ids(&first), ["a:0", "a:1", "b:0"]);
        platform.lists.remove(1);
        let mut streams = registry();
        let entry = streams.find("members").expect("registered");
        let rest = entry.read(&mut platform, "test", first.next_cursor.as_deref(), 10).expect("read");
        assert_eq!(ids(&rest), ["c:0"]);
        assert!(rest.done);
    }

    /// [`Members`] with its lists sorted by name, so a read whose list is
    /// gone goes on with the first list after it.
    struct SortedMembers;

    impl ChildStream<Platform> for SortedMembers {
        const NAME: &'static str = "sorted-members";
        const ENTITY: EntityKind = EntityKind::Contact;
        const DIRECTION: Direction = Direction::Source;
        type Parent = String;
        type Cursor = u64;

        async fn parents(platform: &mut Platform) -> Result<Vec<String>, PluginError> {
            <Members as ChildStream<Platform>>::parents(platform).await
        }

        async fn read(
            platform: &mut Platform,
            parent: &String,
            cursor: Option<u64>,
            max: usize,
        ) -> Result<Batch<u64>, PluginError> {
            <Members as ChildStream<Platform>>::read(platform, parent, cursor, max).await
        }

        fn resume_at(parents: &[String], gone: &String, _index: usize) -> usize {
            parents.iter().position(|parent| parent > gone).unwrap_or(parents.len())
        }
    }

    #[test]
    fn a_child_read_whose_parent_is_gone_resumes_where_the_stream_says() {
        let read_on = |stream: &str| {
            let mut platform = platform(&[("a", 2), ("b", 2), ("c", 1), ("d", 1)]);
            let mut streams = registry().children::<SortedMembers>();
            let first = streams.find(stream).expect("registered").read(&mut platform, "test", None, 3).expect("read");
            assert_eq!(ids(&first), ["a:0", "a:1", "b:0"]);
            platform.lists.drain(..2);
            let mut streams = registry().children::<SortedMembers>();
            let entry = streams.find(stream).expect("registered");
            ids(&entry.read(&mut platform, "test", first.next_cursor.as_deref(), 10).expect("read"))
        };
        // By default the parent now at the cursor's place: `c` took `a`'s.
        assert_eq!(read_on("members"), ["d:0"]);
        assert_eq!(read_on("sorted-members"), ["c:0", "d:0"]);
    }

    impl crate::Plugin for Platform {
        type Config = ();
        fn describe() -> crate::Description {
            crate::Description::new("test", "1.0.0", crate::PluginKind::File, "numbered lists")
        }
        fn streams() -> Streams<Platform> {
            registry()
        }
        fn open((): (), _context: &crate::Context) -> Result<Platform, PluginError> {
            Ok(platform(&[]))
        }
    }

    #[test]
    fn an_instance_is_read_and_written_in_process_through_its_registry() {
        let mut platform = platform(&[("a", 2), ("b", 1)]);
        let mut streams = <Platform as crate::Plugin>::streams();
        let first = streams.read(&mut platform, "members", None, 2).expect("read");
        assert_eq!(ids(&first), ["a:0", "a:1"]);
        let rest = streams.read(&mut platform, "members", first.next_cursor.as_deref(), 2).expect("read");
        assert_eq!(ids(&rest), ["b:0"]);
        assert!(rest.done);
        assert_eq!(platform.list_reads, 1, "the registry keeps the parent list between batches");
        let written = streams.write(&mut platform, "numbers", vec![member("x", 1)]).expect("write");
        assert_eq!(written[0].result, WriteResult::created("x:1"));
        for (error, says) in [
            streams.read(&mut platform, "nothing", None, 1).expect_err("unknown"),
            streams.write(&mut platform, "members", vec![member("x", 1)]).expect_err("read only"),
        ]
        .into_iter()
        .zip(["offers no source stream `nothing`", "offers no destination stream `members`"])
        {
            assert_eq!(error.code, ErrorCode::Unsupported);
            assert!(error.message.contains(says), "{}", error.message);
            assert!(error.message.contains("numbers (both), members (source)"), "{}", error.message);
        }
        let error = streams.read(&mut platform, "numbers", Some("17"), 1).expect_err("foreign cursor");
        assert_eq!((error.code, error.stream.as_deref()), (ErrorCode::InvalidCursor, Some("numbers")));
    }

    #[test]
    fn foreign_and_old_cursors_are_refused_with_what_to_do() {
        let mut platform = platform(&[]);
        let mut streams = registry();
        let entry = streams.find("numbers").expect("registered");
        for (cursor, says) in [
            ("17", "is not a cursor the test plugin wrote"),
            (r#"{"v":1,"at":"x"}"#, "is not a cursor the test plugin wrote"),
            (r#"{"v":2,"at":1}"#, "cursor version 2, this one reads 1"),
        ] {
            let error = entry.read(&mut platform, "test", Some(cursor), 1).expect_err(cursor);
            assert_eq!(error.code, ErrorCode::InvalidCursor);
            assert!(error.message.contains(says), "{cursor}: {}", error.message);
            assert!(error.help.as_deref().is_some_and(|help| help.contains("from its start")));
        }
    }
}
