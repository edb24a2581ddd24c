"""The Mailchimp emulator driven by Mailchimp's own clients.

An emulator that agrees only with its own plugin proves nothing: here the
vendor's official Python SDK (`mailchimp-marketing`), the popular community
client (`mailchimp3`) and Singer's `tap-mailchimp` read and write it the way
they read and write the real API, and what they get is checked against what
the emulator was seeded with (`GET /__emulator/mailchimp/seeded`, counts
taken from its store, not from the API under test).

Pointing the clients at the emulator:
- mailchimp-marketing: `client.api_client.host` is overridden with the
  emulator's API root (no trailing slash); `set_config` only picks the data
  center that replaces `server` in the default host.
- mailchimp3: `MailChimp.base_url` is overridden after construction (it is
  built from the key's data center).
- tap-mailchimp builds `https://{dc}.api.mailchimp.com` in
  `MailchimpClient.__init__` and has no setting for another host, so it runs
  through `WRAPPER` below, which patches the client's (name-mangled)
  `__base_url` after `__init__` and then calls the tap's own `main`.
"""

import hashlib
import io
import json
import tarfile
import time
import os
import pathlib
import subprocess
import textwrap
from datetime import datetime, timezone

import mailchimp3
import mailchimp_marketing
import pytest
import requests
from mailchimp_marketing.api_client import ApiClientError

RECORDS = 200


def subscriber_hash(email: str) -> str:
    return hashlib.md5(email.strip().lower().encode()).hexdigest()


def official(emulator):
    """The official SDK, pointed at the emulator."""
    client = mailchimp_marketing.Client()
    client.set_config({"api_key": emulator.api_key, "server": emulator.api_key.rsplit("-", 1)[1]})
    client.api_client.host = emulator.api_root.rstrip("/")
    return client


def community(emulator):
    """mailchimp3, pointed at the emulator."""
    client = mailchimp3.MailChimp(mc_api=emulator.api_key, timeout=30)
    client.base_url = emulator.api_root
    return client


def seeded(emulator):
    response = requests.get(f"{emulator.base_url}/__emulator/mailchimp/seeded", timeout=30)
    response.raise_for_status()
    return response.json()


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def problem(error: ApiClientError) -> dict:
    """The problem document of an official-SDK error (it keeps the body as
    text, because `application/problem+json` is not `application/json`)."""
    return json.loads(error.text) if isinstance(error.text, str) else error.text


@pytest.fixture
def mailchimp(start_emulator):
    return start_emulator("mailchimp", records=RECORDS)


# --- reads -----------------------------------------------------------------


def test_ping_and_root(mailchimp):
    assert official(mailchimp).ping.get() == {"health_status": "Everything's Chimpy!"}
    assert community(mailchimp).ping.get()["health_status"] == "Everything's Chimpy!"
    root = official(mailchimp).root.get_root()
    assert root["total_subscribers"] == seeded(mailchimp)["members"]
    assert isinstance(root["_links"], list) and root["_links"][0]["rel"] == "self"


def test_bad_key_is_401_problem(mailchimp):
    client = official(mailchimp)
    client.set_config({"api_key": "0" * 32 + "-us21", "server": "us21"})
    with pytest.raises(ApiClientError) as caught:
        client.ping.get()
    assert caught.value.status_code == 401
    body = problem(caught.value)
    assert body["status"] == 401 and {"type", "title", "detail", "instance"} <= body.keys()


def test_oauth_tokens_in_both_schemes(mailchimp):
    # The official SDK sends `Authorization: Bearer <token>`.
    bearer = mailchimp_marketing.Client()
    bearer.set_config({"access_token": mailchimp.api_key, "server": "us21"})
    bearer.api_client.host = mailchimp.api_root.rstrip("/")
    assert bearer.ping.get()["health_status"] == "Everything's Chimpy!"
    # mailchimp3 sends `Authorization: OAuth <token>`; building it with a
    # token would ask login.mailchimp.com for the data center, so the auth is
    # swapped in after construction.
    oauth = community(mailchimp)
    oauth.auth = mailchimp3.mailchimpclient.MailChimpOAuth(mailchimp.api_key)
    assert oauth.lists.all(count=1)["total_items"] == len(seeded(mailchimp)["lists"])


