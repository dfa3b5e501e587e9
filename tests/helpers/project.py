"""A throwaway copy of the project, and two ways to run ``kedro`` in it.

- ``ProjectCopy.kedro``: the CLI as a user types it, in a process of its own. For
  what needs processes: worker processes, signals, start methods, servers, and
  the few tests of the command line itself.
- ``ProjectCopy.in_process``: the same command, through Click's ``CliRunner`` on
  Kedro's CLI in the test process: a tenth of the cost. For everything else:
  runs refused before any node, parameter checks, what a sequential run prints
  and saves. It never starts worker processes (``WORKER_RUNNERS``): forking the
  test process once it has trained XGBoost would risk OpenMP's fork deadlock.
"""

import contextlib
import gc
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import traceback
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pandas as pd
import yaml
from click.testing import CliRunner

PROJECT = Path(__file__).resolve().parents[2]
COPIED = ["conf", "src", "pyproject.toml", ".telemetry"]
START_METHOD = "KEDRO_MP_CONTEXT"
# --runner values whose nodes run in other processes: never in the test process.
WORKER_RUNNERS = re.compile(r"ParallelRunner|DaskRunner")
METRICS = "data/08_reporting/metrics.json"


@dataclass
class Run:
    """What one ``kedro`` command did."""

    returncode: int
    output: str  # stdout and stderr, interleaved as a user sees them
    pid: int  # of its main process (the test process's own, in process)

    def errors(self) -> list[str]:
        """The lines that start with ``Error:``."""
        return [line for line in self.output.splitlines() if line.startswith("Error:")]


class ProjectCopy:
    """A copy of this project in a temporary folder: its conf, src and empty data layers."""

    def __init__(self, root: Path):
        self.root = root
        for name in COPIED:
            source = PROJECT / name
            if source.is_dir():
                shutil.copytree(source, root / name, ignore=_not_copied)
            else:
                shutil.copy2(source, root / name)
        (root / "conf" / "local").mkdir()  # empty: the user's own settings stay out
        for layer in (PROJECT / "data").iterdir():  # the empty data layers, not their files
            if layer.is_dir():
                (root / "data" / layer.name).mkdir(parents=True, exist_ok=True)

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment of a command in the copy: its ``src`` first on the path."""
        env = os.environ | {"PYTHONPATH": str(self.root / "src"), "COLUMNS": "200"}
        return env | dict(extra or {})

    def kedro(self, *args: str, timeout: float = 300, env: Mapping[str, str] | None = None) -> Run:
        """``kedro ARGS`` in a process of its own, in the copy (``env``: variables to add)."""
        _check_marked(args)
        # subprocess.run, but the pid is kept: it names the run's shared data (shared_data_folders).
        with subprocess.Popen(
            [sys.executable, "-m", "kedro", *args],
            cwd=self.root,
            env=self.env(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        ) as process:
            try:
                output, _ = process.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                raise
        return Run(process.returncode, output, process.pid)

    def start(self, *args: str, env: Mapping[str, str] | None = None) -> subprocess.Popen:
        """``kedro ARGS`` in the background, in a process group of its own."""
        _check_marked(args)
        return subprocess.Popen(
            [sys.executable, "-m", "kedro", *args],
            cwd=self.root,
            env=self.env(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )

    def in_process(
        self, *args: str, env: Mapping[str, str] | None = None, refused: bool = False
    ) -> Run:
        """``kedro ARGS`` in this process, as the CLI runs it, in the copy.

        The project's ``conf/logging.yml`` is applied as a new process applies it
        (``KEDRO_LOGGING_CONFIG`` wins), writing to the command's output, and
        taken back afterwards, as are the working directory, the environment and
        the garbage collector. An exception that escapes the CLI is appended to
        the output as a traceback, as Python prints it.

        A runner that starts worker processes is allowed only for a run that
        must be refused before any node (``refused``); that is asserted, and such a
        run may not fork this process: a run that is not refused fails at once,
        rather than hang in OpenMP's fork deadlock.
        """
        if not refused and any(WORKER_RUNNERS.search(arg) for arg in args):
            raise AssertionError(f"kedro {' '.join(args)} starts workers: use ProjectCopy.kedro")
        with (
            _environment(self.env(env)),
            contextlib.chdir(self.root),
            logging_taken_back(),
            _collector_taken_back(),
            _no_fork(f"kedro {' '.join(args)}") if refused else contextlib.nullcontext(),
        ):
            result = CliRunner().invoke(_command(self.root), list(args), catch_exceptions=True)
        output = result.output
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            output += "Traceback (most recent call last):\n"
            output += "".join(traceback.format_exception(*result.exc_info)[1:])
        run = Run(result.exit_code, output, os.getpid())
        if refused:
            assert run.returncode != 0, run.output
        return run

    def versions(self, relative: str) -> list[Path]:
        """The saved versions of a versioned dataset, oldest first."""
        folder = self.root / relative
        return sorted(folder.iterdir()) if folder.exists() else []

    def metrics(self) -> list[dict]:
        """Every saved metrics.json, oldest first."""
        return [json.loads((v / "metrics.json").read_text()) for v in self.versions(METRICS)]

    def latest(self, relative: str) -> Path:
        """The file of the latest saved version of a versioned dataset."""
        return self.versions(relative)[-1] / Path(relative).name

    def latest_table(self, relative: str) -> pd.DataFrame:
        return pd.read_csv(self.latest(relative))


def _not_copied(folder: str, names: list[str]) -> set[str]:
    """What ``ProjectCopy`` leaves out: bytecode, and ``conf/local``, the user's own settings."""
    left_out = {"__pycache__"} | ({"local"} if Path(folder) == PROJECT / "conf" else set())
    return left_out.intersection(names)


