"""Optuna against scikit-learn's searches, in nested CV: the measurement for issue 13.

Each search gets the same budget of N trials; a trial is a 3-fold stratified
inner CV (shuffled, seeded; the same folds for every method) scored by
accuracy, with the models as this project builds them (10 trees, seed 21, one
thread). An outer 5-fold CV scores each tuned model on rows its search never
saw. Methods: Optuna TPE (seeded, sequential), Optuna TPE with MedianPruner
(running mean reported after each inner fold), scikit-learn's
RandomizedSearchCV and HalvingRandomSearchCV, and the untuned defaults.

Also measured: ``import optuna`` time, whether a seeded TPE gives the same
trials twice and in fork/spawn/forkserver workers, and Optuna's own cost per
trial with a trivial objective.

    python benchmarks/search.py [--quick] [--jobs 2]

``--quick``: one seed, N=10. The full run: 3 seeds, N=10 and 30.
``--jobs`` (default 2): worker processes (spawned) for the (dataset, model,
seed) cells. Times are CPU seconds per search (models use one thread), so
other processes on the machine change them little.
"""

import argparse
import multiprocessing
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna
from scipy.stats import loguniform, randint, uniform
from sklearn.datasets import load_breast_cancer, load_wine, make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import (
    HalvingRandomSearchCV,
    RandomizedSearchCV,
    StratifiedKFold,
)
from xgboost import XGBClassifier

SEED, TREES, INNER, OUTER = 21, 10, 3, 5
# (low, high, log): ints when both bounds are ints, as the project's search spaces.
SPACES = {
    "random_forest": {
        "max_depth": (2, 32, True),
        "max_features": (0.1, 1.0, False),
        "min_samples_leaf": (1, 20, False),
    },
    "xgboost": {
        "max_depth": (2, 10, False),
        "learning_rate": (0.01, 0.5, True),
        "subsample": (0.5, 1.0, False),
        "colsample_bytree": (0.5, 1.0, False),
        "min_child_weight": (0.5, 10.0, True),
    },
}
METHODS = ("default", "optuna", "optuna_pruned", "random", "halving")


def build(model: str, params: dict[str, Any]) -> Any:
    """The estimator as the project builds it, with ``params`` on top."""
    if model == "random_forest":
        return RandomForestClassifier(n_estimators=TREES, random_state=SEED, n_jobs=1, **params)
    return XGBClassifier(
        n_estimators=TREES,
        random_state=SEED,
        n_jobs=1,
        tree_method="hist",
        eval_metric="mlogloss",
        **params,
    )


