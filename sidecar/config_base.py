"""The one base every configuration model shares.

Unknown keys are errors, because a misspelt compliance attribute (say `bba: true`) that was
silently ignored would route regulated data by a contract nobody holds; and a validated
config is frozen, because a reload swaps whole objects rather than editing live ones.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
