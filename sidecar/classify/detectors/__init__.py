"""The detector catalogue: one small unit per entity type."""

from sidecar.classify.detectors import pci, phi, pii, secret
from sidecar.classify.detectors.base import Detector

DEFAULT_DETECTORS: tuple[Detector, ...] = (
    *pii.DETECTORS,
    *pci.DETECTORS,
    *phi.DETECTORS,
    *secret.DETECTORS,
)
TAGS: tuple[str, ...] = tuple(sorted({d.tag for d in DEFAULT_DETECTORS if not d.suppress}))

__all__ = ["DEFAULT_DETECTORS", "TAGS", "Detector"]
