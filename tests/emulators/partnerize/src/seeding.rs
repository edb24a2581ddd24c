//! The seeded account: deterministic from the seed, sized by `records` (the
//! number of partners), and messy as real accounts are: names in many
//! scripts, partners without a company or an email, statuses of every
//! letter, conversions in four currencies with items in every status
//! (a yen amount with decimals, a euro amount with three, a currency left
//! blank), clicks without a reference, paid and unpaid commissions,
//! self-bills paid and pending.
//!
//! Record `index` of each series is drawn from its own generator
//! ([`seed::record_rng`]), so it is the same whatever the size.

use chrono::{DateTime, Duration, Utc};
use cutover_emulator_kit::{people, seed};
use rand::Rng;
use rand::seq::IndexedRandom;
use std::collections::BTreeMap;

use crate::model::{
    Amount, Campaign, Click, CommissionGroup, Conversion, ConversionItem, Link, Participation, PaymentDetail,
    Publisher, SelfBill, Store, Voucher,
};

/// The network every seeded account belongs to.
pub const NETWORK_ID: &str = "1l1000003";
/// The brand every seeded account is.
pub const ADVERTISER_ID: &str = "10l110";

/// Well-spread bits of `n`, for ids and codes.
pub fn spread(n: u64) -> u64 {
    seed::mix(0x5052_5a45, n)
}

/// Series of generators, one per kind of record.
mod series {
    pub const PUBLISHERS: u64 = 1;
    pub const CAMPAIGNS: u64 = 2;
    pub const PARTICIPATIONS: u64 = 3;
    pub const LINKS: u64 = 4;
    pub const CLICKS: u64 = 6;
    pub const CONVERSIONS: u64 = 7;
    pub const SELFBILLS: u64 = 8;
    pub const PAYMENTS: u64 = 9;
}

const CAMPAIGN_TITLES: &[(&str, &str)] = &[
    ("Summer Collection", "GBP"),
    ("Été — Promotions Europe", "EUR"),
    ("日本ストア", "JPY"),
    ("US Outlet", "USD"),
    ("Gift Cards & Vouchers", "GBP"),
    ("Winter Sale", "EUR"),
];

const COUNTRIES: &[&str] = &["GB", "DE", "FR", "JP", "US", "ES", "PL", "NL"];
const LOCALES: &[&str] = &["en", "de", "fr", "jp", "en_us", "es", "pl", "nl"];
const TIMEZONES: &[&str] = &["Europe/London", "Europe/Berlin", "Asia/Tokyo", "America/New_York"];
const COMPANY_SUFFIXES: &[&str] = &["Media", "Deals", "Reviews", "Cashback Ltd", "GmbH", "メディア", "Promo SARL"];

/// The seeded store for `seed` with `records` partners.
pub fn store(seed_value: u64, records: usize) -> Store {
    let anchor = seed::seed_anchor();
    let mut store = Store { network_id: NETWORK_ID.into(), advertiser_id: ADVERTISER_ID.into(), ..Store::default() };
    seed_campaigns(&mut store, seed_value, records, anchor);
    seed_publishers(&mut store, seed_value, records, anchor);
    seed_groups(&mut store, seed_value);
    seed_links_and_vouchers(&mut store, seed_value, anchor);
    seed_clicks_and_conversions(&mut store, seed_value, records, anchor);
    seed_selfbills(&mut store, seed_value, anchor);
    store
}

fn seed_campaigns(store: &mut Store, seed_value: u64, records: usize, anchor: DateTime<Utc>) {
    let count = (2 + records / 25).min(CAMPAIGN_TITLES.len());
    for index in 0..count {
        let mut rng = seed::record_rng(seed_value, series::CAMPAIGNS, index as u64);
        let (title, currency) = CAMPAIGN_TITLES[index];
        let created = anchor - Duration::days(900 - 30 * index as i64);
        let flat = index == 4;
        let campaign_id = store.next_id("campaign", "10", 176);
        store.campaigns.push(Campaign {
            campaign_id,
            title: title.into(),
            // The last of several is retired.
            status: if count > 2 && index == count - 1 { "r" } else { "a" }.into(),
            default_currency: currency.into(),
            cookie_period: [30, 45, 7, 90][index % 4],
            default_commission_rate: (!flat).then(|| ["5", "7.5", "10", "12.5"][rng.random_range(0..4)].to_owned()),
            default_commission_value: flat.then(|| "2.50".to_owned()),
            destination_url: (index != 1).then(|| format!("https://shop{index}.example.com/")),
            description: (index % 2 == 0).then(|| format!("{title}: terms — pays on approved sales only.")),
            reporting_timezone: TIMEZONES[index % TIMEZONES.len()].into(),
            created,
            last_modified: created + Duration::days(rng.random_range(0..200)),
        });
    }
}

