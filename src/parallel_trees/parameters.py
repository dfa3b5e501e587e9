"""Check the whole parameter tree before any node runs.

Kedro's built-in validation checks typed ``params:`` sections that nodes take,
but this project's shared knobs are top-level scalars (``cv_folds``,
``test_size``...) and Kedro silently ignores unknown keys such as
``--params random_forrest.n_estimators=5``. So the whole tree is checked here,
once, against one schema, from the ``after_context_created`` hook.
"""

import difflib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, cast

from kedro.validation import ParameterValidationError
from pydantic import (
    Field,
    ValidationError,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)

from parallel_trees.datasets import LATEST
from parallel_trees.errors import UserError
from parallel_trees.metrics import METRICS
from parallel_trees.models import MODELS, NOT_ARGUMENTS, SEARCH, ModelSpec
from parallel_trees.preprocessing import ROLES
from parallel_trees.tasks import AUTO, TASKS
from parallel_trees.tuning import PROGRESS_EVERY, Strict, bounds, parse_range

# dataset: the user's table, the catalog's raw_data (a CSV file, or any table dataset).
RAW_DATA = "raw_data"
OLD_NAMES = {"csv": RAW_DATA}  # a dataset's earlier names, which still work
DATASETS = ("iris", "wine", "breast_cancer", "diabetes", "synthetic", RAW_DATA, *OLD_NAMES)


def dataset_name(dataset: str) -> str:
    """The ``dataset`` parameter's value by its current name (``csv`` is ``raw_data``)."""
    return OLD_NAMES.get(dataset, dataset)


# One of the values of a registry (pydantic checks the value at run time); to a type
# checker, which cannot read a Literal built from a tuple, a string.
if TYPE_CHECKING:
    Dataset: TypeAlias = str
    Task: TypeAlias = str
    Role: TypeAlias = str
    ModelChoice: TypeAlias = str
else:
    Dataset = Literal[DATASETS]
    Task = Literal[(AUTO, *TASKS)]
    Role = Literal[ROLES]
    ModelChoice = Literal[("best", *MODELS)]
MISSING = "missing; set it in conf/base/parameters.yml."


class InvalidParametersError(UserError, ParameterValidationError):
    """Bad parameters: the ``kedro`` CLI prints the message, no traceback, exits 1."""


class SyntheticParams(Strict):
    """Size of the dataset used when ``dataset: synthetic``: ``make_classification``'s, or
    ``make_regression``'s with ``task: regression`` (which reads no ``n_classes``)."""

    n_samples: int = Field(ge=10)
    n_features: int = Field(ge=1)
    n_informative: int = Field(ge=1)
    n_classes: int = Field(ge=2)
    noise: float = Field(default=10.0, ge=0)  # regression: the target's noise (its std)

    @model_validator(mode="after")
    def _fits_make_classification(self) -> "SyntheticParams":
        if self.n_informative > self.n_features:
            raise ValueError("n_informative must be <= n_features")
        if self.n_classes > 2**self.n_informative:
            raise ValueError("n_classes must be <= 2 ** n_informative")
        return self


class TuningParams(Strict):
    """How hard each model's search works: the same for every model and outer fold."""

    trials: int = Field(ge=0)  # settings tried per search; 0 = no tuning
    inner_folds: int = Field(ge=2)  # k of the inner CV that scores each setting
    progress_every: float = Field(default=PROGRESS_EVERY, ge=0)  # seconds between progress lines


class MlflowParams(Strict):
    """Where a tracked run is logged (``tracking: true``)."""

    tracking_uri: str | None = Field(default=None, min_length=1)  # None: env var, else SQLite
    experiment: str = Field(min_length=1)


