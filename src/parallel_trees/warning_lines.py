"""Python warnings as one log line each, to a logger named after the library that raised them.

Python prints a warning as a block: the full path of the file it points at, the
message with its own line breaks, and the line of source code. Kedro's console
handler then wraps that block around the path. Installed (``install``, from
``settings.py``, so in every process that loads the project), each warning is
instead one record of the logger ``py.warnings.<package>`` (``py.warnings.sklearn``)::

    scikit-learn: Some inputs do not have OOB scores. This probably means ... (UserWarning)

``conf/logging.yml`` routes those loggers: to the console and ``info.log``, or,
for a library whose warnings are not news to the user (mlflow's), to ``info.log``
only. Which warnings show, and how often, is still up to Python's warnings
filters (``warnings.filterwarnings``, ``-W``): this changes only how one is shown.
"""

from __future__ import annotations

import functools
import importlib.metadata
import logging
import sys
import warnings
from pathlib import Path
from types import FrameType
from typing import IO, Any

# Python's own logger for warnings (logging.captureWarnings): each library's is its child.
LOGGER = "py.warnings"
# The modules between warnings.warn and this module's showwarning: the warnings module
# itself (Python 3.14 keeps its code in _py_warnings), and this one.
_WARNINGS_MODULES = {"warnings", "_py_warnings", __name__}
# Python's import machinery: a warning "raised" there (the compiler's SyntaxWarning, an
# import's) is about the file being imported, not about the importer.
_IMPORT_MACHINERY = ("importlib._bootstrap", "importlib._bootstrap_external")


def install() -> None:
    """Show every warning of this process as one line (``show``), from now on.

    Kedro's console handler (``kedro.logging.RichHandler``) turns on
    ``logging.captureWarnings`` as it is made, which would replace ``show`` if
    it came first: turning it on first makes that a no-op. (Turning it off puts
    back Python's own way of showing warnings.)
    """
    logging.captureWarnings(True)
    warnings.showwarning = show


def show(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: IO[str] | None = None,
    line: str | None = None,
) -> None:
    """``warnings.showwarning``: log the warning as one line (``warning_line``) to
    ``py.warnings.<package>``, the package of the code that raised it.

    A warning that its code asks to print to a ``file`` is printed there, as Python would.
    """
    if file is not None:
        file.write(warnings.formatwarning(message, category, filename, lineno, line))
        return
    package = source_package(filename, _raising_module(sys._getframe(1)))
    logger = logging.getLogger(f"{LOGGER}.{package}" if package else LOGGER)
    if logger.isEnabledFor(logging.WARNING):
        text = warning_line(message, category, filename, package)
        # The record points at the warning's place (as Python's text did), not at this module.
        record = logger.makeRecord(logger.name, logging.WARNING, filename, lineno, text, (), None)
        logger.handle(record)


def warning_line(
    message: Warning | str, category: type[Warning], filename: str, package: str | None
) -> str:
    """The one line that says a warning: who raised it, what it says (its whitespace, line
    breaks included, made single spaces), and its category; no path.

    ``package`` is the top-level package of the code that raised it (``source_package``),
    named by its distribution (``sklearn``: ``scikit-learn``); without one, the name of
    the file it points at.
    """
    who = library(package) if package else Path(filename).name
    text = " ".join(str(message).split())
    return f"{who}: {text} ({category.__name__})" if text else f"{who}: ({category.__name__})"


def source_package(filename: str, module: str | None) -> str | None:
    """The top-level package of the code that raised a warning: of ``module``, the module
    that called ``warnings.warn`` (whatever place its ``stacklevel`` points the warning at:
    pandas' point at the code that called pandas), else of ``filename``, the file the
    warning points at, found on ``sys.path``; ``None`` if neither says.
    """
    if module and not module.startswith("__"):  # __main__, __mp_main__: a script
        return module.partition(".")[0]
    return _package_of_file(filename)


def _package_of_file(filename: str) -> str | None:
    """The top-level package (or module) of ``filename``, by the ``sys.path`` entry it is in."""
    try:
        path = Path(filename).resolve()
    except (OSError, ValueError):
        return None
    found = None
    for entry in sys.path:
        try:
            folder = Path(entry or ".").resolve()
        except (OSError, ValueError):
            continue
        if path.is_relative_to(folder) and path != folder:
            parts = path.relative_to(folder).parts
            # The deepest entry wins: site-packages, not the lib folder that holds it.
            if found is None or len(parts) < len(found):
                found = parts
    if not found:
        return None
    top = found[0].removesuffix(".py")
    return top if top.isidentifier() else None


def _raising_module(frame: FrameType | None) -> str | None:
    """The name of the module that called ``warnings.warn``: the first frame outside the
    warnings machinery, from ``frame`` out; ``None`` inside the import machinery."""
    while frame is not None and frame.f_globals.get("__name__") in _WARNINGS_MODULES:
        frame = frame.f_back
    if frame is None:
        return None
    module: Any = frame.f_globals.get("__name__")
    if not isinstance(module, str) or module in _IMPORT_MACHINERY:
        return None
    return module


def library(package: str) -> str:
    """The name of the distribution that installs ``package`` (``sklearn``: ``scikit-learn``),
    or ``package`` itself: for the standard library, a package not installed, or one that
    several distributions share (namespace packages)."""
    names = set(_distributions().get(package, ()))
    same = [name for name in names if _normalized(name) == _normalized(package)]
    if same:
        return same[0]
    return names.pop() if len(names) == 1 else package


@functools.cache
def _distributions() -> dict[str, list[str]]:
    """Each installed top-level package's distributions: read once per process, at its
    first warning (about 0.1 s)."""
    return dict(importlib.metadata.packages_distributions())


def _normalized(name: str) -> str:
    return name.lower().replace("-", "_").replace(".", "_")
