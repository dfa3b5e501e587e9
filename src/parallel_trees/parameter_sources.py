"""Where each parameter of a run is set, so that an error about one names the file to edit."""

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from kedro.config import AbstractConfigLoader

from parallel_trees.kedro_internals import parameter_files

_ABSENT = object()
# A value that is one interpolation of another key: "${n_estimators}".
_REFERENCE = re.compile(r"\$\{([\w.]+)\}")

# The files of one environment: each file's name and its content as written.
Layer = Iterable[tuple[str, Mapping[str, Any]]]


def _lookup(tree: Mapping[str, Any], key: str) -> Any:
    """The value at the dotted ``key`` of ``tree``; ``_ABSENT`` if it has none."""
    for part in key.split("."):
        if not isinstance(tree, Mapping) or part not in tree:
            return _ABSENT
        tree = tree[part]
    return tree


class ParameterSources:
    """Where each parameter of a run is set: ``--params``, or the file that sets it.

    Kedro puts ``--params`` over the run environment's files (conf/local, or
    ``--env``'s) over conf/base's; an interpolation such as
    ``${n_estimators}`` is resolved within its own environment's files, under
    ``--params``.

    Args:
        runtime: The run's ``--params`` (nested, as Kedro parses them).
        layers: The files of the run's environment, then of base: each file's
            name (as the user knows it, e.g. ``conf/local/parameters.yml``) and
            content as written; or a function that reads them, when first asked.
    """

    def __init__(
        self, runtime: Mapping[str, Any], layers: Iterable[Layer] | Callable[[], Iterable[Layer]]
    ):
        self._runtime = runtime
        self._given = layers

    @functools.cached_property
    def _layers(self) -> list[list[tuple[str, Mapping[str, Any]]]]:
        layers = self._given() if callable(self._given) else self._given
        return [list(layer) for layer in layers]

    @classmethod
    def of(cls, config_loader: AbstractConfigLoader) -> "ParameterSources":
        """The sources of the parameters ``config_loader`` loads.

        Its files are read again (as written, before interpolation) only when a
        source is first asked for: a run whose parameters are right never asks.
        """
        layers = functools.partial(_read_layers, config_loader)
        return cls(config_loader.runtime_params or {}, layers)

    def where(self, key: str) -> str:
        """``--params``, or the file that sets the dotted ``key`` (and where a value it
        interpolates is set); ``"no file"`` if nothing sets it."""
        return self._where(key, self._layers)

    def _where(self, key: str, layers: list[list[tuple[str, Mapping[str, Any]]]]) -> str:
        if _lookup(self._runtime, key) is not _ABSENT:
            return "--params"
        for layer in layers:
            for name, content in layer:
                value = _lookup(content, key)
                if value is _ABSENT:
                    continue
                reference = _REFERENCE.fullmatch(value) if isinstance(value, str) else None
                if reference:
                    origin = self._where(reference[1], [layer])
                    return f"{name} as ${{{reference[1]}}}, which is set in {origin}"
                return name
        return "no file"

    def describe(self, keys: Iterable[str]) -> str:
        """One sentence: where each of ``keys`` is set (empty for no keys)."""
        return "".join(f" {key} is set in {self.where(key)}." for key in keys).strip()


def _read_layers(config_loader: AbstractConfigLoader) -> list[Layer]:
    """The parameter files ``config_loader`` reads, by environment, as ``ParameterSources``
    takes them."""
    project = Path(config_loader.conf_source).resolve().parent
    return [
        [(_shown(path, project), content) for path, content in sorted(files.items())]
        for files in parameter_files(config_loader)
    ]


def _shown(path: Path, project: Path) -> str:
    """``path`` as the user knows it: relative to the project, when it is inside."""
    path = Path(path).resolve()
    return str(path.relative_to(project)) if path.is_relative_to(project) else str(path)
