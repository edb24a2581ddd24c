//! Normalisers: one function per kind of value a source gives as text, each
//! returning the canonical value or an [`Invalid`] with a reason code from a
//! closed list and a message a person can act on.
//!
//! | function | gives | e.g. |
//! | --- | --- | --- |
//! | [`email`] | the address as given and its matching key | `" Ada@Example.COM"` → `ada@example.com` |
//! | [`phone`] | E.164 | `"020 7946 0018"` in `GB` → `+442079460018` |
//! | [`currency`] | a [`Currency`](crate::Currency) | `"eur"`, `"978"` → `EUR` |
//! | [`amount`] | an exact `Decimal` | `"1.234,56"` → `1234.56` |
//! | [`timestamp`] | a UTC instant with the source's precision | `"2026-01-02 03:04:05"` at +01:00 → `2026-01-02T02:04:05Z` |
//! | [`date`] | a calendar day | `"2026-01-02"` |
//!
//! Every normaliser is idempotent: given the text form of its own output it
//! returns that output again, which the property tests beside each one check.
//! A rejected value is an outcome, not a failure of the run: a plugin turns
//! it into a reject whose code is [`InvalidReason::as_str`].
//!
//! ```
//! use cutover_schema::normalize::{self, InvalidReason};
//!
//! let email = normalize::email(" Ada.Lovelace@Example.COM ").unwrap();
//! assert_eq!(email.address, "Ada.Lovelace@Example.COM");
//! assert_eq!(email.matching_key, "ada.lovelace@example.com");
//!
//! let invalid = normalize::amount("€12,50", None).unwrap_err();
//! assert_eq!(invalid.reason().as_str(), "invalid_amount");
//! assert_eq!(invalid.reason(), InvalidReason::InvalidAmount);
//! ```

mod amount;
mod currency;
mod email;
mod phone;
mod time;

pub use amount::{DecimalMark, amount};
pub use currency::currency;
pub use email::{NormalizedEmail, email};
pub use phone::{PhoneRegion, phone};
pub use time::{date, timestamp};

use std::fmt;

/// A value a normaliser refused: why, as a code, and a message that quotes
/// the value and says what would be accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Invalid {
    reason: InvalidReason,
    message: String,
}

impl Invalid {
    pub(crate) fn new(reason: InvalidReason, message: impl Into<String>) -> Invalid {
        Invalid { reason, message: message.into() }
    }

    /// Why the value was refused.
    pub fn reason(&self) -> InvalidReason {
        self.reason
    }

    /// What was wrong, for a person: lowercase, no final period, so it can be chained.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// Why a normaliser refused a value: a closed list of stable codes for the
/// reject ledger and for reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InvalidReason {
    /// Not an email address.
    InvalidEmail,
    /// Not a phone number that can be written in E.164.
    InvalidPhone,
    /// Not an ISO 4217 currency code.
    UnknownCurrency,
    /// Not an amount.
    InvalidAmount,
    /// An amount that reads two ways (`1,234`: a thousand and more, or one and
    /// a bit); give the source's decimal mark to read it.
    AmbiguousAmount,
    /// Not a date or time in an accepted form.
    InvalidDate,
}

impl InvalidReason {
    /// The stable snake_case code.
    pub fn as_str(self) -> &'static str {
        match self {
            InvalidReason::InvalidEmail => "invalid_email",
            InvalidReason::InvalidPhone => "invalid_phone",
            InvalidReason::UnknownCurrency => "unknown_currency",
            InvalidReason::InvalidAmount => "invalid_amount",
            InvalidReason::AmbiguousAmount => "ambiguous_amount",
            InvalidReason::InvalidDate => "invalid_date",
        }
    }
}

impl fmt::Display for InvalidReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
