//! The Mailchimp Marketing API 3.0 emulator: audiences, members, merge
//! fields, tags, marketing permissions, campaigns and their reports, under
//! `/3.0/`, with basic auth and problem-details errors.
//!
//! Choices where `shared/platforms/mailchimp.md` marks a fact unconfirmed:
//! archived members are left out of a member listing unless
//! `status=archived` is asked for; a syntactically broken address gets the
//! same "looks fake or invalid" detail as a fake one; the 429 title is
//! "Too Many Requests"; `count` above 1000 is a 400 rather than a silent cap;
//! a PUT whose body address does not match the path hash is a 400
//! "Invalid Resource". `POST /batches` runs its operations when submitted;
//! the batch then reports `pending`, `started` and `finished` on successive
//! reads, and its `response_body_url` serves a gzipped tar (stored, not
//! compressed) holding one JSON file with every result.

mod batches;
mod errors;
mod fields;
mod model;
mod reports;
mod routes;
mod seed;
mod state;
mod write;

pub use model::{MarketingPermission, Member, Status};
pub use state::{CampaignActivity, ListSummary, MailchimpState};

pub(crate) use errors::{server_error, too_many_connections};
pub(crate) use routes::{page_index, router};
