//! Request paths built from segments, so an id from a record or a config
//! can never climb out of its place in the URL (`../../api/…?x=`).

use crate::error::HttpError;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Everything but RFC 3986's unreserved characters, `@` and `+` (both
/// plain data in a path segment, and how an email address reads in
/// Mailman's paths) is encoded: `/`, `?`, `#`, `%`, `;` and the rest cannot
/// change where a request goes.
const SEGMENT: &AsciiSet =
    &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~').remove(b'@').remove(b'+');

/// A request path made of `segments`, each percent-encoded on its own and
/// joined with `/`. An empty segment, `.` or `..` is refused (the last two
/// would move the request to another endpoint once the URL is resolved).
///
/// ```
/// let path = cutover_http::path(["lists", "9e67587f52", "members", "a/../b?x=1"]).unwrap();
/// assert_eq!(path, "lists/9e67587f52/members/a%2F..%2Fb%3Fx%3D1");
/// assert!(cutover_http::path(["lists", ".."]).is_err());
/// ```
pub fn path<S: AsRef<str>>(segments: impl IntoIterator<Item = S>) -> Result<String, HttpError> {
    let mut path = String::new();
    for segment in segments {
        let segment = segment.as_ref();
        let refused = |reason| HttpError::InvalidPathSegment { segment: segment.escape_debug().to_string(), reason };
        match segment {
            "" => return Err(refused("it is empty")),
            "." | ".." => return Err(refused("`.` and `..` would move the request to another path")),
            _ => {}
        }
        if !path.is_empty() {
            path.push('/');
        }
        path.extend(utf8_percent_encode(segment, SEGMENT));
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::path;

    #[test]
    fn each_segment_stays_one_segment() {
        assert_eq!(path(["lists", "abc", "members"]).unwrap(), "lists/abc/members");
        assert_eq!(path(["members", "Zoë+1@x.test"]).unwrap(), "members/Zo%C3%AB+1@x.test");
        assert_eq!(path(["l", "../../api/keys?x="]).unwrap(), "l/..%2F..%2Fapi%2Fkeys%3Fx%3D");
        assert_eq!(path(["l", "a#b%2F c;d"]).unwrap(), "l/a%23b%252F%20c%3Bd");
        assert_eq!(path(["a.b", "~x_y-z"]).unwrap(), "a.b/~x_y-z");
    }

    #[test]
    fn dot_segments_and_empty_ones_are_refused() {
        for bad in [".", "..", ""] {
            let error = path(["lists", bad, "members"]).unwrap_err();
            assert!(matches!(error, crate::HttpError::InvalidPathSegment { .. }), "{bad:?}: {error}");
        }
    }

    #[test]
    fn an_encoded_path_joins_under_the_base_without_leaving_it() {
        let client = crate::HttpClient::new(crate::HttpConfig::new("https://x.test/3.0/")).unwrap();
        let joined =
            client.url_for(&crate::client::Target::Path(path(["lists", "../../api/keys?x="]).unwrap())).unwrap();
        assert_eq!(joined.as_str(), "https://x.test/3.0/lists/..%2F..%2Fapi%2Fkeys%3Fx%3D");
        assert_eq!(joined.query(), None);
    }
}
