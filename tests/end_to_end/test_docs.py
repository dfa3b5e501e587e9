"""The README and the documentation site (docs/, mkdocs.yml) say what is true.

Each ``$ kedro ...`` example prints what it shows; the site builds with ``--strict`` and
has every page; the parameters page has a row for each parameter of
``conf/base/parameters.yml``, with its default; ``make docs`` serves the site on loopback.
(tests/test_suite.py checks that the architecture page names every module.)

Marked ``docs``: what the pages say does not change with the Python or the start
method, so CI's other Pythons leave these out.
"""

import contextlib
import io
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import urllib.request
from pathlib import Path

import click
import pytest
import yaml
from markdown.extensions.toc import slugify

from parallel_trees.parameters import problems
from parallel_trees.runners.options import check_runner_options
from tests.helpers.browser import serving
from tests.helpers.project import PROJECT, WORKER_RUNNERS

pytestmark = pytest.mark.docs

README = PROJECT / "README.md"
DOCS = PROJECT / "docs"
PAGES = sorted(DOCS.glob("*.md"))
# The shared run (tests/helpers/runs.py's iris_parallel) of the examples that show it.
QUICK_START = "kedro run --runner=ParallelRunner"
# The site's pages, one per topic (issue 31): a page removed or renamed fails the build test.
TOPICS = {
    "index",
    "run",
    "comparison",
    "regression",
    "tuning",
    "tracking",
    "data",
    "predict",
    "viz",
    "parameters",
    "errors",
    "parallel",
    "cluster",
    "performance",
    "architecture",
    "testing",
}


def examples() -> list[tuple[str, str, list[str]]]:
    """Each ``$ kedro ...`` example of the README and the pages: where, its command, and
    the lines shown under it."""
    found = []
    for path in [README, *PAGES]:
        blocks = re.findall(r"^```\n(\$ kedro .*?)^```$", path.read_text(), re.M | re.S)
        for block in blocks:
            command, *shown = block.splitlines()
            found.append((path.name, command[2:], shown))
    return found


def _example(where: str, command: str, shown: list[str]):
    """A parameter set of one example: marked ``processes`` when its runner starts workers."""
    marks = [pytest.mark.processes] if WORKER_RUNNERS.search(command) else []
    return pytest.param(command, shown, marks=marks, id=f"{where}: {command[:40]}")


def _pattern(shown: str) -> re.Pattern:
    """A shown line, where ``...`` stands for text left out."""
    return re.compile(".*".join(re.escape(part) for part in shown.split("...")))


def _shows(output: str, shown: list[str]) -> None:
    lines = output.splitlines()
    for line in shown:
        assert any(_pattern(line).fullmatch(printed) for printed in lines), (line, output)


def test_the_readme_and_the_pages_have_examples_to_check():
    assert {where for where, _, _ in examples()} >= {"README.md", "run.md", "comparison.md"}


@pytest.mark.parametrize(
    ("command", "shown"), [_example(*e) for e in examples() if e[1] != QUICK_START]
)
def test_each_example_prints_what_it_shows(project, command, shown):
    args = shlex.split(command)[1:]
    # As typed when its runner starts workers; in process otherwise.
    run = project.kedro(*args) if WORKER_RUNNERS.search(command) else project.in_process(*args)
    _shows(run.output, shown)


def test_the_quick_starts_examples_show_what_it_prints(iris_parallel):
    shown = [e[2] for e in examples() if e[1] == QUICK_START]
    assert len(shown) >= 2  # the README's and run.md's
    for lines in shown:
        _shows(iris_parallel.run.output, lines)


# Python examples that other tests run: on a tracked run (test_mlflow_ui.py), as a change
# to the source (test_training_run.py's third model).
RUN_ELSEWHERE = {"tracking.md", "architecture.md"}


def test_each_python_example_runs_in_the_quick_starts_project(iris_parallel):
    """In the test process, in the run's folder (their imports are the suite's already)."""
    snippets = [
        (page.name, snippet)
        for page in PAGES
        if page.name not in RUN_ELSEWHERE
        for snippet in re.findall(r"^```python\n(.*?)^```$", page.read_text(), re.M | re.S)
    ]
    printed = []
    for name, snippet in snippets:
        with contextlib.chdir(iris_parallel.project.root), io.StringIO() as out:
            with contextlib.redirect_stdout(out):
                exec(compile(snippet, name, "exec"), {})  # noqa: S102 - the page's own example
            printed.append(out.getvalue())
    assert len(printed) == 2
    assert "'setosa'" in printed[0] and "'precision'" in printed[0], printed[0]
    assert printed[1] == "4 columns in, 3 classes out\n", printed[1]


