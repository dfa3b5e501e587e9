"""Check ``kedro run``'s ``--runner`` and ``--runner-params`` before the runner is made.

Kedro passes ``--runner-params`` to the runner's constructor as they are: a
misspelled key ends in a ``TypeError`` traceback, and a bad value in whatever
the runner raises. Here each is checked against the runner class's own
signature, so that any runner (Kedro's, ``DaskRunner``, a subclass) is
checked by the arguments it really takes.
"""

import difflib
import inspect
import typing
from collections.abc import Mapping
from typing import Annotated, Any

from kedro.runner import AbstractRunner
from kedro.utils import load_obj
from pydantic import Field, TypeAdapter, ValidationError

from parallel_trees.errors import UserError

# The runners Kedro finds by their bare name (in kedro.runner), and this project's.
KNOWN_RUNNERS = (
    "SequentialRunner",
    "ParallelRunner",
    "ThreadRunner",
    "parallel_trees.runners.DaskRunner",
)
COUNT = Annotated[int, Field(ge=1)]


def runner_class(runner: str | None) -> type[AbstractRunner]:
    """The class ``--runner`` names, found as Kedro finds it (``SequentialRunner`` by default).

    Raises:
        UserError: If no runner class has that name.
    """
    name = runner or "SequentialRunner"
    try:
        found = load_obj(name, "kedro.runner")
    except (ImportError, AttributeError, ValueError):
        found = None
    if isinstance(found, type) and issubclass(found, AbstractRunner):
        return found
    close = difflib.get_close_matches(name, KNOWN_RUNNERS, n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    raise UserError(
        f"--runner {name}: no such runner.{hint} Allowed: {', '.join(KNOWN_RUNNERS)}, "
        "or the import path of another AbstractRunner subclass."
    )


def _arguments(cls: type[AbstractRunner]) -> dict[str, Any]:
    """The keyword arguments of the runner's constructor, with their types (``Any`` if unknown)."""
    try:
        hints = typing.get_type_hints(cls.__init__)
    except NameError:  # an annotation that names a type only imported for type checkers
        hints = {}
    return {
        name: hints.get(name, Any)
        for name, parameter in inspect.signature(cls.__init__).parameters.items()
        if name != "self" and parameter.kind is not inspect.Parameter.VAR_KEYWORD
    }


def _adapter(hint: Any) -> TypeAdapter:
    """Strict, and an ``int`` at least 1: every integer argument of these runners
    counts workers (``max_workers``, ``n_workers``)."""
    if hint is int:
        hint = COUNT
    elif hint == int | None:
        hint = COUNT | None
    return TypeAdapter(hint, config={"strict": True})


def _problem(cls: type[AbstractRunner], key: str, value: Any, known: Mapping[str, Any]) -> str:
    if key not in known:
        close = difflib.get_close_matches(key, known, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        return f"{key}: unknown argument of {cls.__name__}.{hint} Allowed: {', '.join(known)}."
    try:
        _adapter(known[key]).validate_python(value)
    except ValidationError as error:
        return f"{key} = {value!r}: {error.errors()[0]['msg']}."
    return ""


def check_runner_options(runner: str | None, runner_params: Mapping[str, Any]) -> None:
    """Refuse, in one message, a ``--runner`` or ``--runner-params`` that cannot work.

    Args:
        runner: ``--runner`` as given (``None``: SequentialRunner).
        runner_params: ``--runner-params``, parsed as Kedro parses them.

    Raises:
        UserError: Naming each unknown key (with a suggestion, and the
            runner's arguments) and each bad value.
    """
    cls = runner_class(runner)
    known = _arguments(cls)
    problems = [
        line for key, value in runner_params.items() if (line := _problem(cls, key, value, known))
    ]
    if problems:
        raise UserError(
            f"Invalid --runner-params for {cls.__name__}"
            + ("" if runner else " (no --runner given: Kedro's default)")
            + ":\n"
            + "\n".join(f"  - {line}" for line in problems)
        )
