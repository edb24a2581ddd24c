//! Mailman resources ↔ canonical records, and the consent rules between them
//! (`../shared/platforms/mailman.md`, section 8).
//!
//! Reading, a `member` role gets an email consent from its effective
//! delivery status, overridden by any ban:
//!
//! | Mailman                                  | canonical email consent |
//! |------------------------------------------|-------------------------|
//! | banned from the list (list, global, pattern) | `suppressed`        |
//! | `enabled`                                | `subscribed`            |
//! | `by_user`                                | `unsubscribed`          |
//! | `by_bounces`                             | `bounced`               |
//! | `by_moderator`, `unknown`                | `suppressed`            |
//! | a list ban (its own record)              | `suppressed`            |
//! | role `nonmember`                         | `non_subscribed`        |
//! | roles `owner`, `moderator`               | none: not subscriptions |
//!
//! Writing, a `member` role becomes:
//!
//! | canonical email consent        | on Mailman                                           |
//! |--------------------------------|------------------------------------------------------|
//! | `subscribed`                   | a member, delivery `enabled`, pre-verified/confirmed/approved, no welcome |
//! | `bounced`, `cleaned`           | a member with delivery `by_bounces`: kept, never sent to |
//! | `unsubscribed`, `suppressed`   | a list ban; an existing member's delivery set to `by_user` / `by_moderator` |
//! | `pending`                      | rejected: Mailman would mail a confirmation          |
//! | `non_subscribed` or none       | rejected: only confirmed opt-ins are subscribed      |
//!
//! So a suppression never becomes a subscription, and a disabled or banned
//! address never reads back as subscribed. Mailman has no custom fields:
//! what it keeps beside the canonical fields travels as the custom fields
//! named in [`field`], and other custom fields are not stored.

use crate::client::{AddressResource, ListResource, ListSettings, MemberResource};
use chrono::{DateTime, NaiveDateTime, Utc};
use cutover_sdk::RejectReason;
use cutover_sdk::schema::{
    CompactString, ConsentState, ConsentStatus, Contact, CustomValue, Entity, EntityKind, List, Membership, Record,
    Reference, format_compact, normalize,
};

/// The platform name in every record this plugin reads.
pub(crate) const PLATFORM: &str = "mailman";

/// Names of the custom fields that carry what Mailman has beyond the
/// canonical fields.
pub(crate) mod field {
    /// A membership's role: `member`, `owner`, `moderator` or `nonmember`.
    pub(crate) const ROLE: &str = "role";
    /// A membership's effective delivery status.
    pub(crate) const DELIVERY_STATUS: &str = "delivery_status";
    /// A membership's delivery mode: `regular` or a digest.
    pub(crate) const DELIVERY_MODE: &str = "delivery_mode";
    /// The name shown with a membership or an address.
    pub(crate) const DISPLAY_NAME: &str = "display_name";
    /// Mailman's member id (32 hex digits), for reference.
    pub(crate) const MEMBER_ID: &str = "member_id";
    /// A membership's own moderation action, when it has one.
    pub(crate) const MODERATION_ACTION: &str = "moderation_action";
    /// A membership's bounce score.
    pub(crate) const BOUNCE_SCORE: &str = "bounce_score";
    /// Whether the address is banned from the list.
    pub(crate) const BANNED: &str = "banned";
    /// A list's id (`ant.example.com`).
    pub(crate) const LIST_ID: &str = "list_id";
    /// A list's subscription policy, exactly.
    pub(crate) const SUBSCRIPTION_POLICY: &str = "subscription_policy";
    /// Whether a list is advertised.
    pub(crate) const ADVERTISED: &str = "advertised";
    /// When an address was verified.
    pub(crate) const VERIFIED_ON: &str = "verified_on";
}

