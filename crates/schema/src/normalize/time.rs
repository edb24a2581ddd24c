//! Dates and times, to UTC with the source's precision.

use super::{Invalid, InvalidReason};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};

/// Forms with an offset, beyond RFC 3339 itself: ISO 8601's `+0100`.
const WITH_OFFSET: &[&str] = &["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z"];

/// Forms without an offset, read at the default offset.
const WITHOUT_OFFSET: &[&str] = &["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"];

/// Reads an instant and converts it to UTC, keeping every fractional digit
/// the source gave (to the nanosecond).
///
/// Accepted: RFC 3339 (`2026-01-02T03:04:05.123+01:00`, `Z`, a space for the
/// `T`), the same with an ISO 8601 offset (`+0100`); and with no offset,
/// read at `default_offset`: `2026-01-02 03:04:05[.fff]`, `2026-01-02T03:04`,
/// and a date alone (`2026-01-02`, its midnight). A fixed offset, not a time
/// zone: a source in a zone with daylight saving gives its offsets in the
/// text. Epoch numbers are not text dates: a plugin that reads them converts
/// them with `DateTime::from_timestamp`.
pub fn timestamp(text: &str, default_offset: FixedOffset) -> Result<DateTime<Utc>, Invalid> {
    let trimmed = text.trim();
    let with_offset = DateTime::parse_from_rfc3339(trimmed)
        .ok()
        .or_else(|| WITH_OFFSET.iter().find_map(|format| DateTime::parse_from_str(trimmed, format).ok()));
    if let Some(instant) = with_offset {
        return Ok(instant.to_utc());
    }
    let local = WITHOUT_OFFSET
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(trimmed, format).ok())
        .or_else(|| NaiveDate::parse_from_str(trimmed, "%Y-%m-%d").ok().map(|day| day.and_time(NaiveTime::MIN)));
    let Some(local) = local else {
        return Err(Invalid::new(
            InvalidReason::InvalidDate,
            format!(
                "`{trimmed}` is not a date or time: give RFC 3339 (2026-01-02T03:04:05+01:00), \
                 `2026-01-02 03:04:05` or `2026-01-02`"
            ),
        ));
    };
    default_offset.from_local_datetime(&local).single().map(|instant| instant.to_utc()).ok_or_else(|| {
        Invalid::new(InvalidReason::InvalidDate, format!("`{trimmed}` at {default_offset} is out of range"))
    })
}

