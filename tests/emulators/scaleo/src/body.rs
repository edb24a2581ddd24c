//! Reading a write's JSON body the way Scaleo's validation does: a key
//! left out leaves the field as it is, `null` clears it, a value is
//! checked; every field refused is collected, so one 422 lists them all
//! (`info.errors`: field → messages). A key the endpoint does not know is a
//! 400, as an unknown parameter is. Messages never repeat a value (a
//! `payment_details` string is a secret).

use rust_decimal::Decimal;
use serde_json::{Map, Value};

use crate::vendor::{ApiError, FieldErrors};

/// A field as a write gives it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Given<T> {
    /// Not in the body: leave it.
    Absent,
    /// `null`: clear it.
    Null,
    /// A value that passed its check.
    Value(T),
}

impl<T> Given<T> {
    /// Applies the field to `slot`: a value sets it, `null` clears it.
    pub(crate) fn apply(self, slot: &mut Option<T>) {
        match self {
            Given::Absent => {}
            Given::Null => *slot = None,
            Given::Value(value) => *slot = Some(value),
        }
    }

    /// The value given, if any.
    pub(crate) fn value(self) -> Option<T> {
        match self {
            Given::Value(value) => Some(value),
            _ => None,
        }
    }
}

/// A write's body being read.
#[derive(Debug)]
pub(crate) struct Body {
    fields: Map<String, Value>,
    pub(crate) errors: FieldErrors,
}

impl Body {
    /// The body of a request, which must be a JSON object with only `known`
    /// keys.
    pub(crate) fn parse(bytes: &[u8], known: &[&str]) -> Result<Body, ApiError> {
        let value: Value =
            serde_json::from_slice(bytes).map_err(|_| ApiError::bad_request("Invalid JSON in the request body."))?;
        let Value::Object(fields) = value else {
            return Err(ApiError::bad_request("The request body must be a JSON object."));
        };
        if let Some(unknown) = fields.keys().find(|key| !known.contains(&key.as_str())) {
            return Err(ApiError::bad_request(format!("Unknown parameter \"{unknown}\".")));
        }
        Ok(Body { fields, errors: FieldErrors::default() })
    }

    /// The raw value of `name`, if given.
    pub(crate) fn raw(&self, name: &str) -> Option<&Value> {
        self.fields.get(name)
    }

    /// Text of at most `max` characters (numbers are taken as their text).
    pub(crate) fn text(&mut self, name: &str, max: usize) -> Given<String> {
        match self.fields.get(name) {
            None => Given::Absent,
            Some(Value::Null) => Given::Null,
            Some(Value::String(text)) if text.chars().count() <= max => Given::Value(text.clone()),
            Some(Value::String(_)) => {
                self.errors.add(name, format!("{name} should contain at most {max} characters."));
                Given::Absent
            }
            Some(Value::Number(number)) => Given::Value(number.to_string()),
            Some(_) => {
                self.errors.add(name, format!("{name} must be a string."));
                Given::Absent
            }
        }
    }

    /// A non-negative integer, given as a number or as its text.
    pub(crate) fn integer(&mut self, name: &str) -> Given<u64> {
        match self.fields.get(name) {
            None => Given::Absent,
            Some(Value::Null) => Given::Null,
            Some(value) => match integer_of(value) {
                Some(number) => Given::Value(number),
                None => {
                    self.errors.add(name, format!("{name} must be an integer."));
                    Given::Absent
                }
            },
        }
    }

    /// One of `allowed`, as a number or its text.
    pub(crate) fn choice(&mut self, name: &str, allowed: &[u64]) -> Given<u8> {
        match self.integer(name) {
            Given::Value(number) if allowed.contains(&number) => Given::Value(u8::try_from(number).unwrap_or(0)),
            Given::Value(_) => {
                self.errors.add(name, format!("{name} is invalid."));
                Given::Absent
            }
            Given::Null => {
                self.errors.add(name, format!("{name} cannot be blank."));
                Given::Absent
            }
            Given::Absent => Given::Absent,
        }
    }

    /// One of the words `allowed`.
    pub(crate) fn word(&mut self, name: &str, allowed: &[&str]) -> Given<String> {
        match self.text(name, 64) {
            Given::Value(word) if allowed.contains(&word.as_str()) => Given::Value(word),
            Given::Value(_) => {
                self.errors.add(name, format!("{name} is invalid."));
                Given::Absent
            }
            other => other,
        }
    }

    /// A decimal number, given as a number or as its text, with at most four
    /// decimal places and within `range`.
    pub(crate) fn decimal(&mut self, name: &str, range: (Decimal, Decimal)) -> Given<Decimal> {
        let value = match self.fields.get(name) {
            None => return Given::Absent,
            Some(Value::Null) => return Given::Null,
            Some(Value::String(text)) => text.trim().parse::<Decimal>().ok(),
            Some(Value::Number(number)) => number.to_string().parse::<Decimal>().ok(),
            Some(_) => None,
        };
        match value {
            Some(value) if value.normalize().scale() <= 4 && value >= range.0 && value <= range.1 => {
                Given::Value(value)
            }
            Some(_) => {
                self.errors.add(name, format!("{name} is out of range or has more than 4 decimal places."));
                Given::Absent
            }
            None => {
                self.errors.add(name, format!("{name} must be a number."));
                Given::Absent
            }
        }
    }

    /// A string that holds JSON (`contacts`, `payment_details`).
    pub(crate) fn json_string(&mut self, name: &str) -> Given<String> {
        match self.text(name, 65_535) {
            Given::Value(text) if serde_json::from_str::<Value>(&text).is_ok() => Given::Value(text),
            Given::Value(_) => {
                self.errors.add(name, format!("{name} must be a valid JSON string."));
                Given::Absent
            }
            other => other,
        }
    }

