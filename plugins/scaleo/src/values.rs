//! Reading Scaleo's JSON values into canonical ones, and back: ids that
//! come as numbers, numeric strings or `{id, title}` objects; amounts as
//! four-decimal strings; times as ISO 8601, `Y-m-d H:i:s` or Unix seconds;
//! currencies checked against ISO 4217 and their minor units. A value
//! that cannot be read one way is refused with a reason, never guessed.

use chrono::{DateTime, NaiveDateTime, Utc};
use cutover_sdk::prelude::*;
use cutover_sdk::schema::normalize;
use cutover_sdk::schema::{Currency, Money};
use rust_decimal::Decimal;
use serde_json::{Map, Value};

/// An id: a number, a numeric string, or an object with an `id`.
pub(crate) fn id(value: Option<&Value>) -> Option<u64> {
    match value? {
        Value::Number(number) => number.as_u64(),
        Value::String(text) => text.trim().parse().ok(),
        Value::Object(object) => id(object.get("id")),
        _ => None,
    }
}

/// Text that is there and not empty, as given.
pub(crate) fn text(value: Option<&Value>) -> Option<CompactString> {
    match value? {
        Value::String(text) if !text.trim().is_empty() => Some(text.as_str().into()),
        Value::Number(number) => Some(number.to_string().into()),
        _ => None,
    }
}

/// A field of `item`, by name.
pub(crate) fn field<'a>(item: &'a Value, name: &str) -> Option<&'a Value> {
    item.get(name).filter(|value| !value.is_null())
}

/// An instant: ISO 8601 with a zone, `Y-m-d H:i:s` (UTC, as Scaleo's
/// tracking endpoints write it), or Unix seconds as a number or text.
pub(crate) fn instant(value: Option<&Value>, name: &str) -> Result<Option<DateTime<Utc>>, RejectReason> {
    let refused = |shown: &str| {
        RejectReason::new("invalid_date", format!("`{name}` is `{shown}`: not ISO 8601, `Y-m-d H:i:s` or Unix seconds"))
    };
    let Some(value) = value.filter(|value| !value.is_null()) else { return Ok(None) };
    let seconds = |seconds: i64| DateTime::from_timestamp(seconds, 0);
    match value {
        Value::Number(number) => {
            number.as_i64().and_then(seconds).map(Some).ok_or_else(|| refused(&number.to_string()))
        }
        Value::String(text) if text.trim().is_empty() => Ok(None),
        Value::String(text) => {
            let text = text.trim();
            if let Ok(at) = DateTime::parse_from_rfc3339(text) {
                return Ok(Some(at.with_timezone(&Utc)));
            }
            if let Ok(at) = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S") {
                return Ok(Some(at.and_utc()));
            }
            if text.bytes().all(|byte| byte.is_ascii_digit())
                && let Some(at) = text.parse().ok().and_then(seconds)
            {
                return Ok(Some(at));
            }
            Err(refused(text))
        }
        other => Err(refused(&other.to_string())),
    }
}

/// A decimal given as a number or as text (`"12.5000"`).
pub(crate) fn decimal(value: Option<&Value>, name: &str) -> Result<Option<Decimal>, RejectReason> {
    let Some(value) = value.filter(|value| !value.is_null()) else { return Ok(None) };
    let text = match value {
        Value::String(text) if text.trim().is_empty() => return Ok(None),
        Value::String(text) => text.trim().to_owned(),
        Value::Number(number) => number.to_string(),
        other => other.to_string(),
    };
    normalize::amount(&text, Some(normalize::DecimalMark::Point))
        .map(|amount| Some(amount.normalize()))
        .map_err(|invalid| RejectReason::new(invalid.reason().as_str(), format!("`{name}`: {}", invalid.message())))
}

/// An ISO 4217 currency as Scaleo writes it (upper case; an old import may
/// hold lower case, which reads the same).
pub(crate) fn currency(value: Option<&Value>, name: &str) -> Result<Option<Currency>, RejectReason> {
    let Some(code) = text(value) else { return Ok(None) };
    normalize::currency(&code)
        .map(Some)
        .map_err(|invalid| RejectReason::new(invalid.reason().as_str(), format!("`{name}`: {}", invalid.message())))
}

