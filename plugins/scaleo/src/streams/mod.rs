//! One file per stream, each a type registered in `Plugin::streams`, and
//! what several of them share: finding a resource by the keys Scaleo lets a
//! list filter on (checked on the answer too, so a filter Scaleo ignored
//! cannot pick the wrong one), and an outcome from a write's answer.

pub(crate) mod clicks;
pub(crate) mod commissions;
pub(crate) mod conversions;
pub(crate) mod coupon_codes;
pub(crate) mod partners;
pub(crate) mod payouts;
pub(crate) mod programs;
pub(crate) mod tracking_links;

use crate::client::ScaleoClient;
use crate::values;
use cutover_sdk::prelude::*;
use serde_json::Value;

/// What one record's write came to: its outcome, or the error that fails
/// the batch.
pub(crate) type Written = Result<Result<WriteResult, RejectReason>, PluginError>;

/// The first item of the list at `path` whose field `name` equals `value`
/// (as `matches` compares them), asked for with the list's filter `filter`
/// (`name` itself for an exact filter, `q` for Scaleo's full-text one,
/// which ignores case).
pub(crate) async fn find(
    client: &ScaleoClient,
    (path, key): (&str, &str),
    filter: &str,
    name: &str,
    value: &str,
    matches: impl Fn(&str, &str) -> bool,
) -> Result<Option<Value>, PluginError> {
    let items = client.all(client.list(path, key, &[(filter, value.to_owned())])).await?;
    Ok(items.into_iter().find(|item| item.get(name).and_then(Value::as_str).is_some_and(|held| matches(held, value))))
}

/// Equality with case aside, for [`find`].
pub(crate) fn same_text(held: &str, wanted: &str) -> bool {
    held.to_lowercase() == wanted.to_lowercase()
}

/// Exact equality, for [`find`].
pub(crate) fn exact(held: &str, wanted: &str) -> bool {
    held == wanted
}

/// The integer id of a resource a write answered with.
pub(crate) fn answered_id(item: &Value, what: &str) -> Result<u64, PluginError> {
    values::id(item.get("id")).ok_or_else(|| {
        PluginError::new(ErrorCode::Network, format!("scaleo answered a {what} write without the {what}'s id"))
    })
}
