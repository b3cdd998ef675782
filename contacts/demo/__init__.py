"""Realistic demo contacts for development and benchmarks, generated inside PostgreSQL.

Development tooling, not part of the product: `manage.py seed_demo` runs it (for
`scripts/devenv.py dev` and the benchmarks in `bench/`). `data.py` is the shape
of the data (names, weights, shares), `sql.py` turns it into a few set-based
statements, and `load.py` runs them in one transaction.
"""

from .load import SeedResult, seed_contacts

__all__ = ["SeedResult", "seed_contacts"]
