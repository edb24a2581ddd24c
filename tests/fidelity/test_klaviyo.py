"""Klaviyo fidelity: the emulator driven by Klaviyo's own Python SDK
(`klaviyo-api`, answers parsed into its pydantic models) and by the Singer
tap `tap-klaviyo` (singer-io).

The SDK is pinned in `tests/fidelity/requirements.txt`. The SDK points at the emulator through
`KlaviyoAPI(test_host=...)` (its `Configuration.host`), and sends its own
`revision` header (`KlaviyoAPI._REVISION`, 2026-10-15 in 25.0.0), which the
emulator accepts.

tap-klaviyo cannot be pointed at another host: its endpoints are the
module-level dict `tap_klaviyo.ENDPOINTS` of `https://a.klaviyo.com` URLs. It
runs through `TAP_WRAPPER`, a few lines of Python that rewrite that dict and
then call `tap_klaviyo.main()`. Its virtualenv comes from
`tests/fidelity/taps/requirements-tap-klaviyo.txt`, which run.sh installs into
`target/fidelity/tap-klaviyo`.
"""

import json
import os
import pathlib
import subprocess
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest
from klaviyo_api import KlaviyoAPI
from openapi_client.exceptions import ApiException

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
VENVS = pathlib.Path(os.environ.get("FIDELITY_VENVS", ROOT / "target" / "fidelity"))


def tap_python() -> pathlib.Path:
    """The tap's virtualenv interpreter (`run.sh` installs it)."""
    python = VENVS / "tap-klaviyo" / "bin" / "python"
    if not python.exists():
        pytest.fail(f"{python} is missing: run the suite through tests/fidelity/run.sh, which installs the tap")
    return python


# tap-klaviyo hard-codes https://a.klaviyo.com in `tap_klaviyo.ENDPOINTS`:
# rewrite it to the emulator (first argument), then run the tap's main.
TAP_WRAPPER = """
import sys
import tap_klaviyo
base = sys.argv.pop(1)
for name, url in tap_klaviyo.ENDPOINTS.items():
    tap_klaviyo.ENDPOINTS[name] = url.replace("https://a.klaviyo.com", base)
tap_klaviyo.main()
"""


def seeded(emulator) -> dict:
    """What the store holds (`GET /__emulator/klaviyo/seeded`)."""
    with urllib.request.urlopen(f"{emulator.base_url}/__emulator/klaviyo/seeded") as response:
        return json.load(response)


def sdk(emulator) -> KlaviyoAPI:
    return KlaviyoAPI(emulator.api_key, max_delay=1, max_retries=3, test_host=emulator.base_url)


def cursor_of(links) -> str | None:
    """`page[cursor]` of a `links.next` URL (the SDK's own helper only
    recognises https:// links, and the emulator is http://)."""
    if not links or not links.next:
        return None
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(links.next).query)
    return query["page[cursor]"][0]


def walk(call, **kwargs):
    """Every page of a collection, following `links.next`; yields models."""
    cursor = None
    pages = 0
    while True:
        page = call(**kwargs, page_cursor=cursor) if cursor else call(**kwargs)
        assert not isinstance(page, dict), "the SDK returned raw JSON, not its model"
        pages += 1
        assert pages < 1000
        yield page
        cursor = cursor_of(page.links)
        if cursor is None:
            return


@pytest.fixture
def klaviyo(start_emulator):
    emulator = start_emulator("klaviyo", records=200)
    return emulator, sdk(emulator)


def test_accounts(klaviyo):
    emulator, client = klaviyo
    accounts = client.Accounts.get_accounts()
    assert len(accounts.data) == 1
    account = accounts.data[0]
    assert getattr(account.type, "value", account.type) == "account"
    assert account.attributes.contact_information.organization_name
    assert account.attributes.timezone


def test_bad_key_is_401(start_emulator):
    emulator = start_emulator("klaviyo", records=10)
    client = KlaviyoAPI("pk_wrong", max_delay=0.1, max_retries=0, test_host=emulator.base_url)
    with pytest.raises(ApiException) as caught:
        client.Accounts.get_accounts()
    assert caught.value.status == 401


