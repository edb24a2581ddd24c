//! Amounts given as text, to exact decimals.

use super::{Invalid, InvalidReason};
use rust_decimal::Decimal;

/// The character a source writes between the whole part and the fraction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DecimalMark {
    /// `1,234.56` (English, and every machine format).
    Point,
    /// `1.234,56`, `1 234,56` (most of continental Europe, Latin America).
    Comma,
}

impl DecimalMark {
    fn as_char(self) -> char {
        match self {
            DecimalMark::Point => '.',
            DecimalMark::Comma => ',',
        }
    }
}

/// Reads an amount written for people: an optional sign, digits grouped by
/// thousands or not, and a decimal point or comma. The result is exact and
/// keeps the scale given (`12.50` stays `12.50`).
///
/// Digit groups may be separated by `,` `.` a space (plain, no-break or
/// narrow no-break) or an apostrophe (`1'234.56`), one kind per amount; groups
/// are of three digits, or of two then three in the Indian style
/// (`12,34,567.89`). The sign is `-`, `−` or `+`, in front.
///
/// With `decimal_mark` given nothing is guessed. Without it: when both `.`
/// and `,` appear the later one is the decimal mark; a mark that appears more
/// than once groups digits; a lone `.` is a decimal point, as machine formats
/// write it, so a German `1.234` reads as one and a bit; a lone `,` is a
/// decimal comma unless it could group thousands (`1,234`), which is refused
/// as [`AmbiguousAmount`](InvalidReason::AmbiguousAmount).
///
/// Currency symbols and codes are refused (`€12,50`): give the currency
/// apart, to [`currency`](super::currency). So are exponents, accounting
/// parentheses and a sign at the end.
pub fn amount(text: &str, decimal_mark: Option<DecimalMark>) -> Result<Decimal, Invalid> {
    let trimmed = text.trim();
    let invalid =
        |why: &str| Invalid::new(InvalidReason::InvalidAmount, format!("`{trimmed}` is not an amount: {why}"));
    let (negative, body) = match trimmed.chars().next() {
        Some(sign @ ('-' | '−' | '+')) => (sign != '+', &trimmed[sign.len_utf8()..]),
        _ => (false, trimmed),
    };
    if let Some(other) = body.chars().find(|&character| !character.is_ascii_digit() && !is_separator(character)) {
        return Err(invalid(&format!(
            "`{other}` is not a digit or a separator (give the currency apart, and the sign first)"
        )));
    }
    if !body.bytes().any(|byte| byte.is_ascii_digit()) {
        return Err(invalid("it has no digits"));
    }
    let mark = match decimal_mark {
        Some(mark) => mark,
        None => guess_mark(body).ok_or_else(|| {
            Invalid::new(
                InvalidReason::AmbiguousAmount,
                format!("`{trimmed}` is ambiguous: the comma may group thousands or mark decimals; give the source's decimal mark"),
            )
        })?,
    };
    let (whole, fraction) = match body.split_once(mark.as_char()) {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (body, None),
    };
    if let Some(fraction) = fraction
        && (fraction.is_empty() || !fraction.bytes().all(|byte| byte.is_ascii_digit()))
    {
        return Err(invalid("only digits may follow the decimal mark"));
    }
    let whole = ungroup(whole, mark).ok_or_else(|| {
        invalid("its digit groups are not thousands (1,234,567) or the Indian style (12,34,567), with one kind of separator")
    })?;
    let sign = if negative { "-" } else { "" };
    let whole = if whole.is_empty() { "0" } else { &whole };
    let exact = match fraction {
        Some(fraction) => format!("{sign}{whole}.{fraction}"),
        None => format!("{sign}{whole}"),
    };
    let mut value =
        Decimal::from_str_exact(&exact).map_err(|_| invalid("it has more digits than an exact decimal holds (28)"))?;
    // `-0` and `0` are one amount; keep one form so that the output reads back the same.
    if value.is_zero() {
        value.set_sign_positive(true);
    }
    Ok(value)
}

fn is_separator(character: char) -> bool {
    matches!(character, '.' | ',' | ' ' | '\u{a0}' | '\u{202f}' | '\'' | '’')
}

