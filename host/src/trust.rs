//! Which files in a plugin folder may be loaded at all, decided before the
//! system loader runs a line of their code (a library's constructors run at
//! `dlopen`, before it could be refused as "not a cutover plugin").
//!
//! A folder or file is refused when it is a symbolic link, when its group or
//! anyone else may write it, or when it is owned by someone other than the
//! user running cutover or root: whoever can change such a file can run code
//! as the operator and receive the platform credentials the config resolves.
//! The lock file (`cutover.lock`, see [`crate::lock`]) then pins each plugin
//! a config names to the SHA-256 of its file.

use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::Path;

/// Why a plugin file or folder is not trusted, or `Ok` if it is.
pub fn check(path: &Path, what: &str) -> Result<(), String> {
    let metadata = std::fs::symlink_metadata(path).map_err(|error| format!("cannot inspect the {what}: {error}"))?;
    if metadata.file_type().is_symlink() {
        return Err(format!("the {what} is a symbolic link; plugins are loaded only from their real path"));
    }
    platform::check(&metadata, what)
}

/// Opens a plugin file that passed [`check`], without following a link,
/// and checks the opened file itself again: a file swapped for another (or
/// for a link) between the check and the open is refused, and what is
/// opened is what is hashed and loaded.
pub fn open_checked(path: &Path) -> Result<std::fs::File, String> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32);
    }
    let file =
        options.open(path).map_err(|error| format!("cannot open the plugin file without following links: {error}"))?;
    let metadata = file.metadata().map_err(|error| format!("cannot inspect the opened plugin file: {error}"))?;
    if !metadata.is_file() {
        return Err("the opened plugin file is not a regular file".into());
    }
    platform::check(&metadata, "plugin file")?;
    Ok(file)
}

/// The SHA-256 of everything `reader` holds, as lowercase hex.
pub fn sha256(mut reader: impl Read) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let read = reader.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(hasher.finalize().iter().map(|byte| format!("{byte:02x}")).collect())
}

#[cfg(unix)]
mod platform {
    use std::os::unix::fs::MetadataExt;

    pub(super) fn check(metadata: &std::fs::Metadata, what: &str) -> Result<(), String> {
        let mode = metadata.mode();
        if mode & 0o022 != 0 {
            let who = if mode & 0o002 != 0 { "anyone" } else { "its group" };
            return Err(format!(
                "{who} may write the {what} (mode {:o}); make it writable by its owner only (chmod go-w)",
                mode & 0o7777
            ));
        }
        let owner = metadata.uid();
        let user = rustix::process::geteuid().as_raw();
        if owner != user && owner != 0 {
            return Err(format!(
                "the {what} belongs to user id {owner}, not to the user running cutover ({user}) or root"
            ));
        }
        Ok(())
    }
}

#[cfg(not(unix))]
mod platform {
    pub(super) fn check(_metadata: &std::fs::Metadata, _what: &str) -> Result<(), String> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn writable_by_others_or_a_link_is_refused() {
        let folder = tempfile::tempdir().unwrap();
        let file = folder.path().join("libx.so");
        std::fs::write(&file, b"x").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(check(&file, "plugin file"), Ok(()));
        for (mode, who) in [(0o775, "its group"), (0o757, "anyone"), (0o777, "anyone")] {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
            let reason = check(&file, "plugin file").unwrap_err();
            assert!(reason.starts_with(&format!("{who} may write the plugin file")), "{mode:o}: {reason}");
        }
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o700)).unwrap();
        let link = folder.path().join("liby.so");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert!(check(&link, "plugin file").unwrap_err().contains("symbolic link"));
        // Opened, a link is refused too (the file swapped after the check).
        assert!(open_checked(&file).is_ok());
        assert!(open_checked(&link).unwrap_err().contains("without following links"), "{:?}", open_checked(&link));
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o777)).unwrap();
        assert!(open_checked(&file).unwrap_err().starts_with("anyone may write the plugin file"));
    }

    #[test]
    fn sha256_matches_the_standard_vectors() {
        assert_eq!(sha256(&b""[..]).unwrap(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!(sha256(&b"abc"[..]).unwrap(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
