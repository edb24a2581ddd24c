//! The `filter` grammar: `op(field,value)` conditions joined by `and(...)`
//! or by bare commas; strings in single or double quotes, datetimes bare,
//! lists in brackets.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use crate::errors::KlError;

/// A value in a condition.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum FilterValue {
    /// A quoted string.
    Text(String),
    /// A bare token: a datetime, number, boolean or null.
    Bare(String),
    /// `["a","b"]`.
    List(Vec<FilterValue>),
}

impl FilterValue {
    pub(crate) fn text(&self) -> Option<&str> {
        match self {
            FilterValue::Text(text) | FilterValue::Bare(text) => Some(text),
            FilterValue::List(_) => None,
        }
    }

    /// The value as a moment: ISO 8601 datetime or date, quoted or not. A
    /// datetime without an offset (`2018-12-27T12:30:00`,
    /// `2018-12-27T12:30:00.710`, as Klaviyo's date formats guide lists and
    /// the Python SDK's `FilterBuilder` sends for a naive datetime) is UTC.
    pub(crate) fn moment(&self) -> Option<DateTime<Utc>> {
        let text = self.text()?;
        // An unencoded `+00:00` arrives as ` 00:00`.
        let repaired = text.replace(' ', "+");
        DateTime::parse_from_rfc3339(text)
            .or_else(|_| DateTime::parse_from_rfc3339(&repaired))
            .map(|moment| moment.with_timezone(&Utc))
            .ok()
            .or_else(|| {
                ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
                    .iter()
                    .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
                    .map(|moment| moment.and_utc())
            })
            .or_else(|| {
                NaiveDate::parse_from_str(text, "%Y-%m-%d")
                    .ok()
                    .and_then(|day| day.and_hms_opt(0, 0, 0))
                    .map(|moment| moment.and_utc())
            })
    }
}

/// One `op(field,value)`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Condition {
    pub(crate) operator: String,
    pub(crate) field: String,
    pub(crate) value: FilterValue,
}

impl Condition {
    /// Whether `actual` satisfies a comparison condition on moments.
    pub(crate) fn compare_moment(&self, actual: Option<DateTime<Utc>>) -> Result<bool, KlError> {
        let expected = self.value.moment().ok_or_else(|| {
            KlError::invalid_parameter(
                format!("'{}' is not a valid datetime for {}", describe(&self.value), self.field),
                "filter",
            )
        })?;
        let Some(actual) = actual else {
            return Ok(false);
        };
        Ok(match self.operator.as_str() {
            "greater-than" => actual > expected,
            "greater-or-equal" => actual >= expected,
            "less-than" => actual < expected,
            "less-or-equal" => actual <= expected,
            "equals" => actual == expected,
            _ => return Err(self.unsupported()),
        })
    }

    /// Whether `actual` satisfies a condition on text.
    pub(crate) fn compare_text(&self, actual: Option<&str>) -> Result<bool, KlError> {
        let actual = actual.unwrap_or("");
        Ok(match (self.operator.as_str(), &self.value) {
            ("equals", value) => value.text() == Some(actual),
            ("any", FilterValue::List(values)) => values.iter().any(|value| value.text() == Some(actual)),
            ("contains", value) => value.text().is_some_and(|text| actual.contains(text)),
            ("starts-with", value) => value.text().is_some_and(|text| actual.starts_with(text)),
            ("ends-with", value) => value.text().is_some_and(|text| actual.ends_with(text)),
            _ => return Err(self.unsupported()),
        })
    }

    pub(crate) fn unsupported(&self) -> KlError {
        KlError::invalid_parameter(
            format!("The operator '{}' is not supported for field '{}'", self.operator, self.field),
            "filter",
        )
    }
}

fn describe(value: &FilterValue) -> String {
    match value {
        FilterValue::Text(text) | FilterValue::Bare(text) => text.clone(),
        FilterValue::List(values) => format!("{} values", values.len()),
    }
}

/// Parses a whole `filter` value into the conditions it ANDs together.
pub(crate) fn parse(filter: &str) -> Result<Vec<Condition>, KlError> {
    let mut parser = Parser { characters: filter.chars().collect(), position: 0 };
    let conditions = parser.conditions()?;
    parser.skip_spaces();
    if parser.position != parser.characters.len() {
        return Err(parser.error());
    }
    Ok(conditions)
}

struct Parser {
    characters: Vec<char>,
    position: usize,
}

impl Parser {
    fn error(&self) -> KlError {
        KlError::invalid_parameter(format!("Invalid filter provided at position {}", self.position), "filter")
    }

