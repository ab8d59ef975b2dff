"""Which fields of customers, vendors and items are kept the same in Sage 100
and Xero, and how each is read from and written to either side.

=============  =====================================  ==============================
field          Sage 100                                Xero
=============  =====================================  ==============================
name           CustomerName / VendorName /            Name
               ItemCodeDesc
email          EmailAddress                           EmailAddress
phone          TelephoneNo                            Phones[DEFAULT]
address        AddressLine1..3, City, State,          Addresses[POBOX] (or STREET,
               ZipCode, CountryCode                   by the flow's option)
sales_price    StandardUnitPrice                      SalesDetails.UnitPrice
purchase_cost  StandardUnitCost                       PurchaseDetails.UnitPrice
=============  =====================================  ==============================

The keys are not synchronised fields: a customer's ``01-ABF`` is written once
to the contact's ContactNumber (so a person sees it in Xero, and a re-run finds
the contact before creating another), an item's ItemCode is its Xero Code.

Values are held in each side's own form; conversion happens between them:
addresses are standardised for Sage (``addresses.standardise``, USPS form and
Sage's column lengths), text is fitted to Sage's column length, prices are
converted between the two companies' currencies (``currency.convert``) when
they differ. Sage's columns are shorter than Xero's, so two values are
compared in Sage's form: a 40-character Xero name that Sage keeps as its first
30 characters is not a difference.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from integrations.engine.errors import ValidationFailed
from integrations.services import addresses, currency
from integrations.services.master_data import (
    ASK,
    NEWEST,
    SAGE100,
    XERO,
    Field,
)

CUSTOMER, VENDOR, ITEM = "customer", "vendor", "item"
KINDS = (CUSTOMER, VENDOR, ITEM)
ADDRESS_TYPES = ("POBOX", "STREET")
PRICE_PLACES = Decimal("0.0001")  # CI_Item's unit prices: 12 digits, 4 decimals
# Xero keeps unit prices to 2 decimals unless a call asks for unitdp=4.
XERO_PRICE_PLACES = Decimal("0.01")
SAGE_ADDRESS = (
    "AddressLine1",
    "AddressLine2",
    "AddressLine3",
    "City",
    "State",
    "ZipCode",
    "CountryCode",
)
XERO_ADDRESS = (
    "AddressLine1",
    "AddressLine2",
    "AddressLine3",
    "AddressLine4",
    "City",
    "Region",
    "PostalCode",
    "Country",
)
_XERO_DATE = re.compile(r"/Date\((-?\d+)([+-]\d{4})?\)/")
_DIGITS = re.compile(r"\d")


@dataclass(frozen=True)
class Options:
    """What a flow's options change about the fields (``from_options``)."""

    address_type: str = "POBOX"
    sage_currency: str = "USD"
    xero_currency: str = "USD"
    on: date | None = None  # the day whose currency rate applies

    @classmethod
    def from_options(cls, options: dict, *, on: date | None = None) -> Options:
        kind = str(options.get("xero_address_type") or "POBOX").strip().upper()
        if kind not in ADDRESS_TYPES:
            raise ValidationFailed(
                f"xero_address_type must be POBOX or STREET, not {kind!r}.",
                field="options.xero_address_type",
            )
        return cls(
            address_type=kind,
            sage_currency=currency.currency_code(
                options.get("sage_currency") or "USD", "options.sage_currency"
            ),
            xero_currency=currency.currency_code(
                options.get("xero_currency") or "USD", "options.xero_currency"
            ),
            on=on,
        )


