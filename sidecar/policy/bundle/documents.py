"""The documents inside a bundle: `.manifest`, and the data files that become one data tree.

Data files follow OPA: `data.json`, `data.yaml` or `data.yml`, placed in the data tree by
their directory inside the bundle (`a/b/data.json` is `data.a.b`) and merged into one
document; two values at one key where either is not an object conflict, and the bundle is
refused, as OPA refuses it. YAML is read as OPA reads it into JSON (keys become strings,
timestamps stay strings), with its alias expansion bounded. Every failure is a BundleError
naming the member, never its content.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import yaml

from sidecar.policy.bundle.errors import BundleError, FailureReason, show
from sidecar.policy.loader import DATA_FILE

MAX_YAML_NODES = 1_000_000
"""Cap on values built from YAML data, whose aliases can expand exponentially."""

MANIFEST = ".manifest"
DATA_FILES = frozenset({DATA_FILE, "data.yaml", "data.yml"})


def text(content: bytes, origin: str, path: str, reason: FailureReason) -> str:
    """A member's bytes as UTF-8 text; `reason` is what a failure is counted under."""
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        raise BundleError(reason, f"{origin}: {show(path)}: not valid UTF-8") from None


def json_value(source: str, origin: str, path: str, reason: FailureReason) -> Any:
    try:
        return orjson.loads(source)
    except orjson.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise BundleError(reason, f"{origin}: {show(path)}: invalid JSON at {where}") from None


def manifest_revision(content: bytes, origin: str) -> str | None:
    """The `revision` of a `.manifest`, whose fields are checked as OPA checks them."""
    reason: FailureReason = "invalid_manifest"
    manifest = json_value(text(content, origin, MANIFEST, reason), origin, MANIFEST, reason)
    if not isinstance(manifest, dict):
        raise BundleError(reason, f"{origin}: {MANIFEST}: not a JSON object")
    revision = manifest.get("revision")
    if revision is not None and not isinstance(revision, str):
        raise BundleError(reason, f"{origin}: {MANIFEST}: revision is not a string")
    roots = manifest.get("roots")
    if roots is not None and not (
        isinstance(roots, list) and all(isinstance(r, str) for r in roots)
    ):
        raise BundleError(reason, f"{origin}: {MANIFEST}: roots is not a list of strings")
    return revision or None


class DataTree:
    """The data files of one bundle, collected as they are read, then merged by `document`."""

    def __init__(self, origin: str) -> None:
        self._origin = origin
        self._files: list[tuple[str, Any]] = []
        self._raw_root: str | None = None

    def add(self, path: str, content: bytes) -> None:
        """Parse one data file (`path` inside the bundle, its name one of DATA_FILES)."""
        origin = self._origin
        if path.rsplit("/", 1)[-1] == DATA_FILE:
            raw = text(content, origin, path, "invalid_data")
            value = json_value(raw, origin, path, "invalid_data")
            if path == DATA_FILE:
                self._raw_root = raw
        else:
            value = _yaml(content, origin, path)
        self._files.append((path, value))

    def document(self) -> str | None:
        """One data document from every data file, each at its directory's path. A lone
        root data.json is kept byte for byte, so a bundle of a policy directory hashes (and
        so revisions) like the directory."""
        files, origin = self._files, self._origin
        if not files:
            return None
        if len(files) == 1 and files[0][0] == DATA_FILE and self._raw_root is not None:
            if not isinstance(files[0][1], dict):
                raise BundleError(
                    "invalid_data", f"{origin}: {DATA_FILE}: the root document is not an object"
                )
            return self._raw_root
        tree: dict[str, Any] = {}
        for path, value in files:
            keys = path.split("/")[:-1]
            if not keys and not isinstance(value, dict):
                raise BundleError(
                    "invalid_data", f"{origin}: {show(path)}: the root document is not an object"
                )
            try:
                _insert(tree, keys, value)
            except _Conflict as conflict:
                at = ".".join(["data", *conflict.keys])
                raise BundleError(
                    "invalid_data",
                    f"{origin}: {show(path)}: conflicts with other data at {show(at)}",
                ) from None
            except RecursionError:
                raise BundleError(
                    "invalid_data", f"{origin}: {show(path)}: nested too deeply"
                ) from None
        try:
            return orjson.dumps(tree).decode()
        except orjson.JSONEncodeError:
            raise BundleError(
                "invalid_data", f"{origin}: data nested too deeply to merge"
            ) from None


