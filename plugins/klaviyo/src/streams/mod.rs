//! The plugin's streams, one type each, registered in
//! [`crate::Klaviyo`]'s `Plugin::streams`. Reads are JSON:API `links.next`
//! paging through the instance's `cutover_http::PagedReader`, resumable
//! inside a page; the SDK keeps each stream's cursor.

pub(crate) mod events;
pub(crate) mod lists;
pub(crate) mod profiles;
pub(crate) mod subscriptions;

pub(crate) use events::Events;
pub(crate) use lists::Lists;
pub(crate) use profiles::Profiles;
pub(crate) use subscriptions::Subscriptions;
