"""SandboxServer (keep-alive, concurrency), mounting under a prefix, the standalone command."""

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import requests

from genlook_django.sandbox.state import SandboxState, get_state
from genlook_django.sandbox.testing import SandboxServer, free_port
from tests.sandbox.helpers import Api, eventually, inline_product, person

REPO = Path(__file__).resolve().parents[2]


def test_base_url_and_keys():
    with SandboxServer(api_keys={"gk_x": 50, "gk_y": 2}, state=SandboxState()) as server:
        assert server.base_url == f"http://127.0.0.1:{server.port}/tryon/v1"
        assert server.api_key == "gk_x"
        response = requests.get(server.base_url + "/account/credits", headers=server.headers)
        assert response.json() == {"creditBalance": 50}
        server.state.reset()  # constructor keys survive a reset
        assert server.state.get_credits("gk_y") == 2


def test_the_plugin_server_serves_the_process_state(sandbox):
    assert sandbox.state is get_state()
    assert sandbox.api_key == "gk_test_default"


def test_keep_alive_reuses_the_connection(sandbox):
    connection = http.client.HTTPConnection("127.0.0.1", sandbox.port, timeout=5)
    headers = {"x-api-key": sandbox.api_key}
    connection.request("GET", "/tryon/v1/account/credits", headers=headers)
    first = connection.getresponse()
    first.read()
    socket = connection.sock
    # An error answer to a POST whose body the server never read must not break the stream.
    connection.request("POST", "/tryon/v1/try-on", body=b'{"x": "' + b"y" * 50_000 + b'"}')
    assert connection.getresponse().read() and connection.sock is socket
    connection.request("GET", "/tryon/v1/account/credits", headers=headers)
    second = connection.getresponse()
    assert json.loads(second.read()) == {"creditBalance": 100}
    assert connection.sock is socket
    assert not first.will_close and not second.will_close
    connection.close()


def test_many_concurrent_clients(sandbox, api, photo_id, garment_url):
    sandbox.state.configure(rate_limit=1000)
    body = {"products": [inline_product("shirt-1", garment_url)], "person": person(photo_id)}
    api.try_on(body)

    def client_session(index):
        client = Api(api.base_url, api.api_key)
        with client.session:
            codes = [client.get("/account/credits").status_code for _ in range(5)]
            codes.append(client.try_on(body).status_code)
            return codes

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=30) as pool:
        results = list(pool.map(client_session, range(30)))
    assert all(code == 200 for codes in results for code in codes)
    assert sandbox.state.generations_created() == 31
    assert time.monotonic() - started < 10


def test_mounted_under_a_prefix_in_the_host_project(sandbox, client, person_photo):
    """tests/urls.py mounts the sandbox at /sandbox/tryon/v1/ beside the shop."""
    headers = {"x-api-key": sandbox.api_key}
    response = client.get("/sandbox/tryon/v1/account/credits", headers=headers)
    assert response.status_code == 200
    assert response.json() == {"creditBalance": 100}

    uploaded = client.post(
        "/sandbox/tryon/v1/images/upload",
        {"file": _named(person_photo)},
        headers=headers,
    ).json()
    assert uploaded["imageUrl"].startswith("http://testserver/sandbox/tryon/v1/_files/")
    assert client.get(uploaded["imageUrl"].removeprefix("http://testserver")).status_code == 200
    assert sandbox.state.count(path="/images/upload") == 1

    # The test client's host is resolved in-process: no socket, no DNS.
    body = {
        "products": [{"title": "T", "images": [{"source": {"url": uploaded["imageUrl"]}}]}],
        "person": {"image": {"source": {"url": uploaded["imageUrl"]}}},
    }
    created = client.post(
        "/sandbox/tryon/v1/try-on", body, content_type="application/json", headers=headers
    )
    assert created.status_code == 200, created.content
    missing = client.get("/sandbox/tryon/v1/nowhere", headers=headers)
    assert missing.status_code == 404
    assert missing.json()["code"] == "NOT_FOUND"


