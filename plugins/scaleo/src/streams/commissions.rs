//! The `commissions` stream, read only: derived from the conversions
//! report (each conversion with a payout: its affiliate's commission, and
//! its sponsor's referral share; see `mapping/conversions.rs`). Scaleo
//! computes commissions from conversions and invoices them; no endpoint
//! takes one, so commissions cannot be written to Scaleo (a conversion
//! written carries its payout instead).
//!
//! The affiliates' sponsors and rates, and which invoices are paid, are
//! loaded when a read starts (and by an instance that resumes).

use crate::ScaleoPlugin;
use crate::client::{Report, ScaleoClient};
use crate::mapping::conversions::{self, Sponsor};
use crate::mapping::partners;
use crate::values;
use cutover_http::PageCursor;
use cutover_sdk::prelude::*;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};

/// What commissions are derived with.
#[derive(Debug, Default)]
pub(crate) struct Referrals {
    /// Affiliate → its sponsor (who still exists) and share.
    sponsors: HashMap<u64, Sponsor>,
    /// Invoices marked paid.
    paid: HashSet<u64>,
}

impl Referrals {
    async fn load(client: &ScaleoClient) -> Result<Referrals, PluginError> {
        let affiliates = client.all(client.list("network/affiliates", "affiliates", &[])).await?;
        let known: HashSet<u64> = affiliates.iter().filter_map(|affiliate| values::id(affiliate.get("id"))).collect();
        let sponsors = affiliates
            .iter()
            .filter_map(|affiliate| {
                let id = values::id(affiliate.get("id"))?;
                let sponsor = values::id(affiliate.get("referred_by")).filter(|sponsor| known.contains(sponsor))?;
                Some((id, Sponsor { id: sponsor, rate: partners::referral_rate(affiliate) }))
            })
            .collect();
        let invoices =
            client.all(client.list("network/aff-billing/invoices", "invoices", &[("status", "paid".into())])).await?;
        let paid = invoices
            .iter()
            .filter(|invoice| invoice.get("status").and_then(Value::as_str) == Some("paid"))
            .filter_map(|invoice| values::id(invoice.get("id")))
            .collect();
        Ok(Referrals { sponsors, paid })
    }
}

/// The stream.
pub(crate) struct Commissions;

impl Stream<ScaleoPlugin> for Commissions {
    const NAME: &'static str = "commissions";
    const ENTITY: EntityKind = EntityKind::Commission;
    const DIRECTION: Direction = Direction::Source;
    type Cursor = PageCursor;

    async fn read(
        plugin: &mut ScaleoPlugin,
        cursor: Option<PageCursor>,
        max_records: usize,
    ) -> Result<Batch<PageCursor>, PluginError> {
        if cursor.is_none() || plugin.referrals.is_none() {
            plugin.referrals = Some(Referrals::load(&plugin.client).await?);
        }
        let ScaleoPlugin { client, pages, referrals, .. } = plugin;
        let referrals = referrals.as_ref();
        let sponsor_of = |affiliate: u64| referrals.and_then(|known| known.sponsors.get(&affiliate).copied());
        let paid = |invoice: u64| referrals.is_some_and(|known| known.paid.contains(&invoice));
        let paginator = client.report(Report::Conversions, json!({}));
        let batch = pages
            .read_flat(client.http(), paginator, "commissions of conversions", cursor, max_records, |row| {
                conversions::commissions(row, &sponsor_of, &paid)
            })
            .await?;
        Ok(batch)
    }
}
