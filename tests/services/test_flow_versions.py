"""A flow's versions: listed with who and why, compared in words, rolled back."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from integrations.models import FieldMapping, FlowConfig
from integrations.services import flow_versions
from tests.factories import ConnectionFactory, FlowConfigFactory

pytestmark = pytest.mark.django_db


def as_user(instance, user, reason: str = ""):
    instance._history_user = user
    instance._change_reason = reason
    return instance


@pytest.fixture
def people():
    users = get_user_model().objects
    return {name: users.create_user(name, is_staff=True) for name in ("ann", "bob")}


@pytest.fixture
def config(people):
    """Version 1 by ann: two mappings. Version 2 by bob: a new schedule, one
    mapping changed, one removed, one added."""
    ann, bob = people["ann"], people["bob"]
    flow = as_user(
        FlowConfigFactory.build(
            source_connection=ConnectionFactory(),
            target_connection=ConnectionFactory(),
        ),
        ann,
    )
    flow.save()
    keep = as_user(
        FieldMapping(flow_config=flow, source_field="name", target_field="Name"), ann
    )
    keep.save()
    gone = as_user(
        FieldMapping(flow_config=flow, source_field="po", target_field="CustomerPONo"),
        ann,
    )
    gone.save()

    _later(flow)
    flow = as_user(FlowConfig.objects.get(pk=flow.pk), bob, "Hourly is enough")
    flow.trigger, flow.schedule = "poll", "0 * * * *"
    flow.options = {"warehouse": "001"}
    flow.save()
    keep = as_user(FieldMapping.objects.get(pk=keep.pk), bob)
    keep.transform = "upper"
    keep.save()
    as_user(FieldMapping.objects.get(pk=gone.pk), bob).delete()
    as_user(
        FieldMapping(flow_config=flow, source_field="ref", target_field="Comment"), bob
    ).save()
    flow.kept_id, flow.gone_id = keep.pk, gone.pk
    return flow


def _later(flow):
    """Push the history written so far one minute back: the next change is a
    different moment, as it is when a person edits again."""
    from datetime import timedelta

    for model in (FlowConfig, FieldMapping):
        for row in model.history.all():
            row.history_date -= timedelta(minutes=1)
            row.save()


def test_versions_are_listed_newest_first_with_who_and_why(config):
    found = flow_versions.versions(config)

    assert [(v.number, v.user, v.reason) for v in found] == [
        (2, "bob", "Hourly is enough"),
        (1, "ann", ""),
    ]
    assert found[1].changes == ("Created.",)


def test_comparing_two_versions_says_what_changed_in_words(config):
    changes = flow_versions.compare(config, 1, 2)

    assert changes == [
        "Trigger: Events (webhooks and change feeds) → Poll (we ask the source "
        "for changes).",
        "Schedule: (empty) → “0 * * * *”.",
        "Option warehouse added: “001”.",
        "Mapping name → Name: transform none → upper-case.",
        "Mapping removed: po → CustomerPONo.",
        "Mapping added: ref → Comment.",
    ]
    assert flow_versions.versions(config)[0].changes == tuple(changes)


def test_rollback_restores_the_settings_and_the_mapping_rows(config, people):
    flow_versions.rollback(
        config, 1, user=people["ann"], reason="Bob's change broke SO"
    )

    config.refresh_from_db()
    assert (config.trigger, config.schedule, config.options) == ("webhook", "", {})
    rows = {
        row.pk: (row.source_field, row.target_field, row.transform)
        for row in FieldMapping.objects.filter(flow_config=config)
    }
    assert rows == {
        config.kept_id: ("name", "Name", ""),
        config.gone_id: ("po", "CustomerPONo", ""),
    }


def test_rollback_is_itself_a_version_naming_who_and_why(config, people):
    flow_versions.rollback(
        config, 1, user=people["ann"], reason="Bob's change broke SO"
    )

    newest = flow_versions.versions(config)[0]
    assert newest.number == 3
    assert newest.user == "ann"
    assert newest.reason == "Rolled back to version 1: Bob's change broke SO"
    assert flow_versions.compare(config, 1, 3) == []


def test_rollback_without_a_reason_is_refused(config, people):
    with pytest.raises(flow_versions.RollbackRefused, match="Say why"):
        flow_versions.rollback(config, 1, user=people["ann"], reason=" ")

    config.refresh_from_db()
    assert config.schedule == "0 * * * *"


def test_a_version_that_does_not_exist_is_named(config, people):
    with pytest.raises(LookupError, match="no version 9"):
        flow_versions.rollback(config, 9, user=people["ann"], reason="typo")


def test_listing_versions_reads_the_history_once_however_long_it_is(config, people):
    def queries_for_versions() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            flow_versions.versions(config)
        return len(captured.captured_queries)

    before = queries_for_versions()
    for hour in range(8):
        _later(config)
        flow = as_user(FlowConfig.objects.get(pk=config.pk), people["ann"])
        flow.schedule = f"0 {hour} * * *"
        flow.save()
        mapping = as_user(FieldMapping.objects.get(pk=config.kept_id), people["ann"])
        mapping.default = str(hour)
        mapping.save()

    assert len(flow_versions.versions(config)) == 10
    assert queries_for_versions() == before


def test_versions_can_be_limited_to_the_newest(config, people):
    _later(config)
    flow_versions.rollback(config, 1, user=people["ann"], reason="Back")

    every = flow_versions.versions(config)
    newest = flow_versions.versions(config, limit=2)

    assert [v.number for v in newest] == [3, 2]
    assert newest == every[:2]