def test_registry_list_names_the_pipelines_the_readme_names(project):
    pattern = r"^kedro registry list +# the pipelines: (.*)$"
    (comment,) = re.findall(pattern, README.read_text(), re.M)
    run = project.in_process("registry", "list")
    assert run.returncode == 0, run.output
    assert re.findall(r"^- (\S+)$", run.output, re.M) == comment.split(", ")


def commands() -> list[tuple[str, list[str]]]:
    """Each command of the README's and the pages' ``bash`` blocks: where, and its words
    (comments dropped, continued lines joined)."""
    found = []
    for path in [README, *PAGES]:
        for block in re.findall(r"^ *```bash\n(.*?)^ *```$", path.read_text(), re.M | re.S):
            for line in block.replace("\\\n", " ").splitlines():
                if words := shlex.split(line, comments=True):
                    found.append((path.name, words))
    return found


def _parsed(root: Path, args: list[str]) -> click.Context:
    """``kedro ARGS`` parsed by the project's CLI, as typed, without running it: an unknown
    command or option raises Click's ``UsageError``."""
    from kedro.framework.cli.cli import KedroCLI  # noqa: PLC0415 - see tests/conftest.py

    command: click.Command = KedroCLI(root)
    context = click.Context(command, info_name="kedro")
    while isinstance(command, click.Group):
        name, *args = args
        found = command.get_command(context, name)
        assert found is not None, f"kedro has no command {name!r}"
        command = found
        context = click.Context(command, info_name=name, parent=context)
    return command.make_context(context.info_name, args, parent=context.parent)


def test_every_kedro_command_shown_is_one_the_cli_takes(module_project):
    """Its options exist, its parameters pass the project's check, its runner options the
    runner's: a renamed option, parameter or runner argument fails here."""
    from kedro.config import OmegaConfigLoader  # noqa: PLC0415 - see tests/conftest.py

    conf = str(module_project.root / "conf")
    base = OmegaConfigLoader(conf, base_env="base", default_run_env="local")["parameters"]
    shown = [(where, words[1:]) for where, words in commands() if words[0] == "kedro"]
    assert len(shown) >= 20
    with contextlib.chdir(module_project.root):
        for where, args in shown:
            context = _parsed(module_project.root, args)
            if args[0] != "run":
                continue
            merged = _merged(base, context.params["params"])
            assert problems(merged) == [], (where, args)
            check_runner_options(context.params["runner"], context.params["runner_params"])


# YAML blocks that are not parameters, each run by the test named: the catalog's entries
# and credentials (test_table_sources.py), a new model's section (test_training_run.py).
NOT_PARAMETERS = {"raw_data", "penguins_db", "extra_trees"}


def test_every_parameters_block_shown_passes_the_parameter_check(module_project):
    from kedro.config import OmegaConfigLoader  # noqa: PLC0415 - see tests/conftest.py

    conf = str(module_project.root / "conf")
    base = OmegaConfigLoader(conf, base_env="base", default_run_env="local")["parameters"]
    checked = 0
    for path in [README, *PAGES]:
        for block in re.findall(r"^ *```yaml\n(.*?)^ *```$", path.read_text(), re.M | re.S):
            if block.lstrip().startswith("--8<--"):  # a file included as it is
                continue
            shown = yaml.safe_load(block)
            if set(shown) & NOT_PARAMETERS:
                assert set(shown) <= NOT_PARAMETERS, (path.name, block)
                continue
            assert problems(_merged(base, shown)) == [], (path.name, block)
            checked += 1
    assert checked >= 3  # the README's and data.md's own table, data.md's column_roles


def _merged(base: dict, overrides: dict) -> dict:
    merged = dict(base)
    for key, value in overrides.items():
        both = isinstance(value, dict) and isinstance(base.get(key), dict)
        merged[key] = _merged(base[key], value) if both else value
    return merged


def test_every_make_target_and_script_shown_exists():
    makefile = (PROJECT / "Makefile").read_text()
    for where, words in commands():
        if words[0] == "make":
            targets = [word for word in words[1:] if "=" not in word]
            for target in targets:
                assert re.search(rf"^{target}:", makefile, re.M), (where, words)
        if words[0] == "python" and words[1].endswith(".py"):
            assert (PROJECT / words[1]).is_file(), (where, words)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    """``mkdocs build --strict``, as CI runs it, into a folder of the test's."""
    folder = tmp_path_factory.mktemp("site")
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(folder)],
        cwd=PROJECT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    return build, folder


