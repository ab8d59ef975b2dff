import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from integrations.models import (
    ChangeFeed,
    Connection,
    FieldMapping,
    InboundEvent,
    SyncRecord,
)

pytestmark = pytest.mark.django_db


def test_demo_data_loads_twice_without_duplicates():
    call_command("load_demo_data", password="pw-for-test")
    call_command("load_demo_data", password="pw-for-test")

    assert Connection.objects.filter(slug="webshop").count() == 1
    # Four web-shop documents for the order desk, three web orders for Sage 100.
    assert InboundEvent.objects.count() == 7
    assert SyncRecord.objects.count() == 7
    assert FieldMapping.objects.count() == 6
    assert InboundEvent.objects.filter(deliveries=2).count() == 7
    # Five feeds of its own, two for procure-to-pay and AP_Vendor for master
    # data (demo_xero).
    assert ChangeFeed.objects.filter(connection__slug="sage100-abc").count() == 8


def test_demo_login_works():
    call_command("load_demo_data", password="pw-for-test")
    user = authenticate(username="admin", password="pw-for-test")
    assert user is not None and user.is_superuser
