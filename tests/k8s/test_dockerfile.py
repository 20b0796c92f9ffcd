"""The container image's Dockerfile, checked for structure (Docker cannot build here)."""

from __future__ import annotations

import re
import shlex

from sidecar.k8s.settings import InjectorSettings
from tests.k8s.support import ROOT

SECRETISH = re.compile(r"(\.env|\.pem|\.key|id_rsa|secret|credential|token)", re.IGNORECASE)


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuations joined and comments dropped."""
    joined: list[str] = []
    current = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        joined.append(current + stripped)
        current = ""
    out = []
    for line in joined:
        word, _, rest = line.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def stages() -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for ins in instructions((ROOT / "Dockerfile").read_text()):
        if ins[0] == "FROM":
            result.append([])
        result[-1].append(ins)
    return result


def test_multi_stage_with_pinned_base_images() -> None:
    all_stages = stages()
    assert len(all_stages) >= 2
    for stage in all_stages:
        image = stage[0][1].split()[0]
        name, _, tag = image.partition(":")
        assert tag and tag != "latest" and "@sha256:" not in name, image
        assert re.match(r"^\d+\.\d+\.\d+", tag) or "@sha256:" in tag, f"{image}: pin a version"


def test_final_stage_runs_as_a_non_root_uid_that_is_not_the_sidecars() -> None:
    final = stages()[-1]
    users = [args for word, args in final if word == "USER"]
    assert users, "the final stage must set USER"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) != 0, "numeric and not root, so runAsNonRoot can be checked"
    # The injected sidecar runs under a UID of its own, set in its securityContext: the
    # image's (distroless' nonroot, which app images often run as too) would be shared.
    assert int(uid) != InjectorSettings().run_as_user
    entrypoint = [args for word, args in final if word == "ENTRYPOINT"][-1]
    assert entrypoint.startswith("[") and '"llm-router"' in entrypoint


def test_no_build_tools_and_no_secrets_in_the_image() -> None:
    final = stages()[-1]
    for word, args in final:
        if word == "RUN":
            assert not re.search(r"apt-get|apk|gcc|build-essential|pip install", args), args
    for stage in stages():
        for word, args in stage:
            if word in ("COPY", "ADD"):
                sources = [a for a in shlex.split(args) if not a.startswith("--")][:-1]
                assert "." not in sources and "./" not in sources, "never copy the whole context"
                for source in sources:
                    assert not SECRETISH.search(source), source
                    assert "://" not in source, "no downloads in ADD"
                if not any(a.startswith("--from") for a in shlex.split(args)):
                    for source in sources:
                        assert (ROOT / source).exists(), source
            if word in ("ENV", "ARG"):
                assert not re.search(r"(KEY|TOKEN|PASSWORD|SECRET)\w*=", args, re.IGNORECASE), args
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    assert ignore[ignore.index("*")] == "*", "the build context is an allow-list"
    for pattern in ("**/*.key", "**/*.pem", "**/.env"):
        assert pattern in ignore