/// `amount` in `currency` at the currency's own precision (`12.5000 EUR`
/// reads `12.50 EUR`), or refused when it has more decimals than the
/// currency allows (`1200.5 JPY`) or a currency that is not ISO 4217.
pub(crate) fn money(amount: Decimal, currency: Currency, name: &str) -> Result<Money, RejectReason> {
    let mut amount = amount.normalize();
    let money = Money::new(amount, currency);
    if money.exceeds_currency_precision() {
        return Err(RejectReason::new(
            "amount_precision",
            format!(
                "`{name}` is {amount} {currency}: more decimals than {currency} has ({})",
                currency.minor_units().unwrap_or_default()
            ),
        ));
    }
    if let Some(units) = currency.minor_units()
        && amount.scale() < units
    {
        amount.rescale(units);
    }
    Ok(Money::new(amount, currency))
}

/// The money in `amount` with the currency in `currency`, both optional:
/// an amount without a currency is refused.
pub(crate) fn money_of(
    amount: Option<&Value>,
    currency_value: Option<&Value>,
    name: &str,
) -> Result<Option<Money>, RejectReason> {
    let Some(amount) = decimal(amount, name)? else { return Ok(None) };
    let Some(currency) = currency(currency_value, &format!("{name} currency"))? else {
        return Err(RejectReason::new("missing_currency", format!("`{name}` is {amount} in no currency")));
    };
    money(amount, currency, name).map(Some)
}

/// An amount as Scaleo takes it: four decimals at most, as text.
pub(crate) fn amount_text(amount: Decimal) -> String {
    amount.normalize().to_string()
}

/// A time as Scaleo's tracking endpoints take it: `Y-m-d H:i:s`, UTC.
pub(crate) fn tracking_time(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// A custom field's value from Scaleo's JSON (its custom fields hold text,
/// numbers, booleans and lists of text); `None` for `null`.
pub(crate) fn custom_value(value: &Value) -> Option<CustomValue> {
    match value {
        Value::Null => None,
        Value::String(text) => Some(CustomValue::Text(text.as_str().into())),
        Value::Bool(flag) => Some(CustomValue::Boolean(*flag)),
        Value::Number(number) => match number.as_i64() {
            Some(integer) => Some(CustomValue::Integer(integer)),
            None => number.to_string().parse::<Decimal>().ok().map(CustomValue::Decimal),
        },
        Value::Array(items) => Some(CustomValue::List(items.iter().filter_map(custom_value).collect())),
        Value::Object(_) => Some(CustomValue::Text(value.to_string().into())),
    }
}

/// A custom field's value as Scaleo's custom fields take it: text stays
/// text, a decimal is written as its text (never a float), dates in ISO
/// form.
pub(crate) fn custom_json(value: &CustomValue) -> Value {
    match value {
        CustomValue::Text(text) => Value::String(text.to_string()),
        CustomValue::Integer(integer) => Value::from(*integer),
        CustomValue::Decimal(decimal) => Value::String(decimal.to_string()),
        CustomValue::Boolean(flag) => Value::Bool(*flag),
        CustomValue::Date(date) => Value::String(date.to_string()),
        CustomValue::DateTime(at) => Value::String(at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
        CustomValue::List(items) => Value::Array(items.iter().map(custom_json).collect()),
    }
}

/// Texts of a custom field holding a list of text (or one text).
pub(crate) fn texts(value: Option<&CustomValue>) -> Vec<String> {
    match value {
        Some(CustomValue::List(items)) => items.iter().flat_map(|item| texts(Some(item))).collect(),
        Some(CustomValue::Text(text)) => vec![text.to_string()],
        _ => Vec::new(),
    }
}

/// A custom field's value as text, if it is text.
pub(crate) fn custom_text<'a>(record: &'a Record, name: &str) -> Option<&'a str> {
    match record.custom_fields.get(name) {
        Some(CustomValue::Text(text)) => Some(text.as_str()),
        _ => None,
    }
}

/// A custom field's value as a decimal, if it is a number.
pub(crate) fn custom_decimal(record: &Record, name: &str) -> Option<Decimal> {
    match record.custom_fields.get(name) {
        Some(CustomValue::Decimal(decimal)) => Some(*decimal),
        Some(CustomValue::Integer(integer)) => Some(Decimal::from(*integer)),
        _ => None,
    }
}

/// The key a record written to Scaleo carries, naming where it came from:
/// `<source platform>:<source id>`.
pub(crate) fn external_key(record: &Record) -> String {
    format!("{}:{}", record.source_platform, record.source_id)
}

