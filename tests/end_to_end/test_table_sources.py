"""End-to-end: the user's table wherever it lives: a Parquet or Excel file, a SQLite file, a
PostgreSQL server (a real one, on the loopback interface), each through the catalog, trained on
and predicted from, and recorded without its credentials; and sources that give no table,
each refused in one line."""

import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.helpers.mlflow_store import Store
from tests.helpers.postgres import Postgres, postgres_server
from tests.helpers.project import PROJECT, ProjectCopy
from tests.helpers.runs import TRACKED
from tests.helpers.tables import penguins

# Training rows (penguins: text, gaps, two unlabelled rows), and rows to predict.
TABLE = penguins(90)
NEW = TABLE.drop(columns="species").head(4).reset_index(drop=True)
TRAIN = "dataset=raw_data,target_column=species,cv_folds=3,n_estimators=10"
PREDICT = ("run", "--pipelines", "predict")
PREDICTIONS = "data/07_model_output/predictions.csv"
QUERY = "SELECT * FROM penguins WHERE year = 2008"


def section_blocks(path: Path, heading: str) -> dict[str, dict]:
    """The YAML blocks of a page's section, by their first line's comment."""
    section = re.split(r"\n#{2,3} ", path.read_text().split(f"\n{heading}\n")[1])[0]
    return {
        block.splitlines()[0].removeprefix("# "): yaml.safe_load(block)
        for block in re.findall(r"^```yaml\n(.*?)^```$", section, re.M | re.S)
    }


# The entries of docs/data.md's "Where your table lives"; the README shows the first.
BLOCKS = section_blocks(PROJECT / "docs/data.md", "## Where your table lives")
RENAMED = ("filepath", "table_name", "sql")  # what new_rows reads of its own


def page_block(comment: str) -> dict:
    """The page's block whose comment starts with ``comment``."""
    (block,) = [block for name, block in BLOCKS.items() if name.startswith(comment)]
    return block


def test_the_readme_shows_the_pages_first_entry():
    (first, *_) = BLOCKS.items()
    assert section_blocks(PROJECT / "README.md", "### Where your table lives") == dict([first])


def entries(comment: str) -> dict[str, dict]:
    """The page's raw_data entry, and new_rows made from it: its own file or table."""
    raw = page_block(comment)["raw_data"]
    new = {k: v.replace("penguins", "new_penguins") if k in RENAMED else v for k, v in raw.items()}
    return {"raw_data": raw, "new_rows": new}


@pytest.fixture(scope="module")
def postgres(tmp_path_factory) -> Postgres:
    """A PostgreSQL server holding the tables ``penguins`` and ``new_penguins``."""
    with postgres_server(tmp_path_factory.mktemp("postgres")) as server:
        server.write("penguins", TABLE)
        server.write("new_penguins", NEW)
        yield server


def postgres_url(server: Postgres) -> str:
    """The page's PostgreSQL URL, of ``server``: its password and port filled in."""
    con = page_block("conf/local/credentials.yml, for a PostgreSQL server")["penguins_db"]["con"]
    url = con.replace("<password>", server.password).replace(":5432/", f":{server.port}/")
    assert url == server.url  # the same user, host and database
    return url


def write_files(root: Path, comment: str) -> None:
    """TABLE and NEW as the files the page's entries read (Parquet, Excel)."""
    for entry, frame in zip(entries(comment).values(), (TABLE, NEW), strict=True):
        path = root / entry["filepath"]
        frame.to_parquet(path) if path.suffix == ".parquet" else frame.to_excel(path, index=False)


def sqlite_url(root: Path) -> str:
    """The page's SQLite file, holding TABLE and NEW as penguins and new_penguins."""
    con = page_block("conf/local/credentials.yml, for an embedded SQLite")["penguins_db"]["con"]
    with sqlite3.connect(root / con.removeprefix("sqlite:///")) as connection:
        TABLE.to_sql("penguins", connection, index=False, if_exists="replace")
        NEW.to_sql("new_penguins", connection, index=False, if_exists="replace")
    return con


def declare(project: ProjectCopy, catalog: dict[str, dict], con: str | None = None) -> None:
    """``catalog`` as conf/local/catalog.yml; ``con`` as the credentials it names."""
    (project.root / "conf/local/catalog.yml").write_text(yaml.safe_dump(catalog))
    if con is not None:
        credentials = project.root / "conf/local/credentials.yml"
        credentials.write_text(yaml.safe_dump({"penguins_db": {"con": con}}))


