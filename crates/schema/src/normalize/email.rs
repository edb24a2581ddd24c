//! Email addresses: kept as given, with a key to match people on.

use super::{Invalid, InvalidReason};
use crate::CompactString;
use email_address::{EmailAddress, Error, Options};

/// An address that parsed, and the key to match it on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormalizedEmail {
    /// The address as given, less surrounding white space: what a destination stores.
    pub address: CompactString,
    /// The key two records of one person share: the address in lower case.
    pub matching_key: CompactString,
}

/// Parses `text` as a bare address and gives it back with its matching key.
///
/// The parser is the `email_address` crate (RFC 5322), set to what a contact
/// field holds: no display name or angle brackets, no IP-literal domain, and a
/// domain with at least one dot.
///
/// The key lowercases the local part as well as the domain. Strictly the local
/// part is case-sensitive, but no mailbox provider treats it so, and splitting
/// one person in two over case would be the worse mistake. Nothing else is
/// rewritten: dots and `+tags` stay (they are distinct addresses on most
/// providers), and a Unicode domain is not converted to punycode.
pub fn email(text: &str) -> Result<NormalizedEmail, Invalid> {
    let address = text.trim();
    let options = Options::default().with_required_tld().without_domain_literal().without_display_text();
    let parsed = EmailAddress::parse_with_options(address, options).map_err(|error| {
        let why = match error {
            _ if address.is_empty() => "it is empty",
            Error::MissingSeparator => "it has no @",
            Error::LocalPartEmpty => "nothing comes before the @",
            Error::DomainEmpty => "nothing comes after the @",
            Error::DomainTooFew => "the domain has no dot",
            Error::LocalPartTooLong | Error::DomainTooLong | Error::SubDomainTooLong => "it is too long",
            Error::UnsupportedDisplayName | Error::MissingDisplayName | Error::MissingEndBracket => {
                "it has a display name or angle brackets; give the bare address"
            }
            Error::UnsupportedDomainLiteral | Error::InvalidIPAddress => "its domain is an IP address",
            _ => "it has a character or a dot where an address cannot",
        };
        Invalid::new(InvalidReason::InvalidEmail, format!("`{address}` is not an email address: {why}"))
    })?;
    let matching_key = format!("{}@{}", lower_case(parsed.local_part()), lower_case(parsed.domain()));
    Ok(NormalizedEmail { address: address.into(), matching_key: matching_key.into() })
}

/// Each character in lower case where that is one character. A letter whose
/// lower case is several (`İ` becomes `i` and a combining dot) stays as it
/// is: the combining dot is not valid in an address, and a key must be an
/// address that normalises to itself.
fn lower_case(text: &str) -> String {
    text.chars()
        .map(|character| {
            let mut lower = character.to_lowercase();
            match (lower.next(), lower.next()) {
                (Some(single), None) => single,
                _ => character,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check(input: &str, expected: Result<&str, &str>) {
        let actual = email(input).map(|normalized| normalized.matching_key).map_err(|invalid| invalid.to_string());
        assert_eq!(actual.as_deref().map_err(String::as_str), expected, "{input:?}");
    }

    #[test]
    fn keys_are_lower_case_and_addresses_stay_as_given() {
        check("ada@example.com", Ok("ada@example.com"));
        check("  Ada.Lovelace@Example.COM\t", Ok("ada.lovelace@example.com"));
        check("ADA+news@EXAMPLE.co.uk", Ok("ada+news@example.co.uk"));
        check("a.b.c@example.org", Ok("a.b.c@example.org"));
        check("Zoë@Exämple.de", Ok("zoë@exämple.de"));
        check("İlkay@ÖRNEK.com.tr", Ok("İlkay@örnek.com.tr"));
        check("ΣΊΣΥΦΟΣ@example.gr", Ok("σίσυφοσ@example.gr"));
        check("ひろし@example.jp", Ok("ひろし@example.jp"));
        check("\"Ada Lovelace\"@example.com", Ok("\"ada lovelace\"@example.com"));
        assert_eq!(email(" Ada@Example.com ").unwrap().address, "Ada@Example.com");
    }

    #[test]
    fn what_is_not_a_bare_address_is_refused() {
        check("", Err("`` is not an email address: it is empty"));
        check("ada", Err("`ada` is not an email address: it has no @"));
        check("@example.com", Err("`@example.com` is not an email address: nothing comes before the @"));
        check("ada@", Err("`ada@` is not an email address: nothing comes after the @"));
        check("ada@localhost", Err("`ada@localhost` is not an email address: the domain has no dot"));
        check(
            "Ada <ada@example.com>",
            Err(
                "`Ada <ada@example.com>` is not an email address: it has a display name or angle brackets; give the bare address",
            ),
        );
        check("ada@[127.0.0.1]", Err("`ada@[127.0.0.1]` is not an email address: its domain is an IP address"));
        check(
            "ada lovelace@example.com",
            Err(
                "`ada lovelace@example.com` is not an email address: it has a character or a dot where an address cannot",
            ),
        );
        check(
            "ada..l@example.com",
            Err("`ada..l@example.com` is not an email address: it has a character or a dot where an address cannot"),
        );
        assert_eq!(email("ada").unwrap_err().reason().as_str(), "invalid_email");
    }

    proptest! {
        #[test]
        fn normalising_is_idempotent(text in "[ \t]?[A-Za-zÀ-ÿİßǅ0-9._+-]{1,12}@[A-Za-zÀ-ÿ0-9-]{1,10}\\.[A-Za-z]{2,6}[ ]?") {
            if let Ok(normalized) = email(&text) {
                prop_assert_eq!(&email(&normalized.address).unwrap(), &normalized);
                let again = email(&normalized.matching_key).unwrap();
                prop_assert_eq!(&again.matching_key, &normalized.matching_key);
                prop_assert_eq!(&again.address, &normalized.matching_key);
            }
        }

        #[test]
        fn any_text_gives_a_result_or_a_reason(text in "\\PC{0,40}") {
            match email(&text) {
                Ok(normalized) => prop_assert_eq!(email(&normalized.matching_key).unwrap().matching_key, normalized.matching_key),
                Err(invalid) => prop_assert_eq!(invalid.reason(), InvalidReason::InvalidEmail),
            }
        }
    }
}
