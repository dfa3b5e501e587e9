"""Every use of a private Kedro or kedro-datasets name, in one place (written against Kedro 1.7).

Kedro has no public way to do any of these. Each helper has a test in
``tests/unit/test_kedro_internals.py`` whose failure names the helper and the
Kedro version, so that an upgrade says at once what broke. The project's
``ParallelRunner`` also overrides private methods of Kedro's
(``PARALLEL_RUNNER_OVERRIDES``), checked there the same way.
"""

import logging
import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from kedro.config import AbstractConfigLoader, OmegaConfigLoader
from kedro.framework import project
from kedro.framework.hooks.manager import _create_hook_manager, _register_hooks
from kedro.framework.session import KedroSession
from kedro.io import AbstractDataset, AbstractVersionedDataset, DatasetError, Version
from kedro.pipeline import Pipeline
from kedro.runner import AbstractRunner, Task
from kedro.runner import ParallelRunner as KedroParallelRunner
from kedro_datasets._typing import PlotlyPreview, TablePreview
from omegaconf import OmegaConf
from pluggy import PluginManager

__all__ = ["PlotlyPreview", "TablePreview"]  # kedro-viz's preview types, from kedro-datasets

# The methods of Kedro's ParallelRunner that the project's overrides or calls.
PARALLEL_RUNNER_OVERRIDES = (
    "__init__",
    "__del__",
    "_run",
    "_get_executor",
    "_set_manager_datasets",
    "_validate_max_workers",
)
# The process name of Kedro's ParallelRunner's data manager: multiprocessing names a
# manager's process after its class (kedro.runner.parallel_runner.ParallelRunnerManager).
DATA_MANAGER = "ParallelRunnerManager"
# The logger of Kedro's catalog, which warns when a dataset is replaced.
CATALOG_LOGGER = "kedro.io.data_catalog"


def saved_path(dataset: AbstractVersionedDataset) -> Path | None:
    """Where ``dataset`` saves this run's version; ``None`` if it has no save version."""
    try:
        version = dataset.resolve_save_version()
    except DatasetError:
        return None
    return None if version is None else Path(dataset._get_versioned_path(version))


def versions_folder(dataset: AbstractVersionedDataset) -> Path | None:
    """The folder that holds every saved version of ``dataset`` (its ``filepath``); ``None``
    when it is not versioned, or in another filesystem than this machine's (``s3://...``).

    kedro-datasets' datasets keep their filesystem's protocol (``file`` for this
    machine's); the project's own are local only, and keep none.
    """
    local = getattr(dataset, "_protocol", "file") == "file"
    return Path(dataset._filepath) if local and dataset._version is not None else None


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
    return cast(AbstractVersionedDataset, dataset._copy(_version=Version(version, version)))


def missing_credentials(error: KeyError) -> str | None:
    """The credentials name the catalog's config gives and no credentials file holds, from
    the ``KeyError`` Kedro raises as it makes the catalog; else ``None``."""
    found = re.match(
        r"Unable to find credentials '(.*?)'", str(error.args[0] if error.args else "")
    )
    return found.group(1) if found else None


def connection(dataset: AbstractDataset) -> str | None:
    """The database a kedro-datasets SQL dataset reads, as its SQLAlchemy URL without the
    user, the password and the query's options (which may hold a token); ``None`` for
    another dataset."""
    con = getattr(dataset, "_connection_str", None)
    if not con:
        return None
    from sqlalchemy.engine import URL, make_url  # noqa: PLC0415 - with a SQL dataset only

    url = make_url(con)
    bare = URL.create(url.drivername, host=url.host, port=url.port, database=url.database)
    return bare.render_as_string(hide_password=False)


def description(dataset: AbstractDataset) -> dict[str, Any]:
    """What a dataset reads (its ``filepath``, ``table_name``, ``sql``...), as its ``repr``
    shows it: kedro-datasets' SQL datasets leave their credentials out."""
    return dataset._describe()


def own_dataset_message(error: DatasetError) -> str | None:
    """What a dataset of this project (``parallel_trees.*``) said when it failed to load or save,
    else ``None``.

    Kedro 1.7 wraps it as ``<name>: Failed while loading data from dataset
    <repr>.\n<message>`` (``saving data to dataset`` for a save); that text is
    all that crosses ParallelRunner's processes (the original exception, the
    ``__cause__``, does not).
    """
    first, _, message = str(error).partition("\n")
    own = " dataset parallel_trees." in first
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


def parameter_files(config_loader: AbstractConfigLoader) -> list[dict[Path, Any]]:
    """The parameter files of the run's environment, then of base: each file's
    content as written (interpolations such as ``${n_estimators}`` unresolved).

    Found as Kedro finds them (its ``parameters`` patterns, hidden files left out);
    none for a config loader other than Kedro's ``OmegaConfigLoader``.
    """
    if not isinstance(config_loader, OmegaConfigLoader):
        return []
    base, env, *_ = config_loader._read_raw_config("parameters")
    return [
        {path: OmegaConf.to_container(content, resolve=False) for path, content in files.items()}
        for files in (env, base)
    ]


def project_hook_manager(hooks: Iterable[Any]) -> PluginManager:
    """A hook manager with ``hooks`` registered, as ``KedroSession`` makes one, less the
    plugins' entry points."""
    manager = _create_hook_manager()
    _register_hooks(manager, hooks)
    return manager


def task_hook_manager() -> PluginManager:
    """The hook manager that Kedro's ``Task`` makes in a parallel worker: the project's
    hooks and the plugins'."""
    return Task._run_node_synchronization()


def suggest_resume(runner: AbstractRunner, pipeline: Pipeline, done: set, catalog: Any) -> None:
    """Log Kedro's hint on how to resume a failed run (``kedro run --from-nodes ...``)."""
    runner._suggest_resume_scenario(pipeline, done, catalog)


def configure_like_forked(package_name: str | None, logging_config: dict[str, Any]) -> None:
    """Configure the project in a spawned or forkserver worker as it is in a forked one.

    Kedro's ``Task``, finding the package name set in such a worker, would
    configure the project again for each node, with a logging config that then
    refers to itself (a RecursionError on the worker's second node): it is
    configured once, here, and the name unset again, as in a forked worker.
    """
    if package_name and project.PACKAGE_NAME is None:
        project.configure_project(package_name)
        project.configure_logging(logging_config)
        project.PACKAGE_NAME = None


def disable_plugin_hooks(*plugins: str) -> None:
    """Leave the hooks of ``plugins`` out of the hook managers made in this process."""
    disabled = project.settings.DISABLE_HOOKS_FOR_PLUGINS
    project.settings.set("DISABLE_HOOKS_FOR_PLUGINS", (*disabled, *plugins))


def skip_data_manager(runner: KedroParallelRunner, max_workers: int | None, is_async: bool) -> None:
    """Initialise a subclass of Kedro's ``ParallelRunner`` without its data manager process."""
    AbstractRunner.__init__(runner, is_async=is_async)
    runner._max_workers = runner._validate_max_workers(max_workers)


def is_data_manager(process_name: str) -> bool:
    """Whether a child process is the data manager of Kedro's ``ParallelRunner``."""
    return process_name.startswith(DATA_MANAGER)


@contextmanager
def no_replacing_warning() -> Iterator[None]:
    """Replace datasets in a catalog without the catalog's "Replacing" warning."""
    catalog_logger = logging.getLogger(CATALOG_LOGGER)
    level = catalog_logger.level
    catalog_logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        catalog_logger.setLevel(level)
