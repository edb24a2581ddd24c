//! The plugin driven through its `Plugin`, `Source` and `Destination` impls
//! on a temporary archive: writes, reads and the file they leave.

use super::*;
use serde_json::{Value as JsonValue, json};

/// A record of `entity` with the top-level fields `body`, sub-second
/// instants and typed custom fields.
fn record(entity: EntityKind, source_id: &str, body: JsonValue) -> Record {
    let record: Record = serde_json::from_value(json!({
        "source_platform": "legacy",
        "source_id": source_id,
        "updated_at": "2026-01-02T03:04:05.123456789Z",
        "entity": { entity.as_str(): body.clone() },
        "custom_fields": { "score": { "decimal": "12.50" }, "vip": { "boolean": true } },
    }))
    .unwrap();
    // A misspelt field would be dropped silently by `#[serde(default)]`.
    assert_eq!(serde_json::to_value(&record.entity).unwrap()[entity.as_str()], body, "{}", entity.as_str());
    record
}

fn reference(entity: &str, source_id: &str) -> JsonValue {
    json!({ "entity": entity, "source_id": source_id })
}

fn euros(amount: &str) -> JsonValue {
    json!({ "amount": amount, "currency": "EUR" })
}

/// For every entity, a body that fills its fields of each column kind.
fn sample_body(entity: EntityKind) -> JsonValue {
    let at = "2026-03-04T05:06:07.250Z";
    let awkward = "O'Brien, \"Jr\"\nline two — Zoë";
    match entity {
        EntityKind::Contact => {
            json!({ "email": "Ada@Example.org", "first_name": "Zoë", "last_name": awkward, "created_at": at })
        }
        EntityKind::Company => json!({
            "address": { "city": "Zürich", "country": "CH" }, "annual_revenue": euros("1000000.00"),
            "created_at": at, "employee_count": 250, "name": "Ada GmbH", "owner": reference("owner", "o1"),
        }),
        EntityKind::Deal => json!({
            "amount": euros("19.90"), "close_date": "2026-01-28", "contacts": [reference("contact", "c1")],
            "name": "Deal", "status": "won",
        }),
        EntityKind::Owner => json!({ "active": false, "email": "owner@example.org", "first_name": "美咲" }),
        EntityKind::Note => json!({
            "attached_to": [reference("contact", "c1"), reference("deal", "d1")], "body": awkward,
            "kind": "call", "occurred_at": at,
        }),
        EntityKind::Association => {
            json!({ "from": reference("contact", "c1"), "label": "primary", "to": reference("company", "co1") })
        }
        EntityKind::List => json!({ "created_at": at, "double_opt_in": true, "name": "Newsletter" }),
        EntityKind::Membership => json!({
            "consent": { "email": { "changed_at": at, "ip": "192.0.2.1", "method": "double_opt_in", "source": "form", "status": "subscribed" } },
            "email": "ada@example.org", "list": reference("list", "l1"), "tags": ["vip", ""],
        }),
        EntityKind::Tag => json!({ "list": reference("list", "l1"), "name": "vip" }),
        EntityKind::Segment => json!({
            "definition": { "match": "all", "conditions": [{ "field": "score", "gt": 1.5 }] },
            "list": reference("list", "l1"), "name": "Engaged",
        }),
        EntityKind::Campaign => json!({
            "lists": [reference("list", "l1")], "name": "Spring", "send_at": at,
            "status": "sent", "subject": "Hello Дмитрий",
        }),
        EntityKind::EngagementEvent => json!({
            "campaign": reference("campaign", "cp1"), "contact": reference("contact", "c1"), "kind": "click",
            "occurred_at": at, "url": "https://example.org/?a=1&b=2",
        }),
        EntityKind::Partner => json!({
            "created_at": at, "name": "José Media", "payout": { "account_reference": "pay@example.org", "currency": "USD", "method": "paypal" },
            "status": "active", "tier": "gold",
        }),
        EntityKind::Program => json!({
            "active": true, "commission_flat": euros("5.00"), "commission_percent": "12.50", "cookie_days": 30,
            "kind": "offer", "name": "Program",
        }),
        EntityKind::TrackingLink => {
            json!({ "partner": reference("partner", "p1"), "program": reference("program", "pr1"), "url": "https://trk.example.org/1" })
        }
        EntityKind::CouponCode => {
            json!({ "active": true, "code": "PARTNER1", "discount": { "percentage": "10" }, "partner": reference("partner", "p1") })
        }
        EntityKind::Click => json!({
            "click_id": "clk-1", "clicked_at": at, "ip": "2001:db8::1", "sub_ids": ["newsletter", ""],
            "tracking_link": reference("tracking_link", "t1"),
        }),
        EntityKind::Conversion => json!({
            "amount": euros("49.90"), "click": reference("click", "clk1"), "converted_at": at, "order_id": "1001",
            "status": "approved",
        }),
        EntityKind::Commission => {
            json!({ "amount": euros("4.99"), "created_at": at, "level": 2, "partner": reference("partner", "p1"), "status": "paid" })
        }
        EntityKind::Payout => {
            json!({ "amount": euros("100.00"), "method": "paypal", "paid_at": at, "partner": reference("partner", "p1"), "status": "paid" })
        }
        EntityKind::Customer => json!({
            "address": { "city": "Köln", "country": "DE" }, "email": "c@example.org", "orders_count": 3,
            "tags": ["wholesale"], "total_spent": euros("123.45"),
        }),
        EntityKind::Order => json!({
            "customer": reference("customer", "cu1"), "discount_codes": ["SAVE5"],
            "line_items": [{ "name": "Tea", "quantity": "1.5", "sku": "SKU-1", "unit_price": { "amount": "2000", "currency": "JPY" } }],
            "order_number": "#1001", "placed_at": at, "status": "partially_refunded", "total": { "amount": "3000", "currency": "JPY" },
        }),
        EntityKind::DiscountCode => json!({
            "active": false, "code": "SAVE5", "discount": { "fixed_amount": { "amount": "5.00", "currency": "GBP" } },
            "starts_at": at, "times_used": 0, "usage_limit": 100,
        }),
        EntityKind::CustomFieldDefinition => json!({
            "entity": "contact", "field_type": "text", "label": "Field", "name": "field_1",
            "options": [{ "label": "A", "value": "a" }], "required": true,
        }),
        EntityKind::Integration => {
            json!({ "active": true, "events": ["subscribe"], "kind": "webhook", "name": "Hook", "target_url": "https://hooks.example.org/1" })
        }
    }
}

