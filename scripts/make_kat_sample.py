"""Write the built-in KAT sample month (CED, November 2026) into katsheet/data/.

docs/kat.md walks through every member's figure. Run: python scripts/make_kat_sample.py
"""

from __future__ import annotations

import csv
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "katsheet" / "data"
ORGANIZER = "Priya Nair"  # the sessions' organizer, not a member: she verifies most rows

LEDGER_HEADER = ["entry", "date", "member", "stakeholder", "rule", "quantity", "evidence", "verified_by",
                 "verified_on", "status", "notes"]  # fmt: skip

# (member, stakeholder, rule, quantity, day of November, verifier) for the ordinary verified rows
ROWS = [
    # Amara: a busy Guide, 6 one-to-ones and 4 group sessions = 14 credits: raw 70, capped at 50
    *[("Amara Okafor", "Guides", "G1", 1, d, ORGANIZER) for d in (3, 5, 9, 12, 17, 24)],
    *[("Amara Okafor", "Guides", "G2", 1, d, ORGANIZER) for d in (6, 13, 20, 27)],
    # Bruno: 3 one-to-ones and a group session (a second group session is disputed)
    *[("Bruno Silva", "Guides", "G1", 1, d, ORGANIZER) for d in (4, 11, 18)],
    ("Bruno Silva", "Guides", "G2", 1, 21, ORGANIZER),
    # Chen: level 2 with a streak of 2; active again, so promoted to Trusted (x1.2) this month
    *[("Chen Wei", "Guides", "G1", 1, d, ORGANIZER) for d in (2, 10, 16, 23, 30)],
    ("Chen Wei", "Guides", "G2", 1, 14, ORGANIZER),
    # Dana: a Trusted Guide, active, but an exception against her was upheld: back to Member
    *[("Dana Kowalski", "Guides", "G1", 1, d, ORGANIZER) for d in (7, 19)],
    ("Dana Kowalski", "Guides", "G2", 1, 26, ORGANIZER),
    # Emeka: two group sessions
    *[("Emeka Nwosu", "Guides", "G2", 1, d, ORGANIZER) for d in (8, 22)],
    # Fatima: an Explorer who did everything
    *[("Fatima Zahra", "Explorers", "E1", 1, d, "Amara Okafor") for d in (3, 9, 17, 24)],
    ("Fatima Zahra", "Explorers", "E2", 1, 25, ORGANIZER),
    ("Fatima Zahra", "Explorers", "E3", 1, 28, ORGANIZER),
    ("Fatima Zahra", "Explorers", "E4", 1, 29, ORGANIZER),
    # Gabriel: sessions (one row is late: October's, verified in November)
    *[("Gabriel Rossi", "Explorers", "E1", 1, d, "Bruno Silva") for d in (4, 11, 18)],
    ("Gabriel Rossi", "Explorers", "E2", 1, 19, ORGANIZER),
    # Hana: two sessions (a referral is still pending)
    *[("Hana Sato", "Explorers", "E1", 1, d, "Chen Wei") for d in (10, 16)],
    # Julia: Provisional (x0.5), four sessions and the 4-in-30-days bonus
    *[("Julia Meyer", "Explorers", "E1", 1, d, "Chen Wei") for d in (2, 9, 16, 23)],
    ("Julia Meyer", "Explorers", "E3", 1, 23, ORGANIZER),
    # Kwame: D1 is limited to once a month; it was verified twice (the second is beyond the limit)
    ("Kwame Mensah", "DAO Members", "D1", 1, 5, ORGANIZER),
    ("Kwame Mensah", "DAO Members", "D1", 1, 26, ORGANIZER),
    ("Kwame Mensah", "DAO Members", "D2", 1, 15, "Lena Fischer"),
    # Lena: participation and two improvements in one row (quantity 2)
    ("Lena Fischer", "DAO Members", "D1", 1, 5, ORGANIZER),
    ("Lena Fischer", "DAO Members", "D2", 2, 20, "Kwame Mensah"),
    # Marco: suspended (level 0): his credits are recorded, his KAT is 0
    ("Marco Diaz", "DAO Members", "D1", 1, 5, ORGANIZER),
    ("Marco Diaz", "DAO Members", "D2", 1, 12, "Lena Fischer"),
    # Nadia: a Steward (x1.5) whose cumulative KAT crosses Forest's 1500 this month
    ("Nadia Haddad", "DAO Members", "D1", 1, 5, ORGANIZER),
    *[("Nadia Haddad", "DAO Members", "D2", 1, d, "Kwame Mensah") for d in (9, 23)],
    # Olu: new this month (starts at Member)
    ("Olu Adeyemi", "DAO Members", "D1", 1, 5, ORGANIZER),
    ("Olu Adeyemi", "DAO Members", "D2", 1, 27, "Nadia Haddad"),
    # Sofia: a new Explorer
    *[("Sofia Lindqvist", "Explorers", "E1", 1, d, "Emeka Nwosu") for d in (13, 20, 27)],
    ("Sofia Lindqvist", "Explorers", "E2", 1, 28, ORGANIZER),
]


