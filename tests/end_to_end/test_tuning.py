"""End-to-end: tuning in nested cross-validation, through the real ``kedro`` CLI and real runners.

Each tuned run is small (iris or a 600-row synthetic table, a few trials per
search), so that the file runs in minutes on a busy 2-core machine.
"""

import os
import pickle
import re
import signal
import time
from pathlib import Path

import pytest
import yaml

from tests.conftest import ProjectCopy
from tests.test_faults import (
    PROMPT,
    assert_nothing_kept,
    lost_with,
    saved_versions,
    wait_for_group_to_end,
)
from tests.test_run import TRAINING

TRIALS = 6
# progress_every=0: a progress line after every trial but the last, whatever the machine's speed.
TUNED = f"tuning.trials={TRIALS},tuning.progress_every=0"
DASK = "--runner=parallel_trees.runners.DaskRunner"
# Searches of 1000 trials each take minutes: a run that ends within seconds of a fault did not wait.
LONG_SEARCHES = "tuning.trials=1000"
# Python prints each module it imports to stderr, in every process of the run.
IMPORT_TIMES = {"PYTHONPROFILEIMPORTTIME": "1"}
SEARCH_KEYS = ("best_params", "best_inner_score", "trials", "importance")


def imported(output: str, module: str) -> bool:
    """Whether a process of a run with ``IMPORT_TIMES`` imported ``module`` (or a submodule)."""
    return re.search(rf"^import time: .*\| +{re.escape(module)}(\.\w+)*$", output, re.M) is not None


def without_threads(hyperparameters: dict) -> dict:
    """The hyperparameters but ``n_jobs``: ``n_jobs: auto`` is each runner's share of the cores."""
    return {key: value for key, value in hyperparameters.items() if key != "n_jobs"}


@pytest.fixture(scope="module")
def untuned(tmp_path_factory):
    """The default run with tuning.trials=0 said aloud, under ParallelRunner, its imports listed."""
    project = ProjectCopy(tmp_path_factory.mktemp("untuned") / "parallel-trees")
    run = project.kedro(
        "run", "--runner=ParallelRunner", "--params", "tuning.trials=0", env=IMPORT_TIMES
    )
    assert run.returncode == 0, run.output
    (metrics,) = project.metrics()
    return run, metrics


class TestTuningOff:
    def test_scores_and_ranking_are_the_untuned_runs_of_the_readme(self, untuned):
        run, metrics = untuned
        lines = run.output.splitlines()
        assert "Random Forest Model Accuracy: 0.967 ± 0.049" in lines
        assert "XGBoost Model Accuracy: 0.942 ± 0.042" in lines
        assert [(r["model"], r["versus_best"]) for r in metrics["ranking"]] == [
            ("random_forest", "best"),
            ("xgboost", "indistinguishable"),
        ]
        assert "Tuned " not in run.output and "Tuning " not in run.output

    def test_the_records_hold_no_search(self, untuned):
        _, metrics = untuned
        for model in TRAINING:
            record = metrics["models"][model]
            assert record["untuned_cv_scores"] is None and record["search"] is None
            assert [f["fold"] for f in record["folds"]] == list(range(5))
            for fold in record["folds"]:
                assert fold["score"] == fold["untuned_score"]
                assert not set(SEARCH_KEYS) & set(fold)
            assert "search" not in record["hyperparameters"]

    def test_optuna_is_never_imported(self, untuned):
        run, _ = untuned
        assert imported(run.output, "xgboost")  # the list is there (workers: see the tuned run)
        assert not imported(run.output, "optuna")


@pytest.fixture(scope="module")
def tuned(tmp_path_factory):
    """The same tuned iris run under SequentialRunner, ParallelRunner and DaskRunner."""
    project = ProjectCopy(tmp_path_factory.mktemp("tuned") / "parallel-trees")
    runs = {
        "SequentialRunner": project.kedro("run", "--params", TUNED),
        # Its imports listed: every search runs in a worker process.
        "ParallelRunner": project.kedro(
            "run", "--runner=ParallelRunner", "--params", TUNED, env=IMPORT_TIMES
        ),
        "DaskRunner": project.kedro(
            "run", DASK, "--runner-params", "n_workers=2", "--params", TUNED
        ),
    }
    for runner, run in runs.items():
        assert run.returncode == 0, (runner, run.output)
    return project, runs, dict(zip(runs, project.metrics(), strict=True))


