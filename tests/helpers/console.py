"""What a user reads on the console, checked whatever the terminal's width or the clone's path."""

import re

from tests.helpers.project import Run


def assert_one_error_line(run: Run, message: str, code: int = 1) -> None:
    """The run failed with one ``Error:`` line that says ``message``, and no traceback."""
    assert run.returncode == code, run.output
    errors = run.errors()
    assert len(errors) == 1, run.output
    assert message in errors[0], run.output
    assert "Traceback" not in run.output


def words(text: str) -> str:
    """``text`` with every run of whitespace one space: a line that a console handler
    wrapped, at whatever width, around whatever path, reads as one again."""
    return " ".join(text.split())


def says(output: str, phrase: str) -> bool:
    """Whether ``output`` says ``phrase``, however a console handler wrapped its lines."""
    return words(phrase) in words(output)


# Python prints each module it imports to stderr, in every process of the run.
IMPORT_TIMES = {"PYTHONPROFILEIMPORTTIME": "1"}


def imported(output: str, module: str) -> bool:
    """Whether a process of a run with ``IMPORT_TIMES`` imported ``module`` (or a submodule)."""
    return re.search(rf"^import time: .*\| +{re.escape(module)}(\.\w+)*$", output, re.M) is not None


def without_import_times(output: str) -> str:
    """``output`` without the lines ``IMPORT_TIMES`` adds: what the user would see."""
    return "".join(
        line for line in output.splitlines(keepends=True) if not line.startswith("import time:")
    )


# Three trees leave some training rows without an out-of-bag score: scikit-learn warns, in
# the process that fits the forest, on each fit.
OOB_PARAMS = "random_forest.oob_score=true,random_forest.n_estimators=3"
OOB_WARNING = (
    "scikit-learn: Some inputs do not have OOB scores. This probably means too few trees "
    "were used to compute any reliable OOB estimates. (UserWarning)"
)


def assert_warned_in_one_line(output: str, log: str, line: str = OOB_WARNING) -> None:
    """The warning ``line`` was shown, each time, as that one whole line on the console,
    without the path or the source line Python prints, and as many times in ``log``
    (an info.log): once per time a process of the run showed it, not once more by another."""
    fragment = line.partition(": ")[2][:40]
    shown = [printed for printed in output.splitlines() if fragment in printed]
    assert shown, output
    assert set(shown) == {line}, output
    assert "site-packages" not in output and "warn(" not in output, output
    logged = [entry for entry in log.splitlines() if fragment in entry]
    assert len(logged) == len(shown), (output, logged)
    assert all(entry.endswith(f" - WARNING - {line}") for entry in logged), logged
