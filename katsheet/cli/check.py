"""`katsheet check`: does a hand-edited workbook still follow the rules? Exit 0 clean, 1 findings, 2 unusable."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from rich.text import Text

from ..engine import InputError
from ..io.katfiles import load_config, load_guardrails
from ..workbook.checker import KINDS, Report, check
from ..workbook.functions_check import check_functions
from ..workbook.kat_reader import config_findings
from ..workbook.reader import Finding, FunctionsWorkbook, read_workbook
from .options import PATH

EXIT_CLEAN, EXIT_FINDINGS, EXIT_UNUSABLE = 0, 1, 2
#: cells listed per cause on the terminal (all of them in --json)
SHOWN_PER_CAUSE = 5
#: formulas and values longer than this are shortened in the middle on the terminal
SHORT = 60


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def summary_line(report: Report) -> str:
    if report.clean:
        return f"{report.path}: clean ({report.template}): the numbers follow the rules."
    counts = report.counts()
    parts = [f"{counts[k]} {k}" for k in KINDS if k in counts]
    note = "" if report.numbers_checked else "; numbers not checked until these are fixed"
    return f"{report.path}: {plural(len(report.findings), 'finding')} ({', '.join(parts)}){note}."


def shorten(text: str, limit: int = SHORT) -> str:
    """A long formula or value on one screen line: its start and end, the middle elided."""
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    keep = (limit - 3) // 2
    return f"{text[:keep]}...{text[-keep:]}"


def causes(report: Report) -> list[tuple[str, str, list[Finding]]]:
    """Findings grouped by kind and cause (their message), in the report's order."""
    groups: dict[tuple[str, str], list[Finding]] = {}
    for f in report.findings:
        groups.setdefault((f.kind, f.message), []).append(f)
    return [(kind, message, found) for (kind, message), found in groups.items()]


def print_report(report: Report, console: Console) -> None:
    """The summary line, then each cause once with how many cells it touches and a few of them.

    User text (names, paths, formulas) is printed as plain text: ``[/x]`` in a name is a name.
    """
    console.print(Text(summary_line(report), style="bold green" if report.clean else "bold red"))
    if report.clean:
        return
    table = Table(show_lines=False, header_style="bold")
    for name in ("kind", "cells", "cause", "expected", "found"):
        table.add_column(name, overflow="fold")
    for kind, message, found in causes(report):
        shown = found[:SHOWN_PER_CAUSE]
        cells = ", ".join(f"{f.sheet}!{f.cell}" if i == 0 or f.sheet != shown[i - 1].sheet else f.cell
                          for i, f in enumerate(shown))  # fmt: skip
        if len(found) > len(shown):
            cells += f" and {len(found) - len(shown):,} more"
        first = found[0]
        count = f" ({len(found)} cells)" if len(found) > 1 else ""
        table.add_row(Text(kind), Text(cells), Text(message + count), Text(shorten(first.expected)),
                      Text(shorten(first.found)))  # fmt: skip
    console.print(table)


