//! The facade's error type.

use std::net::SocketAddr;

/// What can go wrong when starting an emulator.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The listening socket could not be bound.
    #[error("cannot listen on {address}: {source}")]
    Bind {
        /// The address asked for.
        address: SocketAddr,
        /// Why binding failed.
        source: std::io::Error,
    },
    /// The platform name is not one of the emulated platforms.
    #[error("unknown platform `{name}`: expected `mailchimp` or `klaviyo`")]
    UnknownPlatform {
        /// The name given.
        name: String,
    },
}

impl From<cutover_emulator_kit::Error> for Error {
    fn from(error: cutover_emulator_kit::Error) -> Self {
        match error {
            cutover_emulator_kit::Error::Bind { address, source } => Error::Bind { address, source },
        }
    }
}
