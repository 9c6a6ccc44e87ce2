"""Access logs never show the token of a link of ours (deploy/access_log.py, used by
gunicorn.conf.py; deploy/nginx.conf hides the same paths)."""

import re
import runpy
import socket
import subprocess
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from gunicorn.config import Config
from werkzeug.routing.converters import NumberConverter

from deploy.access_log import TOKEN_PATH, TokenHidingLogger, hide_tokens
from deploy.stack import SITE_CONF, local_site_conf, main_conf, nginx_user

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "Zm9yZ2VkLXNpZ24taW4.aB3-xY_9"


def _sample_value(converter):
    return 7 if isinstance(converter, NumberConverter) else "walking"


def _token_addresses(app):
    """One address for every rule of the app that takes a ``token``."""
    addresses = []
    adapter = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        if "token" not in rule.arguments:
            continue
        values = {
            name: TOKEN if name == "token" else _sample_value(rule._converters[name])
            for name in rule.arguments
        }
        addresses.append(adapter.build(rule.endpoint, values, method=next(iter(rule.methods))))
    return addresses


def test_every_link_with_a_token_is_logged_without_it(app):
    addresses = _token_addresses(app)
    assert len(addresses) >= 15  # sign-in, orders, programs, bookings, newsletter, ...
    for address in addresses:
        hidden = hide_tokens(f"GET {address}?next=/x HTTP/1.1")
        assert TOKEN not in hidden, address
        assert "[hidden]" in hidden


def test_other_addresses_are_logged_as_they_are():
    line = "GET /blog/how-to-increase-spinal-bone-density-with-exercise?page=2 HTTP/1.1"
    assert hide_tokens(line) == line
    assert hide_tokens("/account/sign-in") == "/account/sign-in"


def test_gunicorns_access_line_hides_the_token_in_path_and_referer():
    logger = TokenHidingLogger(Config())
    path = f"/account/sign-in/link/{TOKEN}"
    environ = {
        "REQUEST_METHOD": "POST",
        "RAW_URI": path,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_REFERER": f"https://betterbones.example{path}",
        "HTTP_USER_AGENT": "test",
    }
    request = SimpleNamespace(headers=[("REFERER", environ["HTTP_REFERER"])])
    response = SimpleNamespace(status="303 SEE OTHER", sent=0, headers=[])
    atoms = logger.atoms(response, request, environ, timedelta(milliseconds=3))
    line = Config().access_log_format % atoms
    assert TOKEN not in line and TOKEN not in repr(atoms)
    assert '"POST /account/sign-in/link/[hidden] HTTP/1.1" 303' in line


def test_gunicorn_conf_uses_the_token_hiding_logger():
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert settings["logger_class"] == "deploy.access_log.TokenHidingLogger"


def test_nginx_hides_the_same_link_paths():
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    in_python = {prefix.strip("/") for prefix in re.findall(r"/[\w/-]+/", TOKEN_PATH.pattern)}
    for name in ("bb_link", "bb_ref_link"):
        (listed,) = re.findall(rf"\(\?<{name}>[^(]*\((.*?)\)/\)", conf)
        assert set(listed.split("|")) == in_python


@pytest.mark.skipif(not Path("/usr/sbin/nginx").exists(), reason="needs nginx")
def test_nginx_logs_a_sign_in_link_and_its_referer_without_the_token(tmp_path):
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp_path / "nginx-temp" / sub).mkdir(parents=True)
    with socket.socket() as probe:  # a free port for nginx, and one nobody answers on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    site = tmp_path / "site.conf"
    site.write_text(
        local_site_conf(
            SITE_CONF.read_text(),
            listen=f"127.0.0.1:{port}",
            app_addresses=["127.0.0.1:9"],
            cache_dir=tmp_path / "edge-cache",
        )
    )
    conf = tmp_path / "nginx.conf"
    conf.write_text(main_conf(tmp_path, site, user=nginx_user()))
    nginx = ["/usr/sbin/nginx", "-p", str(tmp_path), "-c", str(conf), "-e", "stderr"]
    subprocess.run(nginx, check=True)
    try:
        path = f"/account/sign-in/link/{TOKEN}"
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}{path}",
            headers={"Referer": f"http://127.0.0.1:{port}/newsletter/confirm/{TOKEN}?x=1"},
        )
        with pytest.raises(urllib.error.HTTPError):  # no app behind it: 502
            urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request)
    finally:
        subprocess.run([*nginx, "-s", "quit"], check=True)
        for _ in range(50):  # the log's buffer is written when nginx stops
            if not (tmp_path / "nginx-temp" / "nginx.pid").exists():
                break
            time.sleep(0.1)
    (line,) = (tmp_path / "betterbones.log").read_text().splitlines()
    assert TOKEN not in line
    assert '"GET /account/sign-in/link/[hidden] HTTP/1.1" 502' in line
    assert f'"http://127.0.0.1:{port}/newsletter/confirm/[hidden]?x=1"' in line
