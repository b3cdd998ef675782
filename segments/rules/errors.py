from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RuleError:
    """One problem in a rule tree: where (`rules[2].rules[0].value`) and what, in plain words."""

    path: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


class RuleErrors(ValueError):
    """A rule tree that cannot be evaluated; `.errors` lists every problem found."""

    def __init__(self, errors: list[RuleError]):
        self.errors = errors
        super().__init__("; ".join(f"{e.path}: {e.message}" for e in errors))

    def as_list(self) -> list[dict[str, str]]:
        return [e.as_dict() for e in self.errors]
