//! Partnerize objects ↔ canonical records, in one place: field names,
//! status letters, v1 dates (`YYYY-MM-DD HH:MM:SS`, read as UTC) and v3
//! dates (ISO 8601), and money (JSON numbers read exactly as decimals, a
//! currency's minor units enforced: an amount with more decimals than its
//! currency has, or a currency that is not ISO 4217, is a reject with its
//! reason, never a guess).
//!
//! Composite ids: a conversion is `{campaign_id}:{conversion_id}` and a
//! commission (one per conversion item) `{campaign_id}:{conversion_item_id}`,
//! because Partnerize reads and changes them per campaign.

use chrono::{DateTime, NaiveDateTime, Utc};
use cutover_sdk::prelude::*;
use cutover_sdk::schema::{
    Click, Commission, CommissionStatus, Conversion, ConversionStatus, CouponCode, Currency, Money, Partner,
    PartnerStatus, Payout, PayoutDetails, PayoutStatus, Program, ProgramKind, Reference, TrackingLink,
};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::str::FromStr;

/// The currencies Partnerize keeps for a partner's and a campaign's
/// default and paid currency.
pub(crate) const ACCOUNT_CURRENCIES: [&str; 4] = ["GBP", "USD", "EUR", "JPY"];

fn reject(code: &str, message: impl Into<String>) -> RejectReason {
    RejectReason::new(code, message)
}

