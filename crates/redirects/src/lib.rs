//! Tracking-link continuity for the cut-over: the map from each old
//! tracking link to its new link, written as CSV and as an nginx `map`, and
//! the redirect server that answers old links with a 301 to the new ones,
//! carrying the partner's sub-ids over into the new platform's parameters.
//!
//! Start at [`Snapshot`]: built from the map's rows ([`MapEntry`], read
//! with [`read_csv`]), the sub-id rules ([`Rewriter`], from the config's
//! [`RedirectsConfig`]) and the fallback ([`Target`]), it resolves a
//! request (host, path, query) to a [`Resolution`]: a hit and its
//! `Location`, or a miss and the fallback. [`RedirectServer`] serves it over
//! HTTP with the limits a server on the internet needs, swaps it on
//! `SIGHUP`, and counts into [`Metrics`].
//!
//! ```
//! use cutover_redirects::{MapEntry, Metrics, Resolution, Rewriter, Snapshot, Target};
//!
//! let entries = [MapEntry {
//!     old_url: "https://go.example.com/click?o=12&a=345".into(),
//!     new_url: "https://prf.hn/click/camref:1100l5".into(),
//!     partner: "345".into(),
//!     source_id: "L-1".into(),
//!     target_id: "1100l5".into(),
//! }];
//! let rewriter = Rewriter::new(&[], Some("scaleo-to-partnerize")).unwrap();
//! let fallback = Target::parse("https://shop.example.com/").unwrap();
//! let (map, _duplicates) = Snapshot::build(&entries, "map.csv", fallback, rewriter, &Metrics::default()).unwrap();
//! let Resolution::Hit { location, .. } =
//!     map.resolve(Some("go.example.com"), "/click", Some("a=345&o=12&sub_id1=news&email=x%40y.z"))
//! else {
//!     panic!("a link of the map");
//! };
//! assert_eq!(location, "https://prf.hn/click/camref:1100l5/pubref:news");
//! ```
//!
//! How a request is matched is in [`key`]; which parameters travel, and how,
//! in [`params`] and the per-pair defaults in [`presets`]; the server's
//! answers and limits in [`server`]; the counters in [`metrics`].
//!
//! Not here: reading links from platforms and the id map (the host's
//! `cutover redirects export` does that, through plugins and the state
//! store, and hands [`join`] plain [`LinkRecord`]s), the config file itself,
//! TLS (put the server behind a TLS terminator, or nginx with the exported
//! map), and HTTP/2.

pub mod config;
pub mod key;
pub mod limit;
pub mod map;
pub mod metrics;
pub mod nginx;
pub mod params;
pub mod presets;
pub mod server;

pub use config::{LimitsConfig, ParamRule, Place, RedirectsConfig};
pub use limit::RateLimiter;
pub use map::{LinkKey, LinkRecord, MapEntry, MapError, Resolution, Skipped, Snapshot, join, read_csv, write_csv};
pub use metrics::Metrics;
pub use params::{Rewriter, RuleError, Target, TargetError};
pub use server::{Limits, RedirectServer};
