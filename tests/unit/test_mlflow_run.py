"""What a tracked run logs (``mlflow_run``), and its MLflow run on an SQLite store."""

import os
import re
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier

from parallel_trees import mlflow_run
from parallel_trees.mlflow_run import (
    OPENING,
    MlflowRun,
    flatten,
    fold_scores,
    git_commit,
    prepare_model_logging,
    run_metrics,
    searches,
    tracking_uri,
)
from parallel_trees.pipelines.data_preparation.nodes import infer_column_roles, take_input_example
from parallel_trees.preprocessing import make_model

METRICS = {
    "models": {
        "random_forest": {"cv_scores": [1.0, 0.5], "cv_mean": 0.75, "cv_std": 0.25,
                          "test_score": 0.9, "cv_panel": {"roc_auc": 0.8},
                          "test_panel": {"roc_auc": 0.85, "log_loss": None}},
        "xgboost": {"cv_scores": [0.5, 0.5], "cv_mean": 0.5, "cv_std": 0.0,
                    "test_score": None},
    },
    "baseline": {"cv_scores": [0.5, 0.5], "cv_mean": 0.5, "cv_std": 0.0, "test_score": None},
    "comparison": {
        "comparisons": [
            {
                "models": ["random_forest", "xgboost"],
                "cv": {"difference": 0.25, "p_value": 0.5, "p_adjusted": 1.0},
                "held_out": None,  # nothing held out
            }
        ]
    },
    "ranking": [{"model": "random_forest", "rank": 1}, {"model": "xgboost", "rank": 2},
                {"model": "baseline", "rank": 2}],
}  # fmt: skip


class TestWhatIsLogged:
    def test_parameters_are_flattened_to_dotted_text(self):
        params = {"cv_folds": 5, "random_forest": {"max_depth": None}, "column_roles": {}}
        assert flatten(params) == {
            "cv_folds": "5",
            "random_forest.max_depth": "None",
            "column_roles": "{}",  # an empty section is still a parameter
        }

    def test_a_long_parameter_is_cut_to_mlflows_limit(self):
        assert len(flatten({"long": "x" * 10_000})["long"]) == mlflow_run.MAX_PARAM

    def test_scores_comparison_and_ranking_become_metrics_and_nones_are_left_out(self):
        assert run_metrics(METRICS) == {
            "random_forest.cv_mean": 0.75,
            "random_forest.cv_std": 0.25,
            "random_forest.test_score": 0.9,
            "random_forest.cv.roc_auc": 0.8,
            "random_forest.test.roc_auc": 0.85,
            "xgboost.cv_mean": 0.5,
            "xgboost.cv_std": 0.0,
            "baseline.cv_mean": 0.5,
            "baseline.cv_std": 0.0,
            "random_forest.rank": 1.0,
            "xgboost.rank": 2.0,
            "baseline.rank": 2.0,
            "random_forest_vs_xgboost.cv_difference": 0.25,
            "random_forest_vs_xgboost.cv_p_value": 0.5,
            "random_forest_vs_xgboost.cv_p_adjusted": 1.0,
        }

    def test_each_fold_is_a_step(self):
        assert fold_scores(METRICS) == {
            "random_forest.cv_score": [1.0, 0.5],
            "xgboost.cv_score": [0.5, 0.5],
            "baseline.cv_score": [0.5, 0.5],
        }

    def test_a_tuned_models_searches_in_order_and_an_untuned_model_has_none(self):
        trial = {"params": {"max_depth": 3}, "score": 0.9, "state": "complete"}
        record = {
            "folds": [{"fold": 0, "trials": [trial]}, {"fold": 1, "trials": [trial, trial]}],
            "search": {"trials": [trial]},
        }
        assert [(label, len(t)) for label, t in searches(record)] == [
            ("outer fold 1", 1),
            ("outer fold 2", 2),
            ("all training rows", 1),
        ]
        assert list(searches({"folds": [{"fold": 0}], "search": None})) == []