/// A text field, trimmed, `None` when absent, null or empty.
pub(crate) fn text(item: &Value, name: &str) -> Option<String> {
    match item.get(name)? {
        Value::String(text) if !text.trim().is_empty() => Some(text.trim().to_owned()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// A v1 date (`2019-10-30 11:08:41`), read as UTC.
pub(crate) fn v1_time(text: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%d %H:%M:%S").ok().map(|at| at.and_utc())
}

/// An instant as v1 writes it.
pub(crate) fn v1_format(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// A v2/v3 date (`2019-03-01T12:01:00+00:00`).
fn iso_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text.trim()).ok().map(|at| at.with_timezone(&Utc))
}

/// An amount as Partnerize writes it (a JSON number or numeric text), read
/// exactly.
pub(crate) fn decimal(value: &Value) -> Option<Decimal> {
    match value {
        Value::Number(number) => {
            Decimal::from_str(&number.to_string()).or_else(|_| Decimal::from_scientific(&number.to_string())).ok()
        }
        Value::String(text) => Decimal::from_str(text.trim()).ok(),
        _ => None,
    }
}

/// The currency of a code, or the reject that names it.
pub(crate) fn currency(code: Option<&str>, field: &str) -> Result<Currency, RejectReason> {
    let code = code.map(str::trim).unwrap_or_default();
    if code.is_empty() {
        return Err(reject("missing_currency", format!("`{field}` is empty: the amount's currency is unknown")));
    }
    Currency::from_code(code)
        .ok_or_else(|| reject("invalid_currency", format!("`{field}` is `{code}`, not an ISO 4217 currency code")))
}

/// `value` in `currency`, its scale raised to the currency's minor units
/// (`49.9` EUR reads `49.90`); more decimals than the currency has is a
/// reject (`1200.5` JPY, `10.555` EUR).
pub(crate) fn money(value: &Value, currency: Currency, field: &str) -> Result<Money, RejectReason> {
    let Some(mut amount) = decimal(value) else {
        return Err(reject("invalid_amount", format!("`{field}` is `{value}`, not an amount")));
    };
    let money = Money::new(amount, currency);
    if money.exceeds_currency_precision() {
        return Err(reject(
            "amount_precision",
            format!(
                "`{field}` is {amount} {currency}, more decimals than {currency} has ({})",
                currency.minor_units().unwrap_or(0)
            ),
        ));
    }
    if let Some(minor) = currency.minor_units()
        && amount.scale() < minor
    {
        amount.rescale(minor);
    }
    Ok(Money::new(amount, currency))
}

/// An amount for Partnerize: a JSON number with the money's digits.
pub(crate) fn number(amount: Decimal) -> Value {
    let text = amount.normalize().to_string();
    serde_json::from_str::<Value>(&text).unwrap_or_else(|_| Value::from(text))
}

/// Checks a canonical amount before it is sent: its currency's minor units.
pub(crate) fn check_money(money: &Money, field: &str) -> Result<(), RejectReason> {
    if money.exceeds_currency_precision() {
        return Err(reject(
            "amount_precision",
            format!("`{field}` is {money}, more decimals than {} has", money.currency),
        ));
    }
    Ok(())
}

fn custom_text(record: &mut Record, name: &str, value: Option<String>) {
    if let Some(value) = value {
        record.custom_fields.insert(name.into(), CustomValue::Text(value.into()));
    }
}

fn custom_decimal(record: &mut Record, name: &str, value: Option<Decimal>) {
    if let Some(value) = value {
        record.custom_fields.insert(name.into(), CustomValue::Decimal(value));
    }
}

fn reference(entity: EntityKind, id: Option<String>) -> Option<Reference> {
    id.map(|id| Reference::new(entity, id))
}

// --- partners ---------------------------------------------------------------

/// Network status letters: `a` approved, `p` pending, `r` rejected, `n` not
/// a member.
pub(crate) fn partner_status(letter: &str) -> Option<PartnerStatus> {
    match letter {
        "a" => Some(PartnerStatus::Active),
        "p" => Some(PartnerStatus::Pending),
        "r" => Some(PartnerStatus::Rejected),
        "n" => Some(PartnerStatus::Inactive),
        _ => None,
    }
}

/// The letter of a canonical status. Partnerize has no suspension: a
/// suspended partner is written `n` (not a member) and reads inactive.
pub(crate) fn status_letter(status: PartnerStatus) -> &'static str {
    match status {
        PartnerStatus::Active => "a",
        PartnerStatus::Pending => "p",
        PartnerStatus::Rejected => "r",
        PartnerStatus::Inactive | PartnerStatus::Suspended => "n",
    }
}

/// A payment type as the canonical payout method names it.
fn payout_method(code: &str) -> String {
    match code {
        "eft" => "bank_transfer".into(),
        other => other.to_owned(),
    }
}

/// A canonical payout method as a Partnerize payment type code.
pub(crate) fn payment_type_code(method: &str) -> String {
    let method = method.trim().to_lowercase().replace([' ', '-'], "_");
    match method.as_str() {
        "bank_transfer" | "bank" | "wire" | "wire_transfer" | "eft" | "ach" | "sepa" => "eft".into(),
        _ => method,
    }
}

/// What identifies a payout account without holding it: a PayPal (or
/// other e-wallet) address as given, a bank account number masked to its
/// last four digits.
pub(crate) fn account_reference(set: &Value) -> Option<String> {
    let number = set["payment_detail_values"]["account_number"].as_str().map(str::trim).filter(|n| !n.is_empty())?;
    if set["payment_type_code"] == "eft" || number.chars().all(|c| c.is_ascii_digit() || c == ' ' || c == '-') {
        let digits: Vec<char> = number.chars().filter(char::is_ascii_alphanumeric).collect();
        let last: String = digits[digits.len().saturating_sub(4)..].iter().collect();
        Some(format!("****{last}"))
    } else {
        Some(number.to_owned())
    }
}

/// The payout details of a partner's payment detail set.
pub(crate) fn payout_details(set: &Value) -> PayoutDetails {
    PayoutDetails {
        method: text(set, "payment_type_code").map(|code| payout_method(&code).into()),
        account_reference: account_reference(set).map(Into::into),
        currency: text(set, "paid_currency").and_then(|code| Currency::from_code(&code)),
    }
}

/// The record of a v1 partner, with its tier (a commission group's name)
/// and its payment details when it has some.
pub(crate) fn partner_record(
    item: &Value,
    tier: Option<&str>,
    payment: Option<&Value>,
) -> Result<Record, RejectReason> {
    let Some(id) = text(item, "publisher_id") else {
        return Err(reject("malformed_record", "the partner has no `publisher_id`"));
    };
    let created = text(item, "created").as_deref().and_then(v1_time);
    let updated_at =
        text(item, "last_modified").as_deref().and_then(v1_time).or(created).unwrap_or(DateTime::UNIX_EPOCH);
    let network_status = text(item, "network_status");
    let partner = Partner {
        name: text(item, "account_name").map(Into::into),
        email: text(item, "contact_email").map(Into::into),
        company: text(item, "company_name").map(Into::into),
        status: network_status.as_deref().and_then(partner_status),
        tier: tier.map(Into::into),
        parent: None,
        payout: payment.map(payout_details),
        created_at: created,
    };
    let mut record = Record::new(crate::NAME, id, updated_at, Entity::Partner(partner));
    for field in [
        "contact_name",
        "contact_locale",
        "default_currency",
        "operating_country",
        "reporting_timezone",
        "reporting_identifier",
        "foreign_identifier",
        "phone",
        "network_notes",
        "promotional_method_name",
        "vertical_name",
    ] {
        custom_text(&mut record, field, text(item, field));
    }
    if network_status.as_deref().is_some_and(|letter| partner_status(letter).is_none()) {
        custom_text(&mut record, "network_status", network_status);
    }
    let website =
        item["websites"].as_array().and_then(|sites| sites.first()).and_then(|site| text(site, "website_url"));
    custom_text(&mut record, "website", website);
    Ok(record)
}

/// What a partner is written with: the fields Partnerize keeps, from the
/// record and the custom fields a Partnerize source gave.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PartnerWrite {
    /// The external key: `{source platform}:{source id}`, kept as the
    /// partner's `reporting_identifier`.
    pub(crate) key: String,
    /// The previous platform's id, kept as `foreign_identifier`.
    pub(crate) foreign_identifier: String,
    pub(crate) account_name: String,
    pub(crate) contact_email: Option<String>,
    /// Changed fields for `POST /user/publisher/{id}` (everything the record
    /// says, which the update compares with what is stored).
    pub(crate) fields: BTreeMap<&'static str, String>,
    pub(crate) tier: Option<String>,
    pub(crate) payout: Option<PayoutDetails>,
}

