"""``make ui``: mlflow's own server on the project's store, until one Ctrl-C stops it quietly.

``mlflow server`` (mlflow 3.17) serves from a uvicorn child process and forwards to it
every SIGINT it gets (``_run_server`` in mlflow/server/__init__.py). A terminal's Ctrl-C
goes to the whole foreground process group, so uvicorn gets two: the second makes it skip
the application's shutdown, and the lifespan it cancels prints a CancelledError traceback.
Here the server runs in a session of its own, out of the terminal's reach, and gets one
signal for each this process gets: uvicorn then stops cleanly, in under a second.

``python -m parallel_trees.mlflow_ui PORT``, in the project folder.
"""

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time

HOST = "127.0.0.1"  # this machine only
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def command(port: int) -> list[str]:
    """``mlflow server`` on the runs in mlflow.db and their artifacts in mlruns/ (the
    experiment's artifact location, which the server reads). One worker is plenty for one
    user. Uvicorn says only its warnings and errors: at INFO it logs every request, four
    lines at a stop, and its start around the one line ``main`` prints."""
    return [
        *(sys.executable, "-m", "mlflow", "server"),
        *("--backend-store-uri", "sqlite:///mlflow.db", "--host", HOST, "--port", str(port)),
        *("--workers", "1", "--uvicorn-opts", "--log-level warning"),
    ]


ENV = {
    # The job runner (GenAI evaluation jobs, 8 more processes) is not needed.
    "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
    # mlflow 3.17's FastAPI app imports starlette.middleware.wsgi, which starlette 1.x
    # deprecates with a warning shown by default: mlflow's to fix, not ours.
    "PYTHONWARNINGS": "ignore:starlette.middleware.wsgi is deprecated:UserWarning",
}


def main(port: int) -> int:
    """Serve until a signal, then stop the server with it; the server's exit status."""
    # A port already taken would answer the wait below for another server, and mlflow's own
    # error would come after the line that says the UI is there.
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((HOST, port))
        except OSError as error:
            taken = f"Port {port} is taken ({error.strerror}): make ui PORT=<another>"
            print(taken, file=sys.stderr)  # noqa: T201 - make ui's one line
            return 1
    server: subprocess.Popen[bytes] | None = None
    early: list[int] = []  # the signals that came before the server had started

    def forward(signum: int, _frame: object) -> None:
        # A hangup (the terminal closed) would not reach the server's own session.
        stop = signal.SIGTERM if signum == signal.SIGHUP else signum
        if server is None:
            early.append(stop)
        else:
            server.send_signal(stop)

    for name in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(name, forward)
    # preexec_fn is unsafe in a process with threads: this one runs none.
    server = subprocess.Popen(
        command(port),
        env=os.environ | ENV,
        start_new_session=True,
        preexec_fn=_orphan_stops,  # noqa: PLW1509
    )
    for stop in early:
        server.send_signal(stop)

    while server.poll() is None:
        try:
            socket.create_connection((HOST, port), timeout=1).close()
        except OSError:
            time.sleep(0.1)
            continue
        ready = f"The MLflow UI of mlflow.db: http://{HOST}:{port} (Ctrl-C stops it)"
        print(ready, flush=True)  # noqa: T201 - make ui's one line
        break
    return server.wait()


def _orphan_stops() -> None:
    """In the server, before it starts: on Linux, SIGTERM when this process dies, even
    killed outright (SIGKILL), which leaves no chance to forward a signal: the server,
    in a session of its own, would otherwise keep the port."""
    if sys.platform == "linux":
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1])))