/// An archive at `archive.sqlite` in `folder`, opened as the host would.
fn open(folder: &Path) -> SqliteArchive {
    let config: SqliteArchiveConfig = serde_json::from_value(json!({ "path": "archive.sqlite" })).unwrap();
    SqliteArchive::open(config, &Context::new(folder.to_path_buf())).unwrap()
}

/// What each write did, by name.
fn results(outcomes: Vec<WriteOutcome>) -> Vec<String> {
    outcomes
        .into_iter()
        .map(|outcome| match outcome.result {
            WriteResult::Rejected { reason } => format!("rejected: {}", reason.code),
            result => result.as_str().to_owned(),
        })
        .collect()
}

/// Every record and reject of `stream`, read `batch_size` at a time.
fn read_all(archive: &mut SqliteArchive, stream: &str, batch_size: usize) -> (Vec<Record>, Vec<SourceReject>) {
    let (mut records, mut rejects, mut cursor) = (Vec::new(), Vec::new(), None);
    loop {
        let batch = archive.read(stream, cursor.as_deref(), batch_size).unwrap();
        records.extend(batch.records);
        rejects.extend(batch.rejects);
        cursor = batch.next_cursor;
        if batch.done {
            return (records, rejects);
        }
    }
}

/// Writes `written` to `stream` of a fresh archive and checks that reading
/// it back gives exactly the same records.
fn check_round_trip(stream: &str, written: Vec<Record>) {
    let folder = tempfile::tempdir().unwrap();
    let mut archive = open(folder.path());
    let outcomes = archive.write(stream, written.clone()).unwrap();
    assert!(results(outcomes).iter().all(|result| result == "created"), "{stream}");
    archive.close().unwrap();
    let mut reopened = open(folder.path());
    let (records, rejects) = read_all(&mut reopened, stream, 2);
    assert!(rejects.is_empty(), "{stream}: {rejects:?}");
    assert_eq!(records, written, "{stream}");
}

#[test]
fn a_record_of_every_entity_round_trips() {
    for &entity in EntityKind::ALL {
        let full = record(entity, "full", sample_body(entity));
        let empty = record(entity, "empty", json!({}));
        check_round_trip(entity.as_str(), vec![full, empty]);
    }
}

