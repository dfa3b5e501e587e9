"""The suite itself: hermetic, organised as it says, and its markers kept.

Hermetic: it never reads the user's conf/local, data/ or environment variables. A
checkout is copied, then set up as the README's "Your own data" says (``dataset:
csv`` in conf/local/parameters.yml, a table at data/01_raw/dataset.csv), with
Kedro's and Dask's variables set as a user might have them. ``kedro run`` there
reads all of it; the end-to-end tests, run from that checkout, still pass.
"""

import ast
import os
import re
import shutil
import subprocess
import sys

import pytest

from tests.conftest import pytest_collection_modifyitems, user_variables, xdist_groups
from tests.helpers import project as project_module
from tests.helpers.markers import PROCESS_FIXTURES
from tests.helpers.project import PROJECT, written_by_runs

TESTS = PROJECT / "tests"
SOURCE = PROJECT / "src" / "parallel_trees"
# The tests that a user's own data broke (issue 18): the shared runs of the end-to-end
# tests, the tutorial's numbers, the parameter checks; and the checks of the shipped
# configuration.
CHECKOUT_TESTS = [
    "tests/end_to_end/test_training_run.py",
    "tests/end_to_end/test_refused_runs.py",
    "tests/unit/test_parameters.py",
]
SELECTED = "TestParallelAndSequentialRuns or tutorial or bad_parameters or test_parameters"
USER_PARAMETERS = "dataset: raw_data\ntarget_column: kind\ncv_folds: 2\n"
USER_TABLE = "width,height,kind\n" + "".join(
    f"{i},{i % 7},{'big' if i % 2 else 'small'}\n" for i in range(40)
)
USER_ENVIRONMENT = {
    "KEDRO_ENV": "tutorial",
    "KEDRO_MP_CONTEXT": "spawn",
    "KEDRO_LOGGING_CONFIG": "/nonexistent/logging.yml",
    "DASK_SCHEDULER_ADDRESS": "tcp://127.0.0.1:9",
    "MLFLOW_TRACKING_URI": "http://127.0.0.1:9",
}


@pytest.fixture(scope="module")
def checkout(tmp_path_factory):
    """A copy of this repository, set up with a user's own data and settings."""
    root = tmp_path_factory.mktemp("checkout") / "parallel-trees"
    for name in ("conf", "src", "tests", "pyproject.toml", ".telemetry"):
        source = PROJECT / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, root / name)
    for layer in (PROJECT / "data").iterdir():
        (root / "data" / layer.name).mkdir(parents=True, exist_ok=True)
    (root / "conf/local").mkdir(exist_ok=True)
    (root / "conf/local/parameters.yml").write_text(USER_PARAMETERS)
    (root / "data/01_raw/dataset.csv").write_text(USER_TABLE)
    return root


class TestHermetic:
    """(Not marked processes: the checkout's own runs set their start method, spawn.)"""

    def test_the_users_files_are_live_in_the_checkout(self, checkout):
        run = subprocess.run(
            [sys.executable, "-m", "kedro", "run", "--pipelines", "data_preparation"],
            cwd=checkout,
            env=os.environ | {"PYTHONPATH": str(checkout / "src")},
            capture_output=True,
            text=True,
            check=False,
        )
        assert run.returncode == 0, run.stdout + run.stderr
        assert "Data: 40 rows, 2 feature columns, 2 classes" in run.stdout

    def test_the_end_to_end_tests_pass_there_all_the_same(self, checkout, tmp_path):
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                *CHECKOUT_TESTS,
                "-k",
                SELECTED,
                "-q",
                "-p",
                "no:cacheprovider",
                f"--basetemp={tmp_path / 'inner'}",
            ],
            cwd=checkout,
            env=os.environ | USER_ENVIRONMENT | {"PYTHONPATH": str(checkout / "src")},
            capture_output=True,
            text=True,
            timeout=1200,
            check=False,
        )
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        assert " passed" in run.stdout and " failed" not in run.stdout and "error" not in run.stdout

    def test_the_variables_a_user_may_set_are_the_ones_left_out(self):
        assert sorted(user_variables(USER_ENVIRONMENT | {"DO_NOT_TRACK": "1", "HOME": "/h"})) == [
            "DASK_SCHEDULER_ADDRESS",
            "DO_NOT_TRACK",
            "KEDRO_ENV",
            "KEDRO_LOGGING_CONFIG",
            "MLFLOW_TRACKING_URI",
        ]


