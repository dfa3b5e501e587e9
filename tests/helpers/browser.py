"""Debian's headless Chromium, driven by Playwright, servers to point it at, and the
documentation's pictures (a plugin of tests/conftest.py: the ``browser`` fixture)."""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.helpers.network import free_port_below_ephemeral

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    """Debian's headless Chromium, driven by Playwright, with a fresh profile."""
    if not CHROMIUM.exists():
        reason = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("PARALLEL_TREES_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{reason}, and PARALLEL_TREES_REQUIRE_BROWSER=1 requires the browser test")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - browser tests only

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            tmp_path_factory.mktemp("chromium-profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1600, "height": 1000},
        )
        # No first-visit tour over kedro-viz's graph.
        context.add_init_script(
            'localStorage.setItem("KedroViz", JSON.stringify({showFeatureHints: false}))'
        )
        try:
            yield context
        finally:
            context.close()


# Where `make screenshots` puts the pictures (docs/), resolved now, in the folder pytest
# started in: every test runs from a folder of its own (tests/conftest.py: elsewhere).
_docs = os.environ.get("PARALLEL_TREES_SCREENSHOTS")
SCREENSHOTS = Path(_docs).resolve() if _docs else None


def for_the_docs(*screenshots: Path) -> None:
    """Copy ``screenshots`` into $PARALLEL_TREES_SCREENSHOTS when it is set (`make
    screenshots`: docs/), under their own names. A test with several variants calls it
    from one only, so that each picture has one source."""
    if SCREENSHOTS:
        for screenshot in screenshots:
            shutil.copy(screenshot, SCREENSHOTS / screenshot.name)


@contextmanager
def serving(command: list[str], cwd: Path, env: dict[str, str], log: Path) -> Iterator[str]:
    """Run a server on a free local port (``{port}`` in ``command``) until the block ends;
    yield its URL.

    ``kedro viz run`` serves from a child process that outlives its parent, so
    the server gets its own process group and the whole group is killed.
    """
    port = free_port_below_ephemeral()
    with log.open("w") as out:
        server = subprocess.Popen(
            [part.replace("{port}", str(port)) for part in command],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, log.read_text()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        finally:
            # Anything of the group still alive, e.g. the uvicorn child.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)
            server.wait()
