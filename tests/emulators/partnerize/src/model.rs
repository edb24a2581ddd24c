//! What the emulated account holds: one network with one brand
//! (advertiser), its partners (publishers), campaigns and participations,
//! commission groups, payment details, links, voucher codes, clicks,
//! conversions with items, transaction queries, self-bills and jobs.
//!
//! Money is kept in minor units with its currency's exponent, so amounts
//! render exactly (`1200` yen, `49.95` euros) and a messy record can hold
//! one with too many decimals on purpose (`scale` above the currency's).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

/// `YYYY-MM-DD HH:MM:SS`, the v1 date format (UTC here).
pub fn v1_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// ISO 8601 with an offset (`2019-03-01T12:01:00+00:00`), the v2 and v3 format.
pub fn iso_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
}

/// Reads a v1 date (`YYYY-MM-DD HH:MM:SS`, `YYYY-MM-DD HH:MM` or `YYYY-MM-DD`).
pub fn parse_v1_time(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    for format in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(naive) = chrono::NaiveDateTime::parse_from_str(text, format) {
            return Some(naive.and_utc());
        }
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|day| day.and_hms_opt(0, 0, 0))
        .map(|at| at.and_utc())
}

/// An exact amount: `units` of 10^-`scale` of `currency`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Amount {
    /// The amount in units of 10^-scale.
    pub units: i64,
    /// Digits after the decimal point.
    pub scale: u32,
}

impl Amount {
    /// `units` hundredths.
    pub fn cents(units: i64) -> Amount {
        Amount { units, scale: 2 }
    }

    /// A whole amount.
    pub fn whole(units: i64) -> Amount {
        Amount { units, scale: 0 }
    }

    /// Zero.
    pub const ZERO: Amount = Amount { units: 0, scale: 0 };

    /// The amount as a JSON number, written exactly (`49.95`, `1200`).
    pub fn to_json(self) -> Value {
        let text = self.to_string();
        text.parse::<i64>().map(Value::from).or_else(|_| text.parse::<f64>().map(Value::from)).unwrap_or(Value::Null)
    }

    /// Reads a JSON number or numeric string exactly.
    pub fn from_json(value: &Value) -> Option<Amount> {
        let text = match value {
            Value::Number(number) => number.to_string(),
            Value::String(text) => text.trim().to_owned(),
            _ => return None,
        };
        Amount::parse(&text)
    }

    /// Reads `12`, `-3.5`, `0.001`.
    pub fn parse(text: &str) -> Option<Amount> {
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        if whole.is_empty()
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || !fraction.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let scale = u32::try_from(fraction.len()).ok()?;
        let units: i64 = format!("{whole}{fraction}").parse().ok()?;
        Some(Amount { units: if negative { -units } else { units }, scale })
    }

    /// The sum of two amounts, at the larger scale.
    pub fn plus(self, other: Amount) -> Amount {
        let scale = self.scale.max(other.scale);
        let lift = |amount: Amount| amount.units.saturating_mul(10_i64.saturating_pow(scale - amount.scale));
        Amount { units: lift(self).saturating_add(lift(other)), scale }
    }
}

impl std::fmt::Display for Amount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.units < 0 { "-" } else { "" };
        let digits = self.units.unsigned_abs().to_string();
        if self.scale == 0 {
            return write!(f, "{sign}{digits}");
        }
        let scale = self.scale as usize;
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (whole, fraction) = padded.split_at(padded.len() - scale);
        write!(f, "{sign}{whole}.{fraction}")
    }
}

/// A partner (publisher) on the network.
#[derive(Debug, Clone, PartialEq)]
pub struct Publisher {
    /// `1l1007802`.
    pub publisher_id: String,
    /// The account's name; required.
    pub account_name: String,
    /// Trading name.
    pub company_name: Option<String>,
    /// The contact person.
    pub contact_name: Option<String>,
    /// Where Partnerize writes to the partner; required on create.
    pub contact_email: Option<String>,
    /// `en`, `de`, …
    pub contact_locale: Option<String>,
    /// `GBP`, `USD`, `EUR`, `JPY`.
    pub default_currency: Option<String>,
    /// Network membership: `a`, `p`, `r`, `n`.
    pub network_status: String,
    /// ISO country.
    pub operating_country: Option<String>,
    /// Promotional method id.
    pub promotional_method: u32,
    /// Vertical id.
    pub vertical: u32,
    /// The partner's identifier in the network's own reports.
    pub reporting_identifier: Option<String>,
    /// The partner's id in another system.
    pub foreign_identifier: Option<String>,
    /// IANA zone.
    pub reporting_timezone: Option<String>,
    /// Where it signed up from.
    pub signup_ip: String,
    /// Phone number.
    pub phone: Option<String>,
    /// Terms accepted at sign-up.
    pub entity_terms_id: Option<String>,
    /// The network's notes on the partner.
    pub network_notes: Option<String>,
    /// Its websites.
    pub websites: Vec<String>,
    /// When it was created.
    pub created: DateTime<Utc>,
    /// When it last changed.
    pub last_modified: DateTime<Utc>,
}

