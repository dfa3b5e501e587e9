"""The yardsticks: every metric a run can judge its models by, each computed by scikit-learn.

A run scores every model on every metric of its task (the panel), from one prediction
per fold and one of the held-out rows (``Outcome``); the ``metric`` parameter chooses
the one that ranks the models, tests them, tunes them and draws them. Each metric knows
its task and its direction: a lower log loss, or RMSE, is better.
"""

import contextlib
import math
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from sklearn import metrics as sk
from sklearn.pipeline import Pipeline

from parallel_trees.tasks import AUTO, CLASSIFICATION, REGRESSION

# The task's default metric (metric: auto).
DEFAULT = {CLASSIFICATION: "accuracy", REGRESSION: "rmse"}


@dataclass(frozen=True)
class Outcome:
    """What a model predicted for some rows, and the truth: all that a metric needs.

    ``truth`` and ``predicted`` are class codes ``0..classes-1``; ``probabilities``
    holds one column per class (``None`` for a model without ``predict_proba``).
    ``positive`` is the code of the positive class of a two-class table. A regression's
    outcome has numbers, no probabilities, and ``classes`` 0.
    """

    truth: np.ndarray
    predicted: np.ndarray
    probabilities: np.ndarray | None
    classes: int
    positive: int = 1

    def take(self, rows: np.ndarray) -> "Outcome":
        """The same outcome on ``rows`` (positions) only."""
        probabilities = None if self.probabilities is None else self.probabilities[rows]
        return Outcome(
            self.truth[rows], self.predicted[rows], probabilities, self.classes, self.positive
        )

    @property
    def task(self) -> str:
        return REGRESSION if self.classes == 0 else CLASSIFICATION


def predictions_of(model: Any, x: Any, classes: int) -> tuple[np.ndarray, np.ndarray | None]:
    """``model``'s predicted class codes of the rows ``x``, and each class's probability
    (``None`` for a model without ``predict_proba``): one prediction of the rows. With
    ``classes`` 0 (a regression), its predicted numbers, and no probabilities.

    The predicted class is the most probable one, as ``predict`` gives it.
    """
    if classes == 0:
        with _one_thread(model):
            return np.asarray(model.predict(x), dtype=float), None
    if not hasattr(model, "predict_proba"):
        return np.asarray(model.predict(x)), None
    with _one_thread(model):
        found = model.predict_proba(x)
    codes = np.asarray(model.classes_, dtype=int)
    probabilities = np.zeros((len(found), classes))
    probabilities[:, codes] = found
    # XGBoost's are float32: in float64, each row sums to 1 but for rounding; made exact.
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    predicted = codes[np.argmax(found, axis=1)] if len(found) else np.array([], dtype=int)
    return predicted, probabilities


@contextlib.contextmanager
def _one_thread(model: Any) -> Iterator[None]:
    """A scikit-learn estimator predicts in one thread meanwhile (its ``n_jobs``).

    A forest sums its trees' probabilities (or numbers) in as many threads as ``n_jobs``,
    in whatever order they finish: the last bits of a probability, and so a log loss, or a tie
    between two classes, would depend on the thread count, which ``n_jobs: auto`` sets by
    runner. In one thread the sum, and every score, is the same under every runner.
    (XGBoost predicts each row in one thread: its probabilities do not depend on them.)
    """
    estimator = model[-1] if isinstance(model, Pipeline) else model
    ours = type(estimator).__module__.startswith("sklearn.")
    threads = estimator.get_params().get("n_jobs") if ours else None
    if threads in (None, 1):
        yield
        return
    estimator.set_params(n_jobs=1)
    try:
        yield
    finally:
        estimator.set_params(n_jobs=threads)


def outcome_of(model: Any, x: Any, truth: Any, classes: int, positive: int) -> Outcome:
    """``model``'s outcome on the rows ``x``, whose classes are ``truth``."""
    predicted, probabilities = predictions_of(model, x, classes)
    return Outcome(np.asarray(truth), predicted, probabilities, classes, positive)


