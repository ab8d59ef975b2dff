"""Shapes of what the API reads and writes. Validation of input lives here; the
work itself lives in services."""

from __future__ import annotations

from rest_framework import serializers

from integrations.models import (
    Connection,
    ErrorCategory,
    RecordStatus,
    SyncAttempt,
    SyncRecord,
)


class RecordFilterSerializer(serializers.Serializer):
    """Query parameters of ``GET /records/``; a bad value is a 400 naming it."""

    status = serializers.ChoiceField(choices=RecordStatus.choices, required=False)
    flow = serializers.CharField(required=False, help_text="Registered flow name.")
    source_id = serializers.CharField(
        required=False, help_text="The object's id in the source system."
    )
    connection = serializers.SlugField(
        required=False,
        help_text="Slug of the connection the record comes from or goes to.",
    )
    error_category = serializers.ChoiceField(
        choices=ErrorCategory.choices, required=False
    )
    created_after = serializers.DateTimeField(
        required=False, help_text="ISO 8601 date or date-time, inclusive."
    )
    created_before = serializers.DateTimeField(
        required=False, help_text="ISO 8601 date or date-time, exclusive."
    )

    def validate_connection(self, value: str) -> str:
        if not Connection.objects.filter(slug=value).exists():
            raise serializers.ValidationError(f"No connection has the slug {value!r}.")
        return value

    def validate(self, attrs: dict) -> dict:
        after, before = attrs.get("created_after"), attrs.get("created_before")
        if after and before and after >= before:
            raise serializers.ValidationError(
                {"created_before": "Must be later than created_after."}
            )
        return attrs


class AttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = SyncAttempt
        fields = [
            "number",
            "worker",
            "started_at",
            "finished_at",
            "duration_ms",
            "outcome",
            "steps_run",
            "error_category",
            "error_field",
            "error_message",
            "error_detail",
            "api_calls",
            "target_ids",
        ]
        read_only_fields = fields


class RecordSerializer(serializers.ModelSerializer):
    source_connection = serializers.SlugRelatedField(
        source="flow_config.source_connection", slug_field="slug", read_only=True
    )
    target_connection = serializers.SlugRelatedField(
        source="flow_config.target_connection",
        slug_field="slug",
        read_only=True,
        allow_null=True,
    )

    class Meta:
        model = SyncRecord
        fields = [
            "id",
            "flow",
            "flow_config",
            "source_connection",
            "target_connection",
            "event",
            "source_system",
            "source_object_type",
            "source_id",
            "source_version",
            "idempotency_key",
            "status",
            "attempts",
            "next_attempt_at",
            "error_category",
            "error_field",
            "error_message",
            "ignored_reason",
            "target_ids",
            "created_at",
            "updated_at",
            "finished_at",
        ]
        read_only_fields = fields


class RecordDetailSerializer(RecordSerializer):
    """One record with its payloads and every attempt, oldest first."""

    timeline = AttemptSerializer(source="attempt_set", many=True, read_only=True)

    class Meta(RecordSerializer.Meta):
        fields = [
            *RecordSerializer.Meta.fields,
            "payload",
            "payload_override",
            "timeline",
        ]
        read_only_fields = fields


class IgnoreSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=500, help_text="Why nobody should sync this record; audited."
    )


class ErrorItemSerializer(serializers.Serializer):
    field = serializers.CharField(allow_null=True)
    message = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    """Every refusal: the first problem, and the full list."""

    error = serializers.CharField()
    field = serializers.CharField(allow_null=True)
    errors = ErrorItemSerializer(many=True)


class InboundAcceptedSerializer(serializers.Serializer):
    event = serializers.IntegerField(help_text="Id of the stored inbound event.")
    duplicate = serializers.BooleanField(
        help_text="True when this event was delivered before; nothing new was made."
    )
    records = serializers.ListField(
        child=serializers.IntegerField(), help_text="Ids of the event's sync records."
    )
    note = serializers.CharField(
        required=False, help_text="Why the event made no records, when it made none."
    )


class InboundRefusedSerializer(ErrorSerializer):
    event = serializers.IntegerField(
        help_text="The event is stored (it was signed) though no record was made."
    )
