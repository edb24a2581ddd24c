//! Sub-id carry-over: which of the old link's parameters go where in the new
//! link, and the `Location` built from them.
//!
//! Only the parameters a rule names travel; everything else in the request
//! (personal data included) is dropped, never passed raw. Values are decoded
//! and percent-encoded again so that only unreserved bytes stand for
//! themselves: no `&`, `#`, `/`, CR or LF can reach the new link or the
//! header.

use crate::config::{ParamRule, Place};
use crate::key::push_strictly_encoded;
use crate::presets;
use http::HeaderValue;
use std::borrow::Cow;

/// The most rules a config may have (they are tried for each parameter).
pub const MAX_RULES: usize = 32;

/// Why sub-id rules or a target cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RuleError {
    /// A parameter name is empty or has a byte that is not unreserved.
    #[error(
        "[redirects] params: parameter name `{0}` is not usable: use letters, digits, `-`, `.`, `_` or `~` (at most 64)"
    )]
    BadName(String),
    /// More rules than [`MAX_RULES`].
    #[error("[redirects] params: {0} rules with the preset's; at most {MAX_RULES}")]
    TooMany(usize),
    /// The preset is not one of [`presets::NAMES`].
    #[error("[redirects] preset `{name}` is unknown; known presets: {known}")]
    UnknownPreset {
        /// The name given.
        name: String,
        /// The known ones.
        known: String,
    },
}

/// One compiled rule.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    from: Box<str>,
    from_in: Place,
    to: Box<str>,
    to_in: Place,
}

/// The compiled sub-id rules: the config's `params`, then its preset's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rewriter {
    rules: Vec<Rule>,
    /// The names rules read from the path, for [`crate::key::strip_path_parameters`].
    path_names: Vec<Box<str>>,
}

fn check_name(name: &str) -> Result<Box<str>, RuleError> {
    let usable = !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|byte| byte.is_ascii_alphanumeric() || b"-._~".contains(&byte));
    if usable { Ok(name.into()) } else { Err(RuleError::BadName(name.to_owned())) }
}

impl Rewriter {
    /// Compiles `params` followed by the rules of `preset`.
    pub fn new(params: &[ParamRule], preset: Option<&str>) -> Result<Rewriter, RuleError> {
        let preset_rules = match preset {
            None => Vec::new(),
            Some(name) => presets::rules(name)
                .ok_or_else(|| RuleError::UnknownPreset { name: name.to_owned(), known: presets::NAMES.join(", ") })?,
        };
        let all: Vec<&ParamRule> = params.iter().chain(preset_rules.iter()).collect();
        if all.len() > MAX_RULES {
            return Err(RuleError::TooMany(all.len()));
        }
        let mut rules = Vec::with_capacity(all.len());
        let mut path_names: Vec<Box<str>> = Vec::new();
        for rule in all {
            let from = check_name(&rule.from)?;
            if rule.from_in == Place::Path && !path_names.contains(&from) {
                path_names.push(from.clone());
            }
            rules.push(Rule { from, from_in: rule.from_in, to: check_name(&rule.to)?, to_in: rule.to_in });
        }
        Ok(Rewriter { rules, path_names })
    }

    /// The parameter names rules read from the path.
    pub fn path_names(&self) -> &[Box<str>] {
        &self.path_names
    }