fn seed_publishers(store: &mut Store, seed_value: u64, records: usize, anchor: DateTime<Utc>) {
    for index in 0..records {
        let mut rng = seed::record_rng(seed_value, series::PUBLISHERS, index as u64);
        let person = people::person(&mut rng, index, 0.0);
        let network_status = match rng.random_range(0..20) {
            0..14 => "a",
            14..16 => "p",
            16..18 => "r",
            _ => "n",
        };
        let company = (rng.random_range(0..5) != 0)
            .then(|| format!("{} {}", person.last_name, COMPANY_SUFFIXES.choose(&mut rng).copied().unwrap_or("Media")));
        // One partner in twenty signed up without an email (an old import).
        let email = (index % 20 != 13).then(|| person.email.clone());
        let country = rng.random_range(0..COUNTRIES.len());
        let created = anchor - Duration::minutes(rng.random_range(60..60 * 24 * 800));
        let modified = created + Duration::minutes(rng.random_range(0..60 * 24 * 30));
        let publisher_id = store.next_id("publisher", "1", 1_007_800);
        store.publishers.push(Publisher {
            publisher_id: publisher_id.clone(),
            account_name: format!("{} {}", person.first_name, person.last_name),
            company_name: company,
            contact_name: Some(format!("{} {}", person.first_name, person.last_name)),
            contact_email: email,
            contact_locale: Some(LOCALES[country].into()),
            default_currency: Some(["GBP", "EUR", "JPY", "USD"][rng.random_range(0..4)].into()),
            network_status: network_status.into(),
            operating_country: (index % 9 != 4).then(|| COUNTRIES[country].into()),
            promotional_method: rng.random_range(1..5),
            vertical: rng.random_range(0..4),
            reporting_identifier: (index % 3 == 0).then(|| format!("AFF-{:04}", index + 1)),
            foreign_identifier: None,
            reporting_timezone: Some(TIMEZONES[rng.random_range(0..TIMEZONES.len())].into()),
            signup_ip: format!("198.51.100.{}", rng.random_range(1..255)),
            phone: (index % 4 == 1).then(|| format!("+44 20 7946 {:04}", rng.random_range(0..10_000))),
            entity_terms_id: Some("56".into()),
            network_notes: None,
            websites: (index % 5 != 2)
                .then(|| {
                    format!("https://{}.example.net/", person.email.split('@').next().unwrap_or("site").to_lowercase())
                })
                .into_iter()
                .collect(),
            created,
            last_modified: modified,
        });
        seed_payment_detail(store, seed_value, index, &publisher_id);
        seed_participations(store, seed_value, index, &publisher_id, network_status, modified);
    }
}

fn seed_payment_detail(store: &mut Store, seed_value: u64, index: usize, publisher_id: &str) {
    let mut rng = seed::record_rng(seed_value, series::PAYMENTS, index as u64);
    if rng.random_range(0..5) == 0 {
        return;
    }
    let mut values = BTreeMap::new();
    let code = if rng.random_bool(0.5) {
        values.insert("account_number".into(), format!("{:08}", rng.random_range(0..100_000_000)));
        values.insert("routing_number".into(), format!("{:06}", rng.random_range(0..1_000_000)));
        values.insert("account_name".into(), format!("Partner {index}"));
        values.insert("bank_name".into(), ["Barclays", "Deutsche Bank", "みずほ銀行"][index % 3].into());
        "eft"
    } else {
        values.insert("account_number".into(), format!("payouts+{index}@example.com"));
        "paypal"
    };
    let set_id = store.next_id("payment_detail", "111", 500);
    store.payment_details.push(PaymentDetail {
        set_id,
        publisher_id: publisher_id.into(),
        country: Some(COUNTRIES[index % COUNTRIES.len()].into()),
        // One set in seven never said which currency it is paid in.
        paid_currency: (index % 7 != 3).then(|| ["GBP", "EUR", "USD", "JPY"][index % 4].into()),
        payment_type_code: code.into(),
        suspended: if index % 11 == 5 { "y" } else { "n" }.into(),
        values,
    });
}

