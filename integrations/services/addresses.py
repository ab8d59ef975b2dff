"""Addresses made fit for Sage 100's columns, with every compromise said out loud.

Sage's business objects refuse a value longer than its column (SAGE100-FACTS.md
section 1), so an address from Salesforce, Xero or Shopify is standardised and
fitted here before a flow writes it. US addresses follow USPS Publication 28
(through ``scourgify``: "123 north main street suite 400" → "123 N MAIN ST STE
400"); other countries keep their text as given (diacritics included), with
whitespace tidied and Canadian / UK postcodes put in their usual form. Nothing
is cut silently: a cut value comes back with a flag naming the column.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field

from scourgify import normalize_address_record
from scourgify.exceptions import AddressNormalizationError
from scourgify.normalize import normalize_state
from usaddress import RepeatedLabelError

UNPARSED = "street could not be parsed: kept as given"


@dataclass(frozen=True)
class Address:
    """An address as a source system holds it; ``street`` may span lines."""

    street: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    country: str = ""


@dataclass(frozen=True)
class AddressLengths:
    """Column lengths to fit into (characters)."""

    line: int = 30
    lines: int = 3
    city: int = 20
    state: int = 2
    zip_code: int = 10
    country_code: int = 3


# AR_Customer and SO_SalesOrderHeader's bill-to / ship-to columns share these
# lengths: AddressLine1..3 30, City 20, State 2, ZipCode 10, CountryCode 3.
SAGE_CUSTOMER = AddressLengths()


@dataclass
class StandardAddress:
    lines: tuple[str, str, str]
    city: str
    state: str
    zip_code: str
    country_code: str
    flags: list[str] = field(default_factory=list)

    def as_sage(self, prefix: str = "") -> dict[str, str]:
        """Sage's column names: ``AddressLine1``… or, with a prefix such as
        ``"BillTo"``/``"ShipTo"``, ``ShipToAddress1``… ``ShipToCountryCode``
        (SO_SalesOrderHeader's names)."""
        line = f"{prefix}Address" if prefix else "AddressLine"
        columns = {f"{line}{n}": text for n, text in enumerate(self.lines, 1)}
        columns.update(
            {
                f"{prefix}City": self.city,
                f"{prefix}State": self.state,
                f"{prefix}ZipCode": self.zip_code,
                f"{prefix}CountryCode": self.country_code,
            }
        )
        return columns


# -- countries -----------------------------------------------------------------
# ISO 3166 alpha-3, the form Sage 100 keeps in CountryCode (3 characters).
_COUNTRIES: dict[str, tuple[str, ...]] = {
    "USA": ("US", "UNITED STATES", "UNITED STATES OF AMERICA", "AMERICA", "U.S.",
            "U.S.A."),
    "CAN": ("CA", "CANADA"),
    "MEX": ("MX", "MEXICO", "MÉXICO"),
    "GBR": ("GB", "UK", "UNITED KINGDOM", "GREAT BRITAIN", "ENGLAND", "SCOTLAND",
            "WALES", "NORTHERN IRELAND"),
    "IRL": ("IE", "IRELAND"),
    "DEU": ("DE", "GERMANY", "DEUTSCHLAND"),
    "AUT": ("AT", "AUSTRIA", "ÖSTERREICH"),
    "CHE": ("CH", "SWITZERLAND", "SCHWEIZ", "SUISSE"),
    "FRA": ("FR", "FRANCE"),
    "BEL": ("BE", "BELGIUM"),
    "NLD": ("NL", "NETHERLANDS", "THE NETHERLANDS", "HOLLAND"),
    "LUX": ("LU", "LUXEMBOURG"),
    "ESP": ("ES", "SPAIN", "ESPAÑA"),
    "PRT": ("PT", "PORTUGAL"),
    "ITA": ("IT", "ITALY", "ITALIA"),
    "DNK": ("DK", "DENMARK"),
    "SWE": ("SE", "SWEDEN"),
    "NOR": ("NO", "NORWAY"),
    "FIN": ("FI", "FINLAND"),
    "POL": ("PL", "POLAND"),
    "CZE": ("CZ", "CZECHIA", "CZECH REPUBLIC"),
    "AUS": ("AU", "AUSTRALIA"),
    "NZL": ("NZ", "NEW ZEALAND"),
    "JPN": ("JP", "JAPAN"),
    "CHN": ("CN", "CHINA"),
    "IND": ("IN", "INDIA"),
    "SGP": ("SG", "SINGAPORE"),
    "HKG": ("HK", "HONG KONG"),
    "BRA": ("BR", "BRAZIL", "BRASIL"),
    "ZAF": ("ZA", "SOUTH AFRICA"),
    "PRI": ("PR", "PUERTO RICO"),
}  # fmt: skip
COUNTRY_CODES: dict[str, str] = {
    name: alpha3 for alpha3, names in _COUNTRIES.items() for name in (alpha3, *names)
}

_US_STATES = frozenset(
    str.split(
        "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO "
        "MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY "
        "AS GU MP PR VI AA AE AP"
    )
)
_CA_PROVINCES = {
    "ALBERTA": "AB", "BRITISH COLUMBIA": "BC", "MANITOBA": "MB",
    "NEW BRUNSWICK": "NB", "NEWFOUNDLAND AND LABRADOR": "NL",
    "NEWFOUNDLAND": "NL", "NOVA SCOTIA": "NS", "NORTHWEST TERRITORIES": "NT",
    "NUNAVUT": "NU", "ONTARIO": "ON", "PRINCE EDWARD ISLAND": "PE",
    "QUEBEC": "QC", "QUÉBEC": "QC", "SASKATCHEWAN": "SK", "YUKON": "YT",
}  # fmt: skip
_US_ZIP = re.compile(r"^\d{5}(-?\d{4})?$")
_CA_POSTCODE = re.compile(r"^([A-Z]\d[A-Z])(\d[A-Z]\d)$")
_UK_POSTCODE = re.compile(r"^([A-Z]{1,2}\d[A-Z\d]?)(\d[A-Z]{2})$")
_SPACES = re.compile(r"[^\S\n]+")


def _tidy(text: str | None) -> str:
    """Runs of spaces and tabs become one space; ends trimmed (lines kept)."""
    return _SPACES.sub(" ", text or "").strip()


def country_code(country: str) -> str | None:
    """``"Germany"``, ``"DE"`` or ``"DEU"`` → ``"DEU"``; ``None`` when unknown."""
    return COUNTRY_CODES.get(_tidy(country).upper())


def us_state(state: str) -> str | None:
    """``"IL"``, ``"il"`` or ``"Illinois"`` → ``"IL"``; ``None`` when not a US state."""
    code = (normalize_state(_tidy(state)) or "").upper()
    return code if code in _US_STATES else None


def _street_lines(street: str) -> list[str]:
    lines = (_tidy(line) for line in (street or "").replace("\r", "\n").split("\n"))
    return [line for line in lines if line]


# -- standardising ---------------------------------------------------------------
def standardise(
    address: Address, *, lengths: AddressLengths = SAGE_CUSTOMER
) -> StandardAddress:
    """The address in Sage 100's form and lengths, with a flag per compromise."""
    flags: list[str] = []
    lines = _street_lines(address.street)
    city, state = _tidy(address.city), _tidy(address.state)
    postal = _tidy(address.postal_code)
    country = _tidy(address.country)

    code = country_code(country) if country else None
    if not country and us_state(state) and _US_ZIP.match(postal):
        code = "USA"
    if code == "USA":
        lines, city, state, postal = _us(lines, city, state, postal, flags)
    elif code == "CAN":
        state = _CA_PROVINCES.get(state.upper(), state.upper())
        compact = postal.replace(" ", "").upper()
        found = _CA_POSTCODE.match(compact)
        postal = f"{found.group(1)} {found.group(2)}" if found else postal
    elif code == "GBR":
        compact = postal.replace(" ", "").upper()
        found = _UK_POSTCODE.match(compact)
        postal = f"{found.group(1)} {found.group(2)}" if found else postal.upper()
    if country and code is None:
        flags.append(
            f"CountryCode: {country!r} is not a country we know: kept as given"
        )
        code = country

    return StandardAddress(
        lines=_fit_lines(lines, lengths, flags),
        city=_fit("City", city, lengths.city, flags),
        state=_fit("State", state, lengths.state, flags),
        zip_code=_fit("ZipCode", postal, lengths.zip_code, flags),
        country_code=_fit("CountryCode", code or "", lengths.country_code, flags),
        flags=flags,
    )


def _us(
    lines: list[str], city: str, state: str, postal: str, flags: list[str]
) -> tuple[list[str], str, str, str]:
    """USPS form through scourgify; the first line alone when the rest is
    not an address (an "Attn:" line); as given, upper-cased, when neither parses."""
    if lines:
        tries = [lines[:2], lines[:1]] if len(lines) > 1 else [lines]
        for attempt in tries:
            parsed = _scourgify(attempt, city, state, postal)
            if parsed is not None:
                street = [parsed["address_line_1"] or ""]
                street.append(parsed.get("address_line_2") or "")
                kept = [line.upper() for line in lines[len(attempt) :]]
                return (
                    [line for line in street + kept if line],
                    parsed.get("city") or city.upper(),
                    parsed.get("state") or state.upper(),
                    parsed.get("postal_code") or postal,
                )
        flags.append(UNPARSED)
    state = us_state(state) or state.upper()
    return [line.upper() for line in lines], city.upper(), state, postal


def _scourgify(lines: list[str], city: str, state: str, postal: str) -> dict | None:
    record = {
        "address_line_1": lines[0],
        "address_line_2": lines[1] if len(lines) > 1 else None,
        "city": city,
        "state": state,
        "postal_code": postal,
    }
    try:
        return dict(normalize_address_record(record))
    except (AddressNormalizationError, RepeatedLabelError, ValueError, TypeError):
        return None


# -- fitting -------------------------------------------------------------------
def _fit(name: str, text: str, length: int, flags: list[str]) -> str:
    if len(text) <= length:
        return text
    cut = len(text) - length
    flags.append(f"{name}: {cut} character{'s' if cut != 1 else ''} cut")
    return text[:length].rstrip()


def _fit_lines(
    lines: list[str], lengths: AddressLengths, flags: list[str]
) -> tuple[str, str, str]:
    """Wrap long lines at word boundaries onto the next line; when that needs
    more lines than Sage has, wrap all the text as one paragraph, then cut the
    last line (flagged)."""
    wrap = textwrap.TextWrapper(
        width=lengths.line, break_long_words=True, break_on_hyphens=False
    )
    wrapped = [part for line in lines for part in wrap.wrap(line)]
    if len(wrapped) > lengths.lines:
        wrapped = wrap.wrap(" ".join(lines))
    if len(wrapped) > lengths.lines:
        last = f"AddressLine{lengths.lines}"
        tail = " ".join(wrapped[lengths.lines - 1 :])
        wrapped = [*wrapped[: lengths.lines - 1], _fit(last, tail, lengths.line, flags)]
    wrapped += [""] * (3 - len(wrapped))
    return (wrapped[0], wrapped[1], wrapped[2])
