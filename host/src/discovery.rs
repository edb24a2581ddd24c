//! Finding plugin libraries: `--plugin-dir` folders first (in the order
//! given), then the folders in `CUTOVER_PLUGIN_PATH` (colon-separated), then
//! the `plugins` folder beside the `cutover` binary. Within a folder, files
//! are taken in name order.
//!
//! Nothing is loaded that is not trusted first ([`crate::trust`]): a relative
//! search entry, a folder or file that is a symbolic link, writable by group
//! or others, or owned by another user is refused before `dlopen`. A run
//! ([`discover_named`]) loads only the plugins its config names, found by
//! file name (`libcutover_plugin_<name>.so`), checked against the config's
//! lock file when it has one; two files of one name are an error, not a
//! silent choice. `cutover plugins list` ([`discover`]) loads every trusted
//! library, the first of a name winning.
//!
//! A file that cannot be used never stops the others from loading: it becomes
//! a [`Problem`] (file, reason, what to do).

use crate::lock::PluginLock;
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
    /// The plugin names the search path offers: those loaded, or, when only
    /// named plugins were loaded, the names every trusted file is named for.
    pub available: Vec<String>,
}

impl Discovery {
    /// The plugin of that name.
    pub fn find(&self, name: &str) -> Option<&LoadedPlugin> {
        self.plugins.iter().find(|plugin| plugin.metadata.name == name)
    }

    /// The names found, for "did you mean" messages.
    pub fn names(&self) -> Vec<&str> {
        if self.available.is_empty() {
            return self.plugins.iter().map(|plugin| plugin.metadata.name.as_str()).collect();
        }
        self.available.iter().map(String::as_str).collect()
    }
}

/// A library file in a trusted plugin folder, itself trusted, not loaded.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The file.
    pub path: PathBuf,
    /// Where its folder came from.
    pub origin: Origin,
}

impl Candidate {
    /// The plugin name the file name promises: its crate's name less
    /// `cutover-plugin-` (or `cutover-`), with `_` read as `-`:
    /// `libcutover_plugin_sqlite_archive.so` is `sqlite-archive`,
    /// `libcutover_fixture_panics.so` is `fixture-panics`.
    pub fn promised_name(&self) -> String {
        let file = self.path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
        let stem = file.strip_prefix(std::env::consts::DLL_PREFIX).unwrap_or(&file);
        let stem = stem.strip_suffix(std::env::consts::DLL_SUFFIX).unwrap_or(stem);
        let name = normalise(stem);
        match name.strip_prefix("cutover-plugin-").or_else(|| name.strip_prefix("cutover-")) {
            Some(rest) => rest.to_owned(),
            None => name,
        }
    }
}

/// A plugin name with `_` read as `-`, for matching names to files.
fn normalise(name: &str) -> String {
    name.replace('_', "-")
}

/// Every trusted library file in `search`, in search order, and a
/// [`Problem`] for each folder or file refused. Nothing is loaded.
pub fn find_candidates(search: &[SearchDir]) -> (Vec<Candidate>, Vec<Problem>) {
    let mut candidates = Vec::new();
    let mut problems = Vec::new();
    let refuse_help =
        "fix the owner or permissions (chmod go-w), or point the search path at a folder only you can write";
    for dir in search {
        if dir.path.is_relative() {
            problems.push(Problem {
                path: dir.path.clone(),
                reason: format!(
                    "a relative plugin folder from {} is refused: it would depend on the folder cutover is started in",
                    dir.origin.describe()
                ),
                help: "give the folder as an absolute path".into(),
            });
            continue;
        }
        let entries = match std::fs::read_dir(&dir.path) {
            Ok(entries) => entries,
            Err(error) => {
                // The default folder may well not exist; folders the operator
                // named must.
                if dir.origin != Origin::Default {
                    problems.push(Problem {
                        path: dir.path.clone(),
                        reason: format!("cannot read plugin folder from {}: {error}", dir.origin.describe()),
                        help: "check the path".into(),
                    });
                }
                continue;
            }
        };
        if let Err(reason) = crate::trust::check(&dir.path, "plugin folder") {
            problems.push(Problem { path: dir.path.clone(), reason, help: refuse_help.into() });
            continue;
        }
        let mut files: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|extension| extension == std::env::consts::DLL_EXTENSION))
            .collect();
        files.sort();
        for path in files {
            match crate::trust::check(&path, "plugin file") {
                Ok(()) => candidates.push(Candidate { path, origin: dir.origin }),
                Err(reason) => problems.push(Problem { path, reason, help: refuse_help.into() }),
            }
        }
    }
    (candidates, problems)
}

