//! The canonical-schema version a plugin speaks, checked by the host at load.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Version of the canonical schema: the major changes only when a field is
/// removed or changes meaning; every addition bumps the minor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SchemaVersion {
    /// Incompatible changes.
    pub major: u16,
    /// Additive changes.
    pub minor: u16,
}

/// The schema version this build of the crate defines.
pub const SCHEMA_VERSION: SchemaVersion = SchemaVersion { major: 1, minor: 0 };

impl SchemaVersion {
    /// Whether records written by a peer speaking `other` can be read by a
    /// peer speaking `self`. Same major is enough: minors only add optional
    /// fields, which older readers ignore and newer readers default.
    pub fn can_exchange_with(self, other: SchemaVersion) -> bool {
        self.major == other.major
    }
}

impl fmt::Display for SchemaVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(host: (u16, u16), plugin: (u16, u16), expected: bool) {
        let host = SchemaVersion { major: host.0, minor: host.1 };
        let plugin = SchemaVersion { major: plugin.0, minor: plugin.1 };
        assert_eq!(host.can_exchange_with(plugin), expected, "{host} vs {plugin}");
    }

    #[test]
    fn same_major_exchanges_across_minors() {
        check((1, 0), (1, 0), true);
        check((1, 0), (1, 3), true);
        check((1, 3), (1, 0), true);
    }

    #[test]
    fn different_major_is_refused() {
        check((1, 0), (2, 0), false);
        check((2, 1), (1, 1), false);
    }
}