# ---- YAML ----------------------------------------------------------------------------------


class _Pairs(list[tuple[Any, Any]]):
    """A YAML mapping as its (key, value) pairs: keys that a Python dict would merge (1 and
    true) or refuse (lists) are kept apart until they are converted to JSON strings."""


class _YamlLoader(yaml.SafeLoader):
    """YAML 1.1 as OPA reads it into JSON: timestamps stay strings, mappings stay pairs."""


def _construct_mapping(loader: _YamlLoader, node: yaml.MappingNode) -> Iterator[_Pairs]:
    pairs = _Pairs()
    yield pairs  # first, so that an alias inside the mapping can refer to it
    loader.flatten_mapping(node)  # `<<` merge keys
    pairs.extend(loader.construct_pairs(node))


_YamlLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _yaml(content: bytes, origin: str, path: str) -> Any:
    source = text(content, origin, path, "invalid_data")
    try:
        value = yaml.load(source, Loader=_YamlLoader)  # a SafeLoader: builds plain values only
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "syntax"
        raise BundleError(
            "invalid_data", f"{origin}: {show(path)}: invalid YAML ({where})"
        ) from None
    budget = [MAX_YAML_NODES]
    try:
        return _json_value(value, budget)
    except (ValueError, RecursionError) as exc:
        problem = str(exc) if isinstance(exc, ValueError) else "nested too deeply"
        raise BundleError("invalid_data", f"{origin}: {show(path)}: {problem}") from None


def _json_value(value: Any, budget: list[int]) -> Any:
    """YAML value → JSON value; keys become strings as OPA converts them."""
    budget[0] -= 1
    if budget[0] < 0:
        raise ValueError("YAML expands to too many values")
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("NaN or infinity is not JSON")
        return value
    if isinstance(value, _Pairs):
        obj: dict[str, Any] = {}
        for key, item in value:
            name = _json_key(key)
            if name in obj:
                raise ValueError(f"YAML key {show(name)!r} appears twice in one mapping")
            obj[name] = _json_value(item, budget)
        return obj
    if isinstance(value, list):
        return [_json_value(v, budget) for v in value]
    raise ValueError(f"YAML {type(value).__name__} values are not JSON")


def _json_key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, int):
        return str(key)
    raise ValueError(f"YAML {type(key).__name__} keys are not JSON")


# ---- merging -------------------------------------------------------------------------------


class _Conflict(Exception):
    def __init__(self, keys: list[str]) -> None:
        self.keys = keys
        """Where in the data tree, from its root."""


def _insert(tree: dict[str, Any], keys: list[str], value: Any) -> None:
    """Place `value` at `keys` under `tree`, merging objects; two values at one key where
    either is not an object conflict (OPA refuses such a bundle too)."""
    node = tree
    for i, key in enumerate(keys[:-1]):
        child = node.setdefault(key, {})
        if not isinstance(child, dict):
            raise _Conflict(keys[: i + 1])
        node = child
    if not keys:
        _merge(tree, value, [])
        return
    last = keys[-1]
    if last not in node:
        node[last] = value
    elif isinstance(node[last], dict) and isinstance(value, dict):
        _merge(node[last], value, keys)
    else:
        raise _Conflict(keys)


def _merge(into: dict[str, Any], value: dict[str, Any], at: list[str]) -> None:
    for key, item in value.items():
        if key not in into:
            into[key] = item
        elif isinstance(into[key], dict) and isinstance(item, dict):
            _merge(into[key], item, [*at, key])
        else:
            raise _Conflict([*at, key])
