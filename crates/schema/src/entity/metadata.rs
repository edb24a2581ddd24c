//! Metadata entities: the definitions of custom fields, and the inventory of
//! webhooks and integrations set up on a platform.

use super::EntityKind;
use crate::{CompactString, CustomFieldType};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The definition of a custom field, so that a destination can create it
/// with the right type before records carrying it arrive.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct CustomFieldDefinition {
    /// The key records use in [`Record::custom_fields`](crate::Record::custom_fields).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<CompactString>,
    /// The label users see.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<CompactString>,
    /// The kind of entity that carries the field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity: Option<EntityKind>,
    /// The type of its values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field_type: Option<CustomFieldType>,
    /// For a select, the values it allows: a [`Text`](CustomFieldType::Text)
    /// field is a single select, a [`List`](CustomFieldType::List) field a
    /// multi-select. Empty for a free field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<FieldOption>,
    /// Whether the platform requires a value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,
}

/// One choice of a select field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct FieldOption {
    /// The value stored in records.
    pub value: CompactString,
    /// The label users see, when it differs from the value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<CompactString>,
}

/// A webhook or integration set up on a platform. It is inventoried so that
/// people can set it up again on the destination; nothing recreates it on its
/// own, and it never holds a signing secret or credential.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct Integration {
    /// Its name as the platform shows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<CompactString>,
    /// What kind of integration it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<IntegrationKind>,
    /// Where a webhook sends its calls. A plugin removes what it can recognise
    /// as a credential (user and password, token query parameters).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_url: Option<CompactString>,
    /// The events it is subscribed to, in the platform's names.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<CompactString>,
    /// Whether it is switched on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// When it was set up, in UTC.
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::compact::optional_instant")]
    #[schemars(with = "Option<DateTime<Utc>>")]
    pub created_at: Option<DateTime<Utc>>,
}

/// What kind of [`Integration`] it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum IntegrationKind {
    /// Calls a URL when events happen.
    Webhook,
    /// An installed app or connected service (a marketplace app, a Zapier connection).
    App,
}
