"""What the benchmark scripts share: a database filled to a size, and gunicorn runs."""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
# The checkout's own virtualenv, else the one running this script (a git worktree that
# shares another checkout's .venv).
VENV_BIN = ROOT / ".venv" / "bin"
if not (VENV_BIN / "gunicorn").exists():
    VENV_BIN = Path(sys.executable).parent
WRK = shutil.which("wrk") or "/usr/bin/wrk"
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_{size}"


def workers():
    """Two sync workers per core, the usual gunicorn starting point."""
    return 2 * (os.cpu_count() or 1)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url(db, size, override=None):
    if override:
        return override
    if db == "sqlite":
        OUT.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{OUT / f'bench-{size}.db'}"
    return DEFAULT_PG.format(size=size)


def ensure_postgres_database(url):
    """Create the PostgreSQL database named in ``url`` when it does not exist yet."""
    import sqlalchemy as sa

    target = sa.engine.make_url(url)
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}
        )
        if not exists:
            conn.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def site_env(url, page_cache=True, rate_limits=True, redis_url=None, **extra):
    """The site's settings for a run: production-like, with a throwaway secret."""
    env = dict(os.environ)
    env.update(
        FLASK_SQLALCHEMY_DATABASE_URI=url,
        FLASK_SECRET_KEY="bench-only-secret",
        FLASK_PAGE_CACHE="true" if page_cache else "false",
        FLASK_RATELIMIT_ENABLED="true" if rate_limits else "false",
    )
    if redis_url:
        env.update(FLASK_CACHE_REDIS_URL=redis_url, FLASK_CACHE_KEY_PREFIX="bench:")
    env.update(extra)
    return env


def recreate_postgres_database(url):
    """Drop the PostgreSQL database named in ``url`` (closing its connections) and
    create it empty, so a run starts from a known state."""
    import sqlalchemy as sa

    target = sa.engine.make_url(url)
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def fill_database(url, size, fresh=False):
    """``db upgrade`` then ``seed`` (``seed --large`` for the large size). ``fresh``
    starts from an empty database (the seed adds only what is missing, so a database
    filled by an older seed would otherwise keep its older content)."""
    if url.startswith("postgresql"):
        if fresh:
            recreate_postgres_database(url)
        else:
            ensure_postgres_database(url)
    elif fresh:
        import sqlalchemy as sa

        path = sa.engine.make_url(url).database
        if path:
            Path(path).unlink(missing_ok=True)
    env = site_env(url)
    flask = [str(VENV_BIN / "flask"), "--app", "app"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True)
    seed = [*flask, "seed"] + (["--large"] if size == "large" else [])
    subprocess.run(seed, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def fetch(url, headers=None, timeout=10):
    """``(status, headers, body)`` of one GET, without following redirects."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


@contextmanager
def gunicorn(target, env=None, n_workers=None, port=None, log_path=None, extra_args=()):
    """Serve ``target`` (``module:app``) on ``port`` (a free local one by default);
    yields the base URL. With ``log_path`` gunicorn's output (and the app's log) goes
    to that file instead of this terminal.

    Every app runs under the production ``gunicorn.conf.py`` (named explicitly, so the
    settings do not depend on the directory), with only the port and workers changed.
    """
    port = port or free_port()
    command = [
        str(VENV_BIN / "gunicorn"),
        "--config",
        str(ROOT / "gunicorn.conf.py"),
        "--workers",
        str(n_workers or workers()),
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        *extra_args,
        target,
    ]
    log = open(log_path, "wb") if log_path else None  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        command, cwd=ROOT, env=env or dict(os.environ), stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, process)
        yield base
    finally:
        stop_process(process, timeout=15)
        if log:
            log.close()


def stop_process(process, timeout=10):
    """Ask a server to stop; kill it when it has not within ``timeout`` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait_until_up(base, process, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"gunicorn exited with status {process.returncode} before serving {base}")
        try:
            fetch(base + "/", timeout=2)
            return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"gunicorn did not answer on {base} within {timeout} s")


def require(program, hint):
    path = shutil.which(program) or (program if Path(program).exists() else None)
    if not path:
        sys.exit(f"{program} is not installed: {hint}")
    return path


def wrk(url, seconds, threads=2, connections=20, headers=None, latency=True):
    """One wrk run: ``{"rps", "p50", "p99" (ms), "errors" (non-2xx/3xx), "socket_errors"}``."""
    command = [WRK, f"-t{threads}", f"-c{connections}", f"-d{seconds}s"]
    if latency:
        command.append("--latency")
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))}
    for name, pct in (("p50", "50%"), ("p99", "99%")):
        match = re.search(rf"^\s+{re.escape(pct)}\s+([\d.]+)(us|ms|s|m)\s*$", output, re.M)
        result[name] = float(match.group(1)) * _UNITS[match.group(2)] if match else None
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors: .*", output)
    result["errors"] = int(bad.group(1)) if bad else 0
    result["socket_errors"] = errors.group(0) if errors else ""
    return result