def _files(paths: tuple[Path, ...]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out += sorted(
                q for q in p.iterdir() if q.suffix.lower() in (".xlsx", ".xlsm") and not q.name.startswith("~$")
            )
        else:
            out.append(p)
    return out


def _check_one(path: Path, evaluate: bool, whole_model: bool = False, config: tuple | None = None) -> Report | str:
    book = None
    try:
        book = read_workbook(path, evaluate_early=evaluate and not whole_model)
        if config is not None:  # a KAT month against the DAO's TOML file
            extra = config_findings(book, *config)
            book.findings += extra
            book.informational += extra
        return check(book, evaluate_formulas=evaluate, whole_model=whole_model)
    except FunctionsWorkbook as sheet:  # a sheet built from GRAPE_* calls, not from a template
        return check_functions(sheet.path, sheet.formulas, sheet.cached, sheet.sheetnames)
    except InputError as e:
        return e.line()
    finally:
        if book is not None and book.early is not None:  # a check that did not take it (an error)
            book.early.close()


@click.command(name="check")
@click.argument("paths", nargs=-1, required=True, type=PATH)
@click.option(
    "--json", "as_json", is_flag=True, help="Print the findings as JSON (kind, sheet, cell, expected, found, message)."
)
@click.option("--no-evaluate", is_flag=True, help="Skip evaluating the formulas (compare cached values only).")
@click.option(
    "--whole-model",
    is_flag=True,
    help="Evaluate with the formulas package's ExcelModel cell by cell instead of column by column "
    "(the same answers; minutes for 1,000 members).",
)
@click.option(
    "--annotate",
    "annotate_to",
    type=PATH,
    help="Write a copy of the workbook with the failing cells filled red and commented.",
)
@click.option("--force", is_flag=True, help="With --annotate: overwrite the copy if it exists.")
@click.option("--config", "config_path", type=PATH, help="KAT months: the DAO's configuration (TOML) to compare with.")
@click.option("--guardrails", "guardrails_path", type=PATH, help="With --config: a cohort's own guardrails (TOML).")
def check_command(
    paths: tuple[Path, ...],
    as_json: bool,
    no_evaluate: bool,
    whole_model: bool,
    annotate_to: Path | None,
    force: bool,
    config_path: Path | None = None,
    guardrails_path: Path | None = None,
) -> None:
    """Check FILE.xlsx (or several files, or a folder) against the rules and the template."""
    dao = None
    if config_path is not None:
        dao = (load_config(config_path, load_guardrails(guardrails_path)), config_path.name)
    files = _files(paths)
    if not files:
        raise InputError("no .xlsx files to check", where=", ".join(str(p) for p in paths))
    if annotate_to is not None:
        if len(files) != 1:
            raise InputError("--annotate takes one workbook to check", where="--annotate", value=str(annotate_to))
        if annotate_to.resolve() == files[0].resolve():
            raise InputError("the annotated copy must not replace the workbook checked", where="--annotate",
                             value=str(annotate_to))  # fmt: skip
        if annotate_to.exists() and not force:
            raise InputError("already exists; pass --force to overwrite it", where=str(annotate_to))
    console = Console()
    if not console.is_terminal:
        console.width = max(console.width, 160)
    errors = Console(stderr=True)
    results: list[tuple[Path, Report | str]] = []
    if len(files) == 1:
        results.append((files[0], _check_one(files[0], not no_evaluate, whole_model, dao)))
    else:
        with Progress(console=Console(stderr=True), transient=True) as progress:
            task = progress.add_task("checking", total=len(files))
            for path in files:
                progress.update(task, description=f"checking {path.name}")
                results.append((path, _check_one(path, not no_evaluate, whole_model, dao)))
                progress.advance(task)
    if as_json:
        out = [
            {"file": str(p), "error": r} if isinstance(r, str) else
            {"file": str(p), "template": r.template, "clean": r.clean, "numbers_checked": r.numbers_checked,
             "findings": [asdict(f) for f in r.findings]}
            for p, r in results
        ]  # fmt: skip
        click.echo(json.dumps(out[0] if len(out) == 1 else out, indent=2, ensure_ascii=False, default=str))
    else:
        for _, r in results:
            if isinstance(r, str):
                errors.print(Text(f"katsheet: error: {r}", style="bold red"), soft_wrap=True)
            else:
                print_report(r, console)
        if len(results) > 1:
            _summary_table(results, console)
    if annotate_to is not None and isinstance(results[0][1], Report):
        from ..workbook.annotate import annotate  # openpyxl's comment writers: only for --annotate

        marked = annotate(files[0], results[0][1], annotate_to, force=force)
        errors.print(Text(f"Wrote {annotate_to}: {plural(marked, 'cell')} marked."))
    code = max((EXIT_UNUSABLE if isinstance(r, str) else EXIT_CLEAN if r.clean else EXIT_FINDINGS) for _, r in results)
    raise click.exceptions.Exit(code)


def _summary_table(results: list[tuple[Path, Report | str]], console: Console) -> None:
    table = Table(title="Summary", title_justify="left")
    table.add_column("file")
    table.add_column("result")
    for kind in KINDS:
        table.add_column(kind, justify="right")
    for path, r in results:
        if isinstance(r, str):
            table.add_row(Text(path.name), Text("unusable", style="red"), *["" for _ in KINDS])
        else:
            counts = r.counts()
            table.add_row(Text(path.name), Text("clean", style="green") if r.clean else Text("findings", style="red"),
                          *[str(counts.get(k, "")) for k in KINDS])  # fmt: skip
    console.print(table)
