//! The store behind the Mailchimp emulator and how each object renders.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use md5::{Digest, Md5};
use rand_pcg::Pcg64;
use serde_json::{Map, Value, json};

/// A member's status. All six are returned; `archived` cannot be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Receives campaigns.
    Subscribed,
    /// Opted out.
    Unsubscribed,
    /// Removed after hard bounces.
    Cleaned,
    /// Double opt-in sent, not confirmed.
    Pending,
    /// Known contact without marketing consent.
    Transactional,
    /// Hidden from the audience, history kept.
    Archived,
}

impl Status {
    /// Every status, in the order Mailchimp's reference lists them.
    pub const ALL: [Status; 6] = [
        Status::Subscribed,
        Status::Unsubscribed,
        Status::Cleaned,
        Status::Pending,
        Status::Transactional,
        Status::Archived,
    ];

    /// The API's name for the status.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Subscribed => "subscribed",
            Status::Unsubscribed => "unsubscribed",
            Status::Cleaned => "cleaned",
            Status::Pending => "pending",
            Status::Transactional => "transactional",
            Status::Archived => "archived",
        }
    }

    /// The status named `name`, if any.
    pub fn parse(name: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|status| status.as_str() == name)
    }
}

/// A member's answer to one of the audience's GDPR permissions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketingPermission {
    /// The permission's id (10 hex characters).
    pub marketing_permission_id: String,
    /// The permission's text.
    pub text: String,
    /// Whether the member granted it.
    pub enabled: bool,
}

/// One member of one audience, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    /// The address as stored (seeded members may hold invalid ones).
    pub email_address: String,
    /// MD5 of the lowercased address: the member's `id` and path key.
    pub id: String,
    /// 10 characters, the same for an address in every audience.
    pub unique_email_id: String,
    /// 32 hex characters.
    pub contact_id: String,
    /// Integer id used by the web app.
    pub web_id: u64,
    /// `html` or `text`.
    pub email_type: String,
    /// Current status.
    pub status: Status,
    /// Why the member unsubscribed, for unsubscribed members.
    pub unsubscribe_reason: Option<String>,
    /// Merge field values keyed by tag (`FNAME`, `ADDRESS`, ...).
    pub merge_fields: Map<String, Value>,
    /// Interest (group) ids to membership.
    pub interests: Map<String, Value>,
    /// Sign-up IP address ("" when unknown).
    pub ip_signup: String,
    /// When the member signed up.
    pub timestamp_signup: Option<DateTime<Utc>>,
    /// Opt-in IP address ("" when unknown).
    pub ip_opt: String,
    /// When the member opted in.
    pub timestamp_opt: Option<DateTime<Utc>>,
    /// 1–5 stars.
    pub member_rating: u8,
    /// Last change to the member.
    pub last_changed: DateTime<Utc>,
    /// Language code ("" when unknown).
    pub language: String,
    /// VIP flag.
    pub vip: bool,
    /// `{latitude, longitude, ...}`.
    pub location: Value,
    /// GDPR permissions (empty unless the audience enables them).
    pub marketing_permissions: Vec<MarketingPermission>,
    /// How the member was added (read-only in the API).
    pub source: String,
    /// Tag names with the time each was added.
    pub tags: Vec<(String, DateTime<Utc>)>,
    /// Position among seeded members, `None` for members added through the
    /// API (who received no seeded campaign).
    pub seeded_position: Option<u32>,
}

