"""Writes the sample exports in examples/ from a fixed seed: an ESP's member
export (esp-export/) and an old affiliate platform's export (affiliate-export/:
partners with parents, links, clicks, conversions, commissions).

The files are committed; run this again only to change them:
    python3 examples/generate_samples.py

The mess is deliberate and each kind is counted in the summary it prints:
bad emails, addresses that differ only by case, names in several scripts,
quoted newlines, amounts with thousands separators and decimal commas,
timestamps with and without offsets, and a row with no id. The affiliate
export adds statuses in the old platform's words, a referral cycle, a partner
referred by one that no longer exists, clicks purged before their conversions,
and malformed IP addresses.
"""

import csv
import random
from pathlib import Path

SEED = 20261123
ROWS = 300

FIRST = ["Ada", "Zoë", "José", "Chloé", "Björn", "Aiko", "Wei", "Olusegun", "Priya", "Łukasz",
         "Дмитрий", "Σοφία", "美咲", "Noah", "Fatima", "محمد", "Nguyễn", "Søren"]
LAST = ["Lovelace", "Müller", "García", "Ødegaard", "Tanaka", "Chen", "Adeyemi", "Patel",
        "Kowalski", "Иванов", "Παπαδοπούλου", "佐藤", "O'Brien", "Al-Sayed", "Trần", "Jensen"]
DOMAINS = ["example.com", "example.org", "mail.example.net", "example.co.uk"]
STATUSES = ["subscribed"] * 6 + ["unsubscribed", "cleaned", "pending", "transactional"]
TAGS = ["vip", "newsletter", "black-friday", "webinar", "trial"]


def amount(rng: random.Random) -> str:
    value = rng.randint(0, 500_000) / 100
    style = rng.choice(["plain", "thousands", "comma", "comma_thousands"])
    if style == "plain":
        return f"{value:.2f}"
    if style == "thousands":
        return f"{value:,.2f}"
    text = f"{value:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    return text if style == "comma_thousands" else text.replace(".", "")


def timestamp(rng: random.Random) -> str:
    day, hour, minute = rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59)
    month = rng.randint(1, 12)
    if rng.random() < 0.5:
        return f"2025-{month:02d}-{day:02d} {hour:02d}:{minute:02d}:07"
    offset = rng.choice(["+02:00", "-05:00", "Z"])
    return f"2025-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:07{offset}"


def members(rng: random.Random) -> tuple[list[list[str]], dict[str, int]]:
    header = ["Email Address", "First Name", "Last Name", "Phone", "Status", "Tags", "Lifetime Value",
              "Notes", "Last Changed", "LEID"]
    rows, counts = [header], {"bad_email": 0, "case_duplicate": 0, "quoted_newline": 0, "missing_id": 0}
    for index in range(ROWS):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"member{index}@{rng.choice(DOMAINS)}"
        roll = rng.random()
        if roll < 0.03:
            email = rng.choice([f"member{index}.example.com", f"member{index}@", "not an email", f"m {index}@example.com"])
            counts["bad_email"] += 1
        elif roll < 0.06 and index > 0:
            email = f"MEMBER{index - 1}@{DOMAINS[0].upper()}"
            counts["case_duplicate"] += 1
        notes = ""
        if rng.random() < 0.05:
            notes = "called twice,\nasked for a callback"
            counts["quoted_newline"] += 1
        leid = str(100_000 + index)
        if index == 137:
            leid = ""
            counts["missing_id"] += 1
        phone = rng.choice(["", f"+44 20 7946 {rng.randint(0, 9999):04d}", f"(212) 555-{rng.randint(0, 9999):04d}"])
        tags = ",".join(sorted(rng.sample(TAGS, rng.randint(0, 2))))
        rows.append([email, first, last, phone, rng.choice(STATUSES), tags, amount(rng), notes, timestamp(rng), leid])
    return rows, counts


PARTNER_STATUSES = ["Approved"] * 8 + ["Pending", "Declined", "Suspended", "On Hold"]
CURRENCIES = ["EUR", "usd", "GBP", "JPY"]


def money(rng: random.Random, currency: str, low: int, high: int) -> str:
    if currency == "JPY":
        yen = rng.randint(low, high) * 100
        # Now and then grouped: `12,300` could as well be 12.3, so it is rejected as ambiguous.
        return f"{yen:,}" if rng.random() < 0.1 else str(yen)
    return amount_between(rng, low, high)


def amount_between(rng: random.Random, low: int, high: int) -> str:
    value = rng.randint(low * 100, high * 100) / 100
    style = rng.choice(["plain", "thousands", "comma"])
    if style == "plain":
        return f"{value:.2f}"
    if style == "thousands":
        return f"{value:,.2f}"
    return f"{value:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")


