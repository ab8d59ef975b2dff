"""A Sage 100 Connection's settings and secrets, checked once when the client is built.

Every ProvideX connection-string key stays configurable (sites differ in DSN,
Directory, Prefix, ViewDLL...), but the password only ever comes from the
encrypted credentials. A missing or malformed setting is refused naming
``settings.<key>``, so the admin's "Test connection" says what to fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from integrations.connectors.sage100 import keys
from integrations.engine.errors import ValidationFailed

# Formula names → IM_ItemWarehouse columns (SAGE100-FACTS.md section 2).
QUANTITIES = {
    "on_hand": "QuantityOnHand",
    "on_sales_order": "QuantityOnSalesOrder",
    "on_back_order": "QuantityOnBackOrder",
    "on_purchase_order": "QuantityOnPurchaseOrder",
    "on_work_order": "QuantityOnWorkOrder",
    "required_for_wo": "QuantityRequiredForWO",
}
DEFAULT_FORMULA = "on_hand - on_sales_order - on_back_order"  # [INFERRED]
_TOKEN = re.compile(r"\s*(?:([+-])|([a-z_]+))")
_ODBC_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_ ]{0,39}$")
_UDF = re.compile(r"^UDF_[A-Z][A-Z0-9_]{0,26}$")

Formula = tuple[tuple[int, str], ...]  # ((+1 | -1, quantity name), ...)


def _fail(key: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, field=f"settings.{key}")


def parse_formula(text: str) -> Formula:
    """``"on_hand - on_sales_order"`` → ``((1, "on_hand"), (-1, "on_sales_order"))``.

    A whitelist parser, not eval: only the quantity names above joined by + and -.
    """
    terms: list[tuple[int, str]] = []
    sign, position, expect_name = 1, 0, True
    text = (text or "").strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match:
            raise _fail(
                "available_formula",
                f"Cannot read {text[position:]!r}: use quantity names joined by "
                f"+ and -, e.g. {DEFAULT_FORMULA!r}.",
            )
        operator, name = match.groups()
        position = match.end()
        if operator and not expect_name:
            sign, expect_name = (1 if operator == "+" else -1), True
        elif operator and not terms and sign == 1:
            sign = 1 if operator == "+" else -1  # a leading sign
        elif name and expect_name:
            if name not in QUANTITIES:
                known = ", ".join(QUANTITIES)
                raise _fail(
                    "available_formula",
                    f"Unknown quantity {name!r} in the formula; use one of {known}.",
                )
            terms.append((sign, name))
            sign, expect_name = 1, False
        else:
            raise _fail(
                "available_formula",
                f"The formula {text!r} needs + or - between quantity names.",
            )
    if not terms or expect_name:
        raise _fail(
            "available_formula",
            f"The formula {text!r} is incomplete, e.g. {DEFAULT_FORMULA!r}.",
        )
    return tuple(terms)


def udf_name(value: str, key: str = "customer_id_udf") -> str:
    """``"sf_id"`` or ``"UDF_SF_ID"`` → ``"UDF_SF_ID"``, as Custom Office names it."""
    name = str(value).strip().upper()
    if not name.startswith("UDF_"):
        name = "UDF_" + name
    if not _UDF.match(name):
        raise _fail(key, f"{value!r} is not a Sage 100 UDF column name (UDF_...).")
    return name


def _odbc(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not value:
        raise _fail(
            "odbc",
            "Set settings.odbc to the ODBC connection keys (DSN or Driver, UID, "
            "Company, Directory...).",
        )
    out = {}
    for key, item in value.items():
        if not _ODBC_KEY.match(str(key)):
            raise _fail(f"odbc.{key}", f"{key!r} is not an ODBC keyword.")
        if str(key).upper() == "PWD":
            raise _fail(
                "odbc.PWD",
                "The password belongs in the credentials (odbc_password), "
                "not in the settings.",
            )
        if isinstance(item, bool):
            item = "1" if item else "0"
        if not isinstance(item, (str, int, float)):
            raise _fail(f"odbc.{key}", f"settings.odbc.{key} must be text.")
        out[str(key)] = str(item)
    return out


def _seconds(settings: dict, key: str, default: float) -> float:
    try:
        value = float(settings.get(key, default))
    except (TypeError, ValueError):
        raise _fail(key, f"settings.{key} must be a number of seconds.") from None
    if value <= 0:
        raise _fail(key, f"settings.{key} must be more than 0 seconds.")
    return value


DEFAULT_TERMS = parse_formula(DEFAULT_FORMULA)


@dataclass(frozen=True)
class Sage100Settings:
    company: str
    odbc: dict[str, str]
    odbc_password: str = field(default="", repr=False)
    odbc_timeout: float = 30.0
    agent_url: str = ""
    agent_key_id: str = ""
    agent_secret: str = field(default="", repr=False)
    agent_verify: bool | str = True  # a CA bundle path for the agent's own CA
    agent_timeout: float = 30.0
    available_formula: Formula = DEFAULT_TERMS
    default_division: str = "00"
    customer_id_udf: str = ""

    @classmethod
    def from_connection(cls, settings: dict, credentials: dict) -> Sage100Settings:
        company = str(settings.get("company") or "").strip().upper()
        if not company:
            raise _fail("company", "Set settings.company to the Sage company code.")
        if len(company) > 3 or not company.isalnum():
            raise _fail("company", f"{company!r} is not a Sage company code (ABC).")
        odbc = _odbc(settings.get("odbc"))
        # The ProvideX driver needs the company; the simulator ignores it.
        if not any(key.lower() == "company" for key in odbc):
            odbc["Company"] = company
        agent_url = str(settings.get("agent_url") or "").strip()
        key_id = str(settings.get("agent_key_id") or "").strip()
        secret = str(credentials.get("agent_secret") or "")
        if agent_url:
            if not agent_url.startswith(("https://", "http://")):
                raise _fail("agent_url", "settings.agent_url must start with https://.")
            if not key_id:
                raise _fail("agent_key_id", "Set settings.agent_key_id for the agent.")
            if not secret:
                raise ValidationFailed(
                    "The agent's shared secret is missing from the credentials.",
                    field="credentials.agent_secret",
                )
        udf = settings.get("customer_id_udf") or ""
        try:
            default_division = keys.division(settings.get("default_division") or "00")
        except ValidationFailed as exc:
            raise _fail("default_division", exc.message) from None
        return cls(
            company=company,
            odbc=odbc,
            odbc_password=str(credentials.get("odbc_password") or ""),
            odbc_timeout=_seconds(settings, "odbc_timeout", 30.0),
            agent_url=agent_url.rstrip("/"),
            agent_key_id=key_id,
            agent_secret=secret,
            agent_verify=settings.get("agent_ca_bundle") or True,
            agent_timeout=_seconds(settings, "agent_timeout", 30.0),
            available_formula=parse_formula(
                settings.get("available_formula") or DEFAULT_FORMULA
            ),
            default_division=default_division,
            customer_id_udf=udf_name(udf) if udf else "",
        )
