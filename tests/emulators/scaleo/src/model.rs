//! What the emulator stores, typed, and each thing as the API writes it.
//! Money is a [`Decimal`] written with four decimal places (`"12.5000"`),
//! as Scaleo writes amounts; times are UTC, written ISO 8601 to the second
//! (`2026-01-20T13:45:00Z`) on resources and as Unix seconds in report rows
//! (`added_timestamp`) and on landing pages (`created`, `updated`).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

/// The domain tracking links are served from (`/click?o=&a=`).
pub const TRACKING_DOMAIN: &str = "https://nordlight.scaletrk.com";

/// An ISO 8601 instant to the second, as Scaleo writes them.
pub(crate) fn iso(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// An amount with four decimal places, as Scaleo writes money.
pub fn money(amount: Decimal) -> String {
    let mut amount = amount;
    amount.rescale(4);
    amount.to_string()
}

fn text(value: &Option<String>) -> Value {
    value.as_ref().map_or(Value::Null, |text| Value::String(text.clone()))
}

fn number(value: Option<u64>) -> Value {
    value.map_or(Value::Null, Value::from)
}

/// An affiliate (a partner). `status`: 1 active, 2 disabled, 3 pending,
/// 4 rejected. `contacts` and `payment_details` are JSON held in a string,
/// as the API takes and gives them.
#[derive(Debug, Clone, PartialEq)]
pub struct Affiliate {
    /// Its id.
    pub id: u64,
    /// Unique across the network (case aside).
    pub email: String,
    /// Given name.
    pub firstname: Option<String>,
    /// Family name.
    pub lastname: Option<String>,
    /// Company.
    pub company_name: Option<String>,
    /// Phone, up to 64 characters.
    pub phone: Option<String>,
    /// Website.
    pub website_url: Option<String>,
    /// 1 active, 2 disabled, 3 pending, 4 rejected.
    pub status: u8,
    /// 1 the API is enabled for the affiliate's own key, 2 disabled.
    pub api_status: u8,
    /// GeoNames id of the country.
    pub country: Option<u64>,
    /// Region.
    pub region: Option<String>,
    /// City.
    pub city: Option<String>,
    /// Street address.
    pub address: Option<String>,
    /// Postal code, up to 16 characters.
    pub postal_code: Option<String>,
    /// IANA time zone.
    pub timezone: Option<String>,
    /// Messenger contacts, JSON in a string.
    pub contacts: Option<String>,
    /// Notes the affiliate sees.
    pub notes: Option<String>,
    /// Notes only managers see.
    pub internal_notes: Option<String>,
    /// How the affiliate is paid, JSON in a string: a secret.
    pub payment_details: Option<String>,
    /// The sponsor (referral program), which may no longer exist.
    pub referred_by: Option<u64>,
    /// The sponsor's share of this affiliate's earnings, in percent.
    pub referral_commission: Decimal,
    /// Managers assigned.
    pub managers_assigned: Vec<u64>,
    /// The network's custom fields.
    pub custom_fields: Map<String, Value>,
    /// Tag labels (tiers are tags: `tier:gold`).
    pub tags: Vec<String>,
    /// An identifier from outside Scaleo (`external_id`).
    pub external_id: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl Affiliate {
    /// The display name: first and last name, or the company.
    pub fn name(&self) -> String {
        let parts: Vec<&str> = [&self.firstname, &self.lastname].into_iter().flatten().map(String::as_str).collect();
        if parts.is_empty() { self.company_name.clone().unwrap_or_else(|| self.email.clone()) } else { parts.join(" ") }
    }

    /// The payment method slug in `payment_details`, when it has one.
    pub fn payment_method(&self) -> Option<String> {
        let details: Value = serde_json::from_str(self.payment_details.as_deref()?).ok()?;
        details.get("method")?.as_str().map(str::to_owned)
    }

    /// As the list and item endpoints write it.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "email": self.email,
            "firstname": text(&self.firstname),
            "lastname": text(&self.lastname),
            "company_name": text(&self.company_name),
            "phone": text(&self.phone),
            "website_url": text(&self.website_url),
            "image": Value::Null,
            "role": "affiliate",
            "status": self.status,
            "api_status": self.api_status,
            "twoFA_enabled": false,
            "country": number(self.country),
            "region": text(&self.region),
            "city": text(&self.city),
            "address": text(&self.address),
            "postal_code": text(&self.postal_code),
            "timezone": text(&self.timezone),
            "contacts": text(&self.contacts),
            "notes": text(&self.notes),
            "internal_notes": text(&self.internal_notes),
            "payment_details": text(&self.payment_details),
            "referred_by": number(self.referred_by),
            "referral_commission": money(self.referral_commission),
            "managers_assigned": self.managers_assigned,
            "custom_fields": self.custom_fields,
            "tags": self.tags,
            "external_id": text(&self.external_id),
            "created_at": iso(&self.created_at),
            "updated_at": iso(&self.updated_at),
        })
    }
}

