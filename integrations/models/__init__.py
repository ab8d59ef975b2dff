from integrations.models.alerts import Alert, AlertChannel, AlertRule
from integrations.models.apikeys import ConnectionAPIKey
from integrations.models.changefeeds import (
    ChangeFeed,
    ChangeFeedRow,
    FeedMode,
    FeedTable,
)
from integrations.models.connections import Connection, ConnectionStatus, System
from integrations.models.currency import CurrencyRate
from integrations.models.flows import FlowConfig, Trigger
from integrations.models.mappings import FieldMapping, Transform
from integrations.models.master_data import (
    FieldOwner,
    MasterDataFieldRule,
    MasterDataKind,
    MasterDataLink,
)
from integrations.models.matching import MatchDecision, MatchDecisionKind, MatchVerdict
from integrations.models.records import (
    AttemptOutcome,
    ErrorCategory,
    InboundEvent,
    RecordStatus,
    SyncAttempt,
    SyncRecord,
)
from integrations.models.streams import StreamCursor
from integrations.models.xrefs import CrossReference, XrefKind

__all__ = [
    "Alert",
    "AlertChannel",
    "AlertRule",
    "AttemptOutcome",
    "ChangeFeed",
    "ChangeFeedRow",
    "Connection",
    "ConnectionAPIKey",
    "ConnectionStatus",
    "CrossReference",
    "CurrencyRate",
    "ErrorCategory",
    "FeedMode",
    "FeedTable",
    "FieldMapping",
    "FieldOwner",
    "FlowConfig",
    "InboundEvent",
    "MasterDataFieldRule",
    "MasterDataKind",
    "MasterDataLink",
    "MatchDecision",
    "MatchDecisionKind",
    "MatchVerdict",
    "RecordStatus",
    "StreamCursor",
    "SyncAttempt",
    "SyncRecord",
    "System",
    "Transform",
    "Trigger",
    "XrefKind",
]