class TestTheSameTrialsUnderEveryRunner:
    def test_trials_best_parameters_and_scores_are_identical(self, tuned):
        _, _, metrics = tuned
        reference = metrics["SequentialRunner"]
        for runner in ("ParallelRunner", "DaskRunner"):
            assert metrics[runner]["run"] == reference["run"]
            for model in TRAINING:
                ours, theirs = metrics[runner]["models"][model], reference["models"][model]
                for key in ("folds", "search", "cv_scores", "untuned_cv_scores", "test_accuracy"):
                    assert ours[key] == theirs[key], (runner, model, key)
                assert without_threads(ours["hyperparameters"]) == without_threads(
                    theirs["hyperparameters"]
                )
            assert metrics[runner]["comparison"] == reference["comparison"], runner
            assert metrics[runner]["ranking"] == reference["ranking"], runner

    def test_each_outer_fold_records_its_own_search(self, tuned):
        project, _, metrics = tuned
        parameters = yaml.safe_load((project.root / "conf/base/parameters.yml").read_text())
        for model in TRAINING:
            record = metrics["ParallelRunner"]["models"][model]
            space = set(parameters[model]["search"])
            assert record["untuned_cv_scores"] == [f["untuned_score"] for f in record["folds"]]
            assert record["cv_scores"] == [f["score"] for f in record["folds"]]
            searches = [*record["folds"], _as_fold(record["search"])]
            for search in searches:
                trials = search["trials"]
                assert len(trials) == TRIALS
                assert {t["state"] for t in trials} <= {"complete", "pruned"}
                assert all(set(t["params"]) == space for t in trials)
                complete = [t for t in trials if t["state"] == "complete"]
                best = max(complete, key=lambda t: t["score"])
                assert search["best_inner_score"] == best["score"]
                assert search["best_params"] in [t["params"] for t in complete]
                assert set(search["importance"]) <= space
            # Outer folds disagree on the best setting: each search is its own.
            assert len({str(f["best_params"]) for f in record["folds"]}) > 1

    def test_the_saved_model_has_the_last_searchs_best_setting(self, tuned):
        project, _, metrics = tuned
        record = metrics["SequentialRunner"]["models"]["random_forest"]
        best = record["search"]["best_params"]
        assert record["hyperparameters"].items() >= best.items()
        version = project.versions("data/06_models/random_forest.pkl")[0]
        with (version / "random_forest.pkl").open("rb") as f:
            model = pickle.load(f)  # our own file, just written
        assert model[-1].get_params().items() >= best.items()

    def test_progress_shows_every_search_trial_by_trial_in_whole_lines(self, tuned):
        _, runs, _ = tuned
        labels = {
            f"{name}, {part}"
            for name in ("Random Forest", "XGBoost")
            for part in [f"outer fold {k}/5" for k in range(1, 6)] + ["all training rows"]
        }
        progress = re.compile(
            rf"Tuning (?P<label>.+): (?P<done>\d+)/{TRIALS} trials, "
            r"best inner accuracy so far (0\.\d{3}|1\.000|n/a) \(\d+ s\)"
        )
        for runner, run in runs.items():
            # (Not the report's own "Tuning by nested CV..." and "Tuning did not change...".)
            lines = [line for line in run.output.splitlines() if " trials, best inner " in line]
            matches = [progress.fullmatch(line) for line in lines]
            assert all(matches), (runner, lines)
            shown = {(m["label"], int(m["done"])) for m in matches}
            # Every trial but the last: the last is told by the "Tuned ..." line.
            assert shown == {(label, done) for label in labels for done in range(1, TRIALS)}
            assert len(lines) == len(shown), runner  # each once

    def test_optuna_is_imported_where_the_searches_run(self, tuned):
        _, runs, _ = tuned
        assert imported(runs["ParallelRunner"].output, "optuna")


def _as_fold(search: dict) -> dict:
    """The last search's record with a fold's key names."""
    return {
        "trials": search["trials"],
        "best_params": search["best_params"],
        "best_inner_score": search["best_score"],
        "importance": search["importance"],
    }