/// Why a record cannot be read from or written to Mailman.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Reject {
    /// The record is of another entity than the stream carries.
    #[error("a {found} record cannot be written to a stream of {expected} records")]
    WrongEntity { found: &'static str, expected: &'static str },
    /// A membership without an address.
    #[error("the membership has no email address")]
    MissingEmail,
    /// An address Mailman would refuse.
    #[error("{0}")]
    InvalidEmail(String),
    /// A membership that names no list.
    #[error("the membership names no list")]
    MissingList,
    /// A list id that is not a posting address, with no domain to put it in.
    #[error("list `{0}` is not a posting address (name@host) and the plugin config sets no `domain`")]
    NoDomain(String),
    /// Nothing usable as a list name.
    #[error("cannot make a Mailman list name (letters, digits, `-`, `_`, `.`) from `{0}`")]
    BadListName(String),
    /// The list is not on Mailman.
    #[error("list {0} does not exist on Mailman: migrate the `lists` stream first")]
    UnknownList(String),
    /// A role Mailman does not have.
    #[error("role `{0}` is not one of member, owner, moderator, nonmember")]
    UnknownRole(String),
    /// A delivery mode Mailman does not have.
    #[error("delivery mode `{0}` is not one of regular, plaintext_digests, mime_digests, summary_digests")]
    UnknownDeliveryMode(String),
    /// A delivery status Mailman does not have.
    #[error("delivery status `{0}` is not one of enabled, by_user, by_bounces, by_moderator, unknown")]
    UnknownDeliveryStatus(String),
    /// A subscription policy Mailman does not have.
    #[error("subscription policy `{0}` is not one of open, confirm, moderate, confirm_then_moderate")]
    UnknownPolicy(String),
    /// A custom field Mailman reads, of the wrong type.
    #[error("custom field `{field}` must be {expected}")]
    FieldType { field: &'static str, expected: &'static str },
    /// A list description on several lines.
    #[error("the description has several lines; a Mailman list description is one line")]
    MultilineDescription,
    /// A double opt-in still waiting.
    #[error(
        "email consent is pending: subscribing would make Mailman mail a confirmation, and the person never confirmed"
    )]
    ConsentPending,
    /// Known, never opted in.
    #[error("email consent is non_subscribed: Mailman keeps only subscriptions, and this person never opted in")]
    NotSubscribed,
    /// The record says nothing about email consent.
    #[error("the membership says nothing about email consent: only confirmed opt-ins are subscribed")]
    NoConsent,
    /// The address is banned on Mailman.
    #[error("{0} is banned from the list on Mailman: a migration does not lift a ban")]
    Banned(String),
    /// Delivery is disabled on Mailman, and the record would enable it.
    #[error("delivery to {email} is disabled on Mailman ({status}): a migration does not re-enable it")]
    DestinationSuppressed { email: String, status: String },
    /// A ban that is a pattern, not an address.
    #[error("ban `{0}` is a pattern, not an address: it has no membership record")]
    PatternBan(String),
    /// An item that is not the JSON expected.
    #[error("not a Mailman {what}: {reason}")]
    Malformed { what: &'static str, reason: String },
    /// Mailman refused the write.
    #[error("Mailman refused it: {0}")]
    Refused(String),
}

impl Reject {
    /// The code the ledger files it under.
    pub(crate) fn code(&self) -> &'static str {
        match self {
            Reject::WrongEntity { .. } => "wrong_entity",
            Reject::MissingEmail => "missing_email",
            Reject::InvalidEmail(_) => "invalid_email",
            Reject::MissingList => "missing_list",
            Reject::NoDomain(_) => "no_domain",
            Reject::BadListName(_) => "invalid_list_name",
            Reject::UnknownList(_) => "unknown_list",
            Reject::UnknownRole(_) => "unknown_role",
            Reject::UnknownDeliveryMode(_) | Reject::UnknownDeliveryStatus(_) | Reject::UnknownPolicy(_) => {
                "invalid_value"
            }
            Reject::FieldType { .. } => "invalid_field_type",
            Reject::MultilineDescription => "invalid_value",
            Reject::ConsentPending => "consent_pending",
            Reject::NotSubscribed => "not_subscribed",
            Reject::NoConsent => "no_consent",
            Reject::Banned(_) => "banned",
            Reject::DestinationSuppressed { .. } => "destination_suppressed",
            Reject::PatternBan(_) => "pattern_ban",
            Reject::Malformed { .. } => "malformed_item",
            Reject::Refused(_) => "refused",
        }
    }
}