/// Loads every trusted plugin library in `search` (for `cutover plugins`):
/// the first plugin of a name wins, a later one is reported.
pub fn discover(search: &[SearchDir]) -> Discovery {
    let (candidates, problems) = find_candidates(search);
    let mut discovery = Discovery { problems, ..Discovery::default() };
    // Where each loaded plugin came from, parallel to `discovery.plugins`.
    let mut origins: Vec<Origin> = Vec::new();
    for candidate in candidates {
        let path = candidate.path.clone();
        tracing::debug!(path = %path.display(), "Loading plugin.");
        let plugin = match LoadedPlugin::load(&path) {
            Ok(plugin) => plugin,
            Err(error) => {
                discovery.problems.push(Problem::from_load_error(&path, &error));
                continue;
            }
        };
        if normalise(&plugin.metadata.name) != candidate.promised_name() {
            discovery.problems.push(Problem {
                path: path.clone(),
                reason: format!(
                    "the plugin calls itself `{}` but its file name says `{}`, so a migration naming `{}` will not \
                     find it",
                    plugin.metadata.name,
                    candidate.promised_name(),
                    plugin.metadata.name
                ),
                help: format!(
                    "rename the file to {}cutover_plugin_{}{}",
                    std::env::consts::DLL_PREFIX,
                    plugin.metadata.name.replace('-', "_"),
                    std::env::consts::DLL_SUFFIX
                ),
            });
        }
        match discovery.plugins.iter().position(|loaded| loaded.metadata.name == plugin.metadata.name) {
            Some(index) => {
                let (winner, winner_origin) = (&discovery.plugins[index], origins[index]);
                discovery.problems.push(Problem {
                    path: path.clone(),
                    reason: format!(
                        "a plugin named `{}` was already loaded from {} ({}), which comes first in the search order \
                         (--plugin-dir, then CUTOVER_PLUGIN_PATH, then the default folder; files in name order)",
                        plugin.metadata.name,
                        winner.path.display(),
                        winner_origin.describe()
                    ),
                    help: "remove one of the two, or order the folders so the one you want comes first".into(),
                });
            }
            None => {
                origins.push(candidate.origin);
                discovery.plugins.push(plugin);
            }
        }
    }
    discovery
}

/// Why the plugins a config names cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// Two trusted files answer to the name: which one runs must not depend
    /// on the search order.
    #[error("two plugin files are named for plugin `{name}`: {first} and {second}")]
    Shadowed {
        /// The plugin name.
        name: String,
        /// The first file in search order.
        first: PathBuf,
        /// The other.
        second: PathBuf,
    },
    /// The file differs from the one the lock file pinned.
    #[error("plugin `{name}` at {path} has SHA-256 {actual}, but {lock} pins {locked}")]
    HashMismatch {
        /// The plugin name.
        name: String,
        /// The file.
        path: PathBuf,
        /// The lock file.
        lock: PathBuf,
        /// The pinned hash.
        locked: String,
        /// The file's hash.
        actual: String,
    },
    /// The file cannot be read to be hashed.
    #[error("cannot read plugin file {path}: {source}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file was trusted when found but not when opened: it was swapped
    /// in between.
    #[error("plugin file {path} changed after it was checked: {reason}")]
    Changed {
        /// The file.
        path: PathBuf,
        /// What the opened file is.
        reason: String,
    },
    /// The file loaded but describes itself under another name.
    #[error("plugin file {path} is named for `{name}` but the plugin calls itself `{actual}`")]
    NamedOtherwise {
        /// The name the config used.
        name: String,
        /// The file.
        path: PathBuf,
        /// What it calls itself.
        actual: String,
    },
}