const VERTICALS: [&str; 4] = ["Other", "Retail", "Travel", "Finance"];
const PROMOTIONAL_METHODS: [&str; 5] = ["Other", "PPC", "Content", "Voucher", "Cashback"];

impl Publisher {
    /// The v1 publisher object (`GET /user/publisher/{id}`, the network list).
    pub fn to_v1(&self, network_id: &str) -> Value {
        let websites: Vec<Value> = self
            .websites
            .iter()
            .enumerate()
            .map(|(index, url)| {
                json!({"publisher_id": self.publisher_id, "website_url": url, "primary": if index == 0 { "y" } else { "n" }, "active": "y"})
            })
            .collect();
        json!({
            "publisher_id": self.publisher_id,
            "account_name": self.account_name,
            "company_name": self.company_name,
            "contact_name": self.contact_name,
            "contact_email": self.contact_email,
            "contact_locale": self.contact_locale,
            "default_currency": self.default_currency,
            "network_id": network_id,
            "network_status": self.network_status,
            "operating_country": self.operating_country,
            "promotional_method": self.promotional_method,
            "promotional_method_name": PROMOTIONAL_METHODS.get(self.promotional_method as usize).copied().unwrap_or("Other"),
            "vertical": self.vertical,
            "vertical_name": VERTICALS.get(self.vertical as usize).copied().unwrap_or("Other"),
            "reporting_identifier": self.reporting_identifier,
            "foreign_identifier": self.foreign_identifier,
            "reporting_timezone": self.reporting_timezone,
            "signup_ip": self.signup_ip,
            "phone": self.phone,
            "network_notes": self.network_notes,
            "legal_entity": self.operating_country,
            "vat_number": null,
            "created": v1_time(self.created),
            "last_modified": v1_time(self.last_modified),
            "websites": websites,
            "databases": [],
        })
    }

    /// The v2 publisher resource, with the fields asked for (`fields=`; all
    /// when none are named).
    pub fn to_v2(&self, network_id: &str, fields: &[String]) -> Value {
        let all = json!({
            "id": self.publisher_id,
            "name": self.account_name,
            "company_name": self.company_name,
            "contact_name": self.contact_name,
            "contact_email": self.contact_email,
            "default_currency": self.default_currency,
            "locale": self.contact_locale,
            "operating_country": self.operating_country,
            "phone_number": self.phone,
            "promotional_method": self.promotional_method,
            "vertical": self.vertical,
            "reporting_identifier": self.reporting_identifier,
            "network_id": network_id,
            "network_notes": self.network_notes,
            "signup_ip": self.signup_ip,
            "account_created": iso_time(self.created),
            "websites": self.websites,
        });
        if fields.is_empty() {
            return all;
        }
        let picked: serde_json::Map<String, Value> =
            fields.iter().filter_map(|field| Some((field.clone(), all.get(field)?.clone()))).collect();
        Value::Object(picked)
    }
}

/// A campaign of the brand.
#[derive(Debug, Clone, PartialEq)]
pub struct Campaign {
    /// `10l176`.
    pub campaign_id: String,
    /// Its title.
    pub title: String,
    /// `a` active, `r` retired.
    pub status: String,
    /// `GBP`, `USD`, `EUR`, `JPY`.
    pub default_currency: String,
    /// Days a click is credited.
    pub cookie_period: u32,
    /// A percentage, as a string (`"5"`), when the default is a rate.
    pub default_commission_rate: Option<String>,
    /// A fixed amount, as a string, when the default is a value.
    pub default_commission_value: Option<String>,
    /// Where links land.
    pub destination_url: Option<String>,
    /// `{"en": "…"}`.
    pub description: Option<String>,
    /// IANA zone.
    pub reporting_timezone: String,
    /// When it was created.
    pub created: DateTime<Utc>,
    /// When it last changed.
    pub last_modified: DateTime<Utc>,
}