/// As the ledger files it: the code and the message.
impl From<Reject> for RejectReason {
    fn from(reject: Reject) -> RejectReason {
        RejectReason::new(reject.code(), reject.to_string())
    }
}

/// An item of a Mailman collection as the resource it should be (`what`
/// names it in the reject).
pub(crate) fn parse<T: serde::de::DeserializeOwned>(item: &serde_json::Value, what: &'static str) -> Result<T, Reject> {
    serde_json::from_value(item.clone()).map_err(|error| Reject::Malformed { what, reason: error.to_string() })
}

/// A membership's role on a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Member,
    Owner,
    Moderator,
    Nonmember,
}

impl Role {
    pub(crate) fn parse(text: &str) -> Result<Role, Reject> {
        match text {
            "member" => Ok(Role::Member),
            "owner" => Ok(Role::Owner),
            "moderator" => Ok(Role::Moderator),
            "nonmember" => Ok(Role::Nonmember),
            other => Err(Reject::UnknownRole(other.to_owned())),
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Owner => "owner",
            Role::Moderator => "moderator",
            Role::Nonmember => "nonmember",
        }
    }
}

/// Whether Mailman delivers to a member, and if not, why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum DeliveryStatus {
    Enabled,
    ByUser,
    ByBounces,
    ByModerator,
    Unknown,
}

impl DeliveryStatus {
    /// The statuses that stop delivery.
    pub(crate) const DISABLED: [DeliveryStatus; 4] =
        [DeliveryStatus::ByUser, DeliveryStatus::ByBounces, DeliveryStatus::ByModerator, DeliveryStatus::Unknown];

    pub(crate) fn parse(text: &str) -> Result<DeliveryStatus, Reject> {
        match text {
            "enabled" => Ok(DeliveryStatus::Enabled),
            "by_user" => Ok(DeliveryStatus::ByUser),
            "by_bounces" => Ok(DeliveryStatus::ByBounces),
            "by_moderator" => Ok(DeliveryStatus::ByModerator),
            "unknown" => Ok(DeliveryStatus::Unknown),
            other => Err(Reject::UnknownDeliveryStatus(other.to_owned())),
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Enabled => "enabled",
            DeliveryStatus::ByUser => "by_user",
            DeliveryStatus::ByBounces => "by_bounces",
            DeliveryStatus::ByModerator => "by_moderator",
            DeliveryStatus::Unknown => "unknown",
        }
    }
}

const DELIVERY_MODES: [&str; 4] = ["regular", "plaintext_digests", "mime_digests", "summary_digests"];
const SUBSCRIPTION_POLICIES: [&str; 4] = ["open", "confirm", "moderate", "confirm_then_moderate"];

/// Whether a subscription policy makes people confirm their address.
fn is_double_opt_in(policy: &str) -> bool {
    matches!(policy, "confirm" | "confirm_then_moderate")
}

/// A Mailman timestamp (naive, UTC, optional fraction) as an instant.
/// `0001-01-01T00:00:00` means "never".
pub(crate) fn parse_instant(text: &str) -> Option<DateTime<Utc>> {
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").ok()?;
    let instant = naive.and_utc();
    (instant.timestamp() > 0).then_some(instant)
}

fn text_field(value: &str) -> CustomValue {
    CustomValue::Text(value.into())
}

fn non_empty(text: Option<&str>) -> Option<&str> {
    text.map(str::trim).filter(|text| !text.is_empty())
}

// ---------------------------------------------------------------- reading