def _files(comment: str):
    def made(root: Path, _: Postgres | None) -> tuple[dict, None]:
        write_files(root, comment)
        return entries(comment), None

    return made


SOURCES = {
    "Parquet": _files("Parquet"),
    "Excel": _files("Excel"),
    "SQLite table": lambda root, _: (entries("SQLite, a table"), sqlite_url(root)),
    "SQLite query": lambda root, _: (entries("SQLite, a query"), sqlite_url(root)),
    "PostgreSQL table": lambda _, server: (entries("SQLite, a table"), postgres_url(server)),
    "PostgreSQL query": lambda _, server: (entries("SQLite, a query"), postgres_url(server)),
}
# What each records as read: (type, key, value).
READ = {
    "Parquet": ("pandas.ParquetDataset", "path", "data/01_raw/penguins.parquet"),
    "Excel": ("pandas.ExcelDataset", "path", "data/01_raw/penguins.xlsx"),
    "SQLite table": ("pandas.SQLTableDataset", "table", "penguins"),
    "SQLite query": ("pandas.SQLQueryDataset", "query", QUERY),
    "PostgreSQL table": ("pandas.SQLTableDataset", "table", "penguins"),
    "PostgreSQL query": ("pandas.SQLQueryDataset", "query", QUERY),
}


@pytest.fixture
def server(request) -> Postgres | None:
    """The PostgreSQL server, for the sources that read from it (started once, if needed)."""
    if "PostgreSQL" in request.node.callspec.params["source"]:
        return request.getfixturevalue("postgres")
    return None


@pytest.mark.parametrize("source", list(SOURCES))
def test_a_table_of_any_source_is_trained_on_and_predicted_from(project, server, source):
    catalog, con = SOURCES[source](project.root, server)
    declare(project, catalog, con)

    run = project.in_process("run", "--params", TRAIN)

    assert run.returncode == 0, run.output
    kind, key, value = READ[source]
    where = f"raw_data ({project.root / value})" if key == "path" else f"raw_data ({key} "
    assert f"Dropped 2 of 90 rows of {where}" in run.output  # the unlabelled rows
    (metrics,) = project.metrics()
    recorded = metrics["run"]["data_source"]
    shown = str(project.root / value) if key == "path" else value
    database = {}  # a SQL source's database, without user or password
    if source.startswith("SQLite"):
        database = {"database": "sqlite:///data/01_raw/penguins.db"}
    elif server is not None:
        database = {"database": f"postgresql+psycopg://127.0.0.1:{server.port}/tables"}
    assert recorded == {
        "entry": "raw_data",
        "type": kind,
        key: shown,
        **database,
        "sha256": recorded["sha256"],
    }
    assert len(recorded["sha256"]) == 64
    assert {"island", "sex"} <= set(metrics["run"]["feature_roles"]["categorical"])

    predicted = project.in_process(*PREDICT)

    assert predicted.returncode == 0, predicted.output
    table = pd.read_csv(project.latest(PREDICTIONS))
    assert len(table) == len(NEW)
    assert set(table["prediction"]) <= {"Adelie", "Chinstrap", "Gentoo"}
    kept = ["island", "bill_length_mm", "sex"]  # the rows, as given (SQLite's true is 1)
    assert table[kept].astype(str).equals(NEW[kept].astype(str))


@pytest.mark.processes
def test_a_tracked_parallel_run_on_postgresql_keeps_its_password_out_of_everything(
    project, postgres, offline
):
    """ParallelRunner's workers read the table; the password is in no file under data/,
    no console or log line, and no MLflow parameter or tag."""
    declare(project, entries("SQLite, a table"), postgres_url(postgres))
    run = project.kedro(
        "run",
        "--runner=ParallelRunner",
        "--params",
        f"{TRAIN},{TRACKED}",
        env=offline.env(project.root / "src"),
    )
    assert run.returncode == 0, run.output
    assert "Accuracy on penguins (3-fold CV" in run.output
    assert postgres.password not in run.output
    assert postgres.password not in (project.root / "info.log").read_text()
    for path in (project.root / "data").rglob("*"):
        assert not path.is_file() or postgres.password.encode() not in path.read_bytes(), path
    (tracked,) = Store.of(project).top_level()
    recorded = {**tracked.data.params, **tracked.data.tags}
    assert not [key for key, value in recorded.items() if postgres.password in value]
    assert tracked.data.tags["data_source.type"] == "pandas.SQLTableDataset"
    assert tracked.data.tags["data_source.table"] == "penguins"
    assert tracked.data.tags["data_source.database"] == (
        f"postgresql+psycopg://127.0.0.1:{postgres.port}/tables"
    )
    assert len(tracked.data.tags["data_source.sha256"]) == 64