def test_the_classic_dialect_is_mounted_at_the_sandbox_root(sandbox, client, person_photo):
    """tests/urls.py mounts the classic API at /sandbox/: its base URL, as the example shop."""
    uploaded = client.post(
        "/sandbox/tryon/v1/images/upload",
        {"file": _named(person_photo)},
        headers={"x-api-key": sandbox.api_key},
    ).json()["imageUrl"]
    headers = {"Authorization": f"Bearer {sandbox.api_key}"}
    body = {"model_image": uploaded, "garment_image": uploaded, "category": "tops"}

    created = client.post(
        "/sandbox/v1/try-on", body, content_type="application/json", headers=headers
    )

    assert created.status_code == 201, created.content
    status_path = f"/sandbox/v1/try-on/{created.json()['id']}"

    def completed():
        return client.get(status_path, headers=headers).json()["status"] == "completed"

    assert eventually(completed)
    done = client.get(status_path, headers=headers).json()
    assert done["result_image"].startswith("http://testserver/sandbox/_files/")
    assert client.get(done["result_image"].removeprefix("http://testserver")).status_code == 200
    assert client.get("/sandbox/v1/nowhere", headers=headers).json()["error"]["code"] == (
        "NOT_FOUND"
    )
    assert client.get("/sandbox/tryon/v1/account/credits").json()["code"] == "MISSING_API_KEY"


def _named(content):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("me.png", content, content_type="image/png")


@contextmanager
def _serving(command, env):
    """A sandbox process, stopped with Ctrl-C (it must then exit cleanly)."""
    process = subprocess.Popen(
        command,
        cwd=REPO,
        env={**env, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # An xdist worker ignores SIGINT, and so would its child: give it Ctrl-C back.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        yield process
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()
    assert process.returncode == 0


def test_python_dash_m_serves_both_dialects_without_a_project():
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    command = [sys.executable, "-m", "genlook_django.sandbox", "--port", str(port),
               "--key", "gk_bare", "--credits", "3"]  # fmt: skip
    with _serving(command, env) as process:
        banner = process.stdout.readline() + process.stdout.readline()
        assert f"http://127.0.0.1:{port}/tryon/v1" in banner, banner + process.stderr.read()
        assert f"Classic API serving http://127.0.0.1:{port} " in banner, banner
        unknown = requests.get(
            f"http://127.0.0.1:{port}/v1/try-on/nope", headers={"Authorization": "Bearer gk_bare"}
        )
        assert unknown.json()["error"]["code"] == "GENERATION_NOT_FOUND"
        credits = requests.get(
            f"http://127.0.0.1:{port}/tryon/v1/account/credits", headers={"x-api-key": "gk_bare"}
        )
        assert credits.json() == {"creditBalance": 3}


def test_the_management_command_serves_the_sandbox():
    port = free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.sandbox.standalone_settings"}
    command = [
        sys.executable, "-m", "django", "genlook_sandbox", "--port", str(port),
        "--key", "gk_cmd", "--credits", "5", "--generation-seconds", "0.2",
        "--control-token", "cmd-control-token-0123456789",
    ]  # fmt: skip
    with _serving(command, env) as process:
        banner = process.stdout.readline()
        assert f"http://127.0.0.1:{port}/tryon/v1" in banner, banner + process.stderr.read()
        classic = process.stdout.readline()
        assert f"Classic API serving http://127.0.0.1:{port} " in classic, classic
        assert "strict" in process.stdout.readline()  # like Genlook, unless --beside-shop
        base_url = f"http://127.0.0.1:{port}/tryon/v1"
        response = requests.get(base_url + "/account/credits", headers={"x-api-key": "gk_cmd"})
        assert response.json() == {"creditBalance": 5}
        unknown = requests.get(
            f"http://127.0.0.1:{port}/v1/try-on/nope", headers={"Authorization": "Bearer gk_cmd"}
        )
        assert unknown.status_code == 404
        assert unknown.json()["error"]["code"] == "GENERATION_NOT_FOUND"
        banner = "".join(process.stdout.readline() for _ in range(3))
        assert "control token: cmd-control-token-0123456789" in banner, banner
        assert (
            "curl -H 'x-sandbox-control-token: cmd-control-token-0123456789' "
            f"-H 'x-api-key: gk_cmd' {base_url}/_sandbox/stats"
        ) in banner, banner
        stats = requests.get(base_url + "/_sandbox/stats", headers={"x-api-key": "gk_cmd"})
        assert stats.status_code == 401  # the API key is no control credential
        control = {"x-api-key": "gk_cmd", "x-sandbox-control-token": "cmd-control-token-0123456789"}
        stats = requests.get(base_url + "/_sandbox/stats", headers=control)
        assert stats.json()["config"]["generation_seconds"] == 0.2