/// A list and its settings as a record; its source id is the posting
/// address.
pub(crate) fn list_record(list: &ListResource, settings: &ListSettings) -> Record {
    let created_at = settings.created_at.as_deref().and_then(parse_instant);
    let policy = settings.subscription_policy.as_deref();
    let entity = Entity::List(List {
        name: non_empty(settings.display_name.as_deref().or(list.display_name.as_deref())).map(Into::into),
        description: non_empty(settings.description.as_deref().or(list.description.as_deref())).map(str::to_owned),
        double_opt_in: policy.map(is_double_opt_in),
        created_at,
    });
    let mut record =
        Record::new(PLATFORM, list.fqdn_listname.as_str(), created_at.unwrap_or(DateTime::UNIX_EPOCH), entity);
    record.custom_fields.insert(field::LIST_ID.into(), text_field(&list.list_id));
    if let Some(policy) = policy {
        record.custom_fields.insert(field::SUBSCRIPTION_POLICY.into(), text_field(policy));
    }
    if let Some(advertised) = settings.advertised.or(list.advertised) {
        record.custom_fields.insert(field::ADVERTISED.into(), CustomValue::Boolean(advertised));
    }
    record
}

/// The email consent of a membership with `role`, delivery `status`,
/// banned or not (see the module docs).
pub(crate) fn email_consent(role: Role, status: DeliveryStatus, banned: bool) -> Option<ConsentState> {
    let consent = match role {
        Role::Owner | Role::Moderator => return None,
        Role::Nonmember => ConsentStatus::NonSubscribed,
        Role::Member if banned => ConsentStatus::Suppressed,
        Role::Member => match status {
            DeliveryStatus::Enabled => ConsentStatus::Subscribed,
            DeliveryStatus::ByUser => ConsentStatus::Unsubscribed,
            DeliveryStatus::ByBounces => ConsentStatus::Bounced,
            DeliveryStatus::ByModerator | DeliveryStatus::Unknown => ConsentStatus::Suppressed,
        },
    };
    Some(ConsentState::new(consent))
}

/// The natural key of a membership: list, role, address.
pub(crate) fn membership_id(fqdn_listname: &str, role: &str, email: &str) -> CompactString {
    format_compact!("{fqdn_listname}/{role}/{}", email.to_lowercase())
}

/// One roster entry of the list `fqdn_listname` as a record. `status` is
/// its effective delivery status, `banned` whether a ban covers it, and
/// `updated_at` the best instant known (Mailman keeps none on members).
pub(crate) fn member_record(
    member: &MemberResource,
    fqdn_listname: &str,
    status: DeliveryStatus,
    banned: bool,
    updated_at: DateTime<Utc>,
) -> Result<Record, Reject> {
    let role = Role::parse(&member.role)?;
    if member.email.trim().is_empty() {
        return Err(Reject::MissingEmail);
    }
    let consent = cutover_sdk::schema::Consent {
        email: email_consent(role, status, banned),
        ..cutover_sdk::schema::Consent::default()
    };
    let entity = Entity::Membership(Membership {
        list: Some(Reference::new(EntityKind::List, fqdn_listname)),
        contact: Some(Reference::new(EntityKind::Contact, member.email.to_lowercase())),
        email: Some(member.email.as_str().into()),
        consent,
        ..Membership::default()
    });
    let mut record =
        Record::new(PLATFORM, membership_id(fqdn_listname, role.as_str(), &member.email), updated_at, entity);
    let custom = &mut record.custom_fields;
    custom.insert(field::ROLE.into(), text_field(role.as_str()));
    custom.insert(field::DELIVERY_STATUS.into(), text_field(status.as_str()));
    custom.insert(field::MEMBER_ID.into(), text_field(&member.member_id));
    if let Some(mode) = non_empty(member.delivery_mode.as_deref()) {
        custom.insert(field::DELIVERY_MODE.into(), text_field(mode));
    }
    if let Some(name) = non_empty(member.display_name.as_deref()) {
        custom.insert(field::DISPLAY_NAME.into(), text_field(name));
    }
    if let Some(action) = non_empty(member.moderation_action.as_deref()) {
        custom.insert(field::MODERATION_ACTION.into(), text_field(action));
    }
    if let Some(score) = member.bounce_score {
        custom.insert(field::BOUNCE_SCORE.into(), CustomValue::Integer(score));
    }
    if banned {
        custom.insert(field::BANNED.into(), CustomValue::Boolean(true));
    }
    Ok(record)
}

