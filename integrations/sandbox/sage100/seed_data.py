"""Names, places and products the demo company is made of (see ``seed.py``)."""


def _words(text: str) -> list[str]:
    return text.split()


FIRST = [
    *_words("American Atlantic Bayside Capitol Cascade Central Coastal Delta Eastern"),
    *_words("Evergreen Franklin Golden Harbor Heritage Highland Keystone Liberty"),
    *_words("Metro Midwest Mountain National Northern Pacific Pinnacle Prairie"),
    *_words("Premier Redwood Riverside Summit Sunbelt Valley Western Allied Beacon"),
    *_words("Compass Frontier Granite Horizon Lakeside Meridian Patriot Sierra"),
]
SECOND = [
    "Office Supply", "Business Systems", "Furniture", "Paper Co.", "Stationers",
    "Computer Center", "Data Products", "Printing", "Design Group", "Equipment",
    "Distributors", "Supply Co.", "Interiors", "Legal Services", "Medical Group",
    "School District", "Insurance", "Realty", "Accounting",
]  # fmt: skip
VENDOR_KINDS = ["Manufacturing", "Wholesale", "Freight", "Paper Mills", "Industries"]
CITIES = [
    ("Irvine", "CA", "926"), ("Los Angeles", "CA", "900"), ("San Diego", "CA", "921"),
    ("Phoenix", "AZ", "850"), ("Denver", "CO", "802"), ("Dallas", "TX", "752"),
    ("Chicago", "IL", "606"), ("Atlanta", "GA", "303"), ("Boston", "MA", "021"),
    ("Seattle", "WA", "981"), ("Portland", "OR", "972"), ("Columbus", "OH", "432"),
    ("Charlotte", "NC", "282"), ("Nashville", "TN", "372"), ("Newark", "NJ", "071"),
    ("Albany", "NY", "122"),
]  # fmt: skip
STREETS = [
    "Main St", "Oak Ave", "Commerce Dr", "Industrial Way", "Market St", "Park Blvd",
    "Lake Rd", "Center St", "Sunset Blvd", "Harbor Dr",
]  # fmt: skip
# (series, product line, manufacturer, models, description stem, cost range)
ITEMS = [
    ("1001", "FILE", "HON", "H252 H254 H254LO H310 H314 H318 H520 H524 H530 H534",
     "HON file cabinet", (80, 320)),
    ("2001", "DESK", "STL", "D100 D150 D200 D240 D300 D360 D420 D480",
     "Steelcase desk", (180, 900)),
    ("3001", "CHR", "GLB", "C10 C12 C20 C24 C30 C36 C40 C48 C50 C60",
     "Global office chair", (60, 420)),
    ("4001", "SUPP", "AVR", "L5160 L5163 L8160 T1020 T1030 B3010 B3020 P100 P200 P300",
     "Avery supplies", (3, 40)),
    ("5001", "COMP", "HEW", "M401 M402 M551 P1102 P3015 LJ4 LJ5 OJ8 OJ9",
     "HP printer", (120, 850)),
    ("6001", "PAPR", "BOI", "BR20 BR24 CP20 CP24 LG20 LG24 RC28 RC32 EN10 EN12 EN14",
     "Boise paper", (20, 60)),
]  # fmt: skip
MISC = [("/C", "4", "Comment"), ("/LABOR", "5", "Labor"), ("/SETUP", "3", "Setup")]
TERMS = [
    ("00", "COD", 0, 0, "0"), ("01", "Net 30 Days", 30, 0, "0"),
    ("02", "2% 10 Net 30", 30, 10, "2"), ("05", "Net 60 Days", 60, 0, "0"),
]  # fmt: skip
GL = [
    ("1000-00-00", "Cash in Bank", "CA"), ("1200-00-00", "Accounts Receivable", "CA"),
    ("1300-00-00", "Inventory", "CA"), ("2000-00-00", "Accounts Payable", "CL"),
    ("2200-00-00", "Sales Tax Payable", "CL"), ("4000-00-00", "Sales", "IN"),
    ("4010-00-00", "Sales - Furniture", "IN"), ("4020-00-00", "Sales - Supplies", "IN"),
    ("4100-00-00", "Freight Income", "IN"), ("5000-00-00", "Cost of Goods Sold", "CS"),
    ("6000-00-00", "Salaries", "EX"), ("6100-00-00", "Rent", "EX"),
]  # fmt: skip
