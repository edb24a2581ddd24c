//! Secrets in `cutover.toml`. A plugin's config schema marks the fields that
//! hold a secret (`writeOnly: true`, or `x-secret: true`, on the field's
//! schema, followed through `$ref`s, `allOf`/`anyOf`/`oneOf`, nested objects
//! and arrays). Such a field must be a reference: `${ENV_VAR}`, from the
//! environment, or `file:PATH`, from a file relative to the config's folder
//! that only its owner can read (mode `0600`); an inline value is refused,
//! so a config can be committed and shared. Any other field takes no
//! reference: `${…}` or `file:…` there is an error naming the field, never
//! resolved, so a file named in, say, a base URL is never read, and its
//! content cannot come back in a plugin's error.
//!
//! Every value resolved from a reference is registered here; [`redact`]
//! replaces each one with `****` in any text before it reaches a log, a
//! report, the state store or an error message, including text a plugin
//! wrote (a config error that quotes the value), in every form
//! [`cutover_contract::redact`] covers (JSON- and `{:?}`-escaped,
//! percent-encoded, base64). The host's log lines go through
//! [`RedactingWriter`]. A plugin library logs to stderr itself; the host
//! names each instance's secrets ([`secret_values`]) in the log settings it
//! opens the instance with, and the SDK's writer masks them the same way.

use cutover_contract::redact::Redactor;
use serde_json::Value;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

pub use cutover_contract::redact::RedactedLines;

/// The largest secret file read, in bytes (a PEM key is a few KiB).
const MAX_SECRET_FILE_BYTES: u64 = 64 * 1024;

/// Why a reference could not be resolved, or a secret was inline.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// `${NAME}` names a variable that is not set.
    #[error("`{field}` refers to ${{{variable}}}, which is not set in the environment")]
    MissingVariable {
        /// The config field, as a dotted path.
        field: String,
        /// The variable.
        variable: String,
    },
    /// `file:PATH` names a file that cannot be read.
    #[error("`{field}` refers to file {path}, which cannot be read: {reason}")]
    UnreadableFile {
        /// The config field.
        field: String,
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// `file:PATH` names a folder, a device, a pipe…
    #[error("`{field}` refers to {path}, which is not a regular file")]
    NotAFile {
        /// The config field.
        field: String,
        /// The path.
        path: String,
    },
    /// `file:PATH` names a file other users can read or write.
    #[error(
        "`{field}` refers to file {path}, which other users can access (mode {mode:04o}): a secret's file must be readable by its owner only; run `chmod 600 {path}`"
    )]
    Exposed {
        /// The config field.
        field: String,
        /// The file.
        path: String,
        /// Its permission bits.
        mode: u32,
    },
    /// `file:PATH` names a file too large to be a secret.
    #[error("`{field}` refers to file {path}, which is larger than {limit} bytes: not a secret")]
    TooLarge {
        /// The config field.
        field: String,
        /// The file.
        path: String,
        /// The limit.
        limit: u64,
    },
    /// A secret written into the config itself.
    #[error(
        "`{field}` holds a secret inline: write it as \"${{ENV_VAR}}\" or \"file:PATH\" so the config can be shared"
    )]
    Inline {
        /// The config field.
        field: String,
    },
    /// A secret so short it could not be masked without masking ordinary
    /// text too (and no real credential is that short).
    #[error(
        "`{field}` resolves to a secret shorter than {min} bytes: too short to be a credential, and output could not be kept free of it; check the variable or file it names"
    )]
    TooShort {
        /// The config field.
        field: String,
        /// The shortest secret accepted.
        min: usize,
    },
    /// A reference in a field that does not hold a secret.
    #[error(
        "`{field}` is not a secret field, so it takes no reference (`{reference}`): only the fields the plugin's config schema marks secret (see `cutover plugins inspect`) take \"${{ENV_VAR}}\" or \"file:PATH\"; write the value itself"
    )]
    NotSecret {
        /// The config field.
        field: String,
        /// The reference as written.
        reference: String,
    },
}

fn registry() -> std::sync::MutexGuard<'static, Redactor> {
    static SECRETS: OnceLock<Mutex<Redactor>> = OnceLock::new();
    SECRETS.get_or_init(Mutex::default).lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Redacts `value` from now on. Resolution refuses a secret shorter than
