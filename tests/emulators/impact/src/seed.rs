//! The seeded account: a brand with three programs (campaigns) in three
//! currencies, partners in revenue-tier groups with second-tier parents,
//! ads, deals, promo codes, unique URLs, clicks, actions in every state with
//! their updates, inquiries and items, invoices, and the account's smaller
//! collections (contacts, notes, catalogs, exception lists, phone numbers,
//! reports, submissions, tracking value requests).
//!
//! Every record is drawn from its own generator ([`seed::record_rng`]), so
//! record `index` is the same whatever `records` is, and dated back from
//! the kit's fixed anchor ([`seed::seed_anchor`]), so the data is the same on
//! any day. Messy on purpose: unicode names, empty optional fields (the API
//! writes them as `""`), a partner whose parent is gone, an action credited
//! to a partner no longer listed.

use chrono::{DateTime, Duration, FixedOffset, Utc};
use cutover_emulator_kit::{people, seed};
use rand::Rng;
use rand::seq::IndexedRandom;
use serde_json::{Value, json};

use crate::model::{Campaign, Store};

/// Generator streams, one per kind of record.
mod streams {
    pub const PARTNERS: u64 = 1;
    pub const ACTIONS: u64 = 2;
    pub const CLICKS: u64 = 3;
    pub const CODES: u64 = 4;
    pub const URLS: u64 = 5;
    pub const MISC: u64 = 6;
    pub const KEYS: u64 = 7;
}

/// The account's time zone: America/Phoenix, which keeps -07:00 all year.
/// The API writes every date in it.
pub const ACCOUNT_OFFSET_SECONDS: i32 = -7 * 3600;

/// The account's numeric id (`AccountId`, a contact's `Accounts[].Id`),
/// beside its alphanumeric SID.
pub const ACCOUNT_ID: &str = "1234567";

/// `instant` as the API writes dates: ISO 8601 in the account's time zone.
pub fn local(instant: DateTime<Utc>) -> String {
    match FixedOffset::east_opt(ACCOUNT_OFFSET_SECONDS) {
        Some(offset) => instant.with_timezone(&offset).format("%Y-%m-%dT%H:%M:%S%:z").to_string(),
        None => instant.format("%Y-%m-%dT%H:%M:%S+00:00").to_string(),
    }
}

/// An amount in `currency` with its minor units (none for JPY and KRW).
pub fn money(amount: f64, currency: &str) -> String {
    match minor_units(currency) {
        0 => format!("{:.0}", amount.round()),
        _ => format!("{amount:.2}"),
    }
}

/// ISO 4217 minor units of the currencies the emulator uses.
pub fn minor_units(currency: &str) -> u32 {
    match currency {
        "JPY" | "KRW" => 0,
        _ => 2,
    }
}

/// The three programs: ids, names, currencies and tracking domains.
const CAMPAIGNS: [(u64, &str, &str, &str, &str); 3] = [
    (11842, "Acme Outdoor US", "USD", "ACTIVE", "acme-outdoor.sjv.io"),
    (11843, "Acme Outdoor Europe — Réseau partenaires", "EUR", "ACTIVE", "acme-eu.pxf.io"),
    (24017, "アクメ・アウトドア 日本", "JPY", "SETUP_COMPLETE", "goto.acme-outdoor.jp"),
];

/// Revenue tiers, kept as partner groups in each program.
pub const TIERS: [&str; 3] = ["Gold", "Silver", "Bronze"];

const STATES: [&str; 9] =
    ["ACTIVE", "EXPIRED", "PENDING", "DECLINED", "SUSPENDED", "DEACTIVATED", "CLOSING", "CLOSED", "NOT_APPLICABLE"];
const METHODS: [&str; 8] =
    ["CONTENT", "COUPON", "CASHBACK", "SOCIAL_MEDIA_INFLUENCER", "EMAIL", "SEARCH", "LOYALTY", "SHOPPING"];
const COUNTRIES: [(&str, &str, &str); 6] = [
    ("US", "Austin", "78701"),
    ("UK", "Manchester", "M1 1AE"),
    ("CANADA", "Montréal", "H2X 1Y4"),
    ("GERMANY", "Köln", "50667"),
    ("FRANCE", "Lyon", "69002"),
    ("JAPAN", "大阪市", "530-0001"),
];
const PARTNER_NAMES: [&str; 10] = [
    "Trail Gear Reviews",
    "Bärenstark Outdoor Blog",
    "CampFire Deals",
    "山と道 レビュー",
    "Coupon Canyon",
    "La Vie en Plein Air",
    "Summit Cashback",
    "Ñandú Travel",
    "Peak Loyalty Club",
    "The Packrafting Podcast",
];

fn hex(rng: &mut impl Rng, length: usize) -> String {
    seed::hex(rng, length)
}

fn alnum(rng: &mut impl Rng, length: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..length).map(|_| char::from(CHARS[rng.random_range(0..CHARS.len())])).collect()
}

/// How many partners `records` seeds: a quarter, at least eight.
pub fn partner_count(records: usize) -> usize {
    (records / 4).max(8)
}

/// The account SID and the two auth tokens (full and read-only).
pub fn credentials(seed_value: u64) -> (String, String, String) {
    let mut rng = seed::record_rng(seed_value, streams::KEYS, 0);
    let sid = format!("IR{}", alnum(&mut rng, 32));
    let token = alnum(&mut rng, 32).replace(['I', 'l'], "x");
    let read_only = alnum(&mut rng, 32);
    (sid, token, read_only)
}

