#!/usr/bin/env python3
"""Write samples/message-trace.csv: four weeks of contoso-bakery.example's
outbound mail as an Exchange Online message-trace export
(`Get-MessageTrace | Export-Csv -NoTypeInformation`), before the demo's
outage. outcry counts messages per recipient domain in it to rank the key
correspondents. Deterministic: the same file on every run."""

import csv
import random
from datetime import datetime, timedelta, timezone

# Recipient domain and messages per working day (roughly).
VOLUME = [
    ("fabrikam-foods.example", 14),
    ("northwind-traders.example", 9),
    ("wingtip-restaurants.example", 7),
    ("gmail.com", 6),
    ("litware.example", 5),
    ("woodgrove-bank.example", 4),
    ("contoso-flour.example", 3),
    ("fineartschool.example", 3),
    ("treyresearch.example", 3),
    ("relecloud.example", 2),
    ("margiestravel.example", 2),
    ("lucernepublishing.example", 2),
    ("adventure-works.example", 2),
    ("proseware.example", 2),
    ("tailspin-toys.example", 1),
    ("fourth-coffee.example", 1),
    ("outlook.com", 1),
]
PEOPLE = ["orders", "accounts", "sales", "j.doe", "bakery"]


def main():
    rng = random.Random(20261104)
    start = datetime(2026, 10, 7, tzinfo=timezone.utc)
    rows = []
    n = 0
    for day in range(28):
        d = start + timedelta(days=day)
        if d.weekday() >= 5:
            continue
        for domain, per_day in VOLUME:
            for _ in range(max(0, per_day + rng.randint(-1, 1))):
                n += 1
                at = d + timedelta(hours=8 + rng.random() * 9)
                rows.append([
                    f"{n:08x}-0000-4000-8000-000000000000",
                    at.strftime("%m/%d/%Y %I:%M:%S %p"),
                    f"{rng.choice(PEOPLE)}@contoso-bakery.example",
                    f"buyer{rng.randint(1, 4)}@{domain}",
                    "40.107.22.93" if n % 2 else "40.107.22.94",
                    "",
                    "Order confirmation",
                    "Delivered",
                    str(rng.randint(20000, 90000)),
                    f"<{n}.{day}@contoso-bakery.example>",
                ])
    rows.sort(key=lambda r: datetime.strptime(r[1], "%m/%d/%Y %I:%M:%S %p"))
    with open("samples/message-trace.csv", "w", newline="") as f:
        w = csv.writer(f, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        w.writerow(["MessageTraceId", "Received", "SenderAddress", "RecipientAddress", "FromIP",
                    "ToIP", "Subject", "Status", "Size", "MessageId"])
        w.writerows(rows)


if __name__ == "__main__":
    main()
