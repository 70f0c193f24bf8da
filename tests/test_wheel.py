"""The package as an operator gets it: the Dockerfile's build commands make a wheel and
install it, with the pinned dependencies, in a fresh virtual environment outside the
checkout; `atelier serve` then runs from another directory and serves a workshop."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from .support import ROOT, Client, free_port, wait_until

#: What the Dockerfile copies into its build stage (and .dockerignore lets through).
SOURCES = ("pyproject.toml", "README.md", "server", "web", "deploy/constraints.txt")


def build_commands() -> str:
    """The build stage's RUN command, as written in deploy/Dockerfile."""
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    runs = re.findall(r"^RUN (.+?)(?<!\\)\n", dockerfile.replace("\\\n", "\\\n"), re.M | re.S)
    [build] = [r for r in runs if '-m venv "$VENV"' in r]
    return build.replace("\\\n", " ")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv made by the Dockerfile's commands from a copy of the sources."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "src"
    for name in SOURCES:
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, target)
    bin_dir = work / "bin"  # `python` as the image has it: this machine's interpreter
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(getattr(sys, "_base_executable", sys.executable))
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env.update(PATH=f"{bin_dir}:{env['PATH']}", VENV=str(work / "venv"),
               WHEELS=str(work / "wheels"), PIP_DISABLE_PIP_VERSION_CHECK="1")  # fmt: skip
    command = ["bash", "-euo", "pipefail", "-c", build_commands()]
    done = subprocess.run(command, cwd=source, env=env, capture_output=True, text=True,
                          timeout=600, check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(list((work / "wheels").glob("atelier-*.whl"))) == 1
    return work / "venv"


def test_the_installed_package_is_atelier_with_its_web_client(installed: Path) -> None:
    """`import atelier` finds the installed copy (not this checkout), web client included,
    and the pinned versions are the ones installed."""
    probe = ("import atelier, atelier.web_files as w; "
             "print(atelier.__file__); print(w.web_dir())")  # fmt: skip
    found = subprocess.run([installed / "bin" / "python", "-c", probe], cwd="/", check=True,
                           capture_output=True, text=True).stdout.split()  # fmt: skip
    assert all(str(installed) in line and str(ROOT) not in line for line in found), found
    assert (Path(found[1]) / "index.html").is_file() and (Path(found[1]) / "i18n.js").is_file()
    frozen = subprocess.run([installed / "bin" / "pip", "freeze"], check=True,
                            capture_output=True, text=True).stdout.lower()  # fmt: skip
    pins = (ROOT / "deploy" / "constraints.txt").read_text().lower().splitlines()
    for pin in pins:
        if pin and not pin.startswith(("#", "setuptools")):
            assert pin in frozen.splitlines(), pin


async def test_the_installed_server_serves_a_workshop_from_elsewhere(
    installed: Path, tmp_path: Path
) -> None:
    """From another directory: the page, a new workshop, a join, an op acked, exports."""
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [installed / "bin" / "atelier", "serve", "--port", str(port), "--data", "data"],
        cwd=tmp_path, stdout=log, stderr=log,
        env={k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")},
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:

        def ready() -> bool:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                return httpx.get(f"{base}/readyz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(ready, 30, "the installed server")
        page = httpx.get(f"{base}/")
        assert page.status_code == 200 and "<html" in page.text.lower()
        assert httpx.get(f"{base}/style.css").status_code == 200
        made = httpx.post(f"{base}/api/workshops", json={"title": "Roue"}).json()
        secret = made["links"]["facilitator"].split("#k=")[1]
        client = Client(f"ws://127.0.0.1:{port}", made["id"], secret, name="Anim")
        await client.connect()
        try:
            ack = await client.op({"kind": "note.add", "id": "n1", "text": "Constat"})
            assert ack["type"] == "ack"
        finally:
            await client.close()
        auth = {"authorization": f"Bearer {secret}"}
        exported = httpx.get(f"{base}/api/workshops/{made['id']}/export.json", headers=auth)
        assert exported.status_code == 200 and "Constat" in exported.text
        odt = httpx.get(f"{base}/api/workshops/{made['id']}/export.odt", headers=auth)
        assert odt.status_code == 200 and odt.content[:2] == b"PK"
        assert (tmp_path / "data").is_dir()  # data where the operator said, not in the venv
    finally:
        proc.terminate()
        proc.wait(15)
        log.close()
