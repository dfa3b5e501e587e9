"""End-to-end: the real ``kedro`` CLI, real runners, in a temporary copy of the project."""

import json
import os
import pickle
import re
import shutil

import pytest

from parallel_trees.models import MODELS
from parallel_trees.parallel_runner import shared_data_folder, shared_data_folders
from parallel_trees.pipelines.training.pipeline import FOLD_NODES
from parallel_trees.resources import available_cores
from tests.conftest import ProjectCopy, dead_pid

TRAINING = ["random_forest", "xgboost"]
# Enough trees that each training node takes a good fraction of a second, so
# that whether the models' nodes ran at the same time is plain from their timings.
SLOW = "n_estimators=100"
IRIS_COLUMNS = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]


def overlap(a: dict, b: dict) -> float:
    """Seconds during which two training spans overlap (<= 0: they did not)."""
    return min(a["finished_at"], b["finished_at"]) - max(a["started_at"], b["started_at"])


def overlap_in_two_processes(first: list[dict], second: list[dict]) -> bool:
    """Whether a span of ``first`` overlaps a span of ``second`` run by another process.

    The tests pass both models' spans as both: which model's nodes meet which is
    the pool's order, and under spawn, with nodes of a tenth of a second, CI saw
    the two models' nodes alternate without meeting while nodes ran two at a time.
    """
    return any(a["pid"] != b["pid"] and overlap(a, b) > 0 for a in first for b in second)


def most_at_once(spans: list[dict]) -> int:
    """The most spans running at the same instant (1: one after the other)."""
    return max(
        sum(o["started_at"] <= s["started_at"] < o["finished_at"] for o in spans) for s in spans
    )


@pytest.fixture(scope="module")
def runs(module_project):
    """The same run under ParallelRunner, then under the default SequentialRunner.

    Before them, the shared data a SIGKILLed ParallelRunner run left behind.
    """
    killed = shared_data_folder(dead_pid(), "0123456789ab")
    killed.mkdir()
    (killed / "X_train").write_bytes(b"left by a run killed with SIGKILL")
    # One worker per model, so that a project with more models still trains
    # random_forest and xgboost at the same time.
    parallel = module_project.kedro(
        "run",
        "--runner=ParallelRunner",
        "--runner-params",
        f"max_workers={len(MODELS)}",
        "--params",
        SLOW,
    )
    first_metrics = module_project.versions("data/08_reporting/metrics.json")[0]
    first_bytes = (first_metrics / "metrics.json").read_bytes()
    sequential = module_project.kedro("run", "--params", SLOW)
    swept = not killed.exists()
    shutil.rmtree(killed, ignore_errors=True)
    return {
        "swept": swept,
        "parallel": parallel,
        "sequential": sequential,
        "metrics": dict(zip(["parallel", "sequential"], module_project.metrics(), strict=True)),
        "first_bytes": first_bytes,
        "first_metrics": first_metrics,
    }


