"""The scoring API: POST /predict, GET /health, GET /metrics (FastAPI).

Bad requests get a 4xx whose `detail` names the field or column and what is wrong; an
unexpected failure is logged with its traceback and answered with a plain 500 message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import orjson
import pandas as pd
from fastapi import BackgroundTasks, FastAPI, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from nids.serving import inputs
from nids.serving.scoring import ContributionMethod, ExplainMode
from nids.serving.service import PredictOptions, ScoringService, parse_flows
from nids.serving.settings import ServingSettings, load_serving_settings
from nids.tracking import registry

logger = logging.getLogger(__name__)


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it is known to exceed `limit` bytes."""
    too_large = HTTPException(413, f"request body exceeds the limit of {limit} bytes "
                                   "(max_request_bytes); send the flows in smaller batches.")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


async def read_flows(request: Request, limit: int) -> pd.DataFrame:
    """The flows of a request (CSV or JSON by Content-Type), or the 4xx that says why not."""
    content_type = request.headers.get("content-type")
    flow_format = inputs.flow_format(content_type)
    if flow_format is None:
        given = f"Content-Type {content_type!r}" if content_type else "no Content-Type"
        raise HTTPException(415, f"{given} is not supported; send the flows with "
                                 f"Content-Type {inputs.SUPPORTED}.")
    body = await read_body(request, limit)
    try:
        return await run_in_threadpool(parse_flows, body, flow_format)
    except orjson.JSONDecodeError as error:
        raise HTTPException(400, f"{inputs.BODY_NAME}: not valid JSON ({error}).") from None
    except ValueError as error:
        raise HTTPException(422, str(error)) from None


async def _every(seconds: float, work: Callable[[], None]) -> None:
    """Run `work` in a thread every `seconds`; a failure is logged and the loop goes on."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await asyncio.to_thread(work)
        except Exception:
            logger.exception("Background task %s failed; retrying in %.0f s",
                             getattr(work, "__name__", work), seconds)


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Load the model and recover spooled flows, run the background loops, flush at the end."""
    service: ScoringService = app.state.service
    settings = service.settings
    registry.use_tracking_store()
    await asyncio.to_thread(service.refresh_model)
    await asyncio.to_thread(service.flush_batches)
    loops = [asyncio.create_task(_every(settings.refresh_seconds, service.refresh_model)),
             asyncio.create_task(_every(settings.flush_seconds, service.flush_batches))]
    try:
        yield
    finally:
        for loop in loops:
            loop.cancel()
        await asyncio.gather(*loops, return_exceptions=True)
        await asyncio.to_thread(service.flush_batches, True)


def validation_message(error: RequestValidationError) -> str:
    """FastAPI's validation errors as one sentence per field: where, then what."""
    parts = []
    for item in error.errors():
        where = [str(part) for part in item.get("loc", ())]
        field = f"{where[0]} parameter {'.'.join(where[1:])!r}" if len(where) > 1 else "request"
        parts.append(f"{field}: {item.get('msg', 'invalid')}")
    return "; ".join(parts)


def add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, error: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": validation_message(error)}, status_code=422)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        logger.error("Unexpected failure answering %s %s", request.method, request.url.path,
                     exc_info=error)
        return JSONResponse({"detail": "internal error; the service log has the details"},
                            status_code=500)


def add_metrics_middleware(app: FastAPI, service: ScoringService) -> None:
    @app.middleware("http")
    async def measure(request: Request,
                      call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started, code = time.perf_counter(), 500
        try:
            response = await call_next(request)
            code = response.status_code
            return response
        finally:
            route = request.scope.get("route")
            handler = getattr(route, "path", "unmatched")
            service.metrics.observe_request(handler, request.method, code,
                                            time.perf_counter() - started)


def add_routes(app: FastAPI, service: ScoringService) -> None:
    @app.post("/predict")
    async def predict(
        request: Request, background: BackgroundTasks,
        explain: ExplainMode = ExplainMode.FLAGGED,
        contributions: ContributionMethod = ContributionMethod.AUTO,
        top_k: int | None = Query(None, ge=1, le=100),
    ) -> Response:
        """Score flows posted as CSV (text/csv) or JSON; explain flagged flows (or all/none)."""
        served = service.holder.current
        if served is None:
            raise HTTPException(503, service.health()["detail"])
        flows = await read_flows(request, service.settings.max_request_bytes)
        options = PredictOptions(explain, contributions, top_k or service.settings.top_k)
        answer, flush_due = await run_in_threadpool(service.predict, served, flows, options)
        if flush_due:
            background.add_task(service.flush_batches)
        return Response(answer, media_type="application/json")

    @app.get("/health")
    async def health() -> JSONResponse:
        """The model served (name, version, alias, loaded since); 503 while there is none."""
        body = service.health()
        return JSONResponse(body, status_code=200 if body["model"] else 503)

    @app.get("/metrics")
    async def metrics() -> Response:
        """Prometheus text format."""
        return Response(service.metrics.exposition(), media_type=service.metrics.content_type)


def create_app(settings: ServingSettings | None = None) -> FastAPI:
    """The scoring app; settings default to config/serving.yaml and NIDS_SCORING_* variables."""
    service = ScoringService(settings or load_serving_settings())
    app = FastAPI(title="NIDS scoring", lifespan=lifespan,
                  summary="CICIDS2017 flows in, class, probability and explanation out.")
    app.state.service = service
    add_error_handlers(app)
    add_metrics_middleware(app, service)
    add_routes(app, service)
    return app