def _binary(outcome: Outcome) -> bool:
    return outcome.classes == 2  # noqa: PLR2004 - a positive class and the other


def _average(outcome: Outcome) -> dict[str, Any]:
    """Of the positive class on two classes; the mean over classes (macro) on more."""
    if _binary(outcome):
        return {"pos_label": outcome.positive, "average": "binary"}
    return {"labels": list(range(outcome.classes)), "average": "macro", "zero_division": 0}


def _roc_auc(o: Outcome) -> float:
    probabilities = o.probabilities
    if probabilities is None:  # Metric.score asks for none of a model without them
        raise ValueError("ROC AUC needs the predicted probabilities")
    if _binary(o):
        return sk.roc_auc_score(o.truth == o.positive, probabilities[:, o.positive])
    return sk.roc_auc_score(
        o.truth, probabilities, multi_class="ovr", average="weighted", labels=range(o.classes)
    )


@dataclass(frozen=True)
class Metric:
    """One yardstick: its name (the ``metric`` parameter's value), its direction, what it
    reads, and how scikit-learn computes it."""

    name: str
    label: str  # a short column heading
    title: str  # as a sentence names it
    greater_is_better: bool
    compute: Callable[[Outcome], float] = field(repr=False)
    uses_probabilities: bool = False
    # A share of rows (right, or right per class): a fold of n rows resolves 1/n of it.
    counts_rows: bool = True
    best: float | None = 1.0  # the best possible value, when there is one
    worst: float | None = 0.0  # the worst, when there is one (-1: a correlation)
    task: Literal["classification", "regression"] = CLASSIFICATION

    def score(self, outcome: Outcome) -> float | None:
        """The metric of ``outcome``; ``None`` when it cannot be computed (no probabilities,
        or a class missing from the rows where the metric needs every one)."""
        if self.uses_probabilities and outcome.probabilities is None:
            return None
        if len(outcome.truth) == 0:
            return None
        # scikit-learn warns where a metric is undefined on these rows (ROC AUC of a single
        # class) and returns nan, or raises: either way, no score here, and no warning.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                value = float(self.compute(outcome))
            except ValueError:
                return None
        return None if math.isnan(value) else value

    def oriented_score(self, outcome: Outcome) -> float:
        """``score`` turned so that greater is better (``oriented``), nan where there is
        none: as a scikit-learn scorer gives it."""
        value = self.score(outcome)
        return float("nan") if value is None else self.oriented(value)

    def better(self, a: float, b: float) -> bool:
        """Whether ``a`` is better than ``b`` by this metric."""
        return a > b if self.greater_is_better else a < b

    def oriented(self, value: float) -> float:
        """``value`` with its sign turned so that greater is better: a ranking's key."""
        return value if self.greater_is_better else -value

    @property
    def direction(self) -> str:
        return "higher is better" if self.greater_is_better else "lower is better"


