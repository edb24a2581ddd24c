//! Starting an emulator of any vendor, and the handle on it.

use std::net::SocketAddr;

use crate::{EmulatorConfig, Error, FaultConfig, ImpactConfig, ImpactState, KlaviyoState, MailchimpState, Platform};

/// Starts emulators; see [`Emulator::start`].
#[derive(Debug)]
pub struct Emulator;

/// The seeded state of a running emulator, by platform.
#[derive(Debug, Clone)]
pub enum EmulatorState {
    /// A Mailchimp emulator's audiences, members and campaigns.
    Mailchimp(MailchimpState),
    /// A Klaviyo emulator's profiles, lists, events and jobs.
    Klaviyo(KlaviyoState),
}

/// An emulator serving on 127.0.0.1 from a tokio task. Dropping it stops the
/// server; [`RunningEmulator::shutdown`] also waits for it to stop.
#[derive(Debug)]
pub struct RunningEmulator {
    /// `http://127.0.0.1:PORT`; Mailchimp paths start with `/3.0/`, Klaviyo
    /// paths with `/api/`.
    pub base_url: String,
    /// The API key the emulator accepts: Mailchimp's basic-auth password, or
    /// Klaviyo's `Klaviyo-API-Key` value.
    pub api_key: String,
    /// The platform served.
    pub platform: Platform,
    inner: cutover_emulator_kit::RunningEmulator<EmulatorState>,
}

impl Emulator {
    /// Seeds the platform's state from `config`, binds 127.0.0.1 on
    /// `config.port` (0 picks a free port) and serves from a tokio task.
    pub async fn start(platform: Platform, config: EmulatorConfig) -> Result<RunningEmulator, Error> {
        let inner = match platform {
            Platform::Mailchimp => {
                cutover_emulator_mailchimp::start(config.mailchimp()).await?.map_state(EmulatorState::Mailchimp)
            }
            Platform::Klaviyo => {
                cutover_emulator_klaviyo::start(config.klaviyo()).await?.map_state(EmulatorState::Klaviyo)
            }
        };
        Ok(RunningEmulator { base_url: inner.base_url.clone(), api_key: inner.api_key.clone(), platform, inner })
    }
}

impl Emulator {
    /// Starts the impact.com Brand API emulator, seeded from `config`'s
    /// seed and records (actions and clicks; partners are a quarter of
    /// them), with its documented limits unless `limits` changes them. Its
    /// handle is the kit's: `base_url`, `api_key` (the Auth Token) and the
    /// state with the Account SID.
    pub async fn start_impact(
        config: EmulatorConfig,
        limits: impl FnOnce(&mut ImpactConfig),
    ) -> Result<cutover_emulator_kit::RunningEmulator<ImpactState>, Error> {
        let mut impact = ImpactConfig::new(config.seed, config.records);
        impact.settings = config.settings();
        limits(&mut impact);
        Ok(cutover_emulator_impact::start(impact).await?)
    }
}

impl RunningEmulator {
    /// The bound address.
    pub fn address(&self) -> SocketAddr {
        self.inner.address()
    }

    /// The state handle, whatever the platform.
    pub fn state(&self) -> &EmulatorState {
        self.inner.state()
    }

    /// The Mailchimp state, if this emulator serves Mailchimp.
    pub fn mailchimp(&self) -> Option<&MailchimpState> {
        match self.state() {
            EmulatorState::Mailchimp(state) => Some(state),
            EmulatorState::Klaviyo(_) => None,
        }
    }

    /// The Klaviyo state, if this emulator serves Klaviyo.
    pub fn klaviyo(&self) -> Option<&KlaviyoState> {
        match self.state() {
            EmulatorState::Klaviyo(state) => Some(state),
            EmulatorState::Mailchimp(_) => None,
        }
    }

    /// The faults in force; bursts show what is left of them.
    pub fn faults(&self) -> FaultConfig {
        self.inner.faults()
    }

    /// Replaces the faults in force (as `POST /__emulator/faults` does).
    pub fn set_faults(&self, faults: FaultConfig) {
        self.inner.set_faults(faults);
    }

    /// Requests to the vendor's routes being handled right now (control
    /// routes not counted), so a test can wait for a request to be in flight
    /// instead of sleeping.
    pub fn requests_in_flight(&self) -> usize {
        self.inner.requests_in_flight()
    }

    /// Stops accepting, closes open connections and waits for the server
    /// task to end.
    pub async fn shutdown(self) {
        self.inner.shutdown().await;
    }
}
