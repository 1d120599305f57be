"""A private, throw-away PostgreSQL server for tests that restart or crash the database.

Built from the machine's binaries (``initdb``, ``pg_ctl``): a data directory and a unix socket
directory in a fresh temporary folder, a free TCP port on 127.0.0.1, trust authentication.
Run as root, the server runs as the ``postgres`` OS user (``runuser``), which owns the folder.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg

BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)  # newest first
SERVER_USER = "postgres"


def binaries_missing() -> str | None:
    """Why a private server cannot be started here, or None if it can."""
    if not BIN_DIRS or not (BIN_DIRS[0] / "pg_ctl").exists():
        return "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (initdb, pg_ctl)"
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            return "running as root needs runuser to start PostgreSQL as another user"
        try:
            pwd.getpwnam(SERVER_USER)
        except KeyError:
            return f"running as root needs an OS user {SERVER_USER!r} to run PostgreSQL"
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PrivateServer:
    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.port = port
        self.data = root / "data"
        self.socket_dir = root / "socket"
        self.log = root / "server.log"
        self.bin = BIN_DIRS[0]

    @property
    def url(self) -> str:
        """A SQLAlchemy URL of the server's ``postgres`` database."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def libpq_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str, timeout: float = 60) -> None:
        command = [str(self.bin / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", SERVER_USER, "--", *command]
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False
        )
        if result.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(
                f"{tool} {' '.join(args)} failed ({result.returncode}): "
                f"{result.stdout}{result.stderr}\n--- server log ---\n{log}"
            )

    def init(self) -> None:
        self.socket_dir.mkdir()
        if os.geteuid() == 0:
            user = pwd.getpwnam(SERVER_USER)
            for path in (self.root, self.socket_dir):
                os.chown(path, user.pw_uid, user.pw_gid)
        self._run(
            "initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
            "--no-sync",
        )  # fmt: skip

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c max_connections=50"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
                  "-o", options, "start")  # fmt: skip

    def restart(self, mode: str = "fast") -> None:
        """``pg_ctl restart -m fast|immediate``: every session is cut; the options are kept."""
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
                  "-m", mode, "restart")  # fmt: skip

    def stop(self, mode: str = "immediate") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-w", "-t", "60", "-m", mode, "stop")

    def started_at(self) -> str:
        with psycopg.connect(self.libpq_url, connect_timeout=5) as conn:
            row = conn.execute("SELECT pg_postmaster_start_time()::text").fetchone()
        assert row is not None
        return str(row[0])


@contextlib.contextmanager
def private_server() -> Iterator[PrivateServer]:
    """Initialise and start a server; stop it and delete every file afterwards."""
    root = Path(tempfile.mkdtemp(prefix="ledgerlens-pg-", dir="/tmp"))
    server = PrivateServer(root, free_port())
    try:
        server.init()
        server.start()
        yield server
    finally:
        with contextlib.suppress(Exception):
            server.stop()
        shutil.rmtree(root, ignore_errors=True)
