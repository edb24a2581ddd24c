//! What the schema can judge about a record on its own, before any platform
//! sees it: a contact's email must be an address. A record that fails is
//! rejected with the normaliser's reason code, never written.
//!
//! Checks here are only those no destination would want to skip; platform
//! rules (required fields, lengths) belong to the destination plugin.

use crate::normalize::{self, Invalid};
use crate::{Entity, Record};

/// Checks `record`; the first problem found, if any.
pub fn validate(record: &Record) -> Result<(), Invalid> {
    match &record.entity {
        Entity::Contact(contact) => {
            if let Some(email) = &contact.email {
                normalize::email(email)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Contact;

    fn check(email: Option<&str>, expected: Option<&str>) {
        let record = Record::new(
            "test",
            "1",
            chrono::DateTime::UNIX_EPOCH,
            Entity::Contact(Contact { email: email.map(Into::into), ..Contact::default() }),
        );
        let got = validate(&record).err().map(|invalid| invalid.reason().as_str());
        assert_eq!(got, expected, "{email:?}");
    }

    #[test]
    fn a_contact_needs_a_real_address_when_it_has_one() {
        check(Some("ada@example.org"), None);
        check(Some("  Ada@Example.ORG "), None);
        check(None, None);
        check(Some("ada.example.org"), Some("invalid_email"));
        check(Some("ada@"), Some("invalid_email"));
        check(Some("not an email"), Some("invalid_email"));
    }
}