class TestParallelAndSequentialRuns:
    def test_both_succeed_and_print_the_results(self, runs):
        for run in (runs["parallel"], runs["sequential"]):
            assert run.returncode == 0, run.output
            assert re.search(r"^Random Forest Model Accuracy: 0\.\d+ ± 0\.\d+$", run.output, re.M)
            assert re.search(r"^XGBoost Model Accuracy: 0\.\d+ ± 0\.\d+$", run.output, re.M)
            assert "model          CV accuracy (mean ± std)  test accuracy" in run.output

    def test_the_parallel_run_deletes_its_shared_data_and_that_of_killed_runs(self, runs):
        assert shared_data_folders(runs["parallel"].pid) == []
        assert runs["swept"]

    def test_parallel_runner_trains_both_models_at_once_in_two_processes(self, runs):
        rf, xgb = (runs["metrics"]["parallel"]["models"][m]["timing"] for m in TRAINING)
        assert len(rf) == len(xgb) == FOLD_NODES + 1  # a span per training node
        assert len({s["pid"] for s in rf + xgb}) == len(MODELS)  # one process per worker
        assert overlap_in_two_processes(rf + xgb, rf + xgb)

    def test_kedro_viz_keeps_its_statistics_and_its_hooks_are_quiet_in_workers(
        self, runs, module_project
    ):
        assert "Unable to create statistics" not in runs["parallel"].output
        # Written by kedro-viz's hook in `kedro run`, after the sequential run.
        stats = json.loads((module_project.root / ".viz" / "stats.json").read_text())
        assert stats["X_train"] == {"rows": 120, "columns": 4}

    def test_sequential_runner_trains_them_one_after_the_other(self, runs):
        rf, xgb = (runs["metrics"]["sequential"]["models"][m]["timing"] for m in TRAINING)
        assert len({s["pid"] for s in rf + xgb}) == 1
        assert most_at_once(rf + xgb) == 1  # no two spans overlap, of any model

    def test_timeline_chart_shows_overlapping_bars_only_for_the_parallel_run(
        self, runs, module_project
    ):
        parallel, sequential = (
            json.loads((version / "run_timeline.json").read_text())
            for version in module_project.versions("data/08_reporting/run_timeline.json")
        )
        for chart, runner, overlapping in (
            (parallel, "ParallelRunner", True),
            (sequential, "SequentialRunner", False),
        ):
            # A trace per model, a bar per node on its process's row.
            assert [bars["name"] for bars in chart["data"]] == ["Random Forest", "XGBoost"]
            rf, xgb = (
                [
                    {"pid": row, "started_at": start, "finished_at": start + length}
                    for row, start, length in zip(bars["y"], bars["base"], bars["x"], strict=True)
                ]
                for bars in chart["data"]
            )
            assert overlap_in_two_processes(rf + xgb, rf + xgb) is overlapping, runner
            assert (most_at_once(rf + xgb) > 1) is overlapping, runner
            assert chart["layout"]["title"]["text"].startswith(f"Training nodes under {runner}:")

    def test_scores_do_not_depend_on_the_runner(self, runs):
        parallel, sequential = runs["metrics"]["parallel"], runs["metrics"]["sequential"]
        assert parallel["run"] == sequential["run"]
        for model in TRAINING:
            for key in ("cv_scores", "cv_mean", "cv_std", "test_accuracy"):
                assert parallel["models"][model][key] == sequential["models"][model][key]
            hyperparameters = (
                {k: v for k, v in run["models"][model]["hyperparameters"].items() if k != "n_jobs"}
                for run in (parallel, sequential)
            )
            assert next(hyperparameters) == next(hyperparameters)

    def test_n_jobs_auto_shares_the_cores_among_the_training_nodes_at_once(self, runs):
        cores = available_cores()
        # As many training nodes at once as the workers: one per model here.
        for runner, at_once in (("parallel", len(MODELS)), ("sequential", 1)):
            for model in TRAINING:
                record = runs["metrics"][runner]["models"][model]
                assert record["hyperparameters"]["n_jobs"] == max(1, cores // at_once)

    def test_metrics_hold_what_a_user_needs(self, runs):
        metrics = runs["metrics"]["parallel"]
        assert metrics["run"] == {
            "dataset": "iris",
            "data_file": None,
            "synthetic": None,
            "rows": 150,
            "train_rows": 120,
            "test_rows": 30,
            "classes": ["setosa", "versicolor", "virginica"],
            "target_column": "target",
            "feature_roles": {
                "numeric": IRIS_COLUMNS,
                "categorical": [],
                "many_levels": [],
                "excluded": {},
            },
            "random_state": 21,
            "cv_folds": 5,
            "cv_shuffle": True,
            "test_size": 0.2,
            "tuning": {"trials": 0, "inner_folds": 3, "progress_every": 10},
        }
        for model in TRAINING:
            record = metrics["models"][model]
            assert record["display_name"] == MODELS[model].display_name
            assert len(record["cv_scores"]) == 5
            assert 0.8 <= record["cv_mean"] <= 1 and 0 <= record["cv_std"] < 0.2
            assert 0.8 <= record["test_accuracy"] <= 1
            assert record["hyperparameters"]["n_estimators"] == 100
            assert record["hyperparameters"]["random_state"] == 21

    def test_the_pair_gets_a_verdict_and_the_record_ends_with_the_ranking(self, runs):
        metrics = runs["metrics"]["parallel"]
        assert list(metrics) == ["run", "models", "comparison", "ranking"]
        (pair,) = metrics["comparison"]["pairs"]
        assert set(pair["models"]) == set(TRAINING)
        assert 0 <= pair["cv"]["p_value"] <= 1 and 0 <= pair["held_out"]["p_value"] <= 1
        assert pair["cv"]["ci_low"] <= pair["cv"]["difference"] <= pair["cv"]["ci_high"]
        output = runs["parallel"].output
        assert re.search(
            r"^(Random Forest vs XGBoost|XGBoost vs Random Forest): [+-]0\.\d{3} CV accuracy, "
            r"95% CI \[[+-]0\.\d\d, [+-]0\.\d\d\], p = [\d.e-]+: ",
            output,
            re.M,
        )
        assert pair["cv"]["verdict"] in output and pair["held_out"]["verdict"] in output
        assert [r["model"] for r in metrics["ranking"]] == pair["models"]
        assert "Ranking by CV accuracy (significance level 0.05):" in output

    def test_held_out_predictions_are_saved_beside_the_labels(self, runs, module_project):
        latest = module_project.versions("data/07_model_output/test_predictions.csv")[-1]
        table = (latest / "test_predictions.csv").read_text().splitlines()
        assert table[0] == "row,target,random_forest,xgboost"
        assert len(table) == 1 + 30
        accuracy = runs["metrics"]["sequential"]["models"]["xgboost"]["test_accuracy"]
        rows = [line.split(",") for line in table[1:]]
        assert sum(r[1] == r[3] for r in rows) / 30 == pytest.approx(accuracy)

    def test_a_second_run_keeps_the_first_runs_results(self, runs, module_project):
        metrics = module_project.versions("data/08_reporting/metrics.json")
        assert len(metrics) == 2
        assert (runs["first_metrics"] / "metrics.json").read_bytes() == runs["first_bytes"]
        for model in TRAINING:
            versions = module_project.versions(f"data/06_models/{model}.pkl")
            assert [v.name for v in versions] == [m.name for m in metrics]

    def test_saved_models_are_the_fitted_estimators(self, runs, module_project):
        latest = module_project.versions("data/06_models/xgboost.pkl")[-1]
        with (latest / "xgboost.pkl").open("rb") as f:
            model = pickle.load(f)  # our own file, just written
        # The whole pipeline: it predicts from the table's own columns.
        assert [type(step).__name__ for step in model] == ["ColumnTransformer", "XGBClassifier"]
        assert model[-1].get_params()["n_estimators"] == 100
        assert model.feature_names_in_.tolist() == IRIS_COLUMNS

    def test_telemetry_stays_off_with_only_the_committed_opt_out(self, runs, module_project):
        # With consent, kedro-telemetry would add a project_id to pyproject.toml.
        assert "project_id" not in (module_project.root / "pyproject.toml").read_text()
        assert (module_project.root / ".telemetry").read_text().strip() == "consent: false"


def test_tutorial_env_prints_the_tutorials_numbers(project):
    run = project.kedro("run", "--env", "tutorial", "--runner=ParallelRunner")
    assert run.returncode == 0, run.output
    lines = run.output.splitlines()
    assert "Random Forest Model Accuracy: 0.96 ± 0.025" in lines
    assert "XGBoost Model Accuracy: 0.967 ± 0.021" in lines
    (metrics,) = project.metrics()
    assert metrics["run"]["train_rows"] == 150 and metrics["run"]["test_rows"] == 0
    assert all(m["test_accuracy"] is None for m in metrics["models"].values())
    assert re.search(r"^Random Forest +0\.960 ± 0\.025 +n/a$", run.output, re.M)
    (confusion,) = project.versions("data/08_reporting/confusion_matrix.json")
    chart = json.loads((confusion / "confusion_matrix.json").read_text())
    assert chart["data"] == []  # nothing held out: an empty chart that says so
    assert "test_size is 0" in chart["layout"]["title"]["text"]


def test_params_override_shared_and_per_model_knobs(project):
    run = project.kedro(
        "run",
        "--params",
        "dataset=wine,test_size=0.3,cv_folds=3,n_estimators=7,"
        "random_forest.max_depth=3,xgboost.n_estimators=4,xgboost.n_jobs=3",
    )
    assert run.returncode == 0, run.output
    (metrics,) = project.metrics()
    assert len(metrics["run"].pop("feature_roles")["numeric"]) == 13
    assert metrics["run"] == {
        "dataset": "wine",
        "data_file": None,
        "synthetic": None,
        "rows": 178,
        "train_rows": 124,
        "test_rows": 54,  # ceil(0.3 * 178), as train_test_split counts
        "classes": ["class_0", "class_1", "class_2"],
        "target_column": "target",
        "random_state": 21,
        "cv_folds": 3,
        "cv_shuffle": True,
        "test_size": 0.3,
        "tuning": {"trials": 0, "inner_folds": 3, "progress_every": 10},
    }
    forest, booster = (metrics["models"][m] for m in TRAINING)
    assert forest["hyperparameters"]["n_estimators"] == 7  # the shared knob
    assert forest["hyperparameters"]["max_depth"] == 3
    assert booster["hyperparameters"]["n_estimators"] == 4  # its own wins
    assert booster["hyperparameters"]["n_jobs"] == 3  # an explicit n_jobs wins over auto
    assert forest["hyperparameters"]["n_jobs"] == available_cores()  # auto, one at a time
    assert len(forest["cv_scores"]) == len(booster["cv_scores"]) == 3


def test_synthetic_dataset_is_sized_by_parameters(project):
    run = project.kedro(
        "run",
        "--runner=ParallelRunner",
        "--params",
        "dataset=synthetic,synthetic.n_samples=400,synthetic.n_features=8,"
        "synthetic.n_informative=4,synthetic.n_classes=4",
    )
    assert run.returncode == 0, run.output
    (metrics,) = project.metrics()
    assert metrics["run"]["rows"] == 400 and metrics["run"]["test_rows"] == 80
    assert metrics["run"]["synthetic"] == {
        "n_samples": 400,
        "n_features": 8,
        "n_informative": 4,
        "n_classes": 4,
    }


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ("cv_folds=1", "cv_folds = 1: Input should be greater than or equal to 2"),
        ("test_size=1.5", "test_size = 1.5: Input should be less than 1"),
        ("n_estimators=0", "random_forest.n_estimators = 0: Input should be greater than 0"),
        ("dataset=mnist", "dataset = 'mnist': Input should be 'iris', 'wine', 'breast_cancer'"),
        ("random_forrest.n_estimators=5", "Did you mean 'random_forest'?"),
        ("xgboost.max_dept=3", "xgboost.max_dept: unknown XGBClassifier parameter."),
        ("cv_folds=five", "cv_folds = 'five': Input should be a valid integer"),
    ],
)
def test_bad_parameters_stop_the_run_before_any_node(project, params, message):
    run = project.kedro("run", "--runner=ParallelRunner", "--params", params)
    assert run.returncode == 1
    assert "Error: Invalid parameters" in run.output
    assert message in run.output
    assert "Traceback" not in run.output
    assert "Running node" not in run.output
    assert project.metrics() == []
    assert project.versions("data/06_models/random_forest.pkl") == []


