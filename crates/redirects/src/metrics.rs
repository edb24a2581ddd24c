//! The server's counters, in the Prometheus text format on `/metrics`.
//!
//! | metric | type | what |
//! |---|---|---|
//! | `cutover_redirects_hits_total` | counter | old links answered with their new link (301) |
//! | `cutover_redirects_partner_hits_total{partner}` | counter | the same, by the partner the link credits (the old platform's id) |
//! | `cutover_redirects_misses_total` | counter | requests for no known link, sent to the fallback (302) |
//! | `cutover_redirects_rate_limited_total` | counter | requests refused with 429 |
//! | `cutover_redirects_refused_total` | counter | requests refused as malformed (400) or for their method (405) |
//! | `cutover_redirects_reloads_total{result}` | counter | map reloads, `ok` or `failed` (the old map kept) |
//! | `cutover_redirects_links` | gauge | links in the map now |
//!
//! A hit costs one atomic add on the link's partner counter (found with
//! the link, not looked up); the total is their sum when rendered.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The counters. Per-partner counters outlive reloads (a counter never goes
/// down); partners are as many as the maps have had.
#[derive(Debug, Default)]
pub struct Metrics {
    partners: Mutex<BTreeMap<Box<str>, Arc<AtomicU64>>>,
    pub(crate) misses: AtomicU64,
    pub(crate) rate_limited: AtomicU64,
    pub(crate) refused: AtomicU64,
    pub(crate) reloads_ok: AtomicU64,
    pub(crate) reloads_failed: AtomicU64,
    pub(crate) links: AtomicU64,
}

/// A label value escaped as the text format wants it.
fn escaped(value: &str, out: &mut String) {
    for character in value.chars() {
        match character {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            other => out.push(other),
        }
    }
}

impl Metrics {
    /// The hit counter of `partner` (created at zero the first time).
    pub fn partner_hits(&self, partner: &str) -> Arc<AtomicU64> {
        let mut partners = self.partners.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        partners.entry(partner.into()).or_default().clone()
    }

    /// Hits so far, all partners.
    pub fn hits(&self) -> u64 {
        let partners = self.partners.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        partners.values().map(|counter| counter.load(Ordering::Relaxed)).sum()
    }

    /// Misses so far.
    pub fn misses(&self) -> u64 {
        self.misses.load(Ordering::Relaxed)
    }

    /// The Prometheus text exposition of every counter.
    pub fn render(&self) -> String {
        let partners: Vec<(Box<str>, u64)> = {
            let partners = self.partners.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            partners.iter().map(|(name, counter)| (name.clone(), counter.load(Ordering::Relaxed))).collect()
        };
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let mut out = String::with_capacity(512 + partners.len() * 64);
        let _ = writeln!(
            out,
            "# HELP cutover_redirects_hits_total Old links answered with their new link (301).\n# TYPE cutover_redirects_hits_total counter"
        );
        let total: u64 = partners.iter().map(|(_, count)| count).sum();
        let _ = writeln!(out, "cutover_redirects_hits_total {total}");
        let _ = writeln!(
            out,
            "# HELP cutover_redirects_partner_hits_total Old links answered with their new link (301), by the partner the link credits.\n# TYPE cutover_redirects_partner_hits_total counter"
        );
        for (partner, count) in &partners {
            out.push_str("cutover_redirects_partner_hits_total{partner=\"");
            escaped(partner, &mut out);
            let _ = writeln!(out, "\"}} {count}");
        }
        for (name, help, value) in [
            (
                "cutover_redirects_misses_total",
                "Requests for no known link, sent to the fallback (302).",
                load(&self.misses),
            ),
            (
                "cutover_redirects_rate_limited_total",
                "Requests refused with 429 (per-client rate).",
                load(&self.rate_limited),
            ),
            (
                "cutover_redirects_refused_total",
                "Requests refused as malformed (400) or for their method (405).",
                load(&self.refused),
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}");
        }
        let _ = writeln!(
            out,
            "# HELP cutover_redirects_reloads_total Map reloads; a failed one keeps the old map.\n# TYPE cutover_redirects_reloads_total counter\ncutover_redirects_reloads_total{{result=\"ok\"}} {}\ncutover_redirects_reloads_total{{result=\"failed\"}} {}",
            load(&self.reloads_ok),
            load(&self.reloads_failed)
        );
        let _ = writeln!(
            out,
            "# HELP cutover_redirects_links Links in the map now.\n# TYPE cutover_redirects_links gauge\ncutover_redirects_links {}",
            load(&self.links)
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_format_lists_every_counter_with_partners_escaped() {
        let metrics = Metrics::default();
        metrics.partner_hits("A-1").fetch_add(3, Ordering::Relaxed);
        metrics.partner_hits("say \"hi\"\\\n").fetch_add(1, Ordering::Relaxed);
        metrics.partner_hits("A-1").fetch_add(1, Ordering::Relaxed);
        metrics.misses.fetch_add(2, Ordering::Relaxed);
        metrics.links.store(7, Ordering::Relaxed);
        let text = metrics.render();
        for line in [
            "# TYPE cutover_redirects_hits_total counter",
            "cutover_redirects_hits_total 5",
            "cutover_redirects_partner_hits_total{partner=\"A-1\"} 4",
            "cutover_redirects_partner_hits_total{partner=\"say \\\"hi\\\"\\\\\\n\"} 1",
            "cutover_redirects_misses_total 2",
            "cutover_redirects_rate_limited_total 0",
            "cutover_redirects_reloads_total{result=\"failed\"} 0",
            "# TYPE cutover_redirects_links gauge",
            "cutover_redirects_links 7",
        ] {
            assert!(text.lines().any(|candidate| candidate == line), "no line {line:?} in\n{text}");
        }
        assert_eq!(metrics.hits(), 5);
        assert!(text.ends_with('\n'));
    }
}
