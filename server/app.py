"""The Starlette application: the HTTP API, the websocket route and the web client."""

import asyncio
import dataclasses
import hmac
import ipaddress
import logging
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from .backends import Backends, open_backends
from .backends.base import BackendError, Bus, JoinLink, Store, WorkshopMeta
from .capabilities import ROLES, hash_secret, new_secret, role_for
from .config import Settings
from .flow_api import MAX_UPLOAD, FlowApi, Reply, new_workshop, start_phase
from .headers import SecurityHeadersMiddleware
from .http_errors import ErrorMiddleware, HttpError, error_response
from .http_guard import RequestGuardMiddleware
from .join_codes import LIFETIME_MS, new_code, normalized
from .limits import Guards, SlidingWindow
from .metrics import CONTENT_TYPE, RATE_LIMITED, REGISTRY, STORAGE_BYTES, render, watch_rooms
from .observe import ObserveMiddleware
from .outbox import outbox
from .qr import check_link, qr_svg
from .retention import stale_workshops
from .rooms.hub import revocation
from .rooms.model import Board
from .rooms.registry import RoomRegistry
from .socket_lane import SocketLane
from .web_files import web_dir
from .workers import WorkerPool
from .ws import serve_socket

__all__ = ["create_app"]

log = logging.getLogger(__name__)

WEB_DIR = web_dir()
MAX_BODY = 16 * 1024
MAX_TITLE = 200
STORAGE_MEASURE_EVERY = 30.0  # seconds between two looks at the store's size


async def erase_workshop(store: Store, bus: Bus, workshop_id: str) -> None:
    """Close the workshop's sockets on every process, then delete all its data."""
    await bus.publish_presence(workshop_id, revocation("*"))
    await store.delete_workshop(workshop_id)


async def _purge_forever(store: Store, bus: Bus, days: int) -> None:
    """Apply the retention setting now, then every hour."""
    while True:
        try:
            for workshop_id in await stale_workshops(store, days):
                log.info(
                    "retention: deleting workshop %s, untouched for %d days", workshop_id, days
                )
                await erase_workshop(store, bus, workshop_id)
        except Exception:
            log.exception("retention purge failed; trying again in an hour")
        await asyncio.sleep(3600)


async def read_body(request: Request, limit: int, patience: float) -> bytes:
    """The request's body; HttpError 413 as soon as it passes ``limit`` bytes (it is never
    read whole into memory first), 408 if it takes longer than ``patience`` seconds."""
    chunks, size = [], 0
    try:
        async with asyncio.timeout(patience):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise HttpError(413, "too_large", f"The request body exceeds {limit} bytes.")
                chunks.append(chunk)
    except TimeoutError:
        raise HttpError(408, "too_slow", "The request body took too long to arrive.") from None
    return b"".join(chunks)


def _error(status: int, code: str, message: str) -> JSONResponse:
    return error_response(status, code, message)


def _from_loopback(request: Request) -> bool:
    """A request made on this machine, not relayed by any proxy."""
    relayed = ("x-forwarded-for", "x-real-ip", "forwarded")
    if request.client is None or any(h in request.headers for h in relayed):
        return False
    try:
        return ipaddress.ip_address(request.client.host).is_loopback
    except ValueError:
        return False


