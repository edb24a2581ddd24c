"""Writes the sample exports in examples/ from a fixed seed.

The files are committed; run this again only to change them:
    python3 examples/generate_samples.py

The mess is deliberate and each kind is counted in the summary it prints:
bad emails, addresses that differ only by case, names in several scripts,
quoted newlines, amounts with thousands separators and decimal commas,
timestamps with and without offsets, and a row with no id.
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


def main() -> None:
    rng = random.Random(SEED)
    rows, counts = members(rng)
    target = Path(__file__).parent / "esp-export" / "contacts.csv"
    with target.open("w", newline="", encoding="utf-8") as file:
        csv.writer(file).writerows(rows)
    print(f"{target}: {len(rows) - 1} rows, {counts}")


if __name__ == "__main__":
    main()
