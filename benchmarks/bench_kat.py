"""A month of KAT for ledgers of 1,000, 100,000 and 1,000,000 rows over 100, 5,000 and 50,000 members.

Each size is timed two ways, beside a baseline in the same run: a pandas groupby/merge
implementation of the same rules (kat.md sections 2 to 4, in binary floats, written for this
benchmark) that must agree with the engine's KAT for every member.
- compute: the engine on records already read / pandas on a DataFrame already read;
- from CSV: reading the ledger and state files and computing (katsheet's CSV reader / pd.read_csv).

    python benchmarks/bench_kat.py [--sizes 1000,100000]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
import pandas as pd
from _table import show, timed_together

from katsheet.engine.kat import KatConfig, compute_period
from katsheet.io.katfiles import load_config, load_guardrails, read_ledger, read_states

SIZES = {1_000: 100, 100_000: 5_000, 1_000_000: 50_000}
MONTH = "2026-11"
START, END = dt.date(2026, 11, 1), dt.date(2026, 11, 30)


def write_month(folder: Path, rows: int, members: int, config: KatConfig, seed: int = 11) -> tuple[Path, Path]:
    """A realistic month: most rows verified and fine; pending, disputed, void, late, limited and flawed ones mixed in."""
    rng = random.Random(seed)
    names = [f"member {i:06d}" for i in range(members)]
    rules = [(r.id, r.stakeholder) for r in config.rules]
    ledger, state = folder / f"ledger_{rows}.csv", folder / f"state_{rows}.csv"
    with ledger.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["entry", "date", "member", "stakeholder", "rule", "quantity", "evidence", "verified_by",
                    "verified_on", "status", "notes"])  # fmt: skip
        for i in range(rows):
            member = names[rng.randrange(members)]
            rule, group = rules[rng.randrange(len(rules))]
            day = START + dt.timedelta(days=rng.randrange(30)) if rng.random() > 0.03 else dt.date(2026, 10, 28)
            status = rng.choices(["verified", "pending", "disputed", "void"], [90, 5, 3, 2])[0]
            verifier = "Organizer" if rng.random() > 0.01 else member
            evidence = f"https://ev.example/{i}" if rng.random() > 0.01 else ""
            w.writerow([f"E{i:07d}", day.isoformat(), member, group, rule, rng.choice((1, 1, 1, 2)), evidence,
                        verifier, min(day + dt.timedelta(days=2), END).isoformat(), status, ""])  # fmt: skip
    with state.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["member", "level", "streak", "last_active", "first_seen", "cumulative_kat"])
        for name in names[: members * 9 // 10]:  # a tenth are new this month
            last = dt.date(2026, 10, 31) - dt.timedelta(days=rng.randrange(90))
            w.writerow([name, rng.randrange(5), rng.randrange(3), last.isoformat(), "2026-01-01",
                        f"{rng.randrange(0, 200000) / 100:.2f}"])  # fmt: skip
    return ledger, state


def pandas_kat(config: KatConfig, ledger: pd.DataFrame, state: pd.DataFrame) -> pd.Series:
    """kat.md sections 2 to 4 with pandas in floats: KAT per member (index: member)."""
    rules = pd.DataFrame(
        {"rule": [r.id for r in config.rules], "rule_stakeholder": [r.stakeholder for r in config.rules],
         "rule_credits": [float(r.credits) for r in config.rules],
         "limit": [float(r.limit) if r.limit else np.inf for r in config.rules]}
    )  # fmt: skip
    df = ledger.merge(rules, on="rule", how="left")
    date = pd.to_datetime(df["date"])
    verified_on = pd.to_datetime(df["verified_on"])
    end = pd.Timestamp(END)
    quantity = pd.to_numeric(df["quantity"], errors="coerce")
    counted = (
        (df["status"].str.lower() == "verified") & df["rule_credits"].notna()
        & (df["stakeholder"].str.lower() == df["rule_stakeholder"].str.lower())
        & df["evidence"].fillna("").str.strip().ne("") & df["verified_by"].fillna("").str.strip().ne("")
        & (df["verified_by"].str.lower() != df["member"].str.lower()) & (date <= end) & (verified_on <= end)
        & ~df["entry"].str.lower().duplicated(keep=False) & (quantity >= 1) & (quantity % 1 == 0)
    )  # fmt: skip
    c = df[counted].assign(quantity=quantity[counted], date=date[counted])
    events = c.groupby(["member", "rule"], sort=False).agg(events=("quantity", "sum"), limit=("limit", "first"),
                                                           credits=("rule_credits", "first"))  # fmt: skip
    events["credited"] = np.minimum(events["events"], events["limit"]) * events["credits"]
    credits = events.groupby(level="member")["credited"].sum()
    last_row = c.groupby("member")["date"].max()
    first_row = pd.Series(date.values, index=df["member"]).groupby(level=0).min()
    members = pd.Index(state["member"]).union(df["member"].unique())
    s = state.set_index("member").reindex(members)
    level = s["level"].fillna(config.start_level).astype(int)
    streak = s["streak"].fillna(0).astype(int)
    last = pd.concat([pd.to_datetime(s["last_active"]), last_row.reindex(members)], axis=1).max(axis=1)
    first = pd.concat([pd.to_datetime(s["first_seen"]), first_row.reindex(members)], axis=1).min(axis=1)
    idle = (end - last.fillna(first)).dt.days
    active = last_row.reindex(members).notna()
    down = idle >= config.inactivity_days
    new_streak = np.where(down | ~active, 0, streak + 1)
    up = ~down & (new_streak >= config.promote_after)
    level = np.where(down, np.maximum(level - 1, 0), np.where(up, np.minimum(level + 1, config.top_level), level))
    multiplier = np.array([float(x.multiplier) for x in config.levels])[level]
    raw = credits.reindex(members).fillna(0).to_numpy() * float(config.kat_per_credit) * multiplier
    capped = np.minimum(raw, float(config.per_user_cap))
    total = capped.sum()
    scale = 1.0 if total <= float(config.global_cap) else float(config.global_cap) / total
    unit = 10**config.decimals
    kat = np.floor(np.round(capped * scale * unit, 6)) / unit
    return pd.Series(kat, index=members)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(str(n) for n in SIZES), help="ledger rows, comma-separated")
    sizes = [int(x) for x in parser.parse_args().sizes.split(",")]
    config = load_config(None, load_guardrails())
    table = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            members = SIZES.get(n, max(1, n // 20))
            ledger_csv, state_csv = write_month(Path(tmp), n, members, config)
            rows, states = read_ledger(ledger_csv), read_states(state_csv)
            frame, state_frame = pd.read_csv(ledger_csv, dtype=str), pd.read_csv(state_csv)
            repeat = 5 if n <= 100_000 else 2
            best, out = timed_together({
                "engine": lambda r=rows, s=states: compute_period(config, MONTH, r, (), s),
                "pandas": lambda f=frame, s=state_frame: pandas_kat(config, f, s),
                "full": lambda a=ledger_csv, b=state_csv: compute_period(config, MONTH, read_ledger(a), (),
                                                                         read_states(b)),
                "pandas_full": lambda a=ledger_csv, b=state_csv: pandas_kat(config, pd.read_csv(a, dtype=str),
                                                                            pd.read_csv(b)),
            }, repeat=repeat)  # fmt: skip
            engine_s, pandas_s, full_s, pandas_full_s = (
                best["engine"],
                best["pandas"],
                best["full"],
                best["pandas_full"],
            )
            period, kat = out["engine"], out["pandas"]
            mine = {m.member: m.kat for m in period.members}
            differ = sum(
                1
                for name, v in kat.items()
                if Decimal(repr(v)).quantize(Decimal(1).scaleb(-config.decimals)) != mine[name]
            )
            table.append([f"{n:,}", f"{members:,}", f"{engine_s:.3f}", f"{pandas_s:.3f}", f"{engine_s / pandas_s:.2f}x",
                          f"{full_s:.3f}", f"{pandas_full_s:.3f}", f"{full_s / pandas_full_s:.2f}x",
                          f"{len(period.mint_list):,}", str(differ)])  # fmt: skip
    show(
        "katsheet kat: a month of KAT, exact (katsheet) vs pandas groupby/merge in floats (interleaved in one run; best of 5 up to 100,000, of 2 above)",
        ["ledger rows", "members", "compute s", "pandas s", "ratio", "from CSV s", "pandas+read_csv s", "ratio",
         "mint list", "members differing"],
        table,
    )  # fmt: skip


if __name__ == "__main__":
    main()
