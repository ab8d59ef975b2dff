"""The simulated Pub/Sub API: real gRPC over TLS in front of the org's event bus."""

from __future__ import annotations

import queue

import grpc
import pytest

from integrations.connectors.salesforce.pubsub import pubsub_api_pb2 as pb2
from integrations.connectors.salesforce.pubsub import pubsub_api_pb2_grpc as pb2_grpc
from integrations.sandbox.salesforce import pubsub_server
from integrations.sandbox.salesforce.eventbus import (
    ORDER_EVENT_TOPIC,
    EventBus,
    decode,
    encode,
    replay_bytes,
)
from integrations.sandbox.salesforce.org import SalesforceOrg
from integrations.sandbox.tls import server_certificate

OPPORTUNITIES = "/data/OpportunityChangeEvent"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def org():
    return SalesforceOrg()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def bus(org, clock):
    return EventBus(org, clock=clock)


@pytest.fixture
def certificate(tmp_path):
    return server_certificate(tmp_path / "tls", "salesforce")


@pytest.fixture
def server(org, bus, certificate):
    running = pubsub_server.serve(
        org, bus, certificate=certificate, keepalive_seconds=1
    )
    yield running
    running.stop()


@pytest.fixture
def stub(server, certificate):
    credentials = grpc.ssl_channel_credentials(certificate.ca.read_bytes())
    channel = grpc.secure_channel(server.target, credentials)
    yield pb2_grpc.PubSubStub(channel)
    channel.close()


@pytest.fixture
def metadata(org):
    session = org.identity.open_session(org.admin, "test-app")
    return (
        ("accesstoken", session.token),
        ("instanceurl", org.instance_url),
        ("tenantid", org.org_id),
    )


def new_opportunity(org, name="Big deal", stage="Prospecting") -> str:
    account = org.create("Account", {"Name": f"{name} Ltd"})
    return org.create(
        "Opportunity",
        {
            "Name": name,
            "AccountId": account,
            "StageName": stage,
            "CloseDate": "2025-01-31",
        },
    )


class Subscription:
    """A Subscribe call driven by the test: send requests, read responses."""

    def __init__(self, stub, metadata, first: pb2.FetchRequest) -> None:
        self.requests: queue.Queue = queue.Queue()
        self.requests.put(first)
        self.call = stub.Subscribe(iter(self.requests.get, None), metadata=metadata)
        self.responses = iter(self.call)

    def ask(self, count: int) -> None:
        self.requests.put(pb2.FetchRequest(num_requested=count))

    def next_events(self) -> list:
        """The next response that carries events (skipping keepalives)."""
        for response in self.responses:
            if response.events:
                return list(response.events)
        raise AssertionError("The stream ended.")

    def next(self):
        return next(self.responses)

    def close(self) -> None:
        self.call.cancel()
        self.requests.put(None)


def subscribe(stub, metadata, topic=OPPORTUNITIES, **options) -> Subscription:
    options.setdefault("num_requested", 10)
    return Subscription(stub, metadata, pb2.FetchRequest(topic_name=topic, **options))


def schema_of(stub, metadata, schema_id):
    import json

    info = stub.GetSchema(pb2.SchemaRequest(schema_id=schema_id), metadata=metadata)
    return json.loads(info.schema_json)


def test_change_in_org_arrives_as_avro_change_event(org, stub, metadata):
    opportunity = new_opportunity(org)
    org.update("Opportunity", opportunity, {"StageName": "Closed Won"})
    stream = subscribe(stub, metadata, replay_preset=pb2.EARLIEST)
    try:
        events = stream.next_events()
    finally:
        stream.close()

    created, updated = (
        decode(schema_of(stub, metadata, e.event.schema_id), e.event.payload)
        for e in events
    )
    header = updated["ChangeEventHeader"]
    assert header["entityName"] == "Opportunity"
    assert header["changeType"] == "UPDATE"
    assert header["recordIds"] == [opportunity]
    assert "StageName" in header["changedFields"]
    assert updated["StageName"] == "Closed Won"
    assert updated["Name"] is None  # an UPDATE carries only what changed
    assert created["ChangeEventHeader"]["changeType"] == "CREATE"
    assert created["Name"] == "Big deal"
    assert [e.replay_id for e in events] == sorted(e.replay_id for e in events)


def test_get_topic_names_the_schema_and_the_tenant(org, stub, metadata):
    info = stub.GetTopic(pb2.TopicRequest(topic_name=OPPORTUNITIES), metadata=metadata)

    assert info.tenant_guid == org.org_id
    assert info.can_subscribe and not info.can_publish
    assert schema_of(stub, metadata, info.schema_id)["name"] == (
        "OpportunityChangeEvent"
    )


def test_flow_control_sends_no_more_than_requested(org, stub, metadata):
    for number in range(5):
        new_opportunity(org, name=f"Deal {number}")
    stream = subscribe(stub, metadata, replay_preset=pb2.EARLIEST, num_requested=2)
    try:
        first = stream.next_events()
        quiet = stream.next()  # a keepalive: nothing more until asked
        stream.ask(3)
        second = stream.next_events()
    finally:
        stream.close()

    assert len(first) == 2
    assert list(quiet.events) == []
    assert quiet.latest_replay_id == first[-1].replay_id
    assert len(second) == 3
    assert second[0].replay_id > first[-1].replay_id


