//! The documented default sub-id rules for each pair of affiliate platforms
//! cutover moves between, chosen with `[redirects] preset = "<old>-to-<new>"`.
//!
//! Each platform has a click-id slot and numbered sub-id slots, from the
//! vendors' link documentation (`shared/platforms/*.md`):
//!
//! | platform | click id | sub-ids |
//! |---|---|---|
//! | Scaleo | `aff_click_id` (query) | `sub_id1` … `sub_id5` (query) |
//! | Impact | `sharedid` (query) | `subId1` … `subId3` (query) |
//! | Partnerize | `pubref` (path, `/pubref:v`) | none |
//!
//! A pair's rules carry the click id to the new click-id slot and each
//! sub-id to the sub-id of the same number; a sub-id the new platform has no
//! slot for is dropped, except when it has no sub-id at all (Partnerize),
//! where the sub-ids fall back to its one slot, `pubref`, in order, after
//! the click id (the first present wins). So:
//!
//! | preset | rules |
//! |---|---|
//! | `scaleo-to-partnerize` | `aff_click_id`, then `sub_id1` … `sub_id5` → `/pubref:` |
//! | `scaleo-to-impact` | `aff_click_id` → `sharedid`, `sub_idN` → `subIdN` (N ≤ 3; `sub_id4`, `sub_id5` dropped) |
//! | `impact-to-scaleo` | `sharedid` → `aff_click_id`, `subIdN` → `sub_idN` |
//! | `impact-to-partnerize` | `sharedid`, then `subId1` … `subId3` → `/pubref:` |
//! | `partnerize-to-scaleo` | `/pubref:` → `aff_click_id` |
//! | `partnerize-to-impact` | `/pubref:` → `sharedid` |
//!
//! Rules in `[[redirects.params]]` come before the preset's, so they win
//! where both fill the same parameter.

use crate::config::{ParamRule, Place};

/// A platform's sub-id parameters.
struct Platform {
    name: &'static str,
    click: (&'static str, Place),
    sub_ids: &'static [&'static str],
}

const PLATFORMS: &[Platform] = &[
    Platform {
        name: "scaleo",
        click: ("aff_click_id", Place::Query),
        sub_ids: &["sub_id1", "sub_id2", "sub_id3", "sub_id4", "sub_id5"],
    },
    Platform { name: "impact", click: ("sharedid", Place::Query), sub_ids: &["subId1", "subId2", "subId3"] },
    Platform { name: "partnerize", click: ("pubref", Place::Path), sub_ids: &[] },
];

/// Every preset's name.
pub const NAMES: &[&str] = &[
    "scaleo-to-partnerize",
    "scaleo-to-impact",
    "impact-to-scaleo",
    "impact-to-partnerize",
    "partnerize-to-scaleo",
    "partnerize-to-impact",
];

/// The rules of the preset `name`, or `None` if there is no such preset.
pub fn rules(name: &str) -> Option<Vec<ParamRule>> {
    let (old, new) = name.split_once("-to-")?;
    let old = PLATFORMS.iter().find(|platform| platform.name == old)?;
    let new = PLATFORMS.iter().find(|platform| platform.name == new)?;
    if old.name == new.name {
        return None;
    }
    let rule = |from: (&str, Place), to: (&str, Place)| ParamRule {
        from: from.0.to_owned(),
        from_in: from.1,
        to: to.0.to_owned(),
        to_in: to.1,
    };
    let mut rules = vec![rule(old.click, new.click)];
    for (index, sub_id) in old.sub_ids.iter().enumerate() {
        if let Some(slot) = new.sub_ids.get(index) {
            rules.push(rule((sub_id, Place::Query), (slot, Place::Query)));
        } else if new.sub_ids.is_empty() {
            rules.push(rule((sub_id, Place::Query), new.click));
        }
    }
    Some(rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn described(name: &str) -> Vec<String> {
        rules(name)
            .unwrap()
            .iter()
            .map(|rule| {
                let place = |place| if place == Place::Path { "/" } else { "" };
                format!("{}{}→{}{}", place(rule.from_in), rule.from, place(rule.to_in), rule.to)
            })
            .collect()
    }

    #[test]
    fn each_documented_preset_exists_with_the_documented_rules() {
        for name in NAMES {
            assert!(rules(name).is_some(), "{name}");
        }
        assert_eq!(
            described("scaleo-to-partnerize"),
            [
                "aff_click_id→/pubref",
                "sub_id1→/pubref",
                "sub_id2→/pubref",
                "sub_id3→/pubref",
                "sub_id4→/pubref",
                "sub_id5→/pubref"
            ]
        );
        assert_eq!(
            described("scaleo-to-impact"),
            ["aff_click_id→sharedid", "sub_id1→subId1", "sub_id2→subId2", "sub_id3→subId3"]
        );
        assert_eq!(described("partnerize-to-impact"), ["/pubref→sharedid"]);
        assert_eq!(rules("scaleo-to-scaleo"), None);
        assert_eq!(rules("acme-to-impact"), None);
    }
}
