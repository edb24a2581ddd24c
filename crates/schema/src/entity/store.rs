//! Store entities: customers, orders and discount codes, with the postal
//! address and discount values other entities share.

use super::Reference;
use crate::{CompactString, Money};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A store's customer account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct Customer {
    /// The address as the source gave it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<CompactString>,
    /// Given name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<CompactString>,
    /// Family name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<CompactString>,
    /// Phone number as given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<CompactString>,
    /// The default shipping address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    /// The same person's [`Contact`](crate::Contact), where the store keeps one apart.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<Reference>,
    /// Tags on the customer, by name.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<CompactString>,
    /// Orders placed, as the store counts them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub orders_count: Option<u64>,
    /// Total spent, as the store sums it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_spent: Option<Money>,
    /// When the account was created, in UTC.
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::compact::optional_instant")]
    #[schemars(with = "Option<DateTime<Utc>>")]
    pub created_at: Option<DateTime<Utc>>,
}

/// A placed order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct Order {
    /// The number shown to the customer (`#1001`), which may differ from the source id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_number: Option<CompactString>,
    /// The [`Customer`] who placed it; none for a guest checkout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer: Option<Reference>,
    /// The buyer's address as given on the order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<CompactString>,
    /// Where its payment stands.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<OrderStatus>,
    /// What the buyer paid in total, with tax, shipping and discounts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<Money>,
    /// The sum of the line items before tax, shipping and order discounts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subtotal: Option<Money>,
    /// Tax charged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax: Option<Money>,
    /// Shipping charged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping: Option<Money>,
    /// Discounts taken off, as a positive amount.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discount: Option<Money>,
    /// The discount codes used, as typed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub discount_codes: Vec<CompactString>,
    /// What was bought, where the source gives the lines.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub line_items: Vec<LineItem>,
    /// Where the bill goes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_address: Option<Address>,
    /// Where the goods go.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<Address>,
    /// When it was placed, in UTC.
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::compact::optional_instant")]
    #[schemars(with = "Option<DateTime<Utc>>")]
    pub placed_at: Option<DateTime<Utc>>,
}

/// Where an [`Order`]'s payment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Placed, not yet paid.
    Pending,
    /// Paid in full.
    Paid,
    /// Part of it was refunded.
    PartiallyRefunded,
    /// All of it was refunded.
    Refunded,
    /// Called off before it was fulfilled.
    Cancelled,
}

/// One line of an [`Order`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct LineItem {
    /// The product's id on the store, as given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<CompactString>,
    /// The stock-keeping unit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku: Option<CompactString>,
    /// The product's name as it was when ordered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<CompactString>,
    /// How many; a decimal, since some goods are sold by weight or length.
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::compact::optional_decimal")]
    #[schemars(with = "Option<Decimal>")]
    pub quantity: Option<Decimal>,
    /// The price of one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<Money>,
    /// What the line cost, after its own discounts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<Money>,
}

/// A store discount code.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct DiscountCode {
    /// The code customers type, as given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<CompactString>,
    /// What it takes off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discount: Option<Discount>,
    /// From when it can be used, in UTC.
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::compact::optional_instant")]
    #[schemars(with = "Option<DateTime<Utc>>")]
    pub starts_at: Option<DateTime<Utc>>,
    /// Until when it can be used, in UTC.
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::compact::optional_instant")]
    #[schemars(with = "Option<DateTime<Utc>>")]
    pub ends_at: Option<DateTime<Utc>>,
    /// How many times it can be used in all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage_limit: Option<u64>,
    /// How many times it has been used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub times_used: Option<u64>,
    /// Whether it can be used now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
}

/// What a discount takes off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Discount {
    /// A percentage of the price (`15` for 15 %).
    Percentage(
        #[serde(with = "crate::compact::decimal")]
        #[schemars(with = "Decimal")]
        Decimal,
    ),
    /// A fixed amount off.
    FixedAmount(Money),
    /// Free shipping.
    FreeShipping,
}

/// A postal address, each part as given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct Address {
    /// Street and number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line1: Option<CompactString>,
    /// Flat, floor, building.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line2: Option<CompactString>,
    /// City or town.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<CompactString>,
    /// State, province or county.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<CompactString>,
    /// Postal or ZIP code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<CompactString>,
    /// Country, preferably as an ISO 3166-1 alpha-2 code (`DE`), else as given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<CompactString>,
}