impl Campaign {
    /// The v1 campaign object.
    pub fn to_v1(&self, advertiser_id: &str) -> Value {
        json!({
            "campaign_id": self.campaign_id,
            "advertiser_id": advertiser_id,
            "title": self.title,
            "status": self.status,
            "default_currency": self.default_currency,
            "cookie_period": self.cookie_period,
            "default_commission_rate": self.default_commission_rate,
            "default_commission_value": self.default_commission_value,
            "destination_url": self.destination_url,
            "description": self.description.as_ref().map(|text| json!({"en": text})),
            "auto_approve_publisher": "y",
            "allow_deep_linking": "y",
            "conversion_type": "sale",
            "multiple_conversions_per_click": "n",
            "unique_conversion_refs": "y",
            "tracking_method": "s2s",
            "reporting_timezone": self.reporting_timezone,
            "hidden_campaign": "n",
            "test_mode": "n",
            "tq_enabled": "y",
            "tq_auto_approve": 60,
            "created": v1_time(self.created),
            "last_modified": v1_time(self.last_modified),
        })
    }

    /// The v3 campaign resource.
    pub fn to_v3(&self, advertiser_id: &str) -> Value {
        json!({
            "campaign_id": self.campaign_id,
            "advertiser_id": advertiser_id,
            "title": self.title,
            "status": self.status,
            "default_currency": self.default_currency,
            "cookie_period": self.cookie_period,
            "default_commission_rate": self.default_commission_rate,
            "default_commission_value": self.default_commission_value,
            "destination_url": self.destination_url,
            "description": self.description.as_ref().map(|text| json!({"en": text})),
            "reporting_timezone": self.reporting_timezone,
            "created_at": iso_time(self.created),
            "updated_at": iso_time(self.last_modified),
        })
    }
}

/// A partner's membership of a campaign.
#[derive(Debug, Clone, PartialEq)]
pub struct Participation {
    /// The campaign.
    pub campaign_id: String,
    /// The partner.
    pub publisher_id: String,
    /// `a`, `p`, `r`, `t`.
    pub campaign_status: String,
    /// The partner's tracking reference on the campaign.
    pub camref: String,
    /// When the status was last set.
    pub updated: DateTime<Utc>,
}

/// A commission group (Partnerize's partner groups), per campaign.
#[derive(Debug, Clone, PartialEq)]
pub struct CommissionGroup {
    /// `1l1000042`.
    pub commission_group_id: String,
    /// The campaign.
    pub campaign_id: String,
    /// Its name (`Gold`).
    pub name: String,
    /// What it is for.
    pub description: Option<String>,
    /// Its members.
    pub publishers: Vec<String>,
}

impl CommissionGroup {
    /// The group as v1 and v3 write it.
    pub fn to_json(&self) -> Value {
        json!({
            "commission_group_id": self.commission_group_id,
            "campaign_id": self.campaign_id,
            "name": self.name,
            "description": self.description,
            "start_date_time": null,
            "end_date_time": null,
            "publishers": self.publishers,
        })
    }
}

/// A partner's payment details (a set).
#[derive(Debug, Clone, PartialEq)]
pub struct PaymentDetail {
    /// `publisher_payment_detail_set_id`.
    pub set_id: String,
    /// The partner.
    pub publisher_id: String,
    /// ISO country.
    pub country: Option<String>,
    /// The currency paid in.
    pub paid_currency: Option<String>,
    /// `eft`, `paypal`, …
    pub payment_type_code: String,
    /// `y`/`n`.
    pub suspended: String,
    /// `bank_address`, `account_number`, `account_name`, `bank_name`,
    /// `routing_number`: secrets.
    pub values: BTreeMap<String, String>,
}

impl PaymentDetail {
    /// The set as the API writes it.
    pub fn to_json(&self) -> Value {
        let name = match self.payment_type_code.as_str() {
            "eft" => "Electronic funds transfer",
            "paypal" => "PayPal",
            "cheque" => "Cheque",
            _ => "Other",
        };
        json!({
            "publisher_payment_detail_set_id": self.set_id,
            "publisher_id": self.publisher_id,
            "country": self.country,
            "paid_currency": self.paid_currency,
            "tracked_currency": [],
            "payment_type_code": self.payment_type_code,
            "payment_type_name": name,
            "suspended": self.suspended,
            "automatic_self_bill_creation_date": "-1",
            "automatic_self_bill_creation_threshold": "-1",
            "payment_detail_values": self.values,
        })
    }
}

