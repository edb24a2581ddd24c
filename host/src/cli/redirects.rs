//! `cutover redirects export CONFIG` and `cutover redirects serve CONFIG
//! --listen ADDR`: the cut-over of tracking links.
//!
//! `export` opens the config's source and destination plugins as `migrate`
//! does, reads the tracking-link stream the config moves from both (the old
//! platform is still live during the overlap; the destination's stream is
//! read back), joins them through the id map the migration recorded (old
//! link id → new link id), and writes the map as CSV and as an nginx `map`
//! file (`cutover_redirects::nginx`). `serve` answers from that CSV with
//! `cutover_redirects::RedirectServer`, and loads it (and the config's
//! `[redirects]` section) again on `SIGHUP`.

use crate::config::MigrationConfig;
use crate::discovery::Discovery;
use crate::plugin::{BatchSource, LoadedPlugin, PluginInstance};
use crate::secrets;
use crate::state::{SqliteState, StateStore};
use cutover_contract::PluginError;
use cutover_contract::metadata::{Direction, stream_list};
use cutover_redirects::nginx::NginxReport;
use cutover_redirects::{
    LinkRecord, MapEntry, Metrics, RedirectServer, RedirectsConfig, Rewriter, Skipped, Snapshot, Target,
};
use cutover_schema::{Entity, EntityKind};
use std::collections::HashMap;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What the operator writes to get a `[redirects]` section going.
const EXAMPLE_SECTION: &str = "[redirects]\nfallback = \"https://shop.example.com/\"   # where unknown links go\npreset = \"scaleo-to-partnerize\"          # optional: the sub-ids to carry over";

