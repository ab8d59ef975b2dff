"""A Salesforce Pub/Sub API server for the simulated org: real gRPC over TLS.

It serves the vendor's ``PubSub`` service (stubs generated from the contract's
proto) from an ``EventBus``: ``GetTopic``, ``GetSchema``, ``Subscribe`` with
pull-based flow control and replay presets, and ``Publish`` for the order
platform event. Every call is authenticated from the gRPC metadata
(``accesstoken``, ``instanceurl``, ``tenantid``) against the org's sessions,
and refused with the status codes and error-code trailers Salesforce uses.
``PublishStream`` and ``ManagedSubscribe`` (beta) answer UNIMPLEMENTED.
"""

from __future__ import annotations

import threading
import uuid
from concurrent import futures
from dataclasses import dataclass

import grpc

from integrations.connectors.salesforce.pubsub import pubsub_api_pb2 as pb2
from integrations.connectors.salesforce.pubsub import pubsub_api_pb2_grpc as pb2_grpc
from integrations.sandbox.salesforce import eventbus
from integrations.sandbox.salesforce.eventbus import EventBus, ReplayIdInvalid
from integrations.sandbox.tls import ServerCertificate

# Salesforce caps one FetchRequest's num_requested at 100.
MAX_BATCH = 100
AUTH_ERROR = "sfdc.platform.eventbus.grpc.service.auth.error"
REPLAY_ERROR = "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted"
TOPIC_ERROR = "sfdc.platform.eventbus.grpc.subscription.topic.not.found"
TENANT_ERROR = "sfdc.platform.eventbus.grpc.service.tenant.mismatch"
REPLAY_MESSAGE = (
    "The Replay ID validation failed. Ensure that the Replay ID is valid and "
    "that the event it names is within the retention window."
)


def session_valid(org, token: str) -> bool:
    """Whether ``token`` is a live session of ``org`` (the org is thread-safe)."""
    for name in ("session_for", "authenticate"):
        check = getattr(org, name, None)
        if check is not None:
            try:
                return check(token) is not None
            except Exception:  # noqa: BLE001 - the org refuses bad tokens by raising
                return False
    return org.identity.session(token) is not None


