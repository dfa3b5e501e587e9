"""The models this project trains, side by side: one registry line per model.

A model is a key of ``MODELS``: its training branch runs under that key as a
Kedro namespace, and its hyperparameters are the section of the same name in
``conf/base/parameters.yml``. To add a model, add one line here and one section
there (see the README).
"""

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, PositiveInt, field_validator
from sklearn import ensemble
from sklearn.base import BaseEstimator
from xgboost import XGBClassifier

MIN_ROWS_TO_SPLIT = 2


class Hyperparameters(BaseModel):
    """Any keyword argument the estimator accepts; typed fields add range checks."""

    model_config = ConfigDict(extra="allow", strict=True)


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
    eval_metric: str = "mlogloss"
    tree_method: Literal["exact", "approx", "hist", "auto"] = "hist"


@dataclass(frozen=True)
class ModelSpec:
    """How to build one model: a name for humans, an estimator class, a schema."""

    display_name: str
    estimator: type[BaseEstimator]
    schema: type[Hyperparameters] = Hyperparameters

    def parameter_names(self) -> set[str]:
        """The keyword arguments the estimator accepts."""
        return set(self.estimator().get_params())

    def arguments(self, hyperparameters: dict[str, Any], random_state: int) -> dict[str, Any]:
        """The estimator's keyword arguments: its section, seeded by ``random_state``
        when the estimator takes one (a ``random_state`` in the section wins)."""
        seed = {"random_state": random_state} if "random_state" in self.parameter_names() else {}
        return {**seed, **hyperparameters}


MODELS: dict[str, ModelSpec] = {
    "random_forest": ModelSpec("Random Forest", ensemble.RandomForestClassifier, ForestParams),
    "xgboost": ModelSpec("XGBoost", XGBClassifier, XGBoostParams),
}
