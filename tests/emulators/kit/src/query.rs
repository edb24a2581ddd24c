//! Query strings as decoded pairs, with bracketed names (`page[cursor]`)
//! kept as they are.

use axum::http::Uri;

/// The decoded query parameters of one request, in order.
#[derive(Debug, Clone, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// The parameters of a request's URI.
    pub fn from_uri(uri: &Uri) -> Self {
        Params::parse(uri.query().unwrap_or(""))
    }

    /// The parameters of a query string (without the `?`).
    pub fn parse(query: &str) -> Self {
        Params {
            pairs: form_urlencoded::parse(query.as_bytes())
                .map(|(name, value)| (name.into_owned(), value.into_owned()))
                .collect(),
        }
    }

    /// The first value given for `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(candidate, _)| candidate == name).map(|(_, value)| value.as_str())
    }

    /// The comma-separated values given for `name`, trimmed and non-empty.
    pub fn list(&self, name: &str) -> Vec<String> {
        self.get(name)
            .map(|value| value.split(',').map(str::trim).filter(|item| !item.is_empty()).map(str::to_owned).collect())
            .unwrap_or_default()
    }

    /// The query re-encoded with `name` set to `value` (or removed).
    pub fn with(&self, name: &str, value: Option<&str>) -> String {
        let mut serializer = form_urlencoded::Serializer::new(String::new());
        for (candidate, existing) in &self.pairs {
            if candidate != name {
                serializer.append_pair(candidate, existing);
            }
        }
        if let Some(value) = value {
            serializer.append_pair(name, value);
        }
        serializer.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bracketed_names_round_trip() {
        let params = Params::parse("page%5Bsize%5D=5&filter=equals(email,%22a%40b.com%22)");
        assert_eq!(params.get("page[size]"), Some("5"));
        assert_eq!(params.get("filter"), Some("equals(email,\"a@b.com\")"));
        let next = Params::parse(&params.with("page[cursor]", Some("abc")));
        assert_eq!(next.get("page[cursor]"), Some("abc"));
        assert_eq!(next.get("page[size]"), Some("5"));
    }
}
