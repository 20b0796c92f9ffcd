"""The journey of one request: read, parse, classify, decide, dispatch, then audit.

Reads top to bottom as DESIGN.md describes it. Each step is a call into its own package;
this module knows neither HTTP handlers nor Rego. `Pipeline.run` is an async context
manager so that the audit record and metrics are written exactly once, when the reply has
been delivered (or the client went away), whatever happened in between.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import traceback
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
import structlog

from sidecar.api.base import BodyTooLarge, ClientApi, Inbound, ParsedRequest, Reply
from sidecar.audit import AuditLog, AuditRecord
from sidecar.catalog import Candidate, Catalog, LogicalModel
from sidecar.classify import Classifier, parse_declared, redact
from sidecar.classify.model import Classification
from sidecar.classify.redact import Unredactable
from sidecar.config import Limits
from sidecar.dispatch import Dispatcher, DispatchLog, Opened, Plan
from sidecar.errors import RouterError
from sidecar.headers import DECLARED_HEADER, forwardable
from sidecar.limits import InFlight, check_message_count
from sidecar.metrics import OTHER, Metrics
from sidecar.policy.model import POLICY_INPUT_VERSION, Decision, PolicyEngine
from sidecar.providers.aggregator import dropped_fields, take_routing_fields
from sidecar.providers.base import UnsupportedFeature
from sidecar.providers.upstream import UnsupportedRoute
from sidecar.relay import UpstreamStream
from sidecar.workload import Workload

log = structlog.get_logger("llm_router.pipeline")

DECISION_HEADER = "x-llm-router-decision-id"
ROUTE_HEADER = "x-llm-router-route"


def _serializer(body: dict[str, Any]) -> Callable[[], bytes]:
    return lambda: orjson.dumps(body)


@dataclass(slots=True)
class _Trip:
    """What one request went through; becomes the audit record and the metrics."""

    api: ClientApi
    started: float
    record: AuditRecord
    dispatch: DispatchLog = field(default_factory=DispatchLog)
    decision: str = "invalid"
    level: str = "unknown"
    status: int = 0
    error_code: str | None = None
    served_by: Candidate | None = None
    ready_at: float | None = None
    ttfb: float | None = None
    upstream_ttfb: float | None = None
    usage: dict[str, int] | None = None
    disconnected: bool = False
    upstream_stream: UpstreamStream | None = None
    """Closed when the request ends, even if the app never read the stream."""
    dropped: dict[str, list[str]] = field(default_factory=dict)
    """Route -> the app's routing fields its body goes without (providers/aggregator.py)."""


def build_policy_input(
    *,
    request_id: str,
    api: ClientApi,
    parsed: ParsedRequest,
    declared: str | None,
    time: str,
    workload: dict[str, Any],
    classification: dict[str, Any],
    model: LogicalModel,
    candidates: list[Candidate],
    alternatives: dict[str, list[Candidate]],
) -> dict[str, Any]:
    """The policy contract's input document (v1). `llm-router explain` builds the same.
    The resolved model and all its names sit next to the requested one, so that a model
    rule written with one name holds for every alias."""
    policy_input: dict[str, Any] = {
        "version": POLICY_INPUT_VERSION,
        "request": {
            "id": request_id,
            "api": api.name,
            "model": parsed.model,
            "resolved_model": model.name,
            "model_names": [model.name, *model.aliases],
            "stream": parsed.stream,
            "declared": {"data_class": declared} if declared else {},
            "time": time,
        },
        "workload": workload,
        "classification": classification,
        "routes": [c.policy_view for c in candidates],
    }
    if alternatives:
        policy_input["alternatives"] = {
            name: [c.policy_view for c in cands] for name, cands in alternatives.items()
        }
    return policy_input


