"""The rule language of smart segments (docs/design.md#rule-language): parse, describe.

No knowledge of views, HTTP or the database: groups and saved segments are
looked up through a `RuleLookup` (segments.lookups reads them from the
database), and the SQL compiler is `segments.compile`. Everything that
evaluates a segment goes through `segments.selectors`, which uses both.
"""

from .describe import describe_filter
from .errors import RuleError, RuleErrors
from .fields import FIELDS, OPERATOR_LABELS, Kind
from .lookup import RuleLookup, StoredSegment
from .parse import count_conditions, iter_conditions, parse_filter

__all__ = [
    "FIELDS",
    "OPERATOR_LABELS",
    "Kind",
    "RuleError",
    "RuleErrors",
    "RuleLookup",
    "StoredSegment",
    "count_conditions",
    "describe_filter",
    "iter_conditions",
    "parse_filter",
]
