"""The Makefile's Python check (.ci/python-check): which PYTHON may make .venv, and what it says.

Each Python here is a fake: a shell script that answers the probe's ``python -c CODE`` as
this Python would, but with the version (and path) it is told to have. Nothing is installed.
"""

import os
import re
import subprocess
import sys

import pytest

from tests.helpers.project import PROJECT

SCRIPT = PROJECT / ".ci" / "python-check"
(PYTHONS,) = re.findall(r"^PYTHONS := (.*)$", (PROJECT / "Makefile").read_text(), re.M)
OLDEST, *_, NEWEST = PYTHONS.split()
NEEDS = (
    f"parallel-trees needs Python {OLDEST} or newer "
    f"(supported and tested: {PYTHONS.replace(' ', ', ')})."
)
# Below the oldest supported, within them, above the newest.
OLD = f"{OLDEST.split('.')[0]}.{int(OLDEST.split('.')[1]) - 1}.4"
SUPPORTED = f"{NEWEST}.1"
NEW = f"{NEWEST.split('.')[0]}.{int(NEWEST.split('.')[1]) + 1}.0"


def environment(**variables: str) -> dict[str, str]:
    """This one, plus ``variables``: as a user's shell runs make, not as a sub-make of
    ``make test`` (whose MAKEFLAGS would pass on its PYTHON=), nor with a PYTHON of theirs."""
    left_out = {"MAKEFLAGS", "MAKELEVEL", "MFLAGS", "PYTHON"}
    return {k: v for k, v in os.environ.items() if k not in left_out} | variables


def fake_python(folder, version: str):
    """``folder/pythonX.Y``: to the probe's ``python -c CODE``, Python ``version`` (X.Y.Z) at
    its own path (this Python runs CODE, told so); anything else it is asked fails."""
    path = folder / f"python{version.rpartition('.')[0]}"
    numbers = ", ".join(version.split("."))
    told = f"import sys; sys.version_info = ({numbers}, 'final', 0); sys.executable = sys.argv[1]"
    path.write_text(
        f'#!/bin/sh\nexec "{sys.executable}" -c "{told}; exec(sys.argv[2])" "$0" "$2"\n'
    )
    path.chmod(0o755)
    return path


def check(python, origin="file", venv="no-venv", goals="run", env=None):
    """.ci/python-check as make python-check runs it."""
    return subprocess.run(
        [SCRIPT, str(python), origin, str(venv), PYTHONS, goals],
        env=env or environment(),
        capture_output=True,
        text=True,
        check=False,
    )


def make(*args, env=None):
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=PROJECT,
        env=env or environment(),
        capture_output=True,
        text=True,
        check=False,
    )


def hint(goals: str = "run") -> str:
    """The end of a refusal: a supported Python found here, else the oldest's usual name."""
    for version in PYTHONS.split():
        found = subprocess.run(
            [PROJECT / ".ci" / "find-python", version], capture_output=True, text=True, check=False
        )
        if found.returncode == 0:
            return f"Point PYTHON= at another, e.g. make {goals} PYTHON={found.stdout.strip()}"
    return f"Point PYTHON= at another, e.g. make {goals} PYTHON=python{OLDEST}"


class TestWithoutVenv:
    def test_a_python_too_old_is_refused_in_one_line(self, tmp_path):
        python = fake_python(tmp_path, OLD)
        run = check(python)
        assert run.returncode == 1
        assert run.stdout == ""
        assert run.stderr == f"PYTHON={python} is Python {OLD}, too old: {NEEDS} {hint()}\n"

    def test_a_python_too_old_named_by_its_name_is_refused_naming_its_path(self, tmp_path):
        python = fake_python(tmp_path, OLD)
        on_path = environment(PATH=f"{tmp_path}:{os.environ['PATH']}")
        run = check(python.name, goals="lint test", env=on_path)
        assert run.returncode == 1
        assert run.stderr == (
            f"PYTHON={python.name} is Python {OLD} ({python}), too old: "
            f"{NEEDS} {hint('lint test')}\n"
        )

    def test_a_newer_python_than_tested_goes_on_with_a_warning(self, tmp_path):
        python = fake_python(tmp_path, NEW)
        run = check(python)
        assert run.returncode == 0
        assert run.stdout == ""
        assert run.stderr == (
            f"PYTHON={python} is Python {NEW}, newer than the versions tested "
            f"({PYTHONS.replace(' ', ', ')}); going on\n"
        )

    def test_a_supported_python_says_nothing(self, tmp_path):
        for python in (fake_python(tmp_path, SUPPORTED), sys.executable):
            run = check(python)
            assert (run.returncode, run.stdout, run.stderr) == (0, "", "")

    @pytest.mark.parametrize("kind", ["missing", "fails"])
    def test_a_python_that_does_not_run_is_refused_in_one_line(self, tmp_path, kind):
        python = tmp_path / "python3"  # missing, or as a pyenv shim of a version not selected
        if kind == "fails":
            python.write_text("#!/bin/sh\necho 'pyenv: python3: command not found' >&2\nexit 127\n")
            python.chmod(0o755)
        run = check(python, origin="command line", goals="install")
        assert run.returncode == 1
        assert run.stdout == ""
        assert run.stderr == f"PYTHON={python} does not run here. {NEEDS} {hint('install')}\n"


