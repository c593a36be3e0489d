"""Real-browser fixtures: Voila or JupyterLab on temp notebooks, Debian's Chromium via Playwright.

Follows ../shared/browser-testing.md: ``/usr/bin/chromium`` driven by the plain
``playwright`` package (never ``playwright install``), servers in their own process
group with temp ``JUPYTER_*`` folders, stopped on teardown and on SIGTERM.

Without Chromium, Playwright, Voila or JupyterLab the tests skip, except under ``CI=true``
where they fail: CI must never pass by silently not running them (``scripts/check``
installs them all: the dev extra and Debian's Chromium).
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
from typing import Any

import httpx
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
    for module in ("playwright", "voila", "jupyterlab"):
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


class _Servers:
    """Jupyter servers (Voila, JupyterLab), each in its own process group, with private
    ``JUPYTER_*`` folders under ``home`` and kernels running this interpreter on this
    checkout. ``stop()`` ends them; so does a SIGTERM to the test run while they run."""

    def __init__(self, home: Path) -> None:
        env = {**os.environ, **_private_dirs(home)}
        # The kernel (kernelspec argv "python") must be this interpreter, importing this checkout.
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        self.env = env
        self.processes: list[subprocess.Popen[bytes]] = []
        self._previous = signal.getsignal(signal.SIGTERM)
        signal.signal(signal.SIGTERM, self._on_sigterm)

    def _on_sigterm(self, signum: int, frame: Any) -> None:
        # A killed test run still stops its servers (and so their kernels), then those of
        # the handler this one replaced (the run's JupyterLab under a test's Voila).
        self.stop()
        if callable(self._previous):
            self._previous(signum, frame)
        raise SystemExit(128 + signum)

    def start(self, name: str, command: list[str], port: int, cwd: Path, log: Path) -> None:
        """Run ``command`` (server ``name``, on ``port``) and wait until it listens."""
        with log.open("wb") as out:
            process = subprocess.Popen(
                command,
                cwd=cwd,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes.append(process)
        _wait_for_port(name, port, process, log)

    def stop(self) -> None:
        for process in self.processes:
            _stop(process)
        signal.signal(signal.SIGTERM, self._previous)


def _wait_for_port(name: str, port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{name} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    pytest.fail(
        f"{name} did not listen on {port} in {SERVER_START_TIMEOUT:.0f} s:\n{log.read_text()}"
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
    servers = _Servers(tmp_path / "home")

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
        servers.start("voila", command, port, notebook.parent, log)
        return Voila(f"http://127.0.0.1:{port}/", log, servers.env)

    try:
        yield start
    finally:
        servers.stop()


# JupyterLab 4 (browser-testing.md, pitfall 1): the kernel is ready when its name is shown
# and the execution indicator reads idle; Run All Cells is a menu item (no shortcut).
KERNEL_READY = """() => {
    const name = document.querySelector('.jp-KernelName');
    const state = document.querySelector('.jp-Notebook-ExecutionIndicator');
    const kernel = name ? name.textContent.trim() : '';
    return kernel !== '' && kernel !== 'No Kernel'
        && state !== null && state.getAttribute('data-status') === 'idle';
}"""


class JupyterLab:
    """A running JupyterLab server on the folder ``root`` (pytest's temp folder, so a test's
    ``tmp_path`` is in it): ``run(page, notebook)`` opens a notebook there and runs all its
    cells, as a user does; ``shut_down_kernels()`` ends the kernels it started."""

    def __init__(self, url: str, root: Path, log: Path) -> None:
        self.url = url
        self.root = root
        self.log = log

    def run(self, page: Any, notebook: Path) -> None:
        # ?reset: a fresh workspace, not the last test's notebook restored beside this one.
        page.goto(f"{self.url}lab/tree/{notebook.relative_to(self.root).as_posix()}?reset")
        page.wait_for_function(KERNEL_READY, timeout=45_000)
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()

    def shut_down_kernels(self) -> None:
        with httpx.Client(base_url=self.url, timeout=10) as api:
            api.get("lab").raise_for_status()  # sets the _xsrf cookie a DELETE must echo
            xsrf = {"X-XSRFToken": api.cookies["_xsrf"]}
            for session in api.get("api/sessions").raise_for_status().json():
                api.delete(f"api/sessions/{session['id']}", headers=xsrf).raise_for_status()


@pytest.fixture(scope="session")
def jupyterlab(browser_ready, tmp_path_factory) -> Iterator[JupyterLab]:
    """One JupyterLab server for the test run, started when a test first asks for it, on
    pytest's temp folder: the notebooks it opens are temp copies (JupyterLab autosaves
    outputs into them, pitfall 7), never committed ones."""
    root = tmp_path_factory.getbasetemp()
    home = tmp_path_factory.mktemp("jupyterlab-home")
    # Without the "Jupyter news?" toast, which can cover widgets (pitfall 4).
    settings = home / "lab-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    servers = _Servers(home)
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--allow-root",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--IdentityProvider.token=",
        "--LabApp.news_url=None",
        f"--ServerApp.root_dir={root}",
        f"--LabApp.workspaces_dir={home / 'workspaces'}",
        f"--LabApp.user_settings_dir={home / 'lab-settings'}",
    ]
    log = home / "jupyterlab.log"
    try:
        servers.start("jupyterlab", command, port, home, log)
        yield JupyterLab(f"http://127.0.0.1:{port}/", root, log)
    finally:
        servers.stop()


@pytest.fixture(params=["voila", "jupyterlab"])
def show(request, page) -> Callable[[Path], None]:
    """``show(notebook)``: the notebook in ``page`` as its user sees it, served by Voila (its
    outputs only) or opened in JupyterLab with all its cells run, where plotly's and
    anywidget's JupyterLab extensions draw the widgets. A test using it runs in both."""
    if request.param == "voila":
        voila = request.getfixturevalue("voila")
        return lambda notebook: page.goto(voila(notebook).url, wait_until="domcontentloaded")
    lab = request.getfixturevalue("jupyterlab")
    request.addfinalizer(lab.shut_down_kernels)  # before the page closes: LIFO
    return lambda notebook: lab.run(page, notebook)


@pytest.fixture
def problems(page) -> list[str]:
    """The page's console errors, page errors and failed requests as they come, but those of
    the requests the page fixture aborts on purpose (Voila asks a CDN for icon CSS;
    browser-testing.md, pitfall 3)."""
    found: list[str] = []

    def console(message: Any) -> None:
        if message.type == "error" and not LOCAL_ONLY.match(message.location.get("url", "")):
            found.append(f"console {message.type}: {message.text} {message.location}")

    def failed(request: Any) -> None:
        if not LOCAL_ONLY.match(request.url):
            found.append(f"request failed: {request.url[:120]} {request.failure}")

    page.on("console", console)
    page.on("pageerror", lambda error: found.append(f"page error: {error}"))
    page.on("requestfailed", failed)
    return found


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


@pytest.fixture
def picture(request, artifacts) -> Callable[[str], str]:
    """``picture(name)``: where a test's screenshot goes, ``artifacts/browser/NAME.png``, or
    ``NAME-jupyterlab.png`` when the test runs in JupyterLab (the ``show`` fixture)."""
    callspec = getattr(request.node, "callspec", None)
    lab = callspec is not None and callspec.params.get("show") == "jupyterlab"
    return lambda name: str(artifacts / f"{name}{'-jupyterlab' if lab else ''}.png")
