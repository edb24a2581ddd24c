//! The streams, one file each, and what they share: the instance's state
//! and caches ([`State`]), and the resumable read loop ([`State::read`]).
//!
//! A read cursor is JSON: the audience or campaign being read (`scope`, by
//! id), the `phase` within it (members: the listing, then archived members;
//! email activity: the activity report, then unsubscribes), the
//! [`Paginator`] cursor of the page being read (`page`) and how many records
//! of that page were already returned (`skip`, with the page `size` they
//! were counted in), so a batch can end inside a page and the next read
//! resumes exactly after it.

pub(crate) mod campaigns;
pub(crate) mod email_activity;
pub(crate) mod lists;
pub(crate) mod members;

use crate::client::{self, ApiList, MAX_PAGE};
use cutover_http::{HttpClient, HttpError, Paginator};
use cutover_sdk::schema::Record;
use cutover_sdk::{ErrorCode, PluginError, ReadBatch, SourceReject};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// The streams, with their entity and direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stream {
    Lists,
    Contacts,
    Members,
    Campaigns,
    EmailActivity,
}

impl Stream {
    pub(crate) const ALL: [Stream; 5] =
        [Stream::Lists, Stream::Contacts, Stream::Members, Stream::Campaigns, Stream::EmailActivity];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Stream::Lists => "lists",
            Stream::Contacts => "contacts",
            Stream::Members => "members",
            Stream::Campaigns => "campaigns",
            Stream::EmailActivity => "email_activity",
        }
    }

    pub(crate) fn named(name: &str) -> Result<Stream, PluginError> {
        Stream::ALL.into_iter().find(|stream| stream.name() == name).ok_or_else(|| {
            PluginError::new(ErrorCode::Unsupported, format!("plugin `mailchimp` has no stream `{name}`"))
        })
    }

    /// Phases per scope: members are read in two listings (not archived,
    /// then archived), email activity from two reports.
    fn phases(self) -> u8 {
        match self {
            Stream::Contacts | Stream::Members | Stream::EmailActivity => 2,
            Stream::Lists | Stream::Campaigns => 1,
        }
    }
}

/// Where a read stands; serialised, it is the cursor string.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Cursor {
    /// The audience or campaign being read; `None` before the first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    #[serde(default)]
    phase: u8,
    /// The paginator cursor of the page being read; `None`: its first page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    page: Option<String>,
    /// Records of that page already returned.
    #[serde(default)]
    skip: usize,
    /// The page size `skip` was counted in.
    #[serde(default)]
    size: u32,
    /// Every record was read.
    #[serde(default)]
    done: bool,
}

impl Cursor {
    fn parse(text: Option<&str>) -> Result<Cursor, PluginError> {
        let Some(text) = text else {
            return Ok(Cursor::default());
        };
        serde_json::from_str(text).map_err(|error| {
            PluginError::new(
                ErrorCode::InvalidCursor,
                format!("cursor `{text}` is not a mailchimp read cursor: {error}"),
            )
            .with_help("start the stream again from the beginning")
        })
    }

