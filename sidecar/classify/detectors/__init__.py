"""The detector catalogue: one small unit per entity type."""

from sidecar.classify.detectors import dsn, examples, pci, phi, pii, providers, secret
from sidecar.classify.detectors.base import Detector

DEFAULT_DETECTORS: tuple[Detector, ...] = (
    *pii.DETECTORS,
    *pci.DETECTORS,
    *phi.DETECTORS,
    *secret.DETECTORS,
    *providers.DETECTORS,
    *dsn.DETECTORS,
    *examples.DETECTORS,
)
TAGS: tuple[str, ...] = tuple(sorted({d.tag for d in DEFAULT_DETECTORS if not d.suppress}))

__all__ = ["DEFAULT_DETECTORS", "TAGS", "Detector"]
