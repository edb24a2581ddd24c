//! Partners ranked by revenue into top, mid and long-tail tiers, so that a
//! migration moves the partners who bring the revenue first.
//!
//! Not here: reading the conversions (the host reads them from the source
//! plugin) or moving anything (the engine does, a tier at a time). This
//! crate is the rule and nothing else: given each partner's conversions and
//! a [`TierRule`], [`rank`] answers a [`Ranking`].
//!
//! The rule: the conversions counted are those in the rule's window whose
//! status it counts (approved and pending by default: pending ones are
//! revenue about to be earned), each converted into the reporting currency
//! at the rule's rates (exact decimals, never floats; a currency without a
//! rate is an error that names it). Partners are sorted by revenue, highest
//! first (ties by partner id, so the order is the same every time), and
//! cut by cumulative share of the total: a partner is **top** while the
//! revenue ranked before it is under the top share (default 50 %), so the
//! partner who crosses the line is top too; **mid** while it is under the
//! mid share (default 80 %); the rest, and every partner with no revenue,
//! are the **long tail**. Every conversion not counted is listed with why
//! (outside the window, a status not counted, no partner, no amount, a
//! partner unknown to the program), so the ranking accounts for all of them.
//!
//! Start at [`rank`].

#![warn(missing_docs)]

use chrono::{DateTime, Utc};
use cutover_schema::{Conversion, ConversionStatus, Currency};
pub use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A partner's tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// The partners who bring the first share of revenue.
    Top,
    /// The next share.
    Mid,
    /// Everyone else, and every partner with no revenue in the window.
    LongTail,
}

impl Tier {
    /// Every tier, top first.
    pub const ALL: [Tier; 3] = [Tier::Top, Tier::Mid, Tier::LongTail];

    /// The name operators write (`--tier top`): `top`, `mid`, `long_tail`.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Top => "top",
            Tier::Mid => "mid",
            Tier::LongTail => "long_tail",
        }
    }
}

impl std::str::FromStr for Tier {
    type Err = TierError;

    fn from_str(text: &str) -> Result<Tier, TierError> {
        Tier::ALL
            .into_iter()
            .find(|tier| tier.as_str() == text || (text == "long-tail" && *tier == Tier::LongTail))
            .ok_or_else(|| TierError::UnknownTier(text.to_owned()))
    }
}

/// How partners are ranked and cut into tiers: the `[tiers]` section of a
/// migration config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TierRule {
    /// Conversions from this time on count (`None`: from the first).
    #[serde(default)]
    pub since: Option<DateTime<Utc>>,
    /// Conversions before this time count (`None`: up to now).
    #[serde(default)]
    pub until: Option<DateTime<Utc>>,
    /// The currency revenue is compared in.
    pub currency: Currency,
    /// How many units of [`TierRule::currency`] one unit of each other
    /// currency is worth (`EUR = "1.08"` with USD reporting).
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, Decimal>")]
    pub rates: BTreeMap<Currency, Decimal>,
    /// Top while the revenue ranked before a partner is under this share of
    /// the total (default 0.5).
    #[serde(default = "default_top_share")]
    pub top_share: Decimal,
    /// Mid while it is under this share (default 0.8).
    #[serde(default = "default_mid_share")]
    pub mid_share: Decimal,
    /// The conversion statuses that count (default approved and pending).
    #[serde(default = "default_counted")]
    pub counted: BTreeSet<CountedStatus>,
}

/// A conversion status a [`TierRule`] can count (the canonical
/// [`ConversionStatus`], orderable for the rule's set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CountedStatus {
    /// [`ConversionStatus::Pending`].
    Pending,
    /// [`ConversionStatus::Approved`].
    Approved,
    /// [`ConversionStatus::Rejected`].
    Rejected,
    /// [`ConversionStatus::Reversed`].
    Reversed,
}

impl From<ConversionStatus> for CountedStatus {
    fn from(status: ConversionStatus) -> CountedStatus {
        match status {
            ConversionStatus::Pending => CountedStatus::Pending,
            ConversionStatus::Approved => CountedStatus::Approved,
            ConversionStatus::Rejected => CountedStatus::Rejected,
            ConversionStatus::Reversed => CountedStatus::Reversed,
        }
    }
}