/// [`MIN_SECRET_LEN`](cutover_contract::redact::MIN_SECRET_LEN) (masking it would
/// mask half of every message), so every secret registered is masked.
fn register(value: &str) {
    registry().add(value);
}

/// `text` with every registered secret replaced by `****`: as it is, and
/// in the forms text quoting it takes ([`cutover_contract::redact::forms`]).
pub fn redact(text: &str) -> String {
    registry().redact(text)
}

/// A [`MakeWriter`](tracing_subscriber::fmt::MakeWriter) that passes each
/// log line to the writers `M` makes with every registered secret
/// [redacted](redact): the host's log writer (`RedactingWriter(std::io::stderr)`).
///
/// The formatter writes an event through one writer; that writer keeps what
/// it is given and writes it out redacted when it is dropped (or flushed, up
/// to the last whole line), so a secret split over two writes is still found.
#[derive(Debug, Clone, Copy, Default)]
pub struct RedactingWriter<M>(pub M);

impl<'a, M: tracing_subscriber::fmt::MakeWriter<'a>> tracing_subscriber::fmt::MakeWriter<'a> for RedactingWriter<M> {
    type Writer = RedactedLines<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        RedactedLines::new(self.0.make_writer(), redact)
    }
}

/// How deep `$ref`s and combinators are followed from one schema node.
const MAX_SCHEMA_DEPTH: usize = 32;

/// The schema nodes that describe one value of a config: each node, what
/// its `$ref` points at and the members of its `allOf`, `anyOf` and
/// `oneOf` (an `Option<Struct>` is `anyOf: [{$ref}, {type: null}]`), so a
/// marking on any of them counts. Empty where the schema says nothing.
#[derive(Debug, Clone)]
struct Schemas<'s> {
    root: &'s Value,
    nodes: Vec<&'s Value>,
}

impl<'s> Schemas<'s> {
    /// The whole config's schema.
    fn of(root: &'s Value) -> Schemas<'s> {
        Schemas::expand(root, [root])
    }

    fn expand(root: &'s Value, start: impl IntoIterator<Item = &'s Value>) -> Schemas<'s> {
        let mut nodes: Vec<&'s Value> = Vec::new();
        let mut pending: Vec<(&'s Value, usize)> = start.into_iter().map(|node| (node, 0)).collect();
        while let Some((node, depth)) = pending.pop() {
            if depth > MAX_SCHEMA_DEPTH || nodes.iter().any(|seen| std::ptr::eq(*seen, node)) {
                continue;
            }
            nodes.push(node);
            if let Some(target) =
                node.get("$ref").and_then(Value::as_str).and_then(|reference| pointer(root, reference))
            {
                pending.push((target, depth + 1));
            }
            for combinator in ["allOf", "anyOf", "oneOf"] {
                let members = node.get(combinator).and_then(Value::as_array).into_iter().flatten();
                pending.extend(members.map(|member| (member, depth + 1)));
            }
        }
        Schemas { root, nodes }
    }

    /// Whether the value is a secret: `writeOnly: true` or `x-secret: true`.
    fn is_secret(&self) -> bool {
        let marked = |node: &Value, key: &str| node.get(key).and_then(Value::as_bool) == Some(true);
        self.nodes.iter().any(|node| marked(node, "writeOnly") || marked(node, "x-secret"))
    }

    /// The schemas of the object property `name`: from `properties`, else
    /// from `additionalProperties`.
    fn property(&self, name: &str) -> Schemas<'s> {
        let named: Vec<&Value> = self
            .nodes
            .iter()
            .filter_map(|node| node.get("properties").and_then(|properties| properties.get(name)))
            .collect();
        if !named.is_empty() {
            return Schemas::expand(self.root, named);
        }
        Schemas::expand(self.root, self.nodes.iter().filter_map(|node| node.get("additionalProperties")))
    }

    /// The schemas of an array's items.
    fn items(&self) -> Schemas<'s> {
        Schemas::expand(self.root, self.nodes.iter().filter_map(|node| node.get("items")))
    }
}

/// The node a local `$ref` (`#/$defs/Auth`) points at.
fn pointer<'s>(root: &'s Value, reference: &str) -> Option<&'s Value> {
    let pointer = reference.strip_prefix('#')?;
    root.pointer(pointer).or_else(|| {
        // A `$ref` is a URI: its pointer may be percent-encoded (`%3C` in a generic type's name).
        let decoded = percent_decoded(pointer)?;
        root.pointer(&decoded)
    })
}

