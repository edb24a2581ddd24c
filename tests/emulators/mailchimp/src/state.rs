//! [`MailchimpState`]: the store shared by the handlers and by tests.

use std::sync::{Arc, RwLock};

use crate::model::{Member, Store, subscriber_hash};
use crate::reports::outcome;
use crate::seed;
use crate::write::path_hash;
use cutover_emulator_kit::Settings;
use cutover_emulator_kit::store::read;

/// A handle on a Mailchimp emulator's data. Accessors return snapshots
/// (clones) taken under the read lock.
#[derive(Debug, Clone)]
pub struct MailchimpState {
    store: Arc<RwLock<Store>>,
}

/// An audience as seen from a test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListSummary {
    /// The audience's id.
    pub id: String,
    /// The audience's name.
    pub name: String,
    /// Members of every status, archived included.
    pub member_count: usize,
}

/// One recipient of one sent campaign and what they did with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignActivity {
    /// The campaign.
    pub campaign_id: String,
    /// Its audience.
    pub list_id: String,
    /// The recipient's member id (subscriber hash).
    pub member_id: String,
    /// Whether it bounced (hard or soft).
    pub bounced: bool,
    /// Whether it was opened.
    pub opened: bool,
    /// Whether it was clicked.
    pub clicked: bool,
    /// Whether the member unsubscribed from it.
    pub unsubscribed: bool,
}

impl MailchimpState {
    pub(crate) fn seeded(config: &Settings) -> Self {
        MailchimpState { store: Arc::new(RwLock::new(seed::store(config))) }
    }

    pub(crate) fn store(&self) -> &Arc<RwLock<Store>> {
        &self.store
    }

    /// The API key the emulator accepts (`<hex>-us21`).
    pub fn api_key(&self) -> String {
        read(&self.store).api_key.clone()
    }

    /// Every audience, in creation order.
    pub fn lists(&self) -> Vec<ListSummary> {
        read(&self.store)
            .lists
            .iter()
            .map(|list| ListSummary { id: list.id.clone(), name: list.name.clone(), member_count: list.members.len() })
            .collect()
    }

    /// Every member of an audience, archived ones included, in the order the
    /// API lists them.
    pub fn members(&self, list_id: &str) -> Vec<Member> {
        read(&self.store).list(list_id).map(|list| list.members.clone()).unwrap_or_default()
    }

    /// One member, by address or subscriber hash.
    pub fn member(&self, list_id: &str, email_or_hash: &str) -> Option<Member> {
        let hash = path_hash(email_or_hash);
        read(&self.store).list(list_id).and_then(|list| list.member(&hash).cloned())
    }

    /// Members over all audiences (an address on two audiences counts twice).
    pub fn member_count(&self) -> usize {
        read(&self.store).lists.iter().map(|list| list.members.len()).sum()
    }

    /// The members seeded with an address that is not one (the
    /// [`Settings::invalid_email_fraction`]), as `(list id, member id)`
    /// in seeding order: what a migration must reject, known without asking
    /// any validator.
    pub fn seeded_invalid_members(&self) -> Vec<(String, String)> {
        read(&self.store).seeded_invalid.clone()
    }

    /// What every recipient of every sent campaign did, as the reports
    /// (`email-activity`, `unsubscribed`) list it, in campaign order.
    pub fn campaign_activity(&self) -> Vec<CampaignActivity> {
        let store = read(&self.store);
        let mut activity = Vec::new();
        for campaign in &store.campaigns {
            let Some(list) = store.lists.get(campaign.list) else { continue };
            for member in &list.members {
                if let Some(outcome) = outcome(store.seed, campaign, member) {
                    activity.push(CampaignActivity {
                        campaign_id: campaign.id.clone(),
                        list_id: list.id.clone(),
                        member_id: member.id.clone(),
                        bounced: outcome.bounce.is_some(),
                        opened: outcome.open.is_some(),
                        clicked: outcome.click.is_some(),
                        unsubscribed: outcome.unsubscribed.is_some(),
                    });
                }
            }
        }
        activity
    }

    /// Ids of every campaign, oldest first.
    pub fn campaign_ids(&self) -> Vec<String> {
        read(&self.store).campaigns.iter().map(|campaign| campaign.id.clone()).collect()
    }

    /// The subscriber hash of an address: lowercase hex MD5 of the trimmed,
    /// lowercased address.
    pub fn subscriber_hash(email: &str) -> String {
        subscriber_hash(email)
    }
}