/// How a goal pays the affiliate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayoutType {
    /// A fixed amount in the offer's currency.
    Fixed,
    /// A percentage of the sale.
    Percent,
}

impl PayoutType {
    /// Its name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            PayoutType::Fixed => "fixed",
            PayoutType::Percent => "percent",
        }
    }

    /// The type named `name`.
    pub fn parse(name: &str) -> Option<PayoutType> {
        match name {
            "fixed" => Some(PayoutType::Fixed),
            "percent" => Some(PayoutType::Percent),
            _ => None,
        }
    }
}

/// A goal of an offer: what a conversion is for, and what it pays.
#[derive(Debug, Clone, PartialEq)]
pub struct Goal {
    /// Its id.
    pub id: u64,
    /// Its name.
    pub title: String,
    /// Its alias, for postbacks.
    pub alias: String,
    /// 1 CPC, 2 CPA, 3 CPL, 4 CPS, 5 CPI.
    pub goal_type: u8,
    /// Fixed or a percentage.
    pub payout_type: PayoutType,
    /// The affiliate's payout (an amount, or a percentage).
    pub payout: Decimal,
    /// The network's revenue (same unit as `payout`).
    pub revenue: Decimal,
    /// The goal a conversion gets when it names none.
    pub is_default: bool,
}

/// The name of a goal type.
pub fn goal_type_name(goal_type: u8) -> &'static str {
    match goal_type {
        1 => "CPC",
        2 => "CPA",
        3 => "CPL",
        4 => "CPS",
        5 => "CPI",
        _ => "Unknown",
    }
}

impl Goal {
    fn to_json(&self, currency: &str) -> Value {
        json!({
            "id": self.id,
            "title": self.title,
            "alias": self.alias,
            "type": self.goal_type,
            "type_name": goal_type_name(self.goal_type),
            "payout_type": self.payout_type.as_str(),
            "payout": money(self.payout),
            "revenue": money(self.revenue),
            "currency": currency,
            "is_default": u8::from(self.is_default),
        })
    }
}

/// A landing page of an offer (an "offer link"); times are Unix seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct LandingPage {
    /// Its id (`link_id` in tracking links).
    pub id: u64,
    /// Its offer.
    pub offer_id: u64,
    /// Its name.
    pub title: String,
    /// Where it lands.
    pub url: String,
    /// 1 active, 2 disabled.
    pub status: u8,
    /// Created, Unix seconds.
    pub created: i64,
    /// Changed, Unix seconds.
    pub updated: i64,
}

impl LandingPage {
    fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "title": self.title,
            "type": 1,
            "url": self.url,
            "preview": self.url,
            "visible_to_all_affiliates": 1,
            "visible_to_specific_affiliates_only": Value::Null,
            "geo_allowed": Value::Null,
            "geo_denied": Value::Null,
            "percent": Value::Null,
            "status": self.status,
            "offer_id": self.offer_id,
            "created": self.created,
            "updated": self.updated,
            "type_selected": Value::Null,
            "rules": [],
        })
    }
}