/// A partner's short link.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    /// `1011l10`.
    pub id: String,
    /// The partner.
    pub publisher_id: String,
    /// The campaign.
    pub campaign_id: String,
    /// Free text.
    pub description: Option<String>,
    /// Where it lands, when not the campaign's.
    pub destination_url: Option<String>,
    /// `[{key, value}]`, appended to the link.
    pub params: Vec<(String, String)>,
    /// Whether it tracks.
    pub active: bool,
    /// The short code.
    pub code: String,
    /// The partner's camref on the campaign.
    pub camref: String,
}

impl Link {
    /// The full tracking URL: camref, then pubref, adref, destination.
    pub fn tracking_url(&self) -> String {
        let mut url = format!("https://prf.hn/click/camref:{}", self.camref);
        for key in ["pubref", "adref"] {
            if let Some((_, value)) = self.params.iter().find(|(name, _)| name == key) {
                url.push_str(&format!("/{key}:{value}"));
            }
        }
        if let Some(destination) = &self.destination_url {
            url.push_str(&format!("/destination:{destination}"));
        }
        url
    }

    /// The v2 link object.
    pub fn to_json(&self) -> Value {
        let params: Vec<Value> = self.params.iter().map(|(key, value)| json!({"key": key, "value": value})).collect();
        json!({
            "id": self.id,
            "campaign_id": self.campaign_id,
            "description": self.description,
            "destination_url": self.destination_url,
            "tracking_short_url": format!("https://prf.hn/l/{}", self.code),
            "tracking_url": self.tracking_url(),
            "params": params,
            "active": self.active,
        })
    }
}

/// A voucher code of a campaign, credited to a partner.
#[derive(Debug, Clone, PartialEq)]
pub struct Voucher {
    /// `voucher_code_id`.
    pub voucher_code_id: String,
    /// The campaign.
    pub campaign_id: String,
    /// The partner credited, if any.
    pub publisher_id: Option<String>,
    /// The code as shoppers type it.
    pub voucher_code: String,
    /// Free text.
    pub description: Option<String>,
    /// `y`/`n`.
    pub active: String,
    /// When it was created.
    pub created: DateTime<Utc>,
    /// When it last changed.
    pub last_modified: DateTime<Utc>,
}

impl Voucher {
    /// The v1 voucher object.
    pub fn to_json(&self) -> Value {
        json!({
            "voucher_code_id": self.voucher_code_id,
            "campaign_id": self.campaign_id,
            "publisher_id": self.publisher_id,
            "voucher_code": self.voucher_code,
            "description": self.description,
            "active": self.active,
            "start_date": null,
            "end_date": null,
            "created": v1_time(self.created),
            "last_modified": v1_time(self.last_modified),
        })
    }
}

/// A click through prf.hn.
#[derive(Debug, Clone, PartialEq)]
pub struct Click {
    /// The click id.
    pub click_id: String,
    /// The campaign.
    pub campaign_id: String,
    /// The partner.
    pub publisher_id: String,
    /// The partner's name, denormalised as the report does.
    pub publisher_name: String,
    /// When it happened.
    pub set_time: DateTime<Utc>,
    /// The visitor's address.
    pub set_ip: Option<String>,
    /// The page the visitor came from.
    pub referer: Option<String>,
    /// The partner's reference (pubref).
    pub clickref: Option<String>,
    /// The brand's reference (adref).
    pub advertiser_reference: Option<String>,
    /// ISO country.
    pub country: Option<String>,
}

impl Click {
    /// The report's `click` object.
    pub fn to_json(&self) -> Value {
        json!({
            "click_id": self.click_id,
            "device_id": null,
            "campaign_id": self.campaign_id,
            "publisher_id": self.publisher_id,
            "publisher_name": self.publisher_name,
            "type": "standard",
            "status": "nibbled",
            "set_time": v1_time(self.set_time),
            "set_ip": self.set_ip,
            "last_used": v1_time(self.set_time),
            "last_ip": self.set_ip,
            "advertiser_reference": self.advertiser_reference,
            "referer": self.referer,
            "creative_id": null,
            "creative_type": null,
            "specific_creative_id": null,
            "country": self.country,
            "ref_device_id": 2,
            "ref_traffic_source_id": 1,
            "ref_partnership_model_id": 1,
            "ref_user_context_id": 1,
            "clickref": self.clickref,
        })
    }
}