/// A list ban as a membership whose email consent is suppressed, so that an
/// opt-out travels; a pattern ban is rejected, it names no address.
pub(crate) fn ban_record(fqdn_listname: &str, email: &str, updated_at: DateTime<Utc>) -> Result<Record, Reject> {
    if email.starts_with('^') {
        return Err(Reject::PatternBan(email.to_owned()));
    }
    let consent = cutover_sdk::schema::Consent {
        email: Some(ConsentState::new(ConsentStatus::Suppressed)),
        ..cutover_sdk::schema::Consent::default()
    };
    let entity = Entity::Membership(Membership {
        list: Some(Reference::new(EntityKind::List, fqdn_listname)),
        email: Some(email.into()),
        consent,
        ..Membership::default()
    });
    let mut record = Record::new(PLATFORM, membership_id(fqdn_listname, "ban", email), updated_at, entity);
    record.custom_fields.insert(field::BANNED.into(), CustomValue::Boolean(true));
    Ok(record)
}

/// An address as a contact, keyed by the address in lower case. The display
/// name is split at its last space into first and last name, and kept whole
/// as a custom field.
pub(crate) fn contact_record(address: &AddressResource) -> Result<Record, Reject> {
    if address.email.trim().is_empty() {
        return Err(Reject::MissingEmail);
    }
    let registered_on = address.registered_on.as_deref().and_then(parse_instant);
    let verified_on = address.verified_on.as_deref().and_then(parse_instant);
    let display_name = non_empty(address.display_name.as_deref());
    let (first_name, last_name) = match display_name.map(|name| name.rsplit_once(char::is_whitespace)) {
        Some(Some((first, last))) => (Some(first.trim().into()), Some(last.into())),
        Some(None) => (display_name.map(Into::into), None),
        None => (None, None),
    };
    let entity = Entity::Contact(Contact {
        email: Some(address.original_email.as_deref().unwrap_or(&address.email).into()),
        first_name,
        last_name,
        created_at: registered_on,
        ..Contact::default()
    });
    let updated_at = verified_on.max(registered_on).unwrap_or(DateTime::UNIX_EPOCH);
    let mut record = Record::new(PLATFORM, address.email.to_lowercase(), updated_at, entity);
    if let Some(name) = display_name {
        record.custom_fields.insert(field::DISPLAY_NAME.into(), text_field(name));
    }
    if let Some(verified_on) = verified_on {
        record.custom_fields.insert(field::VERIFIED_ON.into(), CustomValue::DateTime(verified_on));
    }
    Ok(record)
}

// ---------------------------------------------------------------- writing

/// Where a list lives on Mailman.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ListAddress {
    /// `ant@example.com`: the target id.
    pub(crate) fqdn_listname: String,
    /// `ant.example.com`: what paths use.
    pub(crate) list_id: String,
    /// `example.com`.
    pub(crate) mail_host: String,
}

/// The Mailman list a canonical list id (a source id, or a reference
/// rewritten to a target id) stands for. With a configured domain, the list
/// is in that domain: a posting address keeps its local part (so lists move
/// from one mail host to another), any other id becomes a name made from
/// it. Without one, only a posting address will do, as it is.
pub(crate) fn list_address(id: &str, domain: Option<&str>) -> Result<ListAddress, Reject> {
    let id = id.trim();
    let (local, host) = match (id.rsplit_once('@'), domain) {
        (Some((local, _)), Some(domain)) => (local.to_lowercase(), domain.trim().to_lowercase()),
        (Some((local, host)), None) => (local.to_lowercase(), host.to_lowercase()),
        (None, Some(domain)) => (slug(id), domain.trim().to_lowercase()),
        (None, None) => return Err(Reject::NoDomain(id.to_owned())),
    };
    let valid_local = !local.is_empty()
        && local.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'));
    if !valid_local || host.is_empty() || host.contains(['/', '@', ' ']) {
        return Err(Reject::BadListName(id.to_owned()));
    }
    Ok(ListAddress { fqdn_listname: format!("{local}@{host}"), list_id: format!("{local}.{host}"), mail_host: host })
}

