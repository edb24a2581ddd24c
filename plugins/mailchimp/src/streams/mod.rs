//! The streams, one type each in its own file, and the two things their
//! reads share: a paged collection read in batches ([`read_paged`], on the
//! HTTP toolkit's `PagedReader`) and a parent's two collections read one after
//! the other ([`read_phases`]: an audience's members then its archived
//! members, a campaign's activity report then its unsubscribes).

pub(crate) mod campaigns;
pub(crate) mod email_activity;
pub(crate) mod lists;
pub(crate) mod members;

use cutover_http::{HttpClient, PageCursor, PagedReader, Paginator};
use cutover_sdk::prelude::*;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// An item that does not have the shape the API documents.
pub(crate) fn malformed() -> RejectReason {
    RejectReason::new("malformed_record", "the item is not in the shape the Mailchimp API documents")
}

/// Reads up to `max_records` records and rejects of the collection
/// `paginator` pages (the streams' pages are as large as Mailchimp allows,
/// [`MAX_PAGE`](crate::client::MAX_PAGE) items), after `cursor`, with
/// the instance's `reader` and client. Each item gives what `map` makes
/// of it: nothing (an item the stream leaves out), a record or a reject
/// reason, or several (an activity item's events).
pub(crate) async fn read_paged<I>(
    reader: &mut PagedReader,
    http: &HttpClient,
    paginator: Paginator,
    label: &str,
    cursor: Option<PageCursor>,
    max_records: usize,
    map: impl FnMut(&Value) -> I,
) -> Result<Batch<PageCursor>, PluginError>
where
    I: IntoIterator<Item = Result<Record, RejectReason>>,
{
    if cursor.as_ref().is_none_or(|cursor| cursor.skip == 0) {
        // A read that starts on a page boundary fetches the page anew: the
        // page kept only serves the batches that end inside it.
        reader.clear();
    }
    let batch = reader.read_flat(http, paginator, label, cursor, max_records, map).await?;
    crate::events::batch_read(label, batch.records.len(), batch.rejects.len(), batch.done);
    Ok(batch)
}

/// The collections of one parent, in the order they are read.
pub(crate) trait Phase: Copy + Default + Serialize + DeserializeOwned {
    /// The collection read after this one, if any.
    fn next(self) -> Option<Self>;
}

/// Where a read inside one parent stands: which of its collections, and
/// where in it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Phased<P> {
    phase: P,
    #[serde(flatten)]
    at: PageCursor,
}

/// Reads up to `max_records` of one parent's collections after `cursor`,
/// `read(phase, cursor, room)` reading one collection; `done` once the last
/// was read.
pub(crate) async fn read_phases<P: Phase>(
    cursor: Option<Phased<P>>,
    max_records: usize,
    mut read: impl AsyncFnMut(P, PageCursor, usize) -> Result<Batch<PageCursor>, PluginError>,
) -> Result<Batch<Phased<P>>, PluginError> {
    let Phased { mut phase, mut at } = cursor.unwrap_or_default();
    let mut batch = Batch::default();
    loop {
        let part = read(phase, at, max_records - batch.items()).await?;
        let done = part.done;
        at = part.next.unwrap_or_default();
        batch.records.extend(part.records);
        batch.rejects.extend(part.rejects);
        if !done {
            break;
        }
        match phase.next() {
            Some(next) => (phase, at) = (next, PageCursor::default()),
            None => {
                batch.done = true;
                break;
            }
        }
        if batch.is_full(max_records) {
            break;
        }
    }
    batch.next = Some(Phased { phase, at });
    Ok(batch)
}

#[cfg(test)]
mod tests {
    use crate::{Mailchimp, MailchimpConfig};
    use cutover_sdk::prelude::*;

    #[test]
    fn cursors_of_another_shape_are_refused_before_any_request() {
        // Nothing listens there: a cursor refused is refused without a call.
        let config: MailchimpConfig = serde_json::from_value(serde_json::json!({
            "api_key": "0123456789abcdef0123456789abcdef-us21",
            "base_url": "http://127.0.0.1:9/3.0/",
        }))
        .unwrap();
        let mut plugin = Mailchimp::open(config, &Context::new(".".into())).unwrap();
        for stream in ["lists", "contacts", "members", "campaigns", "email_activity"] {
            for garbage in ["", "12", r#"{"v":1,"at":{"skip":"x"}}"#, r#"{"v":9,"at":{}}"#, "\u{1F4A5} not a cursor"] {
                let error = plugin.read(stream, Some(garbage), 10).unwrap_err();
                assert_eq!(error.code, ErrorCode::InvalidCursor, "{stream} {garbage}: {error:?}");
            }
        }
        let error = plugin.read("automations", None, 10).unwrap_err();
        assert_eq!(error.code, ErrorCode::Unsupported);
        let error = plugin.write("campaigns", Vec::new()).unwrap_err();
        assert_eq!(error.code, ErrorCode::Unsupported);
    }
}