def test_tuning_frees_a_model_held_back_by_a_bad_default(project):
    # The forest cut down to stumps (max_depth=1) on 3 classes clustered in 10
    # informative dimensions: significantly worse than XGBoost untuned (about 0.64
    # vs 0.87). Its search space (max_depth from 2) frees it: 0.87 vs 0.89, tuned.
    params = "dataset=synthetic,synthetic.n_samples=600,random_forest.max_depth=1"
    runs = [
        project.kedro("run", "--runner=ParallelRunner", "--params", params),
        project.kedro("run", "--runner=ParallelRunner", "--params", f"{params},tuning.trials=8"),
    ]
    assert [run.returncode for run in runs] == [0, 0], [run.output for run in runs]
    untuned, tuned = project.metrics()
    assert [(r["model"], r["versus_best"]) for r in untuned["ranking"]] == [
        ("xgboost", "best"),
        ("random_forest", "worse"),
    ]
    forest = {r["model"]: r for r in tuned["ranking"]}["random_forest"]
    assert forest["versus_best"] in ("best", "indistinguishable")
    # The tuned run scores the stumps too, on the same folds: the untuned run's scores.
    record = tuned["models"]["random_forest"]
    assert record["untuned_cv_scores"] == untuned["models"]["random_forest"]["cv_scores"]
    assert record["cv_mean"] > untuned["models"]["random_forest"]["cv_mean"]
    assert all(fold["best_params"]["max_depth"] > 1 for fold in record["folds"])


# Each bad setting, and the start of the one line that refuses it; all in one run.
BAD_SEARCH = {
    "random_forest.search.max_dept.low=2": "random_forest.search.max_dept: unknown "
    "RandomForestClassifier parameter. Did you mean 'max_depth'?",
    "random_forest.search.max_depth.low=0": "random_forest.search.max_depth = "
    "{'low': 0, 'high': 32, 'log': True}: log: true needs low > 0 (got 0).",
    "xgboost.search.max_depth.low=20": "xgboost.search.max_depth = {'low': 20, 'high': 10}: "
    "low (20) must be below high (10).",
    "random_forest.search.min_samples_split.low=1": "random_forest.search.min_samples_split = "
    "{'low': 1}: high: Field required.",
    "random_forest.search.max_features.high=lots": "random_forest.search.max_features = "
    "{'low': 0.1, 'high': 'lots'}: low and high must be numbers, not 'lots'.",
    "xgboost.search.subsample=0.5": "xgboost.search.subsample = 0.5: must be "
    "{low: ..., high: ...[, log: true]} or {choices: [...]}.",
    "tuning.trials=-1": "tuning.trials = -1: Input should be greater than or equal to 0.",
    "tuning.inner_folds=1": "tuning.inner_folds = 1: Input should be greater than or equal to 2.",
}
# Bounds the models' own schemas refuse, from a file.
LOCAL_SEARCH = """
random_forest:
  search:
    min_samples_split: {low: 1, high: 5}
xgboost:
  search:
    tree_method: {choices: [hist, bogus]}
"""
LOCAL_BAD_SEARCH = [
    "random_forest.search.min_samples_split: 1 is out of range: must be a number of rows >= 2, "
    "or a fraction of rows in (0, 1].",
    "xgboost.search.tree_method: 'bogus' is out of range: Input should be 'exact', 'approx', "
    "'hist' or 'auto'.",
]


@pytest.fixture(scope="module")
def previous(module_project) -> dict[str, list[str]]:
    """A good run: its results must stay the latest through every failure below.

    Under ParallelRunner, as the runs below: one thread per model. (A SequentialRunner run
    gives each model both cores, and took 30-100 s instead of 10 on this busy machine.)
    """
    run = module_project.kedro("run", "--runner=ParallelRunner")
    assert run.returncode == 0, run.output
    return saved_versions(module_project)


