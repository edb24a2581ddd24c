//! Phone numbers, to E.164.

use super::{Invalid, InvalidReason};
use crate::{CompactString, format_compact};
use phonenumber::{Mode, ParseError, country};

/// The region a number without a country code is read in: an ISO 3166-1
/// alpha-2 code, as the phone numbering plans know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PhoneRegion(country::Id);

impl PhoneRegion {
    /// The region with this code (`GB`, `us`); `None` for a code no numbering plan has.
    pub fn from_code(code: &str) -> Option<PhoneRegion> {
        code.trim().to_ascii_uppercase().parse().ok().map(PhoneRegion)
    }

    /// The region's upper-case code.
    pub fn code(&self) -> &str {
        self.0.as_ref()
    }
}

/// Writes a phone number in E.164 (`+442079460018`), reading a number with no
/// country code as one in `default_region`.
///
/// Parsing and validation are the `phonenumber` crate's (libphonenumber's
/// rules and metadata). A number must be valid in its country's numbering
/// plan, not merely the right length. A number with an extension is refused,
/// since E.164 has no place for one; so is anything that is not a number.
pub fn phone(text: &str, default_region: Option<PhoneRegion>) -> Result<CompactString, Invalid> {
    let trimmed = text.trim();
    let invalid =
        |why: &str| Invalid::new(InvalidReason::InvalidPhone, format!("`{trimmed}` is not a phone number: {why}"));
    if trimmed.is_empty() {
        return Err(invalid("it is empty"));
    }
    let number = phonenumber::parse(default_region.map(|region| region.0), trimmed).map_err(|error| match error {
        ParseError::InvalidCountryCode if default_region.is_none() => {
            invalid("it has no country code (+…) and no default region was given")
        }
        error => invalid(&error.to_string()),
    })?;
    if number.extension().is_some() {
        return Err(invalid("it has an extension, which E.164 cannot hold"));
    }
    if !phonenumber::is_valid(&number) {
        return Err(invalid(&format!("no number like it is valid for +{}", number.code().value())));
    }
    Ok(format_compact!("{}", number.format().mode(Mode::E164)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check(input: &str, region: Option<&str>, expected: Result<&str, &str>) {
        let region = region.map(|code| PhoneRegion::from_code(code).unwrap());
        let actual = phone(input, region).map_err(|invalid| invalid.to_string());
        assert_eq!(actual.as_deref().map_err(String::as_str), expected, "{input:?} in {region:?}");
    }

    #[test]
    fn numbers_become_e164() {
        check("+44 20 7946 0018", None, Ok("+442079460018"));
        check("020 7946 0018", Some("GB"), Ok("+442079460018"));
        check("(650) 253-0000", Some("US"), Ok("+16502530000"));
        check("650.253.0000", Some("us"), Ok("+16502530000"));
        check("+1 650 253 0000", Some("DE"), Ok("+16502530000"));
        check("030 123456", Some("DE"), Ok("+4930123456"));
        check("0044 20 7946 0018", Some("DE"), Ok("+442079460018"));
        check("tel:+81-3-1234-5678", None, Ok("+81312345678"));
        check("  +442079460018 ", Some("FR"), Ok("+442079460018"));
    }

    #[test]
    fn what_cannot_be_e164_is_refused() {
        check("", Some("GB"), Err("`` is not a phone number: it is empty"));
        check(
            "020 7946 0018",
            None,
            Err("`020 7946 0018` is not a phone number: it has no country code (+…) and no default region was given"),
        );
        check("call me", Some("GB"), Err("`call me` is not a phone number: not a number"));
        check(
            "+1 650 253 0000 ext. 123",
            None,
            Err("`+1 650 253 0000 ext. 123` is not a phone number: it has an extension, which E.164 cannot hold"),
        );
        check(
            "+1 111 111 1111",
            None,
            Err("`+1 111 111 1111` is not a phone number: no number like it is valid for +1"),
        );
        assert_eq!(phone("x", None).unwrap_err().reason().as_str(), "invalid_phone");
    }

    #[test]
    fn regions_are_iso_codes() {
        assert_eq!(PhoneRegion::from_code(" gb").map(|region| region.code().to_owned()).as_deref(), Some("GB"));
        assert_eq!(PhoneRegion::from_code("XX"), None);
        assert_eq!(PhoneRegion::from_code("United Kingdom"), None);
    }

    proptest! {
        #[test]
        fn normalising_is_idempotent(
            text in "[+]?[0-9 ().-]{4,18}",
            region in prop::sample::select(vec![None, Some("GB"), Some("US"), Some("DE"), Some("JP"), Some("BR")]),
        ) {
            let region = region.map(|code| PhoneRegion::from_code(code).unwrap());
            if let Ok(e164) = phone(&text, region) {
                prop_assert_eq!(phone(&e164, None), Ok(e164.clone()));
                prop_assert_eq!(phone(&e164, region), Ok(e164.clone()));
            }
        }

        #[test]
        fn any_text_gives_a_result_or_a_reason(text in "\\PC{0,30}") {
            if let Err(invalid) = phone(&text, PhoneRegion::from_code("GB")) {
                prop_assert_eq!(invalid.reason(), InvalidReason::InvalidPhone);
            }
        }
    }
}
