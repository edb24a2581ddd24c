//! Campaigns and their reports. Who received a seeded campaign and what they
//! did with it is recomputed from (seed, campaign, member) on every request,
//! so a year of activity for any number of members costs no memory.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use crate::model::{Campaign, List, Member, Status, Store, link, timestamp};
use cutover_emulator_kit::seed::mix;

/// What one recipient did with one campaign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Outcome {
    pub(crate) bounce: Option<&'static str>,
    pub(crate) open: Option<DateTime<Utc>>,
    pub(crate) click: Option<DateTime<Utc>>,
    pub(crate) unsubscribed: Option<DateTime<Utc>>,
}

/// The member's outcome, or `None` when the campaign did not go to them.
pub(crate) fn outcome(seed: u64, campaign: &Campaign, member: &Member) -> Option<Outcome> {
    member.seeded_position?;
    let opted_in = member.timestamp_opt?;
    if opted_in > campaign.send_time || matches!(member.status, Status::Pending | Status::Transactional) {
        return None;
    }
    let left = matches!(member.status, Status::Unsubscribed | Status::Cleaned | Status::Archived);
    if left && member.last_changed < campaign.send_time {
        return None;
    }
    // The campaign after which the member left is their last one.
    let last_received = left && campaign.next_send_time.is_none_or(|next| next > member.last_changed);
    let bits = mix(mix(seed, campaign.web_id), member.web_id);
    if last_received && member.status == Status::Cleaned {
        return Some(Outcome { bounce: Some("hard"), open: None, click: None, unsubscribed: None });
    }
    if bits % 100 < 2 {
        return Some(Outcome { bounce: Some("soft"), open: None, click: None, unsubscribed: None });
    }
    let open = ((bits >> 8) % 100 < 35).then(|| campaign.send_time + Duration::seconds(((bits >> 16) % 86_400) as i64));
    let click = open
        .filter(|_| (bits >> 40) % 100 < 25)
        .map(|opened| opened + Duration::seconds(((bits >> 48) % 3_600) as i64));
    let unsubscribed =
        (last_received && member.status == Status::Unsubscribed).then_some(member.last_changed.max(campaign.send_time));
    Some(Outcome { bounce: None, open, click, unsubscribed })
}

/// Counts over a campaign's recipients.
#[derive(Debug, Clone, Default)]
pub(crate) struct Summary {
    pub(crate) sent: usize,
    pub(crate) hard_bounces: usize,
    pub(crate) soft_bounces: usize,
    pub(crate) opens: usize,
    pub(crate) clicks: usize,
    pub(crate) unsubscribed: usize,
    pub(crate) last_open: Option<DateTime<Utc>>,
    pub(crate) last_click: Option<DateTime<Utc>>,
}

pub(crate) fn summary(seed: u64, campaign: &Campaign, list: &List) -> Summary {
    let mut summary = Summary::default();
    for member in &list.members {
        let Some(outcome) = outcome(seed, campaign, member) else {
            continue;
        };
        summary.sent += 1;
        match outcome.bounce {
            Some("hard") => summary.hard_bounces += 1,
            Some(_) => summary.soft_bounces += 1,
            None => {}
        }
        if let Some(open) = outcome.open {
            summary.opens += 1;
            summary.last_open = summary.last_open.max(Some(open));
        }
        if let Some(click) = outcome.click {
            summary.clicks += 1;
            summary.last_click = summary.last_click.max(Some(click));
        }
        summary.unsubscribed += usize::from(outcome.unsubscribed.is_some());
    }
    summary
}

fn rate(part: usize, whole: usize) -> f64 {
    if whole == 0 { 0.0 } else { part as f64 / whole as f64 }
}

pub(crate) fn campaign_json(store: &Store, campaign: &Campaign, base: &str) -> Value {
    let Some(list) = store.lists.get(campaign.list) else {
        return Value::Null;
    };
    let summary = summary(store.seed, campaign, list);
    let href = format!("{base}/3.0/campaigns/{}", campaign.id);
    let delivered = summary.sent - summary.hard_bounces - summary.soft_bounces;
    json!({
        "id": campaign.id,
        "web_id": campaign.web_id,
        "type": "regular",
        "create_time": timestamp(&campaign.create_time),
        "archive_url": format!("http://eepurl.com/{}", &campaign.id[..6]),
        "long_archive_url": format!("https://us21.campaign-archive.com/?u=0&id={}", campaign.id),
        "status": "sent",
        "emails_sent": summary.sent,
        "send_time": timestamp(&campaign.send_time),
        "content_type": "template",
        "needs_block_refresh": false,
        "resendable": false,
        "recipients": {
            "list_id": list.id,
            "list_is_active": true,
            "list_name": list.name,
            "segment_text": "",
            "recipient_count": summary.sent,
        },
        "settings": {
            "subject_line": campaign.subject,
            "preview_text": "",
            "title": campaign.title,
            "from_name": "Cutover Test Co",
            "reply_to": "news@cutover-test.io",
            "use_conversation": false,
            "to_name": "*|FNAME|*",
            "folder_id": "",
            "authenticate": true,
            "auto_footer": false,
            "inline_css": false,
            "auto_tweet": false,
            "fb_comments": false,
            "timewarp": false,
            "template_id": 0,
            "drag_and_drop": true,
        },
        "tracking": {"opens": true, "html_clicks": true, "text_clicks": false},
        "report_summary": {
            "opens": summary.opens,
            "unique_opens": summary.opens,
            "open_rate": rate(summary.opens, delivered),
            "clicks": summary.clicks,
            "subscriber_clicks": summary.clicks,
            "click_rate": rate(summary.clicks, delivered),
        },
        "_links": [
            link("self", &href, "GET", "Campaigns/Instance"),
            link("parent", &format!("{base}/3.0/campaigns"), "GET", "Campaigns/CollectionResponse"),
        ],
    })
}

