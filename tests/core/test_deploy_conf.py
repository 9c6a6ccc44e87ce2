"""deploy/nginx.conf is what docs/deploy.md shows, and scripts/run-stack's local copy of
it differs only on the lines marked as addresses, paths and TLS."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from deploy.stack import MARK, SITE_CONF, StackError, local_site_conf, main_conf

ROOT = Path(__file__).resolve().parents[2]
APPS = ["127.0.0.1:18001", "127.0.0.1:18002"]


def _local(tmp_path, text=None):
    return local_site_conf(
        text or SITE_CONF.read_text(),
        listen="127.0.0.1:18080",
        app_addresses=APPS,
        cache_dir=tmp_path / "edge-cache",
    )


def test_the_deploy_guide_shows_deploy_nginx_conf_as_it_is():
    guide = (ROOT / "docs" / "deploy.md").read_text()
    shown = re.search(r"```nginx\n(.*?)```", guide, re.S).group(1)
    assert shown == SITE_CONF.read_text()


def test_the_local_copy_changes_only_the_marked_lines(tmp_path):
    production = SITE_CONF.read_text().splitlines()
    local = _local(tmp_path).splitlines()
    unmarked = [
        line for line in production if line.lstrip().startswith("#") or not MARK.search(line)
    ]
    for line in unmarked:
        assert line in local
    assert len(local) == len(unmarked) + sum(
        1 for line in production if MARK.search(line) and not line.lstrip().startswith("#")
    )
    text = "\n".join(local)
    assert "listen 127.0.0.1:18080;" in text
    assert all(f"server {app} max_fails=1 fail_timeout=5s;" in text for app in APPS)
    active = [line for line in local if not line.lstrip().startswith("#")]
    assert not any("ssl" in line or "betterbones.example" in line for line in active)
    assert not any("/srv/betterbones" in line or "/var/cache" in line for line in active)
    assert f"root {ROOT};" in text


def test_an_address_on_an_unmarked_line_is_refused(tmp_path):
    text = SITE_CONF.read_text() + "upstream other { server 10.0.0.99:8000; }\n"
    with pytest.raises(StackError, match="unmarked line"):
        _local(tmp_path, text)


@pytest.mark.skipif(
    not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()), reason="needs nginx"
)
def test_nginx_accepts_the_local_copy(tmp_path):
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp_path / "nginx-temp" / sub).mkdir(parents=True)
    site = tmp_path / "site.conf"
    site.write_text(_local(tmp_path))
    conf = tmp_path / "nginx.conf"
    conf.write_text(main_conf(tmp_path, site))
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    checked = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(conf), "-e", "stderr"],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr


def test_the_stack_and_its_benchmarks_take_their_database_from_stack_database_url(monkeypatch):
    # A fresh Debian PostgreSQL asks for a password on 127.0.0.1: one variable says it
    # for the stack (scripts/run-stack, deploy/stack.py), bench/edge.py and load.py.
    from deploy import stack

    server = "postgresql+psycopg://bones:s3cret@db.internal:5433"
    monkeypatch.setenv("STACK_DATABASE_URL", f"{server}/my_stack")
    assert stack.Stack().database_url == f"{server}/my_stack"
    assert stack.stack_database_url("bench_edge") == f"{server}/bench_edge"
    assert "s3cret" not in stack.Stack().describe()
    for script in ("scripts/run-stack", "deploy/stack.py", "bench/edge.py", "bench/load.py"):
        text = (ROOT / script).read_text()
        assert "postgres@127.0.0.1" not in text.replace(stack.FALLBACK_DATABASE, ""), script
    monkeypatch.delenv("STACK_DATABASE_URL")
    assert stack.Stack().database_url == stack.FALLBACK_DATABASE
    assert stack.stack_database_url("bench_load").endswith("@127.0.0.1:5432/bench_load")