fn seed_participations(
    store: &mut Store,
    seed_value: u64,
    index: usize,
    publisher_id: &str,
    network_status: &str,
    updated: DateTime<Utc>,
) {
    let mut rng = seed::record_rng(seed_value, series::PARTICIPATIONS, index as u64);
    let campaigns: Vec<String> = store.campaigns.iter().map(|campaign| campaign.campaign_id.clone()).collect();
    for (position, campaign_id) in campaigns.iter().enumerate() {
        let status = if position == 0 && network_status == "a" {
            "a"
        } else {
            match rng.random_range(0..10) {
                0..4 => "a",
                4 => "p",
                5 => "r",
                6 => "t",
                _ => continue,
            }
        };
        let camref = store.new_camref();
        store.participations.push(Participation {
            campaign_id: campaign_id.clone(),
            publisher_id: publisher_id.into(),
            campaign_status: status.into(),
            camref,
            updated,
        });
    }
}

fn seed_groups(store: &mut Store, seed_value: u64) {
    let Some(campaign_id) = store.campaigns.first().map(|campaign| campaign.campaign_id.clone()) else { return };
    let approved: Vec<String> = store
        .participations
        .iter()
        .filter(|part| part.campaign_id == campaign_id && part.campaign_status == "a")
        .map(|part| part.publisher_id.clone())
        .collect();
    let mut tiers: [(&str, Vec<String>); 3] = [("Gold", Vec::new()), ("Silver", Vec::new()), ("Bronze", Vec::new())];
    for (index, publisher_id) in approved.iter().enumerate() {
        match seed::mix(seed_value, index as u64) % 10 {
            0 => tiers[0].1.push(publisher_id.clone()),
            1 | 2 => tiers[1].1.push(publisher_id.clone()),
            3..=6 => tiers[2].1.push(publisher_id.clone()),
            _ => {}
        }
    }
    for (name, publishers) in tiers {
        let commission_group_id = store.next_id("commission_group", "1", 1_000_040);
        store.commission_groups.push(CommissionGroup {
            commission_group_id,
            campaign_id: campaign_id.clone(),
            name: name.into(),
            description: Some(format!("{name} revenue tier")),
            publishers,
        });
    }
}

fn seed_links_and_vouchers(store: &mut Store, seed_value: u64, anchor: DateTime<Utc>) {
    let approved: Vec<Participation> =
        store.participations.iter().filter(|part| part.campaign_status == "a").cloned().collect();
    for (index, part) in approved.iter().enumerate() {
        let mut rng = seed::record_rng(seed_value, series::LINKS, index as u64);
        if rng.random_bool(0.5) {
            let id = store.next_id("link", "1011", 10);
            let mut params = Vec::new();
            if rng.random_bool(0.4) {
                params.push(("pubref".to_owned(), format!("nl-{}", rng.random_range(1..99))));
            }
            store.links.push(Link {
                id,
                publisher_id: part.publisher_id.clone(),
                campaign_id: part.campaign_id.clone(),
                description: rng
                    .random_bool(0.7)
                    .then(|| ["Homepage", "Newsletter — août", "Sidebar banner", "ブログ"][index % 4].to_owned()),
                destination_url: rng
                    .random_bool(0.5)
                    .then(|| format!("https://shop.example.com/p/{}", rng.random_range(100..999))),
                params,
                active: rng.random_range(0..8) != 0,
                code: format!("{:x}", spread(index as u64) & 0xff_ffff),
                camref: part.camref.clone(),
            });
        }
        if rng.random_range(0..3) == 0 {
            let voucher_code_id = store.next_id("voucher", "1101", 1536);
            let name = store
                .publisher(&part.publisher_id)
                .map(|publisher| publisher.account_name.split(' ').next().unwrap_or("CODE").to_uppercase())
                .unwrap_or_else(|| "CODE".into());
            let created = anchor - Duration::days(rng.random_range(1..400));
            store.vouchers.push(Voucher {
                voucher_code_id,
                campaign_id: part.campaign_id.clone(),
                publisher_id: (rng.random_range(0..6) != 0).then(|| part.publisher_id.clone()),
                voucher_code: format!("{name}{}", 10 + index),
                description: rng.random_bool(0.5).then(|| "10% off first order".to_owned()),
                active: if rng.random_range(0..5) == 0 { "n" } else { "y" }.into(),
                created,
                last_modified: created,
            });
        }
    }
}

fn currency_scale(currency: &str) -> u32 {
    if currency == "JPY" { 0 } else { 2 }
}

