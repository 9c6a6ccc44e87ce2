"""The production shape on this machine: nginx (the edge cache, static files) in front of
two gunicorn instances with production settings, PostgreSQL, two Redis servers of the
stack's own (the page cache, the rate limits) and the Stripe emulator, all on 127.0.0.1.

    python deploy/stack.py start      # what scripts/run-stack (make stack) runs
    python deploy/stack.py stop       # stops what start started (pid files)

nginx runs ``deploy/nginx.conf`` as docs/deploy.md shows it, with only the lines marked
``#@ address``, ``#@ path`` and ``#@ tls`` rewritten for this machine (see
:func:`local_site_conf`), under a small main configuration of its own (pid, temporary
paths, logs) in the run directory (``instance/stack/`` by default, git-ignored).

The site runs with FLASK_ENV_NAME=production and FLASK_LOCAL_PLAIN_HTTP=true (plain http
on 127.0.0.1: cookies without Secure, no HSTS), a secret key generated at start, a
PostgreSQL database of its own (dropped and filled again: ``db upgrade``, ``seed``), the
page cache and the rate limits in two Redis servers of the stack's own, each with the
memory policy docs/deploy.md gives it (on ports of their own: the failover test restarts
them), and FLASK_TRUSTED_PROXIES=1. bench/edge.py,
bench/load.py --stack and tests/stack use :class:`Stack` directly, on free ports.
"""

import argparse
import base64
import contextlib
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SITE_CONF = ROOT / "deploy" / "nginx.conf"
DEFAULT_RUN_DIR = ROOT / "instance" / "stack"
# The PostgreSQL server, user and password of the stack and its benchmarks, and the
# stack's own database: STACK_DATABASE_URL, else this (no password: a server that trusts
# local connections; a fresh Debian PostgreSQL asks for one on 127.0.0.1).
DATABASE_URL_VARIABLE = "STACK_DATABASE_URL"
FALLBACK_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/betterbones_stack"
STAFF_EMAIL = "stack@betterbones.example"
NGINX = "/usr/sbin/nginx"
# What deploy/nginx.conf says on its marked lines, and what each becomes here.
PRODUCTION_UPSTREAM = re.compile(r"server \d+\.\d+\.\d+\.\d+:\d+")
PRODUCTION_SERVER_NAME = "betterbones.example"
PRODUCTION_CACHE_DIR = "/var/cache/nginx/betterbones"
PRODUCTION_CHECKOUT = "/srv/betterbones"
PRODUCTION_LOG_DIR = "/var/log/nginx"
MARK = re.compile(r"#@ (address|path|tls)\b")


class StackError(RuntimeError):
    """Something the stack needs is missing or did not start; the message says what."""


def stack_database_url(database=None):
    """The URL of STACK_DATABASE_URL (server, user, password and the stack's database),
    with ``database`` instead of its database when given: bench/edge.py and
    bench/load.py use databases of their own on the same server."""
    url = os.environ.get(DATABASE_URL_VARIABLE) or FALLBACK_DATABASE
    if database is None:
        return url
    import sqlalchemy as sa

    return sa.engine.make_url(url).set(database=database).render_as_string(hide_password=False)


def shown_url(url):
    """``url`` with its password, if any, as ***: for printing."""
    import sqlalchemy as sa

    return sa.engine.make_url(url).render_as_string(hide_password=True)


# --- the nginx configuration -------------------------------------------------------------


