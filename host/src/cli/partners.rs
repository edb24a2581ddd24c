//! `cutover partners tiers CONFIG`: the source platform's partners ranked by
//! revenue into top, mid and long-tail tiers (the `[tiers]` section's rule,
//! `cutover_tiers`), so the partners who bring the revenue are moved and
//! told first.
//!
//! It opens the config's source plugin as `migrate` does, reads every
//! partner and every conversion it offers (the streams whose entity is
//! `partner` and `conversion`), passes each record through the config's
//! mapping rules for its stream (so a status the config maps is read as
//! `migrate` would write it), and ranks them. Nothing is written.

use crate::config::MigrationConfig;
use crate::discovery::Discovery;
use crate::mapping::{Mapped, StreamMapping};
use crate::plugin::{BatchSource, PluginInstance};
use crate::secrets;
use cutover_contract::PluginError;
use cutover_contract::metadata::{Direction, stream_list};
use cutover_schema::{Conversion, Entity, EntityKind, Record};
use cutover_tiers::{Decimal, NotCounted, Ranking, Tier, TierError, TierRule};
use std::collections::BTreeMap;
use std::path::Path;

/// What the operator writes to get a `[tiers]` section going.
const EXAMPLE_SECTION: &str = "[tiers]\ncurrency = \"USD\"               # revenue is compared in this currency\nrates = { EUR = \"1.08\" }         # USD per unit of each other currency\nsince = \"2026-01-01T00:00:00Z\"   # optional: conversions from then on";

/// Why `partners tiers` failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PartnersError {
    /// The config is unusable.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The config has no `[tiers]` section.
    #[error("{config} has no [tiers] section, so there is no rule to rank partners by")]
    NoRule {
        /// The config.
        config: String,
    },
    /// The source plugin is not installed.
    #[error("source plugin `{name}` named in {config} is not installed (found: {found})")]
    UnknownPlugin {
        /// The name.
        name: String,
        /// The config.
        config: String,
        /// What was found.
        found: String,
    },
    /// The source offers no readable stream of partners or of conversions.
    #[error("source plugin `{plugin}` offers no readable {entity} stream to rank by (its streams: {offered})")]
    NoStream {
        /// The plugin.
        plugin: String,
        /// `partner` or `conversion`.
        entity: &'static str,
        /// What it offers.
        offered: String,
    },
    /// A secret reference could not be resolved.
    #[error("{config}: {error}")]
    Secret {
        /// The config.
        config: String,
        /// What is wrong.
        error: secrets::SecretError,
    },
    /// The plugin refused to open.
    #[error("cannot open source plugin `{plugin}`: {error}")]
    Open {
        /// The plugin.
        plugin: String,
        /// Its error.
        error: Box<PluginError>,
    },
    /// Reading a stream failed.
    #[error("reading stream `{stream}` of source plugin `{plugin}` failed: {error}")]
    Read {
        /// The plugin.
        plugin: String,
        /// The stream.
        stream: String,
        /// Why.
        error: Box<PluginError>,
    },
    /// A stream's mapping rules in the config are unusable.
    #[error("{config}: stream `{stream}`: {error}")]
    Mapping {
        /// The config.
        config: String,
        /// The stream.
        stream: String,
        /// Why.
        error: crate::mapping::MappingError,
    },
    /// The rule cannot rank these conversions.
    #[error("{config}: {error}")]
    Rank {
        /// The config.
        config: String,
        /// Why.
        error: TierError,
    },
}

impl PartnersError {
    /// What the operator can do about it.
    pub fn help(&self) -> Option<String> {
        match self {
            PartnersError::NoRule { .. } => Some(format!("add a section such as:\n{EXAMPLE_SECTION}")),
            PartnersError::UnknownPlugin { .. } => {
                Some("install the plugin's library in a plugin folder (see `cutover plugins list`)".into())
            }
            PartnersError::Open { error, .. } | PartnersError::Read { error, .. } => error.help.clone(),
            _ => None,
        }
    }
}

/// The ranking, and the records the config's mapping left out of it.
#[derive(Debug)]
pub struct Tiers {
    /// The partners in tiers.
    pub ranking: Ranking,
    /// Partner and conversion records the config's mapping rules skip or
    /// reject, so not ranked, by stream.
    pub left_out: BTreeMap<String, u64>,
}