/// An offer (a program). `status` uses the offer enum: 1 testing, 3 live,
/// 4 inactive; `visible_type` 1 for all, 2 by request, 3 selectively.
#[derive(Debug, Clone, PartialEq)]
pub struct Offer {
    /// Its id.
    pub id: u64,
    /// Its name.
    pub title: String,
    /// Its terms.
    pub description: Option<String>,
    /// 1 testing, 3 live, 4 inactive.
    pub status: u8,
    /// 1 for all, 2 by request, 3 selectively.
    pub visible_type: u8,
    /// The currency its goals pay in.
    pub currency: String,
    /// Cookie lifespan in days.
    pub c_lifespan: Option<u32>,
    /// Where its links land by default.
    pub url: Option<String>,
    /// A preview of the product.
    pub preview_url: Option<String>,
    /// An identifier from outside Scaleo.
    pub external_id: Option<String>,
    /// Its goals; one is the default.
    pub goals: Vec<Goal>,
    /// Its extra landing pages.
    pub links: Vec<LandingPage>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl Offer {
    /// The default goal, or the first.
    pub fn default_goal(&self) -> Option<&Goal> {
        self.goals.iter().find(|goal| goal.is_default).or_else(|| self.goals.first())
    }

    /// As the API writes it.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "title": self.title,
            "description": text(&self.description),
            "status": self.status,
            "visible_type": self.visible_type,
            "currency": self.currency,
            "c_lifespan": self.c_lifespan,
            "url": text(&self.url),
            "preview_url": text(&self.preview_url),
            "tracking_domain": TRACKING_DOMAIN,
            "external_id": text(&self.external_id),
            "goals": self.goals.iter().map(|goal| goal.to_json(&self.currency)).collect::<Vec<_>>(),
            "links_count": self.links.len(),
            "links": self.links.iter().map(LandingPage::to_json).collect::<Vec<_>>(),
            "created_at": iso(&self.created_at),
            "updated_at": iso(&self.updated_at),
        })
    }
}

/// An affiliate's access to an offer, with the tracking link it promotes.
#[derive(Debug, Clone, PartialEq)]
pub struct Access {
    /// Its id.
    pub id: u64,
    /// The offer.
    pub offer_id: u64,
    /// The affiliate.
    pub affiliate_id: u64,
    /// A landing page of the offer, when the link lands on one.
    pub link_id: Option<u64>,
    /// `approved`, `pending` or `rejected`.
    pub status: String,
    /// When it was asked for.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// The tracking link of an offer for an affiliate (and a landing page).
pub fn tracking_link(offer_id: u64, affiliate_id: u64, link_id: Option<u64>) -> String {
    match link_id {
        Some(link) => format!("{TRACKING_DOMAIN}/click?o={offer_id}&a={affiliate_id}&link_id={link}"),
        None => format!("{TRACKING_DOMAIN}/click?o={offer_id}&a={affiliate_id}"),
    }
}

impl Access {
    /// As the API writes it.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "offer_id": self.offer_id,
            "affiliate_id": self.affiliate_id,
            "link_id": number(self.link_id),
            "status": self.status,
            "tracking_link": tracking_link(self.offer_id, self.affiliate_id, self.link_id),
            "created_at": iso(&self.created_at),
            "updated_at": iso(&self.updated_at),
        })
    }
}

/// A promo code that credits an affiliate.
#[derive(Debug, Clone, PartialEq)]
pub struct PromoCode {
    /// Its id.
    pub id: u64,
    /// The code, unique across the network (case aside).
    pub code: String,
    /// The offer it is for; `None` for every offer.
    pub offer_id: Option<u64>,
    /// The affiliate it credits.
    pub affiliate_id: u64,
    /// 1 active, 2 disabled.
    pub status: u8,
    /// `percent` or `fixed`, when the network records the discount.
    pub discount_type: Option<String>,
    /// The discount's value.
    pub discount_value: Option<Decimal>,
    /// The currency of a fixed discount.
    pub currency: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl PromoCode {
    /// As the API writes it.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "code": self.code,
            "offer_id": number(self.offer_id),
            "affiliate_id": self.affiliate_id,
            "status": self.status,
            "discount_type": text(&self.discount_type),
            "discount_value": self.discount_value.map(money),
            "currency": text(&self.currency),
            "created_at": iso(&self.created_at),
            "updated_at": iso(&self.updated_at),
        })
    }
}