#[test]
fn writes_are_created_then_unchanged_then_updated() {
    let folder = tempfile::tempdir().unwrap();
    let mut archive = open(folder.path());
    let first = record(EntityKind::Contact, "1", json!({ "email": "a@example.org" }));
    let second = record(EntityKind::Contact, "2", json!({ "email": "b@example.org" }));
    let batch = vec![first.clone(), second.clone()];
    assert_eq!(results(archive.write("contact", batch.clone()).unwrap()), ["created", "created"]);
    assert_eq!(results(archive.write("contact", batch).unwrap()), ["unchanged", "unchanged"]);
    let changed = record(EntityKind::Contact, "2", json!({ "first_name": "Bea" }));
    assert_eq!(results(archive.write("contact", vec![changed.clone()]).unwrap()), ["updated"]);
    archive.close().unwrap();

    // The update cleared the email and kept the row in place.
    let mut reopened = open(folder.path());
    assert_eq!(read_all(&mut reopened, "contact", 10).0, vec![first.clone(), changed]);
    assert_eq!(results(reopened.write("contact", vec![first]).unwrap()), ["unchanged"]);
}

#[test]
fn a_record_of_another_entity_is_rejected() {
    let folder = tempfile::tempdir().unwrap();
    let mut archive = open(folder.path());
    let company = record(EntityKind::Company, "1", json!({ "name": "Ada GmbH" }));
    let contact = record(EntityKind::Contact, "2", json!({}));
    assert_eq!(
        results(archive.write("contact", vec![company, contact]).unwrap()),
        ["rejected: wrong_entity", "created"]
    );
}

#[test]
fn columns_are_typed_and_stable_from_the_first_write() {
    let folder = tempfile::tempdir().unwrap();
    let mut archive = open(folder.path());
    archive.write("company", vec![record(EntityKind::Company, "1", json!({ "name": "Ada GmbH" }))]).unwrap();
    let connection = connect(&mut archive.connection, &archive.path).unwrap();
    let mut statement = connection.prepare("SELECT name, type, pk FROM pragma_table_info('company')").unwrap();
    let columns: Vec<(String, String, i64)> = statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let column =
        |name: &str| columns.iter().find(|column| column.0 == name).map(|column| (column.1.as_str(), column.2));
    assert_eq!(column("source_platform"), Some(("TEXT", 1)));
    assert_eq!(column("source_id"), Some(("TEXT", 2)));
    assert_eq!(column("updated_at"), Some(("TEXT", 0)));
    assert_eq!(column("employee_count"), Some(("INTEGER", 0)), "a field no record had yet");
    assert_eq!(column("annual_revenue"), Some(("TEXT", 0)));
    assert_eq!(column("custom_fields"), Some(("TEXT", 0)));
    assert_eq!(column("fingerprint"), Some(("TEXT", 0)));
    let journal: String = connection.query_row("PRAGMA journal_mode", [], |row| row.get(0)).unwrap();
    assert_eq!(journal, "wal");
}

#[test]
fn values_are_stored_as_their_sql_types() {
    let folder = tempfile::tempdir().unwrap();
    let mut archive = open(folder.path());
    archive.write("program", vec![record(EntityKind::Program, "1", sample_body(EntityKind::Program))]).unwrap();
    let stored: (String, String, i64, i64, String, String) = connect(&mut archive.connection, &archive.path)
        .unwrap()
        .query_row(
            "SELECT updated_at, commission_percent, cookie_days, active, commission_flat, custom_fields FROM program",
            [],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?)),
        )
        .unwrap();
    assert_eq!(
        stored,
        (
            "2026-01-02T03:04:05.123456789Z".to_owned(),
            "12.50".to_owned(),
            30,
            1,
            r#"{"amount":"5.00","currency":"EUR"}"#.to_owned(),
            r#"{"score":{"decimal":"12.50"},"vip":{"boolean":true}}"#.to_owned(),
        )
    );
}

#[test]
fn a_table_from_an_older_schema_gains_the_new_columns() {
    let folder = tempfile::tempdir().unwrap();
    let connection = Connection::open(folder.path().join("archive.sqlite")).unwrap();
    connection
        .execute_batch(
            "CREATE TABLE contact (source_platform TEXT NOT NULL, source_id TEXT NOT NULL, updated_at TEXT NOT NULL,
                email TEXT, custom_fields TEXT, fingerprint TEXT, PRIMARY KEY (source_platform, source_id));
             INSERT INTO contact VALUES ('legacy', 'old', '2025-01-01T00:00:00Z', 'old@example.org', NULL, NULL);",
        )
        .unwrap();
    drop(connection);

    let mut archive = open(folder.path());
    let new = record(EntityKind::Contact, "new", json!({ "email": "new@example.org", "first_name": "Zoë" }));
    assert_eq!(results(archive.write("contact", vec![new.clone()]).unwrap()), ["created"]);
    let columns = table::existing_columns(connect(&mut archive.connection, &archive.path).unwrap(), "contact").unwrap();
    for field in ["first_name", "last_name", "phone", "company", "created_at"] {
        assert!(columns.iter().any(|column| column == field), "{field} in {columns:?}");
    }
    let old = record(EntityKind::Contact, "old", json!({ "email": "old@example.org" }));
    let mut expected_old = old.clone();
    expected_old.updated_at = "2025-01-01T00:00:00Z".parse().unwrap();
    expected_old.custom_fields.clear();
    assert_eq!(read_all(&mut archive, "contact", 10).0, vec![expected_old, new]);
}

