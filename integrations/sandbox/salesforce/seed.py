"""Demo data for the simulated org, consistent with the simulated Sage 100.

Product codes are Sage ItemCodes, some written the way sales reps really type
them (lower case, an "SF-" prefix, spaces); accounts include Sage customers
under the same or a slightly different name, one already linked by
``ExternalID__c`` ("DIVISION-CUSTOMERNO") and one company Sage has never seen.
The names, addresses and prices are those of the Sage seed (``rng_seed`` 100,
``integrations/sandbox/sage100/seed.py``); a test keeps them in step.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from integrations.sandbox.salesforce.org import SalesforceOrg

USERNAME = "integration@ledgerbridge.demo"
PASSWORD = "Integration#2026"
SECURITY_TOKEN = "LBx7Q2demoTOKEN9"
CLIENT_ID = "3MVG9LedgerBridgeDemoConsumerKey.SimulatedOrg0001"
CLIENT_SECRET = "D3M0C0NSUMERS3CR3T0001"

# (ProductCode in Salesforce, Sage ItemCode it stands for or None, name, family,
#  list price)
PRODUCTS = [
    ("1001-HON-H252", "1001-HON-H252", "HON file cabinet H252", "Furniture", 217.39),
    ("1001-hon-h254", "1001-HON-H254", "HON file cabinet H254", "Furniture", 476.58),
    ("SF-2001-STL-D100", "2001-STL-D100", "Steelcase desk D100", "Furniture", 398.09),
    ("2001-STL-D150", "2001-STL-D150", "Steelcase desk D150", "Furniture", 1299.02),
    ("3001-GLB-C10 ", "3001-GLB-C10", "Global office chair C10", "Furniture", 377.24),
    ("3001 GLB C12", "3001-GLB-C12", "Global office chair C12", "Furniture", 365.04),
    ("4001-AVR-L5160", "4001-AVR-L5160", "Avery supplies L5160", "Supplies", 39.15),
    ("5001-HEW-M401", "5001-HEW-M401", "HP printer M401", "Technology", 1285.38),
    ("6001-BOI-BR20", "6001-BOI-BR20", "Boise paper BR20", "Paper", 72.34),
    ("6001-BOI-CP20", "6001-BOI-CP20", "Boise paper CP20", "Paper", 65.86),
    ("SF-FOOT-9000", None, "Ergonomic footrest (not in Sage)", "Furniture", 89.00),
]

# (key, Name, Sage "DIVISION-CUSTOMERNO" it matches or None, ExternalID__c,
#  street, city, state, zip, phone)
ACCOUNTS = [
    ("abf", "American Business Futures", "01-ABF", "01-ABF",
     "4912 Oak Ave", "San Diego", "CA", "92181", "(781) 555-3408"),
    ("delta", "Delta School District", "01-DELTSCH", None,
     "5806 Industrial Way", "Atlanta", "GA", "30314", "(215) 555-4683"),
    ("valley", "Valley Business Systems, Inc.", "01-VALLBUS", None,
     "8466 Center Street", "Columbus", "OH", "43236", "(705) 555-1778"),
    ("beacon", "Beacon Paper Co", "02-BEACPAP", None,
     "9575 Industrial Way", "Los Angeles", "CA", "90069", "(912) 555-1179"),
    ("summit", "Summit Office Supply", "01-SUMMOFF", None,
     "120 Elm St", "Austin", "TX", "73301", "(512) 555-0100"),
    ("northwind", "Northwind Robotics LLC", None, None,
     "77 Harbor Point Blvd", "Boston", "MA", "02110", "(617) 555-0142"),
]  # fmt: skip

CONTACTS = [
    ("abf", "Artie", "Johnson", "artie@americanbusiness.com"),
    ("delta", "Dana", "Whitfield", "purchasing@deltaschool.com"),
    ("valley", "Victor", "Ramos", "victor@valleybusiness.com"),
    ("beacon", "Bea", "Lindqvist", "bea@beaconpaper.com"),
    ("northwind", "Nora", "Kade", "nora.kade@northwind-robotics.example"),
]

# (account key, name, stage, days to close, lines [(product code, qty, price|None)],
#  extra fields)
OPPORTUNITIES = [
    ("abf", "ABF - filing refresh", "Negotiation/Review", 14,
     [("1001-HON-H252", 4, None), ("1001-hon-h254", 2, 450.00)],
     {"Customer_PO__c": "PO-ABF-7731", "Order_Priority__c": "High"}),
    ("delta", "Delta SD - classroom chairs", "Proposal/Price Quote", 30,
     [("3001-GLB-C10 ", 30, None), ("3001 GLB C12", 10, 349.00)],
     {"Requested_Ship_Date__c": 21}),
    ("beacon", "Beacon - paper restock", "Value Proposition", 10,
     [("6001-BOI-BR20", 100, None), ("6001-BOI-CP20", 50, None)],
     {"Customer_PO__c": "BP-2231", "Order_Priority__c": "Normal"}),
    ("northwind", "Northwind - office fit-out", "Prospecting", 45,
     [("SF-2001-STL-D100", 5, None), ("SF-FOOT-9000", 5, None),
      ("5001-HEW-M401", 1, None)],
     {}),
    ("valley", "Valley - printer refresh", "Qualification", 60,
     [("5001-HEW-M401", 2, None), ("4001-AVR-L5160", 20, None)],
     {}),
]  # fmt: skip


@dataclass
class SeedResult:
    username: str
    password: str
    security_token: str
    client_id: str
    client_secret: str
    private_key_pem: bytes
    ids: dict[str, str] = field(default_factory=dict)  # "account:abf" -> id


def new_key_pair() -> tuple[bytes, str]:
    """(private key PEM, public key PEM) for the JWT bearer flow."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM,
        serialization.PublicFormat.SubjectPublicKeyInfo,
    )
    return private, public.decode()


