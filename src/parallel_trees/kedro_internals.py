"""The private Kedro API this project uses, in one place (written against Kedro 1.7).

Kedro has no public way to do any of these; an upgrade that changes them breaks
``tests/unit/hooks/test_kedro_internals.py`` (``session_runner``: the ``max_workers=1``
run of ``tests/end_to_end/test_training_run.py``), not a run.
"""

import sys
from pathlib import Path
from typing import Any

from kedro.config import OmegaConfigLoader
from kedro.framework.session import KedroSession
from kedro.io import AbstractDataset, AbstractVersionedDataset, DatasetError, Version
from kedro.pipeline import Pipeline
from kedro.runner import AbstractRunner
from omegaconf import OmegaConf


def saved_path(dataset: AbstractVersionedDataset) -> Path | None:
    """Where ``dataset`` saves this run's version; ``None`` if it has no save version."""
    try:
        return Path(dataset._get_versioned_path(dataset.resolve_save_version()))
    except DatasetError:
        return None


def versioned_outputs(pipeline: Pipeline, catalog: Any) -> dict[str, tuple[Any, Path]]:
    """Each versioned output of ``pipeline``: its dataset, and where this run saves its version."""
    found = {}
    for name in sorted(pipeline.all_outputs()):
        dataset = catalog.get(name) if name in catalog else None
        if isinstance(dataset, AbstractVersionedDataset) and (path := saved_path(dataset)):
            found[name] = (dataset, path)
    return found


def saved_version(dataset: AbstractVersionedDataset) -> AbstractVersionedDataset:
    """``dataset`` pinned to load the version this run saved, whatever runs saved since."""
    version = dataset.resolve_save_version()
    return dataset._copy(_version=Version(version, version))


def filepath(dataset: AbstractDataset) -> str | None:
    """The file a file-based dataset reads and writes, as its ``repr`` shows it."""
    return dataset._describe().get("filepath")


def own_dataset_message(error: DatasetError) -> str | None:
    """What a dataset of ``parallel_trees.datasets`` said when it failed to load or save,
    else ``None``.

    Kedro 1.7 wraps it as ``<name>: Failed while loading data from dataset
    <repr>.\n<message>`` (``saving data to dataset`` for a save); that text is
    all that crosses ParallelRunner's processes (the original exception, the
    ``__cause__``, does not).
    """
    first, _, message = str(error).partition("\n")
    own = " dataset parallel_trees.datasets." in first
    return message if own and message else None


def session_runner() -> AbstractRunner | None:
    """The runner of the ``KedroSession.run`` in progress; ``None`` outside one.

    Kedro's hooks get only the runner's ``str`` (``run_params["runner"]``): the
    runner itself is the ``runner`` variable of ``KedroSession.run``'s frame.
    """
    frame: Any = sys._getframe(1)
    while frame is not None:
        if frame.f_code is KedroSession.run.__code__:
            runner = frame.f_locals.get("runner")
            return runner if isinstance(runner, AbstractRunner) else None
        frame = frame.f_back
    return None


def pool_size(runner: AbstractRunner, pipeline: Pipeline) -> int:
    """How many nodes of ``pipeline`` Kedro's ``runner`` runs at once, as its pool is sized.

    ``min(nodes - groups + 1, max_workers)`` for ParallelRunner and ThreadRunner,
    1 for SequentialRunner (``AbstractRunner``'s own).
    """
    return runner._get_required_workers_count(pipeline)


def parameter_files(config_loader: OmegaConfigLoader) -> list[dict[Path, dict[str, Any]]]:
    """The parameter files of the run's environment, then of base: each file's
    content as written (interpolations such as ``${n_estimators}`` unresolved).

    Found as Kedro finds them (its ``parameters`` patterns, hidden files left out).
    """
    base, env, *_ = config_loader._read_raw_config("parameters")
    return [
        {path: OmegaConf.to_container(content, resolve=False) for path, content in files.items()}
        for files in (env, base)
    ]
