"""The prompt a task hands to a model: a shared ``prefix`` and the question's own ``suffix``.

The prefix (header and demonstrations) is the same for every question of a unit, so a backend may
compute it once and reuse it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Prompt:
    prefix: str
    suffix: str

    @property
    def text(self) -> str:
        return self.prefix + self.suffix