/// The seeded store for `seed_value` and `records`, with the first
/// `programs` of the three programs (at least one).
pub fn store(sid: &str, seed_value: u64, records: usize, programs: usize) -> Store {
    let anchor = seed::seed_anchor();
    let mut store = Store::new(sid);
    store.company = company(sid);
    for (id, name, currency, state, domain) in CAMPAIGNS.into_iter().take(programs.clamp(1, CAMPAIGNS.len())) {
        store.campaigns.push(Campaign { id, name, currency, domain, json: campaign(sid, id, name, state, domain) });
    }
    partners(&mut store, seed_value, records, anchor);
    groups(&mut store, seed_value);
    ads_and_deals(&mut store);
    promo_codes(&mut store, seed_value, anchor);
    unique_urls(&mut store, seed_value, anchor);
    clicks(&mut store, seed_value, records, anchor);
    actions(&mut store, seed_value, records, anchor);
    invoices(&mut store, anchor);
    account_extras(&mut store, seed_value, anchor);
    store
}

fn company(sid: &str) -> Value {
    json!({
        "CompanyName": "Acme Outdoor Supply Co.",
        "Website": "https://www.acme-outdoor.example",
        "PrimaryPhoneNumber": "6025550143",
        "PrimaryPhoneNumberCountry": "US",
        "SecondaryPhoneNumber": "",
        "SecondaryPhoneNumberCountry": "",
        "Currency": "USD",
        "Timezone": "America/Phoenix",
        "OrganizationType": "CORP",
        "EinSsnForeignTaxId": "",
        "RegisteredForIndirectTax": "false",
        "IndirectTaxNumber": "",
        "MinimumContactRating": "3",
        "CorporateAddress": {"AddressLine1": "100 W Washington St", "AddressLine2": "Suite 900", "City": "Phoenix",
            "State": "AZ", "PostalCode": "85003", "Country": "US"},
        "BillingAddress": {"AddressLine1": "100 W Washington St", "AddressLine2": "", "City": "Phoenix",
            "State": "AZ", "PostalCode": "85003", "Country": "US"},
        "Industry": {"IndustryId": "14", "IndustryName": "Sports & Outdoors"},
        "CommercialContact": contact_person("Dana Whitfield", "dana.whitfield@acme-outdoor.example", "901"),
        "FinancialContact": contact_person("Łukasz Nowak", "ap@acme-outdoor.example", "902"),
        "TechnicalContact": contact_person("Priya Raman", "dev@acme-outdoor.example", "903"),
        "Uri": format!("/Advertisers/{sid}/CompanyInformation"),
    })
}

fn contact_person(name: &str, email: &str, user_id: &str) -> Value {
    json!({"UserId": user_id, "Name": name, "Email": email, "WorkPhoneNumber": "6025550100",
        "WorkPhoneNumberCountry": "US", "CellPhoneNumber": "", "CellPhoneNumberCountry": ""})
}

fn campaign(sid: &str, id: u64, name: &str, state: &str, domain: &str) -> Value {
    json!({
        "Id": id.to_string(),
        "Name": name,
        "State": state,
        "Type": "AFFILIATE",
        "ShortDescription": format!("{name}: tents, packs and trail food."),
        "LongDescription": "",
        "TrackingDomain": domain,
        "Rating": "4",
        "ListInMarketplace": "true",
        "PromoCodeTracking": "true",
        "MobileReadyAds": "true",
        "ImpressionTracking": "false",
        "Categories": {"PrimaryCategory": "Sports & Outdoors", "AdditionalCategory": ""},
        "GatewayTrackingSettings": {
            "DefaultLandingPage": "https://www.acme-outdoor.example/",
            "DeepLinking": "true",
            "UniqueClickWindowLength": "30",
            "UniqueClickWindowType": "DAYS",
            "MediaPartnerTrackingTemplate": "irclickid={clickid}",
            "SslSupport": "true"
        },
        "DirectTrackingSettings": {"SessionWindowLength": "30", "UnidentifiedSourceName": ""},
        "Resources": {"CompanyHomepage": "https://www.acme-outdoor.example", "InformationPage": "", "ExampleLandingPage": ""},
        "Uri": format!("/Advertisers/{sid}/Campaigns/{id}"),
    })
}