fn default_top_share() -> Decimal {
    Decimal::new(5, 1)
}

fn default_mid_share() -> Decimal {
    Decimal::new(8, 1)
}

fn default_counted() -> BTreeSet<CountedStatus> {
    BTreeSet::from([CountedStatus::Approved, CountedStatus::Pending])
}

impl TierRule {
    /// The default rule, comparing revenue in `currency`: every time, top
    /// 50 %, mid 80 %, approved and pending conversions.
    pub fn new(currency: Currency) -> TierRule {
        TierRule {
            since: None,
            until: None,
            currency,
            rates: BTreeMap::new(),
            top_share: default_top_share(),
            mid_share: default_mid_share(),
            counted: default_counted(),
        }
    }

    fn check(&self) -> Result<(), TierError> {
        let valid =
            Decimal::ZERO < self.top_share && self.top_share <= self.mid_share && self.mid_share <= Decimal::ONE;
        if !valid {
            return Err(TierError::Shares { top: self.top_share, mid: self.mid_share });
        }
        if let Some((currency, rate)) = self.rates.iter().find(|(_, rate)| **rate <= Decimal::ZERO) {
            return Err(TierError::Rate { currency: *currency, rate: *rate });
        }
        Ok(())
    }

    /// `amount` in `currency`, in the reporting currency.
    fn convert(&self, amount: Decimal, currency: Currency) -> Result<Decimal, TierError> {
        if currency == self.currency {
            return Ok(amount);
        }
        let rate = self.rates.get(&currency).ok_or(TierError::NoRate { currency, reporting: self.currency })?;
        amount.checked_mul(*rate).ok_or(TierError::Overflow)
    }
}

/// One partner's place in the ranking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RankedPartner {
    /// The partner's source id.
    pub partner: String,
    /// Revenue counted, in the reporting currency.
    pub revenue: Decimal,
    /// Conversions counted.
    pub conversions: u64,
    /// Share of the total revenue ranked before this partner (0 for the
    /// first): what decides the tier.
    pub share_before: Decimal,
    /// The tier.
    pub tier: Tier,
}

/// Why a conversion was not counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NotCounted {
    /// Its time is outside the window, or it has none and the rule has one.
    OutsideWindow,
    /// Its status is not one the rule counts, or it has none.
    StatusNotCounted,
    /// It is credited to no partner.
    NoPartner,
    /// It has no amount.
    NoAmount,
    /// It names a partner that is not among the program's partners.
    UnknownPartner,
}

/// The partners in tiers, and every conversion not counted with why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ranking {
    /// The reporting currency.
    pub currency: Currency,
    /// Every partner, highest revenue first.
    pub partners: Vec<RankedPartner>,
    /// Revenue counted over every partner.
    pub total: Decimal,
    /// Conversions counted.
    pub counted: u64,
    /// Conversions not counted, by source id, with why.
    pub not_counted: Vec<(String, NotCounted)>,
}

impl Ranking {
    /// The partners of `tier`, highest revenue first.
    pub fn tier(&self, tier: Tier) -> impl Iterator<Item = &RankedPartner> {
        self.partners.iter().filter(move |partner| partner.tier == tier)
    }

    /// The tier of `partner`, if it is one of the program's partners.
    pub fn tier_of(&self, partner: &str) -> Option<Tier> {
        self.partners.iter().find(|ranked| ranked.partner == partner).map(|ranked| ranked.tier)
    }
}