/// One item of a conversion.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversionItem {
    /// `conversion_item_id`.
    pub conversion_item_id: String,
    /// The product.
    pub sku: Option<String>,
    /// Its category.
    pub category: Option<String>,
    /// Its value.
    pub item_value: Amount,
    /// The brand's cost for it.
    pub item_commission: Amount,
    /// The partner's share.
    pub item_publisher_commission: Amount,
    /// `approved`, `pending`, `rejected`.
    pub item_status: String,
    /// Why it was rejected.
    pub reject_reason: Option<String>,
    /// When it was approved.
    pub approved_at: Option<DateTime<Utc>>,
    /// The brand invoice it is on.
    pub invoice_id: Option<String>,
    /// Whether the partner was paid for it (self-bill paid).
    pub paid: bool,
    /// When it last changed.
    pub last_update: DateTime<Utc>,
}

/// A conversion (a sale) with its items.
#[derive(Debug, Clone, PartialEq)]
pub struct Conversion {
    /// `111111l10`.
    pub conversion_id: String,
    /// The campaign.
    pub campaign_id: String,
    /// The partner credited.
    pub publisher_id: String,
    /// When it happened.
    pub conversion_time: DateTime<Utc>,
    /// The currency, as the brand sent it (may be messy).
    pub currency: String,
    /// The order id.
    pub conversion_reference: String,
    /// The brand's reference.
    pub advertiser_reference: Option<String>,
    /// The shopper's id at the brand.
    pub customer_reference: Option<String>,
    /// `new`, `existing`.
    pub customer_type: Option<String>,
    /// ISO country.
    pub country: Option<String>,
    /// The partner's reference (pubref) carried from the click.
    pub clickref: Option<String>,
    /// The click it came from.
    pub click_id: Option<String>,
    /// Whether it was disputed.
    pub was_disputed: bool,
    /// The overall status: `approved`, `pending`, `rejected`.
    pub conversion_status: String,
    /// Its items.
    pub items: Vec<ConversionItem>,
    /// When it last changed.
    pub last_modified: DateTime<Utc>,
}

impl Conversion {
    /// The conversion's value: the sum of its items'.
    pub fn value(&self) -> Amount {
        self.items.iter().fold(Amount::ZERO, |sum, item| sum.plus(item.item_value))
    }

    /// The brand's cost.
    pub fn commission(&self) -> Amount {
        self.items.iter().fold(Amount::ZERO, |sum, item| sum.plus(item.item_commission))
    }

    /// The partner's share.
    pub fn publisher_commission(&self) -> Amount {
        self.items.iter().fold(Amount::ZERO, |sum, item| sum.plus(item.item_publisher_commission))
    }

    /// Sets every item's status and the conversion's.
    pub fn set_status(&mut self, status: &str, reason: Option<&str>, now: DateTime<Utc>) {
        for item in &mut self.items {
            item.item_status = status.to_owned();
            item.reject_reason = if status == "rejected" { reason.map(str::to_owned) } else { None };
            item.approved_at = (status == "approved").then_some(item.approved_at.unwrap_or(now));
            item.last_update = now;
        }
        self.conversion_status = status.to_owned();
        self.last_modified = now;
    }

    /// Recomputes the conversion's status from its items': approved when
    /// any is, else pending when any is, else rejected.
    pub fn settle_status(&mut self) {
        let any = |status: &str| self.items.iter().any(|item| item.item_status == status);
        self.conversion_status = if any("approved") {
            "approved"
        } else if any("pending") {
            "pending"
        } else {
            "rejected"
        }
        .to_owned();
    }

    /// The report's `conversion_data`, with payment info when asked.
    pub fn to_json(&self, click: Option<&Click>, payment_info: bool) -> Value {
        let items: Vec<Value> = self
            .items
            .iter()
            .map(|item| {
                let mut value = json!({
                    "conversion_item_id": item.conversion_item_id,
                    "sku": item.sku,
                    "category": item.category,
                    "item_value": item.item_value.to_json(),
                    "item_commission": item.item_commission.to_json(),
                    "item_publisher_commission": item.item_publisher_commission.to_json(),
                    "item_status": item.item_status,
                    "item_status_id": match item.item_status.as_str() { "approved" => 2, "rejected" => 3, _ => 1 },
                    "reject_reason": item.reject_reason,
                    "approved_at": item.approved_at.map(v1_time),
                    "invoice_id": item.invoice_id,
                    "last_update": v1_time(item.last_update),
                    "display_to_publisher": "y",
                    "voucher_codes": [],
                    "meta_data": {},
                });
                if payment_info && let Some(object) = value.as_object_mut() {
                    object.insert("payment_status".into(), Value::from(if item.paid { "paid" } else { "unpaid" }));
                }
                value
            })
            .collect();
        let mut data = json!({
            "conversion_id": self.conversion_id,
            "campaign_id": self.campaign_id,
            "publisher_id": self.publisher_id,
            "conversion_time": v1_time(self.conversion_time),
            "currency": self.currency,
            "conversion_reference": self.conversion_reference,
            "advertiser_reference": self.advertiser_reference,
            "customer_reference": self.customer_reference,
            "customer_type": self.customer_type,
            "country": self.country,
            "conversion_type": 1,
            "last_modified": v1_time(self.last_modified),
            "conversion_lag": click.map(|click| (self.conversion_time - click.set_time).num_seconds()),
            "clickref": self.clickref,
            "was_disputed": if self.was_disputed { "y" } else { "n" },
            "currency_original": self.currency,
            "currency_conversion_rate": 1,
            "meta_data": {},
            "click": click.map(Click::to_json),
            "conversion_value": {
                "conversion_value_id": format!("{}v", self.conversion_id),
                "conversion_status": self.conversion_status,
                "value": self.value().to_json(),
                "commission": self.commission().to_json(),
                "publisher_commission": self.publisher_commission().to_json(),
            },
            "conversion_items": items,
        });
        if payment_info && let Some(object) = data.as_object_mut() {
            let paid = !self.items.is_empty() && self.items.iter().all(|item| item.paid);
            object.insert("payment_status".into(), Value::from(if paid { "paid" } else { "unpaid" }));
            object.insert("invoice_create_date".into(), Value::Null);
            object.insert("invoice_paid_date".into(), Value::Null);
        }
        data
    }
}