/// A click through a tracking link: only the tracker makes them.
#[derive(Debug, Clone, PartialEq)]
pub struct Click {
    /// The click id, 32 hex characters.
    pub transaction_id: String,
    /// When it happened.
    pub added: DateTime<Utc>,
    /// The affiliate.
    pub affiliate_id: u64,
    /// The offer.
    pub offer_id: u64,
    /// The landing page, if not the default.
    pub link_id: Option<u64>,
    /// The creative, if one was used.
    pub creative_id: Option<u64>,
    /// `sub_id1`..`sub_id5`.
    pub sub_ids: [Option<String>; 5],
    /// The affiliate's own click id.
    pub aff_click_id: Option<String>,
    /// A deep link asked for.
    pub deep_link_url: Option<String>,
    /// The visitor's address, as recorded.
    pub ip: Option<String>,
    /// The visitor's country (ISO 3166 alpha-2).
    pub geo: Option<String>,
    /// `desktop`, `mobile`, `tablet`.
    pub device_type: Option<String>,
    /// Operating system.
    pub device_os: Option<String>,
    /// Browser.
    pub browser: Option<String>,
}

/// A conversion's status.
pub const CONVERSION_STATUSES: [&str; 5] = ["approved", "pending", "hold", "rejected", "trash"];

/// A conversion (a transaction): a sale or lead credited to an affiliate.
#[derive(Debug, Clone, PartialEq)]
pub struct Conversion {
    /// Its id, a UUID.
    pub transaction_id: String,
    /// The click it came from, if any.
    pub click_id: Option<String>,
    /// When it happened.
    pub added: DateTime<Utc>,
    /// `approved`, `pending`, `hold`, `rejected` or `trash`.
    pub status: String,
    /// The affiliate credited.
    pub affiliate_id: u64,
    /// The offer.
    pub offer_id: u64,
    /// The goal reached.
    pub goal_id: u64,
    /// The currency of its amounts, as recorded (an old import may hold
    /// codes that are not ISO 4217).
    pub currency: String,
    /// The sale's amount.
    pub amount: Decimal,
    /// The affiliate's payout.
    pub payout: Decimal,
    /// The network's revenue.
    pub revenue: Decimal,
    /// The advertiser's order id.
    pub advertiser_order_id: Option<String>,
    /// The advertiser's user id.
    pub advertiser_user_id: Option<String>,
    /// The advertiser's tracking id (`adv_track_id`).
    pub advertiser_track_id: Option<String>,
    /// The affiliate's own click id.
    pub aff_click_id: Option<String>,
    /// The promo code used.
    pub promo_code: Option<String>,
    /// `sub_id1`..`sub_id5`.
    pub sub_ids: [Option<String>; 5],
    /// The invoice it was billed on.
    pub invoice_id: Option<u64>,
    /// Notes from the last status change.
    pub notes: Option<String>,
}

