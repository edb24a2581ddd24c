//! Affiliate entities: partners and their programs, the links and coupon
//! codes they promote, and the chain click → conversion → commission →
//! payout.

use super::Reference;
use crate::{CompactString, Discount, Money};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// An affiliate, influencer or reseller paid for the sales they bring.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct Partner {
    /// The partner's display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<CompactString>,
    /// Their contact address, as given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<CompactString>,
    /// The business they trade as.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<CompactString>,
    /// Whether they may promote and earn.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<PartnerStatus>,
    /// Their tier or level, as the source names it (`gold`, `level 2`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier: Option<CompactString>,
    /// The [`Partner`] who recruited them, for multi-level commission.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<Reference>,
    /// How they are paid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payout: Option<PayoutDetails>,
    /// When they joined, in UTC.
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::compact::optional_instant")]
    #[schemars(with = "Option<DateTime<Utc>>")]
    pub created_at: Option<DateTime<Utc>>,
}

/// Whether a [`Partner`] may promote and earn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PartnerStatus {
    /// Applied and not yet reviewed.
    Pending,
    /// Approved and earning.
    Active,
    /// Blocked for now; earns nothing while suspended.
    Suspended,
    /// Application turned down.
    Rejected,
    /// Left the program or was removed.
    Inactive,
}

/// How a [`Partner`] is paid. It names the account and never holds a secret:
/// no full bank account number, no credential.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct PayoutDetails {
    /// The payout method, as the source names it (`paypal`, `bank_transfer`, `store_credit`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<CompactString>,
    /// What identifies the account as the source shows it: a PayPal address, a
    /// masked account number (`****1234`), a payment provider's account id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_reference: Option<CompactString>,
    /// The currency they are paid in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<crate::Currency>,
}

/// What partners promote and earn from: a program, campaign or offer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct Program {
    /// Its name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<CompactString>,
    /// Which of the three the source calls it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<ProgramKind>,
    /// Its terms or description, as given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Where its links land by default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub landing_url: Option<CompactString>,
    /// Default commission as a percentage of the sale (`12.5` for 12.5 %).
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::compact::optional_decimal")]
    #[schemars(with = "Option<Decimal>")]
    pub commission_percent: Option<Decimal>,
    /// Default commission as a fixed amount per conversion.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commission_flat: Option<Money>,
    /// Days a click is credited after it happens (the cookie window).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cookie_days: Option<u32>,
    /// Whether partners can join and earn now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
}

/// What a source calls a [`Program`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProgramKind {
    /// A standing affiliate program.
    Program,
    /// A campaign: a program limited in time or audience.
    Campaign,
    /// An offer: one product or payout rule inside a network.
    Offer,
}

/// A partner's tracking link.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct TrackingLink {
    /// The link partners share.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<CompactString>,
    /// Where it lands, when it differs from the program's default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_url: Option<CompactString>,
    /// The [`Partner`] it credits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partner: Option<Reference>,
    /// The [`Program`] it belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub program: Option<Reference>,
    /// When it was created, in UTC.
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::compact::optional_instant")]
    #[schemars(with = "Option<DateTime<Utc>>")]
    pub created_at: Option<DateTime<Utc>>,
}

/// A coupon code that credits a partner when a customer uses it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct CouponCode {
    /// The code customers type, as given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<CompactString>,
    /// The [`Partner`] it credits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partner: Option<Reference>,
    /// The [`Program`] it belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub program: Option<Reference>,
    /// The store's [`DiscountCode`](crate::DiscountCode) that gives the discount.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discount_code: Option<Reference>,
    /// The discount, where the affiliate platform records it itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discount: Option<Discount>,
    /// Whether it can be used now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
}

/// A visit through a tracking link.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct Click {
    /// The click id the platform handed to the landing page, which later credits a conversion.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub click_id: Option<CompactString>,
    /// The partner's sub-ids, in order: position 0 is `sub1`; an empty string fills a gap.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sub_ids: Vec<CompactString>,
    /// When it happened, in UTC.
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::compact::optional_instant")]
    #[schemars(with = "Option<DateTime<Utc>>")]
    pub clicked_at: Option<DateTime<Utc>>,
    /// The [`Partner`] it credits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partner: Option<Reference>,
    /// The [`TrackingLink`] followed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracking_link: Option<Reference>,
    /// The [`Program`] it belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub program: Option<Reference>,
    /// The visitor's address, where the source kept it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<IpAddr>,
    /// The visitor's browser, as sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// The page the visitor came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub referrer: Option<CompactString>,
}

/// A sale or lead credited to a partner.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct Conversion {
    /// The store's order id (or lead id), as given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<CompactString>,
    /// The value the commission is computed on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<Money>,
    /// Whether it counts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<ConversionStatus>,
    /// When it happened, in UTC.
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::compact::optional_instant")]
    #[schemars(with = "Option<DateTime<Utc>>")]
    pub converted_at: Option<DateTime<Utc>>,
    /// The [`Click`] that led to it; its source id is the click id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub click: Option<Reference>,
    /// The [`Partner`] it is credited to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partner: Option<Reference>,
    /// The [`Program`] it belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub program: Option<Reference>,
    /// The store's [`Customer`](crate::Customer), where the platforms are linked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer: Option<Reference>,
    /// The store's [`Order`](crate::Order), where the platforms are linked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<Reference>,
}

/// Whether a [`Conversion`] counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConversionStatus {
    /// Recorded, waiting for review or the return window.
    Pending,
    /// Accepted: it earns commission.
    Approved,
    /// Turned down (fraud, duplicate, out of terms).
    Rejected,
    /// Undone after approval (a refund or chargeback).
    Reversed,
}

/// What a partner earns from a conversion.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct Commission {
    /// The amount earned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<Money>,
    /// Where it is on the way to being paid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<CommissionStatus>,
    /// The level in a multi-level program: 1 for the partner who made the
    /// sale, 2 for the one who recruited them, and so on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<u32>,
    /// The [`Conversion`] it is for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversion: Option<Reference>,
    /// The [`Partner`] who earns it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partner: Option<Reference>,
    /// The [`Payout`] that paid it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payout: Option<Reference>,
    /// When it was earned, in UTC.
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::compact::optional_instant")]
    #[schemars(with = "Option<DateTime<Utc>>")]
    pub created_at: Option<DateTime<Utc>>,
}

/// Where a [`Commission`] is on the way to being paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CommissionStatus {
    /// Earned, not yet approved.
    Pending,
    /// Approved and owed.
    Approved,
    /// Turned down.
    Rejected,
    /// Paid out.
    Paid,
    /// Taken back after approval or payment.
    Reversed,
}

/// Money sent to a partner for their commissions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct Payout {
    /// The [`Partner`] paid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partner: Option<Reference>,
    /// The amount paid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<Money>,
    /// Where the payment is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<PayoutStatus>,
    /// The method used, as the source names it (`paypal`, `bank_transfer`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<CompactString>,
    /// The payment provider's transaction reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transaction_reference: Option<CompactString>,
    /// When it was paid, in UTC.
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::compact::optional_instant")]
    #[schemars(with = "Option<DateTime<Utc>>")]
    pub paid_at: Option<DateTime<Utc>>,
}

/// Where a [`Payout`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PayoutStatus {
    /// Due, not yet sent.
    Pending,
    /// Sent, not yet settled.
    Processing,
    /// Settled.
    Paid,
    /// The payment failed.
    Failed,
    /// Called off.
    Canceled,
}