def test_what_runs_write_in_a_checkout_is_found(tmp_path):
    """The check that ends every session (conftest's ``pytest_sessionfinish``) can fail."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text("*.log\ndata/**\n")
    (tmp_path / "data" / "08_reporting").mkdir(parents=True)
    assert written_by_runs(tmp_path) == []
    (tmp_path / "info.log").write_text("a run's log")
    (tmp_path / "data" / "08_reporting" / "metrics.json").write_text("{}")
    (tmp_path / "notes.txt").write_text("a user's own file")
    assert written_by_runs(tmp_path) == ["data/08_reporting/metrics.json", "info.log"]


# The source's layers, lowest first: a module imports from its own layer or those below,
# never above (docs/architecture.md says the same).
LAYERS = [
    # the floor: no project imports but these
    {
        "errors",
        "resources",
        "tags",
        "tasks",
        "stats",
        "kedro_internals",
        "sources",
        "warning_lines",
        "collector",
    },
    {
        "metrics",
        "models",
        "preprocessing",
        "tuning",
        "parameters",
        "parameter_sources",
        "datasets",
        "certificates",
        "housekeeping",
    },
    {"pipelines", "pipeline_registry"},  # nodes and pipelines: never the runtime
    {"runners", "mlflow_run"},  # the runtime
    # the entry points: Kedro's, and make ui's
    {"hooks", "cli", "settings", "__main__", "__init__", "mlflow_ui"},
]


def _layer(module: str) -> int:
    """The layer of ``parallel_trees.<module>...`` (its first component decides)."""
    (layer,) = [i for i, names in enumerate(LAYERS) if module.partition(".")[0] in names]
    return layer


def _project_imports(path) -> set[str]:
    """The parallel_trees modules ``path`` imports, anywhere in it, without the prefix."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found |= {
            n.removeprefix("parallel_trees.") for n in names if n.startswith("parallel_trees.")
        }
    return found