/// Custom fields a Partnerize source gives that the write puts back.
const PARTNER_CUSTOM: [&str; 6] =
    ["contact_name", "contact_locale", "default_currency", "operating_country", "reporting_timezone", "phone"];

/// The write of a canonical partner, or why Partnerize cannot take it.
pub(crate) fn partner_write(record: &Record) -> Result<PartnerWrite, RejectReason> {
    let Entity::Partner(partner) = &record.entity else {
        return Err(wrong_entity(record, "partner"));
    };
    let email = partner.email.as_deref().map(str::trim).filter(|email| !email.is_empty()).map(str::to_owned);
    let account_name = partner
        .name
        .as_deref()
        .or(partner.company.as_deref())
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .or_else(|| email.as_deref().and_then(|email| email.split('@').next()).map(str::to_owned))
        .ok_or_else(|| reject("missing_name", "the partner has no name, company or email to name its account"))?;
    let mut fields = BTreeMap::new();
    fields.insert("account_name", account_name.clone());
    if let Some(email) = &email {
        fields.insert("contact_email", email.clone());
    }
    if let Some(company) = partner.company.as_deref().filter(|company| !company.trim().is_empty()) {
        fields.insert("company_name", company.trim().to_owned());
    }
    if let Some(status) = partner.status {
        fields.insert("network_status", status_letter(status).to_owned());
    }
    for name in PARTNER_CUSTOM {
        if let Some(CustomValue::Text(value)) = record.custom_fields.get(name) {
            if name == "default_currency" && !ACCOUNT_CURRENCIES.contains(&value.as_str()) {
                continue;
            }
            fields.insert(name, value.to_string());
        }
    }
    let key = format!("{}:{}", record.source_platform, record.source_id);
    fields.insert("reporting_identifier", key.clone());
    fields.insert("foreign_identifier", record.source_id.to_string());
    if let Some(payout) = &partner.payout
        && let Some(currency) = payout.currency
        && !ACCOUNT_CURRENCIES.contains(&currency.code())
    {
        return Err(reject(
            "unsupported_currency",
            format!("Partnerize pays partners in GBP, USD, EUR or JPY, not {currency}: map the payout currency"),
        ));
    }
    Ok(PartnerWrite {
        key,
        foreign_identifier: record.source_id.to_string(),
        account_name,
        contact_email: email,
        fields,
        tier: partner.tier.as_deref().map(str::trim).filter(|tier| !tier.is_empty()).map(str::to_owned),
        payout: partner.payout.clone().filter(|payout| *payout != PayoutDetails::default()),
    })
}

