use super::*;
use chrono::TimeZone;
use cutover_schema::{EntityKind, Money, Reference};
use proptest::prelude::*;

fn at(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, day, 12, 0, 0).single().expect("a valid date")
}

fn conversion(
    partner: Option<&str>,
    amount: Option<(i64, u32, Currency)>,
    status: ConversionStatus,
    day: u32,
) -> Conversion {
    Conversion {
        partner: partner.map(|id| Reference::new(EntityKind::Partner, id)),
        amount: amount.map(|(units, scale, currency)| Money::new(Decimal::new(units, scale), currency)),
        status: Some(status),
        converted_at: Some(at(day)),
        ..Conversion::default()
    }
}

fn usd(units: i64) -> Option<(i64, u32, Currency)> {
    Some((units, 0, Currency::USD))
}

#[test]
fn partners_are_cut_by_cumulative_share_of_revenue() {
    let partners = ["a", "b", "c", "d", "e"];
    let conversions = [
        ("c1", conversion(Some("a"), usd(60), ConversionStatus::Approved, 1)),
        ("c2", conversion(Some("b"), usd(25), ConversionStatus::Pending, 2)),
        ("c3", conversion(Some("c"), usd(10), ConversionStatus::Approved, 3)),
        ("c4", conversion(Some("d"), usd(5), ConversionStatus::Approved, 4)),
    ];
    let ranking =
        rank(partners, conversions.iter().map(|(id, c)| (*id, c)), &TierRule::new(Currency::USD)).expect("ranked");
    let tiers: Vec<(&str, Tier)> = ranking.partners.iter().map(|p| (p.partner.as_str(), p.tier)).collect();
    assert_eq!(
        tiers,
        [("a", Tier::Top), ("b", Tier::Mid), ("c", Tier::LongTail), ("d", Tier::LongTail), ("e", Tier::LongTail)]
    );
    assert_eq!(ranking.total, Decimal::new(100, 0));
    assert_eq!(ranking.partners[1].share_before, Decimal::new(6, 1));
    assert_eq!(ranking.counted, 4);
    assert_eq!(ranking.tier_of("e"), Some(Tier::LongTail));
    assert_eq!(ranking.tier(Tier::Top).count(), 1);
}

#[test]
fn other_currencies_count_at_the_rule_s_rates_and_a_missing_rate_names_what_to_add() {
    let mut rule = TierRule::new(Currency::USD);
    rule.rates.insert(Currency::EUR, Decimal::new(108, 2));
    rule.rates.insert(Currency::JPY, Decimal::new(67, 4));
    let conversions = [
        ("eur", conversion(Some("a"), Some((1000, 2, Currency::EUR)), ConversionStatus::Approved, 1)),
        ("jpy", conversion(Some("b"), Some((1500, 0, Currency::JPY)), ConversionStatus::Approved, 1)),
    ];
    let ranking = rank(["a", "b"], conversions.iter().map(|(id, c)| (*id, c)), &rule).expect("ranked");
    assert_eq!(ranking.partners[0].revenue, Decimal::new(10800, 3));
    assert_eq!(ranking.partners[1].revenue, Decimal::new(100500, 4));
    assert_eq!(ranking.total, Decimal::new(208500, 4));

    let gbp = [("gbp-1", conversion(Some("a"), Some((5, 0, Currency::GBP)), ConversionStatus::Approved, 1))];
    let error = rank(["a"], gbp.iter().map(|(id, c)| (*id, c)), &rule).expect_err("no GBP rate");
    assert_eq!(
        error.to_string(),
        "conversion `gbp-1` is in GBP, and the tier rule has no rate from GBP to USD: add `GBP = \"<USD per GBP>\"` under `rates`"
    );
}