/// Reads the source's partners and conversions and ranks them by the
/// config's `[tiers]` rule.
pub fn tiers(discovery: &Discovery, config_path: &Path) -> Result<Tiers, PartnersError> {
    let config = MigrationConfig::load(config_path)?;
    let config_name = config_path.display().to_string();
    let rule: TierRule = config.tiers.clone().ok_or_else(|| PartnersError::NoRule { config: config_name.clone() })?;
    let plugin = discovery.find(&config.source.plugin).ok_or_else(|| PartnersError::UnknownPlugin {
        name: config.source.plugin.clone(),
        config: config_name.clone(),
        found: if discovery.plugins.is_empty() { "none".into() } else { discovery.names().join(", ") },
    })?;
    let metadata = &plugin.metadata;
    let streams_of = |entity: EntityKind, name: &'static str| {
        let streams: Vec<String> = metadata
            .streams
            .iter()
            .filter(|info| info.entity == entity && info.direction.offers(Direction::Source))
            .map(|info| info.name.clone())
            .collect();
        if streams.is_empty() {
            return Err(PartnersError::NoStream {
                plugin: metadata.name.clone(),
                entity: name,
                offered: stream_list(&metadata.streams),
            });
        }
        Ok(streams)
    };
    let partner_streams = streams_of(EntityKind::Partner, "partner")?;
    let conversion_streams = streams_of(EntityKind::Conversion, "conversion")?;
    let base_dir = config_path.parent().unwrap_or(Path::new("."));
    let resolved = secrets::resolve(&config.source.config, &metadata.config_schema, base_dir, "source.config")
        .map_err(|error| PartnersError::Secret { config: config_name.clone(), error })?;
    let mut source = plugin
        .open(&resolved, base_dir)
        .map_err(|error| PartnersError::Open { plugin: metadata.name.clone(), error: Box::new(error) })?;
    let batch_size = config.run.batch_size.get();
    let mut left_out = BTreeMap::new();
    let mut read = |stream: &str| -> Result<Vec<Record>, PartnersError> {
        let mapping = match config.streams.iter().find(|configured| configured.source == stream) {
            Some(configured) => StreamMapping::compile(configured).map_err(|error| PartnersError::Mapping {
                config: config_name.clone(),
                stream: stream.to_owned(),
                error,
            })?,
            None => StreamMapping::default(),
        };
        let mut kept = Vec::new();
        for record in read_all(&mut source, stream, batch_size, &metadata.name)? {
            match mapping.apply(record) {
                Mapped::Keep(record) => kept.push(record),
                Mapped::Skip(_) | Mapped::Reject { .. } => *left_out.entry(stream.to_owned()).or_default() += 1,
            }
        }
        Ok(kept)
    };
    let mut partners = Vec::new();
    for stream in &partner_streams {
        partners.extend(read(stream)?.into_iter().map(|record| record.source_id));
    }
    let mut conversions: Vec<(String, Conversion)> = Vec::new();
    for stream in &conversion_streams {
        for record in read(stream)? {
            if let Entity::Conversion(conversion) = record.entity {
                conversions.push((record.source_id.to_string(), conversion));
            }
        }
    }
    let ranking = cutover_tiers::rank(
        partners.iter().map(|id| id.as_str()),
        conversions.iter().map(|(id, conversion)| (id.as_str(), conversion)),
        &rule,
    )
    .map_err(|error| PartnersError::Rank { config: config_name, error })?;
    Ok(Tiers { ranking, left_out })
}

/// Every record of `stream`, read to its end.
fn read_all(
    instance: &mut PluginInstance,
    stream: &str,
    batch_size: u32,
    plugin: &str,
) -> Result<Vec<Record>, PartnersError> {
    let failed = |error: PluginError| PartnersError::Read {
        plugin: plugin.to_owned(),
        stream: stream.to_owned(),
        error: Box::new(error),
    };
    let mut records = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let batch = instance.read(stream, cursor.as_deref(), batch_size).map_err(failed)?;
        records
            .extend(batch.records.into_decoded().map_err(|error| failed(crate::plugin::wire_error(stream, &error)))?);
        if batch.done {
            return Ok(records);
        }
        cursor = batch.next_cursor;
    }
}

/// The ranking as people read it: a line per tier, then what was not
/// counted and why.
pub fn render(tiers: &Tiers) -> String {
    let ranking = &tiers.ranking;
    let currency = ranking.currency;
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::NOTHING);
    table.set_header(["tier", "partners", &format!("revenue ({currency})"), "share", "top partners"]);
    for tier in Tier::ALL {
        let members: Vec<_> = ranking.tier(tier).collect();
        let revenue: Decimal = members.iter().map(|partner| partner.revenue).sum();
        let share = if ranking.total.is_zero() {
            "-".to_owned()
        } else {
            format!("{:.1} %", revenue * Decimal::ONE_HUNDRED / ranking.total)
        };
        let first: Vec<&str> = members.iter().take(3).map(|partner| partner.partner.as_str()).collect();
        let more = members.len().saturating_sub(first.len());
        let names = match more {
            0 => first.join(", "),
            more => format!("{} and {more} more", first.join(", ")),
        };
        table.add_row([
            tier.as_str().to_owned(),
            members.len().to_string(),
            revenue.round_dp(2).to_string(),
            share,
            names,
        ]);
    }
    let mut text =
        format!("{table}\n{} conversions counted, {} {currency} in all", ranking.counted, ranking.total.round_dp(2));
    if !ranking.not_counted.is_empty() {
        let mut reasons: BTreeMap<NotCounted, usize> = BTreeMap::new();
        for (_, reason) in &ranking.not_counted {
            *reasons.entry(*reason).or_default() += 1;
        }
        let reasons: Vec<String> =
            reasons.iter().map(|(reason, count)| format!("{count} {}", describe(*reason))).collect();
        text.push_str(&format!("; not counted: {}", reasons.join(", ")));
    }
    for (stream, count) in &tiers.left_out {
        text.push_str(&format!("\n{count} records of `{stream}` left out: the config's mapping skips or rejects them"));
    }
    text
}

fn describe(reason: NotCounted) -> &'static str {
    match reason {
        NotCounted::OutsideWindow => "outside the window",
        NotCounted::StatusNotCounted => "of a status not counted",
        NotCounted::NoPartner => "credited to no partner",
        NotCounted::NoAmount => "without an amount",
        NotCounted::UnknownPartner => "of a partner the source does not list",
    }
}
