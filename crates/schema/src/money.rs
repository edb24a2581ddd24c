//! Money: an exact decimal amount in an ISO 4217 currency, never a float.

use rust_decimal::Decimal;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;

/// An amount of money: an exact decimal in an ISO 4217 currency.
///
/// The amount keeps the scale the source gave (`12.50` stays `12.50`), and
/// equality compares values (`12.5 EUR == 12.50 EUR`).
///
/// ```
/// use cutover_schema::{Currency, Money};
/// use rust_decimal::Decimal;
///
/// let price = Money::new(Decimal::new(1_2345, 3), Currency::EUR);
/// assert_eq!(price.to_string(), "12.345 EUR");
/// assert!(price.exceeds_currency_precision(), "a euro has cents, not tenths of a cent");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct Money {
    /// The exact amount, in major units (euros, not cents); negative for refunds and reversals.
    #[serde(with = "crate::compact::decimal")]
    #[schemars(with = "Decimal")]
    pub amount: Decimal,
    /// The currency of the amount.
    pub currency: Currency,
}

impl Money {
    /// `amount` in `currency`.
    pub fn new(amount: Decimal, currency: Currency) -> Money {
        Money { amount, currency }
    }

    /// Whether the amount has more digits after the decimal point than its
    /// currency allows: `12.345 EUR` has, `12.340 EUR` has not (trailing zeros
    /// are not precision), and an amount in a currency with no minor unit
    /// (gold, `XXX`) never has.
    pub fn exceeds_currency_precision(&self) -> bool {
        self.currency.minor_units().is_some_and(|minor_units| self.amount.normalize().scale() > minor_units)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}

/// An ISO 4217 currency, written as its three-letter upper-case code (`EUR`)
/// in every format.
///
/// The list of codes comes from the `iso_currency` crate, which is not part of
/// this API. Superseded codes (`HRK`) stay valid, since an old order keeps the
/// currency it was paid in. [`Currency::from_code`] takes the exact code;
/// [`normalize::currency`](crate::normalize::currency) also takes lower case,
/// surrounding spaces and numeric codes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency(iso_currency::Currency);

impl Currency {
    /// The United States dollar.
    pub const USD: Currency = Currency(iso_currency::Currency::USD);
    /// The euro.
    pub const EUR: Currency = Currency(iso_currency::Currency::EUR);
    /// The pound sterling.
    pub const GBP: Currency = Currency(iso_currency::Currency::GBP);
    /// The Japanese yen, which has no minor unit.
    pub const JPY: Currency = Currency(iso_currency::Currency::JPY);

    /// The currency with this exact three-letter code (`EUR`, not `eur`).
    pub fn from_code(code: &str) -> Option<Currency> {
        iso_currency::Currency::from_code(code).map(Currency)
    }

    /// The currency with this ISO 4217 numeric code (978 for the euro).
    pub fn from_numeric(numeric: u16) -> Option<Currency> {
        iso_currency::Currency::from_numeric(numeric).map(Currency)
    }

    /// The three-letter code, e.g. `EUR`.
    pub fn code(self) -> &'static str {
        self.0.code()
    }

    /// Digits after the decimal point in the currency's minor unit: 2 for the
    /// euro, 0 for the yen, 3 for the Bahraini dinar; `None` where ISO 4217
    /// defines none (precious metals, `XXX`).
    pub fn minor_units(self) -> Option<u32> {
        self.0.exponent().map(u32::from)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Currency, D::Error> {
        let code = crate::CompactString::deserialize(deserializer)?;
        Currency::from_code(&code)
            .ok_or_else(|| serde::de::Error::custom(format!("`{code}` is not an ISO 4217 currency code")))
    }
}

impl JsonSchema for Currency {
    fn schema_name() -> Cow<'static, str> {
        "Currency".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "An ISO 4217 currency code in upper case, e.g. `EUR`.",
            "type": "string",
            "pattern": "^[A-Z]{3}$",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(amount: &str, code: &str, expected: (Option<u32>, bool)) {
        let currency = Currency::from_code(code).unwrap();
        let money = Money::new(amount.parse().unwrap(), currency);
        assert_eq!((money.currency.minor_units(), money.exceeds_currency_precision()), expected, "{money}");
    }

    #[test]
    fn precision_follows_the_currency() {
        check("12.34", "EUR", (Some(2), false));
        check("12.345", "EUR", (Some(2), true));
        check("12.340", "EUR", (Some(2), false));
        check("-0.001", "USD", (Some(2), true));
        check("1200", "JPY", (Some(0), false));
        check("1200.5", "JPY", (Some(0), true));
        check("1200.0", "JPY", (Some(0), false));
        check("1.234", "BHD", (Some(3), false));
        check("1.2345", "BHD", (Some(3), true));
        check("1.23456789", "XAU", (None, false));
    }

    #[test]
    fn codes_are_exact_and_superseded_ones_stay() {
        assert_eq!(Currency::from_code("EUR"), Some(Currency::EUR));
        assert_eq!(Currency::from_code("eur"), None);
        assert_eq!(Currency::from_code("ABC"), None);
        assert_eq!(Currency::from_code("HRK").map(Currency::code), Some("HRK"));
        assert_eq!(Currency::from_numeric(392), Some(Currency::JPY));
    }

    #[test]
    fn serialized_as_the_code_in_text_and_binary() {
        let money = Money::new(Decimal::new(1250, 2), Currency::GBP);
        let json = serde_json::to_string(&money).unwrap();
        assert_eq!(json, r#"{"amount":"12.50","currency":"GBP"}"#);
        assert_eq!(serde_json::from_str::<Money>(&json).unwrap(), money);
        let bytes = rmp_serde::to_vec_named(&money).unwrap();
        assert_eq!(rmp_serde::from_slice::<Money>(&bytes).unwrap(), money);
        let error = serde_json::from_str::<Money>(r#"{"amount":"1","currency":"XYZ"}"#).unwrap_err();
        assert!(error.to_string().contains("`XYZ` is not an ISO 4217 currency code"), "{error}");
    }
}
