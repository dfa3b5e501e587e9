import pytest
from kedro.config import OmegaConfigLoader

from parallel_trees.parameters import (
    InvalidParametersError,
    ParameterValidationError,
    problems,
    validate_parameters,
)
from parallel_trees.settings import CONFIG_LOADER_ARGS


def load_parameters(project_root, env="local", **runtime_params):
    """The parameters exactly as a ``kedro run --env ENV --params ...`` sees them."""
    loader = OmegaConfigLoader(
        str(project_root / "conf"), env=env, runtime_params=runtime_params, **CONFIG_LOADER_ARGS
    )
    return loader["parameters"]


@pytest.fixture
def defaults(project_root):
    return load_parameters(project_root)


class TestShippedConfiguration:
    @pytest.mark.parametrize("env", ["local", "tutorial"])
    def test_is_valid(self, project_root, env):
        assert problems(load_parameters(project_root, env)) == []

    def test_tutorial_env_changes_only_what_it_names(self, project_root, defaults):
        tutorial = load_parameters(project_root, "tutorial")
        assert tutorial["xgboost"] == {**defaults["xgboost"], "tree_method": "exact"}
        assert (tutorial["test_size"], tutorial["cv_shuffle"]) == (0, False)
        assert tutorial["random_forest"] == defaults["random_forest"]

    def test_tutorial_defaults(self, defaults):
        assert defaults["random_state"] == 21
        assert defaults["cv_folds"] == 5
        assert defaults["random_forest"]["n_estimators"] == 10
        assert defaults["random_forest"]["max_depth"] is None
        assert defaults["random_forest"]["min_samples_split"] == 2
        assert defaults["xgboost"]["classification"]["eval_metric"] == "mlogloss"

    def test_tracking_is_off_and_would_go_to_the_default_store(self, defaults):
        assert defaults["tracking"] is False
        assert defaults["mlflow"] == {"tracking_uri": None, "experiment": "parallel-trees"}

    def test_shared_n_estimators_reaches_both_models(self, project_root):
        params = load_parameters(project_root, n_estimators=50)
        assert params["random_forest"]["n_estimators"] == params["xgboost"]["n_estimators"] == 50

    def test_one_model_can_be_set_alone(self, project_root):
        params = load_parameters(project_root, random_forest={"n_estimators": 50})
        assert params["random_forest"]["n_estimators"] == 50
        assert params["xgboost"]["n_estimators"] == 10


def _with(params, dotted, value):
    """A copy of ``params`` with ``dotted`` set (or added) to ``value``."""
    copy = {k: dict(v) if isinstance(v, dict) else v for k, v in params.items()}
    *path, key = dotted.split(".")
    target = copy
    for part in path:
        target = target.setdefault(part, {})
    target[key] = value
    return copy