/// Why a `redirects` verb failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedirectsError {
    /// The config is unusable.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// A plugin named in the config is not installed.
    #[error("{side} plugin `{name}` named in {config} is not installed (found: {found})")]
    UnknownPlugin {
        /// `source` or `destination`.
        side: &'static str,
        /// The name.
        name: String,
        /// The config.
        config: String,
        /// What was found.
        found: String,
    },
    /// The config moves no stream of tracking links.
    #[error("{config} moves no tracking-link stream, so there is no link to map (its streams: {streams})")]
    NoLinkStream {
        /// The config.
        config: String,
        /// Its streams and their entities.
        streams: String,
    },
    /// The destination cannot be read back.
    #[error(
        "destination plugin `{plugin}` cannot read stream `{stream}` back, so the new links cannot be listed (streams: {offered})"
    )]
    CannotReadBack {
        /// The plugin.
        plugin: String,
        /// The stream.
        stream: String,
        /// What it offers.
        offered: String,
    },
    /// No migration has run yet: there is no id map.
    #[error(
        "no migration has run for {config}: there is no state store at {state}, so no id map to join old and new links"
    )]
    NoState {
        /// The config.
        config: String,
        /// Where the state store would be.
        state: String,
    },
    /// The state store failed.
    #[error(transparent)]
    State(#[from] crate::state::StateError),
    /// A secret reference could not be resolved.
    #[error("{config}: {error}")]
    Secret {
        /// The config.
        config: String,
        /// What is wrong.
        error: secrets::SecretError,
    },
    /// A plugin refused to open.
    #[error("cannot open {side} plugin `{plugin}`: {error}")]
    Open {
        /// `source` or `destination`.
        side: &'static str,
        /// The plugin.
        plugin: String,
        /// Its error.
        error: Box<PluginError>,
    },
    /// Reading links failed.
    #[error("reading stream `{stream}` of {side} plugin `{plugin}` failed: {error}")]
    Read {
        /// `source` or `destination`.
        side: &'static str,
        /// The plugin.
        plugin: String,
        /// The stream.
        stream: String,
        /// Why.
        error: Box<PluginError>,
    },
    /// The `[redirects]` section's rules or fallback are unusable.
    #[error("{config}: {message}")]
    Section {
        /// The config.
        config: String,
        /// What is wrong.
        message: String,
    },
    /// `serve` needs a `[redirects]` section with a fallback.
    #[error("{config} has no `[redirects] fallback`: the server must know where to send links it does not hold")]
    NoFallback {
        /// The config.
        config: String,
    },
    /// No link could be mapped.
    #[error("no link to map: {read} old links read, none has a new link ({why})")]
    EmptyMap {
        /// Old links read.
        read: usize,
        /// Why, by reason.
        why: String,
    },
    /// The map file is missing.
    #[error("there is no map at {path}")]
    NoMap {
        /// The file.
        path: String,
        /// The config, for the help.
        config: String,
    },
    /// The map file is unusable.
    #[error(transparent)]
    Map(#[from] cutover_redirects::MapError),
    /// The map holds no link.
    #[error("the map {path} holds no link")]
    MapEmpty {
        /// The file.
        path: String,
    },
    /// A file could not be written.
    #[error("cannot write {path}")]
    Write {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The address cannot be listened on.
    #[error("cannot listen on {address}")]
    Listen {
        /// The address.
        address: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The server failed.
    #[error("the redirect server failed")]
    Serve(#[source] std::io::Error),
}

impl RedirectsError {
    /// What the operator can do about it.
    pub fn help(&self) -> Option<String> {
        match self {
            RedirectsError::UnknownPlugin { .. } => Some(
                "`cutover plugins list` shows what is installed; check --plugin-dir and CUTOVER_PLUGIN_PATH".into(),
            ),
            RedirectsError::NoLinkStream { .. } => Some(
                "add the tracking links to the config's `[[streams]]` (a stream whose entity is tracking_link) and run `cutover migrate`"
                    .into(),
            ),
            RedirectsError::NoState { config, .. } => Some(format!("run `cutover migrate {config}` first")),
            RedirectsError::EmptyMap { .. } => Some(
                "each reason names the first links; `cutover status` and `cutover rejects list` show what the migration did with them"
                    .into(),
            ),
            RedirectsError::NoFallback { .. } => Some(format!("add to the config:\n{EXAMPLE_SECTION}")),
            RedirectsError::NoMap { config, .. } => Some(format!("run `cutover redirects export {config}` first")),
            RedirectsError::MapEmpty { .. } => {
                Some("`cutover redirects export` writes the map; a server with no link would send everything to the fallback".into())
            }
            RedirectsError::Map(_) => Some("fix the row, or export the map again, then start (or SIGHUP) the server".into()),
            _ => None,
        }
    }
}

/// Where `export` wrote, and what it left out.
#[derive(Debug)]
pub struct ExportSummary {
    /// The CSV map.
    pub csv: PathBuf,
    /// The nginx map.
    pub nginx: PathBuf,
    /// Old links read.
    pub read: usize,
    /// Rows written.
    pub entries: usize,
    /// Links left out of the map, by reason.
    pub skipped: Skipped,
    /// What the nginx file could not express.
    pub nginx_report: NginxReport,
}

fn config_folder(config_path: &Path) -> &Path {
    config_path.parent().filter(|parent| !parent.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

fn config_stem(config_path: &Path) -> String {
    config_path.file_stem().map_or("cutover".into(), |stem| stem.to_string_lossy().into_owned())
}

/// `path` from the config's folder, or `<config name><suffix>` beside the config.
fn beside(config_path: &Path, path: Option<&Path>, suffix: &str) -> PathBuf {
    let folder = config_path.parent().unwrap_or(Path::new(""));
    match path {
        Some(path) => folder.join(path),
        None => folder.join(format!("{}{suffix}", config_stem(config_path))),
    }
}

/// The CSV map of the config: `[redirects] csv`, or `<config name>.redirects.csv` beside it.
pub fn csv_path(config_path: &Path, section: &RedirectsConfig) -> PathBuf {
    beside(config_path, section.csv.as_deref(), ".redirects.csv")
}

/// The nginx map of the config: `[redirects] nginx`, or `<config name>.redirects.nginx.conf` beside it.
pub fn nginx_path(config_path: &Path, section: &RedirectsConfig) -> PathBuf {
    beside(config_path, section.nginx.as_deref(), ".redirects.nginx.conf")
}

fn rewriter(section: &RedirectsConfig, config: &str) -> Result<Rewriter, RedirectsError> {
    Rewriter::new(&section.params, section.preset.as_deref())
        .map_err(|error| RedirectsError::Section { config: config.to_owned(), message: error.to_string() })
}

fn fallback(section: &RedirectsConfig, config: &str) -> Result<Option<Target>, RedirectsError> {
    section
        .fallback
        .as_deref()
        .map(|url| {
            Target::parse(url).map_err(|error| RedirectsError::Section {
                config: config.to_owned(),
                message: format!("[redirects] fallback: {error}"),
            })
        })
        .transpose()
}

/// Reads every tracking link of `stream` from `instance`, each with the
/// platform it names as its source.
fn read_links(
    instance: &mut PluginInstance,
    stream: &str,
    batch_size: u32,
    side: &'static str,
    plugin: &str,
) -> Result<Vec<(String, LinkRecord)>, RedirectsError> {
    let failed = |error: PluginError| RedirectsError::Read {
        side,
        plugin: plugin.to_owned(),
        stream: stream.to_owned(),
        error: Box::new(error),
    };
    let mut links = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let batch = instance.read(stream, cursor.as_deref(), batch_size).map_err(failed)?;
        let records =
            batch.records.into_decoded().map_err(|error| failed(crate::plugin::wire_error(stream, &error)))?;
        for record in records {
            if let Entity::TrackingLink(link) = record.entity {
                links.push((
                    record.source_platform.to_string(),
                    LinkRecord {
                        id: record.source_id.to_string(),
                        url: link.url.map(|url| url.to_string()),
                        partner: link.partner.map(|partner| partner.source_id.to_string()),
                    },
                ));
            }
        }
        if batch.done {
            return Ok(links);
        }
        cursor = batch.next_cursor;
    }
}

/// Writes `bytes` to `path` through a temporary file beside it, so that a
/// server reloading at that moment reads the old file or the new one whole.
fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> Result<(), RedirectsError> {
    let failed = |source| RedirectsError::Write { path: path.display().to_string(), source };
    let folder = config_folder(path);
    std::fs::create_dir_all(folder).map_err(failed)?;
    let mut file = tempfile::NamedTempFile::new_in(folder).map_err(failed)?;
    write(file.as_file_mut()).map_err(failed)?;
    file.as_file_mut().sync_all().map_err(failed)?;
    file.persist(path).map_err(|error| failed(error.error))?;
    Ok(())
}

/// `cutover redirects export CONFIG`.
pub fn export(discovery: &Discovery, config_path: &Path) -> Result<ExportSummary, RedirectsError> {
    let config = MigrationConfig::load(config_path)?;
    let config_name = config_path.display().to_string();
    let section = config.redirects.clone().unwrap_or_default();
    let rewriter = rewriter(&section, &config_name)?;
    let fallback = fallback(&section, &config_name)?;
    let find = |name: &str, side: &'static str| {
        discovery.find(name).ok_or_else(|| RedirectsError::UnknownPlugin {
            side,
            name: name.to_owned(),
            config: config_name.clone(),
            found: if discovery.plugins.is_empty() { "none".into() } else { discovery.names().join(", ") },
        })
    };
    let source_plugin = find(&config.source.plugin, "source")?;
    let destination_plugin = find(&config.destination.plugin, "destination")?;
    // The tracking-link streams the config moves: (source stream, destination stream).
    let entity_of = |stream: &str| source_plugin.metadata.stream(stream).map(|info| info.entity);
    let link_streams: Vec<(&str, &str, u32)> = config
        .streams
        .iter()
        .filter(|stream| entity_of(&stream.source) == Some(EntityKind::TrackingLink))
        .map(|stream| {
            let batch = stream.batch_size.unwrap_or(config.run.batch_size).get();
            (stream.source.as_str(), stream.destination_stream(), batch)
        })
        .collect();
    if link_streams.is_empty() {
        let streams = config
            .streams
            .iter()
            .map(|stream| match entity_of(&stream.source) {
                Some(entity) => format!("{} ({})", stream.source, entity.as_str()),
                None => format!("{} (not offered by `{}`)", stream.source, source_plugin.metadata.name),
            })
            .collect::<Vec<_>>();
        let streams = if streams.is_empty() { "none".to_owned() } else { streams.join(", ") };
        return Err(RedirectsError::NoLinkStream { config: config_name, streams });
    }
    for (_, destination_stream, _) in &link_streams {
        let readable = destination_plugin
            .metadata
            .stream(destination_stream)
            .is_some_and(|info| info.direction.offers(Direction::Source));
        if !readable {
            return Err(RedirectsError::CannotReadBack {
                plugin: destination_plugin.metadata.name.clone(),
                stream: (*destination_stream).to_owned(),
                offered: stream_list(&destination_plugin.metadata.streams),
            });
        }
    }
    let state_path = config.state_path(config_path);
    if !state_path.exists() {
        return Err(RedirectsError::NoState { config: config_name, state: state_path.display().to_string() });
    }
    let state = SqliteState::open(&state_path)?;
    let mut id_map = state.id_lookup()?;
    let base_dir = config_folder(config_path);
    let open = |plugin: &LoadedPlugin, table: &toml::Table, side: &'static str| {
        let resolved = secrets::resolve(table, &plugin.metadata.config_schema, base_dir, &format!("{side}.config"))
            .map_err(|error| RedirectsError::Secret { config: config_name.clone(), error })?;
        plugin.open(&resolved, base_dir).map_err(|error| RedirectsError::Open {
            side,
            plugin: plugin.metadata.name.clone(),
            error: Box::new(error),
        })
    };
    let mut source = open(source_plugin, &config.source.config, "source")?;
    let mut destination = open(destination_plugin, &config.destination.config, "destination")?;
    let mut entries: Vec<MapEntry> = Vec::new();
    let mut skipped = Skipped::default();
    let mut read = 0;
    for (source_stream, destination_stream, batch) in link_streams {
        let old_links: Vec<LinkRecord> =
            read_links(&mut source, source_stream, batch, "source", &source_plugin.metadata.name)?
                .into_iter()
                .map(|(_, link)| link)
                .collect();
        let new_list =
            read_links(&mut destination, destination_stream, batch, "destination", &destination_plugin.metadata.name)?;
        read += old_links.len();
        // A new link is found by the target id the destination returned:
        // its id as read back, or `platform:id` (file and archive destinations).
        let mut new_links: HashMap<String, LinkRecord> = HashMap::with_capacity(new_list.len() * 2);
        for (platform, link) in new_list {
            new_links.insert(format!("{platform}:{}", link.id), link.clone());
            new_links.insert(link.id.clone(), link);
        }
        let mut target_ids: HashMap<String, String> = HashMap::with_capacity(old_links.len());
        for link in &old_links {
            let target = id_map.target_id(&source_plugin.metadata.name, EntityKind::TrackingLink.as_str(), &link.id)?;
            if let Some(target) = target {
                target_ids.insert(link.id.clone(), target);
            }
        }
        let (mut rows, left_out) =
            cutover_redirects::join(&old_links, |id| target_ids.get(id).cloned(), &new_links, rewriter.path_names());
        entries.append(&mut rows);
        merge(&mut skipped, left_out);
    }
    let _ = source.close();
    let _ = destination.close();
    if entries.is_empty() {
        return Err(RedirectsError::EmptyMap { read, why: reasons(&skipped).join("; ") });
    }
    let csv = csv_path(config_path, &section);
    let nginx = nginx_path(config_path, &section);
    write_atomically(&csv, |file| cutover_redirects::write_csv(&mut *file, &entries).map_err(std::io::Error::other))?;
    let generated = format!(
        "from {} at {}",
        config_path.file_name().map_or(config_name.clone(), |name| name.to_string_lossy().into_owned()),
        chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ")
    );
    let mut nginx_report = NginxReport::default();
    write_atomically(&nginx, |file| {
        let mut buffered = std::io::BufWriter::new(&mut *file);
        nginx_report = cutover_redirects::nginx::write(
            &mut buffered,
            &entries,
            fallback.as_ref().map(Target::as_str),
            rewriter.path_names(),
            &generated,
        )?;
        buffered.flush()
    })?;
    Ok(ExportSummary { csv, nginx, read, entries: entries.len(), skipped, nginx_report })
}

fn merge(into: &mut Skipped, from: Skipped) {
    into.no_old_url.extend(from.no_old_url);
    into.bad_old_url.extend(from.bad_old_url);
    into.not_migrated.extend(from.not_migrated);
    into.no_target_record.extend(from.no_target_record);
    into.no_new_url.extend(from.no_new_url);
    into.same_link.extend(from.same_link);
    into.duplicate.extend(from.duplicate);
}

/// The first ids of a list, and how many more.
fn some(ids: impl ExactSizeIterator<Item = String>) -> String {
    let count = ids.len();
    let shown: Vec<String> = ids.take(5).collect();
    if count > shown.len() {
        format!("{}, … ({} more)", shown.join(", "), count - shown.len())
    } else {
        shown.join(", ")
    }
}

/// Each reason links were left out, with its count and the first ids.
pub fn reasons(skipped: &Skipped) -> Vec<String> {
    let mut lines = Vec::new();
    let mut add = |count: usize, what: &str, ids: String| {
        if count > 0 {
            let links = if count == 1 { "link" } else { "links" };
            lines.push(format!("{count} {links} {what}: {ids}"));
        }
    };
    add(skipped.no_old_url.len(), "with no URL on the old platform", some(skipped.no_old_url.iter().cloned()));
    add(
        skipped.bad_old_url.len(),
        "whose old URL cannot be matched",
        some(skipped.bad_old_url.iter().map(|(id, why)| format!("{id} ({why})"))),
    );
    add(
        skipped.not_migrated.len(),
        "not migrated (no id-map entry: rejected, skipped or not yet moved)",
        some(skipped.not_migrated.iter().cloned()),
    );
    add(
        skipped.no_target_record.len(),
        "whose new link the destination does not list",
        some(skipped.no_target_record.iter().map(|(id, target)| format!("{id} → {target}"))),
    );
    add(
        skipped.no_new_url.len(),
        "with no usable new URL",
        some(skipped.no_new_url.iter().map(|(id, why)| format!("{id} ({why})"))),
    );
    add(
        skipped.same_link.len(),
        "whose new link is the old link (a redirect loop)",
        some(skipped.same_link.iter().cloned()),
    );
    add(
        skipped.duplicate.len(),
        "with the same old link as an earlier one",
        some(skipped.duplicate.iter().map(|(id, first)| format!("{id} (as {first})"))),
    );
    lines
}

/// Loads the map the server answers from: the config's `[redirects]`
/// section and the CSV map (`map`, or the section's).
fn load_snapshot(
    config_path: &Path,
    map: Option<&Path>,
    metrics: &Metrics,
) -> Result<(Snapshot, PathBuf, usize, cutover_redirects::Limits), RedirectsError> {
    let config = MigrationConfig::load(config_path)?;
    let config_name = config_path.display().to_string();
    let section = config.redirects.clone().unwrap_or_default();
    let fallback =
        fallback(&section, &config_name)?.ok_or(RedirectsError::NoFallback { config: config_name.clone() })?;
    let rewriter = rewriter(&section, &config_name)?;
    let map_path = map.map_or_else(|| csv_path(config_path, &section), Path::to_owned);
    let shown = map_path.display().to_string();
    let file = match std::fs::File::open(&map_path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(RedirectsError::NoMap { path: shown, config: config_name });
        }
        Err(source) => return Err(cutover_redirects::MapError::Io { path: shown, source }.into()),
    };
    let entries = cutover_redirects::read_csv(std::io::BufReader::new(file), &shown)?;
    let (snapshot, duplicates) = Snapshot::build(&entries, &shown, fallback, rewriter, metrics)?;
    if snapshot.is_empty() {
        return Err(RedirectsError::MapEmpty { path: shown });
    }
    Ok((snapshot, map_path, duplicates, cutover_redirects::Limits::from(&section.limits)))
}

/// `cutover redirects serve CONFIG --listen ADDR`: runs until SIGINT or
/// SIGTERM. Prints `listening on http://ADDR` on stdout once it listens.
pub fn serve(
    config_path: &Path,
    listen: SocketAddr,
    map: Option<&Path>,
    metrics_listen: Option<SocketAddr>,
) -> Result<(), RedirectsError> {
    let metrics = Arc::new(Metrics::default());
    let (snapshot, map_path, duplicates, limits) = load_snapshot(config_path, map, &metrics)?;
    if duplicates > 0 {
        eprintln!("warning: {duplicates} rows of {} repeat an earlier old link; the first is used", map_path.display());
    }
    let links = snapshot.len();
    let fallback = snapshot.fallback().as_str().to_owned();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(RedirectsError::Serve)?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|source| RedirectsError::Listen { address: listen, source })?;
        let bound = listener.local_addr().map_err(|source| RedirectsError::Listen { address: listen, source })?;
        let metrics_listener = match metrics_listen {
            Some(address) => Some(
                tokio::net::TcpListener::bind(address)
                    .await
                    .map_err(|source| RedirectsError::Listen { address, source })?,
            ),
            None => None,
        };
        let server = RedirectServer::new(snapshot, metrics.clone(), limits, metrics_listener.is_none());
        // SIGHUP is handled before the address is printed: from then on it
        // reloads, never ends the process.
        let reload_metrics = server.metrics().clone();
        let reload_config = config_path.to_owned();
        let reload_map = map.map(Path::to_owned);
        let reload = move || match load_snapshot(&reload_config, reload_map.as_deref(), &reload_metrics) {
            Ok((snapshot, path, _, _)) => {
                eprintln!("reloaded {} links from {}", snapshot.len(), path.display());
                Ok(snapshot)
            }
            Err(error) => {
                // The whole chain on one line: a CSV error's line is in its cause.
                let mut message = error.to_string();
                let mut cause = std::error::Error::source(&error);
                while let Some(inner) = cause {
                    message.push_str(": ");
                    message.push_str(&inner.to_string());
                    cause = inner.source();
                }
                eprintln!("error: reloading the map failed, the map in use stays: {message}");
                Err(message)
            }
        };
        let reloading = tokio::spawn(server.reload_on_hangup(reload).map_err(RedirectsError::Serve)?);
        {
            let mut stdout = std::io::stdout().lock();
            let _ = writeln!(stdout, "listening on http://{bound}");
            if let Some(listener) = &metrics_listener
                && let Ok(address) = listener.local_addr()
            {
                let _ = writeln!(stdout, "metrics on http://{address}/metrics");
            }
            let _ = stdout.flush();
        }
        eprintln!(
            "serving {links} links from {}; unknown links go to {fallback}; SIGHUP reloads the map, Ctrl-C stops",
            map_path.display()
        );
        let metrics_task = metrics_listener.map(|listener| {
            let server = server.clone();
            tokio::spawn(async move { server.serve_metrics(listener, cutover_redirects::server::terminated()).await })
        });
        let served = server.serve(listener, cutover_redirects::server::terminated()).await;
        reloading.abort();
        if let Some(task) = metrics_task {
            task.abort();
        }
        eprintln!("stopped: {} hits, {} misses", server.metrics().hits(), server.metrics().misses());
        served.map_err(RedirectsError::Serve)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_files_default_to_beside_the_config() {
        let section = RedirectsConfig::default();
        let config = Path::new("migrations/acme.toml");
        assert_eq!(csv_path(config, &section), Path::new("migrations/acme.redirects.csv"));
        assert_eq!(nginx_path(config, &section), Path::new("migrations/acme.redirects.nginx.conf"));
        let section = RedirectsConfig { csv: Some("out/map.csv".into()), ..RedirectsConfig::default() };
        assert_eq!(csv_path(Path::new("cutover.toml"), &section), Path::new("out/map.csv"));
    }

    #[test]
    fn reasons_name_the_first_links_and_count_the_rest() {
        let skipped = Skipped {
            not_migrated: (1..=7).map(|index| format!("L-{index}")).collect(),
            same_link: vec!["L-9".into()],
            ..Skipped::default()
        };
        assert_eq!(
            reasons(&skipped),
            [
                "7 links not migrated (no id-map entry: rejected, skipped or not yet moved): L-1, L-2, L-3, L-4, L-5, … (2 more)",
                "1 link whose new link is the old link (a redirect loop): L-9",
            ]
        );
    }
}