#[test]
fn every_conversion_not_counted_is_listed_with_why() {
    let mut rule = TierRule::new(Currency::USD);
    rule.since = Some(at(2));
    rule.until = Some(at(10));
    let conversions = [
        ("early", conversion(Some("a"), usd(1), ConversionStatus::Approved, 1)),
        ("late", conversion(Some("a"), usd(1), ConversionStatus::Approved, 10)),
        ("rejected", conversion(Some("a"), usd(1), ConversionStatus::Rejected, 3)),
        ("reversed", conversion(Some("a"), usd(1), ConversionStatus::Reversed, 3)),
        ("orphan", conversion(None, usd(1), ConversionStatus::Approved, 3)),
        ("free", conversion(Some("a"), None, ConversionStatus::Approved, 3)),
        ("stranger", conversion(Some("zz"), usd(1), ConversionStatus::Approved, 3)),
        ("kept", conversion(Some("a"), usd(7), ConversionStatus::Approved, 3)),
    ];
    let undated = Conversion { converted_at: None, ..conversion(Some("a"), usd(1), ConversionStatus::Approved, 3) };
    let all: Vec<(&str, &Conversion)> =
        conversions.iter().map(|(id, c)| (*id, c)).chain([("undated", &undated)]).collect();
    let ranking = rank(["a"], all, &rule).expect("ranked");
    assert_eq!(ranking.counted, 1);
    assert_eq!(ranking.total, Decimal::new(7, 0));
    let reasons: Vec<(&str, NotCounted)> = ranking.not_counted.iter().map(|(id, why)| (id.as_str(), *why)).collect();
    assert_eq!(
        reasons,
        [
            ("early", NotCounted::OutsideWindow),
            ("late", NotCounted::OutsideWindow),
            ("rejected", NotCounted::StatusNotCounted),
            ("reversed", NotCounted::StatusNotCounted),
            ("orphan", NotCounted::NoPartner),
            ("free", NotCounted::NoAmount),
            ("stranger", NotCounted::UnknownPartner),
            ("undated", NotCounted::OutsideWindow),
        ]
    );
}

#[test]
fn bad_rules_and_tier_names_are_refused_with_what_is_allowed() {
    let mut rule = TierRule::new(Currency::USD);
    rule.top_share = Decimal::new(9, 1);
    let error = rank(["a"], [], &rule).expect_err("top above mid");
    assert_eq!(error.to_string(), "tier shares must be 0 < top_share ≤ mid_share ≤ 1, not top 0.9 and mid 0.8");
    let mut rule = TierRule::new(Currency::USD);
    rule.rates.insert(Currency::EUR, Decimal::ZERO);
    assert!(matches!(rank(["a"], [], &rule), Err(TierError::Rate { .. })));
    assert_eq!("top".parse::<Tier>(), Ok(Tier::Top));
    assert_eq!("long-tail".parse::<Tier>(), Ok(Tier::LongTail));
    assert_eq!(
        "gold".parse::<Tier>().map_err(|e| e.to_string()),
        Err("`gold` is not a tier: use top, mid or long_tail".into())
    );
}

#[test]
fn a_program_with_no_revenue_is_all_long_tail() {
    let ranking = rank(["a", "b"], [], &TierRule::new(Currency::USD)).expect("ranked");
    assert!(ranking.partners.iter().all(|partner| partner.tier == Tier::LongTail));
}

proptest! {
    /// Whatever the revenues: every partner is ranked once, highest first,
    /// tiers never go back up the ranking, the top tier is the fewest
    /// partners that reach the top share, and the sums are exact.
    #[test]
    fn tiers_hold_for_any_revenues(cents in proptest::collection::vec(0_i64..1_000_000, 1..60)) {
        let ids: Vec<String> = (0..cents.len()).map(|index| format!("p{index:02}")).collect();
        let conversions: Vec<(String, Conversion)> = cents
            .iter()
            .enumerate()
            .filter(|(_, cents)| **cents > 0)
            .map(|(index, cents)| {
                (format!("c{index}"), conversion(Some(&ids[index]), Some((*cents, 2, Currency::USD)), ConversionStatus::Approved, 5))
            })
            .collect();
        let rule = TierRule::new(Currency::USD);
        let ranking = rank(ids.iter().map(String::as_str), conversions.iter().map(|(id, c)| (id.as_str(), c)), &rule).unwrap();
        prop_assert_eq!(ranking.partners.len(), ids.len());
        let total: Decimal = cents.iter().map(|cents| Decimal::new(*cents, 2)).sum();
        prop_assert_eq!(ranking.total, total);
        for pair in ranking.partners.windows(2) {
            prop_assert!(pair[0].revenue >= pair[1].revenue);
            prop_assert!(pair[0].tier <= pair[1].tier);
        }
        if total > Decimal::ZERO {
            let top: Vec<Decimal> = ranking.tier(Tier::Top).map(|partner| partner.revenue).collect();
            let top_sum: Decimal = top.iter().sum();
            prop_assert!(top_sum >= total * rule.top_share);
            let without_last: Decimal = top.iter().take(top.len().saturating_sub(1)).sum();
            prop_assert!(without_last < total * rule.top_share);
        }
    }
}
