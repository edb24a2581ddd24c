//! The map from old link to new link: its rows ([`MapEntry`]), the CSV file
//! they are kept in, how `export` joins old and new links into rows
//! ([`join`]), and the lookup the server answers from ([`Snapshot`]).

use crate::key::{self, normal_path, query_key, strip_path_parameters};
use crate::metrics::Metrics;
use crate::params::{MAX_RULES, Rewriter, Target, TargetError};
use http::HeaderValue;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

type Fast = foldhash::fast::RandomState;

/// One row of the map: an old link, the new link it goes to, and what it
/// is counted under.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MapEntry {
    /// The old link as partners published it.
    pub old_url: String,
    /// The new link.
    pub new_url: String,
    /// The partner it credits (the old platform's id), for the metrics; may be empty.
    #[serde(default)]
    pub partner: String,
    /// The link's id on the old platform.
    #[serde(default)]
    pub source_id: String,
    /// The link's id on the new platform.
    #[serde(default)]
    pub target_id: String,
}

/// Why a map cannot be read or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MapError {
    /// The file cannot be read.
    #[error("cannot read {path}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A row is not `old_url,new_url,partner,source_id,target_id`.
    #[error("{path} is not a map of rows `old_url,new_url,partner,source_id,target_id`")]
    Csv {
        /// The file.
        path: String,
        /// What the CSV reader said (with the line).
        source: csv::Error,
    },
    /// A row's old link cannot be matched.
    #[error("{path}: line {line}: old link: {reason}")]
    OldLink {
        /// The file.
        path: String,
        /// Its line.
        line: u64,
        /// Why.
        reason: String,
    },
    /// A row's new link cannot be a redirect target.
    #[error("{path}: line {line}: new link: {reason}")]
    NewLink {
        /// The file.
        path: String,
        /// Its line.
        line: u64,
        /// Why.
        reason: TargetError,
    },
}

/// The CSV header, in order.
pub const CSV_HEADER: [&str; 5] = ["old_url", "new_url", "partner", "source_id", "target_id"];

/// Reads a CSV map (with [`CSV_HEADER`]); `path` names it in errors.
pub fn read_csv(reader: impl std::io::Read, path: &str) -> Result<Vec<MapEntry>, MapError> {
    let mut csv = csv::ReaderBuilder::new().has_headers(true).from_reader(reader);
    csv.deserialize()
        .collect::<Result<Vec<MapEntry>, _>>()
        .map_err(|source| MapError::Csv { path: path.to_owned(), source })
}

/// Writes `entries` as a CSV map with [`CSV_HEADER`].
pub fn write_csv(writer: impl std::io::Write, entries: &[MapEntry]) -> Result<(), csv::Error> {
    // The header is written here so that an empty map has one too.
    let mut csv = csv::WriterBuilder::new().has_headers(false).from_writer(writer);
    csv.write_record(CSV_HEADER)?;
    for entry in entries {
        csv.serialize(entry)?;
    }
    csv.flush()?;
    Ok(())
}

/// An old link as the map matches it ([`crate::key`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LinkKey {
    /// Lowercased host (punycode), without port.
    pub host: String,
    /// The normal path, path parameters taken out.
    pub path: String,
    /// The link's own query parameters, sorted by name: (name, strictly
    /// encoded value).
    pub query: Vec<(String, String)>,
}

impl LinkKey {
    /// The key of the old link `url`; `path_names` are the parameters the
    /// sub-id rules read from the path.
    pub fn of(url: &str, path_names: &[Box<str>]) -> Result<LinkKey, String> {
        let parsed = url::Url::parse(url.trim()).map_err(|error| format!("`{url}` is not an absolute URL: {error}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(format!("`{url}` is not an http or https link"));
        }
        let host = parsed.host_str().filter(|host| !host.is_empty()).ok_or_else(|| format!("`{url}` has no host"))?;
        let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
        let path = normal_path(parsed.path());
        let path = strip_path_parameters(&path, path_names, |_, _| {}).into_owned();
        let mut query: Vec<(String, String)> = Vec::new();
        for (name, value) in parsed.query_pairs() {
            if value.is_empty() || query.iter().any(|(known, _)| *known == name) {
                continue;
            }
            let mut encoded = String::new();
            key::push_strictly_encoded(&mut encoded, &value);
            query.push((name.into_owned(), encoded));
        }
        query.sort();
        Ok(LinkKey { host, path, query })
    }

    /// The query key as [`key::query_key`] writes it for a request.
    fn query_key(&self) -> String {
        self.query.iter().map(|(name, value)| format!("{name}={value}&")).collect()
    }
}

/// An old link found on the old or the new platform, for [`join`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LinkRecord {
    /// Its id on its platform.
    pub id: String,
    /// Its URL, if it has one.
    pub url: Option<String>,
    /// The partner it credits (an id on its platform).
    pub partner: Option<String>,
}

