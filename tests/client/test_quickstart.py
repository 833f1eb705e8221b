"""The client quickstart in the docs runs Genlook's recommended flow against the sandbox."""

import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "examples" / "client_quickstart.py"
PERSON = Path(__file__).resolve().parents[1] / "media" / "person-astronaut.png"


def test_client_quickstart_script(genlook_sandbox, tmp_path, garment_bytes):
    genlook_sandbox.state.configure(generation_seconds=0.5, sync_wait_seconds=10)
    garment = tmp_path / "tee.png"
    garment.write_bytes(garment_bytes)
    out = tmp_path / "result.png"

    run = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--base-url",
            genlook_sandbox.base_url,
            "--api-key",
            genlook_sandbox.api_key,
            "--person",
            str(PERSON),
            "--garment",
            str(garment),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert run.returncode == 0, run.stderr
    assert "sending it inline" in run.stdout  # reference first, then inline on the miss
    assert "COMPLETED" in run.stdout
    assert re.search(r"spent 1\)", run.stdout)  # exactly one credit
    assert out.read_bytes()[:3] in (b"\x89PN", b"\xff\xd8\xff")  # a PNG or a JPEG
    statuses = {(e.method, e.path): e.status for e in genlook_sandbox.state.requests}
    assert statuses[("DELETE", "/customers/quickstart-shopper")] == 204
