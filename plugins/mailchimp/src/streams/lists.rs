//! `lists`: audiences, read from `GET /lists` and written by name (an
//! audience with the record's name is the same audience; a new one is
//! created with the config's `list_defaults`).

use crate::Mailchimp;
use crate::client::MAX_PAGE;
use crate::client::{self, ApiList};
use crate::mapping;
use cutover_http::{HttpErrorKind, PageCursor, Paginator, Request};
use cutover_sdk::prelude::*;
use std::collections::HashMap;

/// Audiences (only the configured one when the config names one).
pub(crate) struct Lists;

impl Stream<Mailchimp> for Lists {
    const NAME: &'static str = "lists";
    const ENTITY: EntityKind = EntityKind::List;
    const DIRECTION: Direction = Direction::Both;
    type Cursor = PageCursor;

    async fn read(
        plugin: &mut Mailchimp,
        cursor: Option<PageCursor>,
        max: usize,
    ) -> Result<Batch<PageCursor>, PluginError> {
        let wanted = plugin.list_filter.as_deref();
        let paginator = Paginator::offset(Request::get("lists"), "/lists", MAX_PAGE);
        super::read_paged(&mut plugin.reader, &plugin.client, paginator, "lists", cursor, max, |item| {
            match client::parse::<ApiList>(item) {
                Ok(list) if wanted.is_some_and(|wanted| wanted != list.id) => None,
                Ok(list) => Some(Ok(mapping::list(&list))),
                Err(_) => Some(Err(super::malformed())),
            }
        })
        .await
    }

    async fn write(plugin: &mut Mailchimp, records: Vec<Record>) -> Result<Vec<WriteOutcome>, PluginError> {
        write_each(records, async |record| plugin.write_list(record).await).await
    }

    async fn count(plugin: &mut Mailchimp) -> Result<Option<u64>, PluginError> {
        Ok(Some(plugin.source_lists().await?.len() as u64))
    }
}

impl Mailchimp {
    /// Every audience the configured filter lets through, kept for the
    /// instance.
    pub(crate) async fn source_lists(&mut self) -> Result<&[ApiList], PluginError> {
        if self.source_lists.is_none() {
            let items = client::fetch_all(&self.client, Request::get("lists"), "/lists").await?;
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

    /// The destination's audience ids by name, loaded once.
    async fn target_lists(&mut self) -> Result<&mut HashMap<String, String>, PluginError> {
        if self.target_lists.is_none() {
            let items = client::fetch_all(&self.client, Request::get("lists"), "/lists").await?;
            let by_name = items
                .into_iter()
                .filter_map(|item| client::parse::<ApiList>(&item).ok())
                .map(|list| (list.name, list.id))
                .collect();
            self.target_lists = Some(by_name);
        }
        Ok(self.target_lists.get_or_insert_default())
    }

    /// Writes one audience: an existing one (same name) is `unchanged` (its
    /// settings are the operator's), a new one is created.
    async fn write_list(&mut self, record: &Record) -> Result<Result<WriteResult, RejectReason>, PluginError> {
        let Entity::List(list) = &record.entity else {
            let kind = record.entity.kind().as_str();
            let message = format!("a {kind} cannot be written as a Mailchimp audience");
            return Ok(Err(RejectReason::new("wrong_entity", message)));
        };
        let Some(name) = list.name.as_deref().map(str::trim).filter(|name| !name.is_empty()) else {
            return Ok(Err(RejectReason::new("missing_name", "an audience needs a name")));
        };
        if let Some(id) = self.target_lists().await?.get(name) {
            return Ok(Ok(WriteResult::unchanged(id.as_str())));
        }
        let Some(defaults) = &self.list_defaults else {
            let message = format!(
                "audience `{name}` does not exist and cannot be created: set `list_defaults` (contact, \
                 permission_reminder, campaign_defaults) in the plugin config"
            );
            return Ok(Err(RejectReason::new("missing_list_defaults", message)));
        };
        let body = mapping::new_list_body(record, list, defaults);
        match self.client.post_json::<_, ApiList>("lists", &body).await {
            Ok(created) => {
                self.target_lists().await?.insert(name.to_owned(), created.id.clone());
                Ok(Ok(WriteResult::created(created.id)))
            }
            Err(error) if error.kind() == HttpErrorKind::Rejected => {
                let vendor = error.vendor().map(|vendor| vendor.summary.clone()).unwrap_or_default();
                let message = format!("mailchimp refused audience `{name}`: {vendor}");
                Ok(Err(RejectReason::new("rejected_by_platform", message)))
            }
            Err(error) => Err(PluginError::from(error).for_record(record.source_id.as_str())),
        }
    }
}
