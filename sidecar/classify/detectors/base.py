"""A detector, Presidio-style: patterns find candidates, a validator and context confirm them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

Validator = Callable[[str], bool]


@dataclass(frozen=True, slots=True)
class Detector:
    tag: str
    patterns: tuple[str, ...]
    """Hyperscan expressions (linear time; no lookaround, no backreferences)."""
    validator: Validator | None = None
    context: tuple[str, ...] = ()
    """Lower-case words; when set, one must appear shortly before the candidate."""
    confidence: float = 0.9
    context_window: int = 48
    extend_to: str | None = None
    """If set, the finding's span runs to the end of this marker's line (PEM blocks)."""

    @property
    def category(self) -> str:
        return self.tag.split(".", 1)[0]
