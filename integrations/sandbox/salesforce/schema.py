"""The org's object metadata, kept as data, and the describe JSON made from it.

Standard objects carry the fields a sales and order integration touches, with
the lengths, types and read-only flags Salesforce reports; custom fields and
the multi-currency field are added per org (``Schema``), the way an admin
would in Setup.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace

API_VERSION = "62.0"
CURRENCIES = ("USD", "EUR", "GBP", "CAD")
CORPORATE_CURRENCY = "USD"
OPPORTUNITY_STAGES = (
    # (value, probability, closed, won, forecast category)
    ("Prospecting", 10, False, False, "Pipeline"),
    ("Qualification", 10, False, False, "Pipeline"),
    ("Needs Analysis", 20, False, False, "Pipeline"),
    ("Value Proposition", 50, False, False, "Pipeline"),
    ("Proposal/Price Quote", 75, False, False, "Pipeline"),
    ("Negotiation/Review", 90, False, False, "Pipeline"),
    ("Closed Won", 100, True, True, "Closed"),
    ("Closed Lost", 0, True, False, "Omitted"),
)
STRING_TYPES = {
    "id",
    "string",
    "textarea",
    "picklist",
    "multipicklist",
    "reference",
    "email",
    "phone",
    "url",
}
NUMBER_TYPES = {"double", "currency", "percent", "int"}
SOAP_TYPES = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "boolean": "xsd:boolean",
    "double": "xsd:double",
    "currency": "xsd:double",
    "percent": "xsd:double",
    "int": "xsd:int",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
}


@dataclass(frozen=True)
class FieldMeta:
    name: str
    type: str
    label: str = ""
    length: int = 0
    precision: int = 0
    scale: int = 0
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    defaulted_on_create: bool = False
    calculated: bool = False
    auto_number: bool = False
    external_id: bool = False
    unique: bool = False
    id_lookup: bool = False
    name_field: bool = False
    picklist: tuple[str, ...] = ()
    restricted_picklist: bool = False
    default_value: object = None
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    cascade_delete: bool = False
    custom: bool = False

    @property
    def required(self) -> bool:
        """What the API enforces on create (describe's nillable/defaulted)."""
        return not self.nillable and self.createable and not self.defaulted_on_create

    def describe(self) -> dict:
        return {
            "aggregatable": self.type not in ("textarea",),
            "autoNumber": self.auto_number,
            "byteLength": self.length * 3,
            "calculated": self.calculated,
            "cascadeDelete": False,
            "caseSensitive": False,
            "createable": self.createable,
            "custom": self.custom,
            "defaultValue": self.default_value
            if self.type not in ("picklist",)
            else None,
            "defaultedOnCreate": self.defaulted_on_create,
            "digits": self.precision if self.type == "int" else 0,
            "externalId": self.external_id,
            "filterable": self.type != "textarea" or self.length <= 255,
            "groupable": self.type not in NUMBER_TYPES - {"int"},
            "htmlFormatted": False,
            "idLookup": self.id_lookup,
            "label": self.label,
            "length": self.length,
            "name": self.name,
            "nameField": self.name_field,
            "namePointing": False,
            "nillable": self.nillable,
            "permissionable": self.nillable and not self.calculated,
            "picklistValues": [
                {
                    "active": True,
                    "defaultValue": value == self.default_value,
                    "label": value,
                    "validFor": None,
                    "value": value,
                }
                for value in self.picklist
            ],
            "precision": self.precision if self.type != "int" else 0,
            "referenceTargetField": None,
            "referenceTo": list(self.reference_to),
            "relationshipName": self.relationship_name,
            "restrictedDelete": False,
            "restrictedPicklist": self.restricted_picklist,
            "scale": self.scale,
            "soapType": SOAP_TYPES.get(self.type, "xsd:string"),
            "sortable": self.type != "textarea" or self.length <= 255,
            "type": self.type,
            "unique": self.unique,
            "updateable": self.updateable,
            "writeRequiresMasterRead": False,
        }


@dataclass(frozen=True)
class ChildRelationship:
    child_sobject: str
    field: str
    relationship_name: str | None
    cascade_delete: bool = False


@dataclass
class ObjectMeta:
    name: str
    label: str
    label_plural: str
    key_prefix: str
    fields: list[FieldMeta]
    custom: bool = False
    queryable: bool = True
    createable: bool = True
    updateable: bool = True
    deletable: bool = True
    platform_event: bool = False
    children: list[ChildRelationship] = field(default_factory=list)

    def field(self, name: str) -> FieldMeta | None:
        wanted = name.lower()
        for meta in self.fields:
            if meta.name.lower() == wanted:
                return meta
        return None

    def child_relationship(self, name: str) -> tuple[str, str] | None:
        wanted = name.lower()
        for child in self.children:
            if child.relationship_name and child.relationship_name.lower() == wanted:
                return child.child_sobject, child.field
        return None

    def parent_relationship(self, name: str) -> FieldMeta | None:
        wanted = name.lower()
        for meta in self.fields:
            if meta.relationship_name and meta.relationship_name.lower() == wanted:
                return meta
        return None

    def urls(self, version: str = API_VERSION) -> dict:
        base = f"/services/data/v{version}/sobjects/{self.name}"
        urls = {
            "sobject": base,
            "describe": f"{base}/describe",
            "rowTemplate": f"{base}/{{ID}}",
        }
        if self.platform_event:
            urls["eventSchema"] = f"{base}/eventSchema"
        return urls

    def summary(self, version: str = API_VERSION) -> dict:
        """The describeGlobal entry (also the ``objectDescribe`` of basic info)."""
        return {
            "activateable": False,
            "createable": self.createable,
            "custom": self.custom,
            "customSetting": False,
            "deletable": self.deletable,
            "deprecatedAndHidden": False,
            "feedEnabled": False,
            "hasSubtypes": False,
            "isSubtype": False,
            "keyPrefix": self.key_prefix,
            "label": self.label,
            "labelPlural": self.label_plural,
            "layoutable": not self.platform_event,
            "mergeable": self.name in ("Account", "Contact"),
            "mruEnabled": not self.platform_event,
            "name": self.name,
            "queryable": self.queryable,
            "replicateable": not self.platform_event,
            "retrieveable": self.queryable,
            "searchable": not self.platform_event,
            "triggerable": True,
            "undeletable": self.deletable,
            "updateable": self.updateable,
            "urls": self.urls(version),
        }

    def describe(self, version: str = API_VERSION) -> dict:
        body = self.summary(version)
        body.update(
            {
                "childRelationships": [
                    {
                        "cascadeDelete": child.cascade_delete,
                        "childSObject": child.child_sobject,
                        "deprecatedAndHidden": False,
                        "field": child.field,
                        "junctionIdListNames": [],
                        "junctionReferenceTo": [],
                        "relationshipName": child.relationship_name,
                        "restrictedDelete": False,
                    }
                    for child in self.children
                ],
                "fields": [meta.describe() for meta in self.fields],
                "recordTypeInfos": [],
                "supportedScopes": [{"label": "All", "name": "everything"}],
            }
        )
        return body


# -- field builders -----------------------------------------------------------
def _label(name: str) -> str:
    stem = name.removesuffix("__c").removesuffix("Id") or name
    words, word = [], ""
    for char in stem.replace("_", " "):
        if char.isupper() and word and not word[-1].isupper():
            words.append(word)
            word = char
        else:
            word += char
    words.append(word)
    return " ".join(w.strip() for w in words if w.strip())


def _make(name: str, kind: str, **options) -> FieldMeta:
    label = options.pop("label", None) or _label(name)
    return FieldMeta(name, kind, label, **options)


def text(name: str, length: int = 255, **options) -> FieldMeta:
    return _make(name, "string", length=length, **options)


def area(name: str, length: int = 255, **options) -> FieldMeta:
    return _make(name, "textarea", length=length, **options)


def number(name: str, kind: str = "double", precision: int = 18, scale: int = 2, **o):
    return _make(name, kind, precision=precision, scale=scale, **o)


def flag(name: str, default: bool = False, **options) -> FieldMeta:
    return _make(
        name,
        "boolean",
        nillable=False,
        defaulted_on_create=True,
        default_value=default,
        **options,
    )


def day(name: str, **options) -> FieldMeta:
    return _make(name, "date", **options)


def stamp(name: str, **options) -> FieldMeta:
    return _make(name, "datetime", **options)


def choice(name: str, values, *, restricted=False, length=255, **options):
    return _make(
        name,
        "picklist",
        length=length,
        picklist=tuple(values),
        restricted_picklist=restricted,
        **options,
    )


def lookup(name: str, target: str, relationship: str | None = None, **options):
    if relationship is None:
        relationship = (
            name[:-3] + "__r" if name.endswith("__c") else name.removesuffix("Id")
        )
    options.setdefault(
        "label", _label(name) + (" ID" if not name.endswith("__c") else "")
    )
    return _make(
        name,
        "reference",
        length=18,
        reference_to=(target,),
        relationship_name=relationship,
        **options,
    )


READ_ONLY = {"createable": False, "updateable": False}
REQUIRED = {"nillable": False}
FIXED = {"updateable": False}  # set on create only (master-detail parents…)


def audit_fields() -> list[FieldMeta]:
    system = {**READ_ONLY, "nillable": False, "defaulted_on_create": True}
    return [
        FieldMeta("IsDeleted", "boolean", "Deleted", **system, default_value=False),
        stamp("CreatedDate", **system),
        lookup("CreatedById", "User", "CreatedBy", **system),
        stamp("LastModifiedDate", **system),
        lookup("LastModifiedById", "User", "LastModifiedBy", **system),
        stamp("SystemModstamp", **system),
    ]


def id_field(label: str) -> FieldMeta:
    return FieldMeta(
        "Id",
        "id",
        f"{label} ID",
        length=18,
        nillable=False,
        defaulted_on_create=True,
        id_lookup=True,
        **READ_ONLY,
    )


def owner() -> FieldMeta:
    return lookup("OwnerId", "User", "Owner", nillable=False, defaulted_on_create=True)


def address(prefix: str) -> list[FieldMeta]:
    return [
        area(f"{prefix}Street"),
        text(f"{prefix}City", 40),
        text(f"{prefix}State", 80),
        text(f"{prefix}PostalCode", 20),
        text(f"{prefix}Country", 80),
    ]


def _object(name, label, plural, prefix, fields, **options) -> ObjectMeta:
    all_fields = [id_field(label), *fields]
    if not options.get("platform_event"):
        all_fields += audit_fields()
    return ObjectMeta(name, label, plural, prefix, all_fields, **options)


def _name(length=255, **options) -> FieldMeta:
    return text("Name", length, nillable=False, name_field=True, **options)


def standard_objects() -> list[ObjectMeta]:
    stages = [stage[0] for stage in OPPORTUNITY_STAGES]
    industry = ("Education", "Finance", "Government", "Healthcare", "Retail", "Other")
    return [
        _object(
            "User",
            "User",
            "Users",
            "005",
            [
                text("Username", 80, nillable=False, unique=True, id_lookup=True),
                text("FirstName", 40),
                text("LastName", 80, nillable=False),
                text("Name", 121, name_field=True, **READ_ONLY),
                FieldMeta("Email", "email", "Email", length=128, nillable=False),
                text("Alias", 8, nillable=False),
                flag("IsActive", True),
                text("ProfileName", 255, **READ_ONLY),
            ],
            createable=False,
            deletable=False,
        ),
        _object(
            "Account",
            "Account",
            "Accounts",
            "001",
            [
                _name(),
                text("AccountNumber", 40),
                choice("Type", ("Prospect", "Customer", "Partner", "Other")),
                choice("Industry", industry),
                lookup("ParentId", "Account", "Parent"),
                FieldMeta("Phone", "phone", "Account Phone", length=40),
                FieldMeta("Fax", "phone", "Account Fax", length=40),
                FieldMeta("Website", "url", "Website", length=255),
                area("Description", 32000),
                *address("Billing"),
                *address("Shipping"),
                owner(),
            ],
        ),
        _object(
            "Contact",
            "Contact",
            "Contacts",
            "003",
            [
                lookup("AccountId", "Account"),
                text("FirstName", 40),
                text("LastName", 80, nillable=False),
                text("Name", 121, name_field=True, **READ_ONLY),
                text("Title", 128),
                FieldMeta("Email", "email", "Email", length=80),
                FieldMeta("Phone", "phone", "Business Phone", length=40),
                FieldMeta("MobilePhone", "phone", "Mobile Phone", length=40),
                *address("Mailing"),
                owner(),
            ],
        ),
        _object(
            "Opportunity",
            "Opportunity",
            "Opportunities",
            "006",
            [
                lookup("AccountId", "Account"),
                # The primary contact (API 49.0+); in Salesforce it follows the
                # opportunity's primary contact role.
                lookup("ContactId", "Contact"),
                _name(120),
                choice(
                    "StageName",
                    stages,
                    restricted=True,
                    nillable=False,
                    label="Stage",
                ),
                day("CloseDate", nillable=False),
                number("Amount", "currency", 18, 2),
                number("Probability", "percent", 3, 0, defaulted_on_create=True),
                flag("IsClosed", **READ_ONLY),
                flag("IsWon", **READ_ONLY),
                text("ForecastCategoryName", 40, **READ_ONLY),
                lookup("Pricebook2Id", "Pricebook2"),
                flag("HasOpportunityLineItem", **READ_ONLY),
                choice("Type", ("Existing Business", "New Business")),
                choice("LeadSource", ("Web", "Phone Inquiry", "Partner", "Other")),
                text("NextStep", 255),
                area("Description", 32000),
                owner(),
            ],
        ),
        _object(
            "Product2",
            "Product",
            "Products",
            "01t",
            [
                _name(),
                text("ProductCode", 255),
                area("Description", 4000),
                flag("IsActive"),
                choice("Family", ("Furniture", "Supplies", "Technology", "Paper")),
                text("StockKeepingUnit", 180),
                text("QuantityUnitOfMeasure", 255),
            ],
        ),
        _object(
            "Pricebook2",
            "Price Book",
            "Price Books",
            "01s",
            [
                _name(),
                flag("IsActive"),
                flag("IsStandard", **READ_ONLY),
                text("Description", 255),
            ],
        ),
        _object(
            "PricebookEntry",
            "Price Book Entry",
            "Price Book Entries",
            "01u",
            [
                text("Name", 255, name_field=True, **READ_ONLY),
                lookup("Pricebook2Id", "Pricebook2", nillable=False, **FIXED),
                lookup("Product2Id", "Product2", nillable=False, **FIXED),
                number("UnitPrice", "currency", 18, 2, nillable=False),
                flag("IsActive"),
                flag("UseStandardPrice"),
                text("ProductCode", 255, **READ_ONLY),
            ],
        ),
        _object(
            "OpportunityLineItem",
            "Opportunity Product",
            "Opportunity Product",
            "00k",
            [
                lookup("OpportunityId", "Opportunity", nillable=False, **FIXED),
                lookup("PricebookEntryId", "PricebookEntry", **FIXED),
                lookup("Product2Id", "Product2", **FIXED),
                text("ProductCode", 255, **READ_ONLY),
                text("Name", 376, name_field=True, **READ_ONLY),
                number("Quantity", "double", 12, 2, nillable=False),
                number("UnitPrice", "currency", 18, 2),
                number("ListPrice", "currency", 18, 2, **READ_ONLY),
                number("TotalPrice", "currency", 18, 2),
                number("Discount", "percent", 5, 2),
                text("Description", 255),
                day("ServiceDate"),
                number("SortOrder", "int", 9, 0),
            ],
        ),
        _object(
            "Order",
            "Order",
            "Orders",
            "801",
            [
                lookup("AccountId", "Account", nillable=False),
                lookup("OpportunityId", "Opportunity"),
                lookup("Pricebook2Id", "Pricebook2"),
                text("OrderNumber", 30, auto_number=True, name_field=True, **READ_ONLY),
                text("Name", 80),  # optional: orders are known by their number
                day("EffectiveDate", nillable=False),
                day("EndDate"),
                choice(
                    "Status",
                    ("Draft", "Activated"),
                    restricted=True,
                    nillable=False,
                    defaulted_on_create=True,
                    default_value="Draft",
                ),
                choice("StatusCode", ("Draft", "Activated"), **READ_ONLY),
                number("TotalAmount", "currency", 18, 2, **READ_ONLY),
                stamp("ActivatedDate", **READ_ONLY),
                lookup("ActivatedById", "User", "ActivatedBy", **READ_ONLY),
                text("PoNumber", 80),
                choice("Type", ("New", "Renewal", "Other")),
                area("Description", 32000),
                *address("Billing"),
                *address("Shipping"),
                owner(),
            ],
        ),
        _object(
            "OrderItem",
            "Order Product",
            "Order Products",
            "802",
            [
                lookup("OrderId", "Order", nillable=False, **FIXED),
                lookup("PricebookEntryId", "PricebookEntry", nillable=False, **FIXED),
                lookup("Product2Id", "Product2", **READ_ONLY),
                text(
                    "OrderItemNumber",
                    10,
                    auto_number=True,
                    name_field=True,
                    **READ_ONLY,
                ),
                number("Quantity", "double", 18, 2, nillable=False),
                number("UnitPrice", "currency", 18, 2, nillable=False),
                number("ListPrice", "currency", 18, 2, **READ_ONLY),
                number("TotalPrice", "currency", 18, 2, **READ_ONLY),
                text("Description", 255),
                day("ServiceDate"),
                day("EndDate"),
            ],
        ),
    ]


CHILD_NAMES = {
    ("Account", "ParentId"): ("ChildAccounts", False),
    ("Contact", "AccountId"): ("Contacts", True),
    ("Opportunity", "AccountId"): ("Opportunities", True),
    ("Opportunity", "ContactId"): ("Opportunities", False),
    ("Order", "AccountId"): ("Orders", False),
    ("Order", "OpportunityId"): ("Orders", False),
    ("OpportunityLineItem", "OpportunityId"): ("OpportunityLineItems", True),
    ("OpportunityLineItem", "PricebookEntryId"): ("OpportunityLineItems", False),
    ("OrderItem", "OrderId"): ("OrderItems", True),
    ("OrderItem", "PricebookEntryId"): ("OrderItems", False),
    ("PricebookEntry", "Pricebook2Id"): ("PricebookEntries", True),
    ("PricebookEntry", "Product2Id"): ("PricebookEntries", True),
    ("Opportunity", "Pricebook2Id"): ("Opportunities", False),
}


def default_custom_fields() -> list[tuple[str, FieldMeta]]:
    """What the integration's admin adds in Setup before connecting."""
    sage_status = ("Open", "Back Order", "Hold", "Completed", "Cancelled")
    ext = {"external_id": True, "unique": True, "id_lookup": True}
    return [
        ("Account", text("ExternalID__c", 20, **ext)),
        ("Contact", text("ExternalID__c", 20, **ext)),
        ("Opportunity", text("Sage_Order_No__c", 20, external_id=True, id_lookup=True)),
        ("Opportunity", choice("Sage_Order_Status__c", sage_status, restricted=True)),
        ("Opportunity", day("Requested_Ship_Date__c")),
        (
            "Opportunity",
            choice("Order_Priority__c", ("High", "Normal", "Low"), restricted=True),
        ),
        ("Opportunity", text("Customer_PO__c", 25)),
        ("Order", text("Sage_Order_No__c", 20, external_id=True, id_lookup=True)),
        ("Order", choice("Sage_Order_Status__c", sage_status, restricted=True)),
        ("Product2", number("Stock_On_Hand__c", "double", 16, 2)),
        # The Sage 100 ItemCode, so stock records can name their product by it.
        ("Product2", text("Sage_Item_Code__c", 30, **ext)),
    ]


def custom_objects() -> list[ObjectMeta]:
    inventory = _object(
        "Inventory_Level__c",
        "Inventory Level",
        "Inventory Levels",
        "a00",
        [
            text("Name", 80, name_field=True, defaulted_on_create=True, nillable=False),
            lookup("Product__c", "Product2", label="Product"),
            text("Warehouse_Code__c", 3),
            number("Quantity_On_Hand__c", "double", 16, 2),
            number("Quantity_Available__c", "double", 16, 2),
            text("ExternalID__c", 40, external_id=True, unique=True, id_lookup=True),
            owner(),
        ],
        custom=True,
    )
    event = ObjectMeta(
        "Order_Event__e",
        "Order Event",
        "Order Events",
        "e00",
        [
            FieldMeta("ReplayId", "string", "Replay ID", length=255, **READ_ONLY),
            stamp("CreatedDate", **READ_ONLY, defaulted_on_create=True),
            lookup("CreatedById", "User", "CreatedBy", **READ_ONLY),
            text("EventUuid", 36, **READ_ONLY),
            text("Order_Id__c", 18, nillable=False, custom=True),
            text("Action__c", 40, custom=True),
        ],
        custom=True,
        queryable=False,
        updateable=False,
        deletable=False,
        platform_event=True,
    )
    for obj in (inventory, event):
        obj.fields = [
            replace(meta, custom=True) if meta.name.endswith("__c") else meta
            for meta in obj.fields
        ]
    return [inventory, event]


CUSTOM_CHILD_NAMES = {
    ("Inventory_Level__c", "Product__c"): ("Inventory_Levels__r", False)
}


class Schema:
    """The objects of one org; rebuilt child relationships after each change."""

    def __init__(self, *, multi_currency: bool = False, custom_fields: bool = True):
        self.multi_currency = multi_currency
        self.objects: dict[str, ObjectMeta] = {}
        for obj in standard_objects() + custom_objects():
            self.objects[obj.name.lower()] = obj
        if custom_fields:
            for sobject, meta in default_custom_fields():
                self._append(sobject, replace(meta, custom=True))
        if multi_currency:
            currency = choice(
                "CurrencyIsoCode",
                CURRENCIES,
                restricted=True,
                length=3,
                defaulted_on_create=True,
                default_value=CORPORATE_CURRENCY,
                label="Currency ISO Code",
            )
            for obj in self.objects.values():
                if not obj.platform_event:
                    obj.fields.insert(1, currency)
        self._link_children()

    def get(self, name: str) -> ObjectMeta | None:
        return self.objects.get(name.lower()) if isinstance(name, str) else None

    def add_custom_field(self, sobject: str, meta: FieldMeta) -> FieldMeta:
        if not meta.name.endswith("__c"):
            raise ValueError(f"Custom field names end in __c: {meta.name}")
        meta = replace(meta, custom=True, label=meta.label or _label(meta.name))
        self._append(sobject, meta)
        self._link_children()
        return meta

    def _append(self, sobject: str, meta: FieldMeta) -> None:
        obj = self.get(sobject)
        if obj is None:
            raise ValueError(f"No such object: {sobject}")
        if obj.field(meta.name):
            raise ValueError(f"{obj.name} already has a field {meta.name}")
        position = next(
            (i for i, f in enumerate(obj.fields) if f.name == "IsDeleted"),
            len(obj.fields),
        )
        obj.fields.insert(position, meta)

    def _link_children(self) -> None:
        names = {**CHILD_NAMES, **CUSTOM_CHILD_NAMES}
        for obj in self.objects.values():
            obj.children = []
        for obj in self.objects.values():
            for meta in obj.fields:
                if meta.type != "reference" or meta.name in (
                    "CreatedById",
                    "LastModifiedById",
                    "OwnerId",
                    "ActivatedById",
                ):
                    continue
                relationship, cascade = names.get((obj.name, meta.name), (None, False))
                if relationship is None and meta.custom:
                    relationship = obj.name.removesuffix("__c") + "s__r"
                for target in meta.reference_to:
                    parent = self.get(target)
                    if parent is not None:
                        parent.children.append(
                            ChildRelationship(
                                obj.name, meta.name, relationship, cascade
                            )
                        )

    def copy(self) -> Schema:
        return copy.deepcopy(self)
