"""Check months of 1,000 (and with --full 10,000) members, fresh and after a LibreOffice round trip
(the file as a treasurer has it after saving it in LibreOffice), beside the baselines measured
in the same run on the same files: LibreOffice's own recalculation, and (at 1,000) `formulas`'
ExcelModel. Each measurement is a fresh process, so its peak memory is its own (max RSS).

    python benchmarks/bench_check.py            # 1,000 members
    python benchmarks/bench_check.py --full     # and 10,000 members
    python benchmarks/bench_check.py --sizes 11980  # any sizes (11,980 + 20 spare: the 12,000-row ceiling)

Months carry 20 spare rows, as `katsheet new` writes them (spare rows used to send the rank column
to a slow path). Needs LibreOffice for the saved file and its baseline; everything else is what a
plain `pip install -e .` gives.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _months import month, write
from _table import installed_bytecode, show
from rich.progress import Progress

from katsheet.workbook.libreoffice import recalculate, soffice

CHECK = (
    "import sys, contextlib, io; from katsheet.cli.main import main; out = io.StringIO()\n"
    "with contextlib.redirect_stdout(out):\n    code = main(['check', str(P)])\n"
    "assert code == 0, out.getvalue()"
)
MODEL = (
    "import os; os.environ['TQDM_DISABLE']='1'; import formulas; "
    "formulas.ExcelModel().loads(str(P)).finish().calculate()"
)
RECALC = "from katsheet.workbook.libreoffice import recalculate; import tempfile, pathlib; recalculate([P], pathlib.Path(tempfile.mkdtemp()))"


def measure(code: str, path: Path) -> tuple[float, float]:
    """Seconds and peak memory (MB, max RSS) of ``code`` run on ``path`` in a fresh process.

    Start-up (interpreter, imports) is outside the timed part; LibreOffice's own process is a
    child of the measured one, so its memory is not in the figure (its time is).
    """
    script = f"import time, pathlib; P = pathlib.Path({str(path)!r}); t = time.perf_counter()\n{code}\nprint(time.perf_counter() - t)"
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    out, err = proc.stdout.read().decode(), proc.stderr.read().decode()  # type: ignore[union-attr]
    if status != 0:
        raise RuntimeError(err[-2000:])
    return float(out.strip().splitlines()[-1]), usage.ru_maxrss / 1024


def command_seconds(path: Path) -> float:
    """`katsheet check FILE` as a user runs it: the whole command, start-up included."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "katsheet", "check", str(path)], capture_output=True, check=True)
    return time.perf_counter() - start


def main() -> None:
    installed_bytecode()
    sizes: tuple[int, ...] = (1_000, 10_000) if "--full" in sys.argv else (1_000,)
    if "--sizes" in sys.argv:
        sizes = tuple(int(n) for n in sys.argv[sys.argv.index("--sizes") + 1].split(","))
    have_lo = soffice() is not None
    rows = []
    with tempfile.TemporaryDirectory() as tmp, Progress() as progress:
        task = progress.add_task("measuring", total=len(sizes) * 6)
        for n in sizes:
            fresh = write(month(n), Path(tmp) / f"m{n}.xlsx")
            saved = recalculate([fresh], Path(tmp) / "saved")[0] if have_lo else None
            baseline = None
            if have_lo:
                progress.update(task, description=f"{n:,}: LibreOffice recalculation")
                seconds, mb = measure(RECALC, fresh)
                baseline = seconds
                rows.append(
                    [f"{n:,}", "baseline: LibreOffice headless recalculation", f"{seconds:.2f}", f"{mb:,.0f}", "1.00"]
                )
            progress.advance(task)
            for label, path in (("fresh", fresh), ("LibreOffice-saved", saved)):
                if path is None:
                    rows.append([f"{n:,}", f"check, {label}", "LibreOffice not installed", "", ""])
                    progress.advance(task, 2)
                    continue
                progress.update(task, description=f"{n:,}: check, {label}")
                seconds, mb = measure(CHECK, path)
                ratio = f"{seconds / baseline:.2f}" if baseline else ""
                rows.append(
                    [f"{n:,}", f"katsheet check, {label} (formulas evaluated)", f"{seconds:.2f}", f"{mb:,.0f}", ratio]
                )
                progress.advance(task)
                wall = command_seconds(path)
                rows.append(
                    [
                        f"{n:,}",
                        f"  the command, {label}, start-up included",
                        f"{wall:.2f}",
                        "",
                        f"{wall / baseline:.2f}" if baseline else "",
                    ]
                )
                progress.advance(task)
            if n <= 1_000:
                progress.update(task, description=f"{n:,}: formulas ExcelModel")
                seconds, mb = measure(MODEL, fresh)
                rows.append(
                    [
                        f"{n:,}",
                        "baseline: formulas ExcelModel loads+finish+calculate",
                        f"{seconds:.2f}",
                        f"{mb:,.0f}",
                        f"{seconds / baseline:.2f}" if baseline else "",
                    ]
                )
            progress.advance(task)
    show(
        "katsheet check beside LibreOffice's recalculation and formulas' ExcelModel (same files, same run)",
        ["members", "what", "seconds", "peak MB", "x LibreOffice"],
        rows,
    )


if __name__ == "__main__":
    main()