def test_lists_sorted_by_date_created(mailchimp):
    client = official(mailchimp)
    ascending = client.lists.get_all_lists(count=10, sort_field="date_created", sort_dir="ASC")["lists"]
    created = [moment(item["date_created"]) for item in ascending]
    assert created == sorted(created)
    descending = client.lists.get_all_lists(count=10, sort_field="date_created", sort_dir="DESC")["lists"]
    assert [item["id"] for item in descending] == [item["id"] for item in reversed(ascending)]


def test_lists_page_by_one(mailchimp):
    truth = seeded(mailchimp)
    client = official(mailchimp)
    ids = []
    for offset in range(5):
        page = client.lists.get_all_lists(count=1, offset=offset)
        assert page["total_items"] == len(truth["lists"])
        assert isinstance(page["_links"], list)
        ids += [item["id"] for item in page["lists"]]
    assert ids == [item["id"] for item in truth["lists"]]
    every = community(mailchimp).lists.all(get_all=True, fields="lists.id,lists.name,lists.stats")
    assert [item["id"] for item in every["lists"]] == ids
    assert every["total_items"] == len(ids)
    assert client.lists.get_list(ids[0], fields=["id"]) == {"id": ids[0]}
    one = client.lists.get_list(ids[0])
    for field in ("id", "web_id", "name", "contact", "campaign_defaults", "date_created", "stats", "_links"):
        assert field in one, field


def test_members_default_listing_pages_to_the_seeded_count(mailchimp):
    truth = seeded(mailchimp)
    client = official(mailchimp)
    for audience in truth["lists"]:
        seen = []
        offset = 0
        while True:
            page = client.lists.get_list_members_info(
                audience["id"], count=17, offset=offset, sort_field="last_changed", sort_dir="ASC"
            )
            assert page["total_items"] == audience["members_listed"]
            seen += page["members"]
            offset += 17
            if offset >= page["total_items"]:
                break
        assert len(seen) == audience["members_listed"]
        assert len({member["id"] for member in seen}) == len(seen)
        assert all(member["status"] != "archived" for member in seen)
        changed = [moment(member["last_changed"]) for member in seen]
        assert changed == sorted(changed)
        every = community(mailchimp).lists.members.all(audience["id"], get_all=True, count=50)
        assert len(every["members"]) == audience["members_listed"]


def test_members_default_page_is_ten(mailchimp):
    audience = seeded(mailchimp)["lists"][0]
    page = official(mailchimp).lists.get_list_members_info(audience["id"])
    assert len(page["members"]) == 10
    assert page["total_items"] == audience["members_listed"]


@pytest.mark.parametrize("status", ["subscribed", "unsubscribed", "cleaned", "pending", "transactional", "archived"])
def test_members_by_consent_status(mailchimp, status):
    truth = seeded(mailchimp)
    for audience in truth["lists"]:
        expected = audience["members_by_status"][status]
        page = official(mailchimp).lists.get_list_members_info(audience["id"], status=status, count=1000)
        assert page["total_items"] == expected
        assert len(page["members"]) == expected
        assert {member["status"] for member in page["members"]} <= {status}
        other = community(mailchimp).lists.members.all(audience["id"], status=status, count=1000)
        assert other["total_items"] == expected
    assert sum(audience["members_by_status"][status] for audience in truth["lists"]) > 0


def test_member_fields_the_clients_read(mailchimp):
    audience = seeded(mailchimp)["lists"][0]
    page = official(mailchimp).lists.get_list_members_info(audience["id"], count=50)
    for member in page["members"]:
        assert member["id"] == subscriber_hash(member["email_address"])
        for field in (
            "unique_email_id",
            "contact_id",
            "email_type",
            "status",
            "merge_fields",
            "stats",
            "ip_signup",
            "timestamp_signup",
            "ip_opt",
            "timestamp_opt",
            "member_rating",
            "last_changed",
            "language",
            "vip",
            "location",
            "marketing_permissions",
            "source",
            "tags_count",
            "tags",
            "list_id",
            "_links",
        ):
            assert field in member, field
        assert member["tags_count"] == len(member["tags"])
        assert all({"id", "name"} <= tag.keys() for tag in member["tags"])
    one = page["members"][0]
    by_hash = official(mailchimp).lists.get_list_member(audience["id"], one["id"])
    by_email = community(mailchimp).lists.members.get(audience["id"], subscriber_hash(one["email_address"]))
    assert by_hash["email_address"] == by_email["email_address"] == one["email_address"]
    # The reference lets the path carry the address itself (the SDK quotes it).
    by_address = official(mailchimp).lists.get_list_member(audience["id"], one["email_address"].upper())
    assert by_address["id"] == one["id"]
    slim = official(mailchimp).lists.get_list_member(
        audience["id"], one["id"], exclude_fields=["_links", "merge_fields", "location.timezone"]
    )
    assert "_links" not in slim and "merge_fields" not in slim
    assert "timezone" not in slim["location"] and "latitude" in slim["location"]


