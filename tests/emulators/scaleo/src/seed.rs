//! The seeded network: a few thousand rows from a seed, the same on any
//! machine and any day (dated back from the kit's anchor, 2026-10-01).
//!
//! `Settings::records` is the number of affiliates; everything else
//! follows from them. Affiliates fall in three revenue tiers (tags
//! `tier:gold`, `tier:silver`, `tier:bronze`, about 10/30/60 %), and the
//! tiers drive the traffic: a gold affiliate brings ten times the clicks of
//! a bronze one. About a quarter were recruited by a gold or silver sponsor
//! (`referred_by`), one by a sponsor that was deleted since (its id is a gap
//! in the sequence). Offers pay in USD, EUR, GBP or JPY through a default
//! goal (a percentage of the sale or a fixed amount) and sometimes a
//! second one. Affiliates have access to one to three offers (approved,
//! pending or rejected, sometimes on an extra landing page); a fifth have
//! promo codes. Clicks carry sub ids with gaps and unicode, and an address
//! that is not one now and then; conversions come in every status
//! (`approved`, `pending`, `hold`, `rejected`, `trash`) and several
//! currencies, a few from an old import with a currency that is not ISO
//! 4217 or a yen amount with cents. Approved payouts are billed on monthly
//! invoices, paid except the last month's.
//!
//! Messy like real data: missing optional fields, names in several
//! scripts, a `payment_details` string that is not JSON, a fixed discount
//! without its currency, a crypto payout currency that is not ISO 4217.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use cutover_emulator_kit::{Settings, people, seed};
use rand::Rng;
use rand::seq::IndexedRandom;
use rand_pcg::Pcg64;
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{Map, json};

use crate::model::{
    Access, Affiliate, Click, Conversion, Goal, Invoice, LandingPage, NextIds, Offer, PayoutType, PromoCode, Store,
};

/// Ids of affiliates start here; a few numbers are skipped (deleted
/// affiliates), as on a network that has been running for years.
const FIRST_AFFILIATE_ID: u64 = 1000;

/// Generator streams, one per kind of record.
mod stream {
    pub(super) const KEYS: u64 = 0;
    pub(super) const AFFILIATES: u64 = 1;
    pub(super) const OFFERS: u64 = 2;
    pub(super) const ACCESS: u64 = 3;
    pub(super) const PROMO_CODES: u64 = 4;
    pub(super) const CLICKS: u64 = 5;
    pub(super) const CONVERSIONS: u64 = 6;
}

/// A revenue tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tier {
    Gold,
    Silver,
    Bronze,
}

impl Tier {
    fn tag(self) -> &'static str {
        match self {
            Tier::Gold => "tier:gold",
            Tier::Silver => "tier:silver",
            Tier::Bronze => "tier:bronze",
        }
    }

    /// Clicks per approved access.
    fn clicks(self, rng: &mut Pcg64) -> usize {
        match self {
            Tier::Gold => rng.random_range(25..60),
            Tier::Silver => rng.random_range(6..20),
            Tier::Bronze => rng.random_range(0..5),
        }
    }

    /// The chance that a click converts.
    fn conversion_rate(self) -> f64 {
        match self {
            Tier::Gold => 0.14,
            Tier::Silver => 0.10,
            Tier::Bronze => 0.07,
        }
    }
}

/// Offers: title, currency, landing page host, description.
const OFFERS: &[(&str, &str, &str)] = &[
    ("Nordlight VPN — Annual Plan", "USD", "nordlight-vpn.example"),
    ("Café Lumière Coffee Subscriptions (FR)", "EUR", "cafe-lumiere.example"),
    ("Zürich Watch Co. — Spring Sale", "EUR", "zurich-watch.example"),
    ("Sakura Cosmetics 🌸 Trial Kit", "JPY", "sakura-cosmetics.example"),
    ("Kraków Language School — Free Lesson", "EUR", "krakow-lingua.example"),
    ("FitFuel Protein — CPS", "GBP", "fitfuel.example"),
    ("HomeHub Home Insurance Leads (UK)", "GBP", "homehub.example"),
    ("Tokyo Rail Pass 7-Day", "JPY", "tokyo-railpass.example"),
    ("BrightBank Cashback Card (US)", "USD", "brightbank.example"),
    ("Solaris Solar Quotes DE", "EUR", "solaris-energy.example"),
    ("Søndergaard Outdoor Gear", "EUR", "sondergaard.example"),
    ("PixelForge Game Pass", "USD", "pixelforge.example"),
    ("Mercado Verde Meal Kits (ES)", "EUR", "mercado-verde.example"),
    ("Atlas Travel Insurance", "USD", "atlas-travel.example"),
    ("Ōkami Ramen Delivery", "JPY", "okami-ramen.example"),
    ("LedgerLite Accounting SaaS", "USD", "ledgerlite.example"),
];