fn partners(store: &mut Store, seed_value: u64, records: usize, anchor: DateTime<Utc>) {
    let count = partner_count(records);
    let sid = store.sid.clone();
    for index in 0..count {
        let mut rng = seed::record_rng(seed_value, streams::PARTNERS, index as u64);
        let id = 2_400_000 + index as u64 * 13 + rng.random_range(0..13u64);
        let person = people::person(&mut rng, index, 0.0);
        let base = PARTNER_NAMES[index % PARTNER_NAMES.len()];
        let name = if index < PARTNER_NAMES.len() { base.to_owned() } else { format!("{base} {}", index + 1) };
        // Mostly ACTIVE, then every other state in turn.
        let state = if index % 4 == 0 && index > 0 { STATES[(index / 4) % STATES.len()] } else { "ACTIVE" };
        let (country, city, postal) = COUNTRIES[rng.random_range(0..COUNTRIES.len())];
        let created =
            anchor - Duration::days(rng.random_range(200..900)) - Duration::seconds(rng.random_range(1..86_000));
        let updated = created + Duration::days(rng.random_range(0..150));
        let methods: Vec<&str> = METHODS.choose_multiple(&mut rng, 2).copied().collect();
        // Second tier: a third of partners were recruited by an earlier one,
        // kept (a brand convention) in MPValue2; one parent is gone.
        let parent = if index >= 3 && index % 3 == 0 {
            if index == 6 {
                "2399999".to_owned()
            } else {
                store.partner_ids[rng.random_range(0..index.min(3))].to_string()
            }
        } else {
            String::new()
        };
        let campaigns: Vec<Value> = store
            .campaigns
            .iter()
            .filter(|campaign| campaign.id != 24017 || index % 2 == 0)
            .map(|campaign| json!({"Id": campaign.id.to_string(), "Name": campaign.name}))
            .collect();
        let has_phone = rng.random_bool(0.8);
        let partner = json!({
            "Id": id.to_string(),
            "Name": name,
            "Description": if rng.random_bool(0.6) { format!("{name} reviews gear for {} readers.", rng.random_range(2..90) * 1000) } else { String::new() },
            "Website": format!("https://{}.example", name.to_lowercase().chars().filter(char::is_ascii_alphanumeric).collect::<String>().trim_matches('-')),
            "State": state,
            "RelationshipState": if state == "ACTIVE" { "ACTIVE" } else { "INACTIVE" },
            "PartnerType": if index % 5 == 4 { "DIRECT" } else { "MARKETPLACE" },
            "Address": {"AddressLine1": format!("{} Main St", rng.random_range(1..999)), "AddressLine2": "",
                "City": city, "State": "", "PostalCode": postal, "Country": country},
            "Phone": if has_phone { json!({"Country": "US", "Number": format!("512555{:04}", rng.random_range(0..10_000))}) } else { json!({"Country": "", "Number": ""}) },
            "Currency": match country { "UK" => "GBP", "GERMANY" | "FRANCE" => "EUR", "JAPAN" => "JPY", "CANADA" => "CAD", _ => "USD" },
            "Timezone": "America/Chicago",
            "IndirectTax": "",
            "PromotionalMethods": methods,
            "PromotionalCountries": [country],
            "PromotionalCategories": ["Sports & Outdoors"],
            "Properties": [],
            "Programs": campaigns,
            "Contacts": [{"FirstName": person.first_name, "LastName": person.last_name, "EmailAddress": person.email}],
            "LinkedAccounts": [],
            "PartnerValues": {"MPValue1": format!("legacy-{}", 9000 + index), "MPValue2": parent, "MPValue3": ""},
            "MPValue1": format!("legacy-{}", 9000 + index),
            "MPValue2": parent,
            "MPValue3": "",
            "AccountManager": "",
            "DateCreated": local(created),
            "DateLastUpdated": local(updated),
            "CreatedBy": "",
            "LastUpdatedBy": "",
            "Uri": format!("/Advertisers/{sid}/MediaPartners/{id}"),
        });
        store.partner_ids.push(id);
        store.partners.push(partner);
    }
}

fn groups(store: &mut Store, seed_value: u64) {
    let sid = store.sid.clone();
    let mut next = 9100;
    for campaign in &store.campaigns {
        for (tier_index, tier) in TIERS.iter().enumerate() {
            let members: Vec<String> = store
                .partner_ids
                .iter()
                .enumerate()
                .filter(|(index, _)| seed::mix(seed_value, *index as u64) % 3 == tier_index as u64)
                .map(|(_, id)| id.to_string())
                .collect();
            store.groups.push(json!({
                "Id": next.to_string(),
                "CampaignId": campaign.id.to_string(),
                "Name": tier,
                "MediaPartners": members.iter().map(|id| json!({"Id": id})).collect::<Vec<_>>(),
                "Uri": format!("/Advertisers/{sid}/Campaigns/{}/MediaPartnerGroups/{next}", campaign.id),
            }));
            next += 1;
        }
    }
}

fn ads_and_deals(store: &mut Store) {
    let sid = store.sid.clone();
    for (position, campaign) in store.campaigns.iter().enumerate() {
        for kind in 0..2u64 {
            let id = 506_700 + position as u64 * 10 + kind;
            let (ad_type, name) =
                if kind == 0 { ("TEXT_LINK", "Homepage") } else { ("BANNER", "Winter sale 300×250") };
            store.ads.push(json!({
                "Id": id.to_string(), "Name": name, "Description": "", "CampaignId": campaign.id.to_string(),
                "CampaignName": campaign.name, "AdType": ad_type, "LandingPage": "https://www.acme-outdoor.example/",
                "AllowDeepLinking": "true", "MobileReady": "true", "Language": if campaign.id == 24017 { "JAPANESE" } else { "ENGLISH" },
                "LimitedTimeStartDate": "", "LimitedTimeEndDate": "", "DealId": "", "DealName": "",
                "Uri": format!("/Advertisers/{sid}/Ads/{id}"),
            }));
        }
        let deal = 7700 + position as u64;
        store.deals.push(json!({
            "Id": deal.to_string(), "CampaignId": campaign.id.to_string(), "Name": format!("{} — 15% off packs", campaign.currency),
            "Description": "", "State": "ACTIVE", "Type": "GENERAL_SALE", "Scope": "ENTIRE_STORE",
            "DiscountType": "PERCENT", "DiscountPercent": "15", "DiscountAmount": "", "DiscountCurrency": "",
            "StartDate": local(seed::seed_anchor() - Duration::days(120)), "EndDate": "",
            "DefaultPromoCode": "", "Uri": format!("/Advertisers/{sid}/Deals/{deal}"),
        }));
    }
}

