//! Deterministic seeding: three audiences, `records` members across them
//! (some addresses on two audiences), every status, tags, merge fields,
//! GDPR permissions on one audience, and two campaigns a month for a year
//! per audience. Campaign activity is not stored: [`crate::reports`]
//! recomputes it from the seed, the campaign and the member.

use std::collections::{HashMap, HashSet};

use chrono::{Duration, TimeDelta};
use rand::Rng;
use rand::seq::IndexedRandom;
use rand_pcg::Pcg64;
use serde_json::{Map, Value, json};

use crate::model::{Campaign, List, MarketingPermission, Member, MergeField, Status, Store, subscriber_hash};
use cutover_emulator_kit::Settings;
use cutover_emulator_kit::people::{Person, person};
use cutover_emulator_kit::seed::{hex, record_rng, seed_anchor};

const LIST_NAMES: [&str; 3] = ["Newsletter", "Customers", "Webinar leads"];
/// Share of the records each audience gets, in percent.
const LIST_SHARES: [usize; 3] = [60, 30, 10];
const TAG_NAMES: &[&str] = &["vip", "customer", "newsletter", "webinar-2025", "lead", "imported", "churned"];
const SOURCES: &[&str] = &["Import", "API - Generic", "Hosted Signup Form", "Admin Add", "Zapier"];
const UNSUBSCRIBE_REASONS: &[&str] = &[
    "N/A (Unsubscribed by an admin)",
    "I no longer want to receive these emails",
    "The emails are inappropriate",
    "I never signed up for this mailing list",
    "Other",
];
const PLANS: &[&str] = &["Free", "Pro", "Business"];
const SUBJECTS: &[&str] = &[
    "Your monthly digest",
    "New features this month",
    "Last chance: spring sale",
    "We miss you",
    "Webinar recording inside",
    "Tips for getting started",
];
pub(crate) const CAMPAIGNS_PER_LIST: u32 = 24;

pub(crate) fn store(config: &Settings) -> Store {
    let seed = config.seed;
    let mut rng = record_rng(seed, 1, 0);
    let api_key = config.api_key.clone().unwrap_or_else(|| format!("{}-us21", hex(&mut rng, 32)));
    let anchor = seed_anchor();
    let mut lists: Vec<List> =
        LIST_NAMES.iter().enumerate().map(|(position, name)| new_list(&mut rng, position, name)).collect();

    let records = config.records;
    let sizes = [
        records * LIST_SHARES[0] / 100,
        records * LIST_SHARES[1] / 100,
        records - records * LIST_SHARES[0] / 100 - records * LIST_SHARES[1] / 100,
    ];
    let mut unique_ids: HashMap<usize, String> = HashMap::new();
    let mut seeded_invalid = Vec::new();
    let mut next_index = 0usize;
    for (list_position, size) in sizes.into_iter().enumerate() {
        for position in 0..size {
            let record = next_index;
            next_index += 1;
            // Every seventh member of the second and third audience is a
            // person already on the first one, as happens in real accounts.
            let person_index =
                if list_position > 0 && position % 7 == 0 && position < sizes[0] { position } else { record };
            let mut member_rng = record_rng(seed, 2, record as u64);
            let mut person_rng = record_rng(seed, 3, person_index as u64);
            let who = person(&mut person_rng, person_index, config.invalid_email_fraction);
            let unique_email_id = unique_ids.entry(person_index).or_insert_with(|| hex(&mut person_rng, 10)).clone();
            let list = &mut lists[list_position];
            let member = seeded_member(&mut member_rng, list, &who, unique_email_id, position, anchor);
            if list.member(&member.id).is_none() {
                if who.invalid {
                    seeded_invalid.push((list.id.clone(), member.id.clone()));
                }
                list.insert(member);
            }
        }
    }

    let mut campaigns = Vec::new();
    for (list_position, list) in lists.iter().enumerate() {
        for position in 0..CAMPAIGNS_PER_LIST {
            let days_back = i64::from(CAMPAIGNS_PER_LIST - position) * 15;
            let send_time = anchor - Duration::days(days_back) + Duration::hours(9 + list_position as i64);
            let subject = SUBJECTS.choose(&mut rng).copied().unwrap_or("News");
            campaigns.push(Campaign {
                id: hex(&mut rng, 10),
                web_id: rng.random_range(100_000..999_999),
                list: list_position,
                position,
                subject: subject.to_owned(),
                title: format!("{} #{}", list.name, position + 1),
                create_time: send_time - Duration::days(2),
                send_time,
                next_send_time: (position + 1 < CAMPAIGNS_PER_LIST).then(|| send_time + Duration::days(15)),
            });
        }
    }
    campaigns.sort_by_key(|campaign| campaign.send_time);

    Store { api_key, seed, lists, campaigns, rng, next_web_id: 900_000_000, batches: Vec::new(), seeded_invalid }
}