const DESCRIPTIONS: &[Option<&str>] = &[
    None,
    Some("Pays on first purchase. No brand bidding, no cashback sites without approval."),
    Some("Trial conversions are approved after the 14-day return window.\nIncentivised traffic is not allowed."),
    Some("Nur deutschsprachiger Traffic. Gutscheinseiten nach Absprache."),
    Some("¡Envío gratis en España peninsular! Payout on delivered orders only."),
    Some(""),
];

/// GeoNames country ids and their time zones.
const COUNTRIES: &[(u64, &str, &str)] = &[
    (6252001, "US", "America/New_York"),
    (2635167, "GB", "Europe/London"),
    (2921044, "DE", "Europe/Berlin"),
    (3017382, "FR", "Europe/Paris"),
    (2510769, "ES", "Europe/Madrid"),
    (798544, "PL", "Europe/Warsaw"),
    (1861060, "JP", "Asia/Tokyo"),
    (3469034, "BR", "America/Sao_Paulo"),
    (2750405, "NL", "Europe/Amsterdam"),
    (2623032, "DK", "Europe/Copenhagen"),
];

const EXTRA_TAGS: &[&str] = &["influencer", "coupon", "content", "email", "cashback", "ppc", "comparison"];
const TRAFFIC_SOURCES: &[&str] = &["YouTube", "Instagram", "TikTok", "Blog", "Newsletter", "Google Ads", "Podcast"];
const SUB_ID1: &[Option<&str>] =
    &[Some("newsletter"), Some("yt_review"), Some("ig-story"), Some("tiktok"), Some("blog"), Some(""), None, None];
const SUB_ID2: &[&str] = &["summer-sale", "bf2026", "größe-test", "banner_728x90", "homepage", "ブログ"];
const DEVICES: &[(&str, &str, &str)] = &[
    ("desktop", "Windows 11", "Chrome 131"),
    ("desktop", "macOS 15", "Safari 18"),
    ("mobile", "iOS 18", "Safari 18"),
    ("mobile", "Android 15", "Chrome 131"),
    ("mobile", "Android 14", "Samsung Internet 26"),
    ("tablet", "iPadOS 18", "Safari 18"),
    ("desktop", "Linux", "Firefox 133"),
];

fn ago(rng: &mut Pcg64, max_days: i64) -> DateTime<Utc> {
    seed::seed_anchor() - Duration::seconds(rng.random_range(60..max_days.max(1) * 86_400))
}

/// Cents (or yen) of a price, as a decimal of the currency's minor units.
fn price(rng: &mut Pcg64, currency: &str) -> Decimal {
    if currency == "JPY" {
        Decimal::new(rng.random_range(30..400) * 100, 0)
    } else {
        Decimal::new(rng.random_range(1_999..45_000), 2)
    }
}

fn minor_units(currency: &str) -> u32 {
    match currency.to_ascii_uppercase().as_str() {
        "JPY" => 0,
        "BHD" | "KWD" => 3,
        _ => 2,
    }
}

fn round(amount: Decimal, currency: &str) -> Decimal {
    amount.round_dp_with_strategy(minor_units(currency), RoundingStrategy::MidpointNearestEven)
}

/// A UUID v4 drawn from `rng`.
fn uuid(rng: &mut Pcg64) -> String {
    let hex = seed::hex(rng, 32);
    format!("{}-{}-4{}-a{}-{}", &hex[..8], &hex[8..12], &hex[13..16], &hex[17..20], &hex[20..])
}

/// The seeded store for `settings`.
pub(crate) fn store(settings: &Settings) -> Store {
    let mut keys = seed::record_rng(settings.seed, stream::KEYS, 0);
    let network_key = settings.api_key.clone().unwrap_or_else(|| seed::hex(&mut keys, 40));
    let affiliate_key = seed::hex(&mut keys, 40);
    let disabled_key = seed::hex(&mut keys, 40);
    let mut store = Store { network_key, affiliate_key, disabled_key, ..Store::default() };
    let offers = offers(settings, &mut store.next_id);
    store.offers = offers.into_iter().map(|offer| (offer.id, offer)).collect();
    let tiers = affiliates(settings, &mut store);
    store.key_affiliate_id = store.affiliates.keys().next().copied().unwrap_or_default();
    access(settings, &mut store);
    promo_codes(settings, &mut store);
    clicks_and_conversions(settings, &mut store, &tiers);
    invoices(&mut store);
    store
}