/// A transaction query: a partner's claim about a sale.
#[derive(Debug, Clone, PartialEq)]
pub struct TransactionQuery {
    /// `transaction_query_id`.
    pub transaction_query_id: String,
    /// `untracked`, `incorrect_commission`.
    pub transaction_query_type: String,
    /// The campaign (from the camref).
    pub campaign_id: String,
    /// The partner.
    pub publisher_id: String,
    /// The camref it was raised with.
    pub camref: String,
    /// The order id.
    pub conversion_reference: String,
    /// The sale's value.
    pub conversion_value: Option<Amount>,
    /// Its currency.
    pub conversion_currency: Option<String>,
    /// When the sale happened.
    pub conversion_date_time: Option<DateTime<Utc>>,
    /// What the partner expects to earn.
    pub expected_commission: Amount,
    /// The partner's reference.
    pub publisher_reference: Option<String>,
    /// Free text.
    pub notes: Option<String>,
    /// `pending`, `approved`, `rejected`.
    pub current_state: String,
    /// The conversion it created or concerns.
    pub conversion_id: Option<String>,
    /// When it was raised.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl TransactionQuery {
    /// The v1 `transaction_query` object.
    pub fn to_json(&self) -> Value {
        json!({
            "transaction_query_id": self.transaction_query_id,
            "transaction_query_type": self.transaction_query_type,
            "campaign_id": self.campaign_id,
            "publisher_id": self.publisher_id,
            "camref": self.camref,
            "conversion_reference": self.conversion_reference,
            "conversion_value": self.conversion_value.map(Amount::to_json),
            "conversion_currency": self.conversion_currency,
            "conversion_date_time": self.conversion_date_time.map(v1_time),
            "expected_commission": self.expected_commission.to_json(),
            "publisher_reference": self.publisher_reference,
            "notes": self.notes,
            "current_state": self.current_state,
            "conversion_id": self.conversion_id,
            "created_at": v1_time(self.created_at),
            "updated_at": v1_time(self.updated_at),
        })
    }
}

/// A self-bill: what Partnerize paid (or will pay) a partner.
#[derive(Debug, Clone, PartialEq)]
pub struct SelfBill {
    /// `publisher_self_bill_id`.
    pub publisher_self_bill_id: String,
    /// The partner.
    pub publisher_id: String,
    /// `pending`, `processing`, `paid`, `failed`, `cancelled`.
    pub status: String,
    /// Before tax.
    pub net_value: Amount,
    /// Tax.
    pub vat_value: Amount,
    /// Tax withheld.
    pub withheld_tax: Amount,
    /// Items billed.
    pub items_in_bill: u32,
    /// The currency tracked in.
    pub tracked_currency: String,
    /// The currency paid in.
    pub paid_currency: String,
    /// When it was paid.
    pub payment_date: Option<DateTime<Utc>>,
    /// The payment run.
    pub payment_batch_id: Option<String>,
    /// When it was created.
    pub created: DateTime<Utc>,
}