def test_a_third_model_takes_one_registry_line_and_one_section(project):
    models_py = project.root / "src/parallel_trees/models.py"
    source = models_py.read_text()
    # The README's example, verbatim: one line in MODELS.
    registration = (
        '    "extra_trees": ModelSpec("Extra Trees", '
        "ensemble.ExtraTreesClassifier, ForestParams),\n"
    )
    anchor = '    "xgboost": ModelSpec('
    assert anchor in source
    models_py.write_text(source.replace(anchor, registration + anchor))
    parameters = project.root / "conf/base/parameters.yml"
    parameters.write_text(
        parameters.read_text()
        + "\nextra_trees:\n  n_estimators: ${n_estimators}\n  max_depth: null\n  n_jobs: auto\n"
    )

    run = project.kedro(
        "run", "--runner=ParallelRunner", "--runner-params", "max_workers=3", "--params", SLOW
    )

    assert run.returncode == 0, run.output
    assert "Extra Trees Model Accuracy: " in run.output
    (metrics,) = project.metrics()
    assert list(metrics["models"]) == ["random_forest", "extra_trees", "xgboost"]
    assert metrics["models"]["extra_trees"]["estimator"] == "ExtraTreesClassifier"
    assert project.versions("data/06_models/extra_trees.pkl")
    # Their 18 training nodes spread over the 3 workers, more than one at a time.
    # (Which nodes meet is the pool's order and the nodes' tenths of a second:
    # under spawn, CI saw no instant with three at once.)
    spans = [s for m in metrics["models"].values() for s in m["timing"]]
    assert len(spans) == 3 * (FOLD_NODES + 1)
    assert len({s["pid"] for s in spans}) == 3
    assert most_at_once(spans) >= 2
    # ... and every pair was compared, the ranking covering all three.
    pairs = [frozenset(p["models"]) for p in metrics["comparison"]["pairs"]]
    assert len(set(pairs)) == 3 and all(len(p) == 2 for p in pairs)
    assert sorted(r["model"] for r in metrics["ranking"]) == sorted(metrics["models"])
    assert sum(" vs " in line for line in run.output.splitlines()) == 3