/// MD5 of the lowercased address, in lowercase hex.
pub(crate) fn subscriber_hash(email: &str) -> String {
    let digest = Md5::digest(email.trim().to_lowercase().as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[derive(Debug, Clone)]
pub(crate) struct MergeField {
    pub(crate) merge_id: u64,
    pub(crate) tag: String,
    pub(crate) name: String,
    pub(crate) kind: String,
    pub(crate) required: bool,
    pub(crate) default_value: String,
    pub(crate) public: bool,
    pub(crate) options: Value,
    pub(crate) help_text: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Tag {
    pub(crate) id: u64,
    pub(crate) name: String,
}

#[derive(Debug, Clone)]
pub(crate) struct List {
    pub(crate) id: String,
    pub(crate) web_id: u64,
    pub(crate) name: String,
    pub(crate) contact: Value,
    pub(crate) permission_reminder: String,
    pub(crate) campaign_defaults: Value,
    pub(crate) email_type_option: bool,
    pub(crate) double_optin: bool,
    pub(crate) marketing_permissions: bool,
    pub(crate) date_created: DateTime<Utc>,
    pub(crate) members: Vec<Member>,
    pub(crate) index: HashMap<String, usize>,
    pub(crate) merge_fields: Vec<MergeField>,
    pub(crate) tags: Vec<Tag>,
    pub(crate) permissions: Vec<(String, String)>,
    /// Hashes of permanently deleted members, who may not be re-imported.
    pub(crate) forgotten: HashSet<String>,
}

impl List {
    pub(crate) fn member(&self, hash: &str) -> Option<&Member> {
        self.index.get(hash).and_then(|&at| self.members.get(at))
    }

    pub(crate) fn insert(&mut self, member: Member) {
        self.index.insert(member.id.clone(), self.members.len());
        self.members.push(member);
    }

    /// Removes a member for good; the index is rebuilt because positions move.
    pub(crate) fn remove(&mut self, hash: &str) -> Option<Member> {
        let at = self.index.remove(hash)?;
        let member = self.members.remove(at);
        for (position, member) in self.members.iter().enumerate().skip(at) {
            self.index.insert(member.id.clone(), position);
        }
        Some(member)
    }

    pub(crate) fn tag_id(&mut self, name: &str) -> u64 {
        if let Some(tag) = self.tags.iter().find(|tag| tag.name == name) {
            return tag.id;
        }
        let id = self.tags.iter().map(|tag| tag.id).max().unwrap_or(10_000) + 1;
        self.tags.push(Tag { id, name: name.to_owned() });
        id
    }

    pub(crate) fn existing_tag_id(&self, name: &str) -> Option<u64> {
        self.tags.iter().find(|tag| tag.name == name).map(|tag| tag.id)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Campaign {
    pub(crate) id: String,
    pub(crate) web_id: u64,
    pub(crate) list: usize,
    /// Position among the audience's campaigns, in send order.
    pub(crate) position: u32,
    pub(crate) subject: String,
    pub(crate) title: String,
    pub(crate) create_time: DateTime<Utc>,
    pub(crate) send_time: DateTime<Utc>,
    /// When the audience's next campaign went out: members who left the
    /// audience before it did not receive it.
    pub(crate) next_send_time: Option<DateTime<Utc>>,
}

/// A submitted `POST /batches` with its results.
#[derive(Debug, Clone)]
pub(crate) struct Batch {
    pub(crate) id: String,
    pub(crate) reads: u32,
    pub(crate) submitted_at: DateTime<Utc>,
    pub(crate) total_operations: usize,
    pub(crate) errored_operations: usize,
    /// The gzipped tar of results.
    pub(crate) archive: Vec<u8>,
}

#[derive(Debug)]
pub(crate) struct Store {
    pub(crate) api_key: String,
    pub(crate) seed: u64,
    pub(crate) lists: Vec<List>,
    pub(crate) campaigns: Vec<Campaign>,
    pub(crate) rng: Pcg64,
    pub(crate) next_web_id: u64,
    pub(crate) batches: Vec<Batch>,
    /// `(list id, member id)` of the members seeded with a broken address.
    pub(crate) seeded_invalid: Vec<(String, String)>,
}

impl Store {
    pub(crate) fn list(&self, list_id: &str) -> Option<&List> {
        self.lists.iter().find(|list| list.id == list_id)
    }

    pub(crate) fn list_mut(&mut self, list_id: &str) -> Option<&mut List> {
        self.lists.iter_mut().find(|list| list.id == list_id)
    }

    pub(crate) fn campaign(&self, campaign_id: &str) -> Option<&Campaign> {
        self.campaigns.iter().find(|campaign| campaign.id == campaign_id)
    }
}

/// Mailchimp's timestamp form, `2015-10-21T15:41:36+00:00`.
pub(crate) fn timestamp(moment: &DateTime<Utc>) -> String {
    moment.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
}

pub(crate) fn optional_timestamp(moment: Option<&DateTime<Utc>>) -> String {
    moment.map(timestamp).unwrap_or_default()
}

/// A `_links` entry.
pub(crate) fn link(rel: &str, href: &str, method: &str, schema: &str) -> Value {
    let schema_url = format!("https://us21.api.mailchimp.com/schema/3.0/{schema}.json");
    json!({
        "rel": rel,
        "href": href,
        "method": method,
        "targetSchema": schema_url,
        "schema": schema_url,
    })
}

pub(crate) fn member_json(list: &List, member: &Member, base: &str) -> Value {
    let href = format!("{base}/3.0/lists/{}/members/{}", list.id, member.id);
    let full_name = format!(
        "{} {}",
        member.merge_fields.get("FNAME").and_then(Value::as_str).unwrap_or(""),
        member.merge_fields.get("LNAME").and_then(Value::as_str).unwrap_or("")
    );
    let tags: Vec<Value> = member
        .tags
        .iter()
        .filter_map(|(name, _)| list.existing_tag_id(name).map(|id| json!({"id": id, "name": name})))
        .collect();
    let permissions: Vec<Value> = member
        .marketing_permissions
        .iter()
        .map(|permission| {
            json!({
                "marketing_permission_id": permission.marketing_permission_id,
                "text": permission.text,
                "enabled": permission.enabled,
            })
        })
        .collect();
    json!({
        "id": member.id,
        "email_address": member.email_address,
        "unique_email_id": member.unique_email_id,
        "contact_id": member.contact_id,
        "full_name": full_name.trim(),
        "web_id": member.web_id,
        "email_type": member.email_type,
        "status": member.status.as_str(),
        "unsubscribe_reason": member.unsubscribe_reason.clone().unwrap_or_default(),
        "consents_to_one_to_one_messaging": true,
        "sms_phone_number": "",
        "sms_subscription_status": "",
        "sms_subscription_last_updated": "",
        "merge_fields": member.merge_fields,
        "interests": member.interests,
        "stats": {"avg_open_rate": 0, "avg_click_rate": 0},
        "ip_signup": member.ip_signup,
        "timestamp_signup": optional_timestamp(member.timestamp_signup.as_ref()),
        "ip_opt": member.ip_opt,
        "timestamp_opt": optional_timestamp(member.timestamp_opt.as_ref()),
        "member_rating": member.member_rating,
        "last_changed": timestamp(&member.last_changed),
        "language": member.language,
        "vip": member.vip,
        "email_client": "",
        "location": member.location,
        "marketing_permissions": permissions,
        "source": member.source,
        "tags_count": tags.len(),
        "tags": tags,
        "list_id": list.id,
        "_links": [
            link("self", &href, "GET", "Lists/Members/Response"),
            link("parent", &format!("{base}/3.0/lists/{}/members", list.id), "GET", "Lists/Members/CollectionResponse"),
            link("update", &href, "PATCH", "Lists/Members/Response"),
            link("upsert", &href, "PUT", "Lists/Members/Response"),
            link("delete", &href, "DELETE", "Lists/Members/Response"),
            link("tags", &format!("{href}/tags"), "GET", "Lists/Members/Tags/CollectionResponse"),
        ],
    })
}

pub(crate) fn list_json(list: &List, campaign_count: usize, base: &str) -> Value {
    let href = format!("{base}/3.0/lists/{}", list.id);
    let count = |status: Status| list.members.iter().filter(|member| member.status == status).count();
    let last_sub = list
        .members
        .iter()
        .filter(|member| member.status == Status::Subscribed)
        .filter_map(|member| member.timestamp_opt)
        .max();
    json!({
        "id": list.id,
        "web_id": list.web_id,
        "name": list.name,
        "contact": list.contact,
        "permission_reminder": list.permission_reminder,
        "use_archive_bar": true,
        "campaign_defaults": list.campaign_defaults,
        "notify_on_subscribe": "",
        "notify_on_unsubscribe": "",
        "date_created": timestamp(&list.date_created),
        "list_rating": 3,
        "email_type_option": list.email_type_option,
        "subscribe_url_short": format!("http://eepurl.com/{}", &list.id[..6]),
        "subscribe_url_long": format!("https://example.us21.list-manage.com/subscribe?id={}", list.id),
        "beamer_address": format!("us21-{}@inbound.mailchimp.com", list.id),
        "visibility": "prv",
        "double_optin": list.double_optin,
        "has_welcome": false,
        "marketing_permissions": list.marketing_permissions,
        "modules": [],
        "stats": {
            "member_count": count(Status::Subscribed),
            "total_contacts": list.members.len(),
            "unsubscribe_count": count(Status::Unsubscribed),
            "cleaned_count": count(Status::Cleaned),
            "member_count_since_send": 0,
            "unsubscribe_count_since_send": 0,
            "cleaned_count_since_send": 0,
            "campaign_count": campaign_count,
            "merge_field_count": list.merge_fields.len(),
            "last_sub_date": optional_timestamp(last_sub.as_ref()),
        },
        "_links": [
            link("self", &href, "GET", "Lists/Instance"),
            link("parent", &format!("{base}/3.0/lists"), "GET", "Lists/CollectionResponse"),
            link("update", &href, "PATCH", "Lists/Instance"),
            link("batch-sub-unsub-members", &href, "POST", "Lists/BatchPOST/Response"),
            link("members", &format!("{href}/members"), "GET", "Lists/Members/CollectionResponse"),
            link("merge-fields", &format!("{href}/merge-fields"), "GET", "Lists/MergeFields/CollectionResponse"),
        ],
    })
}

pub(crate) fn merge_field_json(list: &List, field: &MergeField, position: usize, base: &str) -> Value {
    let href = format!("{base}/3.0/lists/{}/merge-fields/{}", list.id, field.merge_id);
    json!({
        "merge_id": field.merge_id,
        "tag": field.tag,
        "name": field.name,
        "type": field.kind,
        "required": field.required,
        "default_value": field.default_value,
        "public": field.public,
        "display_order": position + 1,
        "options": field.options,
        "help_text": field.help_text,
        "list_id": list.id,
        "_links": [
            link("self", &href, "GET", "Lists/MergeFields/Instance"),
            link("parent", &format!("{base}/3.0/lists/{}/merge-fields", list.id), "GET", "Lists/MergeFields/CollectionResponse"),
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(email: &str, expected: &str) {
        assert_eq!(subscriber_hash(email), expected, "{email}");
    }

    #[test]
    fn subscriber_hash_is_md5_of_the_lowercased_address() {
        // md5("urist.mcvankab@freddiesjokes.com"), the reference's example address.
        check("urist.mcvankab@freddiesjokes.com", "62eeb292278cc15f5817cb78f7790b08");
        check("Urist.McVankab@FreddiesJokes.com", "62eeb292278cc15f5817cb78f7790b08");
        check(" urist.mcvankab@freddiesjokes.com ", "62eeb292278cc15f5817cb78f7790b08");
    }
}
