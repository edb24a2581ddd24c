//! [`ScaleoState`]: the store shared by the handlers and by tests, which
//! read what the emulator holds without asking its API.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use cutover_emulator_kit::Settings;
use cutover_emulator_kit::store::read;
use serde_json::{Value, json};

use crate::model::{Access, Affiliate, Click, Conversion, Invoice, Offer, PromoCode, Store};
use crate::seed;

/// A handle on a Scaleo emulator's data. Accessors return snapshots
/// (clones) taken under the read lock.
#[derive(Debug, Clone)]
pub struct ScaleoState {
    store: Arc<RwLock<Store>>,
}

impl ScaleoState {
    pub(crate) fn seeded(settings: &Settings) -> ScaleoState {
        ScaleoState { store: Arc::new(RwLock::new(seed::store(settings))) }
    }

    pub(crate) fn store(&self) -> &Arc<RwLock<Store>> {
        &self.store
    }

    /// The network manager's key (40 hex characters), for
    /// `/api/v2/network/...`.
    pub fn api_key(&self) -> String {
        read(&self.store).network_key.clone()
    }

    /// An affiliate's key, accepted only under `/api/v2/affiliate/...`.
    pub fn affiliate_key(&self) -> String {
        read(&self.store).affiliate_key.clone()
    }

    /// A manager key whose user has the API disabled (`api_status` 2):
    /// refused with 401.
    pub fn disabled_key(&self) -> String {
        read(&self.store).disabled_key.clone()
    }

    /// Every affiliate, by id.
    pub fn affiliates(&self) -> Vec<Affiliate> {
        read(&self.store).affiliates.values().cloned().collect()
    }

    /// One affiliate.
    pub fn affiliate(&self, id: u64) -> Option<Affiliate> {
        read(&self.store).affiliates.get(&id).cloned()
    }

    /// Every offer, by id.
    pub fn offers(&self) -> Vec<Offer> {
        read(&self.store).offers.values().cloned().collect()
    }

    /// Every offer access (tracking link), by id.
    pub fn access(&self) -> Vec<Access> {
        read(&self.store).access.values().cloned().collect()
    }

    /// Every promo code, by id.
    pub fn promo_codes(&self) -> Vec<PromoCode> {
        read(&self.store).promo_codes.values().cloned().collect()
    }

    /// Every click, in time order.
    pub fn clicks(&self) -> Vec<Click> {
        read(&self.store).clicks.clone()
    }

    /// Every conversion, in time order (seeded and created).
    pub fn conversions(&self) -> Vec<Conversion> {
        read(&self.store).conversions.clone()
    }

    /// Every invoice, by id.
    pub fn invoices(&self) -> Vec<Invoice> {
        read(&self.store).invoices.values().cloned().collect()
    }

    /// Counts per resource (and per status where it has one), as
    /// `GET /__emulator/scaleo/seeded` answers them.
    pub fn counts(&self) -> Value {
        let store = read(&self.store);
        let by = |values: Vec<String>| {
            let mut counts: BTreeMap<String, usize> = BTreeMap::new();
            for value in values {
                *counts.entry(value).or_default() += 1;
            }
            counts
        };
        json!({
            "affiliates": store.affiliates.len(),
            "affiliates_by_status": by(store.affiliates.values().map(|affiliate| affiliate.status.to_string()).collect()),
            "affiliates_by_tier": by(store.affiliates.values()
                .map(|affiliate| affiliate.tags.iter().find(|tag| tag.starts_with("tier:")).cloned().unwrap_or_default())
                .collect()),
            "affiliates_with_sponsor": store.affiliates.values().filter(|affiliate| affiliate.referred_by.is_some()).count(),
            "offers": store.offers.len(),
            "goals": store.offers.values().map(|offer| offer.goals.len()).sum::<usize>(),
            "landing_pages": store.offers.values().map(|offer| offer.links.len()).sum::<usize>(),
            "access": store.access.len(),
            "access_by_status": by(store.access.values().map(|access| access.status.clone()).collect()),
            "promo_codes": store.promo_codes.len(),
            "clicks": store.clicks.len(),
            "conversions": store.conversions.len(),
            "conversions_by_status": by(store.conversions.iter().map(|conversion| conversion.status.clone()).collect()),
            "conversions_by_currency": by(store.conversions.iter().map(|conversion| conversion.currency.clone()).collect()),
            "invoices": store.invoices.len(),
            "invoices_by_status": by(store.invoices.values().map(|invoice| invoice.status.clone()).collect()),
        })
    }
}