fn promo_codes(store: &mut Store, seed_value: u64, anchor: DateTime<Utc>) {
    let sid = store.sid.clone();
    for index in 0..store.partner_ids.len() / 2 {
        let mut rng = seed::record_rng(seed_value, streams::CODES, index as u64);
        let partner_index = (index * 2 + 1) % store.partner_ids.len();
        let partner = &store.partners[partner_index];
        let campaign = &store.campaigns[index % store.campaigns.len()];
        let id = 880_000 + index as u64;
        let created = anchor - Duration::days(rng.random_range(10..400));
        let inactive = index % 5 == 3;
        let code = match index % 4 {
            0 => format!("TRAIL{}", 10 + index),
            1 => format!("camp-{}", alnum(&mut rng, 5).to_lowercase()),
            2 => format!("ÉTÉ{index}"),
            _ => format!("SAVE{}OFF", 5 * (index % 4 + 1)),
        };
        let percent = [10, 15, 20][index % 3];
        store.promo_codes.push(json!({
            "Id": id.to_string(),
            "Code": code,
            "CampaignId": campaign.id.to_string(),
            "CampaignName": campaign.name,
            "AssignedPartnerId": partner["Id"],
            "AssignedPartnerName": partner["Name"],
            "CreditPolicy": (["ALWAYS", "INVOLVED", "WINNER"][index % 3]),
            "Type": "LI",
            "State": if inactive { "INACTIVE" } else { "ACTIVE" },
            "CreatedDate": local(created),
            "StartDate": local(created),
            "EndDate": if inactive { local(created + Duration::days(60)) } else { String::new() },
            "DealId": "", "DealName": "",
            "DiscountType": "PERCENT", "DiscountPercent": percent.to_string(), "DiscountAmount": "", "DiscountCurrency": "",
            "Uri": format!("/Advertisers/{sid}/PromoCodes/{id}"),
        }));
    }
}

fn unique_urls(store: &mut Store, seed_value: u64, anchor: DateTime<Utc>) {
    let sid = store.sid.clone();
    for index in 0..(store.partner_ids.len() * 2 / 3).max(1) {
        let mut rng = seed::record_rng(seed_value, streams::URLS, index as u64);
        let campaign = &store.campaigns[index % store.campaigns.len()];
        let assigned = index % 6 != 5;
        let partner = &store.partners[(index * 3) % store.partners.len()];
        let id = 31_000 + index as u64;
        let created = anchor - Duration::days(rng.random_range(30..500));
        store.unique_urls.push(json!({
            "Id": id.to_string(),
            "Url": format!("https://{}/{}", campaign.domain, alnum(&mut rng, 6)),
            "CampaignId": campaign.id.to_string(),
            "CampaignName": campaign.name,
            "LandingPage": if index % 2 == 0 { "https://www.acme-outdoor.example/packs".to_owned() } else { String::new() },
            "State": if assigned { "ASSIGNED" } else { "AVAILABLE" },
            "MediaPartnerId": if assigned { partner["Id"].clone() } else { json!("") },
            "MediaPartnerName": if assigned { partner["Name"].clone() } else { json!("") },
            "DateCreated": local(created),
            "DateLastAssigned": if assigned { local(created + Duration::days(3)) } else { String::new() },
            "DateLastReleased": "",
            "Uri": format!("/Advertisers/{sid}/UniqueUrls/{id}"),
        }));
    }
}

/// Days of click log seeded, ending the day before the anchor.
pub const CLICK_DAYS: i64 = 3;

fn clicks(store: &mut Store, seed_value: u64, records: usize, anchor: DateTime<Utc>) {
    const DEVICES: [&str; 3] = ["DESKTOP", "MOBILE", "TABLET"];
    for index in 0..records {
        let mut rng = seed::record_rng(seed_value, streams::CLICKS, index as u64);
        let campaign = &store.campaigns[index % store.campaigns.len()];
        let partner = &store.partners[rng.random_range(0..store.partners.len())];
        let at = anchor - Duration::seconds(rng.random_range(1..CLICK_DAYS * 86_400));
        let ad = 506_700 + (index % store.campaigns.len()) as u64 * 10 + rng.random_range(0..2u64);
        store.clicks.push(json!({
            "Id": alnum(&mut rng, 22),
            "CampaignId": campaign.id.to_string(),
            "ProfileId": hex(&mut rng, 16),
            "IpAddress": hex(&mut rng, 32),
            "EventDate": local(at),
            "MediaId": partner["Id"],
            "AdId": ad.to_string(),
            "AdName": if ad.is_multiple_of(10) { "Homepage" } else { "Winter sale 300×250" },
            "AdType": if ad.is_multiple_of(10) { "TEXT_LINK" } else { "BANNER" },
            "SharedId": if rng.random_bool(0.3) { format!("sub-{}", rng.random_range(100..999)) } else { String::new() },
            "SubId1": if rng.random_bool(0.5) { format!("post-{}", rng.random_range(1..400)) } else { String::new() },
            "SubId2": if rng.random_bool(0.2) { "newsletter".to_owned() } else { String::new() },
            "SubId3": "",
            "ReferringUrl": if rng.random_bool(0.7) { format!("https://{}/best-tents", partner["Website"].as_str().unwrap_or("https://x.example").trim_start_matches("https://")) } else { String::new() },
            "ReferringDomain": partner["Website"].as_str().unwrap_or("").trim_start_matches("https://"),
            "LandingPageUrl": "https://www.acme-outdoor.example/",
            "UniqueClick": if rng.random_bool(0.8) { "true" } else { "false" },
            "DeviceType": DEVICES[rng.random_range(0..3)],
            "Browser": (["Chrome", "Safari", "Firefox"][rng.random_range(0..3)]),
            "Os": (["Windows", "iOS", "Android", "macOS"][rng.random_range(0..4)]),
            "CustomerCountry": (["US", "GB", "DE", "JP"][rng.random_range(0..4)]),
            "CustomerRegion": "",
            "CustomerCity": "",
            "Payout": "0.00",
            "CpcBid": "0.00",
            "TrafficCategory": "Affiliate",
            "TrafficSource": "",
        }));
    }
}

