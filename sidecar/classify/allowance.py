"""How much work one request may cost the scanner, so that time stays linear and small.

Realistic text needs about 1,200 validator checks and 2,300 located pattern hits per MB.
Text built so that every position is a candidate ("0-0-0-…", "1 1 1 …") would need a
Python callback and a validator call per byte and cost seconds per MB. Past the allowance
the scan stops and the request counts as truncated, which the default policy treats as
regulated: bounded time, and still fail-closed.
"""

from __future__ import annotations

from dataclasses import dataclass

CHECKS_BASE = 1024
CHECKS_PER_KB = 4
"""Validator checks: 1,024 plus 4,096 per MB scanned."""
HITS_PER_CHECK = 4
"""Located hits (start-of-match scans) per check."""
RAW_BASE = 16384
RAW_PER_KB = 256
"""Raw fast-scan callbacks, before the context gate: numbers-heavy text (a CSV export)
makes about 190 per KB; each costs well under a microsecond."""


@dataclass(slots=True)
class Allowance:
    checks: int
    hits: int
    raw: int
    exhausted: bool = False
    undecoded: bool = False
    """An encoded run (base64, percent-encoding) was left undecoded because the decode
    budget was spent: what it hides was not scanned, so the scan counts as truncated."""

    @classmethod
    def for_size(cls, size: int) -> Allowance:
        checks = CHECKS_BASE + CHECKS_PER_KB * (size >> 10)
        return cls(checks, checks * HITS_PER_CHECK, RAW_BASE + RAW_PER_KB * (size >> 10))

    # Each method settles `exhausted` itself rather than through a shared helper: they run
    # a few times per value found, and a second call frame each time was measurable.

    def take(self) -> bool:
        """One validator check; False once the allowance is spent."""
        self.checks -= 1
        if self.checks < 0:
            self.exhausted = True
        return not self.exhausted

    def hit(self, count: int = 1) -> bool:
        """`count` located hits; False once spent, to stop the scan."""
        self.hits -= count
        if self.hits < 0:
            self.exhausted = True
        return not self.exhausted

    def callback(self) -> bool:
        """One raw callback of the fast scan; False once spent, to stop the scan."""
        return self.callbacks(1)

    def callbacks(self, count: int) -> bool:
        """`count` raw callbacks of one scan, counted by its handler (which stops the scan
        once they pass what is left); False once spent."""
        self.raw -= count
        if self.raw < 0:
            self.exhausted = True
        return not self.exhausted