fn offers(settings: &Settings, next: &mut NextIds) -> Vec<Offer> {
    let count = (settings.records / 20).clamp(4, OFFERS.len());
    (0..count)
        .map(|index| {
            let mut rng = seed::record_rng(settings.seed, stream::OFFERS, index as u64);
            let (title, currency, host) = OFFERS[index];
            let id = NextIds::take(&mut next.offer);
            let created_at = ago(&mut rng, 1400);
            let updated_at = created_at
                + Duration::seconds(rng.random_range(0..(seed::seed_anchor() - created_at).num_seconds().max(1)));
            let cps = !title.contains("Lead") && !title.contains("Lesson") && !title.contains("Quotes");
            let default_goal = if cps {
                let percent = Decimal::new(rng.random_range(10..50) * 5, 1);
                Goal {
                    id: NextIds::take(&mut next.goal),
                    title: "Sale".into(),
                    alias: "sale".into(),
                    goal_type: 4,
                    payout_type: PayoutType::Percent,
                    payout: percent,
                    revenue: percent + Decimal::new(5, 0),
                    is_default: true,
                }
            } else {
                let fixed = if currency == "JPY" {
                    Decimal::new(rng.random_range(10..60) * 100, 0)
                } else {
                    Decimal::new(rng.random_range(8..90) * 100, 2)
                };
                Goal {
                    id: NextIds::take(&mut next.goal),
                    title: "Qualified lead".into(),
                    alias: "lead".into(),
                    goal_type: 3,
                    payout_type: PayoutType::Fixed,
                    payout: fixed,
                    revenue: fixed * Decimal::new(15, 1),
                    is_default: true,
                }
            };
            let mut goals = vec![default_goal];
            if rng.random_bool(0.35) {
                goals.push(Goal {
                    id: NextIds::take(&mut next.goal),
                    title: "Upsell".into(),
                    alias: "upsell".into(),
                    goal_type: 4,
                    payout_type: PayoutType::Percent,
                    payout: Decimal::new(5, 0),
                    revenue: Decimal::new(8, 0),
                    is_default: false,
                });
            }
            let links = (0..rng.random_range(0..3))
                .map(|page| {
                    let created = (created_at + Duration::days(page + 1)).timestamp();
                    LandingPage {
                        id: NextIds::take(&mut next.link),
                        offer_id: id,
                        title: ["Pricing page", "Landing — video", "Página de inicio"][page as usize % 3].into(),
                        url: format!("https://www.{host}/lp/{}?utm_source=scaleo", page + 1),
                        status: 1,
                        created,
                        updated: created,
                    }
                })
                .collect();
            let status = match index {
                2 => 1,
                _ if index + 1 == count && count > 4 => 4,
                _ => 3,
            };
            Offer {
                id,
                title: title.into(),
                description: DESCRIPTIONS.choose(&mut rng).copied().flatten().map(str::to_owned),
                status,
                visible_type: [1, 1, 2, 3][index % 4],
                currency: currency.into(),
                c_lifespan: [Some(30), Some(45), Some(60), Some(90), None].choose(&mut rng).copied().flatten(),
                url: Some(format!("https://www.{host}/?utm_source=scaleo&utm_medium=affiliate")),
                preview_url: rng.random_bool(0.7).then(|| format!("https://www.{host}/")),
                external_id: None,
                goals,
                links,
                created_at,
                updated_at,
            }
        })
        .collect()
}

fn tier(rng: &mut Pcg64) -> Tier {
    match rng.random_range(0..10) {
        0 => Tier::Gold,
        1..=3 => Tier::Silver,
        _ => Tier::Bronze,
    }
}