def test_lists_paging(klaviyo):
    emulator, client = klaviyo
    counts = seeded(emulator)
    ids = []
    for page in walk(client.Lists.get_lists, page_size=2):
        assert len(page.data) <= 2
        ids += [item.id for item in page.data]
        for item in page.data:
            assert item.attributes.name
            assert item.attributes.opt_in_process in ("single_opt_in", "double_opt_in")
    assert len(ids) == len(set(ids)) == counts["lists"]


def test_profiles_paging(klaviyo):
    emulator, client = klaviyo
    counts = seeded(emulator)
    ids = []
    for page in walk(client.Profiles.get_profiles, page_size=37):
        ids += [item.id for item in page.data]
    assert len(ids) == len(set(ids)) == counts["profiles"]


def test_profile_filters_and_subscriptions(klaviyo):
    emulator, client = klaviyo
    first = client.Profiles.get_profiles(page_size=5, additional_fields_profile=["subscriptions"])
    profiles = [profile for profile in first.data if profile.attributes.email]
    assert profiles
    for profile in first.data:
        marketing = profile.attributes.subscriptions.email.marketing
        assert marketing.consent in ("SUBSCRIBED", "UNSUBSCRIBED", "NEVER_SUBSCRIBED")
        assert isinstance(marketing.can_receive_email_marketing, bool)
    email = profiles[0].attributes.email
    # The forms the plugin sends: equals(email,"..."), any(email,[...]), any(id,[...]).
    one = client.Profiles.get_profiles(filter=f'equals(email,"{email}")')
    assert [profile.id for profile in one.data] == [profiles[0].id]
    emails = ",".join(f'"{profile.attributes.email}"' for profile in profiles)
    several = client.Profiles.get_profiles(filter=f"any(email,[{emails}])", page_size=100,
                                           additional_fields_profile=["subscriptions"])
    assert sorted(profile.id for profile in several.data) == sorted(profile.id for profile in profiles)
    ids = ",".join(f'"{profile.id}"' for profile in profiles)
    by_id = client.Profiles.get_profiles(filter=f"any(id,[{ids}])", page_size=100)
    assert sorted(profile.id for profile in by_id.data) == sorted(profile.id for profile in profiles)
    single = client.Profiles.get_profile(profiles[0].id, additional_fields_profile=["subscriptions"])
    assert single.data.id == profiles[0].id
    assert single.data.attributes.subscriptions.email.marketing.consent
    with pytest.raises(ApiException) as caught:
        client.Profiles.get_profiles(filter="equals(nonsense,1)")
    assert caught.value.status == 400


def test_suppression_filters(klaviyo):
    emulator, client = klaviyo
    counts = seeded(emulator)
    for reason, expected in counts["suppressed_by_reason"].items():
        found = []
        for page in walk(client.Profiles.get_profiles, page_size=100, additional_fields_profile=["subscriptions"],
                         filter=f"equals(subscriptions.email.marketing.suppression.reason,'{reason}')"):
            for profile in page.data:
                reasons = [item.reason for item in profile.attributes.subscriptions.email.marketing.suppression]
                assert reason in [getattr(item, "value", item) for item in reasons]
                found.append(profile.id)
        assert len(found) == expected, reason


def test_list_members(klaviyo):
    emulator, client = klaviyo
    counts = seeded(emulator)
    for list_id, expected in counts["list_members"].items():
        members = []
        for page in walk(client.Lists.get_list_profiles, id=list_id, page_size=50,
                         additional_fields_profile=["subscriptions"]):
            for profile in page.data:
                assert profile.attributes.joined_group_at is not None
                assert profile.attributes.subscriptions.email.marketing.consent
                members.append(profile.id)
        assert len(members) == len(set(members)) == expected