    /// Whether there is no rule (every request parameter is dropped).
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The `Location` for `target`: its URL with the values the rules take
    /// from the request's `query` and from `path_values` (the values of the
    /// path parameters found, by their index in [`Rewriter::path_names`]).
    /// No value taken: the target's own prebuilt header, no allocation.
    pub fn location(&self, target: &Target, query: Option<&str>, path_values: &[Option<&str>]) -> HeaderValue {
        if self.rules.is_empty() {
            return target.location.clone();
        }
        // The value each new parameter gets, by rule index: the first rule
        // (in order) whose old parameter the request has, non-empty.
        let mut taken: [Option<Cow<'_, str>>; MAX_RULES] = [const { None }; MAX_RULES];
        let mut any = false;
        if let Some(query) = query.filter(|query| !query.is_empty()) {
            for (name, value) in form_urlencoded::parse(query.as_bytes()) {
                if value.is_empty() {
                    continue;
                }
                for (index, rule) in self.rules.iter().enumerate() {
                    if rule.from_in == Place::Query && *rule.from == *name && taken[index].is_none() {
                        taken[index] = Some(value.clone());
                        any = true;
                    }
                }
            }
        }
        for (index, rule) in self.rules.iter().enumerate() {
            if rule.from_in == Place::Path
                && let Some(position) = self.path_names.iter().position(|name| *name == rule.from)
                && let Some(Some(value)) = path_values.get(position)
                && !value.is_empty()
            {
                let decoded = percent_encoding::percent_decode_str(value).decode_utf8_lossy();
                taken[index] = Some(decoded);
                any = true;
            }
        }
        if !any {
            return target.location.clone();
        }
        // One value per new parameter: the first rule's that has one.
        let mut chosen: [Option<(&Rule, &str)>; MAX_RULES] = [None; MAX_RULES];
        let mut count = 0;
        for (index, rule) in self.rules.iter().enumerate() {
            let Some(value) = taken[index].as_deref() else { continue };
            if chosen[..count].iter().flatten().any(|(other, _)| other.to == rule.to && other.to_in == rule.to_in) {
                continue;
            }
            chosen[count] = Some((rule, value));
            count += 1;
        }
        let chosen: Vec<(&Rule, &str)> = chosen[..count].iter().flatten().copied().collect();
        target.build(&chosen).unwrap_or_else(|| target.location.clone())
    }
}

/// A redirect target (a new link or the fallback), checked and split for
/// adding parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The whole URL as a header value, for answers that add nothing.
    location: HeaderValue,
    /// Scheme, authority and the path up to where path parameters go.
    head: Box<str>,
    /// The rest of the path (a Partnerize `/destination:…` stays last, and a
    /// trailing `/` stays trailing).
    tail: Box<str>,
    /// The target's own query, without `?`; may be empty.
    query: Box<str>,
    /// Its fragment with `#`; may be empty.
    fragment: Box<str>,
}

/// Why a URL cannot be a redirect target.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TargetError {
    /// Not an absolute URL.
    #[error("`{url}` is not an absolute URL: {reason}")]
    NotAUrl {
        /// The text.
        url: String,
        /// What the parser said.
        reason: String,
    },
    /// Not `http` or `https`, no host, or with a user name or password.
    #[error("`{url}` cannot be a redirect target: {reason}")]
    Unusable {
        /// The text.
        url: String,
        /// Why.
        reason: &'static str,
    },
}