def local_site_conf(text, listen, app_addresses, cache_dir, checkout=ROOT):
    """deploy/nginx.conf for this machine: only the marked lines change.

    ``#@ tls``: the ``listen 443 ssl`` line becomes ``listen <listen>`` (plain http); the
    certificate lines and the port-80 redirect are left out. ``#@ address``: the upstream
    servers become ``app_addresses`` (the first line is the pattern for each), the
    server name 127.0.0.1. ``#@ path``: the cache directory, the checkout and the access
    log (beside the cache directory). Any
    production address or path left on an unmarked line is an error, so the file and
    its local copy cannot drift apart unnoticed.
    """
    out = []
    upstream_done = False
    for number, line in enumerate(text.splitlines(), 1):
        mark = None if line.lstrip().startswith("#") else MARK.search(line)
        if not mark:
            for value in (
                PRODUCTION_SERVER_NAME,
                PRODUCTION_CACHE_DIR,
                PRODUCTION_CHECKOUT,
                PRODUCTION_LOG_DIR,
            ):
                if value in line:
                    raise StackError(f"deploy/nginx.conf:{number}: {value} on an unmarked line")
            if PRODUCTION_UPSTREAM.search(line):
                raise StackError(f"deploy/nginx.conf:{number}: an address on an unmarked line")
            out.append(line)
            continue
        kind = mark.group(1)
        indent = line[: len(line) - len(line.lstrip())]
        if kind == "tls":
            if re.match(r"\s*listen\s+443\b", line):
                out.append(f"{indent}listen {listen};  # local: plain http, no TLS")
            else:
                out.append(f"{indent}# local, no TLS: {line.strip()}")
        elif kind == "address" and PRODUCTION_UPSTREAM.search(line):
            if not upstream_done:
                out.extend(
                    PRODUCTION_UPSTREAM.sub(f"server {address}", line) + "  # local"
                    for address in app_addresses
                )
                upstream_done = True
        elif kind == "address" and "server_name" in line:
            out.append(line.replace(PRODUCTION_SERVER_NAME, "127.0.0.1") + "  # local")
        elif kind == "path" and PRODUCTION_CACHE_DIR in line:
            out.append(line.replace(PRODUCTION_CACHE_DIR, str(cache_dir)) + "  # local")
        elif kind == "path" and PRODUCTION_CHECKOUT in line:
            out.append(line.replace(PRODUCTION_CHECKOUT, str(checkout)) + "  # local")
        elif kind == "path" and PRODUCTION_LOG_DIR in line:
            out.append(line.replace(PRODUCTION_LOG_DIR, str(Path(cache_dir).parent)) + "  # local")
        else:
            raise StackError(f"deploy/nginx.conf:{number}: no local rule for: {line.strip()}")
    if not upstream_done:
        raise StackError("deploy/nginx.conf: no upstream server line marked #@ address")
    return "\n".join(out) + "\n"


def main_conf(run_dir, site_conf_path, user=None, workers="auto"):
    """The main nginx.conf around the site: pid, temporary paths and logs in ``run_dir``."""
    temp = run_dir / "nginx-temp"
    lines = [
        "# Written by deploy/stack.py: the main configuration around deploy/nginx.conf.",
        f"user {user};" if user else "",
        f"worker_processes {workers};",
        f"pid {temp / 'nginx.pid'};",  # nginx's own; stack.py keeps nginx.pid
        f"error_log {run_dir / 'nginx-error.log'} warn;",
        "events { worker_connections 1024; }",
        "http {",
        "    include /etc/nginx/mime.types;",
        "    default_type application/octet-stream;",
        "    sendfile on;",
        "    tcp_nopush on;",
        "    keepalive_timeout 65;",
        "    server_tokens off;",
        f"    access_log {run_dir / 'nginx-access.log'} combined buffer=64k flush=1s;",
        f"    client_body_temp_path {temp / 'body'};",
        f"    proxy_temp_path {temp / 'proxy'};",
        f"    fastcgi_temp_path {temp / 'fastcgi'};",
        f"    uwsgi_temp_path {temp / 'uwsgi'};",
        f"    scgi_temp_path {temp / 'scgi'};",
        f"    include {site_conf_path};",
        "}",
    ]
    return "\n".join(line for line in lines if line) + "\n"


def nginx_user():
    """Run as root, nginx's workers would switch to ``nobody``, who may not read the
    checkout or write the run directory: they run as the checkout's owner instead."""
    if os.geteuid() != 0:
        return None
    return pwd.getpwuid(ROOT.stat().st_uid).pw_name


# --- processes ----------------------------------------------------------------------------


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url, headers=None, timeout=2):
    """Status of one GET (no redirects followed); raises OSError when nothing answers."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=timeout) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _alive(pid):
    """True while ``pid`` runs; a child of ours that has ended (a zombie) is reaped."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0]:
            return False
    except ChildProcessError:
        pass  # not our child (or already reaped): ask the kernel
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _redis_answers(port):
    import redis

    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1)
    try:
        return client.ping()
    finally:
        client.close()