/// The payment detail set to send for `payout`, or `None` when `current`
/// already says it. A masked account reference (`****1234`, as this plugin
/// reads one) is not sent: the account number stored stays.
pub(crate) fn payment_detail_change(payout: &PayoutDetails, current: Option<&Value>) -> Option<Value> {
    let code = payout.method.as_deref().map(payment_type_code);
    let reference = payout.account_reference.as_deref().filter(|reference| !reference.starts_with('*'));
    let currency = payout.currency.map(Currency::code);
    if let Some(current) = current {
        let same_code = code.as_deref().is_none_or(|code| current["payment_type_code"].as_str() == Some(code));
        let same_reference = reference
            .is_none_or(|reference| current["payment_detail_values"]["account_number"].as_str() == Some(reference));
        let same_currency = currency.is_none_or(|currency| current["paid_currency"].as_str() == Some(currency));
        if same_code && same_reference && same_currency {
            return None;
        }
    }
    let mut values =
        current.and_then(|current| current["payment_detail_values"].as_object().cloned()).unwrap_or_default();
    if let Some(reference) = reference {
        values.insert("account_number".into(), Value::from(reference));
    }
    let mut body = json!({
        "payment_type_code": code.or_else(|| current.and_then(|current| text(current, "payment_type_code"))).unwrap_or_else(|| "other".into()),
        "payment_detail_values": values,
    });
    if let Some(set) = current.and_then(|current| text(current, "publisher_payment_detail_set_id")) {
        body["publisher_payment_detail_set_id"] = Value::from(set);
    }
    if let Some(currency) =
        currency.map(str::to_owned).or_else(|| current.and_then(|current| text(current, "paid_currency")))
    {
        body["paid_currency"] = Value::from(currency);
    }
    if let Some(country) = current.and_then(|current| text(current, "country")) {
        body["country"] = Value::from(country);
    }
    Some(body)
}

fn wrong_entity(record: &Record, wanted: &str) -> RejectReason {
    let kind = record.entity.kind().as_str();
    reject("wrong_entity", format!("a {kind} cannot be written as a {wanted}"))
}

// --- programs -----------------------------------------------------------------

/// The record of a v3 campaign.
pub(crate) fn program_record(item: &Value) -> Result<Record, RejectReason> {
    let Some(id) = text(item, "campaign_id") else {
        return Err(reject("malformed_record", "the campaign has no `campaign_id`"));
    };
    let created = text(item, "created_at").as_deref().and_then(iso_time);
    let updated_at = text(item, "updated_at").as_deref().and_then(iso_time).or(created).unwrap_or(DateTime::UNIX_EPOCH);
    let default_currency = text(item, "default_currency");
    let rate = match item.get("default_commission_rate") {
        None | Some(Value::Null) => None,
        Some(value) => Some(decimal(value).ok_or_else(|| {
            reject("invalid_amount", format!("`default_commission_rate` is `{value}`, not a percentage"))
        })?),
    };
    let flat = match item.get("default_commission_value") {
        None | Some(Value::Null) => None,
        Some(value) => {
            Some(money(value, currency(default_currency.as_deref(), "default_currency")?, "default_commission_value")?)
        }
    };
    let program = Program {
        name: text(item, "title").map(Into::into),
        kind: Some(ProgramKind::Campaign),
        description: item["description"]["en"].as_str().filter(|text| !text.is_empty()).map(str::to_owned),
        landing_url: text(item, "destination_url").map(Into::into),
        commission_percent: rate,
        commission_flat: flat,
        cookie_days: item["cookie_period"].as_u64().and_then(|days| u32::try_from(days).ok()),
        active: text(item, "status").map(|status| status == "a"),
    };
    let mut record = Record::new(crate::NAME, id, updated_at, Entity::Program(program));
    custom_text(&mut record, "default_currency", default_currency);
    custom_text(&mut record, "reporting_timezone", text(item, "reporting_timezone"));
    Ok(record)
}