impl TrustError {
    /// What the operator can do about it.
    pub fn help(&self) -> &'static str {
        match self {
            TrustError::Shadowed { .. } => "remove the file you do not want, or leave its folder off the search path",
            TrustError::HashMismatch { .. } => {
                "if you changed the plugin on purpose, review it and run `cutover plugins lock CONFIG` again; \
                 otherwise someone replaced it: restore the approved build"
            }
            TrustError::Unreadable { .. } => "check the file's permissions",
            TrustError::Changed { .. } => {
                "someone is changing the plugin folder while cutover runs: find out who, then run again"
            }
            TrustError::NamedOtherwise { .. } => "rename the file after the plugin's own name",
        }
    }
}

/// Loads only the plugins called `names` (a config's source and
/// destination), each from the one trusted file named for it, after
/// checking the file's SHA-256 against `lock` where the lock pins it. A name
/// no file answers to is simply missing from the result (the caller says
/// which names were found); untrusted files are [`Problem`]s.
pub fn discover_named(
    search: &[SearchDir],
    names: &[&str],
    lock: Option<(&PluginLock, &Path)>,
) -> Result<Discovery, TrustError> {
    let (candidates, problems) = find_candidates(search);
    let mut available: Vec<String> = candidates.iter().map(Candidate::promised_name).collect();
    available.sort();
    available.dedup();
    let mut discovery = Discovery { problems, available, ..Discovery::default() };
    let mut wanted: Vec<&str> = names.to_vec();
    wanted.dedup();
    for name in wanted {
        let mut matching = candidates.iter().filter(|candidate| candidate.promised_name() == normalise(name));
        let Some(candidate) = matching.next() else { continue };
        if let Some(other) = matching.next() {
            return Err(TrustError::Shadowed {
                name: name.to_owned(),
                first: candidate.path.clone(),
                second: other.path.clone(),
            });
        }
        let pinned = lock.and_then(|(lock, lock_path)| lock.find(name).map(|pin| (pin, lock_path)));
        match load_pinned(candidate, pinned.map(|(pin, lock_path)| (pin.sha256.as_str(), lock_path)), name)? {
            Ok(plugin) => discovery.plugins.push(plugin),
            Err(error) => discovery.problems.push(Problem::from_load_error(&candidate.path, &error)),
        }
    }
    Ok(discovery)
}

/// Loads `candidate`, first checking its SHA-256 against `pin` (the hash
/// and the lock file that holds it). The library is loaded from the file
/// that was hashed (through its descriptor on Linux), so swapping the file
/// between the check and the load changes nothing.
fn load_pinned(
    candidate: &Candidate,
    pin: Option<(&str, &Path)>,
    name: &str,
) -> Result<Result<LoadedPlugin, LoadError>, TrustError> {
    let path = &candidate.path;
    let unreadable = |source| TrustError::Unreadable { path: path.clone(), source };
    let file = crate::trust::open_checked(path).map_err(|reason| TrustError::Changed { path: path.clone(), reason })?;
    if let Some((locked, lock_path)) = pin {
        let actual = crate::trust::sha256(&file).map_err(unreadable)?;
        if actual != locked {
            return Err(TrustError::HashMismatch {
                name: name.to_owned(),
                path: path.clone(),
                lock: lock_path.to_owned(),
                locked: locked.to_owned(),
                actual,
            });
        }
    }
    let through_descriptor = descriptor_path(&file).filter(|descriptor| descriptor.exists());
    tracing::debug!(path = %path.display(), "Loading plugin.");
    let loaded = LoadedPlugin::load(through_descriptor.as_deref().unwrap_or(path)).map(|mut plugin| {
        plugin.path.clone_from(path);
        plugin
    });
    // Kept open for the life of the process, like the library itself: the
    // loader knows a library by the name it was opened under, so a
    // descriptor number used again would name the library loaded first.
    std::mem::forget(file);
    if let Ok(plugin) = &loaded
        && normalise(&plugin.metadata.name) != normalise(name)
    {
        return Err(TrustError::NamedOtherwise {
            name: name.to_owned(),
            path: path.clone(),
            actual: plugin.metadata.name.clone(),
        });
    }
    Ok(loaded)
}

/// The `/proc` path of an open file, on Linux.
fn descriptor_path(file: &std::fs::File) -> Option<PathBuf> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        Some(PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd())))
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = file;
        None
    }
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
