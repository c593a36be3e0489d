"""Real-browser fixtures: a Voila server on a temp notebook, Debian's Chromium via Playwright.

Follows ../shared/browser-testing.md: ``/usr/bin/chromium`` driven by the plain
``playwright`` package (never ``playwright install``), servers in their own process
group with temp ``JUPYTER_*`` folders, stopped on teardown and on SIGTERM.

Without Chromium or Playwright the tests skip, except under ``CI=true`` where they fail:
CI must never pass by silently not running them (``scripts/check`` installs both).
"""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts" / "browser"
SERVER_START_TIMEOUT = 30.0
LOCAL_ONLY = re.compile(r"^https?://(?!127\.0\.0\.1[:/]|localhost[:/])")


def _missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not os.access(CHROMIUM, os.X_OK):
        return (
            f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium; "
            "scripts/check does it when run as root)"
        )
    for module in ("playwright", "voila"):
        if importlib.util.find_spec(module) is None:
            return f"the Python package {module!r} is missing: pip install -e '.[dev]'"
    return None


@pytest.fixture(scope="session")
def browser_ready() -> None:
    """Skip (outside CI) or fail (CI=true) when Chromium, Playwright or Voila is missing."""
    reason = _missing()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"browser tests cannot run under CI: {reason}", pytrace=False)
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _private_dirs(root: Path) -> dict[str, str]:
    """Environment pointing Jupyter, IPython and Chromium at folders under ``root``."""
    names = {
        "JUPYTER_CONFIG_DIR": "jupyter-config",
        "JUPYTER_DATA_DIR": "jupyter-data",
        "JUPYTER_RUNTIME_DIR": "jupyter-runtime",
        "IPYTHONDIR": "ipython",
        "XDG_CONFIG_HOME": "xdg-config",
        "XDG_CACHE_HOME": "xdg-cache",
    }
    env = {}
    for variable, folder in names.items():
        (root / folder).mkdir(parents=True, exist_ok=True)
        env[variable] = str(root / folder)
    return env


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's process group (it shuts its kernel down), SIGKILL if it hangs."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"voila exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    pytest.fail(
        f"voila did not listen on {port} in {SERVER_START_TIMEOUT:.0f} s:\n{log.read_text()}"
    )


class Voila:
    """A running Voila server: ``url`` of the rendered notebook, ``log`` file, ``env``."""

    def __init__(self, url: str, log: Path, env: dict[str, str]) -> None:
        self.url = url
        self.log = log
        self.env = env


@pytest.fixture
def voila(browser_ready, tmp_path) -> Iterator[Callable[[Path], Voila]]:
    """``voila(notebook_path) -> Voila``: serve a notebook; every server is stopped at the end."""
    env = {**os.environ, **_private_dirs(tmp_path / "home")}
    # The kernel (kernelspec argv "python") must be this interpreter, importing this checkout.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    processes: list[subprocess.Popen[bytes]] = []
    previous = signal.getsignal(signal.SIGTERM)

    def on_sigterm(signum: int, frame: object) -> None:
        # A killed test run still stops its servers (and so their kernels).
        for process in processes:
            _stop(process)
        raise SystemExit(128 + signum)

    def start(notebook: Path) -> Voila:
        port = _free_port()
        log = notebook.with_suffix(".voila.log")
        command = [
            sys.executable,
            "-m",
            "voila",
            str(notebook),
            "--no-browser",
            f"--port={port}",
            "--Voila.ip=127.0.0.1",
            "--show_tracebacks=True",
        ]
        with log.open("wb") as out:
            process = subprocess.Popen(
                command,
                cwd=notebook.parent,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        processes.append(process)
        _wait_for_port(port, process, log)
        return Voila(f"http://127.0.0.1:{port}/", log, env)

    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield start
    finally:
        for process in processes:
            _stop(process)
        signal.signal(signal.SIGTERM, previous)


@pytest.fixture
def page(browser_ready, tmp_path):
    """A Chromium page (Debian's browser) that can reach 127.0.0.1 only."""
    from playwright.sync_api import sync_playwright

    browser_env = {**os.environ, **_private_dirs(tmp_path / "browser-home")}
    browser_env["HOME"] = str(tmp_path / "browser-home")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, args=["--disable-gpu", "--disable-quic"], env=browser_env
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1500})
            page.route(LOCAL_ONLY, lambda route: route.abort())
            yield page
        finally:
            browser.close()


@pytest.fixture
def artifacts() -> Path:
    """``artifacts/browser/`` (gitignored): screenshots of the browser tests."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
