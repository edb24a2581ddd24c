//! How a request is matched to an old link: the same normal form on both
//! sides.
//!
//! - **Host**: ASCII, lowercased, without port or a trailing dot; an
//!   internationalised name in its punycode form (`xn--…`), as browsers send
//!   it. The request's host is the authority of an absolute request target,
//!   else its one `Host` header.
//! - **Path**: compared exactly (case matters, `/a` is not `/a/`) after
//!   RFC 3986 normalisation: `%41` and `A` are the same, hex digits are
//!   upper case, and a byte that may not stand in a path is percent-encoded.
//!   Dot segments are not resolved in requests (`/r/../r/1` is a miss).
//! - **Query**: ignored, except the parameters the old link itself carries
//!   (Scaleo's `?o=12&a=345` names its link): a request matches such a link
//!   when it has each of them with the same value (after decoding), whatever
//!   else it carries (sub-ids) and in any order. A link without a query
//!   matches on host and path alone.
//! - **Path parameters** the sub-id rules read from the path (`/pubref:v`)
//!   are taken out of the path before matching, on both sides.

use std::borrow::Cow;
use std::fmt::Write as _;

/// A byte that may stand for itself in a normalised path: RFC 3986's
/// `pchar` (unreserved, sub-delims, `:`, `@`) and `/`.
fn path_literal(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(&byte)
}

fn unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"-._~".contains(&byte)
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

fn push_encoded(out: &mut String, byte: u8) {
    out.push('%');
    out.push(char::from(HEX[usize::from(byte >> 4)]));
    out.push(char::from(HEX[usize::from(byte & 0xF)]));
}

/// The normal form of a path (see the module doc). Borrows when the path is
/// already normal, the common case: no `%` and only literal bytes.
pub fn normal_path(path: &str) -> Cow<'_, str> {
    if path.bytes().all(path_literal) {
        return Cow::Borrowed(path);
    }
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(path.len() + 8);
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        if byte == b'%'
            && let (Some(high), Some(low)) =
                (bytes.get(index + 1).copied().and_then(hex_value), bytes.get(index + 2).copied().and_then(hex_value))
        {
            let decoded = high << 4 | low;
            if unreserved(decoded) {
                out.push(char::from(decoded));
            } else {
                push_encoded(&mut out, decoded);
            }
            index += 3;
            continue;
        }
        if path_literal(byte) {
            out.push(char::from(byte));
        } else {
            push_encoded(&mut out, byte);
        }
        index += 1;
    }
    Cow::Owned(out)
}

/// The longest host name kept (DNS allows 253 bytes).
pub const MAX_HOST: usize = 255;

/// The normal form of a request's host (`Go.Example.com:8080` →
/// `go.example.com`), written into `buffer`; `None` for a host no link can
/// have (empty, too long, not ASCII).
pub fn normal_host<'a>(host: &str, buffer: &'a mut [u8; MAX_HOST]) -> Option<&'a str> {
    let bytes = host.as_bytes();
    let name = if bytes.first() == Some(&b'[') {
        // An IPv6 literal: up to and with its closing bracket.
        let end = bytes.iter().position(|&byte| byte == b']')?;
        &bytes[..=end]
    } else {
        let end = bytes.iter().position(|&byte| byte == b':').unwrap_or(bytes.len());
        &bytes[..end]
    };
    let name = name.strip_suffix(b".").unwrap_or(name);
    if name.is_empty() || name.len() > MAX_HOST || !name.iter().all(|byte| byte.is_ascii_graphic()) {
        return None;
    }
    let out = &mut buffer[..name.len()];
    for (slot, byte) in out.iter_mut().zip(name) {
        *slot = byte.to_ascii_lowercase();
    }
    std::str::from_utf8(out).ok()
}

/// Appends `value` percent-encoded so that only unreserved bytes stand for
/// themselves: safe in a query value, a path segment and a header.
pub fn push_strictly_encoded(out: &mut String, value: &str) {
    for &byte in value.as_bytes() {
        if unreserved(byte) {
            out.push(char::from(byte));
        } else {
            push_encoded(out, byte);
        }
    }
}

/// Splits a `name:value` path segment whose name is in `names`.
fn path_parameter<'a>(segment: &'a str, names: &[Box<str>]) -> Option<(usize, &'a str)> {
    let (name, value) = segment.split_once(':')?;
    names.iter().position(|known| **known == *name).map(|index| (index, value))
}

