"""What the simulated org tells its event channels (Pub/Sub, Outbound Messages,
callouts) after each committed change, mirroring Change Data Capture's header."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ChangeEvent:
    entity: str  # "Opportunity"
    change_type: str  # CREATE | UPDATE | DELETE | UNDELETE
    record_ids: tuple[str, ...]
    changed_fields: tuple[str, ...]
    # CREATE: every non-null field; UPDATE: the changed fields' new values.
    fields: dict
    commit_timestamp: int  # epoch milliseconds
    commit_number: int
    transaction_key: str
    commit_user: str
    change_origin: str
    # The whole record after the change (Outbound Messages send a snapshot).
    record: dict = field(default_factory=dict)


@dataclass(frozen=True)
class PlatformEvent:
    name: str  # "Order_Event__e"
    fields: dict
    event_uuid: str
    created_date: str  # ISO 8601, UTC
    created_by_id: str