class _Api:
    """The HTTP handlers, sharing the process's backend and rooms."""

    def __init__(
        self,
        backend: Store,
        bus: Bus,
        registry: RoomRegistry,
        settings: Settings,
        workers: WorkerPool,
    ) -> None:
        self.backend = backend  # the store
        self.bus = bus
        self.registry = registry
        self.settings = settings
        self.workers = workers
        self.flow = FlowApi(backend, registry, limits=settings.room_limits, workers=workers,
                            max_text=settings.max_note_text)  # fmt: skip
        self.guards = Guards.from_limits(
            settings.max_connections_per_address,
            settings.workshops_per_hour,
            settings.qr_per_minute,
        )

    def _base(self, request: Request) -> str:
        """Where links point: the public URL if set, else what this request was sent to."""
        return self.settings.public_base or str(request.base_url).rstrip("/")

    async def _body(self, request: Request, limit: int) -> bytes:
        return await read_body(request, limit, self.settings.body_timeout)

    @staticmethod
    def _limit(window: SlidingWindow, name: str, request: Request, message: str) -> None:
        """Count one event of ``request``'s client address; HttpError 429 past the limit."""
        address = request.client.host if request.client else "unknown"
        if not window.allow(address, time.monotonic()):
            RATE_LIMITED.labels(name).inc()
            raise HttpError(429, "rate_limited", message, {"retry-after": "60"})

    def _new_workshop_allowed(self, request: Request) -> None:
        """Creating, importing and reopening share one budget per address."""
        self._limit(self.guards.workshops, "workshops", request,
                    "Too many workshops created from here; wait a while.")  # fmt: skip

    async def create_workshop(self, request: Request) -> Response:
        self._new_workshop_allowed(request)
        body = await self._body(request, MAX_BODY)
        try:
            data = orjson.loads(body or b"{}")
        except orjson.JSONDecodeError:
            return _error(400, "bad_json", "The request body is not valid JSON.")
        if not isinstance(data, dict):
            return _error(400, "bad_json", "The request body must be a JSON object.")
        fields: dict[str, str] = {}
        for key in ("title", "territory"):
            value = data.get(key, "")
            if not isinstance(value, str) or len(value) > MAX_TITLE:
                return _error(400, "bad_field", f"'{key}' must be text of {MAX_TITLE} chars max.")
            fields[key] = value.strip()
        phase = start_phase(data.get("phase"))  # the phase it runs: 4 unless asked
        if phase is None:
            return _error(400, "bad_field", "'phase' must be a whole number from 1 to 5.")
        shaping = data.get("shaping", False)  # participants shape orientations from the start
        if not isinstance(shaping, bool):
            return _error(400, "bad_field", "'shaping' must be true or false.")
        board = Board.new(phase, shaping=shaping)
        created = await new_workshop(self.backend, board, previous=None,
                                     base_url=self._base(request), **fields)  # fmt: skip
        return JSONResponse(created, status_code=201)

    async def _authorize(self, request: Request) -> tuple[WorkshopMeta, str] | None:
        """The workshop and the role its ``Authorization: Bearer <link secret>`` grants."""
        meta = await self.backend.get_workshop(request.path_params["workshop_id"])
        scheme, _, secret = request.headers.get("authorization", "").partition(" ")
        if meta is None or scheme.lower() != "bearer":
            return None
        role = role_for(secret.strip(), meta.token_hashes)
        return None if role is None else (meta, role)

    async def _as_facilitator(self, request: Request, what: str) -> WorkshopMeta:
        """The workshop, if the request's link is its facilitator's; else 404 or 403."""
        found = await self._authorize(request)
        if found is None:  # one answer for a bad link and an unknown id: ids are not probed
            raise HttpError(404, "not_found", "No workshop here for this link.")
        meta, role = found
        if role != "facilitator":
            raise HttpError(403, "forbidden", f"Only the facilitator can {what}.")
        return meta

    async def read_workshop(self, request: Request) -> Response:
        workshop_id = request.path_params["workshop_id"]
        found = await self._authorize(request)
        if found is None:  # one answer for both: ids are not to be probed
            return _error(404, "not_found", "No workshop here for this link.")
        meta, role = found
        hub = await self.registry.acquire(workshop_id)
        try:
            state: dict[str, Any] = hub.public_view()  # shared per seq: built once
        finally:
            self.registry.release(workshop_id)
        body = {"id": meta.id, "title": meta.title, "territory": meta.territory, "role": role,
                "previous": meta.previous, "state": state}  # fmt: skip
        # orjson: a 5,000-note board in about 1 ms, where the stdlib's json takes ten times that
        return Response(orjson.dumps(body), media_type="application/json")

    async def qr(self, request: Request) -> Response:
        self._limit(self.guards.qr, "qr", request, "Too many QR codes asked from here; wait.")
        body = await self._body(request, MAX_BODY)
        try:
            link = check_link(orjson.loads(body or b"{}").get("link"))
        except (orjson.JSONDecodeError, AttributeError, ValueError):
            return _error(400, "bad_link", 'Send {"link": "http(s)://..."} as JSON.')
        # about 90 ms of pure Python for a long link: drawn in a worker process
        address = request.client.host if request.client else "unknown"
        svg = await self.workers.run(address, qr_svg, link)
        # the link holds a secret: keep the picture out of every cache
        return Response(svg, media_type="image/svg+xml", headers={"cache-control": "no-store"})

    async def rotate_link(self, request: Request) -> Response:
        """Replace one role's link; sockets joined with the old one are closed everywhere."""
        meta = await self._as_facilitator(request, "replace a link")
        target = request.path_params["role"]
        if target not in ROLES:
            return _error(404, "not_found", f"Roles are {', '.join(ROLES)}.")
        secret = new_secret()
        hashes = {**meta.token_hashes, target: hash_secret(secret)}
        await self.backend.update_workshop(dataclasses.replace(meta, token_hashes=hashes))
        await self.bus.publish_presence(meta.id, revocation(target))
        base = self._base(request)
        return JSONResponse({"role": target, "link": f"{base}/w/{meta.id}#k={secret}"})

    async def join_code(self, request: Request) -> Response:
        """A short join link for the participant link the facilitator's screen holds
        (the server keeps links hashed: only that screen can say which it is)."""
        meta = await self._as_facilitator(request, "make a join link")
        try:
            data = orjson.loads(await self._body(request, MAX_BODY) or b"{}")
        except orjson.JSONDecodeError:
            return _error(400, "bad_json", "The request body is not valid JSON.")
        secret = data.get("participant") if isinstance(data, dict) else None
        if not isinstance(secret, str) or role_for(secret, meta.token_hashes) != "participant":
            return _error(400, "bad_link", 'Send {"participant": the participant link\'s key}.')
        found_code = await self.backend.find_join_code(meta.id)
        if found_code is not None and found_code[1].secret == secret:
            code, link = found_code  # the same code while it lasts
        else:
            link = JoinLink(meta.id, secret, int(time.time() * 1000) + LIFETIME_MS)
            while not await self.backend.put_join_code(code := new_code(), link):
                pass  # taken (one chance in millions): draw again
        return JSONResponse({"code": code, "url": f"{self._base(request)}/j/{code}",
                             "expires_at": link.expires}, status_code=201)  # fmt: skip

    async def join_by_code(self, request: Request) -> Response:
        """``/j/CODE``: on to the participant link, if the code still stands for one."""
        self._limit(self.guards.join_codes, "join_codes", request,
                    "Too many join codes tried from here; wait a minute.")  # fmt: skip
        code = normalized(request.path_params["code"])
        link = None if code is None else await self.backend.get_join_code(code)
        meta = None if link is None else await self.backend.get_workshop(link.workshop_id)
        if (
            link is None
            or meta is None
            or role_for(link.secret, meta.token_hashes) != "participant"
        ):
            return FileResponse(WEB_DIR / "join-code.html", status_code=404,
                                headers={"cache-control": "no-store"})  # fmt: skip
        target = f"{self._base(request)}/w/{meta.id}#k={link.secret}"
        return Response(status_code=303, headers={"location": target, "cache-control": "no-store"})

    async def delete_workshop(self, request: Request) -> Response:
        """Erase a workshop and all its data; its sockets are closed everywhere."""
        meta = await self._as_facilitator(request, "delete a workshop")
        await erase_workshop(self.backend, self.bus, meta.id)
        return Response(status_code=204)

    # -- the workshop's flow: snapshots, exports, imports, reopening (server/flow_api.py)

    async def _flow(self, request: Request, call: Any) -> Response:
        """Check the link, then answer with ``call(meta, role)``'s reply."""
        found = await self._authorize(request)
        if found is None:
            return _error(404, "not_found", "No workshop here for this link.")
        reply: Reply = await call(*found)
        return Response(reply.body, reply.status, reply.headers, reply.media_type)

    async def snapshots(self, request: Request) -> Response:
        return await self._flow(request, lambda meta, role: self.flow.snapshots(meta.id))

    async def snapshot(self, request: Request) -> Response:
        sid = request.path_params["snapshot_id"]
        return await self._flow(request, lambda m, role: self.flow.snapshot(m.id, role, sid))

    async def diff(self, request: Request) -> Response:
        a, b = request.path_params["a"], request.path_params["b"]
        return await self._flow(request, lambda m, role: self.flow.diff(m.id, role, a, b))

    async def export(self, request: Request) -> Response:
        fmt, source = request.path_params["fmt"], request.query_params.get("snapshot")
        base = self._base(request)
        return await self._flow(request, lambda m, r: self.flow.export(m, r, fmt, source, base))

    async def import_findings(self, request: Request) -> Response:
        body = await self._body(request, MAX_UPLOAD)
        preview = request.query_params.get("preview") == "1"  # report only, commit nothing
        return await self._flow(
            request, lambda m, r: self.flow.import_findings(m, r, body, preview=preview)
        )

    async def reopen(self, request: Request) -> Response:
        self._new_workshop_allowed(request)  # a reopened workshop is a new workshop
        base = self._base(request)
        return await self._flow(request, lambda m, role: self.flow.reopen(m, role, base))

    async def import_board(self, request: Request) -> Response:
        self._new_workshop_allowed(request)
        body = await self._body(request, MAX_UPLOAD)
        address = request.client.host if request.client else "unknown"
        reply = await self.flow.import_board(body, self._base(request), address)
        return Response(reply.body, reply.status, reply.headers, reply.media_type)

    async def healthz(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(self, request: Request) -> Response:
        if await self.backend.ready():
            return JSONResponse({"status": "ready"})
        return JSONResponse({"status": "backend unavailable"}, status_code=503)

    async def page(self, request: Request) -> Response:
        return FileResponse(WEB_DIR / "index.html")

    async def metrics(self, request: Request) -> Response:
        """The metrics, for the token's bearer, or (no token, no separate listener) for a
        request made on this machine without a proxy."""
        token = self.settings.metrics_token
        if token:
            scheme, _, given = request.headers.get("authorization", "").partition(" ")
            allowed = scheme.lower() == "bearer" and hmac.compare_digest(
                given.strip().encode(), token.encode()
            )
        else:
            allowed = not self.settings.metrics_address and _from_loopback(request)
        if not allowed:
            return _error(403, "forbidden", "Metrics need the metrics token "
                          "(ATELIER_METRICS_TOKEN), or ask on the metrics address.")  # fmt: skip
        return Response(render(), media_type=CONTENT_TYPE)

    async def socket(self, ws: WebSocket) -> None:
        await serve_socket(ws, self.backend, self.registry, self.settings, self.guards)


async def _measure_storage_forever(store: Store) -> None:
    """Keep the storage-size gauge current (the store's files, or Redis's memory)."""
    while True:
        try:
            STORAGE_BYTES.set(await store.size())
        except BackendError as error:
            log.debug("storage size not measured: %s", error)
        await asyncio.sleep(STORAGE_MEASURE_EVERY)


def create_app(settings: Settings, backends: Backends | None = None) -> Starlette:
    """Build the ASGI app; the store and bus start and stop with the app's lifespan."""
    backends = backends or open_backends(
        settings.redis_url,
        settings.data_dir,
        keep=settings.log_keep,
        min_free_bytes=settings.min_free_disk_mb * 2**20,
        redis_headroom=settings.redis_min_headroom_mb * 2**20,
    )
    store, bus = backends.store, backends.bus
    registry = RoomRegistry(store, bus, node_id=secrets.token_hex(4),
                            idle_seconds=settings.room_idle_seconds,
                            limits=settings.room_limits)  # fmt: skip
    workers = WorkerPool(settings.workers, settings.worker_jobs_per_key, settings.worker_queue,
                         settings.worker_waiting_per_key, nice=settings.worker_nice)  # fmt: skip
    api = _Api(store, bus, registry, settings, workers)
    watch_rooms(lambda: len(registry))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        outbox().window = settings.send_window  # the loop every socket of this app runs on
        await backends.start()
        purge = None
        if settings.retention_days > 0:
            purge = asyncio.create_task(_purge_forever(store, bus, settings.retention_days))
        metrics_server = _serve_metrics(settings)
        measuring = asyncio.create_task(_measure_storage_forever(store))
        try:
            yield
        finally:
            measuring.cancel()
            if purge is not None:
                purge.cancel()
            if metrics_server is not None:
                metrics_server.shutdown()
            workers.close()
            await registry.close_all()
            await backends.close()

    # /ws/{workshop_id}, the room sockets, is served by the SocketLane middleware below
    routes = [
        Route("/api/workshops", api.create_workshop, methods=["POST"]),
        Route("/api/workshops/{workshop_id}", api.read_workshop, methods=["GET"]),
        Route("/api/workshops/{workshop_id}", api.delete_workshop, methods=["DELETE"]),
        Route(
            "/api/workshops/{workshop_id}/links/{role}/rotate", api.rotate_link, methods=["POST"]
        ),
        Route("/api/workshops/import", api.import_board, methods=["POST"]),
        Route("/api/workshops/{workshop_id}/snapshots", api.snapshots),
        Route("/api/workshops/{workshop_id}/snapshots/{snapshot_id}", api.snapshot),
        Route("/api/workshops/{workshop_id}/snapshots/{a}/diff/{b}", api.diff),
        Route("/api/workshops/{workshop_id}/export.{fmt}", api.export),
        Route("/api/workshops/{workshop_id}/import", api.import_findings, methods=["POST"]),
        Route("/api/workshops/{workshop_id}/reopen", api.reopen, methods=["POST"]),
        Route("/api/qr", api.qr, methods=["POST"]),
        Route("/healthz", api.healthz),
        Route("/readyz", api.readyz),
        Route("/metrics", api.metrics),
        Route("/api/workshops/{workshop_id}/join-code", api.join_code, methods=["POST"]),
        Route("/j/{code}", api.join_by_code),
        Route("/w/{workshop_id}", api.page),
        Mount("/", app=StaticFiles(directory=WEB_DIR, html=True), name="web"),
    ]
    # Outermost first. The proxy's headers are believed only from a trusted proxy (none by
    # default), so every per-address limit below sees the real client.
    middleware = [
        Middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies)),
        Middleware(ObserveMiddleware, routes=routes),  # request id, access line, metrics
        Middleware(SocketLane, handler=api.socket),  # room sockets skip the layers below
        Middleware(SecurityHeadersMiddleware),  # on every answer, errors included
        Middleware(ErrorMiddleware),  # backend down: 503 + Retry-After; bugs: JSON 500
        Middleware(RequestGuardMiddleware, settings=settings),  # JSON or preflighted; Origin
    ]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.registry = registry
    app.state.backends = backends
    app.state.workers = workers
    return app


def _serve_metrics(settings: Settings) -> Any:
    """Serve /metrics alone on the metrics address, if one is set (a thread of its own)."""
    where = settings.metrics_host_port
    if where is None:
        return None
    from prometheus_client import start_http_server

    server, _thread = start_http_server(where[1], where[0], registry=REGISTRY)
    log.info("metrics served on http://%s:%d/metrics", *where)
    return server
