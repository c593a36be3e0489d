"""The package as a user gets it: the sdist and the wheel are built (the wheel from the sdist,
as ``python -m build`` does), the wheel is installed into a brand-new virtual environment
(dependencies at the pinned versions of constraints.txt), and ``commstoolkit demo`` runs from
it, outside the source tree: the notebooks must be inside the wheel, not behind a symlink."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p.name for p in (REPO / "notebooks").glob("*.ipynb"))

pytestmark = pytest.mark.slow


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 900):
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{args}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "build", "--outdir", str(out), str(REPO)], cwd=REPO)
    return out


def test_the_sdist_carries_the_notebooks_and_the_wheel_holds_them_as_files(dist):
    (sdist,) = dist.glob("commstoolkit-*.tar.gz")
    with tarfile.open(sdist) as tar:
        names = {Path(*Path(m.name).parts[1:]).as_posix() for m in tar.getmembers()}
        assert not [m.name for m in tar.getmembers() if m.issym() or m.islnk()]
    assert {f"notebooks/{n}" for n in NOTEBOOKS} <= names
    (wheel,) = dist.glob("commstoolkit-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        infos = {info.filename: info for info in zf.infolist()}
        for name in NOTEBOOKS:
            info = infos[f"commstoolkit/notebooks/{name}"]
            assert (info.external_attr >> 28) != 0xA, f"{name} is a symlink in the wheel"
            assert zf.read(info) == (REPO / "notebooks" / name).read_bytes()
        assert "commstoolkit/py.typed" in infos
        # The sandbox validates requests against the official schemas it ships, with their NOTICE.
        for name in ("schemas.json", "NOTICE"):
            shipped = REPO / "commstoolkit" / "sandbox" / "contract" / name
            assert zf.read(f"commstoolkit/sandbox/contract/{name}") == shipped.read_bytes()
        assert not [n for n in infos if n.startswith(("tests/", "contract/"))]


def test_the_installed_wheel_runs_the_demo_in_a_fresh_environment(dist, tmp_path):
    (wheel,) = dist.glob("commstoolkit-*.whl")
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path)
    python = venv / "bin" / "python"
    _run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "-c",
            str(REPO / "constraints.txt"),
            str(wheel),
        ],
        cwd=tmp_path,
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TWILIO_", "COMMSTOOLKIT_", "PYTHON", "VIRTUAL_ENV"))
    }
    env["HOME"] = str(tmp_path / "home")  # the per-user sandbox file lands here, if anywhere
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    where = _run(
        [str(python), "-c", "import commstoolkit; print(commstoolkit.__file__)"],
        cwd=tmp_path,
        env=env,
    )
    assert Path(where.stdout.strip()).is_relative_to(venv), where.stdout
    demo = _run(
        [str(venv / "bin" / "commstoolkit"), "demo", "--out", "demo"], cwd=tmp_path, env=env
    )
    notebooks_dir = venv.glob("lib/python*/site-packages/commstoolkit/notebooks")
    assert f"Running the notebooks of {next(notebooks_dir)} headless" in demo.stdout
    for name in NOTEBOOKS:
        stem = Path(name).stem
        assert (tmp_path / "demo" / name).is_file()
        html = (tmp_path / "demo" / f"{stem}.html").read_text(encoding="utf-8")
        assert "plotly" in html.lower()
    assert "Senders: 300 in" in demo.stdout