/// Reads a calendar day with no time (`2026-01-02`), for fields that are days
/// on the source, like a deal's close date.
pub fn date(text: &str) -> Result<NaiveDate, Invalid> {
    let trimmed = text.trim();
    NaiveDate::parse_from_str(trimmed, "%Y-%m-%d").map_err(|error| {
        Invalid::new(InvalidReason::InvalidDate, format!("`{trimmed}` is not a date like 2026-01-02: {error}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::SecondsFormat;
    use proptest::prelude::*;

    fn rfc3339(instant: DateTime<Utc>) -> String {
        instant.to_rfc3339_opts(SecondsFormat::AutoSi, true)
    }

    fn check(input: &str, offset_hours: i32, expected: Result<&str, &str>) {
        let offset = FixedOffset::east_opt(offset_hours * 3600).unwrap();
        let actual = timestamp(input, offset).map(rfc3339).map_err(|invalid| invalid.to_string());
        assert_eq!(actual.as_deref().map_err(String::as_str), expected, "{input:?} at {offset}");
    }

    #[test]
    fn instants_become_utc_with_their_precision() {
        check("2026-01-02T03:04:05Z", 5, Ok("2026-01-02T03:04:05Z"));
        check("2026-01-02T03:04:05+01:00", 5, Ok("2026-01-02T02:04:05Z"));
        check("2026-01-02 03:04:05.120-05:00", 0, Ok("2026-01-02T08:04:05.120Z"));
        check("2026-01-02t03:04:05.123456789z", 0, Ok("2026-01-02T03:04:05.123456789Z"));
        check("2026-01-02T03:04:05+0100", 0, Ok("2026-01-02T02:04:05Z"));
        check("2026-01-02 03:04:05.5+0530", 0, Ok("2026-01-01T21:34:05.500Z"));
        check(" 2026-01-02 03:04:05 ", 1, Ok("2026-01-02T02:04:05Z"));
        check("2026-01-02T03:04:05.000001", -3, Ok("2026-01-02T06:04:05.000001Z"));
        check("2026-01-02 03:04", 0, Ok("2026-01-02T03:04:00Z"));
        check("2026-01-02", 2, Ok("2026-01-01T22:00:00Z"));
        check("2026-01-02", 0, Ok("2026-01-02T00:00:00Z"));
    }

    #[test]
    fn what_is_not_a_date_or_time_is_refused() {
        let forms = "give RFC 3339 (2026-01-02T03:04:05+01:00), `2026-01-02 03:04:05` or `2026-01-02`";
        check("02/01/2026", 0, Err(&format!("`02/01/2026` is not a date or time: {forms}")));
        check("2026-02-30", 0, Err(&format!("`2026-02-30` is not a date or time: {forms}")));
        check("2026-01-02 25:00:00", 0, Err(&format!("`2026-01-02 25:00:00` is not a date or time: {forms}")));
        check("1767225600", 0, Err(&format!("`1767225600` is not a date or time: {forms}")));
        check("", 0, Err(&format!("`` is not a date or time: {forms}")));
        assert_eq!(timestamp("x", FixedOffset::east_opt(0).unwrap()).unwrap_err().reason().as_str(), "invalid_date");
    }

    fn check_date(input: &str, expected: Result<&str, &str>) {
        let actual = date(input).map(|day| day.to_string()).map_err(|invalid| invalid.to_string());
        assert_eq!(actual.as_deref().map_err(String::as_str), expected, "{input:?}");
    }

    #[test]
    fn days_are_iso_dates() {
        check_date("2026-01-02", Ok("2026-01-02"));
        check_date(" 2024-02-29 ", Ok("2024-02-29"));
        check_date("2025-02-29", Err("`2025-02-29` is not a date like 2026-01-02: input is out of range"));
        check_date("2026-01-02T00:00:00Z", Err("`2026-01-02T00:00:00Z` is not a date like 2026-01-02: trailing input"));
        check_date("02.01.2026", Err("`02.01.2026` is not a date like 2026-01-02: input contains invalid characters"));
    }

    proptest! {
        #[test]
        fn timestamps_normalise_idempotently(
            seconds in -62_135_596_800i64..253_402_300_799,
            nanoseconds in prop_oneof![Just(0u32), (0u32..1000).prop_map(|ms| ms * 1_000_000), 0u32..1_000_000_000],
            offset_minutes in -14 * 60..=14 * 60i32,
            default_minutes in -14 * 60..=14 * 60i32,
            form in 0usize..4,
        ) {
            let instant = DateTime::from_timestamp(seconds, nanoseconds).unwrap();
            let offset = FixedOffset::east_opt(offset_minutes * 60).unwrap();
            let default_offset = FixedOffset::east_opt(default_minutes * 60).unwrap();
            let local = instant.with_timezone(&offset);
            let text = match form {
                0 => local.to_rfc3339_opts(SecondsFormat::AutoSi, false),
                1 => local.format("%Y-%m-%d %H:%M:%S%.f%z").to_string(),
                2 => instant.with_timezone(&default_offset).format("%Y-%m-%d %H:%M:%S%.f").to_string(),
                _ => instant.with_timezone(&default_offset).format("%Y-%m-%dT%H:%M:%S%.f").to_string(),
            };
            let once = timestamp(&text, default_offset).unwrap();
            prop_assert_eq!(once, instant, "{}", text);
            prop_assert_eq!(timestamp(&rfc3339(once), default_offset).unwrap(), once);
            prop_assert_eq!(timestamp(&rfc3339(once), FixedOffset::east_opt(0).unwrap()).unwrap(), once);
        }

        #[test]
        fn dates_normalise_idempotently(days in -100_000i32..3_000_000) {
            let day = NaiveDate::from_num_days_from_ce_opt(days).unwrap();
            let once = date(&day.to_string()).unwrap();
            prop_assert_eq!(once, day);
            prop_assert_eq!(date(&once.to_string()).unwrap(), once);
        }

        #[test]
        fn any_text_gives_an_instant_or_a_reason(text in "[0-9 :TZ.+-]{0,30}") {
            match timestamp(&text, FixedOffset::east_opt(3600).unwrap()) {
                Ok(instant) => prop_assert_eq!(timestamp(&rfc3339(instant), FixedOffset::east_opt(0).unwrap()).unwrap(), instant),
                Err(invalid) => prop_assert_eq!(invalid.reason(), InvalidReason::InvalidDate),
            }
        }
    }
}