/// An affiliate invoice (a payout). `status`: `draft`, `unpaid`, `paid`,
/// `canceled`.
#[derive(Debug, Clone, PartialEq)]
pub struct Invoice {
    /// Its id.
    pub id: u64,
    /// Its number, e.g. `INV-2026-00042`.
    pub invoice_number: String,
    /// Its date.
    pub date: NaiveDate,
    /// `draft`, `unpaid`, `paid` or `canceled`.
    pub status: String,
    /// The amount.
    pub amount: Decimal,
    /// The amount's currency.
    pub currency: String,
    /// Referral earnings included.
    pub referral_commission: Decimal,
    /// First day billed.
    pub start_date: NaiveDate,
    /// Last day billed.
    pub end_date: NaiveDate,
    /// The affiliate paid.
    pub affiliate_id: u64,
    /// Shown to the affiliate.
    pub invoice_memo: Option<String>,
    /// Shown to managers only.
    pub internal_notes: Option<String>,
    /// When it was marked paid.
    pub paid_at: Option<DateTime<Utc>>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// The payment methods a network offers: (id, slug in `payment_details`,
/// title).
pub const PAYMENT_METHODS: [(u64, &str, &str); 5] = [
    (1, "paypal", "PayPal"),
    (2, "bank_transfer", "Bank Transfer (SEPA)"),
    (3, "wire", "International Wire"),
    (4, "payoneer", "Payoneer"),
    (5, "crypto", "USDT (TRC-20)"),
];

impl Invoice {
    /// As the API writes it; `affiliate` is the affiliate paid, if it exists.
    pub fn to_json(&self, affiliate: Option<&Affiliate>) -> Value {
        let method = affiliate
            .and_then(Affiliate::payment_method)
            .and_then(|slug| PAYMENT_METHODS.iter().find(|(_, known, _)| *known == slug));
        let payment_method = method.map_or(Value::Null, |(id, _, title)| {
            json!({"id": id, "title": title, "image": Value::Null, "info": Value::Null,
                   "metadata": {"show_warning": false, "changed_at": Value::Null, "changed_by": Value::Null}})
        });
        json!({
            "id": self.id,
            "invoice_number": self.invoice_number,
            "date": self.date.to_string(),
            "status": self.status,
            "amount": {"value": money(self.amount), "currency": self.currency},
            "referral_commission": {"value": money(self.referral_commission), "currency": self.currency},
            "period": {"start_date": self.start_date.to_string(), "end_date": self.end_date.to_string()},
            "attachment": Value::Null,
            "invoice_memo": text(&self.invoice_memo),
            "internal_notes": text(&self.internal_notes),
            "affiliate": {"id": self.affiliate_id, "name": affiliate.map(Affiliate::name)},
            "affiliate_id": self.affiliate_id,
            "payment_method": payment_method,
            "offers": [],
            "goal_types": [],
            "paid_at": self.paid_at.as_ref().map(iso),
            "created_at": iso(&self.created_at),
            "updated_at": iso(&self.updated_at),
        })
    }
}

/// Everything an emulator holds.
#[derive(Debug, Clone, Default)]
pub(crate) struct Store {
    /// The network manager's key (`/api/v2/network/...`).
    pub(crate) network_key: String,
    /// An affiliate's key (`/api/v2/affiliate/...`), for the role check.
    pub(crate) affiliate_key: String,
    /// The affiliate that key belongs to.
    pub(crate) key_affiliate_id: u64,
    /// A manager key whose user has `api_status` 2 (disabled): refused.
    pub(crate) disabled_key: String,
    pub(crate) affiliates: BTreeMap<u64, Affiliate>,
    pub(crate) offers: BTreeMap<u64, Offer>,
    pub(crate) access: BTreeMap<u64, Access>,
    pub(crate) promo_codes: BTreeMap<u64, PromoCode>,
    pub(crate) clicks: Vec<Click>,
    pub(crate) conversions: Vec<Conversion>,
    pub(crate) invoices: BTreeMap<u64, Invoice>,
    /// The next id of each kind of resource.
    pub(crate) next_id: NextIds,
    /// A counter for conversions created through the API (their UUIDs).
    pub(crate) created_conversions: u64,
}

/// The next id of each kind of resource: ids are never reused.
#[derive(Debug, Clone, Default)]
pub(crate) struct NextIds {
    pub(crate) affiliate: u64,
    pub(crate) offer: u64,
    pub(crate) goal: u64,
    pub(crate) link: u64,
    pub(crate) access: u64,
    pub(crate) promo_code: u64,
    pub(crate) invoice: u64,
}

impl NextIds {
    /// Takes the next id from `counter`.
    pub(crate) fn take(counter: &mut u64) -> u64 {
        *counter += 1;
        *counter
    }
}

impl Store {
    /// The affiliate with `email`, case aside.
    pub(crate) fn affiliate_by_email(&self, email: &str) -> Option<&Affiliate> {
        self.affiliates.values().find(|affiliate| affiliate.email.eq_ignore_ascii_case(email))
    }

    /// The offer and goal a goal id names.
    pub(crate) fn goal(&self, goal_id: u64) -> Option<(&Offer, &Goal)> {
        self.offers
            .values()
            .find_map(|offer| offer.goals.iter().find(|goal| goal.id == goal_id).map(|goal| (offer, goal)))
    }