class TestWhereRunsGo:
    def test_the_parameter_wins_then_the_variable_then_the_projects_sqlite(
        self, tmp_path, monkeypatch
    ):
        monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
        assert tracking_uri(None, tmp_path) == f"sqlite:///{tmp_path / 'mlflow.db'}"
        monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
        assert tracking_uri(None, tmp_path) == "http://127.0.0.1:5000"
        assert tracking_uri("http://127.0.0.1:6000", tmp_path) == "http://127.0.0.1:6000"

    def test_no_commit_outside_a_git_work_tree(self, tmp_path):
        assert git_commit(tmp_path) is None

    def test_the_commit_checked_out_in_a_git_work_tree(self, tmp_path):
        git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@example.com"]
        subprocess.run([*git, "init", "-q"], check=True)
        subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "first"], check=True)
        head = subprocess.run(
            [*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        )
        assert git_commit(tmp_path) == head.stdout.strip()
        assert re.fullmatch(r"[0-9a-f]{40}", git_commit(tmp_path))


@pytest.fixture(scope="module", autouse=True)
def mlflow_variables():
    """mlflow's variables as they were, after this module: MlflowRun sets some (the
    tracking URI, for one), which every later ``kedro run`` of the suite would inherit."""
    saved = {name: value for name, value in os.environ.items() if name.startswith("MLFLOW_")}
    yield
    for name in [name for name in os.environ if name.startswith("MLFLOW_")]:
        del os.environ[name]
    os.environ.update(saved)


def users_table(rows: int = 40) -> pd.DataFrame:
    """A user's table as read from a CSV file: R's row numbers, a count, a measurement
    with a blank, text with a blank."""
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "Unnamed: 0": range(1, rows + 1),
            "visits": rng.integers(0, 9, rows),
            "size": np.where(np.arange(rows) == 3, np.nan, rng.normal(5, 1, rows)),
            "colour": rng.choice(["red", "blue", None], rows),
        }
    )


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A real MLflow run on a new SQLite store, a model of the project fitted on a user's
    table logged to it as a tracked run logs it; the warnings logging it raised."""
    folder = tmp_path_factory.mktemp("store")
    rows = users_table()
    roles = infer_column_roles(rows, rows.iloc[:0], {}, {}, ["x", "y"])
    assert list(roles["excluded"]) == ["Unnamed: 0"]
    model = make_model(RandomForestClassifier(3, random_state=0), roles, 0)
    model.fit(rows, np.arange(len(rows)) % 2)
    run = MlflowRun(f"sqlite:///{folder / 'mlflow.db'}", "unit", "2026-01-01T00.00.00.000Z", {})
    with warnings.catch_warnings(record=True) as raised:
        warnings.simplefilter("always")
        info = run.log_model("random_forest", model, take_input_example(rows, roles), ["x", "y"])
    run.end()
    uri = info.model_uri
    return run, uri, model, rows, [str(w.message) for w in raised]


class TestMlflowRun:
    def test_a_model_is_logged_in_the_runs_experiment_not_in_default(self, store):
        import mlflow  # noqa: PLC0415 - imported by MlflowRun already

        run, uri, *_ = store
        (found,) = mlflow.search_logged_models(
            experiment_ids=[run.experiment_id],
            filter_string=f"source_run_id = '{run.run_id}'",
            output_format="list",
        )
        assert (found.name, found.model_uri) == ("random_forest", uri)

    def test_the_logged_model_predicts_as_the_fitted_one(self, store):
        import mlflow  # noqa: PLC0415

        _, uri, model, rows, _ = store
        logged = mlflow.pyfunc.load_model(uri)
        assert list(logged.predict(rows)) == list(model.predict(rows))
        assert logged.metadata.metadata["classes"] == ["x", "y"]
        # The sklearn flavour: the fitted pipeline itself.
        assert list(mlflow.sklearn.load_model(uri).predict(rows)) == list(model.predict(rows))

    def test_the_logged_model_takes_the_raw_rows_the_projects_predict_takes(self, store):
        import mlflow  # noqa: PLC0415

        _, uri, model, rows, _ = store
        logged = mlflow.pyfunc.load_model(uri)
        # A blank in the count (read as float), in the text, a column the model does not
        # read (R's row numbers, and another), and the count as integers again.
        new = rows.head(6).assign(visits=[1.0, np.nan, 3.0, 0.0, 2.0, 8.0], note="x")
        new.loc[2, "colour"] = None
        for table in (new, rows.head(6)):
            assert list(logged.predict(table)) == list(model.predict(table))

    def test_the_schema_names_the_columns_read_and_keeps_measurements_double(self, store):
        import mlflow  # noqa: PLC0415

        schema = mlflow.models.get_model_info(store[1]).signature.inputs
        assert {spec["name"]: spec["type"] for spec in schema.to_dict()} == {
            "visits": "any",
            "size": "double",
            "colour": "string",
        }

    def test_logging_a_model_raises_no_warning_about_its_schema(self, store):
        assert not [message for message in store[4] if "schema" in message.lower()]

    def test_the_run_is_named_and_closed(self, store):
        run = store[0]
        info = run.client.get_run(run.run_id).info
        assert (info.run_name, info.status) == ("2026-01-01T00.00.00.000Z", "FINISHED")

    def test_metrics_logged_after_the_models_reach_them_as_mlflow_copies_them(
        self, store, tmp_path
    ):
        # mlflow 3.17's log_model copies the run's step-0 metrics onto the model it logs,
        # one query per metric; a run logs its models first and gives them theirs.
        _, _, model, rows, _ = store
        uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
        values, steps = {"a": 1.0, "b": 0.5}, {"s": [0.25, 0.75]}
        theirs = MlflowRun(uri, "unit", "mlflow's way", {})
        theirs.log_metrics(values, steps)
        copied = theirs.log_model("random_forest", model, rows.head(3), ["x", "y"])
        ours = MlflowRun(uri, "unit", "ours", {})
        given = ours.log_model("random_forest", model, rows.head(3), ["x", "y"])
        ours.log_metrics(values, steps, models=[given.model_id])

        def records(run: MlflowRun, model_id: str) -> tuple:
            logged = run.client.get_logged_model(model_id).metrics
            history = [run.client.get_metric_history(run.run_id, key) for key in [*values, *steps]]
            return (
                sorted((m.key, m.value, m.step, m.run_id == run.run_id) for m in logged),
                [[(m.key, m.value, m.step) for m in metric] for metric in history],
            )

        assert records(ours, given.model_id) == records(theirs, copied.model_id)
        assert len(records(ours, given.model_id)[0]) == 3  # a, b, and s at step 0


class TestPreparedLogging:
    def test_after_it_logging_a_model_scans_the_installed_distributions_no_more(
        self, store, monkeypatch, tmp_path
    ):
        # mlflow 3.17 keeps its map of modules to distributions in a private global
        # (requirements_utils._MODULES_TO_PACKAGES): if this fails, prepare_model_logging
        # no longer spares the first model's logging the scan of every distribution.
        from mlflow.utils import requirements_utils  # noqa: PLC0415

        scans = []
        scan = requirements_utils.importlib_metadata.packages_distributions
        monkeypatch.setattr(requirements_utils, "_MODULES_TO_PACKAGES", None)
        monkeypatch.setattr(
            requirements_utils.importlib_metadata,
            "packages_distributions",
            lambda: scans.append(1) or scan(),
        )
        prepare_model_logging()
        assert scans == [1]
        _, _, model, rows, _ = store
        run = MlflowRun(f"sqlite:///{tmp_path / 'mlflow.db'}", "unit", "prepared", {})
        run.log_model("random_forest", model, rows.head(3), ["x", "y"])
        run.end()
        assert scans == [1]

    def test_it_imports_skops_which_the_sklearn_flavour_saves_with(self):
        prepare_model_logging()
        assert "skops.io" in sys.modules


class TestOpeningIsImpatient:
    def test_mlflows_http_retries_are_lowered_while_opening_then_given_back(self, monkeypatch):
        for name in OPENING:
            monkeypatch.delenv(name, raising=False)
        with mlflow_run._impatient():
            assert {name: os.environ[name] for name in OPENING} == OPENING
        assert not set(OPENING) & set(os.environ)

    def test_a_users_own_setting_wins(self, monkeypatch):
        monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "3")
        monkeypatch.delenv("MLFLOW_HTTP_REQUEST_TIMEOUT", raising=False)
        with mlflow_run._impatient():
            assert os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] == "3"
            assert (
                os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] == OPENING["MLFLOW_HTTP_REQUEST_TIMEOUT"]
            )
        assert os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] == "3"
        assert "MLFLOW_HTTP_REQUEST_TIMEOUT" not in os.environ
