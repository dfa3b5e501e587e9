"""A real PostgreSQL 15 server on the loopback interface, from Debian's postgresql-15 binaries."""

import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import psycopg
import pytest
import sqlalchemy
from psycopg import sql

from tests.helpers.network import free_port

if TYPE_CHECKING:
    import pandas as pd

BIN = Path("/usr/lib/postgresql/15/bin")
HOST = "127.0.0.1"
USER = "trees"
DATABASE = "tables"
SUPERUSER = "postgres"  # initdb -U: the same name whoever runs the server
STARTUP_TIMEOUT = 30  # seconds until the server must accept connections
STOP_TIMEOUT = 30  # seconds for a fast shutdown, before SIGKILL


@dataclass(frozen=True)
class Postgres:
    """A running server's database, and the role (with a password) that owns it."""

    host: str
    port: int
    user: str
    password: str
    database: str

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of the database, on psycopg 3, password included."""
        return (
            f"postgresql+psycopg://{quote(self.user, safe='')}:{quote(self.password, safe='')}"
            f"@{self.host}:{self.port}/{self.database}"
        )

    def write(self, name: str, frame: "pd.DataFrame") -> None:
        """Table ``name`` holds ``frame``'s rows (and only those), as a user's database would."""
        engine = sqlalchemy.create_engine(self.url)
        try:
            frame.to_sql(name, engine, index=False, if_exists="replace")
        finally:
            engine.dispose()


@contextmanager
def postgres_server(folder: Path) -> Iterator[Postgres]:
    """A fresh PostgreSQL cluster, served on 127.0.0.1 until the block ends.

    The server runs as the ``postgres`` user when the tests run as root (PostgreSQL
    refuses root), else as the current user. Its data and its Unix socket live in a
    folder of their own from ``tempfile.mkdtemp``, owned by whoever runs the server:
    pytest's ``tmp_path`` is under a 0700 root folder the ``postgres`` user cannot
    enter, and a socket's path must fit in 107 bytes. ``folder`` keeps the server's
    log, ``postgres.log`` (initdb's output, then the server's), written through this
    process's file, so that it outlives the server. TCP connections need the role's
    password (scram-sha-256); only the Unix socket, in that private folder, trusts.
    The server is stopped by its id and its folder removed at the end, whatever the
    test did. fsync is off: nothing here must survive a crash.
    """
    missing = [name for name in ("initdb", "postgres") if not (BIN / name).exists()]
    if missing:
        reason = "PostgreSQL 15 is not installed (apt-get install postgresql-15)"
        if os.environ.get("PARALLEL_TREES_REQUIRE_POSTGRES") == "1":
            pytest.fail(
                f"{reason}: no {', '.join(missing)} in {BIN}, and"
                " PARALLEL_TREES_REQUIRE_POSTGRES=1 requires the PostgreSQL tests"
            )
        pytest.skip(reason)
    log = folder / "postgres.log"
    home = Path(tempfile.mkdtemp(prefix="postgres-"))
    try:
        as_user = server_user(home)
        data, port = home / "data", free_port()
        run = {"cwd": home, "env": without_libpq_settings(), **as_user}
        with log.open("w") as out:
            initdb = subprocess.run(
                [BIN / "initdb", "-D", data, "-U", SUPERUSER, "-E", "UTF8", "--locale=C",
                 "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync",
                 "--no-instructions"],
                stdout=out, stderr=subprocess.STDOUT, check=False, **run,
            )  # fmt: skip
        if initdb.returncode:
            raise RuntimeError(f"initdb failed ({initdb.returncode}):\n{tail(log)}")
        # The postmaster itself, this process's child (pg_ctl start would detach it): its id
        # is known, to stop it by, and its output goes to the log. Its own session: a Ctrl-C
        # reaches pytest, which stops it.
        with log.open("a") as out:
            server = subprocess.Popen(
                [BIN / "postgres", "-D", data, "-p", str(port),
                 "-c", f"listen_addresses={HOST}", "-c", f"unix_socket_directories={home}",
                 "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True, **run,
            )  # fmt: skip
        try:
            password = secrets.token_urlsafe(24)
            with ready(server, home, port, log) as admin:
                create_owner(admin, USER, password, DATABASE)
            yield Postgres(HOST, port, USER, password, DATABASE)
        finally:
            stop(server)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def server_user(home: Path) -> dict:
    """Popen's arguments that run the server as ``postgres`` if the tests run as root (and
    ``home`` is then made theirs); none otherwise."""
    if os.geteuid() != 0:
        return {}
    try:
        postgres = pwd.getpwnam("postgres")
    except KeyError:
        raise RuntimeError(
            "the tests run as root, which PostgreSQL refuses, and there is no postgres user"
            " to run it as (Debian's postgresql-15 package creates it)"
        ) from None
    os.chown(home, postgres.pw_uid, postgres.pw_gid)
    return {"user": postgres.pw_uid, "group": postgres.pw_gid, "extra_groups": []}


def without_libpq_settings() -> dict[str, str]:
    """This environment without PG* variables: a developer's PGDATA or PGPORT must not
    point initdb or the server elsewhere."""
    return {name: value for name, value in os.environ.items() if not name.startswith("PG")}


@contextmanager
def ready(
    server: subprocess.Popen, home: Path, port: int, log: Path
) -> Iterator[psycopg.Connection]:
    """A superuser connection, through the Unix socket, once the server accepts one."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        if server.poll() is not None:
            raise RuntimeError(f"postgres exited ({server.returncode}) on start:\n{tail(log)}")
        try:
            connection = psycopg.connect(
                host=str(home), port=port, user=SUPERUSER, dbname="postgres",
                autocommit=True, connect_timeout=2,
            )  # fmt: skip
            break
        except psycopg.OperationalError as error:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"postgres accepted no connection in {STARTUP_TIMEOUT} s ({error}):\n"
                    f"{tail(log)}"
                ) from error
            time.sleep(0.05)
    with connection:
        yield connection


def create_owner(admin: psycopg.Connection, user: str, password: str, database: str) -> None:
    """Role ``user``, who logs in with ``password``, and ``database``, which it owns.

    The password is hashed here (SCRAM, as libpq's \\password does): the server never
    sees it, so no server log can show it, even a failed statement's.
    """
    verifier = admin.pgconn.encrypt_password(password.encode(), user.encode(), b"scram-sha-256")
    admin.execute(
        sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
            sql.Identifier(user), sql.Literal(verifier.decode())
        )
    )
    admin.execute(
        sql.SQL("CREATE DATABASE {} OWNER {}").format(
            sql.Identifier(database), sql.Identifier(user)
        )
    )


def stop(server: subprocess.Popen) -> None:
    """Stop the server by its id: a fast shutdown (SIGINT, as ``pg_ctl stop -m fast``), which
    ends every session, then SIGKILL if it hangs. Its backends leave with it."""
    if server.poll() is None:
        server.send_signal(signal.SIGINT)
    try:
        server.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        server.kill()  # the backends notice their postmaster's death and exit
        server.wait()


def tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