    fn render(&self) -> String {
        // A struct of strings and integers always serialises.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// One thing a page item gives: a record, or a reject.
pub(crate) type Output = Result<Record, SourceReject>;

/// An item that does not have the shape the API documents, as a reject.
pub(crate) fn malformed(collection: &str, item: &Value) -> SourceReject {
    let id = item.get("id").or_else(|| item.get("email_id")).and_then(Value::as_str).unwrap_or("?");
    SourceReject {
        location: format!("{collection}/{id}"),
        raw: item.to_string(),
        reason: cutover_sdk::RejectReason::new(
            "malformed_record",
            "the item is not in the shape the Mailchimp API documents",
        ),
    }
}

/// A campaign whose reports are read.
#[derive(Debug, Clone)]
pub(crate) struct SentCampaign {
    pub(crate) id: String,
    pub(crate) send_time: Option<chrono::DateTime<chrono::Utc>>,
}

/// An opened instance's client, settings and caches.
pub(crate) struct State {
    pub(crate) client: HttpClient,
    /// The configured audience, if any.
    pub(crate) list_filter: Option<String>,
    pub(crate) list_defaults: Option<Map<String, Value>>,
    /// The audiences read, in the API's order (filtered by `list_filter`).
    source_lists: Option<Vec<ApiList>>,
    /// Sent campaigns whose reports are read, in the API's order.
    sent_campaigns: Option<Vec<SentCampaign>>,
    /// Merge field types per audience.
    merge_types: HashMap<String, crate::mapping::MergeTypes>,
    /// Audiences being written to.
    targets: HashMap<String, members::Target>,
    /// The members of the audiences a contacts read has passed.
    earlier_members: members::EarlierMembers,
    /// Audience ids by name, on the destination.
    target_lists: Option<HashMap<String, String>>,
}

impl State {
    pub(crate) fn new(
        client: HttpClient,
        list_filter: Option<String>,
        list_defaults: Option<Map<String, Value>>,
    ) -> State {
        State {
            client,
            list_filter,
            list_defaults,
            source_lists: None,
            sent_campaigns: None,
            merge_types: HashMap::new(),
            targets: HashMap::new(),
            earlier_members: members::EarlierMembers::default(),
            target_lists: None,
        }
    }

    /// Every audience the configured filter lets through.
    pub(crate) async fn source_lists(&mut self) -> Result<&[ApiList], PluginError> {
        if self.source_lists.is_none() {
            let items = client::fetch_all(&self.client, cutover_http::Request::get("lists"), "/lists").await?;
            let lists: Vec<ApiList> = items
                .into_iter()
                .filter_map(|item| client::parse::<ApiList>(&item).ok())
                .filter(|list| self.list_filter.as_ref().is_none_or(|wanted| *wanted == list.id))
                .collect();
            if let Some(wanted) = &self.list_filter
                && lists.is_empty()
            {
                return Err(PluginError::new(ErrorCode::Config, format!("the account has no audience `{wanted}`"))
                    .with_help("check `list_id` in the plugin config against the audience ids in Mailchimp"));
            }
            self.source_lists = Some(lists);
        }
        Ok(self.source_lists.as_deref().unwrap_or_default())
    }

    /// The merge field types of an audience.
    pub(crate) async fn merge_types(&mut self, list_id: &str) -> Result<crate::mapping::MergeTypes, PluginError> {
        if !self.merge_types.contains_key(list_id) {
            let items = client::fetch_all(
                &self.client,
                cutover_http::Request::get(cutover_http::path(["lists", list_id, "merge-fields"])?),
                "/merge_fields",
            )
            .await?;
            let definitions: Vec<client::MergeFieldDefinition> =
                items.iter().filter_map(|item| client::parse(item).ok()).collect();
            self.merge_types.insert(list_id.to_owned(), crate::mapping::merge_types(&definitions));
        }
        Ok(self.merge_types.get(list_id).cloned().unwrap_or_default())
    }

    /// The ids of what a stream's reads are scoped by: audiences for
    /// members, sent campaigns for activity, one empty scope otherwise.
    async fn scopes(&mut self, stream: Stream) -> Result<Vec<String>, PluginError> {
        Ok(match stream {
            Stream::Lists | Stream::Campaigns => vec![String::new()],
            Stream::Contacts | Stream::Members => {
                self.source_lists().await?.iter().map(|list| list.id.clone()).collect()
            }
            Stream::EmailActivity => self.sent_campaigns().await?.iter().map(|campaign| campaign.id.clone()).collect(),
        })
    }

    fn paginator(&self, stream: Stream, scope: &str, phase: u8, page_size: u32) -> Result<Paginator, HttpError> {
        Ok(match stream {
            Stream::Lists => lists::paginator(page_size),
            Stream::Contacts | Stream::Members => members::paginator(scope, phase, page_size)?,
            Stream::Campaigns => campaigns::paginator(self.list_filter.as_deref(), None, page_size),
            Stream::EmailActivity => email_activity::paginator(scope, phase, page_size)?,
        })
    }

    async fn outputs(
        &mut self,
        stream: Stream,
        scopes: &[String],
        scope_index: usize,
        phase: u8,
        items: Vec<Value>,
    ) -> Result<Vec<Output>, PluginError> {
        let scope = scopes.get(scope_index).map(String::as_str).unwrap_or_default();
        match stream {
            Stream::Lists => Ok(lists::outputs(self.list_filter.as_deref(), items)),
            Stream::Members => members::membership_outputs(self, scope, phase, items).await,
            Stream::Contacts => members::contact_outputs(self, scopes, scope_index, phase, items).await,
            Stream::Campaigns => Ok(campaigns::outputs(items)),
            Stream::EmailActivity => email_activity::outputs(self, scope, phase, items).await,
        }
    }

    /// Reads up to `max_records` items of `stream` after `cursor`.
    pub(crate) async fn read(
        &mut self,
        stream: Stream,
        cursor: Option<&str>,
        max_records: usize,
    ) -> Result<ReadBatch, PluginError> {
        let mut position = Cursor::parse(cursor)?;
        let mut batch = ReadBatch::default();
        if position.done {
            batch.done = true;
            batch.next_cursor = Some(position.render());
            return Ok(batch);
        }
        let scopes = self.scopes(stream).await?;
        let mut scope_index = match &position.scope {
            None => 0,
            Some(scope) => scopes.iter().position(|id| id == scope).ok_or_else(|| {
                PluginError::new(
                    ErrorCode::InvalidCursor,
                    format!("cursor names `{scope}`, which the account no longer has (or the config filters out)"),
                )
                .with_help("start the stream again from the beginning")
            })?,
        };
        if position.phase >= stream.phases() {
            return Err(PluginError::new(
                ErrorCode::InvalidCursor,
                format!("cursor phase {} does not exist on this stream", position.phase),
            ));
        }
        let wanted_size = u32::try_from(max_records).unwrap_or(MAX_PAGE).clamp(1, MAX_PAGE);
        loop {
            let returned = batch.records.len() + batch.rejects.len();
            let Some(scope) = scopes.get(scope_index) else {
                batch.done = true;
                position.done = true;
                break;
            };
            if returned >= max_records {
                break;
            }
            let page_size = if position.skip > 0 && position.size > 0 { position.size } else { wanted_size };
            let mut pages =
                self.paginator(stream, scope, position.phase, page_size)?.resume(position.page.as_deref())?;
            let (items, next_page, last_page) = match pages.next_page(&self.client).await? {
                Some(page) => (page.items, Some(page.cursor), page.done),
                None => (Vec::new(), None, true),
            };
            let outputs = self.outputs(stream, &scopes, scope_index, position.phase, items).await?;
            let available = outputs.len().saturating_sub(position.skip);
            let room = max_records - returned;
            let mut taken = 0;
            for output in outputs.into_iter().skip(position.skip) {
                if taken == room {
                    break;
                }
                match output {
                    Ok(record) => batch.records.push(record),
                    Err(reject) => batch.rejects.push(reject),
                }
                taken += 1;
            }
            if taken < available {
                position.skip += taken;
                position.size = page_size;
                break;
            }
            position.skip = 0;
            position.size = 0;
            if last_page {
                position.page = None;
                if position.phase + 1 < stream.phases() {
                    position.phase += 1;
                } else {
                    position.phase = 0;
                    scope_index += 1;
                }
            } else {
                position.page = next_page;
            }
        }
        position.scope = scopes.get(scope_index).filter(|scope| !scope.is_empty()).cloned();
        crate::events::batch_read(stream.name(), batch.records.len(), batch.rejects.len(), batch.done);
        batch.next_cursor = Some(position.render());
        Ok(batch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let cursor = Cursor {
            scope: Some("9e67587f52".into()),
            phase: 1,
            page: Some(r#"{"page":"offset","offset":14}"#.into()),
            skip: 3,
            size: 7,
            done: false,
        };
        assert_eq!(Cursor::parse(Some(&cursor.render())).unwrap(), cursor);
        assert_eq!(Cursor::parse(None).unwrap(), Cursor::default());
        for garbage in ["", "12", "{\"scope\": 3}", "{\"nope\": 1}", "\u{1F4A5} not a cursor"] {
            assert_eq!(Cursor::parse(Some(garbage)).unwrap_err().code, ErrorCode::InvalidCursor, "{garbage}");
        }
    }
}