METRICS: dict[str, Metric] = {
    metric.name: metric
    for metric in (
        Metric(
            "accuracy",
            "accuracy",
            "accuracy",
            True,
            lambda o: sk.accuracy_score(o.truth, o.predicted),
        ),
        Metric(
            "balanced_accuracy",
            "bal_acc",
            "balanced accuracy",
            True,
            lambda o: sk.balanced_accuracy_score(o.truth, o.predicted),
        ),
        Metric("roc_auc", "roc_auc", "ROC AUC", True, _roc_auc, True, counts_rows=False),
        Metric(
            "log_loss",
            "log_loss",
            "log loss",
            False,
            lambda o: sk.log_loss(o.truth, o.probabilities, labels=list(range(o.classes))),
            True,
            counts_rows=False,
            best=0.0,
            worst=None,
        ),
        Metric("f1", "f1", "F1", True, lambda o: sk.f1_score(o.truth, o.predicted, **_average(o))),
        Metric(
            "precision",
            "prec",
            "precision",
            True,
            lambda o: sk.precision_score(
                o.truth, o.predicted, **({"zero_division": 0} | _average(o))
            ),
        ),
        Metric(
            "recall",
            "recall",
            "recall",
            True,
            lambda o: sk.recall_score(o.truth, o.predicted, **({"zero_division": 0} | _average(o))),
        ),
        Metric(
            "cohen_kappa",
            "kappa",
            "Cohen's kappa",
            True,
            lambda o: sk.cohen_kappa_score(o.truth, o.predicted, labels=list(range(o.classes))),
            worst=-1.0,
        ),
        Metric(
            "matthews_corrcoef",
            "mcc",
            "Matthews correlation",
            True,
            lambda o: sk.matthews_corrcoef(o.truth, o.predicted),
            worst=-1.0,
        ),
        # Regression: how far the predicted numbers are from the true ones.
        Metric(
            "rmse",
            "rmse",
            "RMSE",
            False,
            lambda o: sk.root_mean_squared_error(o.truth, o.predicted),
            counts_rows=False,
            best=0.0,
            worst=None,
            task=REGRESSION,
        ),
        Metric(
            "mae",
            "mae",
            "MAE",
            False,
            lambda o: sk.mean_absolute_error(o.truth, o.predicted),
            counts_rows=False,
            best=0.0,
            worst=None,
            task=REGRESSION,
        ),
        Metric(
            "r2",
            "r2",
            "R²",
            True,
            lambda o: sk.r2_score(o.truth, o.predicted),
            counts_rows=False,
            worst=None,
            task=REGRESSION,
        ),
        Metric(
            "mape",
            "mape",
            "MAPE",
            False,
            lambda o: sk.mean_absolute_percentage_error(o.truth, o.predicted),
            counts_rows=False,
            best=0.0,
            worst=None,
            task=REGRESSION,
        ),
    )
}
# The panel the report prints, held out (metrics.json keeps every one, per fold too).
PRINTED = {
    CLASSIFICATION: [
        "accuracy",
        "balanced_accuracy",
        "roc_auc",
        "log_loss",
        "f1",
        "cohen_kappa",
        "matthews_corrcoef",
    ],
    REGRESSION: ["rmse", "mae", "r2", "mape"],
}


def names(task: str) -> list[str]:
    """The metrics of ``task``, by name."""
    return [name for name, metric in METRICS.items() if metric.task == task]


def chosen(metric: str, task: str = CLASSIFICATION) -> Metric:
    """The metric named by the ``metric`` parameter (``auto``: the task's default)."""
    return METRICS[DEFAULT[task] if metric == AUTO else metric]


def panel(outcome: Outcome) -> dict[str, float | None]:
    """Every metric of the outcome's task on ``outcome``, by name."""
    return {name: METRICS[name].score(outcome) for name in names(outcome.task)}


def per_class(outcome: Outcome) -> list[dict[str, float | int]]:
    """Each class's precision, recall and support (rows), by code (none for a regression)."""
    if outcome.task == REGRESSION:
        return []
    precision, recall, _, support = sk.precision_recall_fscore_support(
        outcome.truth, outcome.predicted, labels=list(range(outcome.classes)), zero_division=0
    )
    return [
        {"precision": float(p), "recall": float(r), "support": int(s)}
        for p, r, s in zip(precision, recall, support, strict=True)
    ]


def scorer(metric: Metric, classes: int, positive: int) -> Callable[[Any, Any, Any], float]:
    """``metric`` as a scikit-learn scorer (``scoring=``): greater is better, as scikit-learn
    expects (a loss comes negated), from one prediction of the rows."""

    def score(model: Any, x: Any, y: Any) -> float:
        return metric.oriented_score(outcome_of(model, x, y, classes, positive))

    return score