def test_metrics_and_events(klaviyo):
    emulator, client = klaviyo
    counts = seeded(emulator)
    metrics = {}
    for page in walk(client.Metrics.get_metrics):
        for metric in page.data:
            metrics[metric.id] = metric.attributes.name
            assert metric.attributes.integration
    assert len(metrics) == counts["metrics"]
    # Every event, 1000 a page (the SDK's revision allows it), with its metric included.
    total = 0
    for page in walk(client.Events.get_events, page_size=1000, include=["metric"], sort="datetime"):
        # The SDK models `included` as plain dicts.
        included = {item["id"] for item in (page.included or []) if item["type"] == "metric"}
        for event in page.data:
            assert event.attributes.datetime_ is not None
            assert int(event.attributes.datetime_.timestamp()) == event.attributes.timestamp
            assert isinstance(event.attributes.timestamp, int)
            assert event.relationships.metric.data.id in included
        total += len(page.data)
    assert total == counts["events"]
    # By metric and a datetime window, as the plugin asks.
    name_to_id = {name: metric_id for metric_id, name in metrics.items()}
    for name, expected in counts["events_by_metric"].items():
        if not expected:
            continue
        seen = 0
        for page in walk(client.Events.get_events, page_size=200, sort="datetime",
                         filter=f'and(equals(metric_id,"{name_to_id[name]}"),'
                                f'greater-or-equal(datetime,2000-01-01T00:00:00Z),'
                                f'less-or-equal(datetime,2100-01-01T00:00:00Z))'):
            for event in page.data:
                assert event.relationships.metric.data.id == name_to_id[name]
            seen += len(page.data)
        assert seen == expected, name


def test_list_create_and_update(klaviyo):
    emulator, client = klaviyo
    before = seeded(emulator)["lists"]
    created = client.Lists.create_list({"data": {"type": "list", "attributes": {"name": "Fidelity list"}}})
    assert created.data.attributes.name == "Fidelity list"
    list_id = created.data.id
    updated = client.Lists.update_list(
        list_id, {"data": {"type": "list", "id": list_id, "attributes": {"name": "Fidelity list, renamed"}}})
    assert updated.data.attributes.name == "Fidelity list, renamed"
    assert client.Lists.get_list(list_id).data.attributes.name == "Fidelity list, renamed"
    assert seeded(emulator)["lists"] == before + 1


def profile_by_email(client, email):
    found = client.Profiles.get_profiles(filter=f'equals(email,"{email}")', additional_fields_profile=["subscriptions"])
    assert len(found.data) == 1, email
    return found.data[0]


def test_profile_bulk_import_job(klaviyo):
    emulator, client = klaviyo
    list_id = next(iter(seeded(emulator)["list_members"]))
    before = seeded(emulator)
    profiles = [
        {"type": "profile", "attributes": {"email": f"fidelity{n}@example.com", "first_name": f"F{n}",
                                           "properties": {"plan": "gold", "n": n}}}
        for n in range(5)
    ]
    job = client.Profiles.bulk_import_profiles({"data": {
        "type": "profile-bulk-import-job",
        "attributes": {"profiles": {"data": profiles}},
        "relationships": {"lists": {"data": [{"type": "list", "id": list_id}]}},
    }})
    assert job.data.id
    statuses = []
    for _ in range(10):
        status = client.Profiles.get_bulk_import_profiles_job(job.data.id)
        statuses.append(status.data.attributes.status)
        if statuses[-1] == "complete":
            break
    assert statuses[-1] == "complete", statuses
    assert status.data.attributes.total_count == 5
    after = seeded(emulator)
    assert after["profiles"] == before["profiles"] + 5
    assert after["list_members"][list_id] == before["list_members"][list_id] + 5
    imported = profile_by_email(client, "fidelity3@example.com")
    assert imported.attributes.first_name == "F3"
    assert imported.attributes.properties["plan"] == "gold"


