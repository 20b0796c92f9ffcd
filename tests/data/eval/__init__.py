"""The hand-written evaluation corpus (a development split and a held-apart test split).

See README.md here for how it was written and loader.py for the markup.
"""

from tests.data.eval.loader import (
    LOOKALIKES,
    NEW_TAGS,
    SPLITS,
    Label,
    MarkupError,
    Record,
    load,
    parse,
)

__all__ = ["LOOKALIKES", "NEW_TAGS", "SPLITS", "Label", "MarkupError", "Record", "load", "parse"]