/// The action trackers (event types): one sale tracker per program.
pub fn tracker_of(campaign_id: u64) -> u64 {
    match campaign_id {
        11842 => 4636,
        11843 => 4637,
        _ => 5120,
    }
}

fn actions(store: &mut Store, seed_value: u64, records: usize, anchor: DateTime<Utc>) {
    let sid = store.sid.clone();
    for index in 0..records {
        let mut rng = seed::record_rng(seed_value, streams::ACTIONS, index as u64);
        let campaign = store.campaigns[index % store.campaigns.len()].clone();
        // One action in 40 is credited to a partner no longer listed.
        let (partner_id, partner_name) = if index % 40 == 39 {
            ("2399998".to_owned(), "Closed Account (removed)".to_owned())
        } else {
            let partner = &store.partners[rng.random_range(0..store.partners.len())];
            (partner["Id"].as_str().unwrap_or("").to_owned(), partner["Name"].as_str().unwrap_or("").to_owned())
        };
        let currency = match (campaign.currency, rng.random_range(0..10)) {
            ("USD", 0..=1) => "CAD",
            ("EUR", 0..=2) => "GBP",
            (currency, _) => currency,
        };
        // Whole seconds, never on a minute boundary, so no event sits on a
        // date window's edge.
        let event =
            anchor - Duration::days(rng.random_range(1..300)) - Duration::seconds(rng.random_range(1..86_000) | 1);
        let created = event + Duration::seconds(rng.random_range(60..3600));
        let locking = event + Duration::days(30);
        let state = if locking < anchor {
            if rng.random_bool(0.12) { "REVERSED" } else { "APPROVED" }
        } else if rng.random_bool(0.1) {
            "REVERSED"
        } else {
            "PENDING"
        };
        let cleared = state == "APPROVED" && event + Duration::days(60) < anchor;
        let amount = if currency == "JPY" {
            f64::from(rng.random_range(5..900)) * 100.0
        } else {
            f64::from(rng.random_range(500..90_000)) / 100.0
        };
        let rate = if campaign.id == 11843 { 0.08 } else { 0.1 };
        let payout = if state == "REVERSED" { 0.0 } else { amount * rate };
        let promo = if rng.random_bool(0.2) {
            store
                .promo_codes
                .get(index % store.promo_codes.len().max(1))
                .and_then(|code| code["Code"].as_str())
                .unwrap_or("")
                .to_owned()
        } else {
            String::new()
        };
        let tracker = tracker_of(campaign.id);
        let id = format!("{}.{tracker}.{}", campaign.id, 158_000 + index);
        let city = if rng.random_bool(0.7) {
            ["Austin", "München", "São Paulo", "東京", "Leeds"][rng.random_range(0..5)]
        } else {
            ""
        };
        let action = json!({
            "Id": id,
            "CampaignId": campaign.id.to_string(),
            "CampaignName": campaign.name,
            "ActionTrackerId": tracker.to_string(),
            "ActionTrackerName": "Online Sale",
            "EventCode": "",
            "MediaPartnerId": partner_id,
            "MediaPartnerName": partner_name,
            "State": state,
            "AdId": (506_700 + (index % 3) as u64 * 10).to_string(),
            "ClientCost": money(payout * 1.2, currency),
            "Payout": money(payout, currency),
            "DeltaPayout": money(payout, currency),
            "IntendedPayout": money(amount * rate, currency),
            "Amount": money(if state == "REVERSED" { 0.0 } else { amount }, currency),
            "DeltaAmount": money(if state == "REVERSED" { 0.0 } else { amount }, currency),
            "IntendedAmount": money(amount, currency),
            "Currency": currency,
            "ReferringDate": local(event - Duration::minutes(rng.random_range(2..4000))),
            "EventDate": local(event),
            "CreationDate": local(created),
            "LockingDate": local(locking),
            "ClearedDate": if cleared { local(event + Duration::days(45)) } else { String::new() },
            "ReferringType": if promo.is_empty() { "CLICK_COOKIE" } else { "PROMO_CODE" },
            "ReferringDomain": "",
            "PromoCode": promo,
            "Oid": format!("AO-{}", 700_000 + index * 7),
            "CustomerId": if rng.random_bool(0.8) { format!("cus_{}", hex(&mut rng, 12)) } else { String::new() },
            "CustomerStatus": if rng.random_bool(0.6) { "NEW" } else { "RETURNING" },
            "CustomerPostCode": "",
            "CustomerCity": city,
            "CustomerRegion": "",
            "CustomerCountry": (["US", "GB", "DE", "JP", "BR"][rng.random_range(0..5)]),
            "IpAddress": hex(&mut rng, 32),
            "SharedId": "",
            "CallerId": "",
            "Note": "",
            "Uri": format!("/Advertisers/{sid}/Actions/{id}"),
        });
        store.action_items.push((
            id.clone(),
            json!([{
                "Sku": format!("SKU-{}", 1000 + index % 50),
                "ItemName": "Ultralight tent 2P",
                "Category": "Tents",
                "Quantity": "1",
                "SaleAmount": money(amount, currency),
                "SaleAmountCurrency": currency,
                "Payout": money(amount * rate, currency),
                "PayoutCurrency": currency,
                "Rebate": money(0.0, currency),
                "RebateCurrency": currency,
                "AdjustmentDate": "",
                "AdjustmentReason": "",
                "Uri": format!("/Advertisers/{sid}/Actions/{id}/Items/SKU-{}", 1000 + index % 50),
            }]),
        ));
        // The changelog: the creation, and the change that made it what it is.
        let mut update = |sequence: u64,
                          at: DateTime<Utc>,
                          update_state: &str,
                          detail: &str,
                          delta_payout: f64,
                          delta_amount: f64,
                          disposition: &str| {
            store.action_updates.push(json!({
                "Id": format!("{id}.{}", 95_000_000 + index as u64 * 4 + sequence),
                "ActionId": id,
                "CampaignId": campaign.id.to_string(),
                "ActionTrackerId": tracker.to_string(),
                "EventTypeId": tracker.to_string(),
                "EventTypeName": "Online Sale",
                "EventCode": "",
                "MediaPartnerId": partner_id,
                "State": update_state,
                "StateDetail": detail,
                "StateDetailDescription": "",
                "AdId": (506_700 + (index % 3) as u64 * 10).to_string(),
                "Disposition": disposition,
                "DeltaPayout": money(delta_payout, currency),
                "DeltaAmount": money(delta_amount, currency),
                "Currency": currency,
                "Category": "Tents",
                "Sku": format!("SKU-{}", 1000 + index % 50),
                "Quantity": "1",
                "ContractId": format!("P-{}", 25_070_000 + campaign.id),
                "UpdateDate": local(at),
                "LockingDate": local(locking),
                "ClearingDate": if cleared { local(event + Duration::days(45)) } else { String::new() },
                "ActionDate": local(event),
                "Oid": format!("AO-{}", 700_000 + index * 7),
                "CustomerId": "",
                "CustomerStatus": "",
                "SharedId": "",
                "ActionUri": format!("/Advertisers/{sid}/Actions/{id}"),
                "Uri": format!("/Advertisers/{sid}/ActionUpdates/{id}.{}", 95_000_000 + index as u64 * 4 + sequence),
            }));
        };
        update(0, created, "PENDING", "", amount * rate, amount, "IR_BLANK");
        if state == "REVERSED" {
            update(
                1,
                created + Duration::days(rng.random_range(1..20)),
                "REVERSED",
                "",
                -amount * rate,
                -amount,
                "ITEM_RETURNED",
            );
        } else if cleared {
            update(1, event + Duration::days(45), "APPROVED", "PAID", 0.0, 0.0, "IR_BLANK");
        }
        if index % 20 == 7 {
            store.action_inquiries.push(json!({
                "Id": (40_000 + index).to_string(),
                "ActionId": id,
                "ActionUri": format!("/Advertisers/{sid}/Actions/{id}"),
                "CampaignId": campaign.id.to_string(),
                "CampaignName": campaign.name,
                "MediaPartnerId": partner_id,
                "MediaPartnerName": partner_name,
                "InquiryType": "MISSING_ACTION",
                "Oid": format!("AO-{}", 700_000 + index * 7),
                "TransactionDate": local(event),
                "TransactionAmount": money(amount, currency),
                "ExpectedPayout": money(amount * rate, currency),
                "FinalPayout": "",
                "CreationDate": local(created + Duration::days(2)),
                "ResolutionStatus": "PENDING",
                "ResolutionDeadlineDate": local(created + Duration::days(32)),
                "ResolutionDate": "",
                "AutoApprovalDate": "",
                "RejectReason": "",
                "TrackingLink": "",
                "Comments": [],
                "Uri": format!("/Advertisers/{sid}/ActionInquiries/{}", 40_000 + index),
            }));
        }
        store.actions.push(action);
    }
}