def datasets() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The offline datasets: two of scikit-learn's and the project's synthetic shape."""
    synthetic = make_classification(
        n_samples=2000, n_features=20, n_informative=10, n_classes=3, random_state=SEED
    )
    return {
        "breast_cancer": load_breast_cancer(return_X_y=True),
        "wine": load_wine(return_X_y=True),
        "synthetic": synthetic,
    }


# --- the search space, once for Optuna and once for scikit-learn ------------------


def suggest(trial: optuna.Trial, space: dict[str, tuple]) -> dict[str, Any]:
    """One point of ``space`` drawn by an Optuna trial."""
    params = {}
    for name, (low, high, log) in space.items():
        ints = isinstance(low, int) and isinstance(high, int)
        draw = trial.suggest_int if ints else trial.suggest_float
        params[name] = draw(name, low, high, log=log)
    return params


class IntLogUniform:
    """Integers drawn log-uniformly in [low, high], as Optuna's ``suggest_int(log=True)``:
    scipy has no integer log-uniform distribution."""

    def __init__(self, low: int, high: int) -> None:
        self.low, self.high = low, high
        self.floats = loguniform(low - 0.5, high + 0.5)

    def rvs(self, random_state: Any = None) -> int:
        value = round(float(self.floats.rvs(random_state=random_state)))
        return min(max(value, self.low), self.high)


def distributions(space: dict[str, tuple]) -> dict[str, Any]:
    """``space`` as scipy distributions for RandomizedSearchCV."""
    result = {}
    for name, (low, high, log) in space.items():
        ints = isinstance(low, int) and isinstance(high, int)
        if ints:
            result[name] = IntLogUniform(low, high) if log else randint(low, high + 1)
        else:
            result[name] = loguniform(low, high) if log else uniform(low, high - low)
    return result


# --- one search on one outer training part -----------------------------------------


@dataclass
class Outcome:
    """One method on one outer fold."""

    outer: float  # accuracy of the tuned model on the outer test fold
    inner: float  # the search's own best inner CV score (nan for the defaults)
    seconds: float  # CPU seconds of search and refit: one thread, so the wall time on a free core
    fits: int  # model fits, refit included


def cv_objective(trial: optuna.Trial, model: str, x: np.ndarray, y: np.ndarray, folds: list):
    """Mean inner accuracy; reports the running mean after each fold so a pruner can stop."""
    params = suggest(trial, SPACES[model])
    scores = []
    for step, (train, valid) in enumerate(folds):
        fitted = build(model, params).fit(x[train], y[train])
        scores.append(float(np.mean(fitted.predict(x[valid]) == y[valid])))
        trial.report(float(np.mean(scores)), step)
        if trial.should_prune():
            raise optuna.TrialPruned
    return float(np.mean(scores))


def optuna_search(model, x, y, folds, n_trials, seed, prune) -> tuple[Any, float, int]:
    """Seeded TPE, sequential; with ``prune`` a MedianPruner between inner folds."""
    study = optuna.create_study(
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.MedianPruner() if prune else optuna.pruners.NopPruner(),
    )
    study.optimize(lambda trial: cv_objective(trial, model, x, y, folds), n_trials=n_trials)
    fits = sum(len(trial.intermediate_values) for trial in study.trials)
    return build(model, study.best_params).fit(x, y), study.best_value, fits + 1


def sklearn_search(model, x, y, folds, n_trials, seed, halving) -> tuple[Any, float, int]:
    """RandomizedSearchCV (n_iter=N) or HalvingRandomSearchCV (n_candidates=N), refit."""
    space = distributions(SPACES[model])
    if halving:
        search = HalvingRandomSearchCV(
            build(model, {}),
            space,
            n_candidates=n_trials,
            min_resources="exhaust",  # the default, "smallest", never reaches all rows
            cv=folds,
            random_state=seed,
        )
    else:
        search = RandomizedSearchCV(
            build(model, {}), space, n_iter=n_trials, cv=folds, random_state=seed
        )
    search.fit(x, y)
    fits = len(search.cv_results_["params"]) * len(folds)
    return search.best_estimator_, search.best_score_, fits + 1


def run_method(method, model, x, y, folds, n_trials, seed) -> tuple[Any, float, int]:
    """A fitted model, its best inner score, and the fits it took."""
    if method == "default":
        return build(model, {}).fit(x, y), float("nan"), 1
    if method.startswith("optuna"):
        return optuna_search(model, x, y, folds, n_trials, seed, method == "optuna_pruned")
    return sklearn_search(model, x, y, folds, n_trials, seed, method == "halving")


def nested_cv(cell: tuple[str, str, int, tuple[int, ...]]) -> dict[tuple, list[Outcome]]:
    """Every method and budget on one (dataset, model, seed): the outer folds' outcomes."""
    dataset, model, seed, budgets = cell
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    x, y = datasets()[dataset]
    outer = StratifiedKFold(OUTER, shuffle=True, random_state=seed).split(x, y)
    results: dict[tuple, list[Outcome]] = {}
    for train, test in outer:
        inner = StratifiedKFold(INNER, shuffle=True, random_state=seed)
        folds = list(inner.split(x[train], y[train]))
        for n_trials in budgets:
            for method in METHODS:
                started = time.process_time()  # the machine is shared: wall time lies
                fitted, best, fits = run_method(
                    method, model, x[train], y[train], folds, n_trials, seed
                )
                seconds = time.process_time() - started
                score = float(np.mean(fitted.predict(x[test]) == y[test]))
                key = (dataset, model, n_trials, method, seed)
                results.setdefault(key, []).append(Outcome(score, best, seconds, fits))
    return results


# --- the side measurements ---------------------------------------------------------


def import_seconds(before: str) -> float:
    """``import optuna`` in a fresh interpreter, after ``before`` is imported: the best of 3."""
    code = f"import time;{before};t=time.perf_counter();import optuna;print(time.perf_counter()-t)"
    times = [float(subprocess.check_output([sys.executable, "-c", code])) for _ in range(3)]
    return min(times)  # load from other processes only adds


def trivial(trial: optuna.Trial) -> float:
    """A free objective over the XGBoost space: Optuna's own cost only."""
    params = suggest(trial, SPACES["xgboost"])
    return params["learning_rate"] * params["subsample"] - params["max_depth"] / 100


