//! What an emulator is started with, whatever the vendor.

use std::fmt;
use std::str::FromStr;

use cutover_emulator_kit::Settings;
use cutover_emulator_klaviyo::{KlaviyoConfig, KlaviyoRateLimit};
use cutover_emulator_mailchimp::MailchimpConfig;

use crate::{Error, FaultConfig};

/// The vendor API an emulator speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Platform {
    /// Mailchimp Marketing API 3.0 under `/3.0/`.
    Mailchimp,
    /// Klaviyo's dated-revision API under `/api/`.
    Klaviyo,
}

impl Platform {
    /// The lowercase name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Platform::Mailchimp => "mailchimp",
            Platform::Klaviyo => "klaviyo",
        }
    }

    /// Where the vendor's API is served, under the base URL: `/3.0/` or
    /// `/api/`.
    pub fn api_root(self) -> &'static str {
        match self {
            Platform::Mailchimp => cutover_emulator_mailchimp::API_ROOT,
            Platform::Klaviyo => cutover_emulator_klaviyo::API_ROOT,
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

impl FromStr for Platform {
    type Err = Error;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name.to_ascii_lowercase().as_str() {
            "mailchimp" => Ok(Platform::Mailchimp),
            "klaviyo" => Ok(Platform::Klaviyo),
            _ => Err(Error::UnknownPlatform { name: name.to_owned() }),
        }
    }
}

/// How an emulator is seeded, limited and broken.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Seed for the data and for every random fault decision.
    pub seed: u64,
    /// Number of members (Mailchimp, counted over all audiences) or profiles
    /// (Klaviyo) to seed.
    pub records: usize,
    /// Port to listen on, on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// API key the emulator accepts; `None` derives one from the seed
    /// (`<32 hex>-us21` for Mailchimp, `pk_<34 hex>` for Klaviyo).
    pub api_key: Option<String>,
    /// Fraction of seeded addresses that are not valid email addresses.
    /// Mailchimp holds them as members imported long ago (the API refuses such
    /// addresses on write, so only seeding can produce them); Klaviyo holds
    /// them on profiles suppressed with `INVALID_EMAIL`.
    pub invalid_email_fraction: f64,
    /// Mailchimp's cap on simultaneous connections per user (documented: 10).
    /// The emulator counts requests in flight, which is what a pooled client
    /// sees as connections.
    pub mailchimp_max_connections: usize,
    /// Replaces Klaviyo's documented per-endpoint tiers with one rate;
    /// `None` keeps the documented tiers.
    pub klaviyo_rate_limit: Option<KlaviyoRateLimit>,
    /// Faults active from the start, the hostile answers among them (a huge
    /// streamed body, an absurd `Retry-After`, paging that never ends); change
    /// them later with
    /// [`RunningEmulator::set_faults`](crate::RunningEmulator::set_faults) or
    /// `POST /__emulator/faults`.
    pub faults: FaultConfig,
}

impl EmulatorConfig {
    /// Documented limits, no faults, 1 % invalid addresses.
    pub fn new(seed: u64, records: usize) -> Self {
        let settings = Settings::new(seed, records);
        EmulatorConfig {
            seed,
            records,
            port: settings.port,
            api_key: settings.api_key,
            invalid_email_fraction: settings.invalid_email_fraction,
            mailchimp_max_connections: MailchimpConfig::new(seed, records).max_connections,
            klaviyo_rate_limit: KlaviyoConfig::new(seed, records).rate_limit,
            faults: settings.faults,
        }
    }

    /// What every vendor is started with.
    pub(crate) fn settings(&self) -> Settings {
        Settings {
            seed: self.seed,
            records: self.records,
            port: self.port,
            api_key: self.api_key.clone(),
            invalid_email_fraction: self.invalid_email_fraction,
            faults: self.faults.clone(),
        }
    }

    /// The Mailchimp emulator's configuration.
    pub(crate) fn mailchimp(&self) -> MailchimpConfig {
        MailchimpConfig { settings: self.settings(), max_connections: self.mailchimp_max_connections }
    }

    /// The Klaviyo emulator's configuration.
    pub(crate) fn klaviyo(&self) -> KlaviyoConfig {
        KlaviyoConfig { settings: self.settings(), rate_limit: self.klaviyo_rate_limit }
    }
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig::new(1, 100)
    }
}