def test_subscribe_unsubscribe_suppress(klaviyo):
    emulator, client = klaviyo
    # A double opt-in list would hold the subscription until it is confirmed.
    created = client.Lists.create_list(
        {"data": {"type": "list", "attributes": {"name": "Single", "opt_in_process": "single_opt_in"}}})
    assert created.data.attributes.opt_in_process == "single_opt_in"
    list_id = created.data.id
    email = "consent-check@example.com"

    def consent_profiles(consent):
        return {"data": [{"type": "profile", "attributes": {
            "email": email, "subscriptions": {"email": {"marketing": {"consent": consent}}}}}]}

    answer = client.Profiles.bulk_subscribe_profiles({"data": {
        "type": "profile-subscription-bulk-create-job",
        "attributes": {"profiles": consent_profiles("SUBSCRIBED"), "custom_source": "fidelity"},
        "relationships": {"list": {"data": {"type": "list", "id": list_id}}},
    }})
    assert answer is None  # 202, no body
    marketing = profile_by_email(client, email).attributes.subscriptions.email.marketing
    assert marketing.consent == "SUBSCRIBED"
    assert marketing.can_receive_email_marketing is True

    answer = client.Profiles.bulk_unsubscribe_profiles({"data": {
        "type": "profile-subscription-bulk-delete-job",
        "attributes": {"profiles": consent_profiles("UNSUBSCRIBED")},
        "relationships": {"list": {"data": {"type": "list", "id": list_id}}},
    }})
    assert answer is None
    marketing = profile_by_email(client, email).attributes.subscriptions.email.marketing
    assert marketing.consent == "UNSUBSCRIBED"
    assert marketing.can_receive_email_marketing is False

    job = client.Profiles.bulk_suppress_profiles({"data": {
        "type": "profile-suppression-bulk-create-job",
        "attributes": {"profiles": {"data": [{"type": "profile", "attributes": {"email": "suppress-me@example.com"}}]}},
    }})
    assert job.data.id
    for _ in range(5):
        status = client.Profiles.get_bulk_suppress_profiles_job(job.data.id)
        if status.data.attributes.status == "complete":
            break
    assert status.data.attributes.status == "complete"
    jobs = client.Profiles.get_bulk_suppress_profiles_jobs()
    assert job.data.id in [item.id for item in jobs.data]
    suppressed = profile_by_email(client, "suppress-me@example.com").attributes.subscriptions.email.marketing
    assert [item.reason for item in suppressed.suppression] == ["USER_SUPPRESSED"]
    assert suppressed.can_receive_email_marketing is False


def test_events_create_and_bulk(klaviyo):
    emulator, client = klaviyo
    before = seeded(emulator)
    when = (datetime.now(timezone.utc) - timedelta(days=1)).replace(microsecond=0)

    def event(n):
        return {"type": "event", "attributes": {
            "properties": {"n": n, "source": "fidelity"},
            "time": (when + timedelta(seconds=n)).isoformat(),
            "value": 9.5,
            "unique_id": f"fidelity:{n}",
            "metric": {"data": {"type": "metric", "attributes": {"name": "Fidelity Checked"}}},
            "profile": {"data": {"type": "profile", "attributes": {"email": "events@example.com"}}},
        }}

    assert client.Events.create_event({"data": event(0)}) is None  # 202, no body
    bulk = {"data": {"type": "event-bulk-create-job", "attributes": {"events-bulk-create": {"data": [
        {"type": "event-bulk-create", "attributes": {
            "profile": {"data": {"type": "profile", "attributes": {"email": "events@example.com"}}},
            "events": {"data": [
                {"type": "event", "attributes": {key: value for key, value in event(n)["attributes"].items()
                                                 if key != "profile"}}
                for n in range(1, 4)
            ]},
        }},
    ]}}}}
    assert client.Events.bulk_create_events(bulk) is None
    after = seeded(emulator)
    assert after["events"] == before["events"] + 4
    assert after["events_by_metric"]["Fidelity Checked"] == 4
    metric_id = next(metric.id for page in walk(client.Metrics.get_metrics) for metric in page.data
                     if metric.attributes.name == "Fidelity Checked")
    found = client.Events.get_events(filter=f'equals(metric_id,"{metric_id}")', include=["metric"])
    assert sorted(item.attributes.event_properties["n"] for item in found.data) == [0, 1, 2, 3]


# tap-klaviyo's event streams, by the metric name each reads.
TAP_EVENT_STREAMS = {
    "Received Email": "receive", "Clicked Email": "click", "Opened Email": "open",
    "Bounced Email": "bounce", "Unsubscribed from Email Marketing": "unsubscribe",
    "Marked Email as Spam": "mark_as_spam", "Unsubscribed from List": "unsub_list",
    "Subscribed to Email Marketing": "subscribed_to_email", "Subscribed to List": "subscribe_list",
    "Updated Email Preferences": "update_email_preferences", "Dropped Email": "dropped_email",
}
# Suppression reasons tap-klaviyo's global_exclusions stream asks for, one
# filtered walk of /api/profiles each.
TAP_EXCLUSION_REASONS = ["HARD_BOUNCE", "USER_SUPPRESSED", "UNSUBSCRIBE", "INVALID_EMAIL"]