@dataclass(frozen=True)
class Entity:
    """One kind of master data: its fields and both sides' shapes."""

    kind: str
    title: str  # "customer", in sentences
    fields: tuple[Field, ...]
    sage_columns: dict[str, str]  # field → Sage column (address: several)
    read_xero: Callable[[dict], dict]
    write_xero: Callable[[dict, dict], dict]  # (changes, current doc) → doc

    @property
    def names(self) -> list[str]:
        return [spec.name for spec in self.fields]

    def read_sage(self, row: dict) -> dict[str, Any]:
        """The fields of a Sage row (ODBC values or an event's JSON copy)."""
        values: dict[str, Any] = {}
        for spec in self.fields:
            column = self.sage_columns[spec.name]
            if spec.name == "address":
                values["address"] = {c: _text(row.get(c)) for c in SAGE_ADDRESS}
            elif spec.name in PRICES:
                values[spec.name] = _price(row.get(column))
            else:
                values[spec.name] = _text(row.get(column))
        return values

    def write_sage(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Sage column values for ``changes`` (fields in Sage's form)."""
        columns: dict[str, Any] = {}
        for name, value in changes.items():
            if name == "address":
                columns.update(value)
            else:
                columns[self.sage_columns[name]] = value
        return columns


PRICES = frozenset({"sales_price", "purchase_cost"})
DEFAULT_OWNERS = {
    # Customers and vendors: the account team keeps email in Xero (invoices,
    # statements and remittances are sent from there); the order desk keeps
    # the address in Sage 100 (it ships from there); the later phone number
    # wins; a name changed on both sides is worth a look.
    CUSTOMER: {"name": ASK, "email": XERO, "phone": NEWEST, "address": SAGE100},
    VENDOR: {"name": ASK, "email": XERO, "phone": NEWEST, "address": SAGE100},
    # Items: Sage 100 runs the price list and the costing.
    ITEM: {"name": SAGE100, "sales_price": SAGE100, "purchase_cost": SAGE100},
}


def entity(kind: str, options: Options | None = None) -> Entity:
    """The fields of ``kind`` (customer, vendor, item) under a flow's options."""
    options = options or Options()
    if kind == CUSTOMER:
        return _party(CUSTOMER, "customer", "CustomerName", options)
    if kind == VENDOR:
        return _party(VENDOR, "vendor", "VendorName", options)
    if kind == ITEM:
        return _item(options)
    raise ValidationFailed(
        f"{kind!r} is not master data: use customer, vendor or item.", field="kind"
    )


def field_names(kind: str) -> list[str]:
    return entity(kind).names


# -- customers and vendors ------------------------------------------------------


def _party(kind: str, title: str, name_column: str, options: Options) -> Entity:
    owners = DEFAULT_OWNERS[kind]
    fields = (
        Field(
            "name",
            "name",
            owners["name"],
            to_sage=lambda value: fit(value, 30),
        ),
        Field(
            "email",
            "email address",
            owners["email"],
            to_sage=lambda value: fit(value, 250),
        ),
        Field(
            "phone",
            "phone number",
            owners["phone"],
            to_sage=lambda value: fit(value, 17),
            same=lambda sage, xero: (
                _DIGITS.findall(sage or "") == _DIGITS.findall(xero or "")
            ),
        ),
        Field(
            "address",
            f"{'billing' if options.address_type == 'POBOX' else 'street'} address",
            owners["address"],
            to_sage=_address_to_sage,
            to_xero=_address_to_xero,
            same=_same_address,
        ),
    )
    address_type = options.address_type

    def read_xero(contact: dict) -> dict[str, Any]:
        return {
            "name": _text(contact.get("Name")),
            "email": _text(contact.get("EmailAddress")),
            "phone": _xero_phone(contact.get("Phones") or []),
            "address": _xero_address(contact.get("Addresses") or [], address_type),
        }

    def write_xero(changes: dict[str, Any], current: dict) -> dict:
        document: dict[str, Any] = {}
        if "name" in changes:
            document["Name"] = changes["name"]
        if "email" in changes:
            document["EmailAddress"] = changes["email"]
        if "phone" in changes:
            phones = [
                dict(phone)
                for phone in current.get("Phones") or []
                if phone.get("PhoneType") != "DEFAULT"
            ]
            phones.append(
                {
                    "PhoneType": "DEFAULT",
                    "PhoneNumber": changes["phone"],
                    "PhoneAreaCode": "",
                    "PhoneCountryCode": "",
                }
            )
            document["Phones"] = phones
        if "address" in changes:
            kept = [
                _address_fields(address)
                for address in current.get("Addresses") or []
                if address.get("AddressType") != address_type
            ]
            document["Addresses"] = [
                *kept,
                {"AddressType": address_type, **changes["address"]},
            ]
        return document

    return Entity(
        kind=kind,
        title=title,
        fields=fields,
        sage_columns={
            "name": name_column,
            "email": "EmailAddress",
            "phone": "TelephoneNo",
            "address": "AddressLine1",
        },
        read_xero=read_xero,
        write_xero=write_xero,
    )


def _xero_phone(phones: list[dict]) -> str:
    for phone in phones:
        if phone.get("PhoneType") == "DEFAULT":
            country = _text(phone.get("PhoneCountryCode"))
            area = _text(phone.get("PhoneAreaCode"))
            parts = [
                f"+{country.lstrip('+')}" if country else "",
                f"({area})" if area else "",
                _text(phone.get("PhoneNumber")),
            ]
            return " ".join(part for part in parts if part)
    return ""


def _xero_address(entries: list[dict], address_type: str) -> dict[str, str]:
    for entry in entries:
        if entry.get("AddressType") == address_type:
            return {name: _text(entry.get(name)) for name in XERO_ADDRESS}
    return {name: "" for name in XERO_ADDRESS}


def _address_fields(address: dict) -> dict:
    keep = ("AddressType", *XERO_ADDRESS, "AttentionTo")
    return {name: address[name] for name in keep if address.get(name) is not None}


def _standard(address: addresses.Address) -> addresses.StandardAddress:
    return addresses.standardise(address)


def _from_xero(value: dict) -> addresses.Address:
    lines = [value.get(f"AddressLine{n}") or "" for n in range(1, 5)]
    return addresses.Address(
        street="\n".join(line for line in lines if line),
        city=value.get("City") or "",
        state=value.get("Region") or "",
        postal_code=value.get("PostalCode") or "",
        country=value.get("Country") or "",
    )


def _from_sage(value: dict) -> addresses.Address:
    lines = [value.get(f"AddressLine{n}") or "" for n in range(1, 4)]
    return addresses.Address(
        street="\n".join(line for line in lines if line),
        city=value.get("City") or "",
        state=value.get("State") or "",
        postal_code=value.get("ZipCode") or "",
        country=value.get("CountryCode") or "",
    )


def _address_to_sage(value: dict) -> dict[str, str]:
    """Standardised for Sage 100 (USPS form, Sage's lengths)."""
    if not any(value.values()):
        return {column: "" for column in SAGE_ADDRESS}
    return _standard(_from_xero(value)).as_sage()


def _address_to_xero(value: dict) -> dict[str, str]:
    return {
        "AddressLine1": value.get("AddressLine1", ""),
        "AddressLine2": value.get("AddressLine2", ""),
        "AddressLine3": value.get("AddressLine3", ""),
        "AddressLine4": "",
        "City": value.get("City", ""),
        "Region": value.get("State", ""),
        "PostalCode": value.get("ZipCode", ""),
        "Country": value.get("CountryCode", ""),
    }


def _same_address(sage: dict, xero: dict) -> bool:
    """The same place once both are standardised (case, abbreviations, spacing
    and the country's spelling do not count)."""
    sage, xero = sage or {}, xero or {}
    if not any(sage.values()) or not any(xero.values()):
        return not any(sage.values()) and not any(xero.values())
    mine, theirs = _standard(_from_sage(sage)), _standard(_from_xero(xero))
    return _comparable(mine) == _comparable(theirs)


def _comparable(address: addresses.StandardAddress) -> tuple:
    return tuple(
        part.upper()
        for part in (
            *address.lines,
            address.city,
            address.state,
            address.zip_code,
            address.country_code,
        )
    )


# -- items -----------------------------------------------------------------------


def _item(options: Options) -> Entity:
    owners = DEFAULT_OWNERS[ITEM]

    def to_xero_price(value: str | None) -> str | None:
        return _convert(
            value,
            options.sage_currency,
            options.xero_currency,
            options,
            XERO_PRICE_PLACES,
        )

    def to_sage_price(value: str | None) -> str | None:
        return _convert(
            value, options.xero_currency, options.sage_currency, options, PRICE_PLACES
        )

    def same_price(sage: str | None, xero: str | None) -> bool:
        # Either way round: Sage's 4 decimals rounded to Xero's 2, or a price
        # converted there and back, is not a change anybody made.
        return to_sage_price(xero) == sage or to_xero_price(sage) == xero

    fields = (
        Field("name", "description", owners["name"], to_sage=lambda v: fit(v, 30)),
        Field(
            "sales_price",
            "selling price",
            owners["sales_price"],
            to_sage=to_sage_price,
            to_xero=to_xero_price,
            same=same_price,
        ),
        Field(
            "purchase_cost",
            "purchase cost",
            owners["purchase_cost"],
            to_sage=to_sage_price,
            to_xero=to_xero_price,
            same=same_price,
        ),
    )

    def read_xero(item: dict) -> dict[str, Any]:
        return {
            "name": _text(item.get("Name")),
            "sales_price": _price((item.get("SalesDetails") or {}).get("UnitPrice")),
            "purchase_cost": _price(
                (item.get("PurchaseDetails") or {}).get("UnitPrice")
            ),
        }

    def write_xero(changes: dict[str, Any], current: dict) -> dict:
        document: dict[str, Any] = {}
        if "name" in changes:
            document["Name"] = changes["name"]
        for name, part in (
            ("sales_price", "SalesDetails"),
            ("purchase_cost", "PurchaseDetails"),
        ):
            if name in changes:
                details = {
                    key: value
                    for key, value in (current.get(part) or {}).items()
                    if value is not None
                }
                details["UnitPrice"] = float(Decimal(changes[name] or "0"))
                document[part] = details
        return document

    return Entity(
        kind=ITEM,
        title="item",
        fields=fields,
        sage_columns={
            "name": "ItemCodeDesc",
            "sales_price": "StandardUnitPrice",
            "purchase_cost": "StandardUnitCost",
        },
        read_xero=read_xero,
        write_xero=write_xero,
    )


def _convert(
    value: str | None, source: str, target: str, options: Options, places: Decimal
) -> str | None:
    if value is None:
        return None
    amount = Decimal(value)
    if source != target:
        amount = currency.convert(amount, source, target, options.on or date.today())
    return str(amount.quantize(places, rounding=ROUND_HALF_UP).quantize(PRICE_PLACES))


# -- small conversions --------------------------------------------------------------


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def fit(value: str | None, length: int) -> str:
    """Text cut to a Sage column's length (at a word when one is near)."""
    text = _text(value)
    if len(text) <= length:
        return text
    cut = text[:length]
    space = cut.rfind(" ")
    return (cut[:space] if space > length * 2 // 3 else cut).rstrip()


def _price(value: Any) -> str | None:
    """A price as decimal text with CI_Item's 4 places; None when not set."""
    if value is None or value == "":
        return None
    try:
        return str(Decimal(str(value)).quantize(PRICE_PLACES))
    except InvalidOperation:
        raise ValidationFailed(
            f"{value!r} is not a price.", field="UnitPrice"
        ) from None


def xero_updated_at(document: dict) -> datetime | None:
    """Xero's ``UpdatedDateUTC`` (``/Date(1700000000000+0000)/`` or ISO)."""
    raw = document.get("UpdatedDateUTC")
    if not raw:
        return None
    found = _XERO_DATE.fullmatch(str(raw))
    if found:
        return datetime.fromtimestamp(int(found.group(1)) / 1000, tz=UTC)
    try:
        moment = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
