"""`llm-router`: serve | demo | classify | explain | policy test/check/eval | audit verify |
webhook | inject.

Exit codes: 0 success, 1 a check failed (e.g. a policy test), 2 bad usage or configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import sys
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any

from sidecar.audit import configure_logging
from sidecar.config_loader import ConfigError, load_config


def run_async(coro: Coroutine[Any, Any, int | None]) -> int | None:
    """Run on uvloop when it is installed: it roughly halves the loop's per-request cost."""
    try:
        import uvloop

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(coro)
    except ImportError:
        return asyncio.run(coro)


def _serve(args: argparse.Namespace) -> int:
    from sidecar.app import Sidecar
    from sidecar.classify.custom import CustomDetectorError
    from sidecar.policy.errors import PolicyLoadError
    from sidecar.serve import serve_forever

    configure_logging(args.log_level)
    try:
        config = load_config(Path(args.config))
        sidecar = Sidecar.build(config, config_path=Path(args.config))
    except (ConfigError, PolicyLoadError, CustomDetectorError) as exc:
        print(f"llm-router: {exc}", file=sys.stderr)
        return 2
    release_free_heap()
    try:
        run_async(serve_forever(sidecar))
    except OSError as exc:  # a port in use, an unwritable audit file or queue directory
        print(f"llm-router: cannot start: {exc}", file=sys.stderr)
        return 2
    return 0