fn percent_decoded(text: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some((&byte, tail)) = rest.split_first() {
        if byte == b'%' {
            let hex = std::str::from_utf8(tail.get(..2)?).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            rest = tail.get(2..)?;
        } else {
            bytes.push(byte);
            rest = tail;
        }
    }
    String::from_utf8(bytes).ok()
}

/// A reference as written in a config value.
enum Reference<'a> {
    /// `${NAME}`.
    Env(&'a str),
    /// `file:PATH`.
    File(&'a str),
}

impl<'a> Reference<'a> {
    fn parse(text: &'a str) -> Option<Reference<'a>> {
        if let Some(variable) = text.strip_prefix("${").and_then(|rest| rest.strip_suffix('}')) {
            Some(Reference::Env(variable))
        } else {
            text.strip_prefix("file:").map(Reference::File)
        }
    }
}

/// The plugin config `table` as JSON, with the references in the fields
/// `schema` (the plugin's config schema) marks secret resolved and
/// registered for redaction. `field` is where the table is in the config
/// (`source.config`), and relative `file:` paths are taken from
/// `config_dir`, the config's folder.
pub fn resolve(table: &toml::Table, schema: &Value, config_dir: &Path, field: &str) -> Result<Value, SecretError> {
    resolve_table(table, &Schemas::of(schema), config_dir, field, false)
}

fn resolve_table(
    table: &toml::Table,
    schemas: &Schemas<'_>,
    config_dir: &Path,
    field: &str,
    secret: bool,
) -> Result<Value, SecretError> {
    let mut object = serde_json::Map::new();
    for (name, value) in table {
        let path = format!("{field}.{name}");
        let property = schemas.property(name);
        let secret = secret || property.is_secret();
        object.insert(name.clone(), resolve_value(value, &property, config_dir, &path, secret)?);
    }
    Ok(Value::Object(object))
}

fn resolve_value(
    value: &toml::Value,
    schemas: &Schemas<'_>,
    config_dir: &Path,
    field: &str,
    secret: bool,
) -> Result<Value, SecretError> {
    Ok(match value {
        toml::Value::String(text) => match (Reference::parse(text), secret) {
            (Some(reference), true) => {
                let resolved = match reference {
                    Reference::Env(variable) => std::env::var(variable).map_err(|_| SecretError::MissingVariable {
                        field: field.to_owned(),
                        variable: variable.to_owned(),
                    })?,
                    Reference::File(file) => read_secret_file(config_dir, file, field)?,
                };
                // Every secret accepted is one that is masked everywhere.
                let min = cutover_contract::redact::MIN_SECRET_LEN;
                if resolved.len() < min {
                    return Err(SecretError::TooShort { field: field.to_owned(), min });
                }
                register(&resolved);
                Value::String(resolved)
            }
            (Some(_), false) => {
                return Err(SecretError::NotSecret { field: field.to_owned(), reference: text.clone() });
            }
            (None, true) => return Err(SecretError::Inline { field: field.to_owned() }),
            (None, false) => Value::String(text.clone()),
        },
        toml::Value::Table(table) => resolve_table(table, schemas, config_dir, field, secret)?,
        toml::Value::Array(items) => {
            let item_schemas = schemas.items();
            Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(index, item)| {
                        let secret = secret || item_schemas.is_secret();
                        resolve_value(item, &item_schemas, config_dir, &format!("{field}[{index}]"), secret)
                    })
                    .collect::<Result<_, _>>()?,
            )
        }
        // A number or a boolean in a secret field is a secret written inline
        // (and the plugin's type error would quote it).
        _ if secret => return Err(SecretError::Inline { field: field.to_owned() }),
        other => serde_json::to_value(other).unwrap_or(Value::Null),
    })
}