/// What [`join`] left out, each with the link's old id and why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Skipped {
    /// Old links with no URL.
    pub no_old_url: Vec<String>,
    /// Old links whose URL cannot be matched: (id, why).
    pub bad_old_url: Vec<(String, String)>,
    /// Old links the id map has no target for (not migrated, or rejected).
    pub not_migrated: Vec<String>,
    /// Old links whose target the new platform does not list: (id, target id).
    pub no_target_record: Vec<(String, String)>,
    /// Old links whose new record has no URL, or one that cannot be a target: (id, why).
    pub no_new_url: Vec<(String, String)>,
    /// Old links whose new link is the old link itself (a redirect loop).
    pub same_link: Vec<String>,
    /// Old links whose key another old link already has: (id, the first one's id).
    pub duplicate: Vec<(String, String)>,
}

impl Skipped {
    /// How many links were left out.
    pub fn total(&self) -> usize {
        self.no_old_url.len()
            + self.bad_old_url.len()
            + self.not_migrated.len()
            + self.no_target_record.len()
            + self.no_new_url.len()
            + self.same_link.len()
            + self.duplicate.len()
    }
}

/// Joins the old platform's links with the new platform's through the id
/// map: `target_id_of(old id)` is the new id the migration recorded, and
/// `new_links` the new platform's links by their id. Rows come in the old
/// links' order; what cannot be a row is listed in [`Skipped`].
pub fn join(
    old_links: &[LinkRecord],
    mut target_id_of: impl FnMut(&str) -> Option<String>,
    new_links: &HashMap<String, LinkRecord>,
    path_names: &[Box<str>],
) -> (Vec<MapEntry>, Skipped) {
    let mut entries = Vec::with_capacity(old_links.len());
    let mut skipped = Skipped::default();
    let mut seen: HashMap<LinkKey, String> = HashMap::with_capacity(old_links.len());
    for old in old_links {
        let id = old.id.clone();
        let Some(old_url) = old.url.as_deref().filter(|url| !url.trim().is_empty()) else {
            skipped.no_old_url.push(id);
            continue;
        };
        let link_key = match LinkKey::of(old_url, path_names) {
            Ok(link_key) => link_key,
            Err(reason) => {
                skipped.bad_old_url.push((id, reason));
                continue;
            }
        };
        let Some(target_id) = target_id_of(&old.id) else {
            skipped.not_migrated.push(id);
            continue;
        };
        let Some(new) = new_links.get(&target_id) else {
            skipped.no_target_record.push((id, target_id));
            continue;
        };
        let new_url = match new.url.as_deref().filter(|url| !url.trim().is_empty()) {
            None => {
                skipped.no_new_url.push((id, format!("the new link {target_id} has no URL")));
                continue;
            }
            Some(url) => match Target::parse(url) {
                Ok(target) => target.as_str().to_owned(),
                Err(error) => {
                    skipped.no_new_url.push((id, error.to_string()));
                    continue;
                }
            },
        };
        if LinkKey::of(&new_url, path_names).is_ok_and(|new_key| new_key == link_key) {
            skipped.same_link.push(id);
            continue;
        }
        if let Some(first) = seen.get(&link_key) {
            skipped.duplicate.push((id, first.clone()));
            continue;
        }
        seen.insert(link_key, old.id.clone());
        entries.push(MapEntry {
            old_url: old_url.trim().to_owned(),
            new_url,
            partner: old.partner.clone().unwrap_or_default(),
            source_id: old.id.clone(),
            target_id,
        });
    }
    (entries, skipped)
}

/// A link the server answers: where it goes and its partner's hit counter.
#[derive(Debug)]
pub struct Link {
    target: Target,
    hits: Arc<AtomicU64>,
}