impl Target {
    /// Checks and splits `url`: an absolute `http`/`https` URL with a host
    /// and no credentials, kept in the parser's serialisation (which
    /// percent-encodes what may not stand in a URL).
    pub fn parse(url: &str) -> Result<Target, TargetError> {
        let parsed = url::Url::parse(url.trim())
            .map_err(|error| TargetError::NotAUrl { url: url.to_owned(), reason: error.to_string() })?;
        let unusable = |reason| TargetError::Unusable { url: url.to_owned(), reason };
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(unusable("only http and https links are redirect targets"));
        }
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err(unusable("it has no host"));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(unusable("it carries a user name or password"));
        }
        let text = parsed.as_str();
        let location = HeaderValue::from_str(text).map_err(|_| unusable("it cannot be sent as a header"))?;
        let path_start = text.len() - parsed[url::Position::BeforePath..].len();
        let path = parsed.path();
        let insert_at = path
            .match_indices('/')
            .find(|(index, _)| path[index + 1..].starts_with("destination:"))
            .map(|(index, _)| index)
            .unwrap_or_else(|| if path.len() > 1 && path.ends_with('/') { path.len() - 1 } else { path.len() });
        Ok(Target {
            location,
            head: text[..path_start + insert_at].into(),
            tail: path[insert_at..].into(),
            query: parsed.query().unwrap_or_default().into(),
            fragment: parsed.fragment().map(|fragment| format!("#{fragment}")).unwrap_or_default().into(),
        })
    }

    /// The URL.
    pub fn as_str(&self) -> &str {
        // Built from a `&str` in `parse`.
        std::str::from_utf8(self.location.as_bytes()).unwrap_or_default()
    }

    /// The target's header value as is.
    pub fn location(&self) -> &HeaderValue {
        &self.location
    }

    /// The URL with `params` set: a path parameter replaces a segment of the
    /// same name or goes before the tail; a query parameter replaces the
    /// target's own of the same name or is appended.
    fn build(&self, params: &[(&Rule, &str)]) -> Option<HeaderValue> {
        let mut out = String::with_capacity(self.location.len() + 64);
        let replaced =
            |name: &str, place: Place| params.iter().any(|(rule, _)| rule.to_in == place && *rule.to == *name);
        // The head's path segments, less those a path parameter replaces.
        let path_start = self
            .head
            .find("://")
            .map_or(0, |scheme| self.head[scheme + 3..].find('/').map_or(self.head.len(), |slash| scheme + 3 + slash));
        out.push_str(&self.head[..path_start]);
        for segment in self.head[path_start..].split('/').skip(1) {
            if segment.is_empty() || segment.split_once(':').is_some_and(|(name, _)| replaced(name, Place::Path)) {
                continue;
            }
            out.push('/');
            out.push_str(segment);
        }
        for (rule, value) in params.iter().filter(|(rule, _)| rule.to_in == Place::Path) {
            out.push('/');
            out.push_str(&rule.to);
            out.push(':');
            push_strictly_encoded(&mut out, value);
        }
        if out.len() == path_start {
            out.push('/');
        }
        out.push_str(&self.tail);
        let mut separator = '?';
        for pair in self.query.split('&').filter(|pair| !pair.is_empty()) {
            let name = pair.split_once('=').map_or(pair, |(name, _)| name);
            if replaced(name, Place::Query) {
                continue;
            }
            out.push(separator);
            out.push_str(pair);
            separator = '&';
        }
        for (rule, value) in params.iter().filter(|(rule, _)| rule.to_in == Place::Query) {
            out.push(separator);
            out.push_str(&rule.to);
            out.push('=');
            push_strictly_encoded(&mut out, value);
            separator = '&';
        }
        out.push_str(&self.fragment);
        HeaderValue::from_maybe_shared(bytes::Bytes::from(out)).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(from: &str, to: &str) -> ParamRule {
        ParamRule { from: from.into(), from_in: Place::Query, to: to.into(), to_in: Place::Query }
    }

    fn location(rewriter: &Rewriter, target: &str, query: &str) -> String {
        let target = Target::parse(target).unwrap();
        let value = rewriter.location(&target, Some(query), &[]);
        value.to_str().unwrap().to_owned()
    }

    #[test]
    fn named_parameters_move_and_everything_else_is_dropped() {
        let rewriter = Rewriter::new(&[rule("sub_id1", "subId1"), rule("aff_click_id", "sharedid")], None).unwrap();
        assert_eq!(
            location(&rewriter, "https://new.sjv.io/c/1/2/3", "aff_click_id=ab12&email=a%40b.c&sub_id1=x&o=5"),
            "https://new.sjv.io/c/1/2/3?subId1=x&sharedid=ab12"
        );
        // Nothing to carry: the prebuilt header.
        assert_eq!(location(&rewriter, "https://new.sjv.io/c/1/2/3", "email=a%40b.c"), "https://new.sjv.io/c/1/2/3");
        assert_eq!(location(&rewriter, "https://new.sjv.io/c/1/2/3", "sub_id1="), "https://new.sjv.io/c/1/2/3");
    }

    #[test]
    fn values_are_percent_encoded_and_cannot_inject() {
        let rewriter = Rewriter::new(&[rule("s", "subId1")], None).unwrap();
        for (query, expected) in [
            ("s=a+b", "subId1=a%20b"),
            ("s=%0D%0ASet-Cookie:%20x=1", "subId1=%0D%0ASet-Cookie%3A%20x%3D1"),
            ("s=x%26redirect%3Dhttps://evil.com", "subId1=x%26redirect%3Dhttps%3A%2F%2Fevil.com"),
            ("s=%23frag", "subId1=%23frag"),
            ("s=caf%C3%A9", "subId1=caf%C3%A9"),
            ("s=%FF", "subId1=%EF%BF%BD"),
        ] {
            let url = location(&rewriter, "https://new.example.net/t", query);
            assert_eq!(url, format!("https://new.example.net/t?{expected}"), "{query}");
        }
    }

    #[test]
    fn the_first_rule_with_a_value_fills_a_parameter() {
        let rewriter = Rewriter::new(&[], Some("scaleo-to-partnerize")).unwrap();
        let target = "https://prf.hn/click/camref:1l3/destination:https%3A%2F%2Fshop.example.com%2F";
        assert_eq!(
            location(&rewriter, target, "sub_id2=second&aff_click_id=click1"),
            "https://prf.hn/click/camref:1l3/pubref:click1/destination:https%3A%2F%2Fshop.example.com%2F"
        );
        assert_eq!(
            location(&rewriter, target, "sub_id2=second&sub_id3=third"),
            "https://prf.hn/click/camref:1l3/pubref:second/destination:https%3A%2F%2Fshop.example.com%2F"
        );
        assert_eq!(
            location(&rewriter, "https://prf.hn/click/camref:1l3/pubref:old/", "sub_id1=a/b"),
            "https://prf.hn/click/camref:1l3/pubref:a%2Fb/"
        );
    }

    #[test]
    fn query_parameters_replace_the_targets_own_and_keep_its_fragment() {
        let rewriter = Rewriter::new(&[rule("s", "subId1")], None).unwrap();
        assert_eq!(
            location(&rewriter, "https://new.example.net/t?subId1=default&camp=9#top", "s=v"),
            "https://new.example.net/t?camp=9&subId1=v#top"
        );
        assert_eq!(location(&rewriter, "https://new.example.net", "s=v"), "https://new.example.net/?subId1=v");
    }

    #[test]
    fn path_parameters_of_the_old_link_are_read() {
        let rewriter = Rewriter::new(&[], Some("partnerize-to-scaleo")).unwrap();
        assert_eq!(rewriter.path_names(), [Box::<str>::from("pubref")]);
        let target = Target::parse("https://track.example.com/click?o=1&a=2").unwrap();
        let value = rewriter.location(&target, Some(""), &[Some("my%20ref")]);
        assert_eq!(value.to_str().unwrap(), "https://track.example.com/click?o=1&a=2&aff_click_id=my%20ref");
    }

    #[test]
    fn bad_rules_and_targets_are_refused() {
        assert_eq!(Rewriter::new(&[rule("a b", "x")], None), Err(RuleError::BadName("a b".into())));
        assert_eq!(Rewriter::new(&[rule("x", "")], None), Err(RuleError::BadName(String::new())));
        assert!(matches!(Rewriter::new(&[], Some("acme")), Err(RuleError::UnknownPreset { .. })));
        let many: Vec<ParamRule> = (0..40).map(|index| rule(&format!("p{index}"), "x")).collect();
        assert_eq!(Rewriter::new(&many, None), Err(RuleError::TooMany(40)));
        for url in ["/relative", "javascript:alert(1)", "ftp://x.example/", "https://user:pw@x.example/", "data:,x"] {
            assert!(Target::parse(url).is_err(), "{url}");
        }
        // The parser's serialisation: nothing that breaks a header.
        let target = Target::parse("https://new.example.net/a b\t/ü").unwrap();
        assert_eq!(target.as_str(), "https://new.example.net/a%20b/%C3%BC");
    }
}