class SharedParams(Strict):
    """The knobs every model shares."""

    dataset: Dataset
    synthetic: SyntheticParams
    target_column: str = Field(min_length=1)
    task: Task = AUTO
    column_roles: dict[str, Role] = {}
    # Only from --params: the catalog's raw_data reads it, when a CSV file (conf/base/catalog.yml).
    csv_path: str | None = None
    # Only from --params, for the predict pipeline: the catalog's new_rows and
    # trained_model read them.
    predict_csv: str | None = None
    model: ModelChoice = "best"
    run: str = Field(default=LATEST, min_length=1)  # a training run's version, or latest
    random_state: int = Field(ge=0, le=2**32 - 1)
    test_size: float = Field(ge=0, lt=1)
    cv_folds: int = Field(ge=2)
    cv_shuffle: bool
    cv_repeats: int = Field(default=1, ge=1)
    n_estimators: int = Field(ge=1)
    metric: str = AUTO
    positive_class: str | int | float | bool | None = None
    significance_level: float = Field(gt=0, lt=1)
    tuning: TuningParams
    tracking: bool
    mlflow: MlflowParams

    @field_validator("cv_repeats")
    @classmethod
    def _repeats_are_shuffled(cls, value: int, info: ValidationInfo) -> int:
        if value > 1 and info.data.get("cv_shuffle") is False:
            raise ValueError(
                "repeats need cv_shuffle: true (each repeat is another shuffle of the rows)"
            )
        return value

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, value: str) -> str:
        allowed = [AUTO, *METRICS]
        if value not in allowed:
            close = difflib.get_close_matches(value, allowed, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise ValueError(f"unknown metric.{hint} Allowed: {', '.join(allowed)}")
        return value


# The shared knobs, and a section per model of MODELS (its schema). (Built from a dict,
# which a type checker cannot match to one of create_model's overloads: hence the cast.)
MODEL_SECTIONS: dict[str, Any] = {name: (spec.schema, ...) for name, spec in MODELS.items()}
Parameters = cast(
    "type[SharedParams]", create_model("Parameters", __base__=SharedParams, **MODEL_SECTIONS)
)


def _unknown(key: str, known: set[str], where: str) -> str:
    # A top-level key that is a model's parameter (max_depth) belongs in a section.
    owners = (
        [name for name, spec in MODELS.items() if key in spec.parameter_names()]
        if where == "parameter"
        else []
    )
    close = difflib.get_close_matches(key.rsplit(".", 1)[-1], known, n=1)
    if owners:
        hint = f" It is a model's: set {' or '.join(f'{m}.{key}' for m in owners)}."
    else:
        hint = f" Did you mean '{close[0]}'?" if close else ""
    return f"{key}: unknown {where}.{hint} Allowed: {', '.join(sorted(known))}."


def _fields_at(path: tuple[str, ...]) -> set[str]:
    """The keys allowed in the section at ``path`` (``()`` is the top level)."""
    schema: Any = Parameters
    for part in path:
        schema = schema.model_fields[part].annotation
    return set(schema.model_fields)


def _key(error: Mapping[str, Any]) -> str:
    return ".".join(str(part) for part in error["loc"])


def _describe(error: Mapping[str, Any]) -> str:
    key = _key(error)
    if error["type"] == "extra_forbidden":
        return _unknown(key, _fields_at(error["loc"][:-1]), "parameter")
    if error["type"] == "missing":
        return f"{key}: {MISSING}"
    return f"{key} = {error['input']!r}: {_plain(error['msg'])}."


def _search_problems(
    name: str, spec: ModelSpec, section: Mapping[str, Any]
) -> list[tuple[str, str]]:
    """What is wrong with a model's search space: unknown parameters, bad ranges, bad bounds."""
    space = section.get(SEARCH, {})
    if not isinstance(space, Mapping):
        return [(f"{name}.{SEARCH}", f"{name}.{SEARCH} = {space!r}: must be a mapping.")]
    allowed, found = spec.parameter_names(), []
    fixed = {key: value for key, value in section.items() if key not in NOT_ARGUMENTS}
    for key, raw in space.items():
        where = f"{name}.{SEARCH}.{key}"
        if key not in allowed:
            found.append((where, _unknown(where, allowed, f"{_estimators(spec)} parameter")))
            continue
        try:
            entry = parse_range(raw)
        except ValueError as error:  # pydantic's ValidationError is one
            found.append((where, f"{where} = {raw!r}: {_reason(error)}."))
            continue
        for bound in bounds(entry):  # the schema's own range checks, on each end of the range
            try:
                spec.schema.model_validate({**fixed, key: bound})
            except ValidationError as error:
                bad = [e["msg"] for e in error.errors() if e["loc"][:1] == (key,)]
                found += [
                    (where, f"{where}: {bound!r} is out of range: {_plain(msg)}.") for msg in bad
                ]
    return found


def _estimators(spec: ModelSpec, task: str | None = None) -> str:
    """The model's estimator classes (of ``task``), by name: "RandomForestClassifier or ..."."""
    tasks = spec.tasks() if task is None else [task]
    return " or ".join(spec.estimator_for(t).__name__ for t in tasks)


def _task_problems(name: str, spec: ModelSpec, section: Mapping[str, Any]) -> list[tuple[str, str]]:
    """What is wrong with a model's ``classification`` and ``regression`` subsections: not a
    mapping, a task the model has no estimator for, a key that estimator does not take, a
    value out of the schema's range."""
    found = []
    for task in TASKS:
        where = f"{name}.{task}"
        sub = section.get(task)
        if sub is None:
            continue
        if not isinstance(sub, Mapping):
            found.append((where, f"{where} = {sub!r}: must be a mapping of {task}-only arguments."))
            continue
        if task not in spec.tasks():
            found.append((where, f"{where}: {spec.display_name} has no estimator for {task}."))
            continue
        allowed = spec.parameter_names(task)
        found += [
            (
                f"{where}.{key}",
                _unknown(f"{where}.{key}", allowed, f"{_estimators(spec, task)} parameter"),
            )
            for key in sub
            if key not in allowed
        ]
        try:
            spec.schema.model_validate(
                {k: v for k, v in spec.section(dict(section), task).items() if k != SEARCH}
            )
        except ValidationError as error:
            found += [
                (
                    f"{where}.{e['loc'][0]}",
                    f"{where}.{e['loc'][0]} = {e['input']!r}: {_plain(e['msg'])}.",
                )
                for e in error.errors()
                if e["loc"] and e["loc"][0] in sub
            ]
    return found


def _plain(message: str) -> str:
    """A pydantic message without its "Value error, " prefix."""
    return message.removeprefix("Value error, ")


def _reason(error: Exception) -> str:
    """A pydantic error's first message, without its boilerplate; another error's text."""
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        text = _plain(first["msg"])
        return f"{where}: {text}" if where and first["type"] != "value_error" else text
    return str(error)


def problems(params: Mapping[str, Any], where: Callable[[str], str] | None = None) -> list[str]:
    """Every problem with ``params``, one readable line each; empty when valid.

    With ``where`` (a dotted key -> the file, or ``--params``, that sets it),
    each line ends by naming where its key is set.
    """
    found: list[tuple[str, str]] = []  # (key, line)
    try:
        Parameters.model_validate(dict(params))
    except ValidationError as exc:
        found += [(_key(error), _describe(error)) for error in exc.errors()]
    for name, spec in MODELS.items():
        section = params.get(name)
        if isinstance(section, Mapping):
            allowed = spec.parameter_names()
            found += [
                (
                    f"{name}.{key}",
                    _unknown(f"{name}.{key}", allowed, f"{_estimators(spec)} parameter"),
                )
                for key in section
                if key not in allowed and key not in NOT_ARGUMENTS
            ]
            found += _task_problems(name, spec, section)
            found += _search_problems(name, spec, section)
    if where is None:
        return [line for _, line in found]
    return [
        line if line.endswith(MISSING) else f"{line} Set in {where(key)}." for key, line in found
    ]


def validate_parameters(
    params: Mapping[str, Any], where: Callable[[str], str] | None = None
) -> None:
    """Raise ``InvalidParametersError`` naming each bad key, what is allowed, and where it is set.

    Args:
        params: The merged parameters of a run.
        where: A dotted key -> the file, or ``--params``, that sets it.
    """
    found = problems(params, where)
    if found:
        raise InvalidParametersError(
            "Invalid parameters:\n" + "\n".join(f"  - {line}" for line in found)
        )