class TestOrganisation:
    def test_imports_run_one_way(self):
        """No module imports from a layer above its own (``LAYERS``)."""
        upward = []
        for path in SOURCE.rglob("*.py"):
            module = ".".join(path.relative_to(SOURCE).with_suffix("").parts)
            for imported in _project_imports(path):
                if _layer(imported) > _layer(module):
                    upward.append(f"{module} imports {imported}")
        assert upward == []

    def test_every_module_has_a_layer(self):
        for path in SOURCE.rglob("*.py"):
            _layer(".".join(path.relative_to(SOURCE).with_suffix("").parts))

    def test_the_architecture_page_lists_every_module_and_only_those(self):
        """docs/architecture.md's listing names each module (a pipeline by its folder)."""
        page = (PROJECT / "docs/architecture.md").read_text()
        block = page[page.index("\nsrc/parallel_trees/\n") + 1 :].split("\ntests/ ")[0]
        listed, path = set(), []
        for line in block.splitlines()[1:]:
            indent = len(line) - len(line.lstrip())
            if indent >= 20:  # the description of the line above, continued
                continue
            path = [*path[: indent // 2 - 1], line.split()[0]]
            listed.add("".join(path))
        modules = {
            str(module.relative_to(SOURCE))
            for module in SOURCE.rglob("*.py")
            if module.name != "__init__.py" and module.parent.parent.name != "pipelines"
        }
        pipelines = {
            f"pipelines/{folder.name}/"
            for folder in (SOURCE / "pipelines").iterdir()
            if (folder / "pipeline.py").is_file()
        }
        assert listed == modules | pipelines | {"pipelines/", "runners/", "hooks/"}

    def test_the_architecture_page_names_every_helper_of_kedro_internals(self):
        """Its table of Kedro's internals says why each private name is used."""
        page = (PROJECT / "docs/architecture.md").read_text()
        table = page.split("\n## Kedro's internals\n")[1].split("\n## ")[0]
        tree = ast.parse((SOURCE / "kedro_internals.py").read_text())
        defined = [
            getattr(node, "name", None) or node.targets[0].id  # type: ignore[attr-defined]
            for node in tree.body
            if isinstance(node, ast.FunctionDef | ast.ClassDef)
            or (isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name))
        ]
        helpers = [name for name in defined if not name.startswith("_")]
        assert len(helpers) >= 20
        assert [name for name in helpers if f"`{name}`" not in table] == []

    def test_the_unit_tests_mirror_the_source(self):
        """tests/unit/<path>/test_<module>.py tests src/parallel_trees/<path>/<module>.py."""
        for test in (TESTS / "unit").rglob("test_*.py"):
            relative = test.relative_to(TESTS / "unit")
            module = SOURCE / relative.parent / relative.name.removeprefix("test_")
            assert module.is_file(), f"{test.relative_to(PROJECT)} tests no module ({module})"

    def test_no_test_module_imports_another(self):
        """Shared code lives in tests/helpers/ (or tests/conftest.py), nowhere else."""
        for path in TESTS.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tests"):
                    allowed = node.module.startswith("tests.helpers") or node.module == (
                        "tests.conftest"
                    )
                    assert allowed, f"{path.relative_to(PROJECT)} imports {node.module}"

    def test_ci_selects_the_tests_of_other_pythons_by_marker_not_by_name(self):
        script = (PROJECT / ".ci" / "test-pythons").read_text()
        assert 'MARKER="processes and not browser and not docs"' in script
        assert '-m "$MARKER"' in script
        assert not re.search(r"tests/[\w/]*test_\w+\.py", script)  # no test file named


class Item:
    """What the collection hooks read of a pytest item."""

    def __init__(self, nodeid: str, fixturenames: list[str]):
        self.nodeid, self.fixturenames, self.markers = nodeid, fixturenames, []

    def add_marker(self, marker) -> None:
        self.markers.append(marker.name)


class TestMarkers:
    def test_the_tests_of_a_costly_run_share_a_pytest_xdist_group(self):
        """make test's workers (-n 2 --dist loadgroup) make each costly run once."""
        one = Item("tests/a.py::one", ["tuned_runs"])
        two = Item("tests/b.py::two", ["tmp_path", "tuned_runs", "slow_runs"])
        beside = Item("tests/b.py::beside", ["tmp_path"])
        alone = Item("tests/b.py::alone", ["tmp_path"])
        groups = xdist_groups([one, two, beside, alone])
        assert groups[one] == groups[two] == "run tuned_runs"  # the costliest
        assert groups[beside] == groups[alone] == "tests/b.py"

    def test_a_run_that_starts_workers_in_an_unmarked_test_is_refused(self, project, monkeypatch):
        monkeypatch.setattr(project_module, "current_markers", set())
        with pytest.raises(AssertionError, match="mark the test .* with pytest.mark.processes"):
            project.kedro("run", "--runner=ParallelRunner")
        with pytest.raises(AssertionError, match="starts worker processes"):
            project.start("run", "--runner=parallel_trees.runners.DaskRunner")

    def test_a_run_in_process_never_starts_workers(self, project):
        with pytest.raises(AssertionError, match="starts workers: use ProjectCopy.kedro"):
            project.in_process("run", "--runner=ParallelRunner")

    def test_a_test_that_uses_a_fixture_that_starts_workers_is_marked(self):
        reads = Item("tests/a.py::reads", ["tmp_path", "iris_parallel"])
        plain = Item("tests/b.py::plain", ["tmp_path", "project"])
        pytest_collection_modifyitems([reads, plain])
        assert reads.markers == ["processes", "xdist_group"]
        assert plain.markers == ["xdist_group"]
        assert {"iris_parallel", "slow_runs", "tuned_runs", "own_table", "dask_local"} <= (
            PROCESS_FIXTURES
        )