def test_a_clearly_better_model_is_called_better(project):
    # Built so that one model is clearly better: 3-class make_classification
    # data whose classes sit on clusters in 10 informative dimensions, with
    # the forest cut down to stumps (max_depth=1): each of its trees sees one
    # feature once, which cannot carve out those clusters, while XGBoost's
    # depth-6 trees can. On 2000 rows that is about 0.68 vs 0.90 accuracy.
    run = project.kedro(
        "run",
        "--runner=ParallelRunner",
        "--params",
        "dataset=synthetic,synthetic.n_samples=2000,random_forest.max_depth=1",
    )
    assert run.returncode == 0, run.output
    (metrics,) = project.metrics()
    (pair,) = metrics["comparison"]["pairs"]
    assert pair["models"] == ["xgboost", "random_forest"]
    assert pair["cv"]["significant"] and pair["held_out"]["significant"]
    assert pair["cv"]["ci_low"] > 0
    assert "CV accuracy" in pair["cv"]["verdict"]
    for verdict in (pair["cv"]["verdict"], pair["held_out"]["verdict"]):
        assert verdict.endswith(": XGBoost is significantly better")
        assert verdict in run.output
    assert [(r["model"], r["versus_best"]) for r in metrics["ranking"]] == [
        ("xgboost", "best"),
        ("random_forest", "worse"),
    ]


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    """The default ParallelRunner run, in an 80-column terminal."""
    project = ProjectCopy(tmp_path_factory.mktemp("console") / "parallel-trees")
    run = project.kedro("run", "--runner=ParallelRunner", env={"COLUMNS": "80"})
    assert run.returncode == 0, run.output
    return project, run