/// A canonical program as the campaign fields Partnerize keeps.
pub(crate) fn campaign_patch(record: &Record) -> Result<crate::client::CampaignPatch, RejectReason> {
    let Entity::Program(program) = &record.entity else {
        return Err(wrong_entity(record, "program"));
    };
    let title = program
        .name
        .as_deref()
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .ok_or_else(|| reject("missing_name", "the program has no name: a campaign needs a title"))?;
    if program.commission_percent.is_some() && program.commission_flat.is_some() {
        return Err(reject(
            "unsupported_commission",
            "Partnerize's default commission is a rate or a fixed value, not both",
        ));
    }
    let mut patch = crate::client::CampaignPatch {
        title: Some(title.to_owned()),
        status: program.active.map(|active| if active { "a" } else { "r" }.to_owned()),
        cookie_period: program.cookie_days,
        destination_url: program.landing_url.as_deref().map(str::to_owned),
        description: program.description.clone().map(|en| crate::client::Localised { en }),
        default_commission_rate: program.commission_percent.map(|rate| rate.normalize().to_string()),
        ..Default::default()
    };
    if let Some(flat) = &program.commission_flat {
        check_money(flat, "commission_flat")?;
        if !ACCOUNT_CURRENCIES.contains(&flat.currency.code()) {
            return Err(reject(
                "unsupported_currency",
                format!("a campaign's currency is GBP, USD, EUR or JPY, not {}", flat.currency),
            ));
        }
        patch.default_commission_value = Some(flat.amount.to_string());
        patch.default_currency = Some(flat.currency.code().to_owned());
    }
    if let Some(CustomValue::Text(code)) = record.custom_fields.get("default_currency")
        && patch.default_currency.is_none()
        && ACCOUNT_CURRENCIES.contains(&code.as_str())
    {
        patch.default_currency = Some(code.to_string());
    }
    Ok(patch)
}

/// The changes `wanted` makes to the stored v3 campaign `current`.
pub(crate) fn campaign_changes(wanted: &crate::client::CampaignPatch, current: &Value) -> crate::client::CampaignPatch {
    let same = |field: &str, value: &Option<String>| {
        value.as_deref().is_none_or(|value| text(current, field).as_deref() == Some(value))
    };
    let same_rate = wanted.default_commission_rate.as_deref().is_none_or(|rate| {
        current.get("default_commission_rate").and_then(decimal).map(|stored| stored.normalize().to_string()).as_deref()
            == Some(rate)
    });
    let same_value = wanted
        .default_commission_value
        .as_deref()
        .is_none_or(|value| current.get("default_commission_value").and_then(decimal) == Decimal::from_str(value).ok());
    crate::client::CampaignPatch {
        title: wanted.title.clone().filter(|_| !same("title", &wanted.title)),
        status: wanted.status.clone().filter(|_| !same("status", &wanted.status)),
        default_currency: wanted
            .default_currency
            .clone()
            .filter(|_| !same("default_currency", &wanted.default_currency)),
        cookie_period: wanted.cookie_period.filter(|days| current["cookie_period"].as_u64() != Some(u64::from(*days))),
        default_commission_rate: wanted.default_commission_rate.clone().filter(|_| !same_rate),
        default_commission_value: wanted.default_commission_value.clone().filter(|_| !same_value),
        destination_url: wanted.destination_url.clone().filter(|_| !same("destination_url", &wanted.destination_url)),
        description: wanted
            .description
            .clone()
            .filter(|description| current["description"]["en"].as_str() != Some(description.en.as_str())),
    }
}

// --- links and coupon codes ---------------------------------------------------