def run_tap(emulator, tmp_path, *arguments) -> str:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"api_key": emulator.api_key, "start_date": "2000-01-01T00:00:00Z"}))
    result = subprocess.run(
        [str(tap_python()), "-c", TAP_WRAPPER, emulator.base_url, "--config", str(config), *arguments],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return result.stdout


def test_tap_klaviyo_full_sync(start_emulator, tmp_path):
    emulator = start_emulator("klaviyo", records=200)
    counts = seeded(emulator)
    catalog = json.loads(run_tap(emulator, tmp_path, "--discover"))
    streams = {stream["stream"]: stream for stream in catalog["streams"]}
    expected_event_streams = {TAP_EVENT_STREAMS[name] for name in counts["events_by_metric"] if name in TAP_EVENT_STREAMS}
    assert expected_event_streams <= set(streams)
    # Every stream (campaigns included: the emulator holds none).
    for stream in catalog["streams"]:
        for entry in stream["metadata"]:
            if entry["breadcrumb"] == []:
                entry["metadata"]["selected"] = True
    catalog_path = tmp_path / "catalog.json"
    catalog_path.write_text(json.dumps(catalog))
    output = run_tap(emulator, tmp_path, "--catalog", str(catalog_path))
    records: dict[str, int] = {}
    ids: dict[str, set] = {}
    for line in output.splitlines():
        message = json.loads(line)
        if message["type"] == "RECORD":
            records[message["stream"]] = records.get(message["stream"], 0) + 1
            ids.setdefault(message["stream"], set()).add(message["record"]["id"])
    expected = {"lists": counts["lists"]}
    expected["global_exclusions"] = sum(counts["suppressed_by_reason"][reason] for reason in TAP_EXCLUSION_REASONS)
    for name, count in counts["events_by_metric"].items():
        if name in TAP_EVENT_STREAMS:
            expected[TAP_EVENT_STREAMS[name]] = count
    expected = {stream: count for stream, count in expected.items() if count}
    print("tap-klaviyo records per stream:", json.dumps(records, sort_keys=True))
    assert records == expected
    for stream in records:
        if stream != "global_exclusions":
            assert len(ids[stream]) == records[stream], f"{stream}: a record came twice"

    # A second sync from the last state resumes each event stream at its
    # bookmark (the last event's second, less one: greater-or-equal on the
    # `timestamp` filter, in Unix seconds).
    timestamps: dict[str, list[int]] = {}
    state = None
    for line in output.splitlines():
        message = json.loads(line)
        if message["type"] == "RECORD" and "timestamp" in message["record"]:
            timestamps.setdefault(message["stream"], []).append(int(message["record"]["timestamp"]))
        elif message["type"] == "STATE":
            state = message["value"]
    assert state and state["bookmarks"]
    state_path = tmp_path / "state.json"
    state_path.write_text(json.dumps(state))
    again = run_tap(emulator, tmp_path, "--catalog", str(catalog_path), "--state", str(state_path))
    resumed: dict[str, int] = {}
    for line in again.splitlines():
        message = json.loads(line)
        if message["type"] == "RECORD":
            resumed[message["stream"]] = resumed.get(message["stream"], 0) + 1
    for stream, seen in timestamps.items():
        last = max(seen)
        assert resumed.get(stream, 0) == sum(1 for moment in seen if moment >= last - 1), stream
    assert resumed.get("lists") == records["lists"]
    print("tap-klaviyo records on resume:", json.dumps(resumed, sort_keys=True))


def test_profile_import_and_list_relationships(klaviyo):
    emulator, client = klaviyo
    before = seeded(emulator)
    created = client.Profiles.create_or_update_profile({"data": {"type": "profile", "attributes": {
        "email": "upsert@example.com", "first_name": "Ada", "properties": {"tier": "1"}}}})
    profile_id = created.data.id
    assert created.data.attributes.first_name == "Ada"
    updated = client.Profiles.create_or_update_profile({"data": {"type": "profile", "attributes": {
        "email": "upsert@example.com", "last_name": "Lovelace"}}})
    assert updated.data.id == profile_id
    assert updated.data.attributes.first_name == "Ada"
    assert updated.data.attributes.last_name == "Lovelace"
    assert seeded(emulator)["profiles"] == before["profiles"] + 1
    with pytest.raises(ApiException) as caught:
        client.Profiles.create_profile({"data": {"type": "profile", "attributes": {"email": "upsert@example.com"}}})
    assert caught.value.status == 409
    list_id = next(iter(before["list_members"]))
    assert client.Lists.add_profiles_to_list(list_id, {"data": [{"type": "profile", "id": profile_id}]}) is None
    assert list_id in [item.id for item in client.Profiles.get_lists_for_profile(profile_id).data]
    assert seeded(emulator)["list_members"][list_id] == before["list_members"][list_id] + 1
    assert client.Lists.remove_profiles_from_list(list_id, {"data": [{"type": "profile", "id": profile_id}]}) is None
    assert list_id not in [item.id for item in client.Profiles.get_lists_for_profile(profile_id).data]


def test_plugin_default_revision_accepted(klaviyo):
    """The SDK sends its own revision; the plugin's default and the tap's
    (2024-10-15) must be served too."""
    emulator, client = klaviyo
    plugin_default = None
    config_rs = (ROOT / "plugins" / "klaviyo" / "src" / "config.rs").read_text()
    for line in config_rs.splitlines():
        if "DEFAULT_REVISION" in line and '"' in line:
            plugin_default = line.split('"')[1]
    assert plugin_default
    for revision in (KlaviyoAPI._REVISION, plugin_default, "2024-10-15"):
        client.api_client.default_headers["revision"] = revision
        assert len(client.Accounts.get_accounts().data) == 1
    client.api_client.default_headers["revision"] = "not-a-date"
    with pytest.raises(ApiException) as caught:
        client.Accounts.get_accounts()
    assert caught.value.status == 400


def test_sdk_filter_builder_forms(klaviyo):
    """Filters as the SDK's own FilterBuilder writes them: comma-joined
    conditions, lists of single-quoted strings, `+00:00` offsets, naive
    datetimes (UTC, as Klaviyo's date formats guide lists them), `has`."""
    from klaviyo_api.filter_builder import FilterBuilder

    emulator, client = klaviyo
    counts = seeded(emulator)
    first = client.Profiles.get_profiles(page_size=10)
    emails = [profile.attributes.email for profile in first.data if profile.attributes.email][:3]
    built = FilterBuilder()
    built.any("email", emails)
    found = client.Profiles.get_profiles(filter=built.build(), page_size=100)
    assert sorted(profile.attributes.email for profile in found.data) == sorted(emails)

    for moment in (datetime(2000, 1, 1, tzinfo=timezone.utc), datetime(2000, 1, 1, 0, 0, 0, 5000)):
        built = FilterBuilder()
        built.greater_than("updated", moment)
        total = sum(len(page.data) for page in walk(client.Profiles.get_profiles, filter=built.build(),
                                                     page_size=100))
        assert total == counts["profiles"], built.build()

    metrics = {metric.attributes.name: metric.id for page in walk(client.Metrics.get_metrics) for metric in page.data}
    name, expected = max(counts["events_by_metric"].items(), key=lambda item: item[1])
    built = FilterBuilder()
    built.equals("metric_id", metrics[name])
    built.greater_or_equal("datetime", datetime(2000, 1, 1, tzinfo=timezone.utc))
    built.less_than("timestamp", int(datetime(2100, 1, 1, tzinfo=timezone.utc).timestamp()))
    built.has("profile")
    total = sum(len(page.data) for page in walk(client.Events.get_events, filter=built.build(), page_size=500))
    assert total == expected, built.build()


def test_plugin_read_shapes(klaviyo):
    """The other reads the plugin makes: list members by email, events with
    the plugin's sparse fieldset, the import jobs collection."""
    emulator, client = klaviyo
    counts = seeded(emulator)
    list_id, size = max(counts["list_members"].items(), key=lambda item: item[1])
    members = client.Lists.get_list_profiles(list_id, page_size=5)
    emails = [profile.attributes.email for profile in members.data if profile.attributes.email]
    assert emails
    quoted = ",".join(f'"{email}"' for email in emails)
    found = client.Lists.get_list_profiles(list_id, filter=f"any(email,[{quoted}])", page_size=100)
    assert sorted(profile.attributes.email for profile in found.data) == sorted(emails)

    # With a sparse fieldset the SDK returns a dict by design (its
    # `_replace_type_with_dict_in_response_types_map`): the one raw answer here.
    sparse = client.Events.get_events(fields_event=["event_properties", "timestamp"], sort="datetime", page_size=50)
    assert sparse["data"]
    for event in sparse["data"]:
        assert set(event["attributes"]) == {"event_properties", "timestamp"}
        assert event["relationships"]["metric"]["data"]["id"]

    job = client.Profiles.bulk_import_profiles({"data": {
        "type": "profile-bulk-import-job",
        "attributes": {"profiles": {"data": [{"type": "profile", "attributes": {"email": "jobs@example.com"}}]}},
    }})
    jobs = client.Profiles.get_bulk_import_profiles_jobs()
    assert job.data.id in [item.id for item in jobs.data]


def test_historical_import_subscribe(klaviyo):
    """The plugin's subscribe form: `historical_import` with `consented_at`
    subscribes at once even on a double opt-in list; `consented_at` without
    the flag is refused."""
    emulator, client = klaviyo
    created = client.Lists.create_list(
        {"data": {"type": "list", "attributes": {"name": "Double", "opt_in_process": "double_opt_in"}}})
    list_id = created.data.id
    consented_at = (datetime.now(timezone.utc) - timedelta(days=30)).replace(microsecond=0).isoformat()

    def job(email, historical):
        attributes = {"profiles": {"data": [{"type": "profile", "attributes": {
            "email": email,
            "subscriptions": {"email": {"marketing": {"consent": "SUBSCRIBED", "consented_at": consented_at}}},
        }}]}}
        if historical:
            attributes["historical_import"] = True
        return {"data": {"type": "profile-subscription-bulk-create-job", "attributes": attributes,
                         "relationships": {"list": {"data": {"type": "list", "id": list_id}}}}}

    assert client.Profiles.bulk_subscribe_profiles(job("history@example.com", True)) is None
    marketing = profile_by_email(client, "history@example.com").attributes.subscriptions.email.marketing
    assert marketing.consent == "SUBSCRIBED"
    assert marketing.consent_timestamp is not None
    members = [profile.id for page in walk(client.Lists.get_list_profiles, id=list_id) for profile in page.data]
    assert members == [profile_by_email(client, "history@example.com").id]
    with pytest.raises(ApiException) as caught:
        client.Profiles.bulk_subscribe_profiles(job("not-history@example.com", False))
    assert caught.value.status == 400


def test_unsuppress_lifts_user_suppression(klaviyo):
    emulator, client = klaviyo
    email = "unsuppress@example.com"
    profiles = {"data": [{"type": "profile", "attributes": {"email": email}}]}
    suppress = client.Profiles.bulk_suppress_profiles(
        {"data": {"type": "profile-suppression-bulk-create-job", "attributes": {"profiles": profiles}}})
    assert suppress.data.attributes.total_count == 1
    marketing = profile_by_email(client, email).attributes.subscriptions.email.marketing
    assert [item.reason for item in marketing.suppression] == ["USER_SUPPRESSED"]
    lifted = client.Profiles.bulk_unsuppress_profiles(
        {"data": {"type": "profile-suppression-bulk-delete-job", "attributes": {"profiles": profiles}}})
    assert lifted.data.id
    status = client.Profiles.get_bulk_unsuppress_profiles_job(lifted.data.id)
    assert status.data.attributes.status in ("queued", "processing", "complete")
    marketing = profile_by_email(client, email).attributes.subscriptions.email.marketing
    assert not marketing.suppression


def test_sdk_rides_out_429s(start_emulator):
    """A storm of two 429s: the SDK's own retry (which reads `Retry-After` as
    an integer) gets through."""
    emulator = start_emulator("klaviyo", records=20, extra=["--invalid-emails", "0", "--burst-429", "2"])
    client = KlaviyoAPI(emulator.api_key, max_delay=2, max_retries=4, test_host=emulator.base_url)
    assert len(client.Accounts.get_accounts().data) == 1
    assert client.Lists.get_lists().data