def ledger() -> list[list[str]]:
    out = []
    for i, (member, group, rule, q, day, verifier) in enumerate(ROWS, start=1):
        verified = min(day + 2, 30)
        out.append([f"CED-{i:04d}", f"2026-11-{day:02d}", member, group, rule, str(q),
                    f"https://ced.example/sessions/{i:04d}", verifier, f"2026-11-{verified:02d}", "verified", ""])  # fmt: skip
    n = len(out)
    extra = [
        # a late row: an October session verified in November counts now, flagged late
        [
            "2026-10-29",
            "Gabriel Rossi",
            "Explorers",
            "E1",
            "1",
            "Bruno Silva",
            "2026-11-03",
            "verified",
            "October session, verified late",
        ],
        # pending and disputed rows do not count; they are carried, open, into December
        [
            "2026-11-25",
            "Hana Sato",
            "Explorers",
            "E4",
            "1",
            "",
            "",
            "pending",
            "referral: second session not yet confirmed",
        ],
        [
            "2026-11-28",
            "Bruno Silva",
            "Guides",
            "G2",
            "1",
            ORGANIZER,
            "2026-11-30",
            "disputed",
            "attendance list shows 4 participants",
        ],
        # verified after the month closed: counts in December, not in November
        ["2026-11-30", "Emeka Nwosu", "Guides", "G1", "1", ORGANIZER, "2026-12-02", "verified", "verified in December"],
        # voided by the organizer: a duplicate claim
        [
            "2026-11-12",
            "Amara Okafor",
            "Guides",
            "G1",
            "1",
            ORGANIZER,
            "2026-11-14",
            "void",
            "same session as CED-0004",
        ],
    ]
    for j, (date, member, group, rule, q, verifier, on, status, notes) in enumerate(extra, start=n + 1):
        out.append([f"CED-{j:04d}", date, member, group, rule, q, f"https://ced.example/sessions/{j:04d}", verifier,
                    on, status, notes])  # fmt: skip
    return out


STATE = [
    ["member", "level", "streak", "last_active", "first_seen", "cumulative_kat"],
    ["Amara Okafor", "2", "1", "2026-10-28", "2026-03-02", "412.50"],
    ["Bruno Silva", "2", "0", "2026-10-21", "2026-04-11", "160"],
    ["Chen Wei", "2", "2", "2026-10-30", "2026-02-15", "285"],
    ["Dana Kowalski", "3", "1", "2026-10-19", "2025-11-07", "930"],
    ["Emeka Nwosu", "2", "1", "2026-10-08", "2026-06-20", "75"],
    ["Fatima Zahra", "2", "0", "2026-10-24", "2026-05-03", "64"],
    ["Gabriel Rossi", "2", "1", "2026-10-29", "2026-07-14", "31.5"],
    ["Hana Sato", "2", "0", "2026-10-16", "2026-08-01", "12.5"],
    ["Ivan Petrov", "2", "0", "2026-09-15", "2026-01-20", "245"],
    ["Julia Meyer", "1", "0", "2026-10-23", "2026-04-02", "38.75"],
    ["Kwame Mensah", "2", "0", "2026-10-05", "2025-12-01", "520"],
    ["Lena Fischer", "2", "1", "2026-10-20", "2026-01-09", "300"],
    ["Marco Diaz", "0", "0", "2026-10-12", "2025-10-01", "610"],
    ["Nadia Haddad", "4", "0", "2026-10-27", "2025-09-12", "1470"],
]

EXCEPTIONS = [
    ["id", "date", "member", "kind", "decision", "notes"],
    [
        "X-2026-11-01",
        "2026-11-20",
        "Dana Kowalski",
        "misconduct",
        "upheld",
        "claimed a group session that did not take place (sealed row CED-0388 in October)",
    ],
    ["X-2026-11-02", "2026-11-29", "Bruno Silva", "dispute", "open", "attendance of CED-0067 under review"],
]


def blocked() -> list[list[str]]:
    """The same month with the row problems that block settlement (one of each kind)."""
    rows = ledger()
    n = len(rows)
    problems = [
        [
            "2026-11-18",
            "Emeka Nwosu",
            "Guides",
            "G1",
            "1",
            "https://ced.example/sessions/p1",
            "Emeka Nwosu",
            "2026-11-19",
            "verified",
            "self-verified",
        ],
        ["2026-11-19", "Chen Wei", "Guides", "G2", "1", "", ORGANIZER, "2026-11-20", "verified", "no evidence"],
        [
            "2026-11-20",
            "Fatima Zahra",
            "Explorers",
            "E9",
            "1",
            "https://ced.example/sessions/p3",
            ORGANIZER,
            "2026-11-21",
            "verified",
            "no such rule",
        ],
        [
            "2026-11-21",
            "Kwame Mensah",
            "DAO Members",
            "G1",
            "1",
            "https://ced.example/sessions/p4",
            ORGANIZER,
            "2026-11-22",
            "verified",
            "a DAO Member claiming a Guides rule",
        ],
        [
            "2026-11-22",
            "Sofia Lindqvist",
            "Explorers",
            "E1",
            "1.5",
            "https://ced.example/sessions/p5",
            ORGANIZER,
            "2026-11-23",
            "verified",
            "half a session",
        ],
        [
            "2026-11-23",
            "Hana Sato",
            "Explorers",
            "E2",
            "1",
            "https://ced.example/sessions/p6",
            ORGANIZER,
            "2026-11-24",
            "approved",
            "status outside the list",
        ],
        [
            "2026-12-03",
            "Lena Fischer",
            "DAO Members",
            "D2",
            "1",
            "https://ced.example/sessions/p7",
            "Kwame Mensah",
            "2026-11-30",
            "verified",
            "dated in December",
        ],
    ]
    for j, row in enumerate(problems, start=n + 1):
        rows.append([f"CED-{j:04d}", *row])
    rows.append(["CED-0001", *rows[0][1:6], "https://ced.example/sessions/copy", *rows[0][7:10], "pasted twice"])
    return rows


def write(name: str, rows: list[list[str]]) -> None:
    with (DATA / name).open("w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


if __name__ == "__main__":
    write("ced_ledger.csv", [LEDGER_HEADER, *ledger()])
    write("ced_ledger_blocked.csv", [LEDGER_HEADER, *blocked()])
    write("ced_state.csv", STATE)
    write("ced_exceptions.csv", EXCEPTIONS)
    print(f"wrote the KAT sample into {DATA}")