def test_the_site_builds_strictly_with_a_page_per_topic(site):
    build, folder = site
    assert build.returncode == 0, build.stderr
    assert "WARNING" not in build.stderr, build.stderr
    assert {page.stem for page in PAGES} == TOPICS
    for topic in TOPICS - {"index"}:
        assert (folder / topic / "index.html").is_file(), topic
    assert (folder / "index.html").is_file()


def test_a_broken_anchor_fails_the_build(tmp_path):
    """What --strict catches is real: a link to a heading no page has."""
    shutil.copytree(DOCS, tmp_path / "docs")
    shutil.copy(PROJECT / "mkdocs.yml", tmp_path)
    shutil.copy(README, tmp_path)
    shutil.copytree(PROJECT / "conf/base", tmp_path / "conf/base")
    page = tmp_path / "docs/predict.md"
    page.write_text(page.read_text() + "\nSee [the metric](comparison.md#no-such-heading).\n")
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "s")],
        cwd=tmp_path,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode == 1
    assert "does not contain an anchor '#no-such-heading'" in build.stderr, build.stderr


def _page_links(text: str) -> list[str]:
    return re.findall(r"^\| \[[^]]+\]\(([^)#]+)\) \|", text, re.M)


def test_the_readme_and_the_home_page_list_the_same_pages():
    readme = [link.removeprefix("docs/") for link in _page_links(README.read_text())]
    home = _page_links((DOCS / "index.md").read_text())
    assert readme == home
    assert {Path(link).stem for link in home} == TOPICS - {"index"}


def test_every_link_of_the_readme_reaches_a_file_and_its_heading():
    for target in re.findall(r"\]\(([^)]+)\)", README.read_text()):
        if re.match(r"[a-z]+://", target):
            continue
        path, _, anchor = target.partition("#")
        assert (PROJECT / path).exists(), target
        if anchor:
            headings = re.findall(r"^#+ (.*)$", (PROJECT / path).read_text(), re.M)
            assert anchor in {slugify(h, "-") for h in headings}, target


def _parameters(tree: dict, prefix: str = "") -> dict[str, object]:
    """Each parameter of a parameters file, by dotted name: a search space is one."""
    found = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value and key != "search":
            found |= _parameters(value, f"{name}.")
        else:
            found[name] = value
    return found


def _yaml_text(value: object) -> str:
    """A value as the file writes it."""
    return yaml.safe_dump(value, default_flow_style=True).removesuffix("\n...\n").strip()


def test_the_parameters_page_has_a_row_for_each_parameter_with_its_default():
    rows = {
        name: default
        for name, default in re.findall(
            r"^\| `([\w.]+)` \| ([^|]+) \|", (DOCS / "parameters.md").read_text(), re.M
        )
    }
    base = yaml.safe_load((PROJECT / "conf/base/parameters.yml").read_text())
    for name, value in _parameters(base).items():
        assert name in rows, f"{name} of conf/base/parameters.yml has no row in docs/parameters.md"
        if not name.endswith(".search"):
            assert rows[name].strip() == f"`{_yaml_text(value)}`", (name, rows[name], value)


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


def _users_make_environment() -> dict[str, str]:
    """As a user's shell runs make: not as a sub-make of `make test` (CI), which would
    print "make[1]: Entering directory ..."."""
    return {k: v for k, v in os.environ.items() if k not in {"MAKELEVEL", "MAKEFLAGS", "MFLAGS"}}


def test_make_run_says_in_one_line_what_it_installs(installed):
    run = subprocess.run(
        ["make", "run"],
        cwd=installed,
        env=_users_make_environment(),
        capture_output=True,
        text=True,
        check=False,
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


@pytest.mark.server
def test_make_docs_serves_the_site_on_loopback_with_nothing_from_outside(tmp_path):
    # The test's own environment stands for .venv (-o install: nothing is installed).
    command = ["make", "-s", "-o", "install", "docs", f"VENV={sys.prefix}", "DOCS_PORT={port}"]
    with serving(command, PROJECT, _users_make_environment(), tmp_path / "docs.log") as url:
        for page in ("", "parameters/", "performance/"):
            with urllib.request.urlopen(f"{url}/{page}", timeout=10) as response:
                html = response.read().decode()
            assert response.status == 200 and "parallel-trees" in html, page
            sources = re.findall(r"<(?:script|link)[^>]*\b(?:src|href)=\"([^\"]+)\"", html)
            outside = [s for s in sources if re.match(r"(https?:)?//", s) and not s.startswith(url)]
            assert sources and outside == [], sources
    assert "Serving on http://127.0.0.1:" in (tmp_path / "docs.log").read_text()