def affiliate(rng: random.Random) -> dict[str, list[list[str]]]:
    """One table per file; ids are the old platform's own (A-…, L-…, …)."""
    partners = [["Affiliate ID", "Name", "Email", "Company", "Status", "Tier", "Referred By", "Payout Method",
                 "Joined", "Notes"]]
    count = 150
    for index in range(count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        referred_by = f"A-{rng.randint(1000, 1000 + index - 1)}" if index > 5 and rng.random() < 0.35 else ""
        if index == 40:
            referred_by = "A-1041"  # A-1040 and A-1041 referred each other: a cycle
        if index == 41:
            referred_by = "A-1040"
        if index == 77:
            referred_by = "A-0999"  # a partner deleted from the old platform
        email = f"{first.lower()}.{index}@{rng.choice(DOMAINS)}"
        if index % 37 == 0:
            email = email.upper()
        notes = "prefers bank transfer,\npaid quarterly" if rng.random() < 0.04 else ""
        partners.append([f"A-{1000 + index}", f"{first} {last}", email, rng.choice(["", f"{last} Media", f"{last} & Co"]),
                         rng.choice(PARTNER_STATUSES), rng.choice(["", "bronze", "silver", "gold"]), referred_by,
                         rng.choice(["PayPal", "bank transfer", "Wise"]), timestamp(rng), notes])
    linked = [index for index in range(count) if index != 77]
    links = [["Link ID", "Affiliate ID", "URL", "Landing Page", "Created"]]
    for index in range(200):
        partner = rng.choice(linked)
        links.append([f"L-{5000 + index}", f"A-{1000 + partner}", f"https://go.example.com/r/{5000 + index}",
                      rng.choice(["", "https://shop.example.com/spring", "https://shop.example.com/ünïcode"]),
                      timestamp(rng)])
    clicks = [["Click ID", "Affiliate ID", "Link ID", "Sub IDs", "Clicked", "IP", "User Agent", "Referrer"]]
    for index in range(400):
        link = rng.randrange(200)
        partner = links[link + 1][1]
        ip = f"203.0.113.{rng.randint(1, 254)}" if rng.random() < 0.97 else f"999.0.113.{index % 10}"
        sub_ids = rng.choice(["", "fb", "fb,spring", "newsletter,,q2"])
        clicks.append([f"c{9_000_000 + index}", partner, f"L-{5000 + link}", sub_ids, timestamp(rng), ip,
                       "Mozilla/5.0 (X11; Linux x86_64)", rng.choice(["", "https://blog.example.org/review"])])
    conversions = [["Conversion ID", "Click ID", "Affiliate ID", "Order ID", "Sale Amount", "Currency", "Status", "Date"]]
    for index in range(200):
        click = rng.randrange(400)
        click_id, partner = clicks[click + 1][0], clicks[click + 1][1]
        if rng.random() < 0.1:
            click_id = ""  # a coupon sale: no click
        elif rng.random() < 0.03:
            click_id = f"c{8_000_000 + index}"  # purged from the old platform before the export
        currency = rng.choice(CURRENCIES)
        conversions.append([f"V-{20000 + index}", click_id, partner, f"#{100000 + index}", money(rng, currency, 5, 2500),
                            currency, rng.choice(["approved"] * 5 + ["pending", "declined", "refunded"]),
                            timestamp(rng)])
    parents = {row[0]: row[6] for row in partners[1:]}
    commissions = [["Commission ID", "Conversion ID", "Affiliate ID", "Amount", "Currency", "Status", "Level",
                    "Created"]]
    for conversion in conversions[1:]:
        earners = [(conversion[2], 1)]
        if parents.get(conversion[2]):
            earners.append((parents[conversion[2]], 2))
        for partner, level in earners:
            commissions.append([f"M-{30000 + len(commissions)}", conversion[0], partner,
                                money(rng, conversion[5], 1, 250), conversion[5],
                                rng.choice(["approved", "pending", "paid", "void"]), str(level), timestamp(rng)])
    return {"partners": partners, "links": links, "clicks": clicks, "conversions": conversions,
            "commissions": commissions}


def write(target: Path, rows: list[list[str]], note: str = "") -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", newline="", encoding="utf-8") as file:
        csv.writer(file).writerows(rows)
    print(f"{target}: {len(rows) - 1} rows{note}")


def main() -> None:
    rng = random.Random(SEED)
    rows, counts = members(rng)
    write(Path(__file__).parent / "esp-export" / "contacts.csv", rows, f", {counts}")
    tables = affiliate(random.Random(SEED + 1))
    for name, table in tables.items():
        write(Path(__file__).parent / "affiliate-export" / f"{name}.csv", table)


if __name__ == "__main__":
    main()