@pytest.fixture
def fresh(tmp_path_factory):
    """A copy of the project that has never run."""
    return ProjectCopy(tmp_path_factory.mktemp("fresh") / "parallel-trees")


class TestConsole:
    def test_a_default_run_fits_a_screen_and_ends_with_the_ranking(self, default_run):
        _, run = default_run
        lines = run.output.splitlines()
        assert len(lines) <= 50, run.output
        assert lines[-3] == "Ranking by CV accuracy (significance level 0.05):"
        assert lines[-2].startswith("1. ") and lines[-1].startswith("2. ")
        assert "Loading data from" not in run.output

    def test_it_says_what_it_does_before_the_results(self, default_run):
        _, run = default_run
        lines = run.output.splitlines()
        # Kedro's pool has a worker per CPU; 12 training nodes could run at once.
        at_once = min(len(TRAINING) * (FOLD_NODES + 1), os.cpu_count())
        assert lines[0] == (
            f"ParallelRunner: {available_cores()} core(s), {at_once} training node(s) at once, "
            f"n_jobs auto = {max(1, available_cores() // at_once)} thread(s) each"
        )
        assert "Data: 150 rows, 4 feature columns, 3 classes; 120 to train on, 30 held out" in lines
        for model in ("Random Forest", "XGBoost"):
            trained = (
                rf"Trained {model}: 5-fold CV and a fit on all training rows, "
                rf"\d+\.\d s of CPU in {FOLD_NODES + 1} nodes"
            )
            assert any(re.fullmatch(trained, line) for line in lines), run.output

    def test_the_full_log_of_every_process_goes_to_info_log(self, default_run):
        project, _ = default_run
        log = (project.root / "info.log").read_text()
        assert "Loading data from X_train" in log
        assert "Completed 35 out of 35 tasks" in log  # 16 shared, 9 per model, 1 export
        assert len({line.split(" - ")[1] for line in log.splitlines() if " - " in line}) >= 2

    def test_the_printed_report_is_saved_as_report_txt(self, default_run):
        project, run = default_run
        (version,) = project.versions("data/08_reporting/report.txt")
        report = (version / "report.txt").read_text()
        assert report.startswith("Accuracy on iris (5-fold CV on 120 training rows;")
        assert run.output.endswith(report)