class Pipeline:
    def __init__(
        self,
        *,
        limits: Limits,
        catalog: Catalog,
        classifier: Classifier,
        engine: PolicyEngine,
        dispatcher: Dispatcher,
        audit: AuditLog,
        metrics: Metrics,
        workload: Workload,
        masks: dict[str, str] | None = None,
        admission: InFlight | None = None,
    ) -> None:
        self.masks = masks or {}
        self.admission = admission if admission is not None else InFlight(limits.max_in_flight)
        self.limits = limits
        self.catalog = catalog
        self.classifier = classifier
        self.engine = engine
        self.dispatcher = dispatcher
        self.audit = audit
        self.metrics = metrics
        self.workload = workload
        self._workload_view = workload.to_policy_input()
        self._revision_seen = engine.revision

    @asynccontextmanager
    async def run(self, api: ClientApi, inbound: Inbound) -> AsyncIterator[Reply]:
        decision_id = uuid.uuid4().hex
        trip = _Trip(
            api, time.perf_counter(), AuditRecord(decision_id, api.name, self._workload_view)
        )
        self.metrics.inflight.inc()
        admitted = self.admission.try_acquire()
        try:
            try:
                if not admitted:  # refused at once, before even reading the body
                    trip.decision = "rejected"
                    err = self.admission.rejection()
                    self.metrics.rejected.labels(reason=err.code).inc()
                    raise err
                reply = await self._journey(api, inbound, trip)
            except RouterError as err:
                reply = self._error_reply(trip, err)
            except Exception as exc:  # a bug must fail closed, and say nothing about content
                log.error(
                    "internal_error",
                    decision_id=decision_id,
                    error_type=type(exc).__name__,
                    traceback="".join(traceback.format_tb(exc.__traceback__)),
                )
                internal = RouterError(500, "internal_error", "the router failed", kind="api_error")
                reply = self._error_reply(trip, internal)
            yield reply
        except (asyncio.CancelledError, ConnectionError):
            trip.disconnected = True
            raise
        finally:
            if trip.upstream_stream is not None:
                trip.upstream_stream.close()
            if admitted:
                self.admission.release()
            self.metrics.inflight.dec()
            self._finish(trip)

    async def _journey(self, api: ClientApi, inbound: Inbound, trip: _Trip) -> Reply:
        if self.audit.gated:  # audit queue full and on_full: block -> wait before anything
            await self.audit.admit()
        raw = await self._read(inbound)
        trip.record.content = {"sha256": hashlib.sha256(raw).hexdigest(), "bytes": len(raw)}
        parsed = api.parse(raw, self.limits.max_json_depth)
        check_message_count(parsed.body, self.limits.max_messages)
        trip.record.stream = parsed.stream
        declared = self._declared(inbound)
        forwarded = forwardable(inbound.headers)  # allow-listed app headers; 400 if malformed

        model = self.catalog.resolve(parsed.model)
        # The requested name is app-supplied text: it is recorded only if the catalog knows it.
        trip.record.model_requested = parsed.model if model is not None else OTHER
        if model is None:
            raise RouterError(
                404, "model_not_found", f"model {parsed.model!r} is not configured", param="model"
            )
        trip.record.model = model.name
        candidates = model.available()
        if not candidates:
            raise RouterError(
                503,
                "no_route_available",
                f"no provider of {model.name} has a key",
                kind="api_error",
            )

        # lead: scan header_segments(forwarded) here
        classification = self._classify(api, parsed, declared, trip)
        alternatives = self.catalog.alternatives(model)
        decision = await self._decide(
            api, parsed, declared, classification, model, candidates, alternatives, trip
        )
        offered = [*candidates, *(c for cands in alternatives.values() for c in cands)]

        plans = self._plans(api, parsed, classification, decision, offered, trip, forwarded)
        opened = await self.dispatcher.open(plans, parsed.stream, trip.dispatch)
        return self._reply(api, opened, offered, trip)

    async def _read(self, inbound: Inbound) -> bytes:
        ctype = inbound.content_type.lower()
        if ctype != "application/json" and not ctype.endswith("+json"):
            raise RouterError(
                415, "unsupported_media_type", "content type must be application/json"
            )
        limit = self.limits.max_body_bytes
        too_large = RouterError(413, "request_too_large", f"request body exceeds {limit} bytes")
        if inbound.content_length is not None and inbound.content_length > limit:
            raise too_large
        try:
            raw: bytes = await inbound.read()
        except BodyTooLarge:
            raise too_large from None
        return raw

    def _declared(self, inbound: Inbound) -> str | None:
        value = inbound.headers.get(DECLARED_HEADER)
        if value is None:
            return None
        try:
            return parse_declared(value)
        except ValueError:
            raise RouterError(
                400, "invalid_data_class", "X-LLM-Data-Class must name a level or a category"
            ) from None

    def _classify(
        self, api: ClientApi, parsed: ParsedRequest, declared: str | None, trip: _Trip
    ) -> Classification:
        t0 = time.perf_counter()
        try:
            result = self.classifier.classify(
                parsed.segments, declared, self.workload.floor, parsed.unscanned
            )
        except Exception as exc:
            log.error("classification_failed", error_type=type(exc).__name__)
            raise RouterError(
                500,
                "classification_failed",
                "the payload could not be classified",
                kind="api_error",
            ) from None
        self.metrics.classification.observe(time.perf_counter() - t0)
        for tag, count in result.tags.items():
            self.metrics.findings.labels(tag=tag).inc(count)
        for kind in result.unscanned:
            self.metrics.unscanned.labels(api=api.name, kind=kind).inc()
        trip.level = result.level
        trip.record.classification = {**result.to_policy_input(), "declared": declared}
        return result

    async def _decide(
        self,
        api: ClientApi,
        parsed: ParsedRequest,
        declared: str | None,
        classification: Classification,
        model: LogicalModel,
        candidates: list[Candidate],
        alternatives: dict[str, list[Candidate]],
        trip: _Trip,
    ) -> Decision:
        policy_input = build_policy_input(
            request_id=trip.record.decision_id,
            api=api,
            parsed=parsed,
            declared=declared,
            time=trip.record.time,
            workload=self._workload_view,
            classification=classification.to_policy_input(),
            model=model,
            candidates=candidates,
            alternatives=alternatives,
        )
        decision = await self.engine.decide(policy_input)
        if decision.revision != self._revision_seen and not decision.fail_closed:
            self._revision_seen = decision.revision  # an OPA server's bundle may change
            self.metrics.set_policy_revision(decision.engine, decision.revision)
        self.metrics.policy_evaluation.labels(engine=decision.engine).observe(decision.eval_seconds)
        trip.record.policy = {
            "engine": decision.engine,
            "revision": decision.revision,
            "allow": decision.allow,
            "routes": list(decision.routes),
            "reasons": list(decision.reasons),
            "obligations": decision.obligations.to_dict(),
            "eval_ms": round(decision.eval_seconds * 1000, 4),
            "error": decision.error,
            "engine_decision_id": decision.engine_decision_id,
            **decision.annotations,
        }
        for exception in decision.annotations.get("break_glass") or []:
            if isinstance(exception, dict):
                glass_id = self.metrics.break_glass_id(str(exception.get("id", "unknown")))
                self.metrics.break_glass.labels(id=glass_id).inc()
        if not decision.allow:
            reason = decision.reasons[0] if decision.reasons else "unspecified"
            self.metrics.denials.labels(reason=self.metrics.denial_reason(reason)).inc()
        if decision.fail_closed:
            trip.decision = "error"
            raise RouterError(
                503,
                "policy_unavailable",
                "the routing policy could not decide; nothing was sent (fail closed)",
                kind="api_error",
                details={"reasons": list(decision.reasons)},
            )
        if not decision.allow:
            trip.decision = "deny"
            raise RouterError(
                403,
                "policy_denied",
                "the routing policy denied this request: " + "; ".join(decision.reasons),
                kind="policy_denied",
                details={"reasons": list(decision.reasons)},
            )
        trip.decision = "allow"
        return decision

    def _plans(
        self,
        api: ClientApi,
        parsed: ParsedRequest,
        classification: Classification,
        decision: Decision,
        candidates: list[Candidate],
        trip: _Trip,
        app_headers: dict[str, str],
    ) -> list[Plan]:
        body = parsed.body
        redact_categories = set(decision.obligations.redact)
        if redact_categories and any(
            f.category in redact_categories for f in classification.findings
        ):
            try:
                body = redact(
                    body, parsed.segments, classification.findings, redact_categories, self.masks
                )
            except Unredactable as exc:
                raise RouterError(
                    403,
                    "unredactable",
                    f"the policy requires redacting {exc} in text that cannot be rewritten "
                    "(a PDF); nothing was sent",
                    kind="policy_denied",
                ) from None
        body, routing = take_routing_fields(body)  # models, provider, plugins...: the policy's
        by_id = {c.id: c for c in candidates}
        prefs = decision.obligations.provider_preferences
        plans: list[Plan] = []
        skipped: list[str] = []
        """Why each route was skipped, for the app: may quote the app's own values."""
        recorded: list[str] = []
        """The same without them, for the audit record."""
        for route_id in decision.routes:
            cand = by_id.get(route_id)
            if cand is None:  # the engine already drops these; never trust, always verify
                continue
            up = cand.upstream
            try:
                url = up.url(api.endpoint, cand.model)
                translator = up.translator(api.schema, api.endpoint)
                translated = translator.request_body(body, cand.model)
            except (UnsupportedRoute, UnsupportedFeature) as exc:
                skipped.append(f"{route_id}: {exc}")
                audit = exc.audit if isinstance(exc, UnsupportedFeature) else str(exc)
                recorded.append(f"{route_id}: {audit}")
                continue
            except (TypeError, ValueError, KeyError, AttributeError, IndexError) as exc:
                # A field of a shape the parser let through but the translator cannot read:
                # skip the route rather than send a half-translated body.
                log.warning("translation_failed", route=route_id, error_type=type(exc).__name__)
                skipped.append(f"{route_id}: a field has a shape this route cannot take")
                recorded.append(skipped[-1])
                continue
            trip.dropped[route_id] = up.apply_obligations(translated, prefs, routing)
            plans.append(Plan(route_id, up, url, translator, _serializer(translated), app_headers))
        if recorded:
            trip.record.outcome["skipped"] = recorded
        if not plans:
            raise RouterError(
                400,
                "unsupported_feature",
                "no allowed route can express this request: " + "; ".join(skipped),
            )
        return plans

    def _reply(
        self, api: ClientApi, opened: Opened, candidates: list[Candidate], trip: _Trip
    ) -> Reply:
        plan = opened.plan
        trip.served_by = next(c for c in candidates if c.id == plan.route_id)
        trip.ready_at = time.perf_counter()
        trip.ttfb = trip.ready_at - trip.started
        trip.upstream_ttfb = opened.ttfb_seconds
        trip.status = opened.status
        headers = {
            **opened.headers,
            DECISION_HEADER: trip.record.decision_id,
            ROUTE_HEADER: plan.route_id,
        }
        if opened.stream is None:
            trip.usage = plan.translator.usage.to_dict()
            body = opened.body
            if opened.status >= 400:
                trip.error_code = "upstream_client_error"
                body = _relayable_error(api, opened.status, body, trip.record.decision_id)
            return Reply(opened.status, headers, body)
        trip.upstream_stream = opened.stream
        return Reply(opened.status, headers, stream=self._relay(api, opened, trip))

    async def _relay(
        self, api: ClientApi, opened: Opened, trip: _Trip
    ) -> AsyncGenerator[bytes, None]:
        stream = opened.stream
        assert stream is not None
        failure: RouterError | None = None
        try:
            yield opened.body
            while chunk := await stream.next():
                yield chunk
        except RouterError as err:  # the stream failed after its first byte: no failover
            failure = err
        except Exception as exc:  # a bug: end the stream in the app's format all the same
            log.error(
                "internal_error", decision_id=trip.record.decision_id, error_type=type(exc).__name__
            )
            failure = RouterError(500, "internal_error", "the router failed", kind="api_error")
        finally:
            stream.close()
            trip.usage = stream.translator.usage.to_dict()
        if failure is not None:
            trip.error_code = failure.code
            yield api.stream_error(failure, trip.record.decision_id)

    def _error_reply(self, trip: _Trip, err: RouterError) -> Reply:
        trip.status, trip.error_code = err.status, err.code
        trip.ready_at = time.perf_counter()
        headers = {
            "content-type": "application/json",
            DECISION_HEADER: trip.record.decision_id,
            **err.headers,
        }
        return Reply(err.status, headers, trip.api.error_body(err, trip.record.decision_id))

    def _finish(self, trip: _Trip) -> None:
        now = time.perf_counter()
        record, cand = trip.record, trip.served_by
        record.attempts = trip.dispatch.attempts
        if dropped := dropped_fields(trip.dropped, ((a.route, a.outcome) for a in record.attempts)):
            record.outcome["dropped_fields"] = dropped  # names only, of routes the body went to
        record.decision = trip.decision
        ready = trip.ready_at if trip.ready_at is not None else now
        overhead = max(0.0, ready - trip.started - trip.dispatch.upstream_seconds)
        provider = cand.upstream.name if cand else None
        kind = cand.upstream.kind if cand else "none"
        record.outcome.update(
            {
                "status": 499 if trip.disconnected else trip.status,
                "error_code": "client_disconnected" if trip.disconnected else trip.error_code,
                "route": cand.id if cand else None,
                "provider": provider,
                "route_kind": kind,
                # Any attempt, served or failed over: the body left for an aggregator.
                "sent_to_aggregator": any(
                    a.kind == "aggregator" and a.outcome != "unavailable" for a in record.attempts
                ),
                "ttfb_ms": round(trip.ttfb * 1000, 3) if trip.ttfb is not None else None,
                "duration_ms": round((now - trip.started) * 1000, 3),
                "overhead_ms": round(overhead * 1000, 4),
                "usage": trip.usage,
            }
        )
        self.audit.emit(record)

        m = self.metrics
        provider = provider or "none"
        model = record.model or OTHER  # a configured model name, or `other`: bounded
        m.requests.labels(
            api=trip.api.name,
            route_kind=kind,
            provider=provider,
            decision=trip.decision,
            level=trip.level,
            model=model,
        ).inc()
        m.overhead.observe(overhead)
        if record.outcome["sent_to_aggregator"]:
            m.sent_to_aggregator.labels(level=trip.level).inc()
        if cand is not None:
            m.request_duration.labels(provider=provider, route_kind=kind).observe(
                now - trip.started
            )
            if trip.upstream_ttfb is not None and trip.status < 400:
                m.upstream_ttfb.labels(provider=provider, route_kind=kind).observe(
                    trip.upstream_ttfb
                )
            if trip.usage:
                tokens = m.tokens
                tokens.labels(provider=provider, model=model, type="prompt").inc(
                    trip.usage["prompt_tokens"]
                )
                tokens.labels(provider=provider, model=model, type="completion").inc(
                    trip.usage["completion_tokens"]
                )


def _relayable_error(api: ClientApi, status: int, body: bytes, decision_id: str) -> bytes:
    """An upstream's 4xx body is relayed as it is, unless it is not a JSON error object: the
    app's SDK must always get an error it can parse."""
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        parsed = None
    if isinstance(parsed, dict) and isinstance(parsed.get("error"), dict):
        return body
    err = RouterError(
        status,
        "upstream_client_error",
        f"the upstream rejected the request with status {status}",
    )
    return api.error_body(err, decision_id)