def test_members_sort_and_since_filters(mailchimp):
    audience = seeded(mailchimp)["lists"][0]
    client = official(mailchimp)
    descending = client.lists.get_list_members_info(
        audience["id"], count=1000, sort_field="timestamp_opt", sort_dir="DESC", status="subscribed"
    )["members"]
    opted = [moment(member["timestamp_opt"]) for member in descending]
    assert opted == sorted(opted, reverse=True)
    every = client.lists.get_list_members_info(audience["id"], count=1000)["members"]
    pivot = sorted(moment(member["last_changed"]) for member in every)[len(every) // 2]
    since = pivot.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    later = client.lists.get_list_members_info(audience["id"], count=1000, since_last_changed=since)
    expected = [member for member in every if moment(member["last_changed"]) >= pivot]
    assert later["total_items"] == len(expected)
    # mailchimp3 sends the same filter; `fields` limits the answer.
    trimmed = community(mailchimp).lists.members.all(
        audience["id"], count=1000, since_last_changed=since, fields="members.email_address,total_items"
    )
    assert trimmed["total_items"] == len(expected)
    assert all(set(member) == {"email_address"} for member in trimmed["members"])


def test_merge_fields(mailchimp):
    for audience in seeded(mailchimp)["lists"]:
        fields = official(mailchimp).lists.get_list_merge_fields(audience["id"], count=1000)
        assert fields["total_items"] == audience["merge_fields"] == len(fields["merge_fields"])
        for field in fields["merge_fields"]:
            assert isinstance(field["merge_id"], int)
            assert {"tag", "name", "type", "required", "default_value", "public", "display_order", "options"} <= field.keys()
        tags = [field["tag"] for field in fields["merge_fields"]]
        assert tags[:2] == ["FNAME", "LNAME"]
        other = community(mailchimp).lists.merge_fields.all(audience["id"], get_all=True)
        assert [field["tag"] for field in other["merge_fields"]] == tags
        # The documented filters, as the clients send them (bools as `True`).
        texts = official(mailchimp).lists.get_list_merge_fields(audience["id"], type="text", required=False)
        assert {field["type"] for field in texts["merge_fields"]} == {"text"}
        assert texts["total_items"] == sum(1 for field in fields["merge_fields"] if field["type"] == "text")
        required = official(mailchimp).lists.get_list_merge_fields(audience["id"], required=True)
        assert required["total_items"] == sum(1 for field in fields["merge_fields"] if field["required"])


def test_campaigns(mailchimp):
    truth = seeded(mailchimp)
    client = official(mailchimp)
    page = client.campaigns.list(count=1000, status="sent", sort_field="send_time", sort_dir="ASC")
    assert page["total_items"] == truth["totals"]["campaigns"] == len(page["campaigns"])
    sent = [moment(campaign["send_time"]) for campaign in page["campaigns"]]
    assert sent == sorted(sent)
    assert [campaign["id"] for campaign in page["campaigns"]] == [campaign["id"] for campaign in truth["campaigns"]]
    pivot = page["campaigns"][len(sent) // 2]["send_time"]
    since = client.campaigns.list(count=1000, status="sent", since_send_time=pivot)
    assert since["total_items"] == sum(1 for moment_sent in sent if moment_sent >= moment(pivot))
    first_list = truth["lists"][0]["id"]
    of_list = client.campaigns.list(count=1000, list_id=first_list)
    assert of_list["total_items"] == sum(1 for campaign in truth["campaigns"] if campaign["list_id"] == first_list)
    every = community(mailchimp).campaigns.all(get_all=True, count=10, status="sent")
    assert len(every["campaigns"]) == truth["totals"]["campaigns"]
    one = client.campaigns.get(truth["campaigns"][0]["id"])
    assert one["recipients"]["list_id"] == truth["campaigns"][0]["list_id"]
    assert one["emails_sent"] == truth["campaigns"][0]["recipients"]


def test_email_activity(mailchimp):
    truth = seeded(mailchimp)
    client = official(mailchimp)
    for campaign in truth["campaigns"][-6:]:
        items = []
        offset = 0
        while True:
            page = client.reports.get_email_activity_for_campaign(campaign["id"], count=10, offset=offset)
            assert page["total_items"] == campaign["recipients"]
            items += page["emails"]
            offset += 10
            if offset >= page["total_items"]:
                break
        assert len(items) == campaign["recipients"]
        actions = [action for item in items for action in item["activity"]]
        assert len(actions) == campaign["email_activity_actions"]
        for item in items:
            assert {"campaign_id", "list_id", "list_is_active", "email_id", "email_address", "activity"} <= item.keys()
        for action in actions:
            assert action["action"] in ("open", "click", "bounce")
            assert ("type" in action) == (action["action"] == "bounce")
            assert ("url" in action) == (action["action"] == "click")
        since = community(mailchimp).reports.email_activity.all(
            campaign["id"], get_all=True, since="2000-01-01T00:00:00+00:00"
        )
        assert len(since["emails"]) == campaign["email_activity_with_actions"]


def test_unsubscribed_report(mailchimp):
    truth = seeded(mailchimp)
    assert truth["totals"]["unsubscribes"] > 0
    total = 0
    for campaign in truth["campaigns"]:
        page = official(mailchimp).reports.get_unsubscribed_list_for_campaign(campaign["id"], count=1000)
        assert page["total_items"] == campaign["unsubscribes"] == len(page["unsubscribes"])
        for item in page["unsubscribes"]:
            assert {"email_id", "email_address", "timestamp", "reason", "campaign_id", "list_id"} <= item.keys()
        total += page["total_items"]
    assert total == truth["totals"]["unsubscribes"]


# --- writes ----------------------------------------------------------------


def test_put_member_creates_then_updates(mailchimp):
    audience = seeded(mailchimp)["lists"][1]
    client = official(mailchimp)
    email = "Fidelity.New@Cutover-Test.io"
    body = {
        "email_address": email,
        "status_if_new": "subscribed",
        "merge_fields": {"FNAME": "Fi", "LNAME": "Delity"},
    }
    created = client.lists.set_list_member(audience["id"], subscriber_hash(email), body)
    assert created["id"] == subscriber_hash(email)
    assert created["status"] == "subscribed"
    assert created["merge_fields"]["FNAME"] == "Fi"
    updated = client.lists.set_list_member(
        audience["id"], subscriber_hash(email), {"email_address": email, "status_if_new": "subscribed", "merge_fields": {"FNAME": "Fido"}}
    )
    assert updated["merge_fields"]["FNAME"] == "Fido"
    assert updated["merge_fields"]["LNAME"] == "Delity"
    assert seeded(mailchimp)["lists"][1]["members"] == audience["members"] + 1
    # mailchimp3's upsert, by the same hash, with `status` changing the member.
    third = community(mailchimp).lists.members.create_or_update(
        audience["id"], subscriber_hash(email), {"email_address": email, "status_if_new": "subscribed", "status": "unsubscribed"}
    )
    assert third["status"] == "unsubscribed"


def test_post_existing_member_is_member_exists(mailchimp):
    audience = seeded(mailchimp)["lists"][0]
    client = official(mailchimp)
    existing = client.lists.get_list_members_info(audience["id"], count=1, status="subscribed")["members"][0]
    with pytest.raises(ApiClientError) as caught:
        client.lists.add_list_member(audience["id"], {"email_address": existing["email_address"], "status": "subscribed"})
    assert caught.value.status_code == 400
    assert problem(caught.value)["title"] == "Member Exists"
    with pytest.raises(ApiClientError) as caught:
        client.lists.add_list_member(audience["id"], {"email_address": "not-an-address", "status": "subscribed"})
    assert caught.value.status_code == 400
    assert problem(caught.value)["title"] == "Invalid Resource"
    with pytest.raises(mailchimp3.mailchimpclient.MailChimpError) as other:
        community(mailchimp).lists.members.create(
            audience["id"], {"email_address": existing["email_address"], "status": "subscribed"}
        )
    assert other.value.args[0]["title"] == "Member Exists"


def test_unsubscribed_member_cannot_be_resubscribed(mailchimp):
    audience = seeded(mailchimp)["lists"][0]
    client = official(mailchimp)
    gone = client.lists.get_list_members_info(audience["id"], count=1, status="unsubscribed")["members"][0]
    with pytest.raises(ApiClientError) as caught:
        client.lists.set_list_member(
            audience["id"], gone["id"], {"email_address": gone["email_address"], "status_if_new": "subscribed", "status": "subscribed"}
        )
    assert caught.value.status_code == 400
    assert problem(caught.value)["title"] == "Member In Compliance State"
    pending = client.lists.set_list_member(
        audience["id"], gone["id"], {"email_address": gone["email_address"], "status_if_new": "subscribed", "status": "pending"}
    )
    assert pending["status"] == "pending"


def test_member_tags(mailchimp):
    audience = seeded(mailchimp)["lists"][0]
    client = official(mailchimp)
    member = client.lists.get_list_members_info(audience["id"], count=1, status="subscribed")["members"][0]
    answer = client.lists.update_list_member_tags(
        audience["id"],
        member["id"],
        {"tags": [{"name": "fidelity", "status": "active"}, {"name": "vip", "status": "inactive"}], "is_syncing": True},
    )
    assert answer.status_code == 204 and answer.content == b""
    tags = client.lists.get_list_member_tags(audience["id"], member["id"])
    names = [tag["name"] for tag in tags["tags"]]
    assert "fidelity" in names and "vip" not in names
    assert tags["total_items"] == len(names)
    assert community(mailchimp).lists.members.tags.update(
        audience["id"], member["id"], {"tags": [{"name": "fidelity", "status": "inactive"}]}
    ) is None
    after = client.lists.get_list_member(audience["id"], member["id"])
    assert "fidelity" not in [tag["name"] for tag in after["tags"]]


def test_batch_subscribe(mailchimp):
    audience = seeded(mailchimp)["lists"][2]
    client = official(mailchimp)
    existing = client.lists.get_list_members_info(audience["id"], count=1, status="subscribed")["members"][0]
    members = [
        {"email_address": f"batch{n}@cutover-test.io", "status": "subscribed", "merge_fields": {"FNAME": f"B{n}"}}
        for n in range(5)
    ]
    members.append({"email_address": existing["email_address"], "status": "subscribed", "merge_fields": {"FNAME": "Again"}})
    members.append({"email_address": "broken@", "status": "subscribed"})
    first = client.lists.batch_list_members(
        audience["id"], {"members": members, "update_existing": False}, skip_merge_validation=True
    )
    assert first["total_created"] == 5
    assert first["total_updated"] == 0
    assert first["error_count"] == 2 == len(first["errors"])
    codes = {error["email_address"]: error["error_code"] for error in first["errors"]}
    assert codes[existing["email_address"]] == "ERROR_CONTACT_EXISTS"
    assert {"new_members", "updated_members", "errors", "_links"} <= first.keys()
    second = community(mailchimp).lists.update_members(audience["id"], {"members": members[:6], "update_existing": True})
    assert second["total_created"] == 0 and second["total_updated"] == 6 and second["error_count"] == 0
    again = client.lists.get_list_member(audience["id"], existing["id"])
    assert again["merge_fields"]["FNAME"] == "Again"
    assert seeded(mailchimp)["lists"][2]["members"] == audience["members"] + 5


def test_archive_then_listing(mailchimp):
    audience = seeded(mailchimp)["lists"][1]
    client = official(mailchimp)
    member = client.lists.get_list_members_info(audience["id"], count=1, status="subscribed")["members"][0]
    answer = client.lists.delete_list_member(audience["id"], member["id"])
    assert answer.status_code == 204
    assert client.lists.get_list_member(audience["id"], member["id"])["status"] == "archived"
    listed = client.lists.get_list_members_info(audience["id"], count=1000)
    assert listed["total_items"] == audience["members_listed"] - 1
    archived = client.lists.get_list_members_info(audience["id"], count=1000, status="archived")
    assert archived["total_items"] == audience["members_by_status"]["archived"] + 1


def test_patch_and_delete_permanent(mailchimp):
    audience = seeded(mailchimp)["lists"][0]
    client = official(mailchimp)
    member = client.lists.get_list_members_info(audience["id"], count=1, status="subscribed")["members"][0]
    patched = client.lists.update_list_member(audience["id"], member["id"], {"merge_fields": {"COMPANY": "Patched"}, "vip": True})
    assert patched["merge_fields"]["COMPANY"] == "Patched" and patched["vip"] is True
    assert patched["merge_fields"]["FNAME"] == member["merge_fields"]["FNAME"]
    gone = client.lists.delete_list_member_permanent(audience["id"], member["id"])
    assert gone.status_code == 204
    with pytest.raises(ApiClientError) as caught:
        client.lists.get_list_member(audience["id"], member["id"])
    assert caught.value.status_code == 404
    with pytest.raises(ApiClientError) as caught:
        client.lists.set_list_member(
            audience["id"], member["id"], {"email_address": member["email_address"], "status_if_new": "subscribed"}
        )
    assert caught.value.status_code == 400
    assert problem(caught.value)["title"] == "Forgotten Email Not Subscribed"


def batch_results(url: str) -> list:
    archive = requests.get(url, timeout=30)
    archive.raise_for_status()
    results = []
    with tarfile.open(fileobj=io.BytesIO(archive.content), mode="r:gz") as tar:
        for entry in tar:
            if entry.isfile():
                handle = tar.extractfile(entry)
                assert handle is not None
                results += json.loads(handle.read().decode() or "[]")
    return results


def test_batch_operations(mailchimp):
    truth = seeded(mailchimp)
    audience = truth["lists"][1]
    campaign = truth["campaigns"][-2]
    operations = [
        {
            "method": "PUT",
            "path": f"/lists/{audience['id']}/members/{subscriber_hash(f'op{n}@cutover-test.io')}",
            "operation_id": f"put-{n}",
            "body": json.dumps({"email_address": f"op{n}@cutover-test.io", "status_if_new": "transactional"}),
        }
        for n in range(3)
    ]
    operations.append({"method": "POST", "path": f"/lists/{audience['id']}/members", "operation_id": "bad",
                       "body": json.dumps({"email_address": "nope", "status": "subscribed"})})
    # A GET of a collection with no page asked for is read whole, a result per page.
    operations.append({"method": "GET", "path": f"/reports/{campaign['id']}/email-activity", "operation_id": "activity"})
    created = community(mailchimp).batch_operations.create({"operations": operations})
    assert created["status"] == "pending"
    for _ in range(10):
        batch = official(mailchimp).batches.status(created["id"])
        if batch["status"] == "finished":
            break
        time.sleep(0.1)
    assert batch["status"] == "finished"
    pages = -(-campaign["recipients"] // 10)
    assert batch["total_operations"] == 4 + pages
    assert batch["finished_operations"] == batch["total_operations"]
    assert batch["errored_operations"] == 1
    results = batch_results(batch["response_body_url"])
    by_id: dict = {}
    for result in results:
        by_id.setdefault(result["operation_id"], []).append(result)
    assert [result["status_code"] for result in by_id["put-0"]] == [200]
    assert json.loads(by_id["put-0"][0]["response"])["status"] == "transactional"
    assert by_id["bad"][0]["status_code"] == 400
    activity = [email for result in by_id["activity"] for email in json.loads(result["response"])["emails"]]
    assert len(by_id["activity"]) == pages
    assert len({email["email_id"] for email in activity}) == campaign["recipients"]
    assert seeded(mailchimp)["lists"][1]["members"] == audience["members"] + 3


# --- tap-mailchimp ---------------------------------------------------------

TAP_VENV = pathlib.Path(os.environ.get("FIDELITY_VENVS", pathlib.Path(__file__).resolve().parents[2] / "target" / "fidelity")) / "tap-mailchimp"

# tap-mailchimp 1.3.3 has no base-URL setting: `MailchimpClient.__init__`
# sets `self.__base_url = 'https://{dc}.api.mailchimp.com'` (api_key auth) or
# asks login.mailchimp.com (OAuth). This wrapper replaces that attribute after
# `__init__` and runs the tap's own `main` with the tap's own arguments.
WRAPPER = textwrap.dedent(
    """
    import os
    import sys

    import tap_mailchimp
    from tap_mailchimp.client import MailchimpClient

    original_init = MailchimpClient.__init__

    def init_with_emulator(self, config):
        original_init(self, config)
        self._MailchimpClient__base_url = os.environ["TAP_MAILCHIMP_BASE_URL"]

    MailchimpClient.__init__ = init_with_emulator
    sys.exit(tap_mailchimp.main())
    """
)

# What the emulator serves of the tap's streams (it has no segments and no
# automations).
TAP_STREAMS = {"lists", "list_members", "campaigns", "unsubscribes", "reports_email_activity"}


def run_tap(emulator, tmp_path, *arguments, config=None):
    python = TAP_VENV / "bin" / "python"
    if not python.exists():
        pytest.fail(f"{python} is missing: run tests/fidelity/run.sh, which installs the taps")
    wrapper = tmp_path / "run_tap_mailchimp.py"
    wrapper.write_text(WRAPPER)
    config_path = tmp_path / "config.json"
    config_path.write_text(
        json.dumps(
            config
            or {
                "api_key": emulator.api_key,
                "dc": emulator.api_key.rsplit("-", 1)[1],
                "start_date": "2000-01-01T00:00:00Z",
                "page_size": "25",
                "request_timeout": 60,
            }
        )
    )
    result = subprocess.run(
        [str(python), str(wrapper), "--config", str(config_path), *arguments],
        env={**os.environ, "TAP_MAILCHIMP_BASE_URL": emulator.base_url},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return result.stdout, result.stderr


def select_all(catalog: dict, streams: set) -> dict:
    for stream in catalog["streams"]:
        wanted = stream["tap_stream_id"] in streams
        # tap-mailchimp 1.3.3's discovery writes no root (`[]`) entry.
        if not any(entry["breadcrumb"] == [] for entry in stream["metadata"]):
            stream["metadata"].append({"breadcrumb": [], "metadata": {}})
        for entry in stream["metadata"]:
            if wanted and (entry["breadcrumb"] == [] or entry["metadata"].get("inclusion") != "unsupported"):
                entry["metadata"]["selected"] = True
    return catalog


def test_tap_mailchimp_discovers_with_an_oauth_token(mailchimp, tmp_path):
    # With `access_token` the tap sends `Authorization: OAuth <token>`;
    # discovery starts with `GET /lists?count=1` to test it.
    config = {"access_token": mailchimp.api_key, "start_date": "2000-01-01T00:00:00Z"}
    out, _ = run_tap(mailchimp, tmp_path, "--discover", config=config)
    assert TAP_STREAMS <= {stream["tap_stream_id"] for stream in json.loads(out)["streams"]}


def test_tap_mailchimp_full_sync(mailchimp, tmp_path):
    truth = seeded(mailchimp)
    out, _ = run_tap(mailchimp, tmp_path, "--discover")
    catalog = json.loads(out)
    discovered = {stream["tap_stream_id"] for stream in catalog["streams"]}
    assert TAP_STREAMS <= discovered
    catalog_path = tmp_path / "catalog.json"
    catalog_path.write_text(json.dumps(select_all(catalog, TAP_STREAMS)))
    out, err = run_tap(mailchimp, tmp_path, "--catalog", str(catalog_path))
    counts: dict = {}
    for line in out.splitlines():
        message = json.loads(line)
        if message["type"] == "RECORD":
            counts[message["stream"]] = counts.get(message["stream"], 0) + 1
    expected = {
        "lists": truth["totals"]["lists"],
        "list_members": sum(audience["members_listed"] for audience in truth["lists"]),
        "campaigns": truth["totals"]["campaigns"],
        "unsubscribes": truth["totals"]["unsubscribes"],
        "reports_email_activity": truth["totals"]["email_activity_actions"],
    }
    print("tap-mailchimp records per stream:", json.dumps(counts, sort_keys=True))
    assert counts == expected, err[-4000:]
