"""A throwaway PostgreSQL cluster for tests: initdb in a temporary folder, a loopback port, and
stopped and deleted afterwards, also when the test fails.

As root the server runs as the `postgres` system user (PostgreSQL refuses to run as root);
otherwise (e.g. a CI runner) as the current user.
"""

from __future__ import annotations

import glob
import logging
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from nids.services.processes import is_alive

logger = logging.getLogger(__name__)

SERVER_USER = "postgres"
HOST = "127.0.0.1"
DEBIAN_BIN_DIRS = "/usr/lib/postgresql/*/bin"
SERVER_PROGRAMS = ("initdb", "pg_ctl", "postgres", "psql")


def _major(bin_dir: Path) -> int:
    return int(bin_dir.parent.name) if bin_dir.parent.name.isdigit() else 0


def server_bin_dir() -> Path | None:
    """The folder of initdb, pg_ctl, postgres and psql: from PATH, else Debian's newest."""
    on_path = shutil.which("initdb")
    candidates = [Path(on_path).resolve().parent] if on_path else []
    candidates += sorted((Path(p) for p in glob.glob(DEBIAN_BIN_DIRS)), key=_major, reverse=True)
    for folder in candidates:
        if all((folder / program).is_file() for program in SERVER_PROGRAMS):
            return folder
    return None


def skip_reason() -> str | None:
    """Why no cluster can be started here, or None when one can."""
    if server_bin_dir() is None:
        return (f"PostgreSQL server binaries ({', '.join(SERVER_PROGRAMS)}) are not on PATH nor "
                f"in {DEBIAN_BIN_DIRS}; install them with scripts/install_system_packages.sh")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVER_USER)
        except KeyError:
            return f"running as root needs the {SERVER_USER!r} system user to run PostgreSQL"
        if shutil.which("runuser") is None:
            return "running as root needs `runuser` to start PostgreSQL as another user"
    return None


@dataclass(frozen=True)
class Cluster:
    bin_dir: Path
    folder: Path
    port: int
    superuser: str
    password: str = field(repr=False)
    host: str = HOST

    @property
    def data_dir(self) -> Path:
        return self.folder / "data"

    @property
    def log_path(self) -> Path:
        return self.folder / "server.log"

    def client_env(self, base: Mapping[str, str]) -> dict[str, str]:
        """libpq settings for psql and scripts run as the superuser over TCP."""
        return {**base, "PATH": f"{self.bin_dir}{os.pathsep}{base.get('PATH', '')}",
                "PGHOST": self.host, "PGPORT": str(self.port), "PGUSER": self.superuser,
                "PGPASSWORD": self.password, "PGDATABASE": "postgres"}

    def url(self, user: str, password: str, database: str, scheme: str = "postgresql") -> str:
        return f"{scheme}://{user}:{password}@{self.host}:{self.port}/{database}"


def _as_server_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", SERVER_USER, "--", *command] if os.geteuid() == 0 else command


def _run(command: list[str], what: str, timeout: float = 60) -> None:
    result = subprocess.run(_as_server_user(command), capture_output=True, text=True,
                            timeout=timeout, check=False, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        raise RuntimeError(f"{what} failed ({result.returncode}):\n{result.stdout}{result.stderr}")


def _give_to_server_user(path: Path) -> None:
    if os.geteuid() == 0:
        user = pwd.getpwnam(SERVER_USER)
        os.chown(path, user.pw_uid, user.pw_gid)


def _postmaster_pid(data_dir: Path) -> int | None:
    try:
        return int((data_dir / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _stop(cluster: Cluster) -> None:
    """pg_ctl stop (fast, then immediate); SIGKILL the postmaster if it still runs."""
    pid = _postmaster_pid(cluster.data_dir)
    if pid is None:
        return
    pg_ctl = str(cluster.bin_dir / "pg_ctl")
    for mode in ("fast", "immediate"):
        try:
            _run([pg_ctl, "-D", str(cluster.data_dir), "-m", mode, "-w", "-t", "30", "stop"],
                 f"pg_ctl stop -m {mode}", timeout=40)
            break
        except (RuntimeError, subprocess.TimeoutExpired) as error:
            logger.warning("%s", error)
    deadline = time.monotonic() + 10
    while is_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if is_alive(pid):
        os.kill(pid, signal.SIGKILL)
        logger.warning("PostgreSQL (pid %d) had to be killed", pid)


@contextmanager
def throwaway_cluster(port: int, superuser: str = "postgres",
                      password: str = "postgres-test") -> Iterator[Cluster]:
    """A running cluster on HOST:port with password (scram-sha-256) authentication."""
    bin_dir = server_bin_dir()
    if bin_dir is None:
        raise RuntimeError(skip_reason())
    # Not pytest's tmp_path: that is private to the test user, and the server user must enter.
    folder = Path(tempfile.mkdtemp(prefix="nids-postgres-"))
    cluster = Cluster(bin_dir, folder, port, superuser, password)
    try:
        _give_to_server_user(folder)
        password_file = folder / "superuser-password"
        password_file.write_text(password + "\n")
        _give_to_server_user(password_file)
        _run([str(bin_dir / "initdb"), "-D", str(cluster.data_dir), "-U", superuser,
              "--pwfile", str(password_file), "--auth", "scram-sha-256", "--encoding", "UTF8",
              "--locale", "C", "--no-sync"], "initdb")
        options = (f"-c listen_addresses={HOST} -p {port} -c unix_socket_directories={folder} "
                   "-c fsync=off -c full_page_writes=off")
        try:
            _run([str(bin_dir / "pg_ctl"), "-D", str(cluster.data_dir), "-l",
                  str(cluster.log_path), "-o", options, "-w", "-t", "60", "start"],
                 "pg_ctl start", timeout=70)
        except (RuntimeError, subprocess.TimeoutExpired) as error:
            log = cluster.log_path.read_text() if cluster.log_path.exists() else "(no log)"
            raise RuntimeError(f"{error}\nServer log:\n{log}") from error
        yield cluster
    finally:
        _stop(cluster)
        shutil.rmtree(folder, ignore_errors=True)