fn seed_clicks_and_conversions(store: &mut Store, seed_value: u64, records: usize, anchor: DateTime<Utc>) {
    let approved: Vec<Participation> =
        store.participations.iter().filter(|part| part.campaign_status == "a").cloned().collect();
    if approved.is_empty() {
        return;
    }
    for index in 0..records * 2 {
        let mut rng = seed::record_rng(seed_value, series::CLICKS, index as u64);
        let Some(part) = approved.choose(&mut rng) else { continue };
        let publisher_name =
            store.publisher(&part.publisher_id).map(|publisher| publisher.account_name.clone()).unwrap_or_default();
        let click_id = store.next_id("click", "1100", 90_000);
        store.clicks.push(Click {
            click_id,
            campaign_id: part.campaign_id.clone(),
            publisher_id: part.publisher_id.clone(),
            publisher_name,
            set_time: anchor - Duration::seconds(rng.random_range(3600..3600 * 24 * 365)),
            set_ip: (rng.random_range(0..6) != 0).then(|| format!("203.0.113.{}", rng.random_range(1..255))),
            referer: rng.random_bool(0.6).then(|| format!("https://blog{}.example.org/post?id={}", index % 7, index)),
            clickref: rng
                .random_bool(0.5)
                .then(|| ["newsletter", "sidebar", "ig_story", "yt-desc", "ñandú"][index % 5].to_owned()),
            advertiser_reference: rng.random_bool(0.2).then(|| format!("adref-{index}")),
            country: Some(COUNTRIES[index % COUNTRIES.len()].into()),
        });
    }
    for index in 0..records {
        let mut rng = seed::record_rng(seed_value, series::CONVERSIONS, index as u64);
        let Some(part) = approved.choose(&mut rng) else { continue };
        let campaign_currency =
            store.campaign(&part.campaign_id).map(|campaign| campaign.default_currency.clone()).unwrap_or("GBP".into());
        let currency = if rng.random_range(0..6) == 0 {
            ["GBP", "EUR", "USD", "JPY"][rng.random_range(0..4)].to_owned()
        } else {
            campaign_currency
        };
        let click = store
            .clicks
            .iter()
            .filter(|click| click.campaign_id == part.campaign_id && click.publisher_id == part.publisher_id)
            .nth(rng.random_range(0..3))
            .cloned();
        let conversion_time = match &click {
            Some(click) => click.set_time + Duration::seconds(rng.random_range(30..3600 * 24 * 5)),
            None => anchor - Duration::seconds(rng.random_range(3600..3600 * 24 * 365)),
        };
        let status = match rng.random_range(0..10) {
            0..5 => "approved",
            5..8 => "pending",
            _ => "rejected",
        };
        let scale = currency_scale(&currency);
        let rate = rng.random_range(5..15);
        let mut items = Vec::new();
        for _ in 0..rng.random_range(1..4) {
            let value = if scale == 0 {
                Amount::whole(rng.random_range(500..30_000))
            } else {
                Amount::cents(rng.random_range(500..40_000))
            };
            let commission = Amount { units: value.units * rate / 100, scale: value.scale };
            let publisher_commission = Amount { units: commission.units * 8 / 10, scale: value.scale };
            let item_id = store.next_id("conversion_item", "111111", 1_107_235);
            let paid = status == "approved" && rng.random_range(0..3) == 0;
            items.push(ConversionItem {
                conversion_item_id: item_id,
                sku: rng.random_bool(0.8).then(|| format!("SKU-{}", rng.random_range(1000..9999))),
                category: rng
                    .random_bool(0.5)
                    .then(|| ["Shoes", "Électronique", "家電", "Books"][index % 4].to_owned()),
                item_value: value,
                item_commission: commission,
                item_publisher_commission: publisher_commission,
                item_status: status.into(),
                reject_reason: (status == "rejected").then(|| "Returned".to_owned()),
                approved_at: (status == "approved").then(|| conversion_time + Duration::days(30)),
                invoice_id: paid.then(|| format!("1101l{}", 1500 + index)),
                paid,
                last_update: conversion_time + Duration::days(if status == "pending" { 0 } else { 30 }),
            });
        }
        let conversion_id = store.next_id("conversion", "111111", 10);
        let mut currency_written = currency.clone();
        // Messy ones: a yen amount with decimals, a euro amount with three,
        // a currency the brand's integration left blank.
        match index % 17 {
            5 => {
                currency_written = "JPY".into();
                if let Some(item) = items.first_mut() {
                    item.item_value = Amount { units: 12005, scale: 1 };
                }
            }
            11 => {
                currency_written = "EUR".into();
                if let Some(item) = items.first_mut() {
                    item.item_value = Amount { units: 10555, scale: 3 };
                }
            }
            16 => currency_written = String::new(),
            _ => {}
        }
        let last_modified = items.iter().map(|item| item.last_update).max().unwrap_or(conversion_time);
        store.conversions.push(Conversion {
            conversion_id,
            campaign_id: part.campaign_id.clone(),
            publisher_id: part.publisher_id.clone(),
            conversion_time,
            currency: currency_written,
            conversion_reference: format!("ORD-{}", 100_000 + index * 7),
            advertiser_reference: rng.random_bool(0.3).then(|| format!("basket-{index}")),
            customer_reference: rng.random_bool(0.6).then(|| format!("cust-{}", rng.random_range(1..5000))),
            customer_type: rng
                .random_bool(0.7)
                .then(|| if rng.random_bool(0.5) { "new" } else { "existing" }.to_owned()),
            country: Some(COUNTRIES[index % COUNTRIES.len()].into()),
            clickref: click.as_ref().and_then(|click| click.clickref.clone()),
            click_id: click.as_ref().map(|click| click.click_id.clone()),
            was_disputed: index % 23 == 7,
            conversion_status: status.into(),
            items,
            last_modified,
        });
    }
}

