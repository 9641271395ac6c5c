"""Import `formulas` without paying for scipy before a workbook needs it.

`formulas` loads its whole function table on first use, and its statistics module imports
scipy.stats, scipy.linalg and scipy.interpolate at the top: about one second, half of the time
a 1,000-member check may take, for functions (KURT, FORECAST.ETS, ...) no template calls. Here
that module is imported with those three names bound to stand-ins which import the real scipy
the first time a formula calls into them. Nothing else of scipy or `formulas` changes, and
once the statistics module is loaded nothing is patched any more.
"""

from __future__ import annotations

import functools
import importlib
import logging
import os
import sys
import types
from typing import Any

from ...engine.names import excel_trim

_DEFERRED = ("scipy.stats", "scipy.linalg", "scipy.interpolate")


class _Later:
    """``module.a.b`` resolved (and scipy imported) only when called or looked into."""

    def __init__(self, module: str, path: tuple[str, ...] = ()) -> None:
        self._module, self._path = module, path

    def _resolve(self) -> Any:
        obj: Any = importlib.import_module(self._module)
        for name in self._path:
            obj = getattr(obj, name)
        return obj

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return _Later(self._module, (*self._path, name))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._resolve()(*args, **kwargs)


class _StandIn(types.ModuleType):
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return _Later(self.__name__, (name,))


def _as_excel(table: dict[str, Any]) -> None:
    """Where `formulas` 1.3 departs from Excel and LibreOffice in a function the templates use,
    evaluate as Excel does: TRIM strips every kind of whitespace there and keeps doubled inner
    spaces (``"a  b"``), so two spellings of one name would be two members."""
    from formulas.functions import wrap_ufunc
    from formulas.functions.text import _kw1

    table["TRIM"] = wrap_ufunc(excel_trim, **_kw1)  # spaces (U+0020) around removed, runs made one


@functools.cache
def import_formulas() -> types.ModuleType:
    """`formulas`, with its function table loaded (once) and scipy deferred (see the module text)."""
    os.environ.setdefault("TQDM_DISABLE", "1")  # `formulas` draws progress bars of its own otherwise
    # schedula (under `formulas`) logs an error for every formula that fails; katsheet reports
    # those cells itself, and its output is one line per problem, not a library's log
    quiet = logging.getLogger("schedula")
    quiet.addHandler(logging.NullHandler())
    quiet.propagate = False
    import formulas

    if "formulas.functions.stat" not in sys.modules and not any(m in sys.modules for m in _DEFERRED):
        stand_ins = {name: _StandIn(name) for name in _DEFERRED}
        sys.modules.update(stand_ins)
        try:
            importlib.import_module("formulas.functions.stat")
        finally:
            for name, module in stand_ins.items():
                if sys.modules.get(name) is module:
                    del sys.modules[name]
    _as_excel(formulas.get_functions())
    from .fast import install

    install(formulas.get_functions())
    return formulas