fn new_list(rng: &mut Pcg64, position: usize, name: &str) -> List {
    let with_permissions = position == 0;
    let permissions = if with_permissions {
        vec![(hex(rng, 10), "Email".to_owned()), (hex(rng, 10), "Customized Online Advertising".to_owned())]
    } else {
        Vec::new()
    };
    List {
        id: hex(rng, 10),
        web_id: rng.random_range(100_000..999_999),
        name: name.to_owned(),
        contact: json!({
            "company": "Cutover Test Co",
            "address1": "1 Main Street",
            "address2": "",
            "city": "Atlanta",
            "state": "GA",
            "zip": "30308",
            "country": "US",
            "phone": "",
        }),
        permission_reminder: "You signed up on our website.".to_owned(),
        campaign_defaults: json!({
            "from_name": "Cutover Test Co",
            "from_email": "news@cutover-test.io",
            "subject": "",
            "language": "en",
        }),
        email_type_option: false,
        double_optin: position == 0,
        marketing_permissions: with_permissions,
        date_created: seed_anchor() - Duration::days(1200 - position as i64 * 100),
        members: Vec::new(),
        index: HashMap::new(),
        merge_fields: default_merge_fields(),
        tags: Vec::new(),
        permissions,
        forgotten: HashSet::new(),
    }
}

pub(crate) fn default_merge_fields() -> Vec<MergeField> {
    let field = |merge_id: u64, tag: &str, name: &str, kind: &str, options: Value| MergeField {
        merge_id,
        tag: tag.to_owned(),
        name: name.to_owned(),
        kind: kind.to_owned(),
        required: false,
        default_value: String::new(),
        public: true,
        options,
        help_text: String::new(),
    };
    vec![
        field(1, "FNAME", "First Name", "text", json!({"size": 25})),
        field(2, "LNAME", "Last Name", "text", json!({"size": 25})),
        field(3, "ADDRESS", "Address", "address", json!({"default_country": 164})),
        field(4, "PHONE", "Phone Number", "phone", json!({"phone_format": "none"})),
        field(5, "BIRTHDAY", "Birthday", "birthday", json!({"date_format": "MM/DD"})),
        field(6, "COMPANY", "Company", "text", json!({"size": 25})),
        field(7, "PLAN", "Plan", "dropdown", json!({"choices": PLANS})),
        field(8, "SCORE", "Lead score", "number", json!({})),
    ]
}

fn pick_status(rng: &mut Pcg64) -> Status {
    match rng.random_range(0..100) {
        0..70 => Status::Subscribed,
        70..82 => Status::Unsubscribed,
        82..87 => Status::Cleaned,
        87..91 => Status::Pending,
        91..96 => Status::Transactional,
        _ => Status::Archived,
    }
}

