//! What every emulator is started with, whatever the vendor.

use crate::FaultConfig;

/// How an emulator is seeded, where it listens and how it is broken. A
/// vendor's own configuration holds one and adds its own knobs (limits).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Seed for the data and for every random fault decision.
    pub seed: u64,
    /// Number of records (members, profiles, …) to seed.
    pub records: usize,
    /// Port to listen on, on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// API key the emulator accepts; `None` lets the vendor derive one from
    /// the seed in its own format.
    pub api_key: Option<String>,
    /// Fraction of seeded addresses that are not valid email addresses
    /// ([`crate::people::person`]); what the vendor holds them as is its
    /// own quirk.
    pub invalid_email_fraction: f64,
    /// Faults active from the start, the hostile answers among them (a huge
    /// streamed body, an absurd `Retry-After`, paging that never ends);
    /// change them later with
    /// [`RunningEmulator::set_faults`](crate::RunningEmulator::set_faults) or
    /// `POST /__emulator/faults`.
    pub faults: FaultConfig,
}

impl Settings {
    /// A free port, a key derived from the seed, no faults, 1 % invalid
    /// addresses.
    pub fn new(seed: u64, records: usize) -> Self {
        Settings { seed, records, port: 0, api_key: None, invalid_email_fraction: 0.01, faults: FaultConfig::default() }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings::new(1, 100)
    }
}