def release_free_heap() -> None:
    """Hand the heap freed during start-up (Hyperscan's compiler alone leaves ~40 MB) back
    to the OS, so the resident size is what serving needs. glibc only; a no-op elsewhere."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _demo(args: argparse.Namespace) -> int:
    from sidecar.demo import run_demo

    configure_logging("warning")
    return run_async(run_demo(Path(args.policies))) or 0


def _policy_test(args: argparse.Namespace) -> int:
    from sidecar.policy.testrunner import main_policy_test

    return main_policy_test(Path(args.dir), coverage=args.coverage)


def _policy_check(args: argparse.Namespace) -> int:
    from sidecar.policy.tools import check

    return check(Path(args.dir), args.json)


def _policy_eval(args: argparse.Namespace) -> int:
    from sidecar.policy.tools import evaluate

    return evaluate(Path(args.dir), Path(args.input), args.json)


def _explain(args: argparse.Namespace) -> int:
    from sidecar.classify import parse_declared
    from sidecar.explain import explain, read_request
    from sidecar.policy.errors import PolicyLoadError
    from sidecar.workload import Workload

    try:
        config = load_config(Path(args.config))
        labels = dict(label.split("=", 1) for label in args.label)
        if args.workload:
            import orjson

            raw = orjson.loads(Path(args.workload).read_bytes())
            workload = Workload(
                raw.get("namespace", ""),
                raw.get("pod", ""),
                raw.get("service_account", ""),
                {**raw.get("labels", {}), **labels},
            )
        else:
            workload = Workload(args.namespace, "", "", labels)
        declared = parse_declared(args.data_class) if args.data_class else None
        return explain(
            config,
            read_request(args.request),
            api_name=args.api,
            workload=workload,
            declared=declared,
            as_json=args.json,
        )
    except (ConfigError, PolicyLoadError, OSError, ValueError) as exc:
        print(f"llm-router: {exc}", file=sys.stderr)
        return 2


def _classify(args: argparse.Namespace) -> int:
    from sidecar.classify.classifier import Classifier
    from sidecar.classify.custom import CustomDetectorError
    from sidecar.classify.tool import run_human, run_jsonl
    from sidecar.config import ClassificationConfig

    try:
        cfg = (
            load_config(Path(args.config)).classification if args.config else ClassificationConfig()
        )
        classifier = Classifier.from_config(cfg)
    except (ConfigError, CustomDetectorError) as exc:
        print(f"llm-router: {exc}", file=sys.stderr)
        return 2
    source = sys.stdin if args.file == "-" else open(args.file, encoding="utf-8")  # noqa: SIM115
    with source:
        if args.jsonl:
            return run_jsonl(classifier, source, sys.stdout)
        return run_human(classifier, source.read(), sys.stdout)


def _webhook(args: argparse.Namespace) -> int:
    import ssl

    from sidecar.k8s.settings import SettingsError, load_settings
    from sidecar.k8s.webhook import serve_webhook

    configure_logging(args.log_level)
    try:
        settings = load_settings(Path(args.settings) if args.settings else None)
        if args.image:
            settings = settings.model_validate({**settings.model_dump(), "image": args.image})
        coro = serve_webhook(
            settings,
            Path(args.tls_cert),
            Path(args.tls_key),
            host=args.host,
            port=args.port,
            admin_host=args.admin_host,
            admin_port=args.admin_port,
            reload_interval=args.reload_interval,
        )
        run_async(coro)
    except (SettingsError, OSError, ssl.SSLError, ValueError) as exc:
        print(f"llm-router: {exc}", file=sys.stderr)
        return 2
    return 0


def _inject(args: argparse.Namespace) -> int:
    from sidecar.k8s.inject import main_inject
    from sidecar.k8s.settings import DNS_LABEL, SettingsError, load_settings

    try:
        if args.namespace is not None and not DNS_LABEL.fullmatch(args.namespace):
            raise ValueError(f"--namespace: not a namespace name: {args.namespace!r}")
        settings = load_settings(Path(args.settings) if args.settings else None)
        overrides = {k: v for k, v in (("image", args.image), ("mode", args.mode)) if v is not None}
        if overrides:
            settings = settings.model_validate({**settings.model_dump(), **overrides})
        source = sys.stdin if args.filename == "-" else open(args.filename, encoding="utf-8")  # noqa: SIM115
    except (SettingsError, OSError, ValueError) as exc:
        print(f"llm-router: {exc}", file=sys.stderr)
        return 2
    with source:
        if args.output:
            with open(args.output, "w", encoding="utf-8") as out:
                return main_inject(source, out, settings, args.quiet, args.namespace)
        return main_inject(source, sys.stdout, settings, args.quiet, args.namespace)


def _audit_verify(args: argparse.Namespace) -> int:
    from sidecar.audit.verify import main_verify

    return main_verify(
        args.files,
        partial=args.partial,
        skip_other=args.skip_other,
        check_schema=args.schema,
        as_json=args.json,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="llm-router", description="Policy-routing sidecar for LLM API calls."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the sidecar")
    serve.add_argument("--config", "-c", required=True, help="YAML config file")
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    serve.set_defaults(func=_serve)

    demo = sub.add_parser("demo", help="route four sample requests through loopback providers")
    demo.add_argument("--policies", default="policies", help="policy directory")
    demo.set_defaults(func=_demo)

    classify = sub.add_parser("classify", help="show what the classifier finds in a text")
    classify.add_argument("file", nargs="?", default="-", help="text file, or - for stdin")
    classify.add_argument("--jsonl", action="store_true", help='read {"id","text"} lines')
    classify.add_argument("--config", "-c", help="config file (for custom detectors)")
    classify.set_defaults(func=_classify)

    explain = sub.add_parser(
        "explain", help="classification, policy input and decision for a request (nothing sent)"
    )
    explain.add_argument("--request", "-r", required=True, help="request body JSON file, or -")
    explain.add_argument("--config", "-c", default="deploy/config/default.yaml")
    explain.add_argument(
        "--api",
        choices=[
            "openai",
            "openai-completions",
            "openai-embeddings",
            "openai-responses",
            "anthropic",
        ],
        default="openai",
    )
    explain.add_argument("--workload", help="JSON file: namespace, pod, service_account, labels")
    explain.add_argument("--namespace", default="", help="workload namespace")
    explain.add_argument("--label", action="append", default=[], help="workload label k=v")
    explain.add_argument("--data-class", help="as the X-LLM-Data-Class header would declare")
    explain.add_argument("--json", action="store_true")
    explain.set_defaults(func=_explain)

    policy = sub.add_parser("policy", help="policy tools")
    policy_sub = policy.add_subparsers(dest="policy_command", required=True)
    ptest = policy_sub.add_parser("test", help="run every test_* rule, PASS/FAIL per test")
    ptest.add_argument("dir", nargs="?", default="policies")
    ptest.add_argument("--coverage", action="store_true", help="report line coverage")
    ptest.set_defaults(func=_policy_test)
    pcheck = policy_sub.add_parser("check", help="compile the policy; errors with file:line")
    pcheck.add_argument("dir", nargs="?", default="policies")
    pcheck.add_argument("--json", action="store_true")
    pcheck.set_defaults(func=_policy_check)
    peval = policy_sub.add_parser("eval", help="decide one policy input document")
    peval.add_argument("--input", "-i", required=True, help="policy input JSON file")
    peval.add_argument("dir", nargs="?", default="policies")
    peval.add_argument("--json", action="store_true")
    peval.set_defaults(func=_policy_eval)

    webhook = sub.add_parser("webhook", help="run the Kubernetes mutating admission webhook")
    webhook.add_argument("--tls-cert", required=True, help="PEM certificate (chain) file")
    webhook.add_argument("--tls-key", required=True, help="PEM private key file")
    webhook.add_argument("--settings", help="injector settings YAML (default: built-in)")
    webhook.add_argument("--image", help="sidecar image (overrides the settings)")
    webhook.add_argument("--host", default="0.0.0.0")
    webhook.add_argument("--port", type=int, default=8443, help="HTTPS admission port")
    webhook.add_argument("--admin-host", default="0.0.0.0")
    webhook.add_argument("--admin-port", type=int, default=9090, help="/metrics, /healthz")
    webhook.add_argument(
        "--reload-interval", type=float, default=5.0, help="seconds between certificate checks"
    )
    webhook.add_argument(
        "--log-level", default="info", choices=["debug", "info", "warning", "error"]
    )
    webhook.set_defaults(func=_webhook)

    inject = sub.add_parser(
        "inject", help="add the sidecar to the workloads of a manifest (like kube-inject)"
    )
    inject.add_argument("-f", "--filename", required=True, help="multi-document YAML, or -")
    inject.add_argument("-o", "--output", help="write here instead of stdout")
    inject.add_argument("--settings", help="injector settings YAML (as the webhook's)")
    inject.add_argument("--image", help="sidecar image (overrides the settings)")
    inject.add_argument("--mode", choices=["native", "container"], help="sidecar kind")
    inject.add_argument(
        "-n", "--namespace", help="for workloads without metadata.namespace (as kubectl apply -n)"
    )
    inject.add_argument("-q", "--quiet", action="store_true", help="no report on stderr")
    inject.set_defaults(func=_inject)
    audit = sub.add_parser("audit", help="audit trail tools")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    averify = audit_sub.add_parser(
        "verify", help="check the hash chains; report the first gap or modification"
    )
    averify.add_argument("files", nargs="+", help="audit logs, rotated files oldest first")
    averify.add_argument(
        "--partial", action="store_true", help="chains may start after seq 0 (an excerpt)"
    )
    averify.add_argument(
        "--skip-other", action="store_true", help="ignore lines that are not audit records"
    )
    averify.add_argument(
        "--schema", action="store_true", help="also validate every record against the schema"
    )
    averify.add_argument("--json", action="store_true")
    averify.set_defaults(func=_audit_verify)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
