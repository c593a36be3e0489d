"""Fixtures shared by the whole suite: a fresh in-memory sandbox and a client on it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import commstoolkit as ct

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _no_live_credentials(monkeypatch, tmp_path):
    """Tests never see the developer's Twilio credentials or shared sandbox file."""
    for name in (
        "TWILIO_ACCOUNT_SID",
        "TWILIO_AUTH_TOKEN",
        "TWILIO_API_KEY",
        "TWILIO_API_SECRET",
        "COMMSTOOLKIT_BASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COMMSTOOLKIT_SANDBOX_DB", str(tmp_path / "default-sandbox.sqlite3"))


@pytest.fixture
def client():
    """A client wired in-process to a fresh, seeded, in-memory sandbox."""
    with ct.connect(sandbox=True, db=":memory:", quiet=True) as sandbox_client:
        yield sandbox_client


@pytest.fixture(scope="session")
def contract_dir() -> Path:
    """The official contract extract (../shared/comms-contract, or $COMMSTOOLKIT_CONTRACT_DIR)."""
    path = Path(
        os.environ.get("COMMSTOOLKIT_CONTRACT_DIR", REPO.parent / "shared" / "comms-contract")
    )
    if not (path / "schemas.json").is_file():
        pytest.skip(f"contract extract not found at {path} (set COMMSTOOLKIT_CONTRACT_DIR)")
    return path
