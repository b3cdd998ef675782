"""The rule language of smart segments (docs/design.md#rule-language): parse, compile, describe.

No knowledge of views or HTTP. Everything that evaluates a segment goes
through `segments.selectors`, which uses this package.
"""

from .compile import compile_filter
from .describe import describe_filter
from .errors import RuleError, RuleErrors
from .fields import FIELDS, OPERATOR_LABELS, Kind
from .parse import count_conditions, iter_conditions, parse_filter

__all__ = [
    "FIELDS",
    "OPERATOR_LABELS",
    "Kind",
    "RuleError",
    "RuleErrors",
    "compile_filter",
    "count_conditions",
    "describe_filter",
    "iter_conditions",
    "parse_filter",
]