def test_latest_starts_after_existing_events(org, stub, metadata):
    new_opportunity(org, name="Old news")
    stream = subscribe(stub, metadata, replay_preset=pb2.LATEST)
    try:
        stream.next()  # subscribed: the first keepalive
        fresh = new_opportunity(org, name="Fresh")
        events = stream.next_events()
    finally:
        stream.close()

    decoded = decode(
        schema_of(stub, metadata, events[0].event.schema_id), events[0].event.payload
    )
    assert decoded["ChangeEventHeader"]["recordIds"] == [fresh]


def test_custom_replay_resumes_after_the_given_event(org, stub, metadata):
    for number in range(3):
        new_opportunity(org, name=f"Deal {number}")
    stream = subscribe(stub, metadata, replay_preset=pb2.EARLIEST)
    try:
        everything = stream.next_events()
    finally:
        stream.close()
    resumed = subscribe(
        stub, metadata, replay_preset=pb2.CUSTOM, replay_id=everything[0].replay_id
    )
    try:
        rest = resumed.next_events()
    finally:
        resumed.close()

    assert [e.replay_id for e in rest] == [e.replay_id for e in everything[1:]]


def test_expired_replay_id_is_refused_like_salesforce(org, bus, clock, stub, metadata):
    new_opportunity(org, name="First")
    new_opportunity(org, name="Second")
    first_id = replay_bytes(1)  # resuming after it needs the second, now gone
    clock.now += 73 * 3600  # past the 72-hour retention
    new_opportunity(org, name="Later")

    stream = subscribe(stub, metadata, replay_preset=pb2.CUSTOM, replay_id=first_id)
    with pytest.raises(grpc.RpcError) as refused:
        stream.next()
    stream.close()

    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "The Replay ID validation failed" in refused.value.details()
    trailers = dict(refused.value.trailing_metadata())
    assert "replayid" in trailers["error-code"]


def test_unknown_replay_id_is_refused(stub, metadata):
    stream = subscribe(
        stub, metadata, replay_preset=pb2.CUSTOM, replay_id=replay_bytes(999)
    )
    with pytest.raises(grpc.RpcError) as refused:
        stream.next()
    stream.close()

    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_bad_token_is_unauthenticated(org, stub):
    bad = (("accesstoken", "nope"), ("instanceurl", ""), ("tenantid", org.org_id))

    with pytest.raises(grpc.RpcError) as refused:
        stub.GetTopic(pb2.TopicRequest(topic_name=OPPORTUNITIES), metadata=bad)

    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "access token" in refused.value.details()


def test_other_tenant_is_permission_denied(stub, metadata):
    other = (*metadata[:2], ("tenantid", "00D000000000999AAA"))

    with pytest.raises(grpc.RpcError) as refused:
        stub.GetTopic(pb2.TopicRequest(topic_name=OPPORTUNITIES), metadata=other)

    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_unknown_topic_is_not_found(stub, metadata):
    with pytest.raises(grpc.RpcError) as refused:
        stub.GetTopic(pb2.TopicRequest(topic_name="/data/Nope"), metadata=metadata)

    assert refused.value.code() == grpc.StatusCode.NOT_FOUND


def test_published_order_event_reaches_subscribers(org, bus, stub, metadata):
    info = stub.GetTopic(
        pb2.TopicRequest(topic_name=ORDER_EVENT_TOPIC), metadata=metadata
    )
    schema = schema_of(stub, metadata, info.schema_id)
    payload = encode(
        schema,
        {
            "CreatedDate": 1733150000000,
            "CreatedById": org.admin.id,
            "Order_Id__c": "801000000000001AAA",
            "Action__c": "Activated",
        },
    )
    published = stub.Publish(
        pb2.PublishRequest(
            topic_name=ORDER_EVENT_TOPIC,
            events=[
                pb2.ProducerEvent(id="e-1", schema_id=info.schema_id, payload=payload)
            ],
        ),
        metadata=metadata,
    )
    stream = subscribe(
        stub, metadata, topic=ORDER_EVENT_TOPIC, replay_preset=pb2.EARLIEST
    )
    try:
        events = stream.next_events()
    finally:
        stream.close()

    assert published.results[0].replay_id == events[0].replay_id
    assert published.results[0].correlation_key == "e-1"
    assert decode(schema, events[0].event.payload)["Action__c"] == "Activated"


def test_publish_with_a_wrong_schema_reports_an_error_per_event(stub, metadata):
    answer = stub.Publish(
        pb2.PublishRequest(
            topic_name=ORDER_EVENT_TOPIC,
            events=[pb2.ProducerEvent(id="e-2", schema_id="nope", payload=b"\x00")],
        ),
        metadata=metadata,
    )

    assert answer.results[0].error.code == pb2.PUBLISH
    assert "schema id" in answer.results[0].error.msg