/// The decimal mark `body` must be using, or `None` when it reads two ways.
fn guess_mark(body: &str) -> Option<DecimalMark> {
    match (body.rfind('.'), body.rfind(',')) {
        (Some(point), Some(comma)) => Some(if point > comma { DecimalMark::Point } else { DecimalMark::Comma }),
        (Some(_), None) if body.matches('.').count() > 1 => Some(DecimalMark::Comma),
        (None, Some(_)) if body.matches(',').count() > 1 => Some(DecimalMark::Point),
        (None, Some(comma)) => {
            let (whole, fraction) = (&body[..comma], &body[comma + 1..]);
            let could_group = fraction.len() == 3
                && (1..=3).contains(&whole.len())
                && !whole.starts_with('0')
                && whole.bytes().chain(fraction.bytes()).all(|byte| byte.is_ascii_digit());
            if could_group { None } else { Some(DecimalMark::Comma) }
        }
        _ => Some(DecimalMark::Point),
    }
}

/// The digits of a whole part, less its group separators, if they group it
/// properly.
fn ungroup(whole: &str, mark: DecimalMark) -> Option<String> {
    let mut separators = whole.chars().filter(|character| !character.is_ascii_digit());
    let Some(separator) = separators.next() else {
        return Some(whole.to_owned());
    };
    if separator == mark.as_char() || separators.any(|other| other != separator) {
        return None;
    }
    let groups: Vec<&str> = whole.split(separator).collect();
    let (first, rest) = groups.split_first()?;
    let (last, middle) = rest.split_last()?;
    let thousands = (1..=3).contains(&first.len()) && rest.iter().all(|group| group.len() == 3);
    let indian = (1..=2).contains(&first.len())
        && !middle.is_empty()
        && middle.iter().all(|group| group.len() == 2)
        && last.len() == 3;
    (thousands || indian).then(|| groups.concat())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check(input: &str, mark: Option<DecimalMark>, expected: Result<&str, &str>) {
        let actual = amount(input, mark).map(|value| value.to_string()).map_err(|invalid| invalid.to_string());
        assert_eq!(actual.as_deref().map_err(String::as_str), expected, "{input:?} with {mark:?}");
    }

    #[test]
    fn amounts_in_common_styles() {
        check("1234", None, Ok("1234"));
        check("-12.5", None, Ok("-12.5"));
        check("+12.50", None, Ok("12.50"));
        check("−3,5", None, Ok("-3.5"));
        check("1,234.56", None, Ok("1234.56"));
        check("1.234,56", None, Ok("1234.56"));
        check("1 234,56", None, Ok("1234.56"));
        check("1\u{a0}234\u{a0}567,8", None, Ok("1234567.8"));
        check("1\u{202f}234,56", None, Ok("1234.56"));
        check("1'234.56", None, Ok("1234.56"));
        check("1’234’567", None, Ok("1234567"));
        check("1,234,567", None, Ok("1234567"));
        check("1.234.567", None, Ok("1234567"));
        check("12,34,567.89", None, Ok("1234567.89"));
        check("0,125", None, Ok("0.125"));
        check("1234,567", None, Ok("1234.567"));
        check("12,5", None, Ok("12.5"));
        check(".5", None, Ok("0.5"));
        check(" 007.10 ", None, Ok("7.10"));
        check("-0.00", None, Ok("0.00"));
        check("1.234", None, Ok("1.234"));
        check("79228162514264337593543950335", None, Ok("79228162514264337593543950335"));
    }

    #[test]
    fn a_given_mark_is_not_guessed() {
        check("1,234", Some(DecimalMark::Point), Ok("1234"));
        check("1,234", Some(DecimalMark::Comma), Ok("1.234"));
        check("1.234", Some(DecimalMark::Comma), Ok("1234"));
        check("1.234", Some(DecimalMark::Point), Ok("1.234"));
        check("1.234,5", Some(DecimalMark::Comma), Ok("1234.5"));
        check(
            "1.234,5",
            Some(DecimalMark::Point),
            Err("`1.234,5` is not an amount: only digits may follow the decimal mark"),
        );
    }

    #[test]
    fn what_is_not_a_plain_amount_is_refused() {
        check(
            "1,234",
            None,
            Err("`1,234` is ambiguous: the comma may group thousands or mark decimals; give the source's decimal mark"),
        );
        check(
            "€12,50",
            None,
            Err(
                "`€12,50` is not an amount: `€` is not a digit or a separator (give the currency apart, and the sign first)",
            ),
        );
        check(
            "12.50 EUR",
            None,
            Err(
                "`12.50 EUR` is not an amount: `E` is not a digit or a separator (give the currency apart, and the sign first)",
            ),
        );
        check(
            "12-",
            None,
            Err(
                "`12-` is not an amount: `-` is not a digit or a separator (give the currency apart, and the sign first)",
            ),
        );
        check(
            "1e3",
            None,
            Err(
                "`1e3` is not an amount: `e` is not a digit or a separator (give the currency apart, and the sign first)",
            ),
        );
        check("", None, Err("`` is not an amount: it has no digits"));
        check("-", None, Err("`-` is not an amount: it has no digits"));
        check("12.", None, Err("`12.` is not an amount: only digits may follow the decimal mark"));
        let bad_groups = "its digit groups are not thousands (1,234,567) or the Indian style (12,34,567), with one kind of separator";
        check("12,34.5", None, Err(&format!("`12,34.5` is not an amount: {bad_groups}")));
        check("1,234 567.5", None, Err(&format!("`1,234 567.5` is not an amount: {bad_groups}")));
        check("1234,567.5", None, Err(&format!("`1234,567.5` is not an amount: {bad_groups}")));
        check("1,,234.5", None, Err(&format!("`1,,234.5` is not an amount: {bad_groups}")));
        check(
            "792281625142643375935439503350",
            None,
            Err(
                "`792281625142643375935439503350` is not an amount: it has more digits than an exact decimal holds (28)",
            ),
        );
        assert_eq!(amount("x", None).unwrap_err().reason().as_str(), "invalid_amount");
        assert_eq!(amount("1,234", None).unwrap_err().reason().as_str(), "ambiguous_amount");
    }

    /// `whole` grouped by `separator` in threes.
    fn grouped(whole: u64, separator: &str) -> String {
        let digits = whole.to_string();
        let mut out = String::new();
        for (index, digit) in digits.chars().enumerate() {
            if index > 0 && (digits.len() - index).is_multiple_of(3) {
                out.push_str(separator);
            }
            out.push(digit);
        }
        out
    }

    proptest! {
        #[test]
        fn output_reads_back_as_itself(mantissa in any::<i64>(), scale in 0u32..=12) {
            let value = Decimal::new(mantissa, scale);
            let once = amount(&value.to_string(), None).unwrap();
            prop_assert_eq!(once.to_string(), if value.is_zero() { value.abs().to_string() } else { value.to_string() });
            prop_assert_eq!(amount(&once.to_string(), None).unwrap().to_string(), once.to_string());
        }

        #[test]
        fn every_style_reads_exactly(
            whole in any::<u64>(),
            fraction in "[0-9]{0,4}",
            negative in any::<bool>(),
            style in 0usize..5,
        ) {
            let (separator, mark) = [
                (",", DecimalMark::Point),
                (".", DecimalMark::Comma),
                ("\u{a0}", DecimalMark::Comma),
                ("'", DecimalMark::Point),
                ("", DecimalMark::Point),
            ][style];
            let sign = if negative { "-" } else { "" };
            let mut text = format!("{sign}{}", grouped(whole, separator));
            let mut expected = format!("{sign}{whole}");
            if !fraction.is_empty() {
                text.push(mark.as_char());
                text.push_str(&fraction);
                expected = format!("{expected}.{fraction}");
            }
            let expected: Decimal = expected.parse().unwrap();
            let with_mark = amount(&text, Some(mark)).unwrap();
            prop_assert_eq!(with_mark.to_string(), if expected.is_zero() { expected.abs() } else { expected }.to_string());
            match amount(&text, None) {
                Ok(guessed) => prop_assert_eq!(guessed.to_string(), with_mark.to_string()),
                Err(invalid) => prop_assert_eq!(invalid.reason(), InvalidReason::AmbiguousAmount),
            }
            prop_assert_eq!(amount(&with_mark.to_string(), None), Ok(with_mark));
        }

        #[test]
        fn any_text_gives_an_amount_that_reads_back_or_a_reason(text in "[-+ 0-9.,'a€]{0,16}") {
            match amount(&text, None) {
                Ok(value) => prop_assert_eq!(amount(&value.to_string(), None).unwrap().to_string(), value.to_string()),
                Err(invalid) => prop_assert!(matches!(invalid.reason(), InvalidReason::InvalidAmount | InvalidReason::AmbiguousAmount)),
            }
        }
    }
}
