//! One type per stream, registered in `Plugin::streams`:
//!
//! | stream | entity | direction | impact.com |
//! |---|---|---|---|
//! | `partners` | partner | both | `MediaPartners` (+ partner groups as tiers) |
//! | `programs` | program | source | `Campaigns` (read-only in the API) |
//! | `tracking_links` | tracking link | source | `UniqueUrls` |
//! | `coupon_codes` | coupon code | both | `PromoCodes` |
//! | `clicks` | click | source | `ClickExport` jobs, a day per program |
//! | `conversions` | conversion | both | `Actions` by 45-day window; written through `Conversions` |
//! | `commissions` | commission | source | `Actions`' payouts |
//! | `payouts` | payout | source | `Invoices` |

pub(crate) mod actions;
pub(crate) mod clicks;
pub(crate) mod coupon_codes;
pub(crate) mod partners;
pub(crate) mod simple;

use crate::ImpactPlugin;
use cutover_http::{PageCursor, Paginator};
use cutover_sdk::prelude::*;

/// Reads one paged collection with the stream's own page cache.
pub(crate) async fn read_pages(
    plugin: &mut ImpactPlugin,
    stream: &'static str,
    paginator: Paginator,
    label: &str,
    cursor: Option<PageCursor>,
    max_records: usize,
    map: impl FnMut(&serde_json::Value) -> Result<Record, RejectReason>,
) -> Result<Batch<PageCursor>, PluginError> {
    let ImpactPlugin { client, readers, .. } = plugin;
    let reader = readers.entry(stream).or_default();
    Ok(reader.read(client.http(), paginator, label, cursor, max_records, map).await?)
}

/// The outcome of a record the plugin refuses before sending it.
pub(crate) fn refuse(record: &Record, code: &str, message: impl Into<String>) -> WriteOutcome {
    WriteOutcome::rejected(record.source_id.clone(), RejectReason::new(code, message.into()))
}

/// A record of another entity than the stream's.
pub(crate) fn wrong_entity(record: &Record, stream: &str) -> WriteOutcome {
    let kind = record.entity.kind().as_str();
    refuse(record, "wrong_entity", format!("a {kind} cannot be written to `{stream}`"))
}