/// A reference's source id as a Scaleo id, when it is one.
pub(crate) fn reference_id(reference: Option<&cutover_sdk::schema::Reference>) -> Option<u64> {
    reference.and_then(|reference| reference.source_id.parse().ok())
}

/// Sets `name` in `body` unless `value` is `None`.
pub(crate) fn put(body: &mut Map<String, Value>, name: &str, value: Option<impl Into<Value>>) {
    if let Some(value) = value {
        body.insert(name.to_owned(), value.into());
    }
}

/// `updated_at`, else `created_at`, of a resource: a record's time.
pub(crate) fn updated_at(item: &Value) -> Result<DateTime<Utc>, RejectReason> {
    match instant(field(item, "updated_at"), "updated_at")? {
        Some(at) => Ok(at),
        None => instant(field(item, "created_at"), "created_at")?
            .ok_or_else(|| RejectReason::new("malformed_record", "the item has neither `updated_at` nor `created_at`")),
    }
}

/// The resource's integer `id`, as a record's source id.
pub(crate) fn source_id(item: &Value) -> Result<u64, RejectReason> {
    id(field(item, "id")).ok_or_else(|| RejectReason::new("malformed_record", "the item has no integer `id`"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_come_in_three_shapes() {
        assert_eq!(id(Some(&json!(12))), Some(12));
        assert_eq!(id(Some(&json!("12"))), Some(12));
        assert_eq!(id(Some(&json!({"id": 12, "title": "Offer"}))), Some(12));
        assert_eq!(id(Some(&json!("twelve"))), None);
        assert_eq!(id(None), None);
    }

    #[test]
    fn instants_in_every_form_scaleo_writes() {
        let expected = DateTime::from_timestamp(1_767_225_600, 0);
        for value in
            [json!("2026-01-01T00:00:00Z"), json!("2026-01-01 00:00:00"), json!(1_767_225_600), json!("1767225600")]
        {
            assert_eq!(instant(Some(&value), "at"), Ok(expected), "{value}");
        }
        assert_eq!(instant(Some(&json!(null)), "at"), Ok(None));
        assert_eq!(instant(Some(&json!("")), "at"), Ok(None));
        let refused = instant(Some(&json!("01/02/2026")), "added").expect_err("ambiguous");
        assert_eq!(refused.code, "invalid_date");
        assert!(refused.message.contains("`added`"), "{}", refused.message);
    }

    #[test]
    fn money_keeps_the_currency_precision_and_refuses_more() {
        let euro = Currency::EUR;
        let read = money(Decimal::new(499_000, 4), euro, "amount").expect("euros");
        assert_eq!(read.amount.to_string(), "49.90");
        let yen = money(Decimal::new(12_000_000, 4), Currency::JPY, "amount").expect("yen");
        assert_eq!(yen.amount.to_string(), "1200");
        let refused = money(Decimal::new(12_005, 1), Currency::JPY, "amount").expect_err("yen have no cents");
        assert_eq!(refused.code, "amount_precision");
        assert!(refused.message.contains("1200.5 JPY"), "{}", refused.message);
        let bhd = money(Decimal::new(1_234_500, 4), Currency::from_code("BHD").expect("BHD"), "amount").expect("fils");
        assert_eq!(bhd.amount.to_string(), "123.450");
    }

    #[test]
    fn a_currency_must_be_iso_4217_and_an_amount_needs_one() {
        assert_eq!(currency(Some(&json!("eur")), "currency"), Ok(Some(Currency::EUR)), "lower case reads the same");
        assert_eq!(currency(Some(&json!("XBT")), "currency").expect_err("not ISO").code, "unknown_currency");
        let missing = money_of(Some(&json!("7.5000")), None, "discount").expect_err("no currency");
        assert_eq!(missing.code, "missing_currency");
        assert_eq!(money_of(None, None, "discount"), Ok(None));
        assert_eq!(decimal(Some(&json!("12,5")), "payout").expect_err("a comma").code, "invalid_amount");
    }

    #[test]
    fn custom_values_round_trip_through_scaleo_json() {
        let list = CustomValue::List(vec![CustomValue::Text("vip".into())]);
        assert_eq!(custom_value(&custom_json(&list)), Some(list));
        assert_eq!(custom_json(&CustomValue::Decimal(Decimal::new(125, 2))), json!("1.25"), "decimals as text");
        assert_eq!(custom_value(&json!(3)), Some(CustomValue::Integer(3)));
        assert_eq!(custom_value(&json!(null)), None);
    }
}