def _command(root: Path) -> click.Command:
    """Kedro's CLI for the project at ``root``, as ``python -m kedro`` starts it there."""
    from kedro.framework.cli.cli import KedroCLI  # noqa: PLC0415 - see tests/conftest.py

    @click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def kedro(args: tuple[str, ...]) -> None:
        configure_logging(root)  # now that the output is the runner's
        KedroCLI(root).main(list(args), prog_name="kedro")

    return kedro


def configure_logging(root: Path) -> None:
    """The logging of a new process started in ``root`` (``kedro.framework.project``'s):
    ``KEDRO_LOGGING_CONFIG``, else the project's ``conf/logging.yml``."""
    from kedro.framework.project import LOGGING  # noqa: PLC0415

    path = Path(os.environ.get("KEDRO_LOGGING_CONFIG") or root / "conf" / "logging.yml")
    LOGGING.configure(yaml.safe_load(os.path.expandvars(path.read_text())))


@contextlib.contextmanager
def _environment(env: Mapping[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def logging_taken_back() -> Iterator[None]:
    """Every logger's handlers, level and propagation as they were, and Kedro's record of
    the configuration (``LOGGING``, which workers are configured with); the run's handlers
    closed."""
    from kedro.framework.project import LOGGING  # noqa: PLC0415

    manager = logging.Logger.manager
    configuration = LOGGING.data

    def loggers() -> list[logging.Logger]:
        named = [lg for lg in manager.loggerDict.values() if isinstance(lg, logging.Logger)]
        return [logging.getLogger(), *named]

    saved = {lg: (lg.handlers[:], lg.level, lg.propagate, lg.disabled) for lg in loggers()}
    try:
        yield
    finally:
        kept = {h for handlers, *_ in saved.values() for h in handlers}
        for lg in loggers():
            for handler in lg.handlers:
                if handler not in kept:
                    handler.close()
            handlers, level, propagate, disabled = saved.get(lg, ([], logging.NOTSET, True, False))
            lg.handlers[:] = handlers
            lg.setLevel(level)
            lg.propagate, lg.disabled = propagate, disabled
        LOGGING.data = configuration


@contextlib.contextmanager
def _no_fork(command: str) -> Iterator[None]:
    """``os.fork`` fails meanwhile, saying that ``command`` was to be refused before it."""
    fork = os.fork

    def refuse() -> int:
        raise AssertionError(f"{command} was to be refused before any node, but forked")

    os.fork = refuse
    try:
        yield
    finally:
        os.fork = fork


@contextlib.contextmanager
def _collector_taken_back() -> Iterator[None]:
    """The project's ``kedro run`` freezes the collector as its process ends: not this one."""
    try:
        yield
    finally:
        gc.unfreeze()


# The markers of the test running now (tests/conftest.py keeps it up to date).
current_markers: set[str] = set()


def _check_marked(args: tuple[str, ...]) -> None:
    """A test that starts worker processes must say so: CI runs those under every start method."""
    if any(WORKER_RUNNERS.search(arg) for arg in args) and "processes" not in current_markers:
        raise AssertionError(
            f"kedro {' '.join(args)} starts worker processes: mark the test (or the fixture's "
            "module) with pytest.mark.processes, so that CI runs it under every start method"
        )


def write_csv(project: ProjectCopy, name: str, table: pd.DataFrame, **options: Any) -> Path:
    """``table`` as a CSV file ``name`` in the copy, without its index unless asked."""
    path = project.root / name
    table.to_csv(path, **({"index": False} | options))
    return path


# A minimal Kedro project of someone else's: one node, one parameter, no hooks.
_OTHER_PROJECT = {
    "pyproject.toml": """[tool.kedro]
package_name = "other"
project_name = "other"
kedro_init_version = "1.7.0"
""",
    "src/other/__init__.py": "",
    "src/other/settings.py": "",
    "src/other/pipeline_registry.py": """from kedro.pipeline import Pipeline, node


def _hello(x):
    return x


def register_pipelines():
    return {"__default__": Pipeline([node(_hello, "params:x", "y", name="hello")])}
""",
    "conf/base/parameters.yml": "x: 1\n",
    "conf/base/catalog.yml": "y:\n  type: MemoryDataset\n",
    "conf/local/.gitkeep": "",
}


def other_project(root: Path) -> Path:
    """Write a minimal Kedro project (package ``other``) at ``root``; ``root``."""
    for name, text in _OTHER_PROJECT.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


# What runs write, which must go to their copies: never in the project itself.
WRITTEN_BY_RUNS = ("info.log", "data/", "mlflow.db", "mlruns/", ".viz/", "build/")


def written_by_runs(root: Path) -> list[str]:
    """The files of the git checkout ``root`` that look written by a run (untracked or
    ignored, under ``WRITTEN_BY_RUNS``); none outside a git checkout."""
    status = subprocess.run(
        ["git", "status", "--porcelain", "--ignored", "--untracked-files=all"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    made = [line[3:] for line in status.stdout.splitlines() if line.startswith(("??", "!!"))]
    return [path for path in made if path.startswith(WRITTEN_BY_RUNS)]