#[test]
fn a_row_that_is_no_record_is_a_reject_at_its_rowid() {
    let folder = tempfile::tempdir().unwrap();
    let mut archive = open(folder.path());
    let good = record(EntityKind::Owner, "1", json!({ "active": true }));
    archive.write("owner", vec![good.clone()]).unwrap();
    connect(&mut archive.connection, &archive.path)
        .unwrap()
        .execute_batch(
            "INSERT INTO owner (source_platform, source_id, updated_at, active) VALUES ('legacy', '2', '2026-01-01T00:00:00Z', 7);
             INSERT INTO owner (source_platform, source_id, updated_at) VALUES ('legacy', '3', 'yesterday');
             INSERT INTO owner (source_platform, source_id, updated_at, custom_fields) VALUES ('legacy', '4', '2026-01-01T00:00:00Z', '{');",
        )
        .unwrap();
    let (records, rejects) = read_all(&mut archive, "owner", 3);
    assert_eq!(records, vec![good]);
    let found: Vec<(&str, &str)> =
        rejects.iter().map(|reject| (reject.location.as_str(), reject.reason.code.as_str())).collect();
    assert_eq!(found, [("owner:2", "malformed_row"), ("owner:3", "malformed_record"), ("owner:4", "malformed_row")]);
    let raw: JsonValue = serde_json::from_str(&rejects[0].raw).unwrap();
    assert_eq!((raw["rowid"].clone(), raw["active"].clone()), (json!(2), json!(7)));
}

#[test]
fn reads_resume_from_any_cursor_and_refuse_garbage() {
    let folder = tempfile::tempdir().unwrap();
    let mut archive = open(folder.path());
    let written: Vec<Record> = (0..5)
        .map(|index| record(EntityKind::Tag, &format!("t{index}"), json!({ "name": format!("tag {index}") })))
        .collect();
    archive.write("tag", written.clone()).unwrap();
    for (skipped, cursor) in [(0, None), (2, Some("2")), (5, Some("5")), (5, Some("99"))] {
        let mut records = Vec::new();
        let mut cursor = cursor.map(str::to_owned);
        loop {
            let batch = archive.read("tag", cursor.as_deref(), 2).unwrap();
            records.extend(batch.records);
            cursor = batch.next_cursor;
            if batch.done {
                break;
            }
        }
        assert_eq!(records, written[skipped..], "from {cursor:?}");
    }
    let error = archive.read("tag", Some("not a rowid"), 2).unwrap_err();
    assert_eq!((error.code, error.stream.as_deref()), (ErrorCode::InvalidCursor, Some("tag")));
}

#[test]
fn discover_counts_rows_per_table() {
    let folder = tempfile::tempdir().unwrap();
    let mut archive = open(folder.path());
    assert!(archive.discover().unwrap().streams.iter().all(|count| count.records.is_none()));
    archive
        .write("note", vec![record(EntityKind::Note, "1", json!({})), record(EntityKind::Note, "2", json!({}))])
        .unwrap();
    let inventory = archive.discover().unwrap();
    let count =
        |stream: &str| inventory.streams.iter().find(|count| count.stream == stream).and_then(|count| count.records);
    assert_eq!((count("note"), count("order"), inventory.streams.len()), (Some(2), Some(0), EntityKind::ALL.len()));
}

#[test]
fn check_needs_a_writable_place() {
    let folder = tempfile::tempdir().unwrap();
    let mut archive = open(folder.path());
    let before = archive.check().unwrap();
    assert!(before.checks.iter().all(|item| item.ok), "{before:?}");
    assert!(!folder.path().join("archive.sqlite").exists(), "check changes nothing");
    archive.write("list", vec![record(EntityKind::List, "1", json!({}))]).unwrap();
    archive.close().unwrap();
    let after = archive.check().unwrap();
    assert!(after.checks.iter().all(|item| item.ok && item.detail.is_none()), "{after:?}");

    std::fs::write(folder.path().join("archive.sqlite"), b"not a database, but long enough to look like a header")
        .unwrap();
    let refused = open(folder.path()).check().unwrap();
    assert!(refused.checks.iter().all(|item| !item.ok), "{refused:?}");
}