fn payment_details(rng: &mut Pcg64, index: usize, email: &str, name: &str) -> Option<String> {
    if index == 7 {
        // Saved by an old form that cut the string: not JSON.
        return Some(r#"{"method": "paypal", "paypal_email": "#.to_owned());
    }
    let details = match rng.random_range(0..100) {
        0..45 => json!({"method": "paypal", "paypal_email": email}),
        45..75 => json!({
            "method": "bank_transfer",
            "beneficiary_name": name,
            "iban": format!("DE{:02}370400440532{:06}", rng.random_range(10..99), rng.random_range(0..999_999)),
            "bic": "COBADEFFXXX",
            "currency": "EUR",
        }),
        75..80 => json!({
            "method": "wire",
            "account_number": format!("{:012}", rng.random_range(0..999_999_999_999u64)),
            "swift": "CHASUS33",
            "currency": "USD",
        }),
        80..88 => {
            json!({"method": "payoneer", "payoneer_id": format!("PYN-{}", seed::hex(rng, 10)), "currency": "USD"})
        }
        88..93 => json!({"method": "crypto", "wallet": format!("T{}", seed::hex(rng, 33)), "currency": "USDT"}),
        _ => return None,
    };
    Some(details.to_string())
}

/// Seeds the affiliates; returns each one's tier.
fn affiliates(settings: &Settings, store: &mut Store) -> BTreeMap<u64, Tier> {
    let mut tiers = BTreeMap::new();
    let mut sponsors: Vec<u64> = Vec::new();
    let mut deleted: Option<u64> = None;
    let mut next_id = FIRST_AFFILIATE_ID;
    for index in 0..settings.records {
        let mut rng = seed::record_rng(settings.seed, stream::AFFILIATES, index as u64);
        // Every so often an affiliate was deleted: its id is a gap.
        if index % 13 == 6 {
            next_id += 1;
            deleted.get_or_insert(next_id);
        }
        next_id += 1;
        let id = next_id;
        let person = people::person(&mut rng, index, settings.invalid_email_fraction);
        let tier = if index < 2 { Tier::Gold } else { tier(&mut rng) };
        let (mut firstname, mut lastname) = (Some(person.first_name.to_owned()), Some(person.last_name.to_owned()));
        if index % 17 == 3 {
            (firstname, lastname) = (Some("美咲".into()), Some("佐藤".into()));
        }
        let company_name = match rng.random_range(0..10) {
            0..=3 => None,
            4 => Some("日本アフィリエイト株式会社".to_owned()),
            5 => Some(format!("{} Media GmbH", person.last_name)),
            6 => Some("Coupon Kingdom Ltd.".to_owned()),
            _ => Some(format!("{} & Co", person.last_name)),
        };
        if index % 11 == 9 && company_name.is_some() {
            // A company signed up without a person's name.
            (firstname, lastname) = (None, None);
        }
        let status = match rng.random_range(0..100) {
            0..78 => 1,
            78..86 => 3,
            86..94 => 2,
            _ => 4,
        };
        let (country, _, timezone) = *COUNTRIES.choose(&mut rng).unwrap_or(&COUNTRIES[0]);
        let created_at = ago(&mut rng, 1100);
        let span = (seed::seed_anchor() - created_at).num_seconds().max(1);
        let updated_at = created_at + Duration::seconds(rng.random_range(0..span));
        let mut tags = vec![tier.tag().to_owned()];
        for _ in 0..rng.random_range(0..3) {
            if let Some(tag) = EXTRA_TAGS.choose(&mut rng)
                && !tags.iter().any(|known| known == tag)
            {
                tags.push((*tag).to_owned());
            }
        }
        let mut custom_fields = Map::new();
        if rng.random_bool(0.6) {
            custom_fields
                .insert("traffic_source".into(), TRAFFIC_SOURCES.choose(&mut rng).copied().unwrap_or("Blog").into());
        }
        if rng.random_bool(0.3) {
            custom_fields
                .insert("monthly_visitors".into(), rng.random_range(1u64..500).saturating_mul(1000).to_string().into());
        }
        let referred_by = if index == 5 {
            // Recruited by an affiliate deleted since.
            deleted.or(Some(FIRST_AFFILIATE_ID - 1))
        } else if index > 3 && !sponsors.is_empty() && rng.random_bool(0.28) {
            sponsors.choose(&mut rng).copied()
        } else {
            None
        };
        let name = [firstname.as_deref(), lastname.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ");
        let phone = match rng.random_range(0..10) {
            0..=3 => None,
            4 => Some("0049 (0)30-1234 567".to_owned()),
            _ => Some(format!(
                "+{} {}",
                [1, 44, 49, 33, 81][rng.random_range(0..5)],
                rng.random_range(100_000_000..999_999_999u64)
            )),
        };
        let affiliate = Affiliate {
            id,
            email: person.email.clone(),
            firstname,
            lastname,
            company_name,
            phone,
            website_url: rng.random_bool(0.7).then(|| format!("https://{}.example/", seed::hex(&mut rng, 6))),
            status,
            api_status: if rng.random_bool(0.2) { 1 } else { 2 },
            country: rng.random_bool(0.9).then_some(country),
            region: None,
            city: rng
                .random_bool(0.4)
                .then(|| ["Berlin", "Łódź", "São Paulo", "Zürich", "大阪", "Austin"][index % 6].to_owned()),
            address: None,
            postal_code: rng.random_bool(0.3).then(|| format!("{:05}", rng.random_range(1000..99999))),
            timezone: rng.random_bool(0.8).then(|| timezone.to_owned()),
            contacts: rng
                .random_bool(0.3)
                .then(|| json!([{"type": "telegram", "value": format!("@{}", seed::hex(&mut rng, 6))}]).to_string()),
            notes: None,
            internal_notes: rng
                .random_bool(0.15)
                .then(|| "Asked for a higher payout in Q2; see ticket #4471.".to_owned()),
            payment_details: payment_details(
                &mut rng,
                index,
                &person.email,
                if name.is_empty() { "Company" } else { &name },
            ),
            referred_by,
            referral_commission: if referred_by.is_some() {
                [Decimal::new(5, 0), Decimal::new(75, 1), Decimal::new(10, 0)][index % 3]
            } else {
                Decimal::new(5, 0)
            },
            managers_assigned: vec![[7, 8, 9][index % 3]],
            custom_fields,
            tags,
            external_id: (index % 10 == 4).then(|| format!("impact:{}", 55_000 + index)),
            created_at,
            updated_at,
        };
        if matches!(tier, Tier::Gold | Tier::Silver) && status == 1 {
            sponsors.push(id);
        }
        tiers.insert(id, tier);
        store.affiliates.insert(id, affiliate);
    }
    store.next_id.affiliate = next_id;
    tiers
}

fn access(settings: &Settings, store: &mut Store) {
    let offer_ids: Vec<u64> = store.offers.keys().copied().collect();
    let affiliates: Vec<(u64, u8, DateTime<Utc>)> =
        store.affiliates.values().map(|affiliate| (affiliate.id, affiliate.status, affiliate.created_at)).collect();
    for (index, (affiliate_id, status, joined)) in affiliates.into_iter().enumerate() {
        if status == 4 {
            continue;
        }
        let mut rng = seed::record_rng(settings.seed, stream::ACCESS, index as u64);
        let wanted = rng.random_range(1..=3).min(offer_ids.len());
        let chosen: Vec<u64> = offer_ids.choose_multiple(&mut rng, wanted).copied().collect();
        for offer_id in chosen {
            let links: Vec<u64> = store
                .offers
                .get(&offer_id)
                .map(|offer| offer.links.iter().map(|link| link.id).collect())
                .unwrap_or_default();
            let link_id = if rng.random_bool(0.3) { links.choose(&mut rng).copied() } else { None };
            let access_status = match (status, rng.random_range(0..100)) {
                (3, _) => "pending",
                (_, 0..85) => "approved",
                (_, 85..95) => "pending",
                _ => "rejected",
            };
            let span = (seed::seed_anchor() - joined).num_seconds().max(2);
            let created_at = joined + Duration::seconds(rng.random_range(1..span));
            let id = NextIds::take(&mut store.next_id.access);
            store.access.insert(
                id,
                Access {
                    id,
                    offer_id,
                    affiliate_id,
                    link_id,
                    status: access_status.into(),
                    created_at,
                    updated_at: created_at,
                },
            );
        }
    }
}

fn promo_codes(settings: &Settings, store: &mut Store) {
    let affiliates: Vec<Affiliate> =
        store.affiliates.values().filter(|affiliate| affiliate.status == 1).cloned().collect();
    let mut seen = std::collections::BTreeSet::new();
    for (index, affiliate) in affiliates.iter().enumerate() {
        let mut rng = seed::record_rng(settings.seed, stream::PROMO_CODES, index as u64);
        if !rng.random_bool(0.22) {
            continue;
        }
        let stem = affiliate
            .firstname
            .clone()
            .or_else(|| affiliate.company_name.clone())
            .unwrap_or_else(|| "PARTNER".into())
            .to_uppercase()
            .split_whitespace()
            .next()
            .unwrap_or("PARTNER")
            .to_owned();
        let mut code = format!("{stem}{}", [10, 15, 20, 25][rng.random_range(0..4)]);
        if !seen.insert(code.to_lowercase()) {
            code = format!("{code}-{}", affiliate.id);
            seen.insert(code.to_lowercase());
        }
        let offers: Vec<u64> = store
            .access
            .values()
            .filter(|access| access.affiliate_id == affiliate.id && access.status == "approved")
            .map(|access| access.offer_id)
            .collect();
        let offer_id = if rng.random_bool(0.25) { None } else { offers.choose(&mut rng).copied() };
        let currency =
            offer_id.and_then(|id| store.offers.get(&id)).map_or("EUR".to_owned(), |offer| offer.currency.clone());
        let (discount_type, discount_value, currency) = match rng.random_range(0..100) {
            0..60 => (Some("percent".to_owned()), Some(Decimal::new([10, 15, 20][index % 3], 0)), None),
            60..85 => {
                let value = if currency == "JPY" { Decimal::new(1000, 0) } else { Decimal::new(500, 2) };
                (Some("fixed".to_owned()), Some(value), Some(currency))
            }
            _ => (None, None, None),
        };
        let id = NextIds::take(&mut store.next_id.promo_code);
        let created_at = affiliate.created_at + Duration::days(rng.random_range(1..60));
        store.promo_codes.insert(
            id,
            PromoCode {
                id,
                code,
                offer_id,
                affiliate_id: affiliate.id,
                status: if rng.random_bool(0.85) { 1 } else { 2 },
                discount_type,
                discount_value,
                currency,
                created_at,
                updated_at: created_at,
            },
        );
    }
    // One fixed discount saved without its currency (an old import).
    if let Some(code) = store.promo_codes.values_mut().nth(1) {
        code.discount_type = Some("fixed".into());
        code.discount_value = Some(Decimal::new(750, 2));
        code.currency = None;
    }
}

fn sub_ids(rng: &mut Pcg64) -> [Option<String>; 5] {
    let mut ids: [Option<String>; 5] = Default::default();
    ids[0] = SUB_ID1.choose(rng).copied().flatten().map(str::to_owned);
    if rng.random_bool(0.35) {
        ids[1] = SUB_ID2.choose(rng).map(|id| (*id).to_owned());
    }
    if rng.random_bool(0.1) {
        // A gap: sub_id3 without sub_id2.
        ids[1] = None;
        ids[2] = Some(format!("creative-{}", rng.random_range(1..9)));
    }
    if rng.random_bool(0.05) {
        ids[4] = Some(seed::hex(rng, 8));
    }
    ids
}

fn ip(rng: &mut Pcg64, index: usize) -> Option<String> {
    if index % 97 == 13 {
        return Some("unknown".into());
    }
    match rng.random_range(0..10) {
        0 => None,
        1 => Some(format!("2001:db8:{:x}::{:x}", rng.random_range(1..0xffff), rng.random_range(1..0xffff))),
        2..=5 => Some(format!("203.0.113.{}", rng.random_range(1..255))),
        _ => Some(format!("198.51.100.{}", rng.random_range(1..255))),
    }
}

fn conversion_status(rng: &mut Pcg64, added: DateTime<Utc>) -> &'static str {
    let old = seed::seed_anchor() - added > Duration::days(45);
    let roll = rng.random_range(0..100);
    if old {
        match roll {
            0..70 => "approved",
            70..85 => "rejected",
            85..90 => "trash",
            90..95 => "hold",
            _ => "pending",
        }
    } else {
        match roll {
            0..55 => "pending",
            55..65 => "hold",
            65..90 => "approved",
            90..97 => "rejected",
            _ => "trash",
        }
    }
}

fn order_id(rng: &mut Pcg64, number: usize) -> Option<String> {
    match rng.random_range(0..10) {
        0..=3 => Some(format!("ORD-{}", 100_000 + number)),
        4..=5 => Some(format!("#{}", 1000 + number)),
        6 => Some(seed::hex(rng, 12).to_uppercase()),
        _ => None,
    }
}

fn clicks_and_conversions(settings: &Settings, store: &mut Store, tiers: &BTreeMap<u64, Tier>) {
    let approved: Vec<Access> = store.access.values().filter(|access| access.status == "approved").cloned().collect();
    let mut clicks = Vec::new();
    let mut conversions = Vec::new();
    for (access_index, access) in approved.iter().enumerate() {
        let tier = tiers.get(&access.affiliate_id).copied().unwrap_or(Tier::Bronze);
        let Some(offer) = store.offers.get(&access.offer_id).cloned() else { continue };
        let promo = store
            .promo_codes
            .values()
            .find(|code| code.affiliate_id == access.affiliate_id && code.offer_id.is_none_or(|id| id == offer.id))
            .map(|code| code.code.clone());
        let mut rng = seed::record_rng(settings.seed, stream::CLICKS, access_index as u64);
        let earliest = access.created_at.max(seed::seed_anchor() - Duration::days(180));
        let span = (seed::seed_anchor() - earliest).num_seconds().max(2);
        for _ in 0..tier.clicks(&mut rng) {
            let index = clicks.len();
            let added = earliest + Duration::seconds(rng.random_range(1..span));
            let (device_type, device_os, browser) = *DEVICES.choose(&mut rng).unwrap_or(&DEVICES[0]);
            let click = Click {
                transaction_id: seed::hex(&mut rng, 32),
                added,
                affiliate_id: access.affiliate_id,
                offer_id: offer.id,
                link_id: access.link_id,
                creative_id: rng.random_bool(0.2).then(|| rng.random_range(1..40)),
                sub_ids: sub_ids(&mut rng),
                aff_click_id: rng.random_bool(0.25).then(|| format!("afc_{}", seed::hex(&mut rng, 10))),
                deep_link_url: None,
                ip: ip(&mut rng, index),
                geo: COUNTRIES.choose(&mut rng).map(|(_, code, _)| (*code).to_owned()),
                device_type: Some(device_type.into()),
                device_os: Some(device_os.into()),
                browser: rng.random_bool(0.95).then(|| browser.to_owned()),
            };
            if rng.random_bool(tier.conversion_rate()) {
                let mut convert = seed::record_rng(settings.seed, stream::CONVERSIONS, index as u64);
                let after = Duration::seconds(convert.random_range(60..7 * 86_400));
                let added = (click.added + after).min(seed::seed_anchor() - Duration::seconds(1));
                conversions.push(conversion(&mut convert, &offer, &click, added, conversions.len(), promo.as_deref()));
            }
            clicks.push(click);
        }
        // Sales credited by the affiliate's promo code, without a click.
        if let Some(code) = &promo
            && rng.random_bool(0.5)
        {
            let mut convert = seed::record_rng(settings.seed, stream::CONVERSIONS, 1_000_000 + access_index as u64);
            let added = earliest + Duration::seconds(convert.random_range(1..span));
            let mut sale = conversion(
                &mut convert,
                &offer,
                &Click {
                    transaction_id: String::new(),
                    added,
                    affiliate_id: access.affiliate_id,
                    offer_id: offer.id,
                    link_id: None,
                    creative_id: None,
                    sub_ids: Default::default(),
                    aff_click_id: None,
                    deep_link_url: None,
                    ip: None,
                    geo: None,
                    device_type: None,
                    device_os: None,
                    browser: None,
                },
                added,
                conversions.len(),
                Some(code),
            );
            sale.click_id = None;
            sale.promo_code = Some(code.clone());
            conversions.push(sale);
        }
    }
    clicks.sort_by(|a, b| (a.added, &a.transaction_id).cmp(&(b.added, &b.transaction_id)));
    conversions.sort_by(|a, b| (a.added, &a.transaction_id).cmp(&(b.added, &b.transaction_id)));
    // An old import: a currency that is not ISO 4217, a yen amount with
    // cents, and a lower-case code.
    let count = conversions.len();
    if count >= 6 {
        let bad_currency = &mut conversions[count / 3];
        bad_currency.currency = "XBT".into();
        let yen = &mut conversions[2 * count / 3];
        yen.currency = "JPY".into();
        yen.amount = Decimal::new(12_005, 1);
        yen.payout = Decimal::new(12_005, 2);
        let lower = &mut conversions[count / 2];
        lower.currency = lower.currency.to_lowercase();
    }
    store.clicks = clicks;
    store.conversions = conversions;
}

fn conversion(
    rng: &mut Pcg64,
    offer: &Offer,
    click: &Click,
    added: DateTime<Utc>,
    number: usize,
    promo: Option<&str>,
) -> Conversion {
    let goal = if offer.goals.len() > 1 && rng.random_bool(0.15) { &offer.goals[1] } else { &offer.goals[0] };
    let currency = if rng.random_bool(0.9) {
        offer.currency.clone()
    } else {
        ["USD", "EUR", "GBP"].choose(rng).copied().unwrap_or("USD").to_owned()
    };
    let (amount, payout, revenue) = match goal.payout_type {
        PayoutType::Percent => {
            let amount = price(rng, &currency);
            let share = |percent: Decimal| round(amount * percent / Decimal::ONE_HUNDRED, &currency);
            (amount, share(goal.payout), share(goal.revenue))
        }
        PayoutType::Fixed => (Decimal::ZERO, goal.payout, goal.revenue),
    };
    Conversion {
        transaction_id: uuid(rng),
        click_id: (!click.transaction_id.is_empty()).then(|| click.transaction_id.clone()),
        added,
        status: conversion_status(rng, added).into(),
        affiliate_id: click.affiliate_id,
        offer_id: offer.id,
        goal_id: goal.id,
        currency,
        amount,
        payout,
        revenue,
        advertiser_order_id: order_id(rng, number),
        advertiser_user_id: rng.random_bool(0.3).then(|| format!("cust_{}", seed::hex(rng, 8))),
        advertiser_track_id: None,
        aff_click_id: click.aff_click_id.clone(),
        promo_code: promo.filter(|_| rng.random_bool(0.3)).map(str::to_owned),
        sub_ids: click.sub_ids.clone(),
        invoice_id: None,
        notes: None,
    }
}

/// Monthly invoices of approved payouts, per affiliate and currency, for
/// the six months before the anchor: paid, except the last month's (unpaid)
/// and one canceled.
fn invoices(store: &mut Store) {
    let anchor = seed::seed_anchor().date_naive();
    let month_start = |date: NaiveDate| NaiveDate::from_ymd_opt(date.year(), date.month(), 1).unwrap_or(date);
    let this_month = month_start(anchor);
    let mut groups: BTreeMap<(NaiveDate, u64, String), Vec<usize>> = BTreeMap::new();
    for (index, conversion) in store.conversions.iter().enumerate() {
        let day = conversion.added.date_naive();
        let month = month_start(day);
        let months_back = (this_month.year() - month.year()) * 12 + this_month.month() as i32 - month.month() as i32;
        let currency_ok = ["USD", "EUR", "GBP", "JPY"].contains(&conversion.currency.as_str());
        if conversion.status == "approved"
            && (1..=6).contains(&months_back)
            && currency_ok
            && conversion.payout > Decimal::ZERO
        {
            groups.entry((month, conversion.affiliate_id, conversion.currency.clone())).or_default().push(index);
        }
    }
    let last_month = this_month.pred_opt().map(month_start).unwrap_or(this_month);
    let mut canceled = false;
    for ((month, affiliate_id, currency), members) in groups {
        let end = month_start(month + Duration::days(32)).pred_opt().unwrap_or(month);
        let id = NextIds::take(&mut store.next_id.invoice);
        let date = end + Duration::days(1);
        let status = if month == last_month {
            "unpaid"
        } else if !canceled && members.len() == 1 {
            canceled = true;
            "canceled"
        } else {
            "paid"
        };
        let amount = members.iter().map(|&index| store.conversions[index].payout).sum();
        let created_at = date.and_hms_opt(6, 0, 0).map_or_else(seed::seed_anchor, |at| at.and_utc());
        let paid_at = (status == "paid").then(|| created_at + Duration::days(10) + Duration::hours(9));
        if status != "canceled" {
            for &index in &members {
                store.conversions[index].invoice_id = Some(id);
            }
        }
        store.invoices.insert(
            id,
            Invoice {
                id,
                invoice_number: format!("INV-{}-{id:05}", month.year()),
                date,
                status: status.into(),
                amount,
                currency,
                referral_commission: Decimal::ZERO,
                start_date: month,
                end_date: end,
                affiliate_id,
                invoice_memo: Some(format!("Commissions {}", month.format("%B %Y"))),
                internal_notes: None,
                paid_at,
                created_at,
                updated_at: paid_at.unwrap_or(created_at),
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seeded(records: usize) -> Store {
        store(&Settings::new(3, records))
    }

    #[test]
    fn the_same_seed_gives_the_same_network() {
        let (first, again) = (seeded(60), seeded(60));
        assert_eq!(first.affiliates, again.affiliates);
        assert_eq!(first.conversions, again.conversions);
        assert_eq!(first.invoices, again.invoices);
        assert_ne!(store(&Settings::new(4, 60)).conversions, first.conversions);
    }

    #[test]
    fn the_network_has_every_shape_the_plugin_must_read() {
        let store = seeded(80);
        let tags: Vec<&String> = store.affiliates.values().flat_map(|affiliate| &affiliate.tags).collect();
        for tier in ["tier:gold", "tier:silver", "tier:bronze"] {
            assert!(tags.iter().any(|tag| *tag == tier), "{tier}");
        }
        let sponsored = store.affiliates.values().filter(|affiliate| affiliate.referred_by.is_some());
        let missing = sponsored
            .clone()
            .filter(|affiliate| affiliate.referred_by.is_some_and(|sponsor| !store.affiliates.contains_key(&sponsor)));
        assert!(sponsored.count() >= 5);
        assert_eq!(missing.count(), 1, "one sponsor was deleted");
        for status in ["approved", "pending", "hold", "rejected", "trash"] {
            assert!(store.conversions.iter().any(|conversion| conversion.status == status), "{status}");
        }
        let currencies: std::collections::BTreeSet<&str> =
            store.conversions.iter().map(|conversion| conversion.currency.as_str()).collect();
        assert!(currencies.len() >= 4 && currencies.contains("JPY") && currencies.contains("XBT"), "{currencies:?}");
        assert!(store.clicks.iter().any(|click| click.sub_ids[1].is_none() && click.sub_ids[2].is_some()));
        assert!(store.invoices.values().any(|invoice| invoice.status == "paid"));
        assert!(store.invoices.values().any(|invoice| invoice.status == "unpaid"));
        assert!(store.conversions.iter().any(|conversion| conversion.click_id.is_none()));
        let ids: std::collections::BTreeSet<&str> =
            store.clicks.iter().map(|click| click.transaction_id.as_str()).collect();
        assert_eq!(ids.len(), store.clicks.len(), "click ids are unique");
        assert!(
            store
                .promo_codes
                .values()
                .any(|code| code.discount_type.as_deref() == Some("fixed") && code.currency.is_none())
        );
    }
}