/// Takes the segments `/name:value` whose name is in `names` out of a
/// (normal) path; calls `found(index of the name, value)` for each. Borrows
/// when there is none.
pub fn strip_path_parameters<'a>(
    path: &'a str,
    names: &[Box<str>],
    mut found: impl FnMut(usize, &'a str),
) -> Cow<'a, str> {
    if names.is_empty() || !path.starts_with('/') || !path.contains(':') {
        return Cow::Borrowed(path);
    }
    let mut kept: Option<String> = None;
    // Each segment runs from its `/` at `position` to the next `/` or the end.
    let mut position = 0;
    while position < path.len() {
        let end = path[position + 1..].find('/').map_or(path.len(), |next| position + 1 + next);
        let segment = &path[position + 1..end];
        if let Some((index, value)) = path_parameter(segment, names) {
            found(index, value);
            kept.get_or_insert_with(|| path[..position].to_owned());
        } else if let Some(out) = kept.as_mut() {
            out.push_str(&path[position..end]);
        }
        position = end;
    }
    match kept {
        None => Cow::Borrowed(path),
        Some(out) if out.is_empty() => Cow::Borrowed("/"),
        Some(out) => Cow::Owned(out),
    }
}

/// The query key of a link or a request: `name=value&…` for each of
/// `names` (sorted) that `query` carries with a non-empty value (the first
/// of each), values decoded then strictly encoded. Written into `out`.
pub fn query_key(query: &str, names: &[Box<str>], out: &mut String) {
    out.clear();
    for name in names {
        let value = form_urlencoded::parse(query.as_bytes())
            .find(|(key, value)| key.as_ref() == name.as_ref() && !value.is_empty())
            .map(|(_, value)| value);
        if let Some(value) = value {
            let _ = write!(out, "{name}=");
            push_strictly_encoded(out, &value);
            out.push('&');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_compare_in_their_normal_form() {
        for (path, normal) in [
            ("/r/5000", "/r/5000"),
            ("/r/%35000", "/r/5000"),
            ("/a%2fb", "/a%2Fb"),
            ("/caf%C3%A9", "/caf%C3%A9"),
            ("/caf%c3%a9", "/caf%C3%A9"),
            ("/sp ace", "/sp%20ace"),
            ("/bad%zz", "/bad%25zz"),
            ("/x\r\nLocation: evil", "/x%0D%0ALocation:%20evil"),
            ("/pubref:abc/", "/pubref:abc/"),
        ] {
            assert_eq!(normal_path(path), normal, "{path}");
        }
        assert!(matches!(normal_path("/r/5000"), Cow::Borrowed(_)));
    }

    #[test]
    fn hosts_lose_port_case_and_trailing_dot() {
        let mut buffer = [0; MAX_HOST];
        for (host, normal) in [
            ("Go.Example.COM", Some("go.example.com")),
            ("go.example.com:8080", Some("go.example.com")),
            ("go.example.com.", Some("go.example.com")),
            ("[::1]:80", Some("[::1]")),
            ("", None),
            (":80", None),
            ("gö.example.com", None),
            ("a b", None),
        ] {
            assert_eq!(normal_host(host, &mut buffer), normal, "{host}");
        }
        assert_eq!(normal_host(&"a".repeat(300), &mut buffer), None);
    }

    #[test]
    fn path_parameters_come_out_of_the_path() {
        let names: Vec<Box<str>> = vec!["pubref".into()];
        let mut values = Vec::new();
        let path = strip_path_parameters("/click/camref:1l2/pubref:abc/destination:x", &names, |index, value| {
            values.push((index, value.to_owned()));
        });
        assert_eq!(path, "/click/camref:1l2/destination:x");
        assert_eq!(values, [(0, "abc".to_owned())]);
        assert_eq!(strip_path_parameters("/click/camref:1l2", &names, |_, _| {}), "/click/camref:1l2");
        assert_eq!(strip_path_parameters("/pubref:abc", &names, |_, _| {}), "/");
        assert_eq!(strip_path_parameters("/click/pubref:a/", &names, |_, _| {}), "/click/");
    }

    #[test]
    fn query_keys_ignore_order_extras_and_encoding() {
        let names: Vec<Box<str>> = vec!["a".into(), "o".into()];
        let mut key = String::new();
        query_key("o=12&a=345", &names, &mut key);
        assert_eq!(key, "a=345&o=12&");
        let mut other = String::new();
        query_key("sub_id1=x&a=%33%345&o=12&a=999", &names, &mut other);
        assert_eq!(key, other);
        query_key("o=12", &names, &mut other);
        assert_eq!(other, "o=12&");
        query_key("a=x%26o%3D1", &names, &mut other);
        assert_eq!(other, "a=x%26o%3D1&");
    }
}
