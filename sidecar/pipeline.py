"""The journey of one request: read, parse, classify, decide, dispatch, then audit.

Reads top to bottom as DESIGN.md describes it. Each step is a call into its own package;
this module knows neither HTTP handlers nor Rego. `Pipeline.run` is an async context
manager so that the audit record and metrics are written exactly once, when the reply has
been delivered (or the client went away), whatever happened in between.
"""

from __future__ import annotations

import asyncio
import hashlib
import sys
import time
import traceback
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
import structlog

from sidecar.api.base import ClientApi, Inbound, ParsedRequest, Reply
from sidecar.audit import AuditLog, AuditRecord
from sidecar.catalog import Candidate, Catalog, LogicalModel
from sidecar.classify import Classifier
from sidecar.classify.model import Classification
from sidecar.config import Limits
from sidecar.continuations import Continuations
from sidecar.dispatch import Dispatcher, Opened
from sidecar.errors import RouterError
from sidecar.headers import forwardable, header_segments
from sidecar.inbound import declared_class, read_body
from sidecar.limits import InFlight, check_message_count
from sidecar.metrics import OTHER, Metrics
from sidecar.planning import make_plans
from sidecar.policy.model import Decision, PolicyEngine
from sidecar.policy_input import build_policy_input
from sidecar.relay import UpstreamErrorEvent
from sidecar.responses_flow import ResponsesFlow, policy_facts, stores
from sidecar.scrub import Scrubber
from sidecar.trip import Trip, finish
from sidecar.workload import Workload

log = structlog.get_logger("llm_router.pipeline")