@pytest.mark.parametrize(
    ("local", "params", "messages", "where"),
    [
        ("", ",".join(BAD_SEARCH), list(BAD_SEARCH.values()), "--params"),
        (LOCAL_SEARCH, "tuning.trials=2", LOCAL_BAD_SEARCH, "conf/local/parameters.yml"),
    ],
    ids=["--params", "conf/local"],
)
def test_a_bad_search_space_stops_the_run_before_any_node(
    module_project, previous, local, params, messages, where
):
    (module_project.root / "conf/local/parameters.yml").write_text(local)
    log = module_project.root / "info.log"
    logged = log.stat().st_size

    run = module_project.kedro("run", "--runner=ParallelRunner", "--params", params)

    (module_project.root / "conf/local/parameters.yml").unlink()
    assert run.returncode == 1, run.output
    errors = [line for line in run.output.splitlines() if line.startswith("Error:")]
    assert errors == ["Error: Invalid parameters:"], run.output
    # One line per problem, naming the key and where it is set.
    lines = sorted(line for line in run.output.splitlines() if line.startswith("  - "))
    assert len(lines) == len(messages), run.output
    for line, message in zip(lines, sorted(messages), strict=True):
        assert line.startswith(f"  - {message}"), (line, message)
        assert line.endswith(f". Set in {where}."), line
    assert "Traceback" not in run.output
    with log.open() as f:
        f.seek(logged)
        assert "Running node" not in f.read()
    assert_nothing_kept(module_project, previous)


def searching(journals: Path, run) -> tuple[str, int]:
    """A node that searches (an outer fold's or the final fit's) and its pid, from the journal."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert run.poll() is None, run.communicate()[0]
        for entry in journals.glob("parallel-trees-running/*/*"):
            text = entry.read_text()
            if re.search(r"\.(evaluate_folds_\d+|fit_model)$", entry.name) and text:
                return entry.name, int(text)
        time.sleep(0.05)
    raise AssertionError("no search ever started")


def faulted_tuning(project: ProjectCopy, journals: Path, send) -> dict:
    """A run of long searches, ``send(run, pid)`` once a search runs in process ``pid``.

    Its workers start as the suite's do (KEDRO_MP_CONTEXT): run this file under each
    start method (tests/test_faults.py runs its untuned faults under all three).
    """
    run = project.start(
        "run", "--runner=ParallelRunner", "--params", LONG_SEARCHES, env={"TMPDIR": str(journals)}
    )
    try:
        node, pid = searching(journals, run)
        time.sleep(1)  # its untuned fit done, well into its search
        sent = time.monotonic()
        send(run, pid)
        output, _ = run.communicate(timeout=120)
        ended = time.monotonic() - sent
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
    left = wait_for_group_to_end(run.pid)
    return {
        "output": output,
        "code": run.returncode,
        "node": node,
        "pid": pid,
        "ended": ended,
        "left": left,
    }


class TestFaultsWhileTuning:
    """A tuned run ends as quickly as an untuned one: no search is waited for."""

    def test_a_killed_worker_ends_the_run_at_once_naming_its_node(
        self, module_project, previous, tmp_path
    ):
        run = faulted_tuning(module_project, tmp_path, lambda _, pid: os.kill(pid, signal.SIGKILL))
        assert run["code"] == 1, run["output"]
        assert re.search(
            rf"^Error: The run stopped: a worker process \(pid {run['pid']}\) was killed by "
            rf"SIGKILL\. Nodes lost: {lost_with(run['node'], run['pid'])}\. "
            "Nothing of this run was kept.",
            run["output"],
            re.M,
        ), run["output"]
        assert run["ended"] < PROMPT, run["output"]
        assert run["left"] == []
        assert "Traceback" not in run["output"]
        assert_nothing_kept(module_project, previous)

    def test_ctrl_c_stops_every_process_and_keeps_nothing(self, module_project, previous, tmp_path):
        run = faulted_tuning(
            module_project, tmp_path, lambda run, _: os.killpg(run.pid, signal.SIGINT)
        )
        assert run["code"] == 130, run["output"]
        assert "Error: Run interrupted (Ctrl-C); nothing of it was kept." in run["output"]
        assert "Traceback" not in run["output"] and "KeyboardInterrupt" not in run["output"]
        assert run["ended"] < PROMPT, run["output"]
        assert run["left"] == []
        assert_nothing_kept(module_project, previous)
