"""Which sidecar images the injector settings allow a pod to name (`llm-router.io/image`).

The sidecar container mounts the provider-keys Secret and runs under the sidecar's UID, so
its image can read the keys: an image the pod's author chose could send them anywhere. Only
the platform team's allow-list may widen the choice, and an entry says how much it trusts:

  registry.example.com/llm-router@sha256:<hex>   exactly that image content
  registry.example.com/llm-router:0.2.0          whatever that tag points at when a node
                                                 pulls it: trusts whoever can push the tag
  registry.example.com/llm-router@*              any digest of that repository (the pod
                                                 must pin one): trusts whoever can push to it
  registry.example.com/llm-router:*              any tag or digest of that repository

References are compared as written, without the registry's defaults (`docker.io/library/`
is not implied): a spelling the list does not have is refused, never guessed at. The
grammar is the distribution project's (`reference.go`), with digests limited to sha256 and
sha512, so a value that is not an image reference (a URL with credentials, say) never
parses and is never echoed back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*(?::[0-9]+)?"
_NAME = rf"(?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*"
_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
_DIGEST = r"sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128}"
REFERENCE = re.compile(rf"(?P<name>{_NAME})(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?")
WILDCARD = re.compile(rf"(?P<name>{_NAME})(?P<any>:\*|@\*)")
MAX_NAME = 255
"""The distribution spec's limit on a repository name, registry included."""
MAX_REFERENCE = MAX_NAME + 1 + 128 + 1 + 135
"""Name, tag and the longest digest: anything longer is not a reference, and is never given
to the regular expressions (annotations can be large)."""


@dataclass(frozen=True)
class ImageRef:
    """An image reference split the way a container runtime reads it."""

    name: str
    """The repository, registry included."""
    tag: str | None
    digest: str | None
    """When present, the runtime pulls by it and ignores the tag."""


def parse_reference(value: str) -> ImageRef | None:
    """The reference, or None when `value` is not one."""
    match = REFERENCE.fullmatch(value) if len(value) <= MAX_REFERENCE else None
    if not match or len(match["name"]) > MAX_NAME:
        return None
    return ImageRef(match["name"], match["tag"], match["digest"])


@dataclass(frozen=True)
class ImagePattern:
    """One allow-list entry: an exact reference, or a repository with `:*` or `@*`."""

    name: str
    tag: str | None = None
    digest: str | None = None
    any_tag: bool = False
    """`:*`: any tag or digest of the repository."""
    any_digest: bool = False
    """`@*`: any digest of the repository, never a tag."""

    def matches(self, ref: ImageRef) -> bool:
        """Whether a pod naming `ref` would run an image this entry allows."""
        if ref.name != self.name:
            return False
        if self.any_tag:
            return True
        if self.any_digest:
            return ref.digest is not None
        if self.digest is not None:
            return ref.digest == self.digest
        # A tag entry: a reference with a digest would run that digest, whatever the tag.
        return ref.digest is None and (ref.tag or "latest") == (self.tag or "latest")


@lru_cache(maxsize=1024)
def parse_pattern(value: str) -> ImagePattern:
    """An allow-list entry, or ValueError saying what is wrong with it. Cached: entries come
    from the settings, and every admission that names an image matches against them."""
    wildcard = WILDCARD.fullmatch(value) if len(value) <= MAX_REFERENCE else None
    if wildcard and len(wildcard["name"]) <= MAX_NAME:
        kind = wildcard["any"]
        return ImagePattern(wildcard["name"], any_tag=kind == ":*", any_digest=kind == "@*")
    ref = parse_reference(value)
    if ref is None:
        raise ValueError(
            f"not an image reference, nor a repository followed by :* or @*: {value!r}"
        )
    return ImagePattern(ref.name, ref.tag, ref.digest)