class TestProblems:
    @pytest.mark.parametrize(
        ("key", "value", "expected"),
        [
            ("cv_folds", 1, "cv_folds = 1: Input should be greater than or equal to 2"),
            ("cv_folds", 2.5, "cv_folds = 2.5: Input should be a valid integer"),
            ("cv_folds", "five", "cv_folds = 'five'"),
            ("test_size", 1.5, "test_size = 1.5: Input should be less than 1"),
            ("test_size", -0.1, "test_size = -0.1: Input should be greater than or equal to 0"),
            ("n_estimators", 0, "n_estimators = 0: Input should be greater than or equal to 1"),
            ("random_state", -1, "random_state = -1"),
            ("cv_shuffle", "yes", "cv_shuffle = 'yes': Input should be a valid boolean"),
            (
                "dataset",
                "mnist",
                "'iris', 'wine', 'breast_cancer', 'diabetes', 'synthetic', 'raw_data' or 'csv'",
            ),
            ("target_column", "", "target_column = '': String should have at least 1 character"),
            ("significance_level", 0.0, "significance_level = 0.0: Input should be greater than 0"),
            ("significance_level", 1, "significance_level = 1"),
            ("random_forest.n_estimators", 0, "random_forest.n_estimators = 0"),
            ("random_forest.max_depth", 0, "random_forest.max_depth = 0"),
            ("random_forest.min_samples_split", 1, "random_forest.min_samples_split = 1"),
            ("random_forest.min_samples_split", 1.5, "random_forest.min_samples_split = 1.5"),
            ("xgboost.tree_method", "fast", "'exact', 'approx', 'hist' or 'auto'"),
            ("xgboost.n_jobs", "all", "xgboost.n_jobs = 'all'"),
            ("random_forest.n_jobs", 0, "random_forest.n_jobs = 0"),
            ("synthetic.n_classes", 1, "synthetic.n_classes = 1"),
            ("synthetic.n_informative", 30, "n_informative must be <= n_features"),
            (
                "column_roles.zip",
                "category",
                "column_roles.zip = 'category': Input should be 'numeric', 'categorical' or "
                "'excluded'",
            ),
            ("model", "forest", "model = 'forest': Input should be 'best', 'random_forest' or"),
            ("tracking", "yes", "tracking = 'yes': Input should be a valid boolean"),
            ("tracking", 1, "tracking = 1: Input should be a valid boolean"),
            ("mlflow.tracking_uri", "", "mlflow.tracking_uri = '': String should have at least 1"),
            ("mlflow.experiment", None, "mlflow.experiment = None: Input should be a valid string"),
            (
                "mlflow.tracking_url",
                "x",
                "mlflow.tracking_url: unknown parameter. Did you mean 'tracking_uri'? "
                "Allowed: experiment, tracking_uri.",
            ),
        ],
    )
    def test_bad_value_names_key_and_what_is_allowed(self, defaults, key, value, expected):
        (problem,) = problems(_with(defaults, key, value))
        assert expected in problem

    def test_misspelled_top_level_key_suggests_the_right_one(self, defaults):
        (problem,) = problems(_with(defaults, "random_forrest.n_estimators", 5))
        assert problem.startswith(
            "random_forrest: unknown parameter. Did you mean 'random_forest'?"
        )
        assert "cv_folds" in problem  # lists what is allowed

    def test_a_models_parameter_at_the_top_level_points_to_its_section(self, defaults):
        (problem,) = problems(_with(defaults, "max_depth", 3))
        assert problem.startswith(
            "max_depth: unknown parameter. It is a model's: set random_forest.max_depth or "
            "xgboost.max_depth."
        )

    def test_misspelled_nested_key_lists_that_sections_keys(self, defaults):
        (problem,) = problems(_with(defaults, "synthetic.n_sample", 50))
        assert problem == (
            "synthetic.n_sample: unknown parameter. Did you mean 'n_samples'? "
            "Allowed: n_classes, n_features, n_informative, n_samples, noise."
        )

    def test_misspelled_hyperparameter_suggests_the_estimators_own(self, defaults):
        (problem,) = problems(_with(defaults, "random_forest.max_dept", 3))
        assert (
            "random_forest.max_dept: unknown RandomForestClassifier or RandomForestRegressor "
            "parameter." in problem
        )
        assert "Did you mean 'max_depth'?" in problem

    def test_min_samples_split_may_be_a_fraction(self, defaults):
        assert problems(_with(defaults, "random_forest.min_samples_split", 0.1)) == []

    def test_tracking_to_a_server_is_accepted(self, defaults):
        params = _with(_with(defaults, "tracking", True), "mlflow.tracking_uri", "http://h:5000")
        assert problems(params) == []

    def test_any_real_estimator_parameter_is_accepted(self, defaults):
        params = _with(defaults, "random_forest.min_samples_leaf", 3)
        assert problems(_with(params, "xgboost.learning_rate", 0.1)) == []

    def test_missing_model_section_is_named(self, defaults):
        del defaults["xgboost"]
        assert problems(defaults) == ["xgboost: missing; set it in conf/base/parameters.yml."]

    def test_every_problem_is_reported_at_once(self, defaults):
        params = _with(_with(defaults, "cv_folds", 1), "test_size", 2)
        assert len(problems(params)) == 2


def test_validate_raises_one_error_listing_every_problem(defaults):
    with pytest.raises(InvalidParametersError) as raised:
        validate_parameters(_with(_with(defaults, "cv_folds", 1), "dataset", "x"))
    assert isinstance(raised.value, ParameterValidationError)
    assert "  - dataset = 'x'" in str(raised.value)
    assert "  - cv_folds = 1" in str(raised.value)


def test_validate_accepts_the_defaults(defaults):
    validate_parameters(defaults)


def test_each_problem_names_where_its_key_is_set(defaults):
    where = {"cv_folds": "--params", "random_forest.max_dept": "conf/local/parameters.yml"}.get
    params = _with(_with(defaults, "cv_folds", 1), "random_forest.max_dept", 3)
    found = problems(params, where)
    assert found[0] == "cv_folds = 1: Input should be greater than or equal to 2. Set in --params."
    assert found[1].startswith(
        "random_forest.max_dept: unknown RandomForestClassifier or RandomForestRegressor parameter."
    )
    assert found[1].endswith(". Set in conf/local/parameters.yml.")


class TestTaskSubsections:
    def test_the_task_is_auto_classification_or_regression(self, defaults):
        assert defaults["task"] == "auto"
        assert problems(_with(defaults, "task", "clustering")) == [
            "task = 'clustering': Input should be 'auto', 'classification' or 'regression'."
        ]

    def test_a_subsection_key_is_checked_against_its_tasks_estimator(self, defaults):
        params = _with(defaults, "random_forest.regression", {"class_weight": "balanced"})
        (problem,) = problems(params)
        assert problem.startswith(
            "random_forest.regression.class_weight: unknown RandomForestRegressor parameter."
        )
        params = _with(defaults, "random_forest.classification", {"class_weight": "balanced"})
        assert problems(params) == []

    def test_a_subsection_value_is_range_checked_and_must_be_a_mapping(self, defaults):
        params = _with(defaults, "xgboost.regression", {"n_estimators": 0})
        assert problems(params) == [
            "xgboost.regression.n_estimators = 0: Input should be greater than 0."
        ]
        assert problems(_with(defaults, "xgboost.regression", 3)) == [
            "xgboost.regression = 3: must be a mapping of regression-only arguments."
        ]
