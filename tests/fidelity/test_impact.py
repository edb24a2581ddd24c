"""impact.com fidelity: the emulator synced in full by the public Singer tap
`tap-impact` (singer-io, 2.1.1), every stream it reads, with exact record
counts checked against what the emulator seeded
(`GET /__emulator/impact/seeded`, counted from its store, not from the API
under test).

Pointing the tap at the emulator. tap-impact hard-codes its host twice:
`ImpactClient.__init__` sets `self.base_url =
"https://api.impact.com/{api_catalog}/{account_sid}"`, and
`tap_impact.sync.BASE_URL = 'https://api.impact.com'` is what it prefixes
every `@nextpageuri` with. It runs through `WRAPPER` below, a launcher that
changes those two values in memory (the instance attribute after the
original `__init__`, and the module constant) and then calls the tap's own
`main` with the tap's own arguments. The installed package is not edited on
disk, so every other line of the tap (its query strings, date windows,
bookmarks, key checks and schema transforms) runs as published, and a
deviation between tap and emulator shows up as a failure, not as a patch.

What the tap does that the test models rather than hides:
- Child streams keep one bookmark across their parents: `actions`,
  `action_updates`, `action_inquiries` and `notes` of the second program
  start at the newest record of the first (tap-impact writes the child's
  bookmark into the shared state after each page and reads it back for the
  next campaign). So the sync is run twice: against a brand with one
  program (`--programs 1`), where every stream's count must equal what was
  seeded, and against the default three programs, where the incremental
  child streams' counts are computed from the seeded dates with that rule
  (`tap_count`): a later program's records older than an earlier program's
  newest one are what the tap leaves behind.
- It always asks for `PageSize=20000`; the emulator is started with
  `--page-size-cap 7`, so every collection of more than 7 items is walked
  through `@nextpageuri` (and the links must carry every filter).
- Its Actions/ActionUpdates windows are 45 days of `ActionDateStart`/
  `StartDate` from the bookmark (or 3 years back) to midnight UTC today,
  under the documented date rules the emulator enforces.
"""

import json
import os
import pathlib
import subprocess
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
VENVS = pathlib.Path(os.environ.get("FIDELITY_VENVS", ROOT / "target" / "fidelity"))
RECORDS = 200
START_DATE = "2025-06-01T00:00:00Z"

# tap-impact 2.1.1 hard-codes https://api.impact.com: in the client's
# `base_url` (set in `__init__`) and in `tap_impact.sync.BASE_URL` (the
# prefix of every next-page link). Both are replaced in memory with the
# emulator's base (first argument) before the tap's own main runs.
WRAPPER = """
import sys
import tap_impact
from tap_impact.client import ImpactClient

base = sys.argv.pop(1)
original_init = ImpactClient.__init__

def init_with_emulator(self, account_sid, auth_token, api_catalog, user_agent=None):
    original_init(self, account_sid, auth_token, api_catalog, user_agent)
    self.base_url = "{}/{}/{}".format(base, api_catalog, account_sid)

ImpactClient.__init__ = init_with_emulator
# `tap_impact.sync` the attribute is the `sync` function (the package's
# `__init__` imports it over the submodule's name): patch the module itself.
sys.modules["tap_impact.sync"].BASE_URL = base
tap_impact.main()
"""

# Every stream tap-impact reads without a `model_id` (conversion_paths needs
# one from impact.com support and is not in the Brand API facts).
TAP_STREAMS = {
    "ads", "api_submissions", "campaigns", "actions", "action_inquiries", "action_updates", "contacts",
    "media_partner_groups", "notes", "catalogs", "catalog_items", "company_information", "deals",
    "exception_lists", "exception_list_items", "ftp_file_submissions", "invoices", "media_partners",
    "phone_numbers", "promo_codes", "reports", "report_metadata", "tracking_value_requests", "unique_urls",
}


def tap_python() -> pathlib.Path:
    python = VENVS / "tap-impact" / "bin" / "python"
    if not python.exists():
        pytest.fail(f"{python} is missing: run the suite through tests/fidelity/run.sh, which installs the tap")
    return python


def seeded(emulator) -> dict:
    with urllib.request.urlopen(f"{emulator.base_url}/__emulator/impact/seeded") as response:
        return json.load(response)


@pytest.fixture
def impact(start_emulator):
    return start_emulator("impact", records=RECORDS, extra=["--page-size-cap", "7"])


@pytest.fixture
def one_program(start_emulator):
    """A brand with one program, as many run: no second parent for the
    tap's shared child bookmark to skip, so every seeded action, update,
    inquiry and note must come out."""
    return start_emulator("impact", records=RECORDS, seed=11, extra=["--page-size-cap", "7", "--programs", "1"])


