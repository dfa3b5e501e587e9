"""The models this project trains, side by side: one registry line per model.

A model is a key of ``MODELS``: its training branch runs under that key as a
Kedro namespace, and its hyperparameters are the section of the same name in
``conf/base/parameters.yml``. To add a model, add one line here and one section
there (see docs/architecture.md). A model has a classifier and, for numeric targets, a
regressor; its section serves both, and its ``classification`` and ``regression``
subsections hold what only one of them takes.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, PositiveInt, field_validator
from sklearn import ensemble
from sklearn.base import BaseEstimator, is_regressor
from xgboost import XGBClassifier, XGBRegressor

from parallel_trees.tasks import CLASSIFICATION, REGRESSION, TASKS

MIN_ROWS_TO_SPLIT = 2
# The key of a model's section that holds its search space (parallel_trees.tuning), not an argument.
SEARCH = "search"
# Keys of a model's section that are not arguments: its search space, and the subsections
# of arguments for one task only (e.g. XGBoost's eval_metric: mlogloss, for classes).
NOT_ARGUMENTS = (SEARCH, *TASKS)


class Hyperparameters(BaseModel):
    """Any keyword argument the estimator accepts; typed fields add range checks."""

    model_config = ConfigDict(extra="allow", strict=True)

    # Threads: "auto" = this run's share of the cores (the run_context's threads_per_model).
    n_jobs: Any = None

    @field_validator("n_jobs")
    @classmethod
    def _auto_or_threads(cls, value: Any) -> Any:
        threads = isinstance(value, int) and not isinstance(value, bool) and value >= 1
        if value not in (None, "auto") and not threads:
            raise ValueError("must be 'auto' (this run's share of the cores) or a number >= 1")
        return value


class ForestParams(Hyperparameters):
    """The knobs of scikit-learn's tree ensembles that the tutorial exposes."""

    n_estimators: PositiveInt
    max_depth: PositiveInt | None = None
    min_samples_split: int | float = 2

    @field_validator("min_samples_split")
    @classmethod
    def _count_or_fraction(cls, value: int | float) -> int | float:
        valid = 0 < value <= 1 if isinstance(value, float) else value >= MIN_ROWS_TO_SPLIT
        if not valid:
            raise ValueError("must be a number of rows >= 2, or a fraction of rows in (0, 1]")
        return value


class XGBoostParams(Hyperparameters):
    """The knobs of XGBoost that the tutorial exposes, plus the tree method."""

    n_estimators: PositiveInt
    eval_metric: str | None = None
    tree_method: Literal["exact", "approx", "hist", "auto"] = "hist"


def xgboost_json(estimator: XGBClassifier | XGBRegressor) -> dict[str, Any]:
    """A fitted XGBoost model in XGBoost's own JSON format, as its ``save_model`` writes it.

    Portable and safe to load (no pickle): ``XGBClassifier().load_model(path)`` (or
    ``XGBRegressor``'s) on the saved ``.json`` file, from any XGBoost >= 2 binding.
    """
    kind = "regressor" if is_regressor(estimator) else "classifier"
    booster = estimator.get_booster().copy()
    booster.set_attr(scikit_learn=json.dumps({"_estimator_type": kind}))
    return json.loads(booster.save_raw(raw_format="json"))


@dataclass(frozen=True)
class ModelSpec:
    """How to build one model: a name for humans, its classifier and its regressor (``None``:
    the model sits out regression runs), a schema.

    ``export``, when given, turns the fitted estimator into a portable,
    JSON-able form that is saved beside the pickle (``<name>.json``).
    """

    display_name: str
    estimator: type[BaseEstimator]
    schema: type[Hyperparameters] = Hyperparameters
    export: Callable[[BaseEstimator], dict[str, Any]] | None = None
    regressor: type[BaseEstimator] | None = None

    def tasks(self) -> list[str]:
        """The tasks the model has an estimator for."""
        return [CLASSIFICATION] + ([REGRESSION] if self.regressor is not None else [])

    def estimator_for(self, task: str) -> type[BaseEstimator]:
        """The estimator class of ``task`` (one of ``tasks``): the classifier, or the regressor."""
        estimator = self.regressor if task == REGRESSION else self.estimator
        if estimator is None:
            raise ValueError(f"{self.display_name} has no {task} estimator")
        return estimator

    def parameter_names(self, task: str | None = None) -> set[str]:
        """The keyword arguments the estimator of ``task`` accepts (``None``: either)."""
        tasks = self.tasks() if task is None else [task]
        return {name for t in tasks for name in self.estimator_for(t)().get_params()}

    def section(self, hyperparameters: dict[str, Any], task: str) -> dict[str, Any]:
        """The model's section as ``task`` uses it: the shared keys, then the task's
        subsection over them, without the other task's (its ``search`` kept)."""
        shared = {key: value for key, value in hyperparameters.items() if key not in TASKS}
        return {**shared, **(hyperparameters.get(task) or {})}

    def arguments(
        self,
        hyperparameters: dict[str, Any],
        random_state: int,
        threads: int | None = None,
        task: str = CLASSIFICATION,
    ) -> dict[str, Any]:
        """The keyword arguments of ``task``'s estimator: its section (``section``), seeded
        by ``random_state`` when the estimator takes one (a ``random_state`` in the section
        wins), and ``n_jobs: auto`` made ``threads``, this run's share of the cores. The
        section's ``search`` space is not an argument: a search draws from it."""
        takes_seed = "random_state" in self.parameter_names(task)
        seed = {"random_state": random_state} if takes_seed else {}
        section = self.section(hyperparameters, task)
        fixed = {key: value for key, value in section.items() if key != SEARCH}
        arguments = {**seed, **fixed}
        if arguments.get("n_jobs") == "auto":
            arguments["n_jobs"] = threads
        return arguments


MODELS: dict[str, ModelSpec] = {
    "random_forest": ModelSpec(
        "Random Forest",
        ensemble.RandomForestClassifier,
        ForestParams,
        regressor=ensemble.RandomForestRegressor,
    ),
    "xgboost": ModelSpec(
        "XGBoost", XGBClassifier, XGBoostParams, export=xgboost_json, regressor=XGBRegressor
    ),
}