    /// A 3-letter currency code, upper-cased.
    pub(crate) fn currency(&mut self, name: &str) -> Given<String> {
        match self.text(name, 3) {
            Given::Value(code) if code.len() == 3 && code.chars().all(|c| c.is_ascii_alphabetic()) => {
                Given::Value(code.to_ascii_uppercase())
            }
            Given::Value(_) => {
                self.errors.add(name, format!("{name} should contain 3 characters."));
                Given::Absent
            }
            other => other,
        }
    }

    /// A list of labels: an array of strings or one comma-separated string.
    pub(crate) fn labels(&mut self, name: &str) -> Given<Vec<String>> {
        let labels = match self.fields.get(name) {
            None => return Given::Absent,
            Some(Value::Null) => return Given::Null,
            Some(Value::String(text)) => Some(text.split(',').map(str::to_owned).collect::<Vec<_>>()),
            Some(Value::Array(items)) => items.iter().map(|item| item.as_str().map(str::to_owned)).collect(),
            Some(_) => None,
        };
        match labels {
            Some(labels) => Given::Value(
                labels.iter().map(|label| label.trim().to_owned()).filter(|label| !label.is_empty()).collect(),
            ),
            None => {
                self.errors.add(name, format!("{name} must be a list of labels."));
                Given::Absent
            }
        }
    }

    /// Integers: an array, one integer, or a comma-separated string.
    pub(crate) fn ids(&mut self, name: &str) -> Given<Vec<u64>> {
        let ids = match self.fields.get(name) {
            None => return Given::Absent,
            Some(Value::Null) => return Given::Null,
            Some(Value::Array(items)) => items.iter().map(integer_of).collect::<Option<Vec<_>>>(),
            Some(Value::String(text)) => {
                text.split(',').filter(|part| !part.trim().is_empty()).map(|part| part.trim().parse().ok()).collect()
            }
            Some(value) => integer_of(value).map(|id| vec![id]),
        };
        match ids {
            Some(ids) => Given::Value(ids),
            None => {
                self.errors.add(name, format!("{name} must be a list of ids."));
                Given::Absent
            }
        }
    }

    /// A JSON object.
    pub(crate) fn object(&mut self, name: &str) -> Given<Map<String, Value>> {
        match self.fields.get(name) {
            None => Given::Absent,
            Some(Value::Null) => Given::Null,
            Some(Value::Object(object)) => Given::Value(object.clone()),
            Some(_) => {
                self.errors.add(name, format!("{name} must be an object."));
                Given::Absent
            }
        }
    }

    /// Marks `name` required: an error when it is absent or null.
    pub(crate) fn require(&mut self, name: &str) {
        if matches!(self.fields.get(name), None | Some(Value::Null)) {
            self.errors.add(name, format!("{name} cannot be blank."));
        }
    }

    /// The errors collected, as one 422.
    pub(crate) fn finish(self) -> Result<(), ApiError> {
        self.errors.into_result()
    }
}

/// An integer given as a number or as its text.
pub(crate) fn integer_of(value: &Value) -> Option<u64> {
    match value {
        Value::Number(number) => number.as_u64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_left_cleared_or_checked() {
        let body = r#"{"firstname": "Zoë", "lastname": null, "status": "3", "tags": "tier:gold, vip,,",
                         "payment_details": "{\"method\":\"paypal\"}", "contacts": "not json", "phone": 12}"#;
        let mut body = Body::parse(
            body.as_bytes(),
            &["firstname", "lastname", "status", "tags", "payment_details", "contacts", "phone"],
        )
        .expect("an object");
        assert_eq!(body.text("firstname", 255), Given::Value("Zoë".into()));
        assert_eq!(body.text("lastname", 255), Given::Null);
        assert_eq!(body.text("company_name", 255), Given::Absent);
        assert_eq!(body.choice("status", &[1, 2, 3, 4]), Given::Value(3));
        assert_eq!(body.labels("tags"), Given::Value(vec!["tier:gold".into(), "vip".into()]));
        assert!(matches!(body.json_string("payment_details"), Given::Value(_)));
        assert_eq!(body.json_string("contacts"), Given::Absent);
        assert_eq!(body.text("phone", 64), Given::Value("12".into()));
        let error = body.finish().expect_err("contacts is not JSON");
        assert_eq!(error.errors.keys().collect::<Vec<_>>(), ["contacts"]);
        assert!(!format!("{error:?}").contains("not json"), "messages never repeat a value");
    }

    #[test]
    fn unknown_keys_and_bad_json_are_400s() {
        assert_eq!(Body::parse(br#"{"nickname": 1}"#, &["email"]).expect_err("unknown").status.as_u16(), 400);
        assert_eq!(Body::parse(b"{", &["email"]).expect_err("not JSON").status.as_u16(), 400);
        assert_eq!(Body::parse(b"[]", &["email"]).expect_err("not an object").status.as_u16(), 400);
    }

    #[test]
    fn decimals_keep_four_places_at_most() {
        let mut body = Body::parse(br#"{"a": "12.5", "b": 12.34567, "c": "x", "d": 101}"#, &["a", "b", "c", "d"])
            .expect("an object");
        let range = (Decimal::ZERO, Decimal::ONE_HUNDRED);
        assert_eq!(body.decimal("a", range), Given::Value(Decimal::new(125, 1)));
        assert_eq!(body.decimal("b", range), Given::Absent);
        assert_eq!(body.decimal("c", range), Given::Absent);
        assert_eq!(body.decimal("d", range), Given::Absent);
        assert_eq!(body.errors.0.len(), 3);
    }
}