/// The record of a v2 link of `publisher_id`. Partnerize gives a link no
/// time: it reads with `updated_at` at the Unix epoch.
pub(crate) fn link_record(item: &Value, publisher_id: &str) -> Result<Record, RejectReason> {
    let Some(id) = text(item, "id") else { return Err(reject("malformed_record", "the link has no `id`")) };
    let link = TrackingLink {
        url: text(item, "tracking_url").map(Into::into),
        destination_url: text(item, "destination_url").map(Into::into),
        partner: Some(Reference::new(EntityKind::Partner, publisher_id)),
        program: reference(EntityKind::Program, text(item, "campaign_id")),
        created_at: None,
    };
    let mut record = Record::new(crate::NAME, id, DateTime::UNIX_EPOCH, Entity::TrackingLink(link));
    custom_text(&mut record, "description", text(item, "description"));
    custom_text(&mut record, "tracking_short_url", text(item, "tracking_short_url"));
    if let Some(active) = item["active"].as_bool() {
        record.custom_fields.insert("active".into(), CustomValue::Boolean(active));
    }
    if let Some(pubref) =
        item["params"].as_array().and_then(|params| params.iter().find(|param| param["key"] == "pubref"))
    {
        custom_text(&mut record, "pubref", text(pubref, "value"));
    }
    Ok(record)
}

/// The record of a v1 voucher code.
pub(crate) fn coupon_record(item: &Value) -> Result<Record, RejectReason> {
    let Some(id) = text(item, "voucher_code_id") else {
        return Err(reject("malformed_record", "the voucher code has no `voucher_code_id`"));
    };
    let Some(code) = text(item, "voucher_code") else {
        return Err(reject("malformed_record", "the voucher code has no code"));
    };
    let updated_at = text(item, "last_modified")
        .or_else(|| text(item, "created"))
        .as_deref()
        .and_then(v1_time)
        .unwrap_or(DateTime::UNIX_EPOCH);
    let coupon = CouponCode {
        code: Some(code.into()),
        partner: reference(EntityKind::Partner, text(item, "publisher_id")),
        program: reference(EntityKind::Program, text(item, "campaign_id")),
        discount_code: None,
        discount: None,
        active: text(item, "active").map(|active| active == "y"),
    };
    let mut record = Record::new(crate::NAME, id, updated_at, Entity::CouponCode(coupon));
    custom_text(&mut record, "description", text(item, "description"));
    Ok(record)
}

// --- clicks -------------------------------------------------------------------

/// The record of a click of the click report.
pub(crate) fn click_record(item: &Value) -> Result<Record, RejectReason> {
    let click = &item["click"];
    let Some(id) = text(click, "click_id") else {
        return Err(reject("malformed_record", "the click has no `click_id`"));
    };
    let set_time = text(click, "set_time").as_deref().and_then(v1_time);
    let ip_text = text(click, "set_ip");
    let ip = ip_text.as_deref().and_then(|ip| ip.parse().ok());
    let body = Click {
        click_id: Some(id.clone().into()),
        sub_ids: text(click, "clickref").into_iter().map(Into::into).collect(),
        clicked_at: set_time,
        partner: reference(EntityKind::Partner, text(click, "publisher_id")),
        tracking_link: None,
        program: reference(EntityKind::Program, text(click, "campaign_id")),
        ip,
        user_agent: None,
        referrer: text(click, "referer").map(Into::into),
    };
    let mut record = Record::new(crate::NAME, id, set_time.unwrap_or(DateTime::UNIX_EPOCH), Entity::Click(body));
    if ip.is_none() {
        custom_text(&mut record, "set_ip", ip_text);
    }
    for field in ["advertiser_reference", "country", "publisher_name", "type", "status", "creative_id"] {
        custom_text(&mut record, field, text(click, field));
    }
    Ok(record)
}

// --- conversions and commissions ------------------------------------------------

/// A conversion or item status word.
pub(crate) fn conversion_status(status: &str) -> Option<ConversionStatus> {
    match status {
        "approved" => Some(ConversionStatus::Approved),
        "pending" => Some(ConversionStatus::Pending),
        "rejected" => Some(ConversionStatus::Rejected),
        _ => None,
    }
}