fn seeded_member(
    rng: &mut Pcg64,
    list: &mut List,
    who: &Person,
    unique_email_id: String,
    position: usize,
    anchor: chrono::DateTime<chrono::Utc>,
) -> Member {
    let status = pick_status(rng);
    let signup = anchor - Duration::minutes(rng.random_range(60 * 24 * 30..60 * 24 * 365 * 3));
    let opted_in = signup + Duration::minutes(rng.random_range(1..60 * 48));
    let changed_span = (anchor - opted_in).num_minutes().max(2);
    let last_changed = opted_in + Duration::minutes(rng.random_range(1..changed_span));
    let has_opt_in = !matches!(status, Status::Transactional);
    let mut merge_fields = Map::new();
    merge_fields.insert("FNAME".into(), Value::from(who.first_name));
    merge_fields.insert("LNAME".into(), Value::from(who.last_name));
    let address = if rng.random_bool(0.4) {
        json!({"addr1": format!("{} Market St", rng.random_range(1..999)), "addr2": "", "city": "Springfield", "state": "IL", "zip": "62701", "country": "US"})
    } else {
        Value::from("")
    };
    merge_fields.insert("ADDRESS".into(), address);
    let phone = if rng.random_bool(0.3) { format!("+1 555 01{:02}", rng.random_range(0..100)) } else { String::new() };
    merge_fields.insert("PHONE".into(), Value::from(phone));
    let birthday = if rng.random_bool(0.3) {
        format!("{:02}/{:02}", rng.random_range(1..13), rng.random_range(1..29))
    } else {
        String::new()
    };
    merge_fields.insert("BIRTHDAY".into(), Value::from(birthday));
    let company = if rng.random_bool(0.5) { "Northwind" } else { "" };
    merge_fields.insert("COMPANY".into(), Value::from(company));
    merge_fields.insert("PLAN".into(), Value::from(PLANS.choose(rng).copied().unwrap_or("Free")));
    let score = if rng.random_bool(0.6) { Value::from(rng.random_range(0..100)) } else { Value::from("") };
    merge_fields.insert("SCORE".into(), score);

    let tag_count = rng.random_range(0..4);
    let tags: Vec<(String, chrono::DateTime<chrono::Utc>)> = TAG_NAMES
        .choose_multiple(rng, tag_count)
        .map(|name| {
            list.tag_id(name);
            ((*name).to_owned(), opted_in + TimeDelta::hours(1))
        })
        .collect();
    let marketing_permissions = list
        .permissions
        .iter()
        .map(|(id, text)| MarketingPermission {
            marketing_permission_id: id.clone(),
            text: text.clone(),
            enabled: status == Status::Subscribed && rng.random_bool(0.8),
        })
        .collect();
    let ip = format!("203.0.113.{}", rng.random_range(1..255));
    Member {
        id: subscriber_hash(&who.email),
        email_address: who.email.clone(),
        unique_email_id,
        contact_id: hex(rng, 32),
        web_id: rng.random_range(100_000_000..999_999_999),
        email_type: if rng.random_bool(0.95) { "html" } else { "text" }.to_owned(),
        status,
        unsubscribe_reason: (status == Status::Unsubscribed)
            .then(|| UNSUBSCRIBE_REASONS.choose(rng).copied().unwrap_or("Other").to_owned()),
        merge_fields,
        interests: Map::new(),
        ip_signup: if rng.random_bool(0.5) { ip.clone() } else { String::new() },
        timestamp_signup: rng.random_bool(0.7).then_some(signup),
        ip_opt: if has_opt_in { ip } else { String::new() },
        timestamp_opt: has_opt_in.then_some(opted_in),
        member_rating: rng.random_range(1..6),
        last_changed,
        language: ["", "en", "de", "fr", "es"].choose(rng).copied().unwrap_or("").to_owned(),
        vip: rng.random_bool(0.02),
        location: json!({"latitude": 0, "longitude": 0, "gmtoff": 0, "dstoff": 0, "country_code": "", "timezone": "", "region": ""}),
        marketing_permissions,
        source: SOURCES.choose(rng).copied().unwrap_or("Import").to_owned(),
        tags,
        seeded_position: Some(position as u32),
    }
}
