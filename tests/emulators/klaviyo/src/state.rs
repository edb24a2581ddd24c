//! [`KlaviyoState`]: the store shared by the handlers and by tests.

use std::sync::{Arc, RwLock};

use cutover_emulator_kit::Settings;
use cutover_emulator_kit::store::read;

use crate::model::{Profile, Store, event_properties};
use crate::seed;

/// A handle on a Klaviyo emulator's data. Accessors return snapshots
/// (clones) taken under the read lock.
#[derive(Debug, Clone)]
pub struct KlaviyoState {
    store: Arc<RwLock<Store>>,
}

impl KlaviyoState {
    pub(crate) fn seeded(config: &Settings) -> Self {
        KlaviyoState { store: Arc::new(RwLock::new(seed::store(config))) }
    }

    pub(crate) fn store(&self) -> &Arc<RwLock<Store>> {
        &self.store
    }

    /// The private API key the emulator accepts (`pk_...`).
    pub fn api_key(&self) -> String {
        read(&self.store).api_key.clone()
    }

    /// Number of profiles.
    pub fn profile_count(&self) -> usize {
        read(&self.store).profiles.len()
    }

    /// Every profile, in id order (the API's default order).
    pub fn profiles(&self) -> Vec<Profile> {
        read(&self.store).profiles.values().cloned().collect()
    }

    /// One profile by id.
    pub fn profile(&self, profile_id: &str) -> Option<Profile> {
        read(&self.store).profiles.get(profile_id).cloned()
    }

    /// One profile by email address (case-insensitive).
    pub fn profile_by_email(&self, email: &str) -> Option<Profile> {
        read(&self.store).profile_by_email(email).cloned()
    }

    /// Ids and names of every list.
    pub fn lists(&self) -> Vec<(String, String)> {
        read(&self.store).lists.iter().map(|list| (list.id.clone(), list.name.clone())).collect()
    }

    /// Ids of a list's member profiles, in id order.
    pub fn list_members(&self, list_id: &str) -> Vec<String> {
        read(&self.store).list(list_id).map(|list| list.members.keys().cloned().collect()).unwrap_or_default()
    }

    /// Number of events, seeded and written.
    pub fn event_count(&self) -> usize {
        read(&self.store).events.len()
    }

    /// The `unique_id` of every event that has one (written events: cutover
    /// sends `<platform>:<source id>`), in the order they were stored; an id
    /// twice here would be an event stored twice.
    pub fn event_unique_ids(&self) -> Vec<String> {
        read(&self.store).events.iter().filter_map(|event| event.unique_id.clone()).collect()
    }

    /// Events of one profile as (metric name, time, properties) in time
    /// order; seeded events get their recomputed properties.
    pub fn events_of(&self, profile_id: &str) -> Vec<(String, chrono::DateTime<chrono::Utc>, serde_json::Value)> {
        let store = read(&self.store);
        let Some(&number) = store.profile_numbers.get(profile_id) else {
            return Vec::new();
        };
        store
            .events
            .iter()
            .filter(|event| event.profile == number)
            .map(|event| {
                let name =
                    store.metrics.get(usize::from(event.metric)).map(|metric| metric.name.clone()).unwrap_or_default();
                let properties = match &event.properties {
                    Some(properties) => serde_json::Value::Object((**properties).clone()),
                    None => event_properties(store.seed, event, &name),
                };
                (name, event.datetime, properties)
            })
            .collect()
    }
}