/// The status word Partnerize takes for a canonical conversion status, and
/// the reason sent with it. Partnerize has no reversal: a reversed
/// conversion is rejected with the reason `reversed`.
pub(crate) fn status_word(status: ConversionStatus) -> (&'static str, Option<&'static str>) {
    match status {
        ConversionStatus::Approved => ("approved", None),
        ConversionStatus::Pending => ("pending", None),
        ConversionStatus::Rejected => ("rejected", None),
        ConversionStatus::Reversed => ("rejected", Some("reversed")),
    }
}

/// The status word for a canonical commission status: `paid` is
/// approved (Partnerize marks payment itself, through self-billing);
/// `reversed` is rejected.
pub(crate) fn commission_word(status: CommissionStatus) -> (&'static str, Option<&'static str>) {
    match status {
        CommissionStatus::Approved | CommissionStatus::Paid => ("approved", None),
        CommissionStatus::Pending => ("pending", None),
        CommissionStatus::Rejected => ("rejected", None),
        CommissionStatus::Reversed => ("rejected", Some("reversed")),
    }
}

/// `{campaign}:{id}`.
pub(crate) fn composite(campaign_id: &str, id: &str) -> String {
    format!("{campaign_id}:{id}")
}

/// The campaign and the id of a composite id.
pub(crate) fn split_composite(id: &str) -> Option<(&str, &str)> {
    id.split_once(':').filter(|(campaign, inner)| !campaign.is_empty() && !inner.is_empty())
}

/// The record of a report row's `conversion_data`.
pub(crate) fn conversion_record(data: &Value) -> Result<Record, RejectReason> {
    let (Some(campaign), Some(id)) = (text(data, "campaign_id"), text(data, "conversion_id")) else {
        return Err(reject("malformed_record", "the conversion has no `campaign_id` or `conversion_id`"));
    };
    let currency = currency(data["currency"].as_str(), "currency")?;
    let value = &data["conversion_value"];
    let amount = money(&value["value"], currency, "conversion_value.value")?;
    let status_word = value["conversion_status"].as_str().unwrap_or_default();
    let status = conversion_status(status_word)
        .ok_or_else(|| reject("invalid_status", format!("`conversion_status` is `{status_word}`")))?;
    let converted_at = text(data, "conversion_time").as_deref().and_then(v1_time);
    let updated_at =
        text(data, "last_modified").as_deref().and_then(v1_time).or(converted_at).unwrap_or(DateTime::UNIX_EPOCH);
    let conversion = Conversion {
        order_id: text(data, "conversion_reference").map(Into::into),
        amount: Some(amount),
        status: Some(status),
        converted_at,
        click: reference(EntityKind::Click, text(&data["click"], "click_id")),
        partner: reference(EntityKind::Partner, text(data, "publisher_id")),
        program: Some(Reference::new(EntityKind::Program, campaign.clone())),
        customer: None,
        order: None,
    };
    let mut record = Record::new(crate::NAME, composite(&campaign, &id), updated_at, Entity::Conversion(conversion));
    for field in
        ["customer_reference", "customer_type", "country", "advertiser_reference", "clickref", "payment_status"]
    {
        custom_text(&mut record, field, text(data, field));
    }
    if let Some(disputed) = data["was_disputed"].as_str() {
        record.custom_fields.insert("was_disputed".into(), CustomValue::Boolean(disputed == "y"));
    }
    custom_decimal(&mut record, "commission", value.get("commission").and_then(decimal));
    custom_decimal(&mut record, "publisher_commission", value.get("publisher_commission").and_then(decimal));
    Ok(record)
}