impl SelfBill {
    /// The v1 `selfbill` object.
    pub fn to_json(&self) -> Value {
        json!({
            "publisher_self_bill_id": self.publisher_self_bill_id,
            "self_bill_reference": format!("S-{}-{}", self.publisher_id, self.publisher_self_bill_id),
            "publisher_id": self.publisher_id,
            "status": self.status,
            "net_value": self.net_value.to_json(),
            "vat_value": self.vat_value.to_json(),
            "total_value": self.net_value.plus(self.vat_value).to_json(),
            "withheld_tax": self.withheld_tax.to_json(),
            "items_in_bill": self.items_in_bill,
            "tracked_currency": self.tracked_currency,
            "paid_currency": self.paid_currency,
            "payment_date": self.payment_date.map(v1_time),
            "payment_batch_id": self.payment_batch_id,
            "legal_entity": "GB",
            "created": v1_time(self.created),
        })
    }
}

/// What a job does when it runs.
#[derive(Debug, Clone, PartialEq)]
pub enum JobWork {
    /// `POST /user/publisher/{id}/tq/create`: these queries, for this partner.
    CreateTransactionQueries {
        /// The partner.
        publisher_id: String,
        /// The queries as sent.
        queries: Vec<Value>,
    },
    /// `POST /v3/brand/campaigns/{id}/conversions/bulk`.
    BulkConversions {
        /// The campaign.
        campaign_id: String,
        /// `conversions`, `conversion_items` or `conversion_references`.
        key: String,
        /// The entries as sent.
        entries: Vec<Value>,
    },
}

/// A job: created by a bulk call, run when it is due.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// The job id.
    pub job_id: String,
    /// What it does.
    pub work: JobWork,
    /// The caller's `job_reference`.
    pub reference: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it may run (the emulator runs it on the first request after).
    pub due_at: std::time::Instant,
    /// `None` until it ran; then one result per entry, in order:
    /// `Ok(the object made or changed)` or `Err(the error)`.
    pub results: Option<Vec<Result<Value, Value>>>,
    /// When it finished.
    pub completed_at: Option<DateTime<Utc>>,
}

impl Job {
    /// `created`/`active`/`complete`, as v1 says it.
    pub fn v1_status(&self) -> &'static str {
        match (&self.results, self.due_at <= std::time::Instant::now()) {
            (Some(_), _) => "complete",
            (None, true) => "active",
            (None, false) => "created",
        }
    }

    /// The v1 `job` object.
    pub fn to_v1(&self) -> Value {
        json!({
            "job_id": self.job_id,
            "status": self.v1_status(),
            "created_at": v1_time(self.created_at),
            "completed_at": self.completed_at.map(v1_time),
            "created_by": "emulator",
            "created_by_uri": "",
            "estimated_completion": null,
            "percentage_complete": if self.results.is_some() { 100 } else { 0 },
            "reference": self.reference,
            "response": format!("/job/{}/response.json", self.job_id),
            "response_within_retention": true,
            "time_elapsed": 0,
            "update": format!("/job/{}.json", self.job_id),
        })
    }

    /// The v3 job resource.
    pub fn to_v3(&self) -> Value {
        let (complete, failed) = self.results.as_ref().map_or((0, 0), |results| {
            let failed = results.iter().filter(|result| result.is_err()).count();
            (results.len() - failed, failed)
        });
        let total = match &self.work {
            JobWork::CreateTransactionQueries { queries, .. } => queries.len(),
            JobWork::BulkConversions { entries, .. } => entries.len(),
        };
        let status = match (&self.results, failed) {
            (None, _) if self.due_at <= std::time::Instant::now() => "processing",
            (None, _) => "queued",
            (Some(_), 0) => "complete",
            (Some(_), _) => "complete_with_errors",
        };
        json!({
            "id": self.job_id,
            "status": status,
            "job_reference": self.reference,
            "created_at": iso_time(self.created_at),
            "completed_at": self.completed_at.map(iso_time),
            "tasks": {"total": total, "complete": complete, "failed": failed},
        })
    }
}

/// Everything the account holds.
#[derive(Debug, Clone, Default)]
pub struct Store {
    /// The network (`1l1000003`).
    pub network_id: String,
    /// The brand (`10l110`).
    pub advertiser_id: String,
    /// Partners, by creation.
    pub publishers: Vec<Publisher>,
    /// Campaigns, by creation.
    pub campaigns: Vec<Campaign>,
    /// Participations.
    pub participations: Vec<Participation>,
    /// Commission groups.
    pub commission_groups: Vec<CommissionGroup>,
    /// Payment detail sets.
    pub payment_details: Vec<PaymentDetail>,
    /// Short links.
    pub links: Vec<Link>,
    /// Voucher codes.
    pub vouchers: Vec<Voucher>,
    /// Clicks.
    pub clicks: Vec<Click>,
    /// Conversions.
    pub conversions: Vec<Conversion>,
    /// Transaction queries.
    pub transaction_queries: Vec<TransactionQuery>,
    /// Self-bills.
    pub selfbills: Vec<SelfBill>,
    /// Jobs.
    pub jobs: Vec<Job>,
    /// The next number of each id series.
    pub counters: BTreeMap<&'static str, u64>,
}