def run_tap(emulator, tmp_path, *arguments, config=None, check=True):
    wrapper = tmp_path / "run_tap_impact.py"
    wrapper.write_text(WRAPPER)
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config or {
        "account_sid": emulator.values["account_sid"],
        "auth_token": emulator.api_key,
        "api_catalog": "Advertisers",
        "start_date": START_DATE,
        "user_agent": "tap-impact <fidelity@cutover.invalid>",
    }))
    result = subprocess.run(
        [str(tap_python()), str(wrapper), emulator.base_url, "--config", str(config_path), *arguments],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if check:
        assert result.returncode == 0, result.stderr[-4000:]
    return result


def select_all(catalog: dict) -> dict:
    for stream in catalog["streams"]:
        for entry in stream["metadata"]:
            if entry["breadcrumb"] == [] or entry["metadata"].get("inclusion") != "unsupported":
                entry["metadata"]["selected"] = True
    return catalog


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def tap_count(dates_by_campaign: list, start: datetime, floor_three_years: bool) -> int:
    """How many records tap-impact 2.1.1 emits for a child stream of
    `campaigns` whose bookmark is `dates_by_campaign[i]` (the seeded dates of
    program i, in the order the API lists programs): one bookmark for all
    parents, starting at `start` (moved up to three years back for actions
    and action updates), raised to the newest record each parent returns."""
    now = datetime.now(timezone.utc)
    bookmark = start
    emitted = 0
    for dates in dates_by_campaign:
        floor = bookmark
        if floor_three_years and floor < now - timedelta(days=3 * 365):
            floor = now - timedelta(days=3 * 365)
        kept = [moment(date) for date in dates if moment(date) >= floor]
        emitted += len(kept)
        if kept:
            bookmark = max(floor, max(kept))
    return emitted


def test_tap_impact_refuses_bad_credentials(impact, tmp_path):
    config = {
        "account_sid": impact.values["account_sid"],
        "auth_token": "not-the-token",
        "api_catalog": "Advertisers",
        "start_date": START_DATE,
        "user_agent": "tap-impact <fidelity@cutover.invalid>",
    }
    catalog_path = tmp_path / "catalog.json"
    catalog_path.write_text(json.dumps({"streams": []}))
    result = run_tap(impact, tmp_path, "--catalog", str(catalog_path), config=config, check=False)
    assert result.returncode != 0
    assert "401" in result.stderr


def sync_counts(emulator, tmp_path):
    """A discovery, every stream selected, a full sync: records per stream
    (and the distinct keys seen per stream), and the tap's stderr."""
    discovered = json.loads(run_tap(emulator, tmp_path, "--discover").stdout)
    assert {stream["tap_stream_id"] for stream in discovered["streams"]} == TAP_STREAMS
    catalog_path = tmp_path / "catalog.json"
    catalog_path.write_text(json.dumps(select_all(discovered)))
    result = run_tap(emulator, tmp_path, "--catalog", str(catalog_path))
    counts: dict = {}
    ids: dict = {}
    for line in result.stdout.splitlines():
        message = json.loads(line)
        if message["type"] == "RECORD":
            stream = message["stream"]
            counts[stream] = counts.get(stream, 0) + 1
            record = message["record"]
            key = record.get("id") or record.get("batch_id") or record.get("catalog_item_id") or record.get("company_name")
            ids.setdefault(stream, set()).add((record.get("campaign_id"), key))
    # Each record once.
    for stream, count in counts.items():
        assert len(ids[stream]) == count, stream
    print("tap-impact records per stream:", json.dumps(counts, sort_keys=True))
    return counts, result.stderr


def full_table(totals: dict) -> dict:
    """The streams the tap reads whole: exactly what was seeded."""
    names = [
        "campaigns", "media_partners", "media_partner_groups", "contacts", "ads", "deals", "promo_codes",
        "unique_urls", "invoices", "catalogs", "catalog_items", "exception_lists", "exception_list_items",
        "phone_numbers", "reports", "api_submissions", "ftp_file_submissions", "tracking_value_requests",
        "company_information",
    ]
    expected = {name: totals[name] for name in names}
    expected["report_metadata"] = totals["reports"]
    return expected


def test_tap_impact_full_sync_of_one_program(one_program, tmp_path):
    truth = seeded(one_program)
    assert len(truth["campaigns"]) == 1
    counts, err = sync_counts(one_program, tmp_path)
    totals = truth["totals"]
    expected = full_table(totals)
    for name in ("actions", "action_updates", "action_inquiries", "notes"):
        expected[name] = totals[name]
    print("seeded totals:", json.dumps(totals, sort_keys=True))
    assert counts == expected, err[-4000:]


def test_tap_impact_full_sync(impact, tmp_path):
    truth = seeded(impact)
    counts, err = sync_counts(impact, tmp_path)
    totals = truth["totals"]
    campaigns = truth["campaigns"]
    start = moment(START_DATE)
    expected = {
        **full_table(totals),
        "actions": tap_count([c["action_event_dates"] for c in campaigns], start, True),
        "action_updates": tap_count([c["action_update_dates"] for c in campaigns], start, True),
        "action_inquiries": tap_count([c["action_inquiry_dates"] for c in campaigns], start, False),
        "notes": tap_count([c["note_dates"] for c in campaigns], start, False),
    }
    print("seeded totals:", json.dumps(totals, sort_keys=True))
    assert counts == expected, err[-4000:]
    # The first program is read whole: what the tap leaves out of the others
    # is only what its shared bookmark skips.
    first = campaigns[0]
    assert expected["actions"] >= first["actions"] and expected["action_updates"] >= first["action_updates"]