/// The records of a report row's items: one commission each (the partner's
/// share of the item), or each item's reject.
pub(crate) fn commission_records(data: &Value) -> Vec<Result<Record, RejectReason>> {
    let (Some(campaign), Some(conversion_id)) = (text(data, "campaign_id"), text(data, "conversion_id")) else {
        return vec![Err(reject("malformed_record", "the conversion has no `campaign_id` or `conversion_id`"))];
    };
    let items = data["conversion_items"].as_array().cloned().unwrap_or_default();
    let currency = currency(data["currency"].as_str(), "currency");
    let converted_at = text(data, "conversion_time").as_deref().and_then(v1_time);
    items
        .iter()
        .map(|item| {
            let currency = currency.clone()?;
            let Some(item_id) = text(item, "conversion_item_id") else {
                return Err(reject("malformed_record", "a conversion item has no `conversion_item_id`"));
            };
            let amount = money(&item["item_publisher_commission"], currency, "item_publisher_commission")?;
            let word = item["item_status"].as_str().unwrap_or_default();
            let status = match (word, item["payment_status"].as_str()) {
                ("approved", Some("paid")) => CommissionStatus::Paid,
                ("approved", _) => CommissionStatus::Approved,
                ("pending", _) => CommissionStatus::Pending,
                ("rejected", _) => CommissionStatus::Rejected,
                _ => return Err(reject("invalid_status", format!("`item_status` is `{word}`"))),
            };
            let updated_at =
                text(item, "last_update").as_deref().and_then(v1_time).or(converted_at).unwrap_or(DateTime::UNIX_EPOCH);
            let commission = Commission {
                amount: Some(amount),
                status: Some(status),
                level: Some(1),
                conversion: Some(Reference::new(EntityKind::Conversion, composite(&campaign, &conversion_id))),
                partner: reference(EntityKind::Partner, text(data, "publisher_id")),
                payout: None,
                created_at: converted_at,
            };
            let mut record =
                Record::new(crate::NAME, composite(&campaign, &item_id), updated_at, Entity::Commission(commission));
            for field in ["sku", "category", "reject_reason", "invoice_id"] {
                custom_text(&mut record, field, text(item, field));
            }
            custom_decimal(&mut record, "item_value", item.get("item_value").and_then(decimal));
            custom_decimal(&mut record, "item_commission", item.get("item_commission").and_then(decimal));
            Ok(record)
        })
        .collect()
}

// --- payouts --------------------------------------------------------------------

fn payout_status(status: &str) -> Option<PayoutStatus> {
    match status {
        "paid" => Some(PayoutStatus::Paid),
        "pending" | "created" => Some(PayoutStatus::Pending),
        "processing" => Some(PayoutStatus::Processing),
        "failed" => Some(PayoutStatus::Failed),
        "cancelled" | "canceled" => Some(PayoutStatus::Canceled),
        _ => None,
    }
}

/// The record of a v1 self-bill of `publisher_id`.
pub(crate) fn payout_record(item: &Value, publisher_id: &str) -> Result<Record, RejectReason> {
    let bill = item.get("selfbill").unwrap_or(item);
    let Some(id) = text(bill, "publisher_self_bill_id") else {
        return Err(reject("malformed_record", "the self-bill has no `publisher_self_bill_id`"));
    };
    let currency = currency(bill["paid_currency"].as_str(), "paid_currency")?;
    let amount = money(&bill["total_value"], currency, "total_value")?;
    let word = bill["status"].as_str().unwrap_or_default();
    let status = payout_status(word).ok_or_else(|| reject("invalid_status", format!("`status` is `{word}`")))?;
    let paid_at = text(bill, "payment_date").as_deref().and_then(v1_time);
    let created = text(bill, "created").as_deref().and_then(v1_time);
    let payout = Payout {
        partner: Some(Reference::new(EntityKind::Partner, publisher_id)),
        amount: Some(amount),
        status: Some(status),
        method: None,
        transaction_reference: text(bill, "self_bill_reference").map(Into::into),
        paid_at,
    };
    let mut record =
        Record::new(crate::NAME, id, paid_at.or(created).unwrap_or(DateTime::UNIX_EPOCH), Entity::Payout(payout));
    custom_text(&mut record, "payment_batch_id", text(bill, "payment_batch_id"));
    custom_text(&mut record, "tracked_currency", text(bill, "tracked_currency"));
    custom_decimal(&mut record, "net_value", bill.get("net_value").and_then(decimal));
    custom_decimal(&mut record, "vat_value", bill.get("vat_value").and_then(decimal));
    custom_decimal(&mut record, "withheld_tax", bill.get("withheld_tax").and_then(decimal));
    if let Some(items) = bill["items_in_bill"].as_i64() {
        record.custom_fields.insert("items_in_bill".into(), CustomValue::Integer(items));
    }
    Ok(record)
}

#[cfg(test)]
mod tests;
