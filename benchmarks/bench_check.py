"""Check workbooks of 10, 1,000 and 10,000 members; in the same run, time the `formulas` package's
own ExcelModel().loads(path).finish() + calculate() and a LibreOffice headless recalculation on the
same files. Each measurement runs in a fresh process, so its peak memory is its own (max RSS).

    python benchmarks/bench_check.py            # 10 and 1,000 members
    python benchmarks/bench_check.py --full     # also 10,000 members
    python benchmarks/bench_check.py --full --model   # and formulas' ExcelModel at 10,000 (hours)

The ExcelModel is not run at 10,000 members unless asked: it compares every row with every other
(rank, first occurrence, Members) cell by cell, about 150 s and 2 GB at 1,000 and quadratic.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _table import show
from bench_new import katsheet_write, month
from libreoffice import soffice
from rich.progress import Progress

JOBS = {
    "katsheet check FILE (the command, report printed)": (
        "import sys, contextlib, io; from katsheet.cli.main import main; sys.argv = ['katsheet', 'check', str(P)]; "
        "out, code = io.StringIO(), None\ntry:\n    with contextlib.redirect_stdout(out):\n        main()\n"
        "except SystemExit as e:\n    code = e.code\nassert code in (0, None), out.getvalue()"
    ),
    "katsheet check (formulas evaluated)": (
        "from katsheet.workbook.checker import check; from katsheet.workbook.reader import read_workbook; "
        "r = check(read_workbook(P)); assert r.clean, r.findings[:3]"
    ),
    "katsheet check --no-evaluate": (
        "from katsheet.workbook.checker import check; from katsheet.workbook.reader import read_workbook; "
        "r = check(read_workbook(P), evaluate_formulas=False); assert r.clean, r.findings[:3]"
    ),
    "formulas: ExcelModel loads+finish+calculate": (
        "import os; os.environ['TQDM_DISABLE']='1'; import formulas; "
        "formulas.ExcelModel().loads(str(P)).finish().calculate()"
    ),
    "LibreOffice headless recalculation": (
        f"import sys; sys.path.insert(0, {str(ROOT / 'tests')!r}); from libreoffice import recalculate; "
        "import tempfile, pathlib; recalculate([P], pathlib.Path(tempfile.mkdtemp()))"
    ),
}


def measure(code: str, path: Path) -> tuple[float, float]:
    """Seconds and peak memory (MB, max RSS) of ``code`` run on ``path`` in a fresh process.

    Start-up (interpreter, imports) is outside the timed part; LibreOffice's own process is a
    child of the measured one, so its memory is not in the figure (its time is).
    """
    script = f"import time, pathlib; P = pathlib.Path({str(path)!r}); t = time.perf_counter(); {code}; print(time.perf_counter() - t)"
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    out, err = proc.stdout.read().decode(), proc.stderr.read().decode()
    if status != 0:
        raise RuntimeError(err[-2000:])
    return float(out.strip().splitlines()[-1]), usage.ru_maxrss / 1024


def main() -> None:
    sizes = (10, 1_000, 10_000) if "--full" in sys.argv else (10, 1_000)
    rows = []
    jobs = {k: v for k, v in JOBS.items() if soffice() or "LibreOffice" not in k}
    with tempfile.TemporaryDirectory() as tmp, Progress() as progress:
        task = progress.add_task("measuring", total=len(sizes) * len(jobs))
        for n in sizes:
            path = Path(tmp) / f"m{n}.xlsx"
            katsheet_write(month(n), path)
            for name, code in jobs.items():
                if n > 1_000 and "ExcelModel" in name and "--model" not in sys.argv:
                    rows.append([f"{n:,}", name, "not run", "", "(--model)"])
                    progress.advance(task)
                    continue
                progress.update(task, description=f"{n:,} members: {name}")
                start = time.perf_counter()
                seconds, mb = measure(code, path)
                rows.append([f"{n:,}", name, f"{seconds:.2f}", f"{mb:,.0f}", f"{time.perf_counter() - start:.1f}"])
                progress.advance(task)
    show(
        "katsheet check vs the formulas package and LibreOffice on the same workbooks",
        ["members", "what", "seconds", "peak MB", "wall incl. start-up"],
        rows,
    )


if __name__ == "__main__":
    main()