def _cmdline(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


@dataclass
class Stack:
    """One local stack: its ports, database, secrets and run directory.

    Every process is started in a session of its own (its id is its process group), its
    pid and a piece of its command line written to ``<run_dir>/<name>.pid``; ``stop``
    signals only a group whose leader still has that command line.
    """

    run_dir: Path = DEFAULT_RUN_DIR
    nginx_port: int = 8080
    app_ports: list = field(default_factory=lambda: [8001, 8002])
    emulator_port: int = 8090
    cache_redis_port: int = 6390  # the page cache: allkeys-lru
    limits_redis_port: int = 6391  # the rate limits: noeviction
    database_url: str = field(default_factory=stack_database_url)
    workers: int = max(2, os.cpu_count() or 1)  # per instance
    trusted_proxies: int = 1
    edge_cache_seconds: int = 2
    secret_key: str = ""
    data_key: str = ""  # the Fernet key of health answers (made at start unless given)
    webhook_secret: str = ""
    stripe_key: str = ""  # the emulator's test key (made at start unless given)
    staff_password: str = ""
    python: str = sys.executable
    # What each gunicorn instance serves, and anything added to its command line (tests
    # serve a small WSGI app of their own this way; the site needs neither).
    app_target: str = "app:create_app()"
    gunicorn_args: list = field(default_factory=list)

    def __post_init__(self):
        self.run_dir = Path(self.run_dir).resolve()

    # -- addresses ---------------------------------------------------------------------

    @property
    def url(self):
        return f"http://127.0.0.1:{self.nginx_port}"

    @property
    def netloc(self):
        return f"127.0.0.1:{self.nginx_port}"

    def app_url(self, index):
        return f"http://127.0.0.1:{self.app_ports[index]}"

    @property
    def emulator_url(self):
        return f"http://127.0.0.1:{self.emulator_port}"

    @property
    def cache_redis_url(self):
        return f"redis://127.0.0.1:{self.cache_redis_port}/0"

    @property
    def limits_redis_url(self):
        return f"redis://127.0.0.1:{self.limits_redis_port}/0"

    @classmethod
    def free(cls, run_dir, database_url, **settings):
        """A stack on free local ports (tests and benchmarks)."""
        return cls(
            run_dir=run_dir,
            nginx_port=free_port(),
            app_ports=[free_port(), free_port()],
            emulator_port=free_port(),
            cache_redis_port=free_port(),
            limits_redis_port=free_port(),
            database_url=database_url,
            **settings,
        )

    @classmethod
    def load(cls, run_dir=DEFAULT_RUN_DIR):
        """The stack started in ``run_dir`` (its settings are kept in stack.json)."""
        data = json.loads((Path(run_dir) / "stack.json").read_text())
        return cls(**data)

    def save(self):
        data = {**asdict(self), "run_dir": str(self.run_dir)}
        path = self.run_dir / "stack.json"
        path.write_text(json.dumps(data, indent=2))
        path.chmod(0o600)  # it holds the secret key

    # -- the site's settings ----------------------------------------------------------

    def site_env(self, **extra):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "GUNICORN_"))}
        env.update(
            FLASK_ENV_NAME="production",
            FLASK_LOCAL_PLAIN_HTTP="true",
            FLASK_SECRET_KEY=self.secret_key,
            FLASK_DATA_KEY=self.data_key,
            FLASK_SQLALCHEMY_DATABASE_URI=self.database_url,
            FLASK_SITE_URL=self.url,
            FLASK_TRUSTED_PROXIES=str(self.trusted_proxies),
            FLASK_EDGE_CACHE_SECONDS=str(self.edge_cache_seconds),
            # Two Redis servers, as docs/deploy.md asks: a cache that fills its memory
            # must never stop the limiter's writes.
            FLASK_RATELIMIT_STORAGE_URI=self.limits_redis_url,
            FLASK_CACHE_REDIS_URL=self.cache_redis_url,
            FLASK_STRIPE_SECRET_KEY=self.stripe_key,
            FLASK_STRIPE_WEBHOOK_SECRET=self.webhook_secret,
            FLASK_STRIPE_API_BASE=self.emulator_url,
            FLASK_STRIPE_CHECKOUT_ORIGIN=self.emulator_url,
        )
        env.update(extra)
        return env

    # -- starting and stopping one process -----------------------------------------------

    def _pid_path(self, name):
        return self.run_dir / f"{name}.pid"

    def _spawn(self, name, command, signature, env=None):
        log = open(self.run_dir / f"{name}.log", "ab")  # noqa: SIM115 (the child keeps it)
        try:
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env or dict(os.environ),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stop() signals them all
            )
        finally:
            log.close()
        self._pid_path(name).write_text(f"{process.pid}\n{signature}\n")
        return process

    def _running(self, name):
        """The process group id of ``name`` when it is still the process we started."""
        try:
            pid_text, signature = self._pid_path(name).read_text().splitlines()[:2]
        except (OSError, ValueError):
            return None
        pid = int(pid_text)
        return pid if _alive(pid) and signature in _cmdline(pid) else None

    def _signal(self, name, sig, wait=10.0):
        """Send ``sig`` to the process group of ``name``; wait until its leader is gone."""
        pid = self._running(name)
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, sig)
            deadline = time.monotonic() + wait
            while _alive(pid) and time.monotonic() < deadline:
                try:  # our own child: reap it, or it lingers as a zombie
                    if os.waitpid(pid, os.WNOHANG)[0]:
                        break
                except ChildProcessError:
                    pass
                time.sleep(0.05)
            if _alive(pid) and sig != signal.SIGKILL:
                os.killpg(pid, signal.SIGKILL)
        self._pid_path(name).unlink(missing_ok=True)

    # -- the parts ---------------------------------------------------------------------

    # name: (port attribute, maxmemory, maxmemory-policy), as docs/deploy.md sets them.
    REDIS = {
        "redis-cache": ("cache_redis_port", "128mb", "allkeys-lru"),
        "redis-limits": ("limits_redis_port", "32mb", "noeviction"),
    }

    def start_redis(self):
        """The two Redis servers: the page cache's and the rate limiter's. Neither keeps
        anything on disk (an empty cache costs renders; the counters start again)."""
        for name, (port_attribute, maxmemory, policy) in self.REDIS.items():
            port = getattr(self, port_attribute)
            self._spawn(
                name,
                [
                    shutil.which("redis-server") or "redis-server",
                    "--bind",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--maxmemory",
                    maxmemory,
                    "--maxmemory-policy",
                    policy,
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(self.run_dir),
                ],
                signature=f":{port}",
            )
        for name, (port_attribute, _, _) in self.REDIS.items():
            port = getattr(self, port_attribute)
            self._wait(f"Redis ({name})", lambda port=port: _redis_answers(port), name=name)

    def stop_redis(self):
        for name in self.REDIS:
            self._signal(name, signal.SIGTERM)

    def restart_redis(self):
        """Stop both Redis servers and start them again, empty."""
        self.stop_redis()
        self.start_redis()

    def start_emulator(self, wait=True):
        # It refuses production settings: it is not the site.
        env = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_")}
        self._spawn(
            "emulator",
            [
                self.python,
                "-m",
                "stripe_emulator",
                "--port",
                str(self.emulator_port),
                # Through nginx, as Stripe reaches the site.
                "--webhook-url",
                f"{self.url}/stripe/webhook",
                "--webhook-secret",
                self.webhook_secret,
                "--api-key",
                self.stripe_key,
                "--async-webhooks",
            ],
            signature=f"--port {self.emulator_port}",
            env=env,
        )
        if wait:
            self.wait_for_emulator()

    def wait_for_emulator(self):
        self._wait(
            "the Stripe emulator", lambda: _get(self.emulator_url + "/") < 500, name="emulator"
        )

    def start_app(self, index, wait=True):
        """gunicorn instance ``index`` (0 or 1) with gunicorn.conf.py and the site's
        production settings."""
        bind = f"127.0.0.1:{self.app_ports[index]}"
        self._spawn(
            f"app-{index}",
            [
                self.python,
                "-m",
                "gunicorn",
                "--config",
                str(ROOT / "gunicorn.conf.py"),
                "--bind",
                bind,
                "--workers",
                str(self.workers),
                *self.gunicorn_args,
                self.app_target,
            ],
            signature=bind,
            env=self.site_env(),
        )
        if wait:
            self.wait_for_app(index)

    def wait_for_app(self, index, timeout=60):
        # As nginx asks: the site answers only for the address in FLASK_SITE_URL.
        headers = {"Host": self.netloc}
        self._wait(
            f"app instance {index}",
            lambda: _get(self.app_url(index) + "/healthz", headers) == 200,
            timeout=timeout,
            name=f"app-{index}",
        )

    def kill_app(self, index):
        """SIGKILL instance ``index``, master and workers at once (a machine that dies)."""
        self._signal(f"app-{index}", signal.SIGKILL)

    def start_nginx(self):
        nginx = shutil.which("nginx") or NGINX
        cache_dir = self.run_dir / "edge-cache"
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.run_dir / "nginx-temp" / sub).mkdir(parents=True, exist_ok=True)
        cache_dir.mkdir(parents=True, exist_ok=True)
        site = local_site_conf(
            SITE_CONF.read_text(),
            listen=self.netloc,
            app_addresses=[f"127.0.0.1:{port}" for port in self.app_ports],
            cache_dir=cache_dir,
        )
        site_path = self.run_dir / "site.conf"
        site_path.write_text(site)
        conf = self.run_dir / "nginx.conf"
        conf.write_text(main_conf(self.run_dir, site_path, user=nginx_user()))
        command = [nginx, "-p", str(self.run_dir), "-c", str(conf), "-e", "stderr"]
        checked = subprocess.run([*command, "-t"], capture_output=True, text=True)
        if checked.returncode != 0:
            raise StackError(f"nginx refused the configuration:\n{checked.stderr}")
        self._spawn("nginx", [*command, "-g", "daemon off;"], signature=str(conf))
        self._wait("nginx", lambda: _get(self.url + "/healthz") == 200, name="nginx")

    def stop_nginx(self):
        self._signal("nginx", signal.SIGQUIT)

    def _exited(self, name):
        """True once the process started as ``name`` has ended (reaped if it is ours)."""
        try:
            pid = int(self._pid_path(name).read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return True
        try:
            if os.waitpid(pid, os.WNOHANG)[0]:
                return True
        except ChildProcessError:
            pass  # started by another process (scripts/run-stack): just look
        return not _alive(pid)

    def _wait(self, what, answers, timeout=60, name=None):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if name and self._exited(name):
                raise StackError(f"{what} exited; see {self.run_dir / (name + '.log')}")
            try:
                if answers():
                    return
            except Exception as error:  # noqa: BLE001 (not up yet: any failure means wait)
                last = error
            time.sleep(0.2)
        raise StackError(f"{what} did not answer within {timeout} s ({last})")

    # -- the database ------------------------------------------------------------------

    def create_database(self):
        """Drop the stack's database and create it, empty."""
        import sqlalchemy as sa

        target = sa.engine.make_url(self.database_url)
        admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
        admin.dispose()

    def fill_database(self):
        """``db upgrade``, ``seed``, and a staff account with a generated password."""
        env = self.site_env()
        flask = [self.python, "-m", "flask", "--app", "app"]
        for step in (["db", "upgrade"], ["seed"]):
            subprocess.run(
                [*flask, *step], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL
            )
        subprocess.run(
            [*flask, "users", "create-staff", STAFF_EMAIL, "--password-stdin"],
            cwd=ROOT,
            env=env,
            input=self.staff_password + "\n",
            text=True,
            check=True,
            stdout=subprocess.DEVNULL,
        )

    # -- the whole stack ---------------------------------------------------------------

    def start(self, fill=True):
        """Start everything, in the order each part needs the others; stops what did start
        when a part fails."""
        if not Path(shutil.which("nginx") or NGINX).exists():
            raise StackError("nginx is not installed: WITH_STACK=1 scripts/setup")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        if any(self._running(name) for name in self.names()):
            raise StackError(f"a stack is already running from {self.run_dir}: stop it first")
        self.secret_key = self.secret_key or secrets.token_urlsafe(48)
        self.data_key = self.data_key or base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
        self.webhook_secret = self.webhook_secret or "whsec_" + secrets.token_hex(24)
        # The emulator answers only the key it was started with, as Stripe does.
        self.stripe_key = self.stripe_key or "sk_test_" + secrets.token_hex(12)
        self.staff_password = self.staff_password or secrets.token_urlsafe(12)
        self.save()
        try:
            self.start_redis()
            if fill:
                self.create_database()
            # The instances and the emulator start while the database is filled (nothing
            # asks them anything before nginx starts, last).
            for index in range(len(self.app_ports)):
                self.start_app(index, wait=False)
            self.start_emulator(wait=False)
            if fill:
                self.fill_database()
            self.wait_for_emulator()
            for index in range(len(self.app_ports)):
                self.wait_for_app(index)
            self.start_nginx()
        except BaseException:
            self.stop()
            raise
        return self

    def names(self):
        apps = [f"app-{i}" for i in range(len(self.app_ports))]
        return ["nginx", *apps, "emulator", *self.REDIS]

    def stop(self):
        """Stop every process this stack started (the rest of the machine is left alone)."""
        self.stop_nginx()
        for index in range(len(self.app_ports)):
            self._signal(f"app-{index}", signal.SIGTERM, wait=20)
        self._signal("emulator", signal.SIGTERM)
        self.stop_redis()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def describe(self):
        apps = ", ".join(self.app_url(i) for i in range(len(self.app_ports)))
        return "\n".join(
            [
                f"Better Bones (production settings, plain http): {self.url}/",
                f"  staff sign-in:  {self.url}/admin/login  {STAFF_EMAIL} / {self.staff_password}",
                f"  app instances:  {apps} (gunicorn, {self.workers} workers each)",
                f"  Stripe emulator (test payments only): {self.emulator_url}/",
                f"  Redis:          {self.cache_redis_url} (page cache, allkeys-lru),",
                f"                  {self.limits_redis_url} (rate limits, noeviction)",
                f"  PostgreSQL:     {shown_url(self.database_url)}",
                f"  logs and pids:  {self.run_dir}/",
                "Stop it with: scripts/run-stack stop",
            ]
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("start", "stop", "status"))
    parser.add_argument("--run-dir", type=Path, default=DEFAULT_RUN_DIR)
    parser.add_argument("--port", type=int, default=8080, help="nginx")
    parser.add_argument("--app-ports", default="8001,8002", help="the gunicorn instances")
    parser.add_argument("--emulator-port", type=int, default=8090)
    parser.add_argument("--cache-redis-port", type=int, default=6390, help="the page cache")
    parser.add_argument("--limits-redis-port", type=int, default=6391, help="the rate limits")
    parser.add_argument(
        "--database-url",
        default=stack_database_url(),
        help=f"PostgreSQL (default: ${DATABASE_URL_VARIABLE}, else {FALLBACK_DATABASE})",
    )
    parser.add_argument("--workers", type=int, default=Stack.workers, help="per instance")
    args = parser.parse_args(argv)
    if args.action in ("stop", "status"):
        if not (args.run_dir / "stack.json").exists():
            print(f"No stack was started from {args.run_dir}.")
            return 0
        stack = Stack.load(args.run_dir)
        if args.action == "status":
            for name in stack.names():
                print(f"{name:<13} {'running' if stack._running(name) else 'stopped'}")
            return 0
        stack.stop()
        print(f"Stopped the stack started from {args.run_dir}.")
        return 0
    stack = Stack(
        run_dir=args.run_dir,
        nginx_port=args.port,
        app_ports=[int(p) for p in args.app_ports.split(",")],
        emulator_port=args.emulator_port,
        cache_redis_port=args.cache_redis_port,
        limits_redis_port=args.limits_redis_port,
        database_url=args.database_url,
        workers=args.workers,
    )
    try:
        stack.start()
    except (StackError, subprocess.CalledProcessError) as error:
        print(f"The stack did not start: {error}", file=sys.stderr)
        return 1
    print(stack.describe())
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
