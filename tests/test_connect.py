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


# -- a seed never silently wipes the user's work (design.md §5) ------------------------------


def _make_work(db, seed: int) -> str:
    """A pool made and a message sent in the sandbox file ``db``; the pool's id."""
    with ct.connect(sandbox=True, db=db, seed=seed, senders=60, quiet=True) as client:
        client.sandbox.clock.instant = True
        pool = client.sender_pools.find_created(
            client.wait(client.sender_pools.create(name="mine"), timeout=30)
        )
        client.messages.send("+14155550100", text="hello", sender_pool_id=pool.id)
        client.sandbox.close()
    return pool.id


def test_another_seed_on_a_file_holding_the_users_work_is_refused_and_reset_discards_it(
    tmp_path,
):
    db = tmp_path / "work.sqlite3"
    pool_id = _make_work(db, seed=3)
    with pytest.raises(ct.SandboxStateError) as refused:
        ct.connect(sandbox=True, db=db, seed=11, senders=60, quiet=True)
    error = refused.value
    assert isinstance(error, ct.ConfigurationError) and "\n" not in str(error)
    assert str(db) in str(error) and error.db == str(db)
    assert "1 pool made or changed, 1 message sent" in str(error)
    assert error.changes == "1 pool made or changed, 1 message sent (1 send)"
    assert "reset=True" in str(error) and "--reset" in str(error) and "another db" in str(error)
    # Nothing was touched: the pool and the seed are still there.
    client, said = _connect(sandbox=True, db=db)
    with client:
        assert client.sender_pools.get(pool_id).name == "mine"
        assert client.sandbox.state()["seed"] == 3 and "Reseeded" not in said
        client.sandbox.close()
    # reset=True reseeds and says what it discarded.
    client, said = _connect(sandbox=True, db=db, seed=11, reset=True)
    with client:
        assert client.sandbox.state()["seed"] == 11
        assert pool_id not in {pool.id for pool in client.sender_pools.list()}
        assert said.count("\n") == 1
        assert "Reset as asked (reset=True): reseeded with seed 11 and 60 senders" in said
        assert "discarding 1 pool made or changed, 1 message sent (1 send)" in said
        client.sandbox.close()


def test_a_pristine_file_reseeds_freely_and_says_so(tmp_path):
    db = tmp_path / "pristine.sqlite3"
    with ct.connect(sandbox=True, db=db, seed=3, senders=60, quiet=True) as client:
        list(client.senders.list())  # reading is not a change
        client.sandbox.close()
    client, said = _connect(sandbox=True, db=db, seed=4)
    with client:
        assert client.sandbox.state()["seed"] == 4
        assert "Reseeded with seed 4 and 60 senders (it held no changes of yours)." in said
        client.sandbox.close()


def test_reset_true_on_the_files_own_seed_starts_it_over(tmp_path):
    db = tmp_path / "again.sqlite3"
    pool_id = _make_work(db, seed=5)
    client, said = _connect(db=db, reset=True, env={})
    with client:
        assert client.sandbox.state()["seed"] == 5
        assert pool_id not in {pool.id for pool in client.sender_pools.list()}
        assert "no Twilio credentials found" in said and "discarding 1 pool" in said
        client.sandbox.close()


def test_sandbox_arguments_are_the_toolkits_typed_errors(tmp_path):
    folder = tmp_path / "a folder"
    folder.mkdir()
    text = tmp_path / "notes.sqlite3"
    text.write_text("not a database, just notes\n" * 40)
    blocked = text / "inside" / "s.sqlite3"
    for db, problem in (
        (folder, "is a folder"),
        (text, "is not a SQLite file"),
        (blocked, f"cannot be made: {text} is a file, not a folder"),
    ):
        with pytest.raises(ct.ConfigurationError) as caught:
            ct.connect(sandbox=True, db=db, quiet=True)
        assert type(caught.value) is ct.ConfigurationError
        assert f"db {str(db)!r} {problem}" in str(caught.value)
        assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert text.read_text().startswith("not a database")  # left as it was
    for kwargs, field in (
        ({"db": 5}, "db"),
        ({"seed": -1}, "seed"),
        ({"senders": 10**9}, "senders"),
        ({"seed": True}, "seed"),
        ({"reset": "yes"}, "reset"),
    ):
        with pytest.raises(ct.InvalidInputError) as invalid:
            ct.connect(sandbox=True, quiet=True, **{"db": ":memory:", **kwargs})
        assert invalid.value.field == field and field in str(invalid.value)


def test_a_bad_file_named_by_the_environment_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("COMMSTOOLKIT_SANDBOX_DB", str(tmp_path))
    with pytest.raises(ct.ConfigurationError) as caught:
        ct.connect(sandbox=True, quiet=True)
    assert "is a folder" in str(caught.value)
    assert str(caught.value).endswith("(from COMMSTOOLKIT_SANDBOX_DB)")


# -- say where you are: a local sandbox server is not Twilio -----------------------------------


def test_a_local_sandbox_server_is_named_and_keeps_the_live_guards():
    from commstoolkit.sandbox import Sandbox
    from commstoolkit.sandbox.server import run_server

    with Sandbox(":memory:", seed=3, senders=40, speed=0) as box, run_server(box) as server:
        sid, token = box.credentials()
        client, said = _connect(account_sid=sid, auth_token=token, base_url=server.base_url)
        with client:
            assert said.count("\n") == 1
            assert f"{server.base_url} is a commstoolkit sandbox server, not Twilio" in said
            assert "guards kept" in said and token not in said
            assert client.live is True and client.server_is_sandbox is True
            pool = next(iter(client.sender_pools.list()))
            with pytest.raises(ct.SendRefusedError, match="allow"):
                ct.test_send(client, pool.id, "+14155550100", "hello")
            client.live = False  # the explicit opt-out
            assert ct.test_send(client, pool.id, "+14155550100", "hello", wait=False)


def test_a_loopback_url_with_nothing_listening_is_still_live_and_says_so():
    import socket

    with socket.socket() as sock:  # a port that was free a moment ago
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    client, said = _connect(account_sid=SID, auth_token=TOKEN, base_url=url, env={})
    with client:
        assert said.startswith(f"commstoolkit: live — {url} as account")
        assert "nothing answered there" in said
        assert client.live is True and client.server_is_sandbox is None


def test_only_loopback_hosts_are_probed_and_every_answer_is_recorded():
    import httpx

    seen = []

    def twilio(request):
        seen.append(request.url.host)
        return httpx.Response(200, json={"senders": [], "meta": {}})

    remote = ct.CommsClient(
        account_sid=SID, auth_token=TOKEN, transport=httpx.MockTransport(twilio)
    )
    with remote:
        assert remote.identify_server() is None and seen == []  # Twilio is never probed
        next(remote.senders.list(page_size=1).pages())
        assert remote.server_is_sandbox is False and seen == ["comms.twilio.com"]
    with ct.connect(sandbox=True, db=":memory:", quiet=True) as embedded:
        assert embedded.server_is_sandbox is None
        list(embedded.senders.list(page_size=5))
        assert embedded.server_is_sandbox is True
