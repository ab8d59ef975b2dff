"""Our Salesforce Pub/Sub API subscriber: a long-running process per connection.

For each topic it opens a ``Subscribe`` stream over TLS, resumes after the
replay id stored in the topic's ``StreamCursor`` (or starts at LATEST/EARLIEST
when there is none), asks for events in batches (pull-based flow control:
the next batch is requested only when the last one is stored), decodes the
Avro payloads with schemas fetched once per schema id, and hands each event to
the inbox in its normalised shape. The cursor moves in the same transaction as
the inbox write, so a crash re-delivers at most the event in flight, and the
inbox de-duplicates it on ``pubsub:<topic>:<replay id>``. An event that
cannot be decoded or read is kept as it came (base64 payload, schema id,
replay id) with the reason, and the cursor moves past it in the same
transaction: one bad event must not stall the topic.

It reconnects with exponential backoff when Pub/Sub is unavailable, logs in
again when the session is refused, falls back to the configured preset when
Salesforce refuses a stored replay id (older than the 72-hour retention), and
records every problem on the cursor's ``last_error``.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import queue
import threading
from collections.abc import Callable, Sequence

import fastavro
import grpc
import requests
from django.db import close_old_connections, transaction
from django.db import connection as db_connection
from django.db.models import F
from django.utils import timezone

from integrations.connectors.salesforce.auth import Token, obtain_token
from integrations.connectors.salesforce.pubsub import pubsub_api_pb2 as pb2
from integrations.connectors.salesforce.pubsub import pubsub_api_pb2_grpc as pb2_grpc
from integrations.connectors.salesforce.settings import SalesforceSettings
from integrations.engine.errors import SyncError
from integrations.models import Connection, StreamCursor
from integrations.services import inbox, salesforce_events

logger = logging.getLogger(__name__)

DEFAULT_TOPICS = (
    "/data/OpportunityChangeEvent",
    "/data/OrderChangeEvent",
    "/event/Order_Event__e",
)
DEFAULT_PUBSUB_URL = "api.pubsub.salesforce.com:7443"
PRESETS = ("LATEST", "EARLIEST")


def _token_source(connection: Connection) -> Callable[[], Token]:
    conf = SalesforceSettings.from_connection(
        connection.settings, connection.credentials
    )
    session = requests.Session()
    return lambda: obtain_token(conf, session)


def _preset(settings: dict, key: str, default: str) -> str:
    value = str(settings.get(key) or default).upper()
    if value not in PRESETS:
        raise ValueError(f"settings.{key} must be LATEST or EARLIEST, not {value!r}.")
    return value


class Subscriber:
    """Follow ``topics`` of one Salesforce connection until ``stop()``.

    ``token_source``: returns a fresh Token (defaults to the connection's OAuth
    login); ``root_certificates``: PEM bytes to trust (defaults to the
    connection's ``ca_bundle`` setting, else the system's roots).
    """

    def __init__(
        self,
        connection_id: int,
        topics: Sequence[str] | None = None,
        *,
        batch_size: int = 100,
        backoff_initial: float = 1.0,
        backoff_max: float = 60.0,
        token_source: Callable[[], Token] | None = None,
        root_certificates: bytes | None = None,
    ) -> None:
        connection = Connection.objects.get(pk=connection_id)
        settings = connection.settings or {}
        self.connection_id = connection_id
        self.topics = tuple(topics or settings.get("pubsub_topics") or DEFAULT_TOPICS)
        self.target = str(settings.get("pubsub_url") or DEFAULT_PUBSUB_URL)
        self.start_preset = _preset(settings, "pubsub_start", "LATEST")
        self.fallback_preset = _preset(settings, "pubsub_replay_fallback", "EARLIEST")
        self.batch_size = max(1, min(batch_size, 100))
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self._token_source = token_source or _token_source(connection)
        if root_certificates is None and settings.get("ca_bundle"):
            with open(settings["ca_bundle"], "rb") as bundle:
                root_certificates = bundle.read()
        self._credentials = grpc.ssl_channel_credentials(root_certificates)
        self._channel: grpc.Channel | None = None
        self._token: Token | None = None
        self._token_lock = threading.Lock()
        self._schemas: dict[str, dict] = {}
        self._schema_lock = threading.Lock()
        self._stop = threading.Event()
        self._calls: set = set()
        self._calls_lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._refused_replay: set[str] = set()

    # --- lifecycle -------------------------------------------------------------

    def start(self) -> None:
        self._channel = grpc.secure_channel(self.target, self._credentials)
        for topic in self.topics:
            thread = threading.Thread(
                target=self._follow, args=(topic,), name=f"pubsub {topic}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        with self._calls_lock:
            for call in list(self._calls):
                call.cancel()
        for thread in self._threads:
            thread.join(timeout)
        if self._channel is not None:
            self._channel.close()

    def run(self) -> None:
        """Follow the topics until ``stop()`` (from a signal handler) is called."""
        self.start()
        try:
            while not self._stop.wait(1.0):
                pass
        finally:
            self.stop()

    # --- one topic -------------------------------------------------------------

    def _follow(self, topic: str) -> None:
        delay = self.backoff_initial
        try:
            while not self._stop.is_set():
                try:
                    self._stream(topic)
                    delay = self.backoff_initial
                    continue
                except grpc.RpcError as exc:
                    if self._stop.is_set():
                        return
                    retry_now = self._rpc_failed(topic, exc)
                except SyncError as exc:  # logging in failed
                    self._note(topic, f"Could not log in to Salesforce: {exc.message}")
                    retry_now = False
                except Exception as exc:
                    logger.exception("Pub/Sub subscriber failed on %s", topic)
                    self._note(topic, f"The subscriber failed: {exc!r}")
                    retry_now = False
                if not retry_now:
                    self._stop.wait(delay)
                    delay = min(delay * 2, self.backoff_max)
        finally:
            db_connection.close()

    def _rpc_failed(self, topic: str, exc: grpc.RpcError) -> bool:
        """Record the failure; True when retrying at once makes sense."""
        code, details = exc.code(), exc.details() or ""
        trailers = dict(exc.trailing_metadata() or ())
        if code == grpc.StatusCode.UNAUTHENTICATED:
            self._note(
                topic, f"Pub/Sub refused the session; logging in again. {details}"
            )
            return self._refresh_token()
        if code == grpc.StatusCode.INVALID_ARGUMENT and (
            "replayid" in trailers.get("error-code", "") or "Replay ID" in details
        ):
            self._refused_replay.add(topic)
            self._note(
                topic,
                "Salesforce refused the stored replay id (older than its 72-hour "
                f"retention, or unknown); resuming from {self.fallback_preset}. "
                f"{details}",
            )
            return True
        self._note(topic, f"Pub/Sub call failed ({code.name}): {details}")
        return False

    def _stream(self, topic: str) -> None:
        cursor = StreamCursor.objects.filter(
            connection_id=self.connection_id, topic=topic
        ).first()
        first = pb2.FetchRequest(topic_name=topic, num_requested=self.batch_size)
        if topic in self._refused_replay:
            first.replay_preset = pb2.ReplayPreset.Value(self.fallback_preset)
        elif cursor is not None and cursor.replay_id:
            first.replay_preset = pb2.CUSTOM
            first.replay_id = bytes(cursor.replay_id)
        else:
            first.replay_preset = pb2.ReplayPreset.Value(self.start_preset)
        requests_out: queue.Queue = queue.Queue()
        requests_out.put(first)
        stub = pb2_grpc.PubSubStub(self._channel)
        call = stub.Subscribe(iter(requests_out.get, None), metadata=self._metadata())
        with self._calls_lock:
            self._calls.add(call)
        if self._stop.is_set():
            call.cancel()
        outstanding = self.batch_size
        try:
            for response in call:
                self._refused_replay.discard(topic)
                if response.events:
                    self._store(topic, response.events)
                    outstanding -= len(response.events)
                elif response.latest_replay_id:
                    self._keepalive(topic, response.latest_replay_id)
                if outstanding <= 0:
                    requests_out.put(
                        pb2.FetchRequest(
                            topic_name=topic, num_requested=self.batch_size
                        )
                    )
                    outstanding += self.batch_size
        finally:
            requests_out.put(None)
            with self._calls_lock:
                self._calls.discard(call)

    # --- auth and schemas -------------------------------------------------------

    def _current_token(self) -> Token:
        with self._token_lock:
            if self._token is None:
                self._token = self._token_source()
            return self._token

    def _refresh_token(self) -> bool:
        """Log in again; True unless the last login was moments ago."""
        with self._token_lock:
            stale = self._token
            self._token = None
        token = self._current_token()
        return stale is None or token.access_token != stale.access_token

    def _metadata(self) -> tuple[tuple[str, str], ...]:
        token = self._current_token()
        return (
            ("accesstoken", token.access_token),
            ("instanceurl", token.instance_url),
            ("tenantid", token.org_id),
        )

    def _schema(self, schema_id: str):
        with self._schema_lock:
            if schema_id not in self._schemas:
                stub = pb2_grpc.PubSubStub(self._channel)
                info = stub.GetSchema(
                    pb2.SchemaRequest(schema_id=schema_id), metadata=self._metadata()
                )
                self._schemas[schema_id] = fastavro.parse_schema(
                    json.loads(info.schema_json)
                )
            return self._schemas[schema_id]

    # --- storing -----------------------------------------------------------------

    def _store(self, topic: str, events) -> None:
        close_old_connections()
        connection = Connection.objects.get(pk=self.connection_id)
        listeners = inbox.listeners_of(connection)
        for consumer in events:
            event = consumer.event
            replay_hex = consumer.replay_id.hex()
            provider_event_id = f"pubsub:{topic}:{replay_hex}"
            headers = {"pubsub-topic": topic, "schema-id": event.schema_id}
            try:
                body, normalised = self._read(topic, consumer)
            except grpc.RpcError:
                raise  # the schema could not be fetched: reconnect and retry
            except Exception as exc:  # noqa: BLE001 - one bad event must not stop us
                self._store_unreadable(
                    connection, topic, consumer, headers, provider_event_id, exc
                )
                continue
            with transaction.atomic():
                inbox.accept(
                    connection,
                    body=body,
                    headers=headers,
                    provider_event_id=provider_event_id,
                    topic=salesforce_events.topic_for(normalised["sobject"]),
                    signature_verified=True,
                    listeners=listeners,
                    parsed=normalised,
                )
                self._advance(connection, topic, consumer.replay_id)

    def _read(self, topic: str, consumer) -> tuple[bytes, dict]:
        """The stored body (JSON) and the normalised event of one consumer event."""
        event = consumer.event
        decoded = fastavro.schemaless_reader(
            io.BytesIO(event.payload), self._schema(event.schema_id)
        )
        normalised = salesforce_events.from_pubsub(decoded, event_id=event.id)
        body = json.dumps(
            {
                "topic": topic,
                "replay_id": consumer.replay_id.hex(),
                "event_id": event.id,
                "schema_id": event.schema_id,
                "payload": salesforce_events.jsonable(decoded),
            },
            sort_keys=True,
        ).encode()
        return body, normalised

    def _store_unreadable(
        self, connection, topic, consumer, headers, provider_event_id, exc
    ) -> None:
        """Keep an event we cannot decode, as it came, and move past it.

        Re-reading it would fail the same way forever; the raw payload and the
        reason stay in the inbox for an admin.
        """
        event = consumer.event
        reason = (
            f"The event could not be decoded with schema {event.schema_id}: {exc!r}"
        )
        logger.warning(
            "Pub/Sub %s: replay id %s: %s", topic, consumer.replay_id.hex(), reason
        )
        body = json.dumps(
            {
                "topic": topic,
                "replay_id": consumer.replay_id.hex(),
                "event_id": event.id,
                "schema_id": event.schema_id,
                "payload_base64": base64.b64encode(event.payload).decode(),
            },
            sort_keys=True,
        ).encode()
        with transaction.atomic():
            inbox.store_refused(
                connection,
                body=body,
                headers=headers,
                message=reason,
                field_name="payload",
                provider_event_id=provider_event_id,
            )
            self._advance(connection, topic, consumer.replay_id)

    def _advance(self, connection, topic: str, replay_id: bytes) -> None:
        cursor, _ = StreamCursor.objects.get_or_create(
            connection=connection, topic=topic
        )
        StreamCursor.objects.filter(pk=cursor.pk).update(
            replay_id=replay_id,
            events_received=F("events_received") + 1,
            last_event_at=timezone.now(),
            updated_at=timezone.now(),
        )

    def _keepalive(self, topic: str, latest_replay_id: bytes) -> None:
        """Every earlier event is stored: keep the cursor inside the retention."""
        close_old_connections()
        cursor, _ = StreamCursor.objects.get_or_create(
            connection_id=self.connection_id, topic=topic
        )
        if bytes(cursor.replay_id) != latest_replay_id:
            StreamCursor.objects.filter(pk=cursor.pk).update(
                replay_id=latest_replay_id, updated_at=timezone.now()
            )

    def _note(self, topic: str, message: str) -> None:
        logger.warning("Pub/Sub %s: %s", topic, message)
        try:
            close_old_connections()
            cursor, _ = StreamCursor.objects.get_or_create(
                connection_id=self.connection_id, topic=topic
            )
            StreamCursor.objects.filter(pk=cursor.pk).update(
                last_error=message[:500], updated_at=timezone.now()
            )
        except Exception:
            logger.exception("Could not record the Pub/Sub error for %s", topic)
