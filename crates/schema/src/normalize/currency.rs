//! Currency codes.

use super::{Invalid, InvalidReason};
use crate::Currency;

/// Reads an ISO 4217 currency from its three-letter code in any case
/// (`eur`, ` EUR `) or its three-digit numeric code (`978`).
///
/// Symbols (`€`, `$`) are refused: `$` alone names a dozen currencies.
pub fn currency(text: &str) -> Result<Currency, Invalid> {
    let code = text.trim();
    let found = if code.len() == 3 && code.bytes().all(|byte| byte.is_ascii_digit()) {
        code.parse().ok().and_then(Currency::from_numeric)
    } else {
        Currency::from_code(&code.to_ascii_uppercase())
    };
    found.ok_or_else(|| {
        Invalid::new(
            InvalidReason::UnknownCurrency,
            format!("`{code}` is not an ISO 4217 currency code: give three letters, like EUR"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check(input: &str, expected: Result<&str, &str>) {
        let actual = currency(input).map(Currency::code).map_err(|invalid| invalid.to_string());
        assert_eq!(actual.as_ref().map(|code| *code).map_err(String::as_str), expected, "{input:?}");
    }

    #[test]
    fn codes_in_any_case_and_numeric_codes() {
        check("EUR", Ok("EUR"));
        check(" usd ", Ok("USD"));
        check("jPy", Ok("JPY"));
        check("978", Ok("EUR"));
        check("048", Ok("BHD"));
        check("HRK", Ok("HRK"));
    }

    #[test]
    fn anything_else_is_refused() {
        check("EURO", Err("`EURO` is not an ISO 4217 currency code: give three letters, like EUR"));
        check("€", Err("`€` is not an ISO 4217 currency code: give three letters, like EUR"));
        check("ABC", Err("`ABC` is not an ISO 4217 currency code: give three letters, like EUR"));
        check("000", Err("`000` is not an ISO 4217 currency code: give three letters, like EUR"));
        check("", Err("`` is not an ISO 4217 currency code: give three letters, like EUR"));
        assert_eq!(currency("").unwrap_err().reason().as_str(), "unknown_currency");
    }

    proptest! {
        #[test]
        fn normalising_is_idempotent(text in "[ ]?([A-Za-z]{3}|[0-9]{3})[ ]?") {
            if let Ok(found) = currency(&text) {
                prop_assert_eq!(currency(found.code()), Ok(found));
            }
        }
    }
}