    fn peek(&self) -> Option<char> {
        self.characters.get(self.position).copied()
    }

    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.position += 1;
        }
    }

    fn expect(&mut self, wanted: char) -> Result<(), KlError> {
        self.skip_spaces();
        if self.peek() == Some(wanted) {
            self.position += 1;
            Ok(())
        } else {
            Err(self.error())
        }
    }

    fn word(&mut self) -> String {
        self.skip_spaces();
        let start = self.position;
        while self.peek().is_some_and(|c| !matches!(c, '(' | ')' | ',' | '[' | ']' | '"' | '\'') && !c.is_whitespace())
        {
            self.position += 1;
        }
        self.characters[start..self.position].iter().collect()
    }

    /// Conditions separated by commas, each possibly an `and(...)`.
    fn conditions(&mut self) -> Result<Vec<Condition>, KlError> {
        let mut conditions = Vec::new();
        loop {
            let operator = self.word();
            if operator.is_empty() {
                return Err(self.error());
            }
            self.expect('(')?;
            if operator == "and" {
                conditions.extend(self.conditions()?);
            } else if operator == "has" {
                // `has(field)`: no value.
                let field = self.word();
                conditions.push(Condition { operator, field, value: FilterValue::List(Vec::new()) });
            } else {
                let field = self.word();
                self.expect(',')?;
                let value = self.value()?;
                conditions.push(Condition { operator, field, value });
            }
            self.expect(')')?;
            self.skip_spaces();
            if self.peek() == Some(',') {
                self.position += 1;
            } else {
                return Ok(conditions);
            }
        }
    }

    fn value(&mut self) -> Result<FilterValue, KlError> {
        self.skip_spaces();
        match self.peek() {
            Some(quote @ ('"' | '\'')) => {
                self.position += 1;
                let start = self.position;
                while self.peek().is_some_and(|c| c != quote) {
                    self.position += 1;
                }
                let text: String = self.characters[start..self.position].iter().collect();
                self.expect(quote)?;
                Ok(FilterValue::Text(text))
            }
            Some('[') => {
                self.position += 1;
                let mut values = Vec::new();
                loop {
                    self.skip_spaces();
                    if self.peek() == Some(']') {
                        self.position += 1;
                        return Ok(FilterValue::List(values));
                    }
                    values.push(self.value()?);
                    self.skip_spaces();
                    if self.peek() == Some(',') {
                        self.position += 1;
                    }
                }
            }
            Some(_) => {
                let word = self.word();
                if word.is_empty() { Err(self.error()) } else { Ok(FilterValue::Bare(word)) }
            }
            None => Err(self.error()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(filter: &str, expected: &[(&str, &str, FilterValue)]) {
        let conditions = parse(filter).unwrap_or_else(|error| panic!("{filter}: {error:?}"));
        let expected: Vec<Condition> = expected
            .iter()
            .map(|(operator, field, value)| Condition {
                operator: (*operator).to_owned(),
                field: (*field).to_owned(),
                value: value.clone(),
            })
            .collect();
        assert_eq!(conditions, expected, "{filter}");
    }

    fn text(value: &str) -> FilterValue {
        FilterValue::Text(value.to_owned())
    }

    #[test]
    fn filters() {
        check("equals(email,\"a@b.com\")", &[("equals", "email", text("a@b.com"))]);
        check("equals(email,'a@b.com')", &[("equals", "email", text("a@b.com"))]);
        check(
            "greater-than(updated,2024-01-01T00:00:00Z)",
            &[("greater-than", "updated", FilterValue::Bare("2024-01-01T00:00:00Z".to_owned()))],
        );
        check(
            "and(equals(metric_id,\"AbC123\"),greater-or-equal(datetime,2024-01-01))",
            &[
                ("equals", "metric_id", text("AbC123")),
                ("greater-or-equal", "datetime", FilterValue::Bare("2024-01-01".to_owned())),
            ],
        );
        check(
            "equals(profile_id,\"P\"), any(email,[\"a@b.co\", 'c@d.co'])",
            &[
                ("equals", "profile_id", text("P")),
                ("any", "email", FilterValue::List(vec![text("a@b.co"), text("c@d.co")])),
            ],
        );
    }

    #[test]
    fn has_and_naive_datetimes() {
        check(
            "has(profile),equals(metric_id,\"M\")",
            &[("has", "profile", FilterValue::List(Vec::new())), ("equals", "metric_id", text("M"))],
        );
        let naive = FilterValue::Bare("2018-12-27T12:30:00.710".to_owned()).moment();
        assert_eq!(naive.map(|moment| moment.timestamp_millis()), Some(1_545_913_800_710));
        let plain = FilterValue::Bare("2018-12-27T12:30:00".to_owned()).moment();
        assert_eq!(plain.map(|moment| moment.timestamp()), Some(1_545_913_800));
    }

    #[test]
    fn malformed_filters_are_invalid_parameters() {
        for filter in ["equals(email", "equals(email,)", "", "equals(email,\"a\") trailing"] {
            let error = parse(filter).err();
            assert_eq!(error.map(|error| error.code), Some("invalid"), "{filter}");
        }
    }
}
