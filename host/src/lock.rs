//! `cutover.lock`: the plugins a migration config was approved with, each by
//! name, version and the SHA-256 of its library file, like `Cargo.lock` or
//! Terraform's `.terraform.lock.hcl`. `cutover plugins lock CONFIG` writes
//! it beside the config; every run that loads plugins for that config then
//! refuses a library whose hash differs, before loading it.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The lock file's layout version.
const LOCK_VERSION: u32 = 1;

/// The plugins of one config, pinned.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginLock {
    /// The layout version (1).
    pub version: u32,
    /// One entry per plugin the config names.
    #[serde(default, rename = "plugin")]
    pub plugins: Vec<LockedPlugin>,
}

/// One pinned plugin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockedPlugin {
    /// The plugin's name, as the config names it.
    pub name: String,
    /// The version it declared when locked.
    pub version: String,
    /// The SHA-256 of its library file, lowercase hex.
    pub sha256: String,
}

/// Why the lock file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// It exists but cannot be read.
    #[error("cannot read the plugin lock {path}: {source}")]
    Read {
        /// The lock file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// It is not a lock this cutover writes.
    #[error("the plugin lock {path} is not valid: {message}")]
    Invalid {
        /// The lock file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// It cannot be written.
    #[error("cannot write the plugin lock {path}: {source}")]
    Write {
        /// The lock file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl PluginLock {
    /// The lock file of the config at `config_path`: its name with `.lock`,
    /// beside it (`cutover.toml` → `cutover.lock`).
    pub fn path_for(config_path: &Path) -> PathBuf {
        config_path.with_extension("lock")
    }

    /// Reads the lock at `path`; `None` when there is none.
    pub fn read(path: &Path) -> Result<Option<PluginLock>, LockError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(LockError::Read { path: path.to_owned(), source }),
        };
        let invalid = |message: String| LockError::Invalid { path: path.to_owned(), message };
        let lock: PluginLock = toml::from_str(&text).map_err(|error| invalid(error.message().trim().to_owned()))?;
        if lock.version != LOCK_VERSION {
            return Err(invalid(format!(
                "its version is {}, this cutover reads version {LOCK_VERSION}; write it again with `cutover plugins lock`",
                lock.version
            )));
        }
        Ok(Some(lock))
    }

    /// A lock of `plugins`.
    pub fn new(plugins: Vec<LockedPlugin>) -> PluginLock {
        PluginLock { version: LOCK_VERSION, plugins }
    }

    /// Writes the lock to `path`, whole or not at all.
    pub fn write(&self, path: &Path) -> Result<(), LockError> {
        let failed = |source| LockError::Write { path: path.to_owned(), source };
        let body = toml::to_string(self).map_err(|error| failed(std::io::Error::other(error)))?;
        let text = format!(
            "# The plugins this migration was approved with. Written by `cutover plugins lock`;\n\
             # a run refuses a plugin library whose SHA-256 differs. Commit it with the config.\n{body}"
        );
        let folder = path.parent().filter(|folder| !folder.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let mut file = tempfile::NamedTempFile::new_in(folder).map_err(failed)?;
        std::io::Write::write_all(&mut file, text.as_bytes()).map_err(failed)?;
        file.persist(path).map_err(|error| failed(error.error))?;
        Ok(())
    }

    /// The pin of plugin `name`, if it has one.
    pub fn find(&self, name: &str) -> Option<&LockedPlugin> {
        self.plugins.iter().find(|plugin| plugin.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_round_trips_and_sits_beside_its_config() {
        let folder = tempfile::tempdir().unwrap();
        let config = folder.path().join("cutover.toml");
        let path = PluginLock::path_for(&config);
        assert_eq!(path, folder.path().join("cutover.lock"));
        assert_eq!(PluginLock::read(&path).unwrap(), None);
        let lock = PluginLock::new(vec![LockedPlugin {
            name: "mailchimp".into(),
            version: "0.1.0".into(),
            sha256: "ab".repeat(32),
        }]);
        lock.write(&path).unwrap();
        assert_eq!(PluginLock::read(&path).unwrap(), Some(lock.clone()));
        assert_eq!(lock.find("mailchimp").map(|plugin| plugin.version.as_str()), Some("0.1.0"));
    }

    #[test]
    fn another_version_or_garbage_is_refused_with_the_fix() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("cutover.lock");
        std::fs::write(&path, "version = 9\n").unwrap();
        let error = PluginLock::read(&path).unwrap_err().to_string();
        assert!(error.contains("write it again with `cutover plugins lock`"), "{error}");
        std::fs::write(&path, "plugins = 3\n").unwrap();
        assert!(matches!(PluginLock::read(&path), Err(LockError::Invalid { .. })));
    }
}