/// Invoices: per partner and currency, the approved payouts of the actions
/// cleared (PAID) or still owed (PENDING), one line per program and month.
fn invoices(store: &mut Store, anchor: DateTime<Utc>) {
    use std::collections::BTreeMap;
    let sid = store.sid.clone();
    /// Per (partner, currency, paid): the partner's name, the total, the
    /// actions, and the (program id, program name) lines.
    type Owed = (String, f64, usize, Vec<(String, String)>);
    let mut owed: BTreeMap<(String, String, bool), Owed> = BTreeMap::new();
    for action in &store.actions {
        if action["State"] != "APPROVED" {
            continue;
        }
        let partner = action["MediaPartnerId"].as_str().unwrap_or("").to_owned();
        let currency = action["Currency"].as_str().unwrap_or("").to_owned();
        let paid = !action["ClearedDate"].as_str().unwrap_or("").is_empty();
        let payout: f64 = action["Payout"].as_str().and_then(|text| text.parse().ok()).unwrap_or(0.0);
        let entry = owed
            .entry((partner, currency, paid))
            .or_insert_with(|| (action["MediaPartnerName"].as_str().unwrap_or("").to_owned(), 0.0, 0, Vec::new()));
        entry.1 += payout;
        entry.2 += 1;
        let line = (
            action["CampaignId"].as_str().unwrap_or("").to_owned(),
            action["CampaignName"].as_str().unwrap_or("").to_owned(),
        );
        if !entry.3.contains(&line) {
            entry.3.push(line);
        }
    }
    for (index, ((partner, currency, paid), (name, total, count, lines))) in owed.into_iter().enumerate() {
        let id = format!("INV-{}", 52_000 + index);
        let created = anchor - Duration::days(if paid { 40 } else { 5 }) - Duration::hours(index as i64);
        let status = if paid { "PAID" } else { "PENDING" };
        let per_line = total / lines.len().max(1) as f64;
        store.invoices.push(json!({
            "Id": id,
            "CreatedDate": local(created),
            "MediaId": partner,
            "MediaName": name,
            "Currency": currency,
            "TotalAmount": money(total, &currency),
            "TotalVatAmount": money(0.0, &currency),
            "LineItems": lines.iter().map(|(campaign_id, campaign_name)| json!({
                "CampaignId": campaign_id, "CampaignName": campaign_name, "Description": "MEDIA_PAYOUT",
                "EventMonthYear": created.format("%m/%Y").to_string(), "Actions": count.to_string(),
                "NetItemAmount": money(per_line, &currency), "VatItemAmount": money(0.0, &currency),
                "TotalItemAmount": money(per_line, &currency), "Status": status,
                "DueDate": local(created + Duration::days(30)),
                "PaidDate": if paid { local(created + Duration::days(20)) } else { String::new() },
            })).collect::<Vec<_>>(),
            "DetailedLineItems": [],
            "PDF": format!("/Advertisers/{sid}/Invoices/{id}/Download"),
            "Uri": format!("/Advertisers/{sid}/Invoices/{id}"),
        }));
    }
}