def add_integration_access(
    org: SalesforceOrg, private_key_pem: bytes | None = None
) -> SeedResult:
    """The integration user and connected app (also for an empty org)."""
    if private_key_pem is None:
        private_key_pem, public_pem = new_key_pair()
    else:
        key = serialization.load_pem_private_key(private_key_pem, password=None)
        public_pem = (
            key.public_key()
            .public_bytes(
                serialization.Encoding.PEM,
                serialization.PublicFormat.SubjectPublicKeyInfo,
            )
            .decode()
        )
    if org.identity.user(USERNAME) is None:
        org.add_user(
            USERNAME,
            PASSWORD,
            SECURITY_TOKEN,
            first="Integration",
            last="User",
            profile="Integration User",
        )
    org.add_connected_app(
        "LedgerBridge",
        CLIENT_ID,
        CLIENT_SECRET,
        public_key_pem=public_pem,
        run_as_username=USERNAME,
    )
    return SeedResult(
        USERNAME, PASSWORD, SECURITY_TOKEN, CLIENT_ID, CLIENT_SECRET, private_key_pem
    )


def seed(
    org: SalesforceOrg,
    *,
    today: dt.date | None = None,
    private_key_pem: bytes | None = None,
) -> SeedResult:
    """Fill ``org`` with the demo data; returns the credentials and record ids."""
    today = today or dt.date.today()
    result = add_integration_access(org, private_key_pem)
    ids = result.ids
    standard = org.standard_pricebook_id
    ids["pricebook:standard"] = standard
    with org.atomic():
        for code, item, name, family, price in PRODUCTS:
            product = org.create(
                "Product2",
                {
                    "Name": name,
                    "ProductCode": code,
                    "Family": family,
                    "IsActive": True,
                    "Sage_Item_Code__c": item,
                },
            )
            ids[f"product:{code}"] = product
            ids[f"entry:{code}"] = org.create(
                "PricebookEntry",
                {
                    "Pricebook2Id": standard,
                    "Product2Id": product,
                    "UnitPrice": price,
                    "IsActive": True,
                },
            )
        for key, name, _, external, street, city, state, zip_code, phone in ACCOUNTS:
            ids[f"account:{key}"] = org.create(
                "Account",
                {
                    "Name": name,
                    "ExternalID__c": external,
                    "Type": "Customer" if external else "Prospect",
                    "Phone": phone,
                    "BillingStreet": street,
                    "BillingCity": city,
                    "BillingState": state,
                    "BillingPostalCode": zip_code,
                    "BillingCountry": "USA",
                    "ShippingStreet": street,
                    "ShippingCity": city,
                    "ShippingState": state,
                    "ShippingPostalCode": zip_code,
                    "ShippingCountry": "USA",
                },
            )
        for key, first, last, email in CONTACTS:
            ids[f"contact:{key}"] = org.create(
                "Contact",
                {
                    "AccountId": ids[f"account:{key}"],
                    "FirstName": first,
                    "LastName": last,
                    "Email": email,
                },
            )
        for key, name, stage, days, lines, extra in OPPORTUNITIES:
            values = dict(extra)
            if "Requested_Ship_Date__c" in values:
                ship = today + dt.timedelta(days=values["Requested_Ship_Date__c"])
                values["Requested_Ship_Date__c"] = ship.isoformat()
            opportunity = org.create(
                "Opportunity",
                {
                    "AccountId": ids[f"account:{key}"],
                    "Name": name,
                    "StageName": stage,
                    "CloseDate": (today + dt.timedelta(days=days)).isoformat(),
                    "Pricebook2Id": standard,
                    "ContactId": ids.get(f"contact:{key}"),
                    **values,
                },
            )
            ids[f"opportunity:{key}"] = opportunity
            for code, quantity, price in lines:
                entry = ids[f"entry:{code}"]
                line = {
                    "OpportunityId": opportunity,
                    "PricebookEntryId": entry,
                    "Quantity": quantity,
                }
                line["UnitPrice"] = (
                    price
                    if price is not None
                    else org.get("PricebookEntry", entry)["UnitPrice"]
                )
                org.create("OpportunityLineItem", line)
    return result