class TestChosenNodes:
    @pytest.mark.parametrize(
        ("options", "needs"),
        [
            (
                ["--pipelines", "training"],
                "it needs X_test, X_train, cv_splits, feature_roles, y_test, y_train, which",
            ),
            (["--tags", "scoring"], "it needs classes, cv_splits, data_source, feature_roles, "),
            (
                ["--pipelines", "reporting"],
                "it needs classes, comparison, random_forest.importance, random_forest.training",
            ),
            # test_predictions is a file: Kedro reads it, or says it is missing.
            (["--nodes", "compare_models"], "it needs cv_splits, scores, which"),
        ],
    )
    def test_a_part_that_needs_what_the_rest_makes_in_memory_is_refused(
        self, fresh, options, needs
    ):
        run = fresh.kedro("run", *options)
        assert run.returncode == 1, run.output
        assert f"Error: kedro run {' '.join(options)} cannot run on its own: {needs}" in run.output
        assert "Traceback" not in run.output
        assert not fresh.versions("data/08_reporting/metrics.json")

    def test_the_suggested_command_runs(self, fresh):
        refused = fresh.kedro("run", "--pipelines", "scoring")
        suggestion = re.search(r"Run them too: kedro run (--to-nodes=\S+)", refused.output)
        assert suggestion, refused.output
        run = fresh.kedro("run", suggestion[1])
        assert run.returncode == 0, run.output
        (metrics,) = fresh.metrics()
        assert set(metrics["models"]) == set(TRAINING)
        assert not fresh.versions("data/08_reporting/report.txt")  # reporting: not asked for

    @pytest.mark.parametrize(
        "options", [["--pipelines", "data_preparation"], ["--tags", "data_preparation"]]
    )
    def test_data_preparation_runs_alone(self, fresh, options):
        run = fresh.kedro("run", *options)
        assert run.returncode == 0, run.output
        assert "Data: 150 rows, 4 feature columns, 3 classes" in run.output


class TestRunnerParams:
    def test_max_workers_1_trains_one_node_at_a_time_on_every_core(self, project):
        cores = available_cores()
        run = project.kedro("run", "--runner=ParallelRunner", "--runner-params", "max_workers=1")
        assert run.returncode == 0, run.output
        assert run.output.splitlines()[0] == (
            f"ParallelRunner: {cores} core(s), 1 training node(s) at once, "
            f"n_jobs auto = {cores} thread(s) each"
        )
        (metrics,) = project.metrics()
        for model in TRAINING:
            assert metrics["models"][model]["hyperparameters"]["n_jobs"] == cores

    @pytest.mark.parametrize(
        ("options", "message"),
        [
            (
                ["--runner=ParallelRunner", "--runner-params", "max_wrkers=1"],
                "  - max_wrkers: unknown argument of ParallelRunner. Did you mean 'max_workers'? "
                "Allowed: max_workers, is_async.",
            ),
            (
                ["--runner=ParallelRunner", "--runner-params", "max_workers=0"],
                "  - max_workers = 0: Input should be greater than or equal to 1.",
            ),
            (
                ["--runner=ParallelRunner", "--runner-params", "max_workers=two"],
                "  - max_workers = 'two': Input should be a valid integer.",
            ),
            (
                ["--runner=parallel_trees.runners.DaskRunner", "--runner-params", "n_wrkers=2"],
                "  - n_wrkers: unknown argument of DaskRunner. Did you mean 'n_workers'?",
            ),
            (
                ["--runner=ParalelRunner"],
                "Error: --runner ParalelRunner: no such runner. Did you mean 'ParallelRunner'?",
            ),
        ],
    )
    def test_a_bad_runner_option_is_refused_in_one_message(self, project, options, message):
        run = project.kedro("run", *options)
        assert run.returncode == 1, run.output
        assert message in run.output
        assert run.output.startswith("Error: ")
        assert "Traceback" not in run.output and "Exception ignored" not in run.output
        assert "Running node" not in (project.root / "info.log").read_text()
        assert project.metrics() == []
