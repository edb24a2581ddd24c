//! Errors as data: what a plugin reports to the host, with the ids a person
//! needs to act.

use serde::{Deserialize, Serialize};
use std::fmt;

/// What kind of failure a plugin reports. The host decides from the code what
/// to do (stop, retry, mark the stream failed); the message is for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCode {
    /// The plugin's config was refused.
    Config,
    /// Credentials were refused.
    Auth,
    /// Credentials lack a permission or scope.
    Permission,
    /// The stream or operation is not offered by this plugin.
    Unsupported,
    /// A file or device could not be read or written.
    Io,
    /// The platform could not be reached or answered badly.
    Network,
    /// The platform's rate limit was exhausted past the retry budget.
    RateLimited,
    /// A cursor given by the host is not one this plugin produced.
    InvalidCursor,
    /// Bytes that crossed the boundary could not be decoded.
    Encoding,
    /// The handle is not open (closed or never opened).
    UnknownHandle,
    /// The plugin panicked; the panic was caught at the boundary.
    Panic,
    /// A plugin bug or anything not covered above.
    Internal,
    /// A code from a newer plugin that this host does not know.
    #[serde(untagged)]
    Other(String),
}

impl ErrorCode {
    /// The stable snake_case name that crosses the boundary.
    pub fn as_str(&self) -> &str {
        match self {
            ErrorCode::Config => "config",
            ErrorCode::Auth => "auth",
            ErrorCode::Permission => "permission",
            ErrorCode::Unsupported => "unsupported",
            ErrorCode::Io => "io",
            ErrorCode::Network => "network",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::InvalidCursor => "invalid_cursor",
            ErrorCode::Encoding => "encoding",
            ErrorCode::UnknownHandle => "unknown_handle",
            ErrorCode::Panic => "panic",
            ErrorCode::Internal => "internal",
            ErrorCode::Other(code) => code,
        }
    }

    /// The code for a name that crossed the boundary; unknown names are kept.
    pub fn parse(name: &str) -> ErrorCode {
        match name {
            "config" => ErrorCode::Config,
            "auth" => ErrorCode::Auth,
            "permission" => ErrorCode::Permission,
            "unsupported" => ErrorCode::Unsupported,
            "io" => ErrorCode::Io,
            "network" => ErrorCode::Network,
            "rate_limited" => ErrorCode::RateLimited,
            "invalid_cursor" => ErrorCode::InvalidCursor,
            "encoding" => ErrorCode::Encoding,
            "unknown_handle" => ErrorCode::UnknownHandle,
            "panic" => ErrorCode::Panic,
            "internal" => ErrorCode::Internal,
            other => ErrorCode::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error a plugin returns: a code, a message that says what failed and why,
/// and where known the stream and record it concerns and what the user can do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PluginError {
    /// What kind of failure.
    pub code: ErrorCode,
    /// Lowercase, no final period; says what failed, on what and why.
    pub message: String,
    /// The stream the failure concerns, if any.
    pub stream: Option<String>,
    /// The record (source id) the failure concerns, if any.
    pub record_id: Option<String>,
    /// What the user can do about it, if the plugin knows.
    pub help: Option<String>,
}

impl PluginError {
    /// An error with a code and a message and no context yet.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> PluginError {
        PluginError { code, message: message.into(), stream: None, record_id: None, help: None }
    }

    /// Names the stream this error concerns.
    pub fn in_stream(mut self, stream: impl Into<String>) -> PluginError {
        self.stream = Some(stream.into());
        self
    }

    /// Names the record (source id) this error concerns.
    pub fn for_record(mut self, record_id: impl Into<String>) -> PluginError {
        self.record_id = Some(record_id.into());
        self
    }

    /// Says what the user can do about it.
    pub fn with_help(mut self, help: impl Into<String>) -> PluginError {
        self.help = Some(help.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_through_its_name() {
        let codes = [
            ErrorCode::Config,
            ErrorCode::Auth,
            ErrorCode::Permission,
            ErrorCode::Unsupported,
            ErrorCode::Io,
            ErrorCode::Network,
            ErrorCode::RateLimited,
            ErrorCode::InvalidCursor,
            ErrorCode::Encoding,
            ErrorCode::UnknownHandle,
            ErrorCode::Panic,
            ErrorCode::Internal,
            ErrorCode::Other("quota_exceeded".into()),
        ];
        for code in codes {
            assert_eq!(ErrorCode::parse(code.as_str()), code);
        }
    }
}