/// The links of one host and path.
#[derive(Debug, Default)]
struct PathLinks {
    /// The link with no query of its own: matches whatever the query.
    plain: Option<Link>,
    /// The names of the query parameters the other links carry, sorted.
    names: Box<[Box<str>]>,
    /// Those links by their [`key::query_key`].
    by_query: HashMap<Box<str>, Link, Fast>,
}

/// What the server makes of a request.
#[derive(Debug)]
pub enum Resolution<'a> {
    /// A link of the map: 301 to `location`; counts in `hits`.
    Hit {
        /// The new link, sub-ids carried.
        location: HeaderValue,
        /// Its partner's counter.
        hits: &'a AtomicU64,
    },
    /// No link: 302 to the fallback.
    Miss {
        /// The fallback.
        location: HeaderValue,
    },
}

/// The map as the server holds it, with the sub-id rules and the fallback;
/// swapped whole on reload.
#[derive(Debug)]
pub struct Snapshot {
    hosts: HashMap<Box<str>, HashMap<Box<str>, PathLinks, Fast>, Fast>,
    links: usize,
    fallback: Target,
    rewriter: Rewriter,
}

thread_local! {
    /// The query key of the request being answered, reused.
    static QUERY_KEY: RefCell<String> = RefCell::new(String::with_capacity(128));
}

impl Snapshot {
    /// Builds the lookup from `entries` (read from `path`, for errors: row
    /// `i` is on line `i + 2`). A later row with an old link already seen is
    /// left out; their number is returned.
    pub fn build(
        entries: &[MapEntry],
        path: &str,
        fallback: Target,
        rewriter: Rewriter,
        metrics: &Metrics,
    ) -> Result<(Snapshot, usize), MapError> {
        let mut hosts: HashMap<Box<str>, HashMap<Box<str>, PathLinks, Fast>, Fast> = HashMap::default();
        let mut links = 0;
        let mut duplicates = 0;
        for (index, entry) in entries.iter().enumerate() {
            let line = index as u64 + 2;
            let link_key = LinkKey::of(&entry.old_url, rewriter.path_names()).map_err(|reason| MapError::OldLink {
                path: path.to_owned(),
                line,
                reason,
            })?;
            let target = Target::parse(&entry.new_url).map_err(|reason| MapError::NewLink {
                path: path.to_owned(),
                line,
                reason,
            })?;
            let link = Link { target, hits: metrics.partner_hits(&entry.partner) };
            let paths = hosts.entry(link_key.host.as_str().into()).or_default();
            let links_here = paths.entry(link_key.path.as_str().into()).or_default();
            let slot = if link_key.query.is_empty() {
                &mut links_here.plain
            } else {
                let mut names: Vec<Box<str>> = links_here.names.to_vec();
                for (name, _) in &link_key.query {
                    if !names.iter().any(|known| **known == **name) {
                        names.push(name.as_str().into());
                    }
                }
                names.sort();
                links_here.names = names.into_boxed_slice();
                match links_here.by_query.entry(link_key.query_key().into()) {
                    std::collections::hash_map::Entry::Occupied(_) => {
                        duplicates += 1;
                        continue;
                    }
                    std::collections::hash_map::Entry::Vacant(vacant) => {
                        vacant.insert(link);
                        links += 1;
                        continue;
                    }
                }
            };
            if slot.is_some() {
                duplicates += 1;
            } else {
                *slot = Some(link);
                links += 1;
            }
        }
        Ok((Snapshot { hosts, links, fallback, rewriter }, duplicates))
    }

    /// How many links it holds.
    pub fn len(&self) -> usize {
        self.links
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.links == 0
    }

    /// The fallback.
    pub fn fallback(&self) -> &Target {
        &self.fallback
    }

