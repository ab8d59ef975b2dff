"""The field-level merge of two-way master data: who wins, what is written, what
waits for a person, and how our own writes are recognised when they come back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from integrations.services.master_data import (
    ASK,
    NEWEST,
    SAGE100,
    SAGE100_ONLY,
    XERO,
    XERO_ONLY,
    Field,
    fingerprint,
    is_echo,
    merge,
)

NAME = Field("name", "name", ASK, to_sage=lambda value: (value or "")[:30])
EMAIL = Field("email", "email address", XERO)
PHONE = Field("phone", "phone number", NEWEST)
FIELDS = (NAME, EMAIL, PHONE)
AGREED = {"name": "Acme", "email": "ap@acme.test", "phone": "555-0100"}
NOON = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def run_merge(sage=None, xero=None, *, before=AGREED, **kwargs):
    return merge(
        FIELDS,
        sage_now={**AGREED, **(sage or {})},
        xero_now={**AGREED, **(xero or {})},
        sage_before=before,
        xero_before=before,
        **kwargs,
    )


def test_nothing_changed_writes_nothing():
    result = run_merge()

    assert result.writes_nothing
    assert result.conflicts == []


def test_a_change_on_one_side_goes_to_the_other():
    from_sage = run_merge(sage={"email": "billing@acme.test"})
    from_xero = run_merge(xero={"phone": "555-0199"})

    assert from_sage.to_xero == {"email": "billing@acme.test"}
    assert from_sage.to_sage == {}
    assert from_xero.to_sage == {"phone": "555-0199"}
    assert from_xero.to_xero == {}


def test_a_one_sided_change_passes_even_a_field_the_other_side_wins():
    # "Xero wins" settles a field both changed; a change made only in Sage
    # still reaches Xero.
    result = run_merge(sage={"email": "new@acme.test"})

    assert result.to_xero == {"email": "new@acme.test"}


def test_the_owner_wins_when_both_sides_changed_the_field():
    result = run_merge(
        sage={"email": "sage@acme.test", "name": "Acme Inc"},
        xero={"email": "xero@acme.test", "name": "Acme Ltd"},
        owners={"name": SAGE100},
    )

    assert result.to_sage == {"email": "xero@acme.test"}  # email: Xero by default
    assert result.to_xero == {"name": "Acme Inc"}  # name: Sage, by the admin
    assert result.decisions == {"email": XERO, "name": SAGE100}
    assert result.conflicts == []


def test_newest_takes_the_later_change_either_way():
    both = {"sage": {"phone": "555-0001"}, "xero": {"phone": "555-0002"}}

    sage_later = run_merge(
        **both, sage_changed_at=NOON, xero_changed_at=NOON - timedelta(minutes=5)
    )
    xero_later = run_merge(
        **both, sage_changed_at=NOON, xero_changed_at=NOON + timedelta(seconds=1)
    )

    assert sage_later.to_xero == {"phone": "555-0001"}
    assert sage_later.to_sage == {}
    assert xero_later.to_sage == {"phone": "555-0002"}
    assert xero_later.to_xero == {}


def test_newest_without_a_later_side_asks_a_person():
    result = run_merge(
        sage={"phone": "555-0001"},
        xero={"phone": "555-0002"},
        sage_changed_at=NOON,
        xero_changed_at=NOON,
    )

    assert result.writes_nothing
    [conflict] = result.conflicts
    assert conflict.field == "phone"
    assert "neither is the later one" in conflict.words()


def test_ask_makes_a_conflict_that_shows_both_values():
    result = run_merge(
        sage={"name": "Acme Incorporated", "email": "sage@acme.test"},
        xero={"name": "Acme Holdings"},
    )

    assert result.to_xero == {"email": "sage@acme.test"}  # the rest still moves
    [conflict] = result.conflicts
    assert (conflict.field, conflict.sage, conflict.xero) == (
        "name",
        "Acme Incorporated",
        "Acme Holdings",
    )
    assert conflict.words() == (
        "Both Sage 100 and Xero changed the name since the last sync (both had "
        '"Acme" at the last sync): Sage 100 has "Acme Incorporated", Xero has '
        '"Acme Holdings".'
    )
    assert result.explain() == conflict.words()


def test_both_sides_changing_a_field_to_the_same_value_is_not_a_conflict():
    result = run_merge(sage={"name": "Acme Inc"}, xero={"name": "Acme Inc"})

    assert result.writes_nothing
    assert result.conflicts == []


def test_values_are_compared_in_sage_form():
    # Sage keeps the first 30 characters of a longer Xero name: no difference.
    long_name = "The Acme Corporation of North America"
    result = run_merge(sage={"name": long_name[:30]}, xero={"name": long_name})

    assert result.writes_nothing
    assert result.conflicts == []


def test_a_new_pair_fills_a_blank_side_and_asks_the_owner_about_the_rest():
    result = merge(
        FIELDS,
        sage_now={"name": "Acme", "email": "", "phone": "555-0100"},
        xero_now={"name": "ACME Co", "email": "ap@acme.test", "phone": ""},
        sage_before=None,
        xero_before=None,
    )

    assert result.to_sage == {"email": "ap@acme.test"}
    assert result.to_xero == {"phone": "555-0100"}
    [conflict] = result.conflicts  # name: both have one, and the owner is "ask"
    assert (conflict.sage, conflict.xero) == ("Acme", "ACME Co")
    assert "at the last sync" not in conflict.words()


def test_a_strict_owner_undoes_a_change_made_on_the_other_side():
    sage_only = run_merge(
        xero={"name": "Renamed in Xero"}, owners={"name": SAGE100_ONLY}
    )
    xero_only = run_merge(sage={"email": "typo@acme"}, owners={"email": XERO_ONLY})

    assert sage_only.to_xero == {"name": "Acme"}
    assert sage_only.to_sage == {}
    assert xero_only.to_sage == {"email": "ap@acme.test"}
    assert xero_only.to_xero == {}


def test_a_field_left_in_conflict_conflicts_again_until_settled():
    # The snapshot keeps no value for a field waiting for a person.
    before = {"email": "ap@acme.test", "phone": "555-0100"}
    again = merge(
        FIELDS,
        sage_now={**AGREED, "name": "Acme Inc"},
        xero_now={**AGREED, "name": "Acme Ltd"},
        sage_before=before,
        xero_before=before,
    )
    settled = merge(
        FIELDS,
        sage_now={**AGREED, "name": "Acme Ltd"},
        xero_now={**AGREED, "name": "Acme Ltd"},
        sage_before=before,
        xero_before=before,
    )

    assert [c.field for c in again.conflicts] == ["name"]
    assert settled.conflicts == [] and settled.writes_nothing


def test_a_difference_both_sides_held_after_the_last_sync_is_left_alone():
    # A default one side filled in when the pair was made (Sage gives a new
    # vendor CountryCode USA) is not a change anybody made since.
    result = merge(
        FIELDS,
        sage_now={**AGREED, "phone": "555-0100"},
        xero_now={**AGREED, "phone": ""},
        sage_before={**AGREED, "phone": "555-0100"},
        xero_before={**AGREED, "phone": ""},
    )

    assert result.writes_nothing
    assert result.conflicts == []


def test_an_unknown_owner_is_refused():
    with pytest.raises(ValueError, match="not a field owner"):
        run_merge(sage={"name": "x"}, xero={"name": "y"}, owners={"name": "sage"})


def test_our_own_write_coming_back_is_an_echo():
    written = {"name": "Acme", "email": "ap@acme.test", "phone": "555-0100"}
    written_hash = fingerprint(written)

    assert is_echo(dict(reversed(list(written.items()))), written_hash)
    assert not is_echo({**written, "phone": "555-0101"}, written_hash)
    assert not is_echo(written, "")
