//! Finding plugin libraries: `--plugin-dir` folders first (in the order
//! given), then the folders in `CUTOVER_PLUGIN_PATH` (colon-separated), then
//! the `plugins` folder beside the `cutover` binary. Within a folder, files
//! are taken in name order. The first plugin of a name wins; a later one of
//! the same name is reported and skipped.
//!
//! A file that cannot be used never stops the others from loading: it becomes
//! a [`Problem`] (file, reason, what to do).

use crate::plugin::{LoadError, LoadedPlugin};
use std::fmt;
use std::path::{Path, PathBuf};

/// Where a plugin folder came from, which decides its precedence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// `--plugin-dir`.
    Flag,
    /// `CUTOVER_PLUGIN_PATH`.
    Environment,
    /// The `plugins` folder beside the binary.
    Default,
}

impl Origin {
    fn describe(self) -> &'static str {
        match self {
            Origin::Flag => "--plugin-dir",
            Origin::Environment => "CUTOVER_PLUGIN_PATH",
            Origin::Default => "the default folder",
        }
    }
}

/// One folder to search.
#[derive(Debug, Clone)]
pub struct SearchDir {
    /// The folder.
    pub path: PathBuf,
    /// Where it came from.
    pub origin: Origin,
}

/// The folders to search, in precedence order.
pub fn search_path(flag_dirs: &[PathBuf], environment: Option<&str>, executable: Option<&Path>) -> Vec<SearchDir> {
    let flags = flag_dirs.iter().map(|path| SearchDir { path: path.clone(), origin: Origin::Flag });
    let environment = environment
        .into_iter()
        .flat_map(|value| value.split(':'))
        .filter(|entry| !entry.is_empty())
        .map(|entry| SearchDir { path: PathBuf::from(entry), origin: Origin::Environment });
    let default = executable
        .and_then(Path::parent)
        .map(|folder| SearchDir { path: folder.join("plugins"), origin: Origin::Default });
    // A folder named twice (the flag and the default) is searched once.
    let mut seen = std::collections::HashSet::new();
    flags
        .chain(environment)
        .chain(default)
        .filter(|dir| seen.insert(std::fs::canonicalize(&dir.path).unwrap_or_else(|_| dir.path.clone())))
        .collect()
}

/// A file that was found but not loaded.
#[derive(Debug)]
pub struct Problem {
    /// The file (or folder).
    pub path: PathBuf,
    /// Why it was skipped.
    pub reason: String,
    /// What to do.
    pub help: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "skipped {}: {}; help: {}", self.path.display(), self.reason, self.help)
    }
}

impl Problem {
    fn from_load_error(path: &Path, error: &LoadError) -> Problem {
        Problem { path: path.to_owned(), reason: error.to_string(), help: error.help().to_owned() }
    }
}

/// What a search found.
#[derive(Debug, Default)]
pub struct Discovery {
    /// Plugins loaded, one per name, in search order.
    pub plugins: Vec<LoadedPlugin>,
    /// Everything skipped, and why.
    pub problems: Vec<Problem>,
}

impl Discovery {
    /// The plugin of that name.
    pub fn find(&self, name: &str) -> Option<&LoadedPlugin> {
        self.plugins.iter().find(|plugin| plugin.metadata.name == name)
    }

    /// The names found, for "did you mean" messages.
    pub fn names(&self) -> Vec<&str> {
        self.plugins.iter().map(|plugin| plugin.metadata.name.as_str()).collect()
    }
}

/// Loads every plugin library in `search`.
pub fn discover(search: &[SearchDir]) -> Discovery {
    let mut discovery = Discovery::default();
    // Where each loaded plugin came from, parallel to `discovery.plugins`.
    let mut origins: Vec<Origin> = Vec::new();
    for dir in search {
        let entries = match std::fs::read_dir(&dir.path) {
            Ok(entries) => entries,
            Err(error) => {
                // The default folder may well not exist; folders the operator
                // named must.
                if dir.origin != Origin::Default {
                    discovery.problems.push(Problem {
                        path: dir.path.clone(),
                        reason: format!("cannot read plugin folder from {}: {error}", dir.origin.describe()),
                        help: "check the path".into(),
                    });
                }
                continue;
            }
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|extension| extension == std::env::consts::DLL_EXTENSION))
            .collect();
        files.sort();
        for path in files {
            tracing::debug!(path = %path.display(), "Loading plugin.");
            match LoadedPlugin::load(&path) {
                Ok(plugin) => {
                    match discovery.plugins.iter().position(|loaded| loaded.metadata.name == plugin.metadata.name) {
                        Some(index) => {
                            let (winner, winner_origin) = (&discovery.plugins[index], origins[index]);
                            discovery.problems.push(Problem {
                            path: path.clone(),
                            reason: format!(
                                "a plugin named `{}` was already loaded from {} ({}), which comes first in the search order (--plugin-dir, then CUTOVER_PLUGIN_PATH, then the default folder; files in name order)",
                                plugin.metadata.name,
                                winner.path.display(),
                                winner_origin.describe()
                            ),
                            help: "remove one of the two, or order the folders so the one you want comes first".into(),
                        });
                        }
                        None => {
                            origins.push(dir.origin);
                            discovery.plugins.push(plugin);
                        }
                    }
                }
                Err(error) => discovery.problems.push(Problem::from_load_error(&path, &error)),
            }
        }
    }
    discovery
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_come_before_the_environment_before_the_default() {
        let search = search_path(
            &[PathBuf::from("/a"), PathBuf::from("/b")],
            Some("/c::/d"),
            Some(Path::new("/opt/cutover/bin/cutover")),
        );
        let order: Vec<(String, Origin)> =
            search.into_iter().map(|dir| (dir.path.display().to_string(), dir.origin)).collect();
        assert_eq!(
            order,
            [
                ("/a".to_owned(), Origin::Flag),
                ("/b".to_owned(), Origin::Flag),
                ("/c".to_owned(), Origin::Environment),
                ("/d".to_owned(), Origin::Environment),
                ("/opt/cutover/bin/plugins".to_owned(), Origin::Default),
            ]
        );
    }

    #[test]
    fn a_text_file_named_like_a_library_is_a_problem_not_a_crash() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join(format!("x.{}", std::env::consts::DLL_EXTENSION));
        std::fs::write(&path, "not a library").unwrap();
        std::fs::write(folder.path().join("README.md"), "ignored: not a library name").unwrap();
        let discovery = discover(&[SearchDir { path: folder.path().to_owned(), origin: Origin::Flag }]);
        assert!(discovery.plugins.is_empty());
        assert_eq!(discovery.problems.len(), 1);
        assert!(discovery.problems[0].reason.starts_with("not a loadable library"), "{}", discovery.problems[0]);
    }
}