DECISION_HEADER = "x-llm-router-decision-id"
ROUTE_HEADER = "x-llm-router-route"


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
        config_revision: str | None = None,
        responses: ResponsesFlow | None = None,
    ) -> None:
        self.masks = masks or {}
        self.responses = responses or ResponsesFlow(Continuations(100_000, 30 * 86400))
        """Shared by every config generation: a reload must not forget continuations."""
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
        credentials = catalog.credentials
        self._keys = lambda: (c.current() for c in credentials)
        """Every configured key, read when an upstream error is cleaned (rotation-safe)."""
        self.config_revision = config_revision
        """Stamped on each audit record: a request in flight across a config reload is
        recorded with the revision it was decided by (see sidecar/config_reload.py)."""
        self.users = InFlight(sys.maxsize)
        """Requests running on this pipeline, admitted or not: a config reload closes the
        upstream sessions it replaced once the pipeline that used them has none."""

    @asynccontextmanager
    async def run(self, api: ClientApi, inbound: Inbound) -> AsyncIterator[Reply]:
        trip = self.new_trip(api)
        decision_id = trip.record.decision_id
        self.users.try_acquire()
        admitted = False
        try:
            try:
                if self.audit.gated:  # a full audit buffer: wait (block) or 503 (fail_closed)
                    try:
                        await self.audit.admit()
                    except RouterError:
                        trip.decision = "rejected"  # before anything was read or sent
                        raise
                # The body is read before a slot is taken: a client trickling its body
                # (bounded by limits.body_timeout_s) must not hold capacity fast ones need.
                raw = await read_body(inbound, self.limits)
                admitted = self.admission.try_acquire()
                if not admitted:  # refused at once, before any classification
                    trip.decision = "rejected"
                    err = self.admission.rejection()
                    self.metrics.rejected.labels(reason=err.code).inc()
                    raise err
                self.metrics.inflight.inc()
                reply = await self._journey(api, inbound, raw, trip)
            except RouterError as err:
                reply = self.error_reply(trip, err)
            except Exception as exc:  # a bug must fail closed, and say nothing about content
                log.error(
                    "internal_error",
                    decision_id=decision_id,
                    error_type=type(exc).__name__,
                    traceback="".join(traceback.format_tb(exc.__traceback__)),
                )
                internal = RouterError(500, "internal_error", "the router failed", kind="api_error")
                reply = self.error_reply(trip, internal)
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
            self.users.release()
            self.responses.remember(trip)
            finish(trip, self.audit, self.metrics)

    def refuse(self, api: ClientApi, err: RouterError) -> Reply:
        """The reply, audit record and metrics of a request refused before the pipeline
        could read it (e.g. not valid HTTP): the same record any refused request gets."""
        trip = self.new_trip(api)
        try:
            return self.error_reply(trip, err)
        finally:
            finish(trip, self.audit, self.metrics)

    def new_trip(self, api: ClientApi) -> Trip:
        """A request's record from its arrival, stamped with this config's revision."""
        record = AuditRecord(uuid.uuid4().hex, api.name, self._workload_view)
        record.config_revision = self.config_revision
        return Trip(api, time.perf_counter(), record)

    def scrubber(self) -> Scrubber:
        """Cleans an upstream error of every configured key (a request with no content)."""
        return Scrubber(keys=self._keys, classifier=self.classifier)

    async def _journey(self, api: ClientApi, inbound: Inbound, raw: bytes, trip: Trip) -> Reply:
        trip.record.content = {"sha256": hashlib.sha256(raw).hexdigest(), "bytes": len(raw)}
        parsed = api.parse(raw, self.limits.max_json_depth)
        check_message_count(parsed.body, self.limits.max_messages)
        trip.record.stream = parsed.stream
        declared = declared_class(inbound)
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

        continues = self.responses.continued_route(parsed)  # a 404 for an unknown id
        parsed.segments.extend(header_segments(forwarded))  # forwarded values are text too
        classification = self._classify(api, parsed, declared, trip)
        alternatives = self.catalog.alternatives(model)
        facts = policy_facts(parsed, classification, continues)
        decision = await self._decide(
            api, parsed, declared, classification, model, candidates, alternatives, trip, facts
        )
        decision = self.responses.restrict(decision, continues)  # only the storing route
        trip.stored = bool(facts) and stores(parsed, decision)
        offered = [*candidates, *(c for cands in alternatives.values() for c in cands)]

        plans = make_plans(
            api, parsed, classification, decision, offered, trip, forwarded, self.masks
        )
        scrubber = Scrubber(  # references only: it costs nothing unless an upstream errs
            keys=self._keys,
            segments=parsed.segments,
            findings=classification.findings,
            classifier=self.classifier,
        )
        opened = await self.dispatcher.open(plans, parsed.stream, trip.dispatch, scrubber)
        return self._reply(api, opened, offered, trip)

    def _classify(
        self, api: ClientApi, parsed: ParsedRequest, declared: str | None, trip: Trip
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
        trip: Trip,
        facts: dict[str, Any],
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
            facts=facts,
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

    def _reply(
        self, api: ClientApi, opened: Opened, candidates: list[Candidate], trip: Trip
    ) -> Reply:
        plan = opened.plan
        trip.served_by = next(c for c in candidates if c.id == plan.route_id)
        trip.translator = plan.translator
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
        self, api: ClientApi, opened: Opened, trip: Trip
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
            if isinstance(failure, UpstreamErrorEvent):  # the upstream's own, cleaned
                yield failure.event
            else:
                yield api.stream_error(failure, trip.record.decision_id)

    def error_reply(self, trip: Trip, err: RouterError) -> Reply:
        trip.status, trip.error_code = err.status, err.code
        trip.ready_at = time.perf_counter()
        headers = {
            "content-type": "application/json",
            DECISION_HEADER: trip.record.decision_id,
            **err.headers,
        }
        return Reply(err.status, headers, trip.api.error_body(err, trip.record.decision_id))


def _relayable_error(api: ClientApi, status: int, body: bytes, decision_id: str) -> bytes:
    """An upstream's 4xx body is relayed as the dispatcher cleaned it (sidecar/scrub.py),
    unless it is not a JSON error object: the app's SDK must always get one it can parse."""
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