/// The collections the tap reads beyond the migration's entities, a few of
/// each: the brand's contacts and notes per program, a catalog with items,
/// an exception list with items, phone numbers, reports with their
/// metadata, API and FTP submissions, tracking value requests.
fn account_extras(store: &mut Store, seed_value: u64, anchor: DateTime<Utc>) {
    let sid = store.sid.clone();
    let mut rng = seed::record_rng(seed_value, streams::MISC, 0);
    for (position, campaign) in store.campaigns.clone().iter().enumerate() {
        for offset in 0..2u64 {
            let person = people::person(&mut rng, 10_000 + position * 2 + offset as usize, 0.0);
            let id = format!("{}", 6100 + position as u64 * 2 + offset);
            store.contacts.push(json!({
                "Id": id, "CampaignId": campaign.id.to_string(), "FirstName": person.first_name, "LastName": person.last_name,
                "EmailAddress": person.email, "Title": if offset == 0 { "Partnerships Manager" } else { "" },
                "WorkPhoneNumber": format!("602555{:04}", 100 + position * 2 + offset as usize), "WorkPhoneNumberCountry": "US",
                "CellphoneNumber": "", "CellphoneNumberCountry": "", "ProfileImage": "", "Labels": [],
                "Accounts": [{"Id": ACCOUNT_ID, "Name": "Acme Outdoor Supply Co."}],
                "Uri": format!("/Advertisers/{sid}/Campaigns/{}/Contacts/{id}", campaign.id),
            }));
            let note = 7300 + position as u64 * 2 + offset;
            let at = anchor - Duration::days(20 + position as i64 * 30 + offset as i64 * 7) - Duration::seconds(4321);
            store.notes.push(json!({
                "Id": note.to_string(), "CampaignId": campaign.id.to_string(), "MediaId": store.partner_ids[(position + offset as usize) % store.partner_ids.len()].to_string(),
                "MediaName": "", "Type": "NOTE", "Content": if offset == 0 { "Asked for a higher rate — review in Q4." } else { "Sent the winter creative pack." },
                "Creator": "Dana Whitfield", "CreationDate": local(at), "ModificationDate": local(at + Duration::hours(2)),
                "Attachments": [], "Uri": format!("/Advertisers/{sid}/Campaigns/{}/Notes/{note}", campaign.id),
            }));
        }
    }
    store.catalogs.push(json!({
        "Id": "3301", "Name": "Acme US feed", "CampaignId": "11842", "AdvertiserId": ACCOUNT_ID, "Filename": "acme_us.csv",
        "UploadMethod": "FTP", "Status": "ACTIVE", "NumberOfItems": "12", "DateLastUpdated": local(anchor - Duration::days(1)),
        "ItemsUri": format!("/Advertisers/{sid}/Catalogs/3301/Items"), "Uri": format!("/Advertisers/{sid}/Catalogs/3301"),
    }));
    for item in 0..12u64 {
        store.catalog_items.push(json!({
            "CatalogItemId": format!("SKU-{}", 1000 + item), "CatalogId": "3301", "Name": (["Ultralight tent 2P", "Down quilt −5°C", "Trail mix 500 g"][(item % 3) as usize]),
            "Description": "", "Category": "Outdoors", "Manufacturer": "Acme", "Currency": "USD",
            "CurrentPrice": format!("{}.95", 20 + item * 15), "OriginalPrice": format!("{}.95", 30 + item * 15),
            "Url": format!("https://www.acme-outdoor.example/p/{}", 1000 + item), "ImageUrl": "", "StockAvailability": "InStock",
            "Gtin": "", "Mpn": "", "IsParent": "false", "Uri": format!("/Advertisers/{sid}/Catalogs/3301/Items/SKU-{}", 1000 + item),
        }));
    }
    store.exception_lists.push(json!({
        "Id": "610", "Name": "Blocked coupon sites", "CampaignId": "11842", "Type": "REFERRING_DOMAIN", "State": "ACTIVE",
        "NumberOfItems": "4", "CreatedDate": local(anchor - Duration::days(200)), "DeactivationDate": "", "ActionTrackers": [],
        "ItemsUri": format!("/Advertisers/{sid}/ExceptionLists/610/Items"), "Uri": format!("/Advertisers/{sid}/ExceptionLists/610"),
    }));
    for (item, domain) in
        ["coupon-scraper.example", "dealz.example", "rabatt-bot.example", "クーポン.example"].iter().enumerate()
    {
        store.exception_list_items.push(json!({
            "Id": (6100 + item).to_string(), "ListId": "610", "Name": domain, "Value": domain, "MatchMode": "EXACT",
            "CreatedDate": local(anchor - Duration::days(190 - item as i64)), "Uri": format!("/Advertisers/{sid}/ExceptionLists/610/Items/{}", 6100 + item),
        }));
    }
    for number in 0..3u64 {
        store.phone_numbers.push(json!({
            "Id": (870 + number).to_string(), "Number": format!("8885550{}", 140 + number), "InternationalNumber": format!("+1888555014{number}"),
            "Country": "US", "DateCreated": local(anchor - Duration::days(300)), "LastDateAssigned": local(anchor - Duration::days(100)),
            "LastDateReleased": "", "Uri": format!("/Advertisers/{sid}/PhoneNumbers/{}", 870 + number),
        }));
    }
    for (report, name) in [
        "adv_action_listing_pm_only",
        "att_adv_performance_by_media_pm_only",
        "adv_invoice_listing",
        "mp_performance_by_day",
    ]
    .iter()
    .enumerate()
    {
        store.reports.push(json!({
            "Id": name, "Name": (["Action Listing", "Performance by Partner", "Invoice Listing", "Performance by Day"][report]),
            "Description": "", "MetaDataUri": format!("/Advertisers/{sid}/Reports/{name}/MetaData"),
            "RunUri": format!("/Advertisers/{sid}/ReportExport/{name}"),
        }));
    }
    for submission in 0..5u64 {
        let at = anchor - Duration::days(10 * submission as i64 + 3) - Duration::seconds(777);
        store.api_submissions.push(json!({
            "BatchId": format!("{}-{}", hex(&mut rng, 8), hex(&mut rng, 4)), "AccountId": ACCOUNT_ID, "CampaignId": "11842",
            "ActionTrackerId": "4636", "EventCode": "", "MediaPartnerId": "", "OrderId": format!("AO-9{submission:05}"),
            "Type": "CONVERSION", "Status": if submission == 4 { "FAILED" } else { "COMPLETED" },
            "ErrorType": if submission == 4 { "VALIDATION" } else { "" }, "ErrorReason": if submission == 4 { "EventDate is more than 3 years ago" } else { "" },
            "SubmissionDate": local(at), "CompletionDate": local(at + Duration::seconds(40)), "Payload": "",
        }));
    }
    for upload in 0..2u64 {
        let at = anchor - Duration::days(15 * upload as i64 + 8) - Duration::seconds(555);
        let batch = format!("{}-{}", hex(&mut rng, 8), hex(&mut rng, 4));
        store.ftp_file_submissions.push(json!({
            "BatchId": batch, "AccountId": ACCOUNT_ID, "FileName": format!("conversions_2026{:02}.csv", 8 + upload),
            "Type": "ACTIONS", "Status": "COMPLETED", "TotalRecords": (120 + upload * 7).to_string(), "TotalErrors": (upload * 2).to_string(),
            "SubmissionDate": local(at), "CompletionDate": local(at + Duration::minutes(3)),
            "ErrorsUri": format!("/Advertisers/{sid}/FTPFileSubmissions/{batch}/ErrorDetails"),
        }));
    }
    for request in 0..2u64 {
        let partner = &store.partners[request as usize % store.partners.len()];
        store.tracking_value_requests.push(json!({
            "Id": (5500 + request).to_string(), "CampaignId": "11842", "CampaignName": store.campaigns[0].name,
            "MediaPartnerId": partner["Id"], "MediaPartnerName": partner["Name"], "RequestType": if request == 0 { "PROMO_CODE" } else { "UNIQUE_URL" },
            "State": if request == 0 { "COMPLETED" } else { "PENDING" }, "NumberRequested": "1", "DatePlaced": local(anchor - Duration::days(12)),
            "DateNeeded": local(anchor - Duration::days(5)), "DateCompleted": if request == 0 { local(anchor - Duration::days(6)) } else { String::new() },
            "AdditionalInstructions": "", "ProcessingComments": "", "PromoCodes": [], "UniqueUrls": [], "PhoneNumbers": [],
            "Uri": format!("/Advertisers/{sid}/TrackingValueRequests/{}", 5500 + request),
        }));
    }
}