/// Why partners cannot be ranked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TierError {
    /// A conversion is in a currency the rule has no rate for.
    #[error(
        "conversion `{conversion}` is in {currency}, and the tier rule has no rate from {currency} to {reporting}: add `{currency} = \"<{reporting} per {currency}>\"` under `rates`"
    )]
    NoRateFor {
        /// The conversion's source id.
        conversion: String,
        /// Its currency.
        currency: Currency,
        /// The reporting currency.
        reporting: Currency,
    },
    /// Internal form of [`TierError::NoRateFor`] before the conversion is known.
    #[error("no rate from {currency} to {reporting}")]
    NoRate {
        /// The currency without a rate.
        currency: Currency,
        /// The reporting currency.
        reporting: Currency,
    },
    /// The shares are not 0 < top ≤ mid ≤ 1.
    #[error("tier shares must be 0 < top_share ≤ mid_share ≤ 1, not top {top} and mid {mid}")]
    Shares {
        /// The top share given.
        top: Decimal,
        /// The mid share given.
        mid: Decimal,
    },
    /// A rate that is zero or negative.
    #[error("the rate for {currency} is {rate}: a rate must be above 0")]
    Rate {
        /// Its currency.
        currency: Currency,
        /// The rate given.
        rate: Decimal,
    },
    /// A sum too large for a decimal.
    #[error("revenue too large to add up exactly")]
    Overflow,
    /// A tier name that is none of `top`, `mid`, `long_tail`.
    #[error("`{0}` is not a tier: use top, mid or long_tail")]
    UnknownTier(String),
}

/// Ranks `partners` (their source ids) by the revenue of `conversions`
/// (each with its source id) under `rule`.
pub fn rank<'a>(
    partners: impl IntoIterator<Item = &'a str>,
    conversions: impl IntoIterator<Item = (&'a str, &'a Conversion)>,
    rule: &TierRule,
) -> Result<Ranking, TierError> {
    rule.check()?;
    let mut revenue: BTreeMap<&str, (Decimal, u64)> =
        partners.into_iter().map(|partner| (partner, (Decimal::ZERO, 0))).collect();
    let mut not_counted = Vec::new();
    let (mut total, mut counted) = (Decimal::ZERO, 0_u64);
    for (id, conversion) in conversions {
        let reason = match why_not_counted(conversion, rule) {
            Some(reason) => Some(reason),
            None => conversion
                .partner
                .as_ref()
                .filter(|partner| !revenue.contains_key(partner.source_id.as_str()))
                .map(|_| NotCounted::UnknownPartner),
        };
        if let Some(reason) = reason {
            not_counted.push((id.to_owned(), reason));
            continue;
        }
        let (Some(partner), Some(amount)) = (&conversion.partner, &conversion.amount) else {
            continue;
        };
        let value = rule.convert(amount.amount, amount.currency).map_err(|error| match error {
            TierError::NoRate { currency, reporting } => {
                TierError::NoRateFor { conversion: id.to_owned(), currency, reporting }
            }
            other => other,
        })?;
        if let Some((sum, count)) = revenue.get_mut(partner.source_id.as_str()) {
            *sum = sum.checked_add(value).ok_or(TierError::Overflow)?;
            *count += 1;
        }
        total = total.checked_add(value).ok_or(TierError::Overflow)?;
        counted += 1;
    }
    let mut ranked: Vec<(&str, Decimal, u64)> =
        revenue.into_iter().map(|(partner, (sum, count))| (partner, sum, count)).collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let mut before = Decimal::ZERO;
    let partners = ranked
        .into_iter()
        .map(|(partner, sum, conversions)| {
            let share_before = if total.is_zero() { Decimal::ONE } else { before / total };
            let tier = if sum <= Decimal::ZERO {
                Tier::LongTail
            } else if share_before < rule.top_share {
                Tier::Top
            } else if share_before < rule.mid_share {
                Tier::Mid
            } else {
                Tier::LongTail
            };
            before += sum;
            RankedPartner { partner: partner.to_owned(), revenue: sum, conversions, share_before, tier }
        })
        .collect();
    Ok(Ranking { currency: rule.currency, partners, total, counted, not_counted })
}

fn why_not_counted(conversion: &Conversion, rule: &TierRule) -> Option<NotCounted> {
    let in_window = match conversion.converted_at {
        Some(at) => rule.since.is_none_or(|since| at >= since) && rule.until.is_none_or(|until| at < until),
        None => rule.since.is_none() && rule.until.is_none(),
    };
    if !in_window {
        return Some(NotCounted::OutsideWindow);
    }
    if !conversion.status.is_some_and(|status| rule.counted.contains(&status.into())) {
        return Some(NotCounted::StatusNotCounted);
    }
    if conversion.partner.is_none() {
        return Some(NotCounted::NoPartner);
    }
    if conversion.amount.is_none() {
        return Some(NotCounted::NoAmount);
    }
    None
}

#[cfg(test)]
mod tests;