def tpe_trials(seed: int, n_trials: int = 30) -> list[dict[str, Any]]:
    """The params of a seeded TPE study on the trivial objective."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(trivial, n_trials=n_trials)
    return [trial.params for trial in study.trials]


def in_process(method: str, seed: int) -> list[dict[str, Any]]:
    """``tpe_trials`` in a worker started by ``method``."""
    with multiprocessing.get_context(method).Pool(1) as pool:
        return pool.apply(tpe_trials, (seed,))


def side_measurements() -> None:
    """Import time, determinism across processes, per-trial overhead."""
    print(f"import optuna, cold: {import_seconds('pass'):.2f} s")
    warm = import_seconds("import sklearn.ensemble, xgboost, scipy.stats")
    print(f"import optuna after sklearn+xgboost+scipy: {warm:.2f} s")
    reference = tpe_trials(7)
    same = {"again": tpe_trials(7) == reference}
    for method in ("fork", "spawn", "forkserver"):
        same[method] = in_process(method, 7) == reference
    print("seeded TPE, 30 trials, identical to a first run:", same)
    print("  another seed differs:", tpe_trials(8) != reference)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    for n_trials in (30, 100):
        for sampler in (optuna.samplers.TPESampler(seed=0), optuna.samplers.RandomSampler(0)):
            study = optuna.create_study(direction="maximize", sampler=sampler)
            started = time.process_time()
            study.optimize(trivial, n_trials=n_trials)
            per_trial = (time.process_time() - started) / n_trials * 1000
            print(f"  {type(sampler).__name__} overhead, N={n_trials}: {per_trial:.1f} ms/trial")


# --- the table -----------------------------------------------------------------------

FIELDS = ("outer", "inner", "seconds", "fits")


def medians(results: dict[tuple, list[Outcome]], seeds: list[int], cell: tuple) -> dict:
    """Per seed the mean over outer folds (a search's seconds and fits: per outer
    fold), then the median over seeds."""
    return {
        field: float(
            np.median(
                [np.mean([getattr(o, field) for o in results[(*cell, seed)]]) for seed in seeds]
            )
        )
        for field in FIELDS
    }


def table(results: dict[tuple, list[Outcome]], seeds: list[int], budgets: tuple) -> None:
    """One line per (dataset, model, N, method), then the ratios pooled over datasets and models.

    outer: tuned model's outer-fold accuracy; inner: the search's best inner score;
    optimism: inner - outer; d_outer: outer - random search's outer; t/rand and
    f/rand: CPU seconds and fits over random search's.
    """
    print(
        f"\n{'dataset':14}{'model':14}{'N':>3} {'method':14}{'outer':>7}{'inner':>7}"
        f"{'optim':>7}{'cpu_s':>7}{'fits':>6}{'d_outer':>8}{'t/rand':>7}{'f/rand':>7}"
    )
    pooled: dict[tuple, list[tuple[float, float, float]]] = {}
    for dataset, model in sorted({key[:2] for key in results}):
        for n_trials in budgets:
            rows = {m: medians(results, seeds, (dataset, model, n_trials, m)) for m in METHODS}
            base = rows["random"]
            for method, row in rows.items():
                ratios = (
                    row["outer"] - base["outer"],
                    row["seconds"] / base["seconds"],
                    row["fits"] / base["fits"],
                )
                pooled.setdefault((n_trials, method), []).append(ratios)
                print(
                    f"{dataset:14}{model:14}{n_trials:>3} {method:14}{row['outer']:7.4f}"
                    f"{row['inner']:7.4f}{row['inner'] - row['outer']:7.4f}"
                    f"{row['seconds']:7.2f}{row['fits']:6.0f}"
                    f"{ratios[0]:+8.4f}{ratios[1]:7.2f}{ratios[2]:7.2f}"
                )
    for (n_trials, method), ratios in pooled.items():
        if method == METHODS[0]:
            print(f"\nN={n_trials}, median over the {len(ratios)} (dataset, model) lines:")
        d_outer, t_ratio, f_ratio = np.median(ratios, axis=0)
        print(f"  N={n_trials:<3} {method:14}{d_outer:+8.4f}{t_ratio:7.2f}{f_ratio:7.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one seed, N=10")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes for the cells")
    args = parser.parse_args()
    seeds = [0] if args.quick else [0, 1, 2]
    budgets = (10,) if args.quick else (10, 30)
    # Before any XGBoost fit in this process: OpenMP before fork deadlocks workers.
    side_measurements()
    cells = [(d, m, s, budgets) for d in datasets() for m in SPACES for s in seeds]
    cells.sort(key=lambda cell: cell[0] != "synthetic")  # the slowest first
    started = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(args.jobs) as pool:
        results = {}
        for done, part in enumerate(pool.imap_unordered(nested_cv, cells), start=1):
            results.update(part)
            dataset, model, _, _, seed = next(iter(part))
            elapsed = time.perf_counter() - started
            print(f"{done}/{len(cells)} {dataset} {model} seed {seed}: {elapsed:.0f} s", flush=True)
    table(results, seeds, budgets)
    print(f"\nnested CV: {time.perf_counter() - started:.0f} s wall, {args.jobs} job(s)")


if __name__ == "__main__":
    main()
