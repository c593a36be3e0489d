"""connect(): sandbox without credentials, live with them, one line saying which."""

from __future__ import annotations

import io

import pytest

import commstoolkit as ct

TOKEN = "tok_SECRET_c0ffee_do_not_print"
SID = "AC" + "ab" * 16


def _connect(**kwargs):
    out = io.StringIO()
    client = ct.connect(out=out, **kwargs)
    return client, out.getvalue()


def test_no_credentials_means_the_sandbox(tmp_path):
    client, said = _connect(db=tmp_path / "s.sqlite3", env={})
    with client:
        assert client.live is False
        assert client.sandbox is not None
        assert said.count("\n") == 1
        assert "no Twilio credentials found" in said and "TWILIO_ACCOUNT_SID" in said
        assert len(list(client.senders.list())) > 0


def test_the_default_sandbox_file_is_shared_between_connections(tmp_path, monkeypatch):
    db = tmp_path / "shared.sqlite3"
    monkeypatch.setenv("COMMSTOOLKIT_SANDBOX_DB", str(db))
    first, said = _connect()
    with first:
        created = first.wait(first.sender_pools.create(name="shared-check"), timeout=30)
    second, _ = _connect()
    with second:
        pool = second.sender_pools.find_created(created)
        assert pool.name == "shared-check"
    assert str(db) in said


def test_credentials_in_the_environment_mean_live():
    env = {"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN}
    client, said = _connect(env=env)
    with client:
        assert client.live is True
        assert client.base_url == "https://comms.twilio.com/v1"
        assert "live" in said and "comms.twilio.com" in said
        assert TOKEN not in said and SID not in said  # the SID is shortened, the token absent
        assert TOKEN not in repr(client)


def test_api_key_credentials():
    env = {
        "TWILIO_ACCOUNT_SID": SID,
        "TWILIO_API_KEY": "SK" + "cd" * 16,
        "TWILIO_API_SECRET": TOKEN,
    }
    client, said = _connect(env=env)
    with client:
        assert client.live is True
        assert "API key" in said
        assert TOKEN not in said and TOKEN not in repr(client)


def test_arguments_beat_the_environment():
    client, _ = _connect(
        account_sid=SID, auth_token=TOKEN, env={}, base_url="https://comms.twilio.com/preview"
    )
    with client:
        assert client.live is True
        assert client.base_url == "https://comms.twilio.com/preview"


def test_sandbox_true_wins_over_credentials(tmp_path):
    env = {"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN}
    client, said = _connect(sandbox=True, db=tmp_path / "s.sqlite3", env=env)
    with client:
        assert client.live is False
        assert "sandbox=True" in said


def test_sandbox_false_without_credentials_is_a_clear_error():
    with pytest.raises(ct.ConfigurationError, match="TWILIO_ACCOUNT_SID"):
        ct.connect(sandbox=False, env={}, quiet=True)


def test_half_credentials_are_not_credentials(tmp_path):
    with pytest.raises(ct.ConfigurationError):
        ct.connect(sandbox=False, env={"TWILIO_ACCOUNT_SID": SID}, quiet=True)


def test_quiet_says_nothing(tmp_path, capsys):
    with ct.connect(db=tmp_path / "s.sqlite3", env={}, quiet=True):
        pass
    assert capsys.readouterr().out == ""