pub(crate) fn report_json(store: &Store, campaign: &Campaign, base: &str) -> Value {
    let Some(list) = store.lists.get(campaign.list) else {
        return Value::Null;
    };
    let summary = summary(store.seed, campaign, list);
    let href = format!("{base}/3.0/reports/{}", campaign.id);
    let delivered = summary.sent - summary.hard_bounces - summary.soft_bounces;
    json!({
        "id": campaign.id,
        "campaign_title": campaign.title,
        "type": "regular",
        "list_id": list.id,
        "list_is_active": true,
        "list_name": list.name,
        "subject_line": campaign.subject,
        "preview_text": "",
        "emails_sent": summary.sent,
        "abuse_reports": 0,
        "unsubscribed": summary.unsubscribed,
        "send_time": timestamp(&campaign.send_time),
        "bounces": {
            "hard_bounces": summary.hard_bounces,
            "soft_bounces": summary.soft_bounces,
            "syntax_errors": 0,
        },
        "opens": {
            "opens_total": summary.opens,
            "unique_opens": summary.opens,
            "open_rate": rate(summary.opens, delivered),
            "last_open": summary.last_open.map(|moment| timestamp(&moment)).unwrap_or_default(),
        },
        "clicks": {
            "clicks_total": summary.clicks,
            "unique_clicks": summary.clicks,
            "unique_subscriber_clicks": summary.clicks,
            "click_rate": rate(summary.clicks, delivered),
            "last_click": summary.last_click.map(|moment| timestamp(&moment)).unwrap_or_default(),
        },
        "_links": [
            link("self", &href, "GET", "Reports/Instance"),
            link("parent", &format!("{base}/3.0/reports"), "GET", "Reports/CollectionResponse"),
            link("email-activity", &format!("{href}/email-activity"), "GET", "Reports/EmailActivity/CollectionResponse"),
        ],
    })
}

/// One recipient's email-activity item; activity before `since` is left out.
pub(crate) fn activity_json(
    campaign: &Campaign,
    list: &List,
    member: &Member,
    outcome: &Outcome,
    since: Option<DateTime<Utc>>,
    base: &str,
) -> Value {
    let mut activity = Vec::new();
    if let Some(kind) = outcome.bounce {
        activity.push(json!({"action": "bounce", "type": kind, "timestamp": timestamp(&campaign.send_time), "ip": ""}));
    }
    if let Some(open) = outcome.open {
        activity.push(json!({"action": "open", "timestamp": timestamp(&open), "ip": "198.51.100.7"}));
    }
    if let Some(click) = outcome.click {
        activity.push(json!({
            "action": "click",
            "timestamp": timestamp(&click),
            "url": format!("https://cutover-test.io/offer/{}", campaign.position + 1),
            "ip": "198.51.100.7",
        }));
    }
    activity.retain(|item| {
        let Some(since) = since else { return true };
        item.get("timestamp")
            .and_then(Value::as_str)
            .and_then(|moment| DateTime::parse_from_rfc3339(moment).ok())
            .is_some_and(|moment| moment >= since)
    });
    let href = format!("{base}/3.0/reports/{}/email-activity/{}", campaign.id, member.id);
    json!({
        "campaign_id": campaign.id,
        "list_id": list.id,
        "list_is_active": true,
        "email_id": member.id,
        "email_address": member.email_address,
        "activity": activity,
        "_links": [link("self", &href, "GET", "Reports/EmailActivity/Instance")],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::store;
    use cutover_emulator_kit::Settings;

    #[test]
    fn cleaned_and_unsubscribed_members_leave_a_trace_in_their_last_campaign() {
        let store = store(&Settings::new(4, 600));
        let list = &store.lists[0];
        let campaigns: Vec<&Campaign> = store.campaigns.iter().filter(|c| c.list == 0).collect();
        let totals = campaigns.iter().fold(Summary::default(), |mut total, campaign| {
            let summary = summary(store.seed, campaign, list);
            total.sent += summary.sent;
            total.hard_bounces += summary.hard_bounces;
            total.opens += summary.opens;
            total.clicks += summary.clicks;
            total.unsubscribed += summary.unsubscribed;
            total
        });
        assert!(totals.sent > 1000, "{totals:?}");
        assert!(totals.hard_bounces > 0 && totals.unsubscribed > 0, "{totals:?}");
        assert!(totals.opens > totals.clicks && totals.clicks > 0, "{totals:?}");
    }
}