class TestWithVenv:
    @pytest.fixture
    def venv(self, tmp_path):
        """A venv made with Python OLDEST.7: its bin/python alone."""
        (tmp_path / "venv/bin").mkdir(parents=True)
        made = fake_python(tmp_path / "venv/bin", f"{OLDEST}.7")
        made.rename(tmp_path / "venv/bin/python")
        return tmp_path / "venv"

    @pytest.mark.parametrize("origin", ["command line", "environment"])
    def test_a_python_given_of_another_version_is_refused_in_one_line(self, venv, origin):
        python = fake_python(venv.parent, SUPPORTED)
        run = check(python, origin=origin, venv=venv)
        assert run.returncode == 1
        assert run.stdout == ""
        assert run.stderr == (
            f"{venv} was made with Python {OLDEST}.7, not PYTHON={python}'s {SUPPORTED}. "
            f"Run make clean first to make it anew with PYTHON={python}, "
            "or leave PYTHON= out to keep it\n"
        )

    def test_a_python_given_of_the_same_version_says_nothing(self, venv):
        run = check(fake_python(venv.parent, f"{OLDEST}.2"), origin="command line", venv=venv)
        assert (run.returncode, run.stdout, run.stderr) == (0, "", "")

    def test_the_makefiles_own_python_is_not_checked(self, venv):
        run = check(venv.parent / "no-such-python", origin="file", venv=venv)
        assert (run.returncode, run.stdout, run.stderr) == (0, "", "")

    def test_a_python_given_that_does_not_run_is_refused(self, venv):
        run = check(venv.parent / "no-such-python", origin="command line", venv=venv)
        assert run.returncode == 1
        assert run.stderr.startswith(f"PYTHON={venv.parent / 'no-such-python'} does not run here.")


class TestMake:
    """The Makefile runs the check before make install, with PYTHON, VENV and the goals."""

    def test_make_stops_on_a_python_too_old_before_creating_anything(self, tmp_path):
        python, venv = fake_python(tmp_path, OLD), tmp_path / "venv"
        run = make("install", f"PYTHON={python}", f"VENV={venv}")
        assert run.returncode != 0
        assert run.stdout == ""
        assert run.stderr.splitlines()[0] == (
            f"PYTHON={python} is Python {OLD}, too old: {NEEDS} {hint('install')}"
        )
        assert not venv.exists()

    def test_make_goes_on_with_a_newer_python(self, tmp_path):
        python = fake_python(tmp_path, NEW)
        run = make("python-check", f"PYTHON={python}", f"VENV={tmp_path / 'venv'}")
        assert run.returncode == 0
        assert run.stderr.startswith(f"PYTHON={python} is Python {NEW}, newer than the versions")

    def test_make_checks_a_python_given_in_the_environment_against_the_venv(self, tmp_path):
        (tmp_path / "venv/bin").mkdir(parents=True)
        fake_python(tmp_path / "venv/bin", f"{OLDEST}.7").rename(tmp_path / "venv/bin/python")
        python = fake_python(tmp_path, SUPPORTED)
        run = make("python-check", f"VENV={tmp_path / 'venv'}", env=environment(PYTHON=str(python)))
        assert run.returncode != 0
        assert run.stderr.startswith(f"{tmp_path / 'venv'} was made with Python {OLDEST}.7, not")

    def test_the_other_pythons_are_the_supported_ones_but_the_venvs(self, tmp_path):
        others = [v for v in PYTHONS.split() if v != NEWEST]
        python = fake_python(tmp_path, SUPPORTED)
        run = make("-s", "other-pythons", f"PYTHON={python}", f"VENV={tmp_path / 'venv'}")
        assert (run.returncode, run.stdout.split()) == (0, others)
        (tmp_path / "venv/bin").mkdir(parents=True)
        python.rename(tmp_path / "venv/bin/python")  # the venv's, now: PYTHON is not asked
        run = make("-s", "other-pythons", "PYTHON=no-such-python", f"VENV={tmp_path / 'venv'}")
        assert (run.returncode, run.stdout.split()) == (0, others)