/// The secret in `file` (relative to `config_dir`), without its final line
/// end: a regular file only its owner can access, opened once, so what is
/// checked is what is read. Errors name the field and the path, never what
/// the file holds.
fn read_secret_file(config_dir: &Path, file: &str, field: &str) -> Result<String, SecretError> {
    let path = config_dir.join(file);
    let shown = path.display().to_string();
    let unreadable =
        |reason: String| SecretError::UnreadableFile { field: field.to_owned(), path: shown.clone(), reason };
    // Non-blocking: a pipe named there is refused below rather than waited on.
    let flags = rustix::fs::OFlags::RDONLY
        | rustix::fs::OFlags::CLOEXEC
        | rustix::fs::OFlags::NOCTTY
        | rustix::fs::OFlags::NONBLOCK;
    let descriptor = rustix::fs::open(&path, flags, rustix::fs::Mode::empty())
        .map_err(|error| unreadable(std::io::Error::from(error).to_string()))?;
    let file = std::fs::File::from(descriptor);
    let metadata = file.metadata().map_err(|error| unreadable(error.to_string()))?;
    if !metadata.is_file() {
        return Err(SecretError::NotAFile { field: field.to_owned(), path: shown });
    }
    let mode = metadata.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(SecretError::Exposed { field: field.to_owned(), path: shown, mode });
    }
    let too_large =
        || SecretError::TooLarge { field: field.to_owned(), path: shown.clone(), limit: MAX_SECRET_FILE_BYTES };
    if metadata.len() > MAX_SECRET_FILE_BYTES {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    file.take(MAX_SECRET_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(|error| unreadable(error.to_string()))?;
    if bytes.len() as u64 > MAX_SECRET_FILE_BYTES {
        return Err(too_large());
    }
    let text = String::from_utf8(bytes).map_err(|_| unreadable("it is not UTF-8 text".into()))?;
    Ok(text.trim_end_matches(['\n', '\r']).to_owned())
}

/// The values a plugin's resolved `config` holds in the fields its config
/// `schema` marks secret: what the plugin's own log lines must not carry.
pub fn secret_values(schema: &Value, config: &Value) -> Vec<String> {
    let mut values = Vec::new();
    collect_secrets(config, &Schemas::of(schema), false, &mut values);
    values
}

fn collect_secrets(value: &Value, schemas: &Schemas<'_>, secret: bool, values: &mut Vec<String>) {
    match value {
        Value::String(text) if secret => values.push(text.clone()),
        Value::Object(object) => {
            for (name, value) in object {
                let property = schemas.property(name);
                let secret = secret || property.is_secret();
                collect_secrets(value, &property, secret, values);
            }
        }
        Value::Array(items) => {
            let item_schemas = schemas.items();
            let secret = secret || item_schemas.is_secret();
            for item in items {
                collect_secrets(item, &item_schemas, secret, values);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn table(text: &str) -> toml::Table {
        text.parse().unwrap()
    }

    /// A config as plugins declare theirs: secrets marked with
    /// `#[schemars(extend("writeOnly" = true))]` (or `x-secret`), behind
    /// `$ref`s, `Option`s, arrays and maps.
    #[derive(schemars::JsonSchema)]
    #[allow(dead_code)]
    struct PluginConfig {
        #[schemars(with = "String", extend("writeOnly" = true))]
        api_key: secrecy::SecretString,
        base_url: Option<String>,
        auth: Option<Auth>,
        mirrors: Vec<Auth>,
        extra: std::collections::BTreeMap<String, String>,
        #[schemars(extend("x-secret" = true))]
        signing: Option<Signing>,
    }

    #[derive(schemars::JsonSchema)]
    #[allow(dead_code)]
    struct Auth {
        user: String,
        #[schemars(with = "Option<String>", extend("writeOnly" = true))]
        password: Option<secrecy::SecretString>,
    }

    #[derive(schemars::JsonSchema)]
    #[allow(dead_code)]
    struct Signing {
        key_id: String,
    }

    fn schema() -> Value {
        schemars::schema_for!(PluginConfig).to_value()
    }

    /// A file in `folder` with `content` and permission bits `mode`.
    fn file(folder: &Path, name: &str, content: &str, mode: u32) -> std::path::PathBuf {
        let path = folder.join(name);
        std::fs::write(&path, content).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        path
    }

    #[test]
    fn the_schema_walk_finds_secret_fields_through_refs_options_arrays_and_maps() {
        let schema = schema();
        let root = Schemas::of(&schema);
        let secret = |path: &[&str]| {
            let mut schemas = root.clone();
            for step in path {
                schemas = if *step == "[]" { schemas.items() } else { schemas.property(step) };
            }
            schemas.is_secret()
        };
        assert!(secret(&["api_key"]), "{schema:#}");
        assert!(secret(&["auth", "password"]), "through `Option<Auth>` and its `$ref`: {schema:#}");
        assert!(secret(&["mirrors", "[]", "password"]), "in an array's items: {schema:#}");
        assert!(secret(&["signing"]), "`x-secret` on a struct: {schema:#}");
        for plain in [&["base_url"][..], &["auth"], &["auth", "user"], &["mirrors"], &["extra", "any"], &["unknown"]] {
            assert!(!secret(plain), "{plain:?}: {schema:#}");
        }
        // A schema that refers to itself ends.
        let looping = serde_json::json!({"$ref": "#", "properties": {"a": {"$ref": "#"}}});
        assert!(!Schemas::of(&looping).property("a").property("a").is_secret());
    }

    #[test]
    fn references_resolve_in_secret_fields_and_are_redacted_everywhere_after() {
        // SAFETY: set once, in this test only, before any thread reads it.
        unsafe { std::env::set_var("CUTOVER_TEST_SECRET_A", "sk_live_abcdef") };
        let folder = tempfile::tempdir().unwrap();
        file(folder.path(), "password.txt", "pw-from-file-42\n", 0o600);
        let resolved = resolve(
            &table(
                "api_key = \"${CUTOVER_TEST_SECRET_A}\"\nbase_url = \"https://x.test/\"\n\
                 [auth]\nuser = \"me\"\npassword = \"file:password.txt\"\n[signing]\nkey_id = \"${CUTOVER_TEST_SECRET_A}\"",
            ),
            &schema(),
            folder.path(),
            "source.config",
        )
        .unwrap();
        assert_eq!(
            resolved,
            serde_json::json!({
                "api_key": "sk_live_abcdef",
                "base_url": "https://x.test/",
                "auth": {"user": "me", "password": "pw-from-file-42"},
                "signing": {"key_id": "sk_live_abcdef"},
            })
        );
        assert_eq!(
            redact("invalid type: string \"sk_live_abcdef\"; pw-from-file-42 refused"),
            "invalid type: string \"****\"; **** refused"
        );
        let mut values = secret_values(&schema(), &resolved);
        values.sort();
        assert_eq!(values, ["pw-from-file-42", "sk_live_abcdef", "sk_live_abcdef"]);
    }

    #[test]
    fn a_reference_in_a_field_that_is_not_secret_is_refused_and_never_resolved() {
        let folder = tempfile::tempdir().unwrap();
        // Were it read, this file would be refused for its mode, or shown.
        let planted = file(folder.path(), "planted.txt", "planted-file-content", 0o644);
        file(folder.path(), "key.txt", "the-api-key", 0o600);
        // SAFETY: set once, in this test only, before any thread reads it.
        unsafe { std::env::set_var("CUTOVER_TEST_NOT_A_SECRET", "env-content-never-read") };
        for (config, field, reference) in [
            (
                format!("api_key = \"file:key.txt\"\nbase_url = \"file:{}\"", planted.display()),
                "base_url",
                format!("file:{}", planted.display()),
            ),
            (
                "api_key = \"file:key.txt\"\nbase_url = \"file:planted.txt\"".to_owned(),
                "base_url",
                "file:planted.txt".to_owned(),
            ),
            (
                "api_key = \"file:key.txt\"\n[auth]\nuser = \"${CUTOVER_TEST_NOT_A_SECRET}\"".to_owned(),
                "auth.user",
                "${CUTOVER_TEST_NOT_A_SECRET}".to_owned(),
            ),
            (
                "api_key = \"file:key.txt\"\nmirrors = [{ user = \"file:planted.txt\" }]".to_owned(),
                "mirrors[0].user",
                "file:planted.txt".to_owned(),
            ),
            (
                "api_key = \"file:key.txt\"\nextra = { note = \"file:planted.txt\" }".to_owned(),
                "extra.note",
                "file:planted.txt".to_owned(),
            ),
            (
                "api_key = \"file:key.txt\"\nnot_in_the_schema = \"file:planted.txt\"".to_owned(),
                "not_in_the_schema",
                "file:planted.txt".to_owned(),
            ),
        ] {
            let error = resolve(&table(&config), &schema(), folder.path(), "source.config").unwrap_err();
            assert_eq!(
                error.to_string(),
                format!(
                    "`source.config.{field}` is not a secret field, so it takes no reference (`{reference}`): only the fields the plugin's config schema marks secret (see `cutover plugins inspect`) take \"${{ENV_VAR}}\" or \"file:PATH\"; write the value itself"
                ),
            );
        }
        assert_eq!(
            redact("planted-file-content env-content-never-read"),
            "planted-file-content env-content-never-read"
        );
        // Text that only looks like a reference in part is a value like any other.
        let resolved = resolve(
            &table("api_key = \"file:key.txt\"\nbase_url = \"https://${HOST}/file:x\""),
            &schema(),
            folder.path(),
            "c",
        )
        .unwrap();
        assert_eq!(resolved["base_url"], "https://${HOST}/file:x");
    }

    #[test]
    fn a_secret_too_short_to_mask_is_refused_so_every_accepted_secret_is_masked() {
        let folder = tempfile::tempdir().unwrap();
        file(folder.path(), "short.txt", "ab3\n", 0o600);
        let error = resolve(&table("api_key = \"file:short.txt\""), &schema(), folder.path(), "source.config")
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            "`source.config.api_key` resolves to a secret shorter than 4 bytes: too short to be a credential, and \
             output could not be kept free of it; check the variable or file it names"
        );
        assert!(!error.contains("ab3"), "{error}");
        file(folder.path(), "four.txt", "ab3d", 0o600);
        let resolved =
            resolve(&table("api_key = \"file:four.txt\""), &schema(), folder.path(), "source.config").unwrap();
        assert_eq!(resolved["api_key"], "ab3d");
        assert_eq!(redact("key=ab3d;"), "key=****;");
    }

    #[test]
    fn a_secret_file_is_a_regular_file_of_its_owner_only_relative_to_the_config_folder() {
        let folder = tempfile::tempdir().unwrap();
        let config_dir = folder.path().join("conf");
        std::fs::create_dir(&config_dir).unwrap();
        file(&config_dir, "key.txt", "key-in-the-config-folder\n", 0o600);
        // The same name in the working directory's place must not be the one read.
        file(folder.path(), "key.txt", "key-in-the-wrong-folder", 0o600);
        let key = |reference: &str| {
            resolve(&table(&format!("api_key = \"{reference}\"")), &schema(), &config_dir, "source.config")
                .map(|resolved| resolved["api_key"].as_str().unwrap_or_default().to_owned())
        };
        assert_eq!(key("file:key.txt").unwrap(), "key-in-the-config-folder");
        let check = |content: &str, mode: u32, expected: &str| {
            let path = file(&config_dir, "other.txt", content, mode);
            let error = key("file:other.txt").unwrap_err().to_string();
            assert_eq!(error, expected.replace("PATH", &path.display().to_string()));
            assert!(!error.contains(content), "{error}");
        };
        let exposed = "`source.config.api_key` refers to file PATH, which other users can access (mode MODE): a secret's file must be readable by its owner only; run `chmod 600 PATH`";
        check("readable-by-all", 0o644, &exposed.replace("MODE", "0644"));
        check("writable-by-group", 0o620, &exposed.replace("MODE", "0620"));
        check("readable-by-others", 0o604, &exposed.replace("MODE", "0604"));
        let latin1 = file(&config_dir, "latin1.txt", "", 0o600);
        std::fs::write(&latin1, b"caf\xe9").unwrap();
        assert_eq!(
            key("file:latin1.txt").unwrap_err().to_string(),
            format!(
                "`source.config.api_key` refers to file {}, which cannot be read: it is not UTF-8 text",
                latin1.display()
            )
        );
        let large = "x".repeat(MAX_SECRET_FILE_BYTES as usize + 1);
        check(
            &large,
            0o600,
            "`source.config.api_key` refers to file PATH, which is larger than 65536 bytes: not a secret",
        );
        // A folder, and a pipe (refused without waiting for a writer).
        let error = key("file:.").unwrap_err().to_string();
        assert_eq!(
            error,
            format!(
                "`source.config.api_key` refers to {}, which is not a regular file",
                config_dir.join(".").display()
            )
        );
        let fifo = config_dir.join("fifo");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        let error = key("file:fifo").unwrap_err().to_string();
        assert!(error.ends_with("fifo, which is not a regular file"), "{error}");
        let error = key("file:missing.txt").unwrap_err().to_string();
        assert!(
            error.starts_with("`source.config.api_key` refers to file ")
                && error.contains("missing.txt, which cannot be read: "),
            "{error}"
        );
        assert_eq!(redact("key-in-the-wrong-folder readable-by-all"), "key-in-the-wrong-folder readable-by-all");
    }

    /// A log buffer the tests' subscribers write to.
    #[derive(Clone, Default)]
    struct Captured(std::sync::Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    /// What a subscriber with the host's log writer around `captured` logs
    /// of one warning carrying `secret` in a field and in the message.
    fn log_through_the_host_writer(captured: &Captured, json: bool, secret: &str) {
        let sink = captured.clone();
        let builder = tracing_subscriber::fmt().with_writer(RedactingWriter(move || sink.clone())).with_ansi(false);
        let log = || tracing::warn!(error = %format!("the API answered 401 for key {secret}"), key = secret, "Stream failed: {secret}.");
        if json {
            tracing::subscriber::with_default(builder.json().finish(), log);
        } else {
            tracing::subscriber::with_default(builder.finish(), log);
        }
    }

    #[test]
    fn host_log_lines_carry_no_secret_in_either_format() {
        // Quotes, a backslash and a newline are escaped in JSON lines and in `{:?}`; `/`, `+`, `=` and `é` in URLs.
        let secret = "k3y\"q\\uo/te+d=é\n-us21";
        register(secret);
        for json in [false, true] {
            let captured = Captured::default();
            log_through_the_host_writer(&captured, json, secret);
            let text = captured.text();
            assert!(text.contains("Stream failed: ****."), "{text}");
            assert!(text.contains("401 for key ****"), "{text}");
            assert!(!text.contains("k3y") && !text.contains("uo/te"), "json {json}: {text}");
            assert_eq!(text.lines().count(), 1, "one whole line: {text:?}");
            assert!(text.ends_with('\n'), "one whole line: {text:?}");
        }
        assert_eq!(redact("a%20k3y%22q%5Cuo%2Fte%2Bd%3D%C3%A9%0A-us21 b"), "a%20**** b");
    }

    #[test]
    fn a_line_written_in_pieces_is_redacted_whole() {
        register("piece-wise-secret");
        let captured = Captured::default();
        let mut writer = tracing_subscriber::fmt::MakeWriter::make_writer(&RedactingWriter(|| captured.clone()));
        writer.write_all(b"first piece-wi").unwrap();
        writer.write_all(b"se-secret line\nsecond").unwrap();
        writer.flush().unwrap();
        assert_eq!(captured.text(), "first **** line\n", "flush writes whole lines only");
        drop(writer);
        assert_eq!(captured.text(), "first **** line\nsecond");
    }

    #[test]
    fn inline_secrets_and_missing_references_are_refused_by_field() {
        let folder = tempfile::tempdir().unwrap();
        file(folder.path(), "key.txt", "the-api-key", 0o600);
        let check = |text: &str, expected: &str| {
            let error = resolve(&table(text), &schema(), folder.path(), "destination.config").unwrap_err();
            assert_eq!(error.to_string(), expected);
        };
        check(
            "api_key = \"abc123\"",
            "`destination.config.api_key` holds a secret inline: write it as \"${ENV_VAR}\" or \"file:PATH\" so the config can be shared",
        );
        check(
            "api_key = 123456789",
            "`destination.config.api_key` holds a secret inline: write it as \"${ENV_VAR}\" or \"file:PATH\" so the config can be shared",
        );
        check(
            "api_key = \"file:key.txt\"\n[[mirrors]]\nuser = \"u\"\npassword = \"x\"",
            "`destination.config.mirrors[0].password` holds a secret inline: write it as \"${ENV_VAR}\" or \"file:PATH\" so the config can be shared",
        );
        check(
            "api_key = \"${CUTOVER_TEST_NOT_SET_ANYWHERE}\"",
            "`destination.config.api_key` refers to ${CUTOVER_TEST_NOT_SET_ANYWHERE}, which is not set in the environment",
        );
    }
}