class PubSubService(pb2_grpc.PubSubServicer):
    def __init__(self, org, bus: EventBus, *, keepalive_seconds: float = 270) -> None:
        self.org = org
        self.bus = bus
        self.keepalive_seconds = keepalive_seconds
        self.stopping = threading.Event()

    # --- helpers -------------------------------------------------------------

    def _abort(self, context, code, error_code: str, message: str):
        rpc_id = str(uuid.uuid4())
        context.set_trailing_metadata((("error-code", error_code), ("rpc-id", rpc_id)))
        context.abort(code, f"{message} rpcId: {rpc_id}")

    def _authenticate(self, context) -> None:
        metadata = dict(context.invocation_metadata())
        token = metadata.get("accesstoken", "")
        if not token or not session_valid(self.org, token):
            self._abort(
                context,
                grpc.StatusCode.UNAUTHENTICATED,
                AUTH_ERROR,
                "Error when authenticating the request: the access token is "
                "missing, invalid or expired (accesstoken metadata).",
            )
        tenant = metadata.get("tenantid", "")
        if tenant[:15] != self.org.org_id[:15]:
            self._abort(
                context,
                grpc.StatusCode.PERMISSION_DENIED,
                TENANT_ERROR,
                f"The tenantid {tenant!r} does not match the org of the access token.",
            )

    def _known_topic(self, context, topic: str) -> None:
        if topic not in eventbus.TOPICS:
            self._abort(
                context,
                grpc.StatusCode.NOT_FOUND,
                TOPIC_ERROR,
                f"The topic {topic!r} does not exist or is not enabled for events.",
            )

    # --- RPCs ----------------------------------------------------------------

    def GetTopic(self, request, context):
        self._authenticate(context)
        self._known_topic(context, request.topic_name)
        return pb2.TopicInfo(
            topic_name=request.topic_name,
            tenant_guid=self.org.org_id,
            can_publish=request.topic_name in eventbus.PUBLISHABLE,
            can_subscribe=True,
            schema_id=self.bus.topic_schema.get(request.topic_name, ""),
            rpc_id=str(uuid.uuid4()),
        )

    def GetSchema(self, request, context):
        self._authenticate(context)
        schema = self.bus.schema(request.schema_id)
        if schema is None:
            self._abort(
                context,
                grpc.StatusCode.NOT_FOUND,
                "sfdc.platform.eventbus.grpc.schema.not.found",
                f"No schema has the id {request.schema_id!r}.",
            )
        return pb2.SchemaInfo(
            schema_json=eventbus.avro_schemas.schema_json(schema),
            schema_id=request.schema_id,
            rpc_id=str(uuid.uuid4()),
        )

    def Publish(self, request, context):
        self._authenticate(context)
        self._known_topic(context, request.topic_name)
        if request.topic_name not in eventbus.PUBLISHABLE:
            self._abort(
                context,
                grpc.StatusCode.PERMISSION_DENIED,
                "sfdc.platform.eventbus.grpc.publish.not.allowed",
                f"Publishing to {request.topic_name} is not allowed.",
            )
        results = []
        for event in request.events:
            try:
                stored = self.bus.publish(
                    request.topic_name, event.id, event.schema_id, event.payload
                )
            except ValueError as exc:
                error = pb2.Error(code=pb2.PUBLISH, msg=str(exc))
                results.append(pb2.PublishResult(error=error, correlation_key=event.id))
            else:
                results.append(
                    pb2.PublishResult(
                        replay_id=stored.replay_id, correlation_key=event.id
                    )
                )
        return pb2.PublishResponse(
            results=results,
            schema_id=self.bus.topic_schema[request.topic_name],
            rpc_id=str(uuid.uuid4()),
        )

    def Subscribe(self, request_iterator, context):
        self._authenticate(context)
        first = next(request_iterator, None)
        if first is None:
            return
        topic = first.topic_name
        self._known_topic(context, topic)
        preset = pb2.ReplayPreset.Name(first.replay_preset)
        try:
            position = self.bus.start_position(topic, preset, first.replay_id)
        except ReplayIdInvalid:
            self._abort(
                context, grpc.StatusCode.INVALID_ARGUMENT, REPLAY_ERROR, REPLAY_MESSAGE
            )
        demand = _Demand(self.bus.condition, max(first.num_requested, 0))
        reader = threading.Thread(
            target=demand.read, args=(request_iterator, topic), daemon=True
        )
        reader.start()
        context.add_callback(demand.finish)
        rpc_id = str(uuid.uuid4())
        while True:
            events = self._next_batch(context, demand, topic, position)
            if events is None:
                break
            if demand.error:
                self._abort(
                    context,
                    grpc.StatusCode.INVALID_ARGUMENT,
                    "sfdc.platform.eventbus.grpc.subscription.topic.changed",
                    demand.error,
                )
            if events:
                position = events[-1].number
                latest = position
            else:
                latest = self.bus.caught_up_position(topic, position)
                position = latest
            yield pb2.FetchResponse(
                events=[
                    pb2.ConsumerEvent(
                        event=pb2.ProducerEvent(
                            id=e.event_id, schema_id=e.schema_id, payload=e.payload
                        ),
                        replay_id=e.replay_id,
                    )
                    for e in events
                ],
                latest_replay_id=eventbus.replay_bytes(latest),
                rpc_id=rpc_id,
                pending_num_requested=demand.pending,
            )

    def _next_batch(self, context, demand, topic, position):
        """Events the client asked for, [] for a keepalive, None when done."""
        condition = self.bus.condition
        waited = 0.0
        with condition:
            while True:
                if (
                    self.stopping.is_set()
                    or self.bus.closed
                    or demand.done
                    or not context.is_active()
                ):
                    return None
                if demand.error:
                    return []
                if demand.pending > 0:
                    limit = min(demand.pending, MAX_BATCH)
                    events = self.bus.events_after(topic, position, limit)
                    if events:
                        demand.pending -= len(events)
                        return events
                if waited >= self.keepalive_seconds:
                    return []
                step = min(0.5, self.keepalive_seconds - waited)
                condition.wait(step)
                waited += step


class _Demand:
    """How many events the client still wants, fed by its FetchRequests."""

    def __init__(self, condition: threading.Condition, pending: int) -> None:
        self.condition = condition
        self.pending = pending
        self.done = False
        self.error = ""

    def read(self, requests, topic: str) -> None:
        try:
            for request in requests:
                with self.condition:
                    if request.topic_name and request.topic_name != topic:
                        self.error = (
                            f"The topic_name {request.topic_name!r} differs from the "
                            f"subscription's topic {topic!r}."
                        )
                    self.pending += max(request.num_requested, 0)
                    self.condition.notify_all()
        except grpc.RpcError:
            pass  # the client went away; finish() below ends the stream
        finally:
            self.finish()

    def finish(self) -> None:
        with self.condition:
            self.done = True
            self.condition.notify_all()


@dataclass
class PubSubServer:
    server: grpc.Server
    service: PubSubService
    host: str
    port: int

    @property
    def target(self) -> str:
        """What a gRPC client dials, e.g. ``127.0.0.1:8301``."""
        return f"{self.host}:{self.port}"

    def stop(self, grace: float | None = 0.5) -> None:
        self.service.stopping.set()
        with self.service.bus.condition:
            self.service.bus.condition.notify_all()
        self.server.stop(grace).wait()


def serve(
    org,
    bus: EventBus,
    *,
    certificate: ServerCertificate,
    host: str = "127.0.0.1",
    port: int = 0,
    keepalive_seconds: float = 270,
    max_workers: int = 32,
) -> PubSubServer:
    """Start the Pub/Sub server over TLS (the sim's local-CA certificate)."""
    service = PubSubService(org, bus, keepalive_seconds=keepalive_seconds)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=max_workers))
    pb2_grpc.add_PubSubServicer_to_server(service, server)
    credentials = grpc.ssl_server_credentials(
        [(certificate.key.read_bytes(), certificate.cert.read_bytes())]
    )
    bound = server.add_secure_port(f"{host}:{port}", credentials)
    if bound == 0:
        raise OSError(f"Could not listen on {host}:{port}.")
    server.start()
    return PubSubServer(server, service, host, bound)