fn seed_selfbills(store: &mut Store, seed_value: u64, anchor: DateTime<Utc>) {
    let mut paid_by_publisher: BTreeMap<(String, String), (Amount, u32)> = BTreeMap::new();
    for conversion in &store.conversions {
        for item in conversion.items.iter().filter(|item| item.paid) {
            let currency = if conversion.currency.is_empty() { "GBP".to_owned() } else { conversion.currency.clone() };
            let entry =
                paid_by_publisher.entry((conversion.publisher_id.clone(), currency)).or_insert((Amount::ZERO, 0));
            entry.0 = entry.0.plus(item.item_publisher_commission);
            entry.1 += 1;
        }
    }
    for (index, ((publisher_id, currency), (net, items))) in paid_by_publisher.into_iter().enumerate() {
        let mut rng = seed::record_rng(seed_value, series::SELFBILLS, index as u64);
        let status = ["paid", "paid", "paid", "processing", "pending"][rng.random_range(0..5)];
        let paid = status == "paid";
        let net = if currency_scale(&currency) == 0 { Amount::whole(net.units / 10_i64.pow(net.scale)) } else { net };
        let selfbill_id = store.next_id("selfbill", "111", 2000);
        let created = anchor - Duration::days(rng.random_range(10..300));
        store.selfbills.push(SelfBill {
            publisher_self_bill_id: selfbill_id,
            publisher_id,
            status: status.into(),
            net_value: net,
            vat_value: if currency == "GBP" { Amount { units: net.units / 5, scale: net.scale } } else { Amount::ZERO },
            withheld_tax: Amount::ZERO,
            items_in_bill: items,
            tracked_currency: currency.clone(),
            paid_currency: currency,
            payment_date: paid.then(|| created + Duration::days(14)),
            payment_batch_id: paid.then(|| format!("PB-{}", 7000 + index)),
            created,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_account() {
        let first = store(3, 40);
        let again = store(3, 40);
        assert_eq!(first.publishers, again.publishers);
        assert_eq!(first.conversions, again.conversions);
        assert_eq!(first.publishers.len(), 40);
        assert_eq!(first.conversions.len(), 40);
        assert_ne!(store(4, 40).publishers, first.publishers);
    }

    #[test]
    fn the_account_is_messy_in_the_documented_ways() {
        let store = store(7, 60);
        let statuses: std::collections::BTreeSet<&str> =
            store.conversions.iter().map(|conversion| conversion.conversion_status.as_str()).collect();
        assert_eq!(statuses.into_iter().collect::<Vec<_>>(), ["approved", "pending", "rejected"]);
        assert!(store.conversions.iter().any(|conversion| conversion.currency.is_empty()));
        assert!(store.conversions.iter().any(|conversion| conversion.currency == "JPY"));
        assert!(store.publishers.iter().any(|publisher| publisher.contact_email.is_none()));
        assert!(store.publishers.iter().any(|publisher| publisher.company_name.is_none()));
        assert!(store.selfbills.iter().any(|bill| bill.status == "paid"));
        assert!(store.selfbills.iter().any(|bill| bill.status != "paid"));
        assert!(store.clicks.iter().any(|click| click.clickref.is_none()));
        assert!(store.conversions.iter().flat_map(|conversion| &conversion.items).any(|item| item.paid));
    }
}