    /// A report row of `click` with every column.
    pub(crate) fn click_row(&self, click: &Click) -> Map<String, Value> {
        let mut row = Map::new();
        row.insert("transaction_id".into(), click.transaction_id.clone().into());
        row.insert("added_timestamp".into(), click.added.timestamp().into());
        row.insert("affiliate".into(), self.affiliate_ref(click.affiliate_id));
        row.insert("offer".into(), self.offer_ref(click.offer_id));
        row.insert("link".into(), self.link_ref(click.offer_id, click.link_id));
        row.insert("creative".into(), click.creative_id.map_or(Value::Null, |id| json!({"id": id})));
        row.insert("payout".into(), money(Decimal::ZERO).into());
        for (index, sub_id) in click.sub_ids.iter().enumerate() {
            row.insert(format!("sub_id{}", index + 1), text(sub_id));
        }
        for index in 1..=5 {
            row.insert(format!("aff_param{index}"), Value::Null);
        }
        row.insert("aff_click_id".into(), text(&click.aff_click_id));
        row.insert("deep_link_url".into(), text(&click.deep_link_url));
        row.insert("ip".into(), text(&click.ip));
        row.insert("geo".into(), click.geo.as_ref().map_or(Value::Null, |code| json!({"code": code})));
        row.insert("device_type".into(), text(&click.device_type));
        row.insert("device_os".into(), text(&click.device_os));
        row.insert("browser".into(), text(&click.browser));
        row
    }

    /// A report row of `conversion` with every column.
    pub(crate) fn conversion_row(&self, conversion: &Conversion) -> Map<String, Value> {
        let goal = self.goal(conversion.goal_id).map(|(_, goal)| goal);
        let mut row = Map::new();
        row.insert("transaction_id".into(), conversion.transaction_id.clone().into());
        row.insert("click_id".into(), text(&conversion.click_id));
        row.insert("added_timestamp".into(), conversion.added.timestamp().into());
        row.insert("conversion_status".into(), conversion.status.clone().into());
        row.insert("affiliate".into(), self.affiliate_ref(conversion.affiliate_id));
        row.insert("offer".into(), self.offer_ref(conversion.offer_id));
        row.insert("goal".into(), goal.map_or(Value::Null, |goal| json!({"id": goal.id, "title": goal.title})));
        row.insert("goal_type".into(), goal.map_or(Value::Null, |goal| Value::from(goal_type_name(goal.goal_type))));
        row.insert("currency".into(), conversion.currency.clone().into());
        row.insert("advertiser_amount".into(), money(conversion.amount).into());
        row.insert("payout".into(), money(conversion.payout).into());
        row.insert("revenue".into(), money(conversion.revenue).into());
        row.insert("advertiser_order_id".into(), text(&conversion.advertiser_order_id));
        row.insert("advertiser_user_id".into(), text(&conversion.advertiser_user_id));
        row.insert("advertiser_track_id".into(), text(&conversion.advertiser_track_id));
        row.insert("aff_click_id".into(), text(&conversion.aff_click_id));
        row.insert("promo_code".into(), text(&conversion.promo_code));
        for (index, sub_id) in conversion.sub_ids.iter().enumerate() {
            row.insert(format!("sub_id{}", index + 1), text(sub_id));
        }
        row.insert("invoice_id".into(), number(conversion.invoice_id));
        row.insert("notes".into(), text(&conversion.notes));
        row
    }

    fn affiliate_ref(&self, id: u64) -> Value {
        json!({"id": id, "name": self.affiliates.get(&id).map(Affiliate::name)})
    }

    fn offer_ref(&self, id: u64) -> Value {
        json!({"id": id, "title": self.offers.get(&id).map(|offer| offer.title.clone())})
    }

    fn link_ref(&self, offer_id: u64, link_id: Option<u64>) -> Value {
        let Some(link_id) = link_id else { return Value::Null };
        let title = self
            .offers
            .get(&offer_id)
            .and_then(|offer| offer.links.iter().find(|link| link.id == link_id))
            .map(|link| link.title.clone());
        json!({"id": link_id, "title": title})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_has_four_decimal_places() {
        assert_eq!(money(Decimal::new(125, 1)), "12.5000");
        assert_eq!(money(Decimal::new(1200, 0)), "1200.0000");
        assert_eq!(money(Decimal::new(-5, 2)), "-0.0500");
    }

    #[test]
    fn tracking_links_carry_offer_affiliate_and_landing_page() {
        assert_eq!(tracking_link(12, 345, None), "https://nordlight.scaletrk.com/click?o=12&a=345");
        assert_eq!(tracking_link(12, 345, Some(7)), "https://nordlight.scaletrk.com/click?o=12&a=345&link_id=7");
    }
}
