"""Start a real PostgreSQL and a real Redis for the integration tests, from the server
binaries installed on this machine (Debian's postgresql and redis-server), then run a
command against them and stop them.

    python -m tests.services -- python -m pytest -m integration

Missing binaries: locally, a loud notice and exit 0 (the tests are skipped); with
CI=true, exit 1 (CI must run them).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_bindir() -> Path | None:
    on_path = shutil.which("pg_ctl")
    if on_path:
        return Path(on_path).parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


def _as_postgres(cmd: list[str]) -> list[str]:
    # initdb refuses to run as root; run the server as the postgres system user then.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def _wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


@contextmanager
def postgresql():
    bindir = pg_bindir()
    if bindir is None:
        raise FileNotFoundError("pg_ctl")
    tmp = Path(tempfile.mkdtemp(prefix="sanling-pg-"))
    data = tmp / "data"
    data.mkdir()
    if os.geteuid() == 0:
        shutil.chown(tmp, "postgres")
        shutil.chown(data, "postgres")
    port = free_port()
    subprocess.run(
        _as_postgres(
            [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8"]
        ),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    opts = (
        f"-p {port} -k {tmp} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
        f"-c full_page_writes=off -c max_connections=200 -c shared_buffers=256MB"
    )
    subprocess.run(
        _as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(tmp / "log"), "-w", "start"]),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    try:
        _wait_port(port)
        yield {
            "url": f"postgres://postgres@127.0.0.1:{port}/postgres",
            "port": port,
            "bindir": bindir,
            "data": data,
            "tmp": tmp,
        }
    finally:
        subprocess.run(
            _as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def redis():
    binary = shutil.which("redis-server")
    if binary is None:
        raise FileNotFoundError("redis-server")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_port(port)
        yield {"url": f"redis://127.0.0.1:{port}/0", "port": port, "binary": binary}
    finally:
        proc.terminate()
        proc.wait(10)


def main(argv: list[str]) -> int:
    if "--" in argv:
        argv = argv[argv.index("--") + 1 :]
    ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
    try:
        with postgresql() as pg, redis() as rd:
            env = dict(
                os.environ,
                DATABASE_URL=pg["url"],
                REDIS_URL=rd["url"],
                SANLING_PG_BINDIR=str(pg["bindir"]),
                SANLING_PG_DATA=str(pg["data"]),
                SANLING_PG_PORT=str(pg["port"]),
                SANLING_REDIS_BINARY=rd["binary"],
                SANLING_REDIS_PORT=str(rd["port"]),
            )
            print(f"== integration services: PostgreSQL on {pg['port']}, Redis on {rd['port']}", flush=True)
            return subprocess.call(argv, env=env)
    except FileNotFoundError as exc:
        banner = "!" * 78
        print(
            f"{banner}\n!! {exc.args[0] if exc.args else exc} not found: the PostgreSQL/Redis/Celery integration "
            f"tests did NOT run.\n!! Install them: apt-get install -y postgresql redis-server\n{banner}",
            file=sys.stderr,
            flush=True,
        )
        return 1 if ci else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
