"""The shape of the demo contacts: names, weights and shares, and nothing about SQL.

Change these to change what `seed_demo` produces; `sql.py` turns them into the
statements. Dates are spread over the HISTORY_DAYS before the *anchor*: midnight
UTC of the anchor date, today by default.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from contacts.models import Contact

HISTORY_DAYS = 730  # created_at / last_interacted_at spread over the last two years

BOUNCED_SHARE = 0.05
UNSUBSCRIBED_SHARE = 0.08  # drawn independently of bounced
NEVER_INTERACTED_SHARE = 0.15  # last_interacted_at IS NULL
NO_COMPANY_SHARE = 0.08
NO_JOB_TITLE_SHARE = 0.10
COMPANY_EMAIL_SHARE = 0.55  # of contacts with a company: e-mail at the company's domain

FIRST_NAMES = [
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda",
    "David", "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica",
    "Thomas", "Sarah", "Charles", "Karen", "Daniel", "Lisa", "Matthew", "Nancy",
    "Anthony", "Betty", "Mark", "Sandra", "Paul", "Ashley", "Steven", "Emily",
    "Andrew", "Donna", "Joshua", "Michelle", "Kevin", "Carol", "Brian", "Amanda",
    "George", "Melissa", "Timothy", "Deborah", "Ronald", "Stephanie", "Jason", "Rebecca",
    "Jeffrey", "Laura", "Ryan", "Sharon", "Jacob", "Cynthia", "Gary", "Kathleen",
    "Nicholas", "Amy", "Eric", "Angela", "Jonathan", "Helen", "Larry", "Anna",
    "Justin", "Brenda", "Scott", "Pamela", "Frank", "Nicole", "Benjamin", "Emma",
    "Samuel", "Samantha", "Gregory", "Katherine", "Alexander", "Christine", "Patrick",
    "Rachel", "Jack", "Olivia", "Dennis", "Sophia", "Noah", "Mia", "Lucas", "Chloe",
    "Luca", "Giulia", "Mateo", "Sofia", "Hugo", "Lea", "Jonas", "Hannah", "Lukas",
    "Marie", "Pierre", "Camille", "Hiroshi", "Yuki", "Wei", "Mei", "Arjun", "Priya",
    "Rahul", "Ananya", "Carlos", "Lucia", "Diego", "Valentina", "Ahmed", "Fatima",
    "Omar", "Amina", "Lars", "Ingrid", "Sven", "Freya", "Kwame", "Ama", "Tomasz", "Zofia",
]  # fmt: skip

LAST_NAMES = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
    "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson",
    "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson",
    "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker",
    "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores",
    "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell",
    "Carter", "Roberts", "Gomez", "Phillips", "Evans", "Turner", "Diaz", "Parker",
    "Cruz", "Edwards", "Collins", "Reyes", "Stewart", "Morris", "Morales", "Murphy",
    "Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper", "Peterson", "Bailey",
    "Reed", "Kelly", "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson", "Watson",
    "Brooks", "Chavez", "Wood", "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes",
    "Price", "Alvarez", "Castillo", "Sanders", "Patel", "Myers", "Long", "Ross",
    "Foster", "Jimenez", "Mueller", "Schmidt", "Schneider", "Fischer", "Weber", "Dubois",
    "Laurent", "Rossi", "Russo", "Bianchi", "Tanaka", "Suzuki", "Sato", "Wang", "Chen",
    "Li", "Zhang", "Sharma", "Gupta", "Singh", "Silva", "Santos", "Oliveira", "Kowalski",
    "Nowak", "Jansen", "de Vries", "Andersson", "Johansson", "Hansen", "Mensah",
]  # fmt: skip

# Company names without a suffix. None of them contains "inc" in any case, so the
# share of companies matching `contains "inc"` is exactly the "Inc"/"Inc." suffixes.
COMPANY_NAMES = [
    "Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark Industries", "Wayne Enterprises",
    "Wonka", "Soylent", "Cyberdyne", "Tyrell", "Massive Dynamic", "Aperture Science",
    "Black Mesa", "Gringotts", "Oscorp", "Vandelay Industries", "Dunder Mifflin",
    "Pied Piper", "Bluth Company", "Sterling Cooper", "Monarch Solutions", "Nakatomi Trading",
    "Wernham Hogg", "Kramerica", "Gekko & Co", "Tessier-Ashpool", "Weyland-Yutani",
    "Blue Sun", "Virtucon", "Duff Brewing", "Los Pollos Hermanos", "Bright Path",
    "Northwind Traders", "Contoso", "Fabrikam", "Tailspin Toys", "Adventure Works",
    "Litware", "Proseware", "Wingtip Toys", "Woodgrove Bank", "Alpine Ski House",
    "Coho Winery", "Lucerne Publishing", "Margie's Travel", "Fourth Coffee", "Humongous Insurance",
    "Blue Yonder Airlines", "Graphic Design Institute", "Trey Research", "Southridge Video",
    "Datum Systems", "Lamna Healthcare", "Relecloud", "Munson's Pickles", "Paucek Labs",
    "Brightwave", "Cloudberry", "Quantum Leap", "Redwood Analytics", "Silverline",
    "Sunflower Foods", "Tidewater Logistics", "Evergreen Health", "Orbital Systems",
    "Copperleaf", "Harbor & Hale", "Ironclad Security", "Juniper Works", "Keystone Data",
    "Lighthouse Media", "Maple Robotics", "Nimbus Cloud", "Oakridge Partners", "Pinnacle Sports",
    "Riverstone", "Summit Outdoor", "Trailhead Apps", "Vertex Labs", "Zenith Retail",
]  # fmt: skip

# Legal-form suffixes with weights; "Inc" + "Inc." make up 22% of the contacts that
# have a company, i.e. about a fifth of all contacts.
COMPANY_SUFFIXES = [
    ("Inc", 13), ("Inc.", 9), ("LLC", 14), ("GmbH", 8), ("Ltd", 12), ("", 44),
]  # fmt: skip

# Addresses for contacts without a company address. .example is reserved (RFC 2606),
# so demo mail can never reach anyone.
PERSONAL_EMAIL_DOMAINS = ["mail.example", "inbox.example", "post.example", "webmail.example"]
COMPANY_EMAIL_TLD = "example"

JOB_TITLES = [
    ("Marketing Manager", 10), ("Software Engineer", 10), ("Sales Director", 6),
    ("CEO", 4), ("CTO", 3), ("Founder", 4), ("Product Manager", 8),
    ("Head of Growth", 4), ("Operations Manager", 6), ("Data Analyst", 6),
    ("Account Executive", 7), ("VP Marketing", 3), ("Designer", 5),
    ("Customer Success Manager", 6), ("Consultant", 6), ("HR Manager", 4),
    ("Student", 3), ("Office Manager", 5),
]  # fmt: skip

LOCATIONS = [  # (country, city, weight)
    ("United States", "New York", 9), ("United States", "San Francisco", 7),
    ("United States", "Austin", 4), ("United States", "Chicago", 5),
    ("United States", "Seattle", 4), ("United States", "Boston", 4),
    ("Canada", "Toronto", 4), ("Canada", "Vancouver", 2),
    ("United Kingdom", "London", 8), ("United Kingdom", "Manchester", 2),
    ("Germany", "Berlin", 5), ("Germany", "Munich", 3), ("France", "Paris", 5),
    ("Netherlands", "Amsterdam", 3), ("Spain", "Madrid", 2), ("Spain", "Barcelona", 2),
    ("Italy", "Milan", 2), ("Sweden", "Stockholm", 2), ("Poland", "Warsaw", 2),
    ("India", "Bangalore", 5), ("India", "Mumbai", 3), ("Japan", "Tokyo", 3),
    ("Australia", "Sydney", 3), ("Brazil", "São Paulo", 3), ("Mexico", "Mexico City", 2),
    ("Singapore", "Singapore", 2), ("Nigeria", "Lagos", 1), ("South Africa", "Cape Town", 1),
    ("Ireland", "Dublin", 2),
]  # fmt: skip

EVENT_SOURCE = "event"  # the source of contacts met at events (Conference leads)
SOURCES = [
    ("website", 30), ("import", 18), ("referral", 12), (EVENT_SOURCE, 9), ("api", 9),
    ("webinar-q1", 8), ("webinar-q2", 7), ("webinar-product", 7),
]  # fmt: skip

# Lifecycle stages with weights and the lead-score band of each; scores are drawn
# skewed towards the bottom of the band, so the overall distribution is skewed low.
_Stage = Contact.LifecycleStage
LIFECYCLE_STAGES = [  # (stage, weight, min score, max score)
    (_Stage.SUBSCRIBER.value, 42, 0, 40),
    (_Stage.LEAD.value, 25, 5, 60),
    (_Stage.MQL.value, 13, 30, 80),
    (_Stage.SQL.value, 8, 50, 95),
    (_Stage.CUSTOMER.value, 12, 40, 100),
]

# custom_fields: {"plan": ..., "seats": <int>, "trial_ends": "YYYY-MM-DD"}
PLAN_SHARE = 0.70  # the others have no "plan" (and no seats)
PLANS = [  # (plan, weight, min seats, max seats)
    ("free", 50, 1, 1),
    ("pro", 35, 2, 25),
    ("enterprise", 15, 25, 500),
]
TRIAL_SHARE = 0.30  # of contacts with a plan: "trial_ends" set
# Registered, so the builder and the forms know their types (and the fields get their
# indexes): (name, label, type, options).
CUSTOM_FIELDS = [
    ("plan", "Plan", "choice", [name for name, _, _, _ in PLANS]),
    ("seats", "Seats", "number", []),
    ("trial_ends", "Trial ends", "date", []),
]
TRIAL_ENDS_DAYS = (-60, 30)  # relative to the anchor date


@dataclass(frozen=True)
class TagSpec:
    name: str
    share: float  # chance a contact gets the tag
    # Optionally a different chance for contacts whose lifecycle stage / plan matches.
    if_stage: str | None = None
    if_plan: str | None = None
    share_if: float = 0.0


TAGS = [
    TagSpec("newsletter", 0.55),
    TagSpec("webinar-attendee", 0.12),
    TagSpec("customer", 0.01, if_stage=_Stage.CUSTOMER.value, share_if=0.90),
    TagSpec("trial", 0.07),
    TagSpec("event-2026", 0.07),
    TagSpec("vip", 0.065),
    TagSpec("churn-risk", 0.05),
    TagSpec("enterprise", 0.01, if_plan="enterprise", share_if=0.70),
    TagSpec("partner", 0.03),
    TagSpec("beta", 0.015),
]
MAX_TAGS_PER_CONTACT = 3  # contacts drawing more keep 3 of them at random


@dataclass(frozen=True)
class GroupSpec:
    name: str
    description: str


CONFERENCE_LEADS = GroupSpec("Conference leads", "People we met at conference booths.")
BOARD = GroupSpec("Board", "Customer advisory board.")
EARLY_ADOPTERS = GroupSpec("Early adopters", "Signed up in our first months.")
GROUPS = [CONFERENCE_LEADS, BOARD, EARLY_ADOPTERS]
CONFERENCE_LEADS_SHARE_EVENT = 0.60  # of contacts with source EVENT_SOURCE
CONFERENCE_LEADS_SHARE_OTHER = 0.01
BOARD_SIZE = 12  # high-scoring customers, per seeding run
BOARD_MIN_SCORE = 80  # customers scoring this much come first
EARLY_ADOPTER_DAYS = 120  # created in the first 120 days of the two-year window
EARLY_ADOPTERS_SHARE = 0.35  # of those


def anchor_datetime(anchor: dt.date) -> dt.datetime:
    """Dates are spread over the HISTORY_DAYS before midnight UTC of the anchor date."""
    return dt.datetime.combine(anchor, dt.time(0, 0), tzinfo=dt.UTC)