    /// Where a request for `host` (as sent: any case, maybe a port), `path`
    /// and `query` goes. The `Location` is always a map target (sub-ids
    /// added) or the fallback.
    pub fn resolve(&self, host: Option<&str>, path: &str, query: Option<&str>) -> Resolution<'_> {
        let miss = || Resolution::Miss { location: self.fallback.location().clone() };
        let mut buffer = [0u8; key::MAX_HOST];
        let Some(host) = host.and_then(|host| key::normal_host(host, &mut buffer)) else { return miss() };
        let Some(paths) = self.hosts.get(host) else { return miss() };
        let normal = normal_path(path);
        let mut path_values: [Option<&str>; MAX_RULES] = [None; MAX_RULES];
        let stripped = strip_path_parameters(&normal, self.rewriter.path_names(), |index, value| {
            if let Some(slot) = path_values.get_mut(index) {
                slot.get_or_insert(value);
            }
        });
        let Some(links) = paths.get(stripped.as_ref()) else { return miss() };
        let by_query = match query.filter(|_| !links.names.is_empty()) {
            Some(query) => QUERY_KEY.with(|buffer| {
                let mut buffer = buffer.borrow_mut();
                query_key(query, &links.names, &mut buffer);
                links.by_query.get(buffer.as_str())
            }),
            None => None,
        };
        let Some(link) = by_query.or(links.plain.as_ref()) else { return miss() };
        let count = self.rewriter.path_names().len().min(MAX_RULES);
        Resolution::Hit {
            location: self.rewriter.location(&link.target, query, &path_values[..count]),
            hits: &link.hits,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(old: &str, new: &str, partner: &str) -> MapEntry {
        MapEntry {
            old_url: old.into(),
            new_url: new.into(),
            partner: partner.into(),
            source_id: String::new(),
            target_id: String::new(),
        }
    }

    fn snapshot(entries: &[MapEntry], rewriter: Rewriter) -> Snapshot {
        let fallback = Target::parse("https://shop.example.com/moved").unwrap();
        Snapshot::build(entries, "map.csv", fallback, rewriter, &Metrics::default()).unwrap().0
    }

    fn check(snapshot: &Snapshot, host: Option<&str>, target: &str, expected: &str) {
        let (path, query) = target.split_once('?').map_or((target, None), |(path, query)| (path, Some(query)));
        let location = match snapshot.resolve(host, path, query) {
            Resolution::Hit { location, .. } => format!("301 {}", location.to_str().unwrap()),
            Resolution::Miss { location } => format!("302 {}", location.to_str().unwrap()),
        };
        assert_eq!(location, expected, "{host:?} {target}");
    }

    #[test]
    fn requests_match_on_host_and_path() {
        let map = snapshot(
            &[
                entry("https://go.example.com/r/5000", "https://new.example.net/t/a", "A-1"),
                entry("https://Go.Example.com/r/caf%C3%A9", "https://new.example.net/t/b", "A-2"),
                entry("https://gö.example.com/r/1", "https://new.example.net/t/c", "A-3"),
            ],
            Rewriter::default(),
        );
        let host = Some("go.example.com");
        check(&map, host, "/r/5000", "301 https://new.example.net/t/a");
        check(&map, Some("GO.example.com:443"), "/r/5000?sub_id1=x", "301 https://new.example.net/t/a");
        check(&map, host, "/r/%35000", "301 https://new.example.net/t/a");
        check(&map, host, "/r/caf%c3%a9", "301 https://new.example.net/t/b");
        let punycode = url::Url::parse("https://gö.example.com/").unwrap().host_str().unwrap().to_owned();
        assert!(punycode.starts_with("xn--"), "{punycode}");
        check(&map, Some(&punycode), "/r/1", "301 https://new.example.net/t/c");
        for (host, target) in [
            (Some("go.example.com"), "/r/5000/"),
            (Some("go.example.com"), "/R/5000"),
            (Some("go.example.com"), "/r/../r/5000"),
            (Some("other.example.com"), "/r/5000"),
            (None, "/r/5000"),
        ] {
            check(&map, host, target, "302 https://shop.example.com/moved");
        }
    }

    #[test]
    fn links_named_by_their_query_match_on_those_parameters() {
        let map = snapshot(
            &[
                entry("https://trk.example.com/click?o=1&a=10", "https://new.example.net/1-10", "10"),
                entry("https://trk.example.com/click?a=11&o=1", "https://new.example.net/1-11", "11"),
                entry("https://trk.example.com/click?o=1&a=11&link_id=3", "https://new.example.net/1-11-3", "11"),
                entry("https://trk.example.com/click", "https://new.example.net/any", ""),
            ],
            Rewriter::default(),
        );
        let host = Some("trk.example.com");
        check(&map, host, "/click?o=1&a=10", "301 https://new.example.net/1-10");
        check(&map, host, "/click?a=10&sub_id1=x&o=1", "301 https://new.example.net/1-10");
        check(&map, host, "/click?o=1&a=11", "301 https://new.example.net/1-11");
        check(&map, host, "/click?link_id=3&o=1&a=11", "301 https://new.example.net/1-11-3");
        check(&map, host, "/click?o=1&a=12", "301 https://new.example.net/any");
        check(&map, host, "/click", "301 https://new.example.net/any");
    }

    #[test]
    fn old_path_parameters_are_read_and_ignored_for_matching() {
        let rewriter = Rewriter::new(&[], Some("partnerize-to-impact")).unwrap();
        let map = snapshot(&[entry("https://prf.hn/click/camref:1l2", "https://new.sjv.io/c/1/2/3", "p")], rewriter);
        check(&map, Some("prf.hn"), "/click/camref:1l2/pubref:abc", "301 https://new.sjv.io/c/1/2/3?sharedid=abc");
        check(&map, Some("prf.hn"), "/click/camref:1l2", "301 https://new.sjv.io/c/1/2/3");
    }

    #[test]
    fn the_csv_round_trips_and_bad_rows_name_their_line() {
        let entries = vec![
            entry("https://go.example.com/r/1", "https://new.example.net/t/1", "A-1"),
            entry("https://go.example.com/r/2,\"x\"", "https://new.example.net/t/2", "A,2"),
        ];
        let mut bytes = Vec::new();
        write_csv(&mut bytes, &entries).unwrap();
        assert!(bytes.starts_with(b"old_url,new_url,partner,source_id,target_id\n"));
        assert_eq!(read_csv(bytes.as_slice(), "map.csv").unwrap(), entries);
        let bad = vec![entries[0].clone(), entry("https://go.example.com/r/3", "javascript:alert(1)", "")];
        let error = Snapshot::build(
            &bad,
            "map.csv",
            Target::parse("https://x.example/").unwrap(),
            Rewriter::default(),
            &Metrics::default(),
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "map.csv: line 3: new link: `javascript:alert(1)` cannot be a redirect target: only http and https links are redirect targets"
        );
        let error = read_csv(&b"old_url,new_url\nx\n"[..], "map.csv").unwrap_err();
        assert_eq!(error.to_string(), "map.csv is not a map of rows `old_url,new_url,partner,source_id,target_id`");
        let cause = std::error::Error::source(&error).map(ToString::to_string).unwrap_or_default();
        assert!(cause.starts_with("CSV error: record 1 (line: 2"), "{cause}");
    }

    #[test]
    fn the_join_goes_through_the_id_map_and_says_what_it_left_out() {
        let old = |id: &str, url: Option<&str>| LinkRecord {
            id: id.into(),
            url: url.map(str::to_owned),
            partner: Some(format!("P-{id}")),
        };
        let old_links = vec![
            old("1", Some("https://go.example.com/r/1")),
            old("2", None),
            old("3", Some("not a url")),
            old("4", Some("https://go.example.com/r/4")),
            old("5", Some("https://go.example.com/r/5")),
            old("6", Some("https://go.example.com/r/6")),
            old("7", Some("https://GO.example.com/r/1")),
            old("8", Some("https://go.example.com/r/8")),
        ];
        let new_links: HashMap<String, LinkRecord> = [
            ("n1", Some("https://new.example.net/1")),
            ("n6", None),
            ("n7", Some("https://new.example.net/7")),
            ("n8", Some("https://go.example.com/r/8")),
        ]
        .into_iter()
        .map(|(id, url)| (id.to_owned(), LinkRecord { id: id.into(), url: url.map(str::to_owned), partner: None }))
        .collect();
        let target_id_of = |id: &str| (id != "4").then(|| format!("n{id}"));
        let (entries, skipped) = join(&old_links, target_id_of, &new_links, &[]);
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].new_url, "https://new.example.net/1");
        assert_eq!(entries[0].partner, "P-1");
        assert_eq!(entries[0].target_id, "n1");
        assert_eq!(skipped.no_old_url, ["2"]);
        assert_eq!(skipped.bad_old_url.len(), 1);
        assert_eq!(skipped.not_migrated, ["4"]);
        assert_eq!(skipped.no_target_record, [("5".to_owned(), "n5".to_owned())]);
        assert_eq!(skipped.no_new_url.len(), 1);
        assert_eq!(skipped.duplicate, [("7".to_owned(), "1".to_owned())]);
        assert_eq!(skipped.same_link, ["8"]);
        assert_eq!(skipped.total(), 7);
    }
}
