"""Fixtures that start worker processes: every test that uses one is marked ``processes``."""

from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable)

# The names of the fixtures made with ``starts_processes`` (tests/conftest.py reads them).
PROCESS_FIXTURES: set[str] = set()


def starts_processes(fixture: F) -> F:
    """Put under ``@pytest.fixture``: the tests that use this fixture are marked ``processes``.

    CI runs those tests under every start method (``.ci/test-pythons``).
    """
    PROCESS_FIXTURES.add(fixture.__name__)
    return fixture
