"""End-to-end: a run that cannot work is refused before any node, in one ``Error:`` message
that names the setting, where it is set, and what is allowed.

Every run here is refused by the main process alike under every start method, so
each runs in process (``ProjectCopy.in_process``), ParallelRunner's included.
"""

import re

import pytest

from tests.helpers.project import ProjectCopy

PARALLEL = "--runner=ParallelRunner"


def assert_refused_before_any_node(project: ProjectCopy, output: str) -> None:
    assert "Traceback" not in output
    assert "Running node" not in output
    log = project.root / "info.log"
    assert "Running node" not in (log.read_text() if log.exists() else "")
    assert project.metrics() == []
    assert project.versions("data/06_models/random_forest.pkl") == []


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ("cv_folds=1", "cv_folds = 1: Input should be greater than or equal to 2"),
        ("test_size=1.5", "test_size = 1.5: Input should be less than 1"),
        ("n_estimators=0", "random_forest.n_estimators = 0: Input should be greater than 0"),
        ("dataset=mnist", "dataset = 'mnist': Input should be 'iris', 'wine', 'breast_cancer'"),
        ("random_forrest.n_estimators=5", "Did you mean 'random_forest'?"),
        (
            "xgboost.max_dept=3",
            "xgboost.max_dept: unknown XGBClassifier or XGBRegressor parameter.",
        ),
        ("cv_folds=five", "cv_folds = 'five': Input should be a valid integer"),
    ],
)
def test_bad_parameters_stop_the_run_before_any_node(project, params, message):
    run = project.in_process("run", PARALLEL, "--params", params, refused=True)
    assert run.returncode == 1
    assert "Error: Invalid parameters" in run.output
    assert message in run.output
    assert_refused_before_any_node(project, run.output)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            [PARALLEL, "--runner-params", "max_wrkers=1"],
            "  - max_wrkers: unknown argument of ParallelRunner. Did you mean 'max_workers'? "
            "Allowed: max_workers, is_async.",
        ),
        (
            [PARALLEL, "--runner-params", "max_workers=0"],
            "  - max_workers = 0: Input should be greater than or equal to 1.",
        ),
        (
            [PARALLEL, "--runner-params", "max_workers=two"],
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
def test_a_bad_runner_option_is_refused_in_one_message(project, options, message):
    run = project.in_process("run", *options, refused=True)
    assert run.returncode == 1, run.output
    assert message in run.output
    assert run.output.startswith("Error: ")
    assert "Exception ignored" not in run.output
    assert_refused_before_any_node(project, run.output)


@pytest.mark.parametrize(
    ("options", "needs"),
    [
        (
            ["--pipelines", "training"],
            "it needs X_test, X_train, classes, cv_splits, feature_roles, y_test, y_train, "
            "yardstick, which",
        ),
        (
            ["--tags", "scoring"],
            "it needs baseline.predictions, baseline.training, classes, cv_splits, data_source, ",
        ),
        (
            ["--pipelines", "reporting"],
            "it needs classes, comparison, random_forest.importance, random_forest.training",
        ),
        # test_predictions is a file: Kedro reads it, or says it is missing.
        (["--nodes", "compare_models"], "it needs cv_splits, held_out, scores, yardstick, which"),
    ],
)
def test_a_part_that_needs_what_the_rest_makes_in_memory_is_refused(project, options, needs):
    run = project.in_process("run", *options)
    assert run.returncode == 1, run.output
    assert f"Error: kedro run {' '.join(options)} cannot run on its own: {needs}" in run.output
    assert_refused_before_any_node(project, run.output)


class TestWhereASettingIsSet:
    """An error about a setting names the file, or ``--params``, that set it."""

    @staticmethod
    def refused(project: ProjectCopy, *args: str, local: str = "") -> str:
        if local:
            (project.root / "conf/local/parameters.yml").write_text(local)
        run = project.in_process("run", PARALLEL, *args, refused=True)
        assert run.returncode == 1, run.output
        assert "Traceback" not in run.output
        assert project.metrics() == []
        return run.output

    def test_a_model_rejecting_a_value_from_conf_local_names_conf_local(self, project):
        # Refused by the first fit, in process: SequentialRunner (the runner does not
        # change where the value is set; test_faults checks the message across processes).
        (project.root / "conf/local/parameters.yml").write_text(
            "random_forest:\n  max_features: bogus\n"
        )
        run = project.in_process("run")
        assert run.returncode == 1, run.output
        assert (
            "Change random_forest.max_features = 'bogus'. "
            "random_forest.max_features is set in conf/local/parameters.yml.\n"
        ) in run.output
        assert "Traceback" not in run.output
        assert project.metrics() == []

    @pytest.mark.parametrize(
        ("args", "local", "where"),
        [
            ((), "cv_folds: 1\n", "Set in conf/local/parameters.yml."),
            (("--params", "cv_folds=1"), "cv_folds: 3\n", "Set in --params."),
            (("--env", "tutorial", "--params", "cv_folds=1"), "", "Set in --params."),
        ],
    )
    def test_an_invalid_parameter_names_where_it_is_set(self, project, args, local, where):
        output = self.refused(project, *args, local=local)
        assert f"  - cv_folds = 1: Input should be greater than or equal to 2. {where}\n" in output

    def test_another_environments_file_is_named(self, project):
        (project.root / "conf/staging").mkdir()
        (project.root / "conf/staging/parameters.yml").write_text("test_size: 1.5\n")
        output = self.refused(project, "--env", "staging")
        assert (
            "test_size = 1.5: Input should be less than 1. Set in conf/staging/parameters.yml."
            in output
        )

    def test_a_limit_met_by_the_data_names_the_file(self, project):
        (project.root / "conf/local/parameters.yml").write_text("cv_folds: 60\n")
        run = project.in_process("run")  # refused by make_cv_splits, a node: in process
        assert run.returncode == 1, run.output
        assert run.output.endswith("cv_folds is set in conf/local/parameters.yml.\n")
        assert "Error: cv_folds = 60 is more than the 40 training rows" in run.output
        assert "Traceback" not in run.output
        assert project.metrics() == []

    def test_dataset_csv_without_its_file_names_the_file_that_chose_csv(self, project):
        output = self.refused(project, local="dataset: raw_data\n")
        assert output.startswith(
            "Error: dataset: raw_data (set in conf/local/parameters.yml) reads"
        )


# Each bad setting of a search space, and the start of the one line that refuses it; all
# in one run.
BAD_SEARCH = {
    "random_forest.search.max_dept.low=2": "random_forest.search.max_dept: unknown "
    "RandomForestClassifier or RandomForestRegressor parameter. Did you mean 'max_depth'?",
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


@pytest.mark.parametrize(
    ("local", "params", "messages", "where"),
    [
        ("", ",".join(BAD_SEARCH), list(BAD_SEARCH.values()), "--params"),
        (LOCAL_SEARCH, "tuning.trials=2", LOCAL_BAD_SEARCH, "conf/local/parameters.yml"),
    ],
    ids=["--params", "conf/local"],
)
def test_a_bad_search_space_stops_the_run_before_any_node(project, local, params, messages, where):
    (project.root / "conf/local/parameters.yml").write_text(local)
    run = project.in_process("run", PARALLEL, "--params", params, refused=True)
    assert run.returncode == 1, run.output
    assert run.errors() == ["Error: Invalid parameters:"], run.output
    # One line per problem, naming the key and where it is set.
    lines = sorted(line for line in run.output.splitlines() if line.startswith("  - "))
    assert len(lines) == len(messages), run.output
    for line, message in zip(lines, sorted(messages), strict=True):
        assert line.startswith(f"  - {message}"), (line, message)
        assert line.endswith(f". Set in {where}."), line
    assert_refused_before_any_node(project, run.output)


def test_a_suggested_command_in_an_error_is_one_a_user_can_paste(project):
    refused = project.in_process("run", "--pipelines", "reporting")
    (line,) = refused.errors()
    assert re.search(r"Run them too: kedro run --to-nodes=[\w.,]+$", line), line