/// `id` as a list name: lower case, runs of characters Mailman does not
/// allow (`[-_.0-9a-z]`) as one `-`, no `-` or `.` at either end.
fn slug(id: &str) -> String {
    let mut slug = String::with_capacity(id.len());
    for c in id.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.') {
            slug.push(c);
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.trim_matches(['-', '.']).to_owned()
}

/// A list as Mailman should hold it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ListPlan {
    pub(crate) address: ListAddress,
    pub(crate) display_name: Option<String>,
    pub(crate) description: Option<String>,
    /// Exact policy wanted, from the custom field.
    pub(crate) exact_policy: Option<String>,
    /// Double opt-in wanted, from the canonical field.
    pub(crate) double_opt_in: Option<bool>,
    pub(crate) advertised: Option<bool>,
}

impl ListPlan {
    /// The settings to change so that `current` matches the plan, as a
    /// `PATCH /lists/{id}/config` body; empty when nothing differs.
    pub(crate) fn changes(&self, current: &ListSettings) -> serde_json::Map<String, serde_json::Value> {
        let mut changes = serde_json::Map::new();
        if let Some(name) = &self.display_name
            && current.display_name.as_deref() != Some(name.as_str())
        {
            changes.insert("display_name".into(), name.as_str().into());
        }
        if let Some(description) = &self.description
            && current.description.as_deref().unwrap_or_default() != description
        {
            changes.insert("description".into(), description.as_str().into());
        }
        let policy = current.subscription_policy.as_deref().unwrap_or_default();
        match (&self.exact_policy, self.double_opt_in) {
            (Some(exact), _) if exact != policy => {
                changes.insert("subscription_policy".into(), exact.as_str().into());
            }
            (None, Some(double_opt_in)) if is_double_opt_in(policy) != double_opt_in => {
                let wanted = if double_opt_in { "confirm" } else { "open" };
                changes.insert("subscription_policy".into(), wanted.into());
            }
            _ => {}
        }
        if let Some(advertised) = self.advertised
            && current.advertised != Some(advertised)
        {
            changes.insert("advertised".into(), advertised.into());
        }
        changes
    }
}

fn custom_text<'record>(record: &'record Record, name: &'static str) -> Result<Option<&'record str>, Reject> {
    match record.custom_fields.get(name) {
        None => Ok(None),
        Some(CustomValue::Text(text)) => Ok(Some(text.as_str())),
        Some(_) => Err(Reject::FieldType { field: name, expected: "text" }),
    }
}

fn custom_bool(record: &Record, name: &'static str) -> Result<Option<bool>, Reject> {
    match record.custom_fields.get(name) {
        None => Ok(None),
        Some(CustomValue::Boolean(value)) => Ok(Some(*value)),
        Some(_) => Err(Reject::FieldType { field: name, expected: "a boolean" }),
    }
}

fn wrong_entity(record: &Record, expected: EntityKind) -> Reject {
    Reject::WrongEntity { found: record.entity.kind().as_str(), expected: expected.as_str() }
}

/// What writing a list record means on Mailman.
pub(crate) fn list_plan(record: &Record, domain: Option<&str>) -> Result<ListPlan, Reject> {
    let Entity::List(list) = &record.entity else {
        return Err(wrong_entity(record, EntityKind::List));
    };
    let address = list_address(&record.source_id, domain)?;
    let description = non_empty(list.description.as_deref());
    if description.is_some_and(|description| description.contains(['\n', '\r'])) {
        return Err(Reject::MultilineDescription);
    }
    let exact_policy = custom_text(record, field::SUBSCRIPTION_POLICY)?;
    if let Some(policy) = exact_policy
        && !SUBSCRIPTION_POLICIES.contains(&policy)
    {
        return Err(Reject::UnknownPolicy(policy.to_owned()));
    }
    Ok(ListPlan {
        address,
        display_name: non_empty(list.name.as_deref()).map(str::to_owned),
        description: description.map(str::to_owned),
        exact_policy: exact_policy.map(str::to_owned),
        double_opt_in: list.double_opt_in,
        advertised: custom_bool(record, field::ADVERTISED)?,
    })
}

