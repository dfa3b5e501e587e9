"""Hyperparameter search: a model's search space, and a seeded Optuna study over it.

A search space is a model's ``search`` section in ``conf/base/parameters.yml``,
one entry per estimator parameter::

    max_depth: {low: 2, high: 32, log: true}   # integers: both bounds are integers
    max_features: {low: 0.1, high: 1.0}        # real numbers
    criterion: {choices: [gini, entropy]}      # one of these values

Each trial scores one setting by inner cross-validation on the rows it is
given; Optuna's TPE sampler, seeded, proposes the next setting from the
previous ones, and a median pruner stops a trial after an inner fold when it
is already behind. Optuna is imported only when a search runs.
"""

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sklearn.base import BaseEstimator

from parallel_trees.metrics import Metric
from parallel_trees.tasks import folds

logger = logging.getLogger(__name__)

# Seconds between two progress lines of one search (tuning.progress_every's default).
PROGRESS_EVERY = 10.0
# Trials scored on every inner fold before the pruner may stop one early.
STARTUP_TRIALS = 5


class Strict(BaseModel):
    """A section of the parameters: unknown keys and coerced types refused."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Interval(Strict):
    """Numbers from ``low`` to ``high``: integers if both bounds are; a log scale with ``log``."""

    low: int | float
    high: int | float
    log: bool = False

    @field_validator("low", "high", mode="before")
    @classmethod
    def _number(cls, value: Any) -> Any:
        # Before pydantic's own check, which would report "Input should be a valid
        # integer" for "lots": the first member of the int | float union.
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"low and high must be numbers, not {value!r}")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> "Interval":
        if not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        if self.log and self.low <= 0:
            raise ValueError(f"log: true needs low > 0 (got {self.low})")
        return self

    @property
    def integers(self) -> bool:
        """Whether the interval holds integers (both bounds are)."""
        return isinstance(self.low, int) and isinstance(self.high, int)


class Choices(Strict):
    """One of a list of values."""

    choices: list[Any] = Field(min_length=2)


def parse_range(spec: Any) -> Interval | Choices:
    """One entry of a search space, checked: ``{low, high[, log]}`` or ``{choices: [...]}``.

    Raises:
        ValueError: what is wrong with the entry, and what is allowed.
    """
    if not isinstance(spec, Mapping):
        raise ValueError("must be {low: ..., high: ...[, log: true]} or {choices: [...]}")
    return (Choices if "choices" in spec else Interval).model_validate(dict(spec))


def parse_space(raw: Mapping[str, Any]) -> dict[str, Interval | Choices]:
    """A model's ``search`` section, each entry checked (``parse_range``)."""
    return {name: parse_range(spec) for name, spec in raw.items()}


def bounds(spec: Interval | Choices) -> list[Any]:
    """The extreme values of a range (its bounds, or every choice): what the model must accept."""
    return spec.choices if isinstance(spec, Choices) else [spec.low, spec.high]


def suggest(trial: Any, space: Mapping[str, Interval | Choices]) -> dict[str, Any]:
    """One setting of ``space``, drawn by an Optuna trial."""
    drawn = {}
    for name, spec in space.items():
        if isinstance(spec, Choices):
            drawn[name] = trial.suggest_categorical(name, spec.choices)
        elif spec.integers:
            drawn[name] = trial.suggest_int(name, spec.low, spec.high, log=spec.log)
        else:
            drawn[name] = trial.suggest_float(name, float(spec.low), float(spec.high), log=spec.log)
    return drawn


def search(
    make: Callable[[dict[str, Any]], BaseEstimator],
    x: pd.DataFrame,
    y: pd.Series,
    space: Mapping[str, Interval | Choices],
    trials: int,
    inner_folds: int,
    seed: int,
    label: str,
    score: Callable[[BaseEstimator, pd.DataFrame, pd.Series], float | None],
    metric: Metric,
    progress_every: float = PROGRESS_EVERY,
) -> dict[str, Any]:
    """Search ``space`` for the setting with the best inner-CV ``metric`` on ``x``, ``y``.

    Args:
        make: A setting of the space -> an unfitted model.
        x: The rows to search on (an outer fold's training rows, or the whole training part).
        y: Their labels.
        space: The search space (``parse_space``).
        trials: How many settings to try.
        inner_folds: k of the stratified inner CV (shuffled with ``seed``).
        seed: Seeds the sampler and the inner folds: the same seed, the same trials.
        label: What is searched, for the progress lines (e.g. "Random Forest, outer fold 2/5").
        score: A fitted model and rows -> its ``metric`` on them.
        metric: The run's metric: the search maximises or minimises it, as it is better.
        progress_every: Seconds between two progress lines (0: one after every trial but the last).

    Returns:
        ``best_params``, ``best_score`` (the best inner-CV score: optimistic, since it
        is the best of many), ``trials`` (each trial's ``params``, ``score`` and
        ``state``: complete or pruned) and ``importance`` (how much each parameter
        mattered to the score, Optuna's fANOVA; empty when it cannot be estimated).
    """
    import optuna  # noqa: PLC0415 - only runs that tune pay for the import

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    inner = list(folds(metric.task, inner_folds, True, seed).split(x, y))

    def objective(trial: optuna.Trial) -> float:
        setting = suggest(trial, space)
        scores = []
        for step, (fit_rows, score_rows) in enumerate(inner):
            model = make(setting).fit(x.iloc[fit_rows], y.iloc[fit_rows])
            value = score(model, x.iloc[score_rows], y.iloc[score_rows])
            scores.append(np.nan if value is None else value)
            trial.report(float(np.mean(scores)), step)
            if trial.should_prune():
                raise optuna.TrialPruned
        return float(np.mean(scores))

    study = optuna.create_study(
        direction="maximize" if metric.greater_is_better else "minimize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=STARTUP_TRIALS),
    )
    progress = _Progress(label, trials, progress_every, metric.title)
    study.optimize(objective, n_trials=trials, callbacks=[progress])
    return {
        "best_params": study.best_params,
        "best_score": study.best_value,
        "trials": [
            {
                "params": t.params,
                "score": t.value if t.value is not None else _last(t.intermediate_values),
                "state": t.state.name.lower(),
            }
            for t in study.trials
        ],
        "importance": _importance(study),
    }


def _last(values: Mapping[int, float]) -> float | None:
    return values[max(values)] if values else None


def _importance(study: Any) -> dict[str, float]:
    import optuna  # noqa: PLC0415

    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if len(complete) < 2 or len({t.value for t in complete}) < 2:  # noqa: PLR2004
        return {}
    importance = optuna.importance.get_param_importances(
        study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=0)
    )
    return {name: float(value) for name, value in importance.items()}


class _Progress:
    """An Optuna callback: how far a search is, in a line at most every ``every`` seconds."""

    def __init__(self, label: str, planned: int, every: float, title: str):
        self.label, self.planned, self.every, self.title = label, planned, every, title
        self.started = self.last = time.monotonic()

    def __call__(self, study: Any, trial: Any) -> None:
        now, done = time.monotonic(), trial.number + 1
        if now - self.last < self.every or done == self.planned:
            return
        self.last = now
        best = _best_value(study)
        logger.info(
            "Tuning %s: %d/%d trials, best inner %s so far %s (%.0f s)",
            self.label,
            done,
            self.planned,
            self.title,
            "n/a" if best is None else f"{best:.3f}",
            now - self.started,
        )


def _best_value(study: Any) -> float | None:
    try:
        return study.best_value
    except ValueError:  # every trial so far was pruned
        return None
