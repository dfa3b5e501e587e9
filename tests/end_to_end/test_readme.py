"""The README says what the commands really print.

Marked ``docs``: what the README says does not change with the Python or the start
method, so CI's other Pythons leave these out.
"""

import os
import re
import shlex
import shutil
import stat
import subprocess

import pytest

from tests.helpers.project import PROJECT, WORKER_RUNNERS

pytestmark = pytest.mark.docs

README = (PROJECT / "README.md").read_text()


def examples() -> list[tuple[str, list[str]]]:
    """Each ``$ kedro ...`` example of the README: its command and the lines shown under it."""
    blocks = re.findall(r"^```\n(\$ kedro .*?)^```$", README, re.M | re.S)
    return [(block.splitlines()[0][2:], block.splitlines()[1:]) for block in blocks]


def _example(command: str, shown: list[str]):
    """A parameter set of one example: marked ``processes`` when its runner starts workers."""
    marks = [pytest.mark.processes] if WORKER_RUNNERS.search(command) else []
    return pytest.param(command, shown, marks=marks, id=command[:40])


def _pattern(shown: str) -> re.Pattern:
    """A README line, where ``...`` stands for text left out."""
    return re.compile(".*".join(re.escape(part) for part in shown.split("...")))


def test_the_readme_has_examples_to_check():
    assert len(examples()) >= 2


@pytest.mark.parametrize(("command", "shown"), [_example(*e) for e in examples()])
def test_each_example_prints_what_the_readme_shows(project, command, shown):
    args = shlex.split(command)[1:]
    # As typed when its runner starts workers; in process otherwise.
    run = project.kedro(*args) if WORKER_RUNNERS.search(command) else project.in_process(*args)
    lines = run.output.splitlines()
    for line in shown:
        assert any(_pattern(line).fullmatch(printed) for printed in lines), (line, run.output)


def test_registry_list_names_the_pipelines_the_readme_names(project):
    (comment,) = re.findall(r"^kedro registry list +# the pipelines: (.*)$", README, re.M)
    run = project.in_process("registry", "list")
    assert run.returncode == 0, run.output
    assert re.findall(r"^- (\S+)$", run.output, re.M) == comment.split(", ")


@pytest.fixture
def installed(tmp_path):
    """The Makefile beside a .venv whose python and kedro only say how they were called."""
    for name in ("Makefile", "pyproject.toml", "requirements.lock", ".ci"):
        source = PROJECT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name)
        else:
            shutil.copy2(source, tmp_path / name)
    bin_ = tmp_path / ".venv/bin"
    bin_.mkdir(parents=True)
    for tool in ("python", "kedro"):
        (bin_ / tool).write_text(f'#!/bin/sh\necho "{tool} $*" >> "$(dirname "$0")/calls"\n')
        (bin_ / tool).chmod((bin_ / tool).stat().st_mode | stat.S_IXUSR)
    return tmp_path


def test_make_run_says_in_one_line_what_it_installs(installed):
    # As a user's shell runs it: not as a sub-make of `make test` (CI), which
    # would print "make[1]: Entering directory ...".
    env = {k: v for k, v in os.environ.items() if k not in {"MAKELEVEL", "MAKEFLAGS", "MFLAGS"}}
    run = subprocess.run(
        ["make", "run"], cwd=installed, env=env, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.splitlines() == [
        "Installing the pinned dependencies (requirements.lock) and the project into .venv: "
        "one to two minutes, once",
        ".venv/bin/kedro run --runner=ParallelRunner",
    ]
    assert run.stderr == ""
    calls = (installed / ".venv/bin/calls").read_text().splitlines()
    assert calls[-2:] == [
        "python -m pip install --quiet --constraint requirements.lock --editable .[dev]",
        "kedro run --runner=ParallelRunner",
    ]