def _json_dict(project: ProjectCopy) -> tuple[dict, str | None]:
    path = project.root / "data/01_raw/table.json"
    path.write_text('{"species": ["a", "b"]}')
    return {"raw_data": {"type": "json.JSONDataset", "filepath": str(path)}}, None


REFUSED = {
    "a dataset that gives a dict": (
        _json_dict,
        "Error: raw_data (json.JSONDataset) gave a dict, not a table: point raw_data at a "
        "dataset that loads one pandas DataFrame (an Excel file's sheets: set load_args' "
        "sheet_name to one).",
    ),
    "a missing SQLite table": (
        lambda p: (
            {"raw_data": entries("SQLite, a table")["raw_data"] | {"table_name": "pengiuns"}},
            sqlite_url(p.root),
        ),
        "Error: raw_data (table 'pengiuns') could not be read (pandas.SQLTableDataset): Table "
        "pengiuns not found.",
    ),
    "a failed SQLite query": (
        lambda p: (
            {
                "raw_data": entries("SQLite, a query")["raw_data"]
                | {"sql": "SELECT bil FROM penguins"}
            },
            sqlite_url(p.root),
        ),
        "Error: raw_data (query 'SELECT bil FROM penguins') could not be read "
        "(pandas.SQLQueryDataset): no such column: bil.",
    ),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_source_that_gives_no_table_is_one_error_line_naming_it(kept, case):
    make, message = REFUSED[case]
    catalog, con = make(kept.project)
    declare(kept.project, catalog, con)
    try:
        run = kept.project.in_process("run", "--params", TRAIN, refused=True)
    finally:
        declare(kept.project, {})
    assert run.returncode == 1
    assert run.errors() == [message], run.output
    assert "Traceback" not in run.output
    kept.assert_nothing_kept()


def test_a_failed_postgresql_query_is_one_error_line_without_the_password(project, postgres):
    query = entries("SQLite, a query")["raw_data"] | {"sql": "SELECT nope"}
    declare(project, {"raw_data": query}, postgres_url(postgres))
    run = project.in_process("run", "--params", TRAIN, refused=True)
    assert run.errors() == [
        "Error: raw_data (query 'SELECT nope') could not be read (pandas.SQLQueryDataset): "
        'column "nope" does not exist.'
    ], run.output
    assert postgres.password not in run.output


def test_credentials_no_file_holds_are_one_error_line(project):
    declare(project, entries("SQLite, a table"))  # names penguins_db; no credentials.yml
    run = project.in_process("run", "--params", TRAIN, refused=True)
    assert run.errors() == [
        "Error: The catalog names the credentials 'penguins_db', and no credentials file holds "
        "them: add penguins_db: {con: <the database's URL>} to conf/local/credentials.yml, or "
        "fix the entry's credentials (README: Where your table lives)."
    ], run.output
    assert "Traceback" not in run.output


def test_kedro_catalog_shows_raw_data_as_the_catalog_declares_it(project):
    declare(project, entries("Parquet"))
    shown = project.in_process("catalog", "describe-datasets")
    assert shown.returncode == 0, shown.output
    described = yaml.safe_load(shown.output[shown.output.index("__default__:") :])
    datasets = described["__default__"]["datasets"]
    assert datasets["kedro_datasets.pandas.parquet_dataset.ParquetDataset"] == ["raw_data"]


# A default run (iris), in a process of its own; then the table libraries it imported.
IMPORTED = """
import json, sys
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
bootstrap_project(".")
with KedroSession.create() as session:
    session.run()
print(json.dumps([m for m in sys.argv[1:] if m in sys.modules]))
"""
TABLE_LIBRARIES = ["kedro_datasets.pandas", "sqlalchemy", "openpyxl", "psycopg"]


def test_the_default_run_imports_no_table_library(project):
    """What the other sources need is imported only by a run whose catalog uses it: the
    default run pays nothing for them (pyarrow comes with pandas itself)."""
    run = subprocess.run(
        [sys.executable, "-c", IMPORTED, *TABLE_LIBRARIES],
        cwd=project.root,
        env=project.env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert json.loads(run.stdout.splitlines()[-1]) == []
