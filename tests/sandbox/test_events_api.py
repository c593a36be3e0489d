"""Event Streams over the sandbox's real HTTP server (``/events/v1``): Sinks, Subscriptions,
SubscribedEvents and Types as the official extract defines them (every answer checked against
its schemas, fields as its examples), form-encoded requests, classic ``meta`` paging and
classic errors naming the parameter, nothing stored on a refusal."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from commstoolkit.sandbox import Sandbox
from commstoolkit.sandbox.server import RunningServer, run_server

from .events_support import EventsContract, types, webhook

COMMS = "com.twilio.comms-api."


@pytest.fixture(scope="module")
def events_contract() -> EventsContract:
    return EventsContract()


@pytest.fixture
def served(sandbox: Sandbox) -> Iterator[RunningServer]:
    with run_server(sandbox) as server:
        yield server


@pytest.fixture
def events(
    served: RunningServer, sandbox: Sandbox, events_contract: EventsContract
) -> Iterator[httpx.Client]:
    hooks = {"response": [events_contract.check]}
    with httpx.Client(
        base_url=served.events_url, auth=sandbox.credentials(), event_hooks=hooks
    ) as client:
        yield client


def error(answer: httpx.Response) -> tuple[int, int, str]:
    body = answer.json()
    return answer.status_code, body["code"], body["message"]


def active_sink(events: httpx.Client, sandbox: Sandbox, destination: str) -> str:
    """A webhook sink made active the way a user does it: Test, read the test id, Validate."""
    sid = events.post("/Sinks", data=webhook(destination)).json()["sid"]
    assert events.post(f"/Sinks/{sid}/Test").json() == {"result": "submitted"}
    (test,) = sandbox.events.emitted(sink_sid=sid)
    test_id = test["event"]["data"]["test_id"]
    assert events.post(f"/Sinks/{sid}/Validate", data={"TestId": test_id}).status_code == 201
    return sid


def test_a_sink_lifecycle_answers_as_the_extract_says(
    events: httpx.Client, sandbox: Sandbox, events_contract: EventsContract, served
):
    created = events.post("/Sinks", data=webhook("https://hooks.example.com/twilio?team=a"))
    assert created.status_code == 201
    sink = created.json()
    sid = sink["sid"]
    # The extract's examples name these fields (its copy stripped every "description" key,
    # the sink's own field among them; the live API has it, and so does the sandbox).
    for keys in events_contract.example_keys("POST", "/Sinks", 201).values():
        assert set(sink) == keys | {"description"}
    assert (sink["status"], sink["sink_type"], sink["description"]) == (
        "initialized",
        "webhook",
        "receiver",
    )
    assert sink["sink_configuration"] == {
        "destination": "https://hooks.example.com/twilio?team=a",
        "method": "POST",
    }
    assert sink["url"] == f"{served.events_url}/Sinks/{sid}"
    assert sink["links"]["sink_validate"] == f"{served.events_url}/Sinks/{sid}/Validate"
    assert events.get(f"/Sinks/{sid}").json() == sink

    updated = events.post(f"/Sinks/{sid}", data={"Description": "renamed"}).json()
    assert updated["description"] == "renamed" and updated["sid"] == sid

    assert events.post(f"/Sinks/{sid}/Validate", data={"TestId": "x"}).status_code == 400
    assert events.post(f"/Sinks/{sid}/Test").status_code == 201
    assert events.get(f"/Sinks/{sid}").json()["status"] == "validating"
    wrong = events.post(f"/Sinks/{sid}/Validate", data={"TestId": "not-the-one"})
    assert error(wrong)[:2] == (400, 20001) and "TestId" in error(wrong)[2]
    (test,) = sandbox.events.emitted(sink_sid=sid)
    assert test["event"]["type"] == "com.twilio.eventstreams.test-event"
    right = {"TestId": test["event"]["data"]["test_id"]}
    assert events.post(f"/Sinks/{sid}/Validate", data=right).json() == {"result": "valid"}
    assert events.get(f"/Sinks/{sid}").json()["status"] == "active"

    assert events.delete(f"/Sinks/{sid}").status_code == 204
    assert error(events.get(f"/Sinks/{sid}"))[:2] == (404, 20404)
    assert events_contract.checked >= 7  # every success above matched its schema


def test_the_password_of_a_destination_never_shows(events: httpx.Client):
    sink = events.post("/Sinks", data=webhook("https://ingest:s3cr3t-pw@hooks.example.com/e"))
    listed = events.get("/Sinks").text
    assert "s3cr3t-pw" not in sink.text and "s3cr3t-pw" not in listed
    assert sink.json()["sink_configuration"]["destination"] == (
        "https://ingest:****@hooks.example.com/e"
    )


def test_other_sink_types_are_kept_as_configured(events: httpx.Client):
    kinesis = {"arn": "arn:aws:kinesis:us-east-1:111111111:stream/test", "role_arn": "r",
               "external_id": "1"}  # fmt: skip
    answer = events.post("/Sinks", data={
        "Description": "k", "SinkType": "kinesis", "SinkConfiguration": json.dumps(kinesis)
    })  # fmt: skip
    assert answer.status_code == 201 and answer.json()["sink_configuration"] == kinesis


REFUSED_SINKS = [
    ("no description", {"SinkType": "webhook", "SinkConfiguration": "{}"}, "Description"),
    ("unknown type", {**webhook("https://x.example"), "SinkType": "sqs"}, "SinkType"),
    ("configuration not JSON", {**webhook("x"), "SinkConfiguration": "{"}, "SinkConfiguration"),
    ("no destination", {**webhook("x"), "SinkConfiguration": "{}"}, "destination"),
    ("ftp destination", webhook("ftp://files.example.com/e"), "destination"),
    ("GET method", {**webhook("x"), "SinkConfiguration": json.dumps(
        {"destination": "https://x.example", "method": "GET"})}, "POST"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "form", "named"), REFUSED_SINKS, ids=[c[0] for c in REFUSED_SINKS]
)
def test_a_bad_sink_is_a_400_naming_what_is_wrong_and_nothing_is_made(
    events: httpx.Client, case: str, form: dict[str, str], named: str
):
    status, code, message = error(events.post("/Sinks", data=form))
    assert (status, code) == (400, 20001) and named in message
    assert events.get("/Sinks").json()["sinks"] == []


def test_json_instead_of_a_form_is_refused_saying_so(events: httpx.Client):
    status, _, message = error(events.post("/Sinks", json=webhook("https://x.example")))
    assert status == 400 and "form-encoded" in message


def test_sinks_page_with_the_classic_meta(events: httpx.Client, served: RunningServer):
    made = [
        events.post("/Sinks", data=webhook(f"https://x.example/{n}")).json()["sid"]
        for n in range(5)
    ]
    seen, url, pages = [], f"{served.events_url}/Sinks?PageSize=2", 0
    while url:
        page = events.get(url).json()
        meta = page["meta"]
        assert (meta["key"], meta["page_size"], meta["page"]) == ("sinks", 2, pages)
        assert meta["first_page_url"] == f"{served.events_url}/Sinks?PageSize=2&Page=0"
        assert (meta["previous_page_url"] is None) == (pages == 0)
        if pages:
            previous = events.get(meta["previous_page_url"]).json()["sinks"]
            assert [s["sid"] for s in previous] == seen[-2:]
        seen += [s["sid"] for s in page["sinks"]]
        url, pages = meta["next_page_url"], pages + 1
    assert seen == made and pages == 3
    assert events.get("/Sinks", params={"PageSize": 2, "Page": 1}).json()["sinks"] == [
        events.get(f"/Sinks/{sid}").json() for sid in made[2:4]
    ]


@pytest.mark.parametrize(
    ("params", "named"),
    [({"PageSize": 0}, "PageSize"), ({"PageSize": 1001}, "PageSize"),
     ({"PageSize": "ten"}, "PageSize"), ({"Page": -1}, "Page"),
     ({"PageToken": "garbage"}, "PageToken"), ({"InUse": "maybe"}, "InUse")],
)  # fmt: skip
def test_bad_paging_is_a_400_naming_the_parameter(events: httpx.Client, params, named):
    status, code, message = error(events.get("/Sinks", params=params))
    assert (status, code) == (400, 20001) and named in message


def test_malformed_sids_and_unknown_paths_are_404s(events: httpx.Client):
    assert error(events.get("/Sinks/DGnope"))[:2] == (404, 20404)
    assert error(events.get("/Subscriptions/DG" + "0" * 32))[:2] == (404, 20404)
    assert error(events.get("/Nothing"))[:2] == (404, 20404)
    assert events.put("/Sinks").status_code == 405


def test_a_wrong_secret_is_a_classic_401(served: RunningServer):
    answer = httpx.get(served.events_url + "/Sinks", auth=("AC" + "0" * 32, "wrong"))
    assert answer.status_code == 401 and answer.json()["code"] == 20003
    assert set(answer.json()) == {"code", "message", "more_info", "status"}


def test_a_subscription_and_its_types(events: httpx.Client, sandbox: Sandbox, served):
    sink_sid = active_sink(events, sandbox, "https://x.example/hook")
    created = events.post("/Subscriptions", data={
        "Description": "deliveries", "SinkSid": sink_sid,
        "Types": types("message.delivered", "message.failed"),
    })  # fmt: skip
    assert created.status_code == 201
    sub = created.json()
    assert (sub["sink_sid"], sub["account_sid"]) == (sink_sid, sandbox.account_sid)
    assert sub["links"]["subscribed_events"] == (
        f"{served.events_url}/Subscriptions/{sub['sid']}/SubscribedEvents"
    )
    sid = sub["sid"]
    listed = events.get(f"/Subscriptions/{sid}/SubscribedEvents").json()
    assert [(t["type"], t["schema_version"]) for t in listed["types"]] == [
        (COMMS + "message.delivered", 4),
        (COMMS + "message.failed", 4),
    ]
    added = events.post(f"/Subscriptions/{sid}/SubscribedEvents",
                        data={"Type": COMMS + "message.read", "SchemaVersion": 3})  # fmt: skip
    assert (added.status_code, added.json()["schema_version"]) == (201, 3)
    again = events.post(
        f"/Subscriptions/{sid}/SubscribedEvents", data={"Type": COMMS + "message.read"}
    )
    assert (again.status_code, again.json()["schema_version"]) == (200, 4)
    path = f"/Subscriptions/{sid}/SubscribedEvents/{COMMS}message.read"
    assert events.post(path, data={"SchemaVersion": 2}).json()["schema_version"] == 2
    assert events.get(path).json()["type"] == COMMS + "message.read"
    assert events.delete(path).status_code == 204
    assert error(events.get(path))[:2] == (404, 20404)

    assert events.post(f"/Subscriptions/{sid}", data={"Description": "new"}).json()[
        "description"] == "new"  # fmt: skip
    assert events.get("/Subscriptions", params={"SinkSid": sink_sid}).json()["subscriptions"][0][
        "sid"] == sid  # fmt: skip
    assert error(events.delete(f"/Sinks/{sink_sid}"))[0] == 400  # still used
    assert events.delete(f"/Subscriptions/{sid}").status_code == 204
    assert events.delete(f"/Sinks/{sink_sid}").status_code == 204


def test_a_subscription_needs_an_active_sink_and_known_types(events: httpx.Client, sandbox):
    fresh = events.post("/Sinks", data=webhook("https://x.example")).json()["sid"]
    form = {"Description": "d", "SinkSid": fresh, "Types": types("message.delivered")}
    status, _, message = error(events.post("/Subscriptions", data=form))
    assert status == 400 and "not active" in message and "Validate" in message
    active = active_sink(events, sandbox, "https://y.example")
    for bad, named in (
        (types("message.exploded"), "message.exploded"),
        (["not json"], "Types"),
        ([json.dumps({"type": COMMS + "message.sent", "schema_version": 99})], "schema versions"),
    ):
        status, _, message = error(events.post("/Subscriptions", data={**form, "SinkSid": active,
                                                                        "Types": bad}))  # fmt: skip
        assert status == 400 and named in message
    assert error(events.post("/Subscriptions", data={"Description": "d", "SinkSid": active}))[
        2] == "Missing required parameter Types in the post body"  # fmt: skip
    assert events.get("/Subscriptions").json()["subscriptions"] == []


def test_types_list_the_comms_events(events: httpx.Client, served: RunningServer):
    listed = events.get("/Types", params={"PageSize": 1000}).json()["types"]
    names = {t["type"] for t in listed}
    for suffix in ("operation.processing", "operation.completed", "message.queued",
                   "message.sent", "message.delivered", "message.undelivered",
                   "message.failed", "message.read"):  # fmt: skip
        assert COMMS + suffix in names
    delivered = events.get(f"/Types/{COMMS}message.delivered").json()
    assert delivered["schema_id"] == "CommsApi.MessageDelivered"
    assert delivered["url"] == f"{served.events_url}/Types/{COMMS}message.delivered"
    only = events.get("/Types", params={"SchemaId": "CommsApi.OperationCompleted"}).json()
    assert [t["type"] for t in only["types"]] == [COMMS + "operation.completed"]
    assert only["meta"]["url"].startswith(
        f"{served.events_url}/Types?SchemaId=CommsApi.OperationCompleted&PageSize=50"
    )
    assert error(events.get("/Types/com.example.nothing"))[:2] == (404, 20404)