impl Store {
    /// A new id in `series`: `{prefix}l{n}`, numbers rising from `start`.
    pub fn next_id(&mut self, series: &'static str, prefix: &str, start: u64) -> String {
        let next = self.counters.entry(series).or_insert(start);
        let id = format!("{prefix}l{next}");
        *next += 1;
        id
    }

    /// The partner with this id.
    pub fn publisher(&self, publisher_id: &str) -> Option<&Publisher> {
        self.publishers.iter().find(|publisher| publisher.publisher_id == publisher_id)
    }

    /// The campaign with this id.
    pub fn campaign(&self, campaign_id: &str) -> Option<&Campaign> {
        self.campaigns.iter().find(|campaign| campaign.campaign_id == campaign_id)
    }

    /// The participation of a partner in a campaign.
    pub fn participation(&self, campaign_id: &str, publisher_id: &str) -> Option<&Participation> {
        self.participations.iter().find(|part| part.campaign_id == campaign_id && part.publisher_id == publisher_id)
    }

    /// The participation a camref names.
    pub fn by_camref(&self, camref: &str) -> Option<&Participation> {
        self.participations.iter().find(|part| part.camref == camref)
    }

    /// The click with this id.
    pub fn click(&self, click_id: &str) -> Option<&Click> {
        self.clicks.iter().find(|click| click.click_id == click_id)
    }

    /// A camref for a new participation: short, mixed case, unique.
    pub fn new_camref(&mut self) -> String {
        const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        let next = self.counters.entry("camref").or_insert(1);
        let mut number = crate::seeding::spread(*next);
        *next += 1;
        let mut camref = String::new();
        for _ in 0..8 {
            camref.push(char::from(ALPHABET[(number % ALPHABET.len() as u64) as usize]));
            number /= ALPHABET.len() as u64;
        }
        camref.insert(0, char::from(b'1' + (self.participations.len() % 9) as u8));
        camref
    }

    /// Counts per entity, for `/__emulator/partnerize/seeded`.
    pub fn counts(&self) -> Value {
        let items: usize = self.conversions.iter().map(|conversion| conversion.items.len()).sum();
        json!({
            "partners": self.publishers.len(),
            "campaigns": self.campaigns.len(),
            "participations": self.participations.len(),
            "commission_groups": self.commission_groups.len(),
            "payment_details": self.payment_details.len(),
            "links": self.links.len(),
            "voucher_codes": self.vouchers.len(),
            "clicks": self.clicks.len(),
            "conversions": self.conversions.len(),
            "conversion_items": items,
            "transaction_queries": self.transaction_queries.len(),
            "selfbills": self.selfbills.len(),
            "jobs": self.jobs.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_render_and_parse_exactly() {
        assert_eq!(Amount::cents(4995).to_string(), "49.95");
        assert_eq!(Amount::cents(-5).to_string(), "-0.05");
        assert_eq!(Amount::whole(1200).to_json(), json!(1200));
        assert_eq!(Amount { units: 12005, scale: 1 }.to_json().to_string(), "1200.5");
        assert_eq!(Amount::parse("12.340"), Some(Amount { units: 12340, scale: 3 }));
        assert_eq!(Amount::from_json(&json!(67.12)), Some(Amount::cents(6712)));
        assert_eq!(Amount::parse("1e3"), None);
        assert_eq!(Amount::cents(150).plus(Amount::whole(2)).to_string(), "3.50");
    }

    #[test]
    fn v1_times_read_in_three_forms() {
        let at = parse_v1_time("2017-01-01 10:11:12").expect("a time");
        assert_eq!(v1_time(at), "2017-01-01 10:11:12");
        assert_eq!(iso_time(at), "2017-01-01T10:11:12+00:00");
        assert_eq!(parse_v1_time("2017-01-01 00:00").map(v1_time).as_deref(), Some("2017-01-01 00:00:00"));
        assert_eq!(parse_v1_time("2017-01-01").map(v1_time).as_deref(), Some("2017-01-01 00:00:00"));
        assert_eq!(parse_v1_time("yesterday"), None);
    }
}