/// What a membership record asks of Mailman.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MembershipAction {
    /// A member with this delivery status (pre-verified, pre-confirmed,
    /// pre-approved, no welcome message).
    Subscribe(DeliveryStatus),
    /// A list ban; an existing member's delivery becomes this status.
    Ban(DeliveryStatus),
    /// An owner, moderator or nonmember entry (no consent involved).
    AddRole,
}

/// A membership as Mailman should hold it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MembershipPlan {
    pub(crate) list: ListAddress,
    /// As given, trimmed.
    pub(crate) email: String,
    pub(crate) role: Role,
    pub(crate) display_name: Option<String>,
    pub(crate) delivery_mode: Option<String>,
    pub(crate) action: MembershipAction,
}

impl MembershipPlan {
    /// The target id: the natural key of the membership, or of the ban.
    pub(crate) fn target_id(&self) -> CompactString {
        let role = match self.action {
            MembershipAction::Ban(_) => "ban",
            MembershipAction::Subscribe(_) | MembershipAction::AddRole => self.role.as_str(),
        };
        membership_id(&self.list.fqdn_listname, role, &self.email)
    }
}

/// What writing a membership record means on Mailman (see the module docs).
pub(crate) fn membership_plan(record: &Record, domain: Option<&str>) -> Result<MembershipPlan, Reject> {
    let Entity::Membership(membership) = &record.entity else {
        return Err(wrong_entity(record, EntityKind::Membership));
    };
    let list_reference = membership.list.as_ref().ok_or(Reject::MissingList)?;
    let list = list_address(&list_reference.source_id, domain)?;
    let email = non_empty(membership.email.as_deref()).ok_or(Reject::MissingEmail)?;
    normalize::email(email).map_err(|invalid| Reject::InvalidEmail(invalid.to_string()))?;
    let role = custom_text(record, field::ROLE)?.map_or(Ok(Role::Member), Role::parse)?;
    let delivery_mode = custom_text(record, field::DELIVERY_MODE)?;
    if let Some(mode) = delivery_mode
        && !DELIVERY_MODES.contains(&mode)
    {
        return Err(Reject::UnknownDeliveryMode(mode.to_owned()));
    }
    let action = match role {
        Role::Owner | Role::Moderator | Role::Nonmember => MembershipAction::AddRole,
        Role::Member => match membership.consent.email.as_ref().map(|consent| consent.status) {
            Some(ConsentStatus::Subscribed) => MembershipAction::Subscribe(DeliveryStatus::Enabled),
            Some(ConsentStatus::Bounced | ConsentStatus::Cleaned) => {
                MembershipAction::Subscribe(DeliveryStatus::ByBounces)
            }
            Some(ConsentStatus::Unsubscribed) => MembershipAction::Ban(DeliveryStatus::ByUser),
            Some(ConsentStatus::Suppressed) => MembershipAction::Ban(DeliveryStatus::ByModerator),
            Some(ConsentStatus::Pending) => return Err(Reject::ConsentPending),
            Some(ConsentStatus::NonSubscribed) => return Err(Reject::NotSubscribed),
            None => return Err(Reject::NoConsent),
        },
    };
    Ok(MembershipPlan {
        list,
        email: email.to_owned(),
        role,
        display_name: custom_text(record, field::DISPLAY_NAME)?.map(str::to_owned),
        delivery_mode: delivery_mode.map(str::to_owned),
        action,
    })
}

#[cfg(test)]
mod tests;
