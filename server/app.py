"""The Starlette application: the HTTP API, the websocket route and the web client."""

import asyncio
import dataclasses
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
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket

from .backends import Backends, open_backends
from .backends.base import Bus, StorageFullError, Store, WorkshopMeta
from .capabilities import ROLES, hash_secret, new_secret, role_for
from .config import Settings
from .flow_api import MAX_UPLOAD, FlowApi, Reply, new_workshop, start_phase
from .headers import SecurityHeadersMiddleware
from .limits import Guards
from .metrics import CONTENT_TYPE, render, watch_rooms
from .qr import qr_svg
from .retention import stale_workshops
from .rooms.hub import revocation
from .rooms.model import Board
from .rooms.registry import RoomRegistry
from .web_files import web_dir
from .ws import serve_socket

__all__ = ["create_app"]

log = logging.getLogger(__name__)

WEB_DIR = web_dir()
MAX_BODY = 16 * 1024
MAX_TITLE = 200


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


async def _read_body(request: Request, limit: int) -> bytes | None:
    """The request's body, or None as soon as it passes ``limit`` bytes (it is never
    read whole into memory first)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def _storage_full(request: Request, exc: Exception) -> Response:
    """The disk or Redis is at its floor: 507, and try again later (never a traceback)."""
    return JSONResponse({"error": "storage_full", "message": str(exc)}, status_code=507,
                        headers={"retry-after": "60"})  # fmt: skip


def _too_large(limit: int) -> JSONResponse:
    return _error(413, "too_large", f"The request body exceeds {limit} bytes.")


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status)


class _Api:
    """The HTTP handlers, sharing the process's backend and rooms."""

    def __init__(
        self, backend: Store, bus: Bus, registry: RoomRegistry, settings: Settings
    ) -> None:
        self.backend = backend  # the store
        self.bus = bus
        self.registry = registry
        self.settings = settings
        self.flow = FlowApi(backend, registry, limits=settings.room_limits,
                            max_text=settings.max_note_text)  # fmt: skip
        self.guards = Guards.from_limits(
            settings.max_connections_per_address, settings.workshops_per_hour
        )

    async def create_workshop(self, request: Request) -> Response:
        address = request.client.host if request.client else "unknown"
        if not self.guards.workshops.allow(address, time.monotonic()):
            return _error(
                429, "rate_limited", "Too many workshops created from here; wait a while."
            )
        body = await _read_body(request, MAX_BODY)
        if body is None:
            return _too_large(MAX_BODY)
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
        base = str(request.base_url).rstrip("/")
        board = Board.new(phase, shaping=shaping)
        created = await new_workshop(self.backend, board, previous=None, base_url=base,
                                     **fields)  # fmt: skip
        return JSONResponse(created, status_code=201)

    async def _authorize(self, request: Request) -> tuple[WorkshopMeta, str] | None:
        """The workshop and the role its ``Authorization: Bearer <link secret>`` grants."""
        meta = await self.backend.get_workshop(request.path_params["workshop_id"])
        scheme, _, secret = request.headers.get("authorization", "").partition(" ")
        if meta is None or scheme.lower() != "bearer":
            return None
        role = role_for(secret.strip(), meta.token_hashes)
        return None if role is None else (meta, role)

    async def read_workshop(self, request: Request) -> Response:
        workshop_id = request.path_params["workshop_id"]
        found = await self._authorize(request)
        if found is None:  # one answer for both: ids are not to be probed
            return _error(404, "not_found", "No workshop here for this link.")
        meta, role = found
        hub = await self.registry.acquire(workshop_id)
        try:
            state: dict[str, Any] = hub.board.to_dict()
        finally:
            self.registry.release(workshop_id)
        return JSONResponse(
            {
                "id": meta.id,
                "title": meta.title,
                "territory": meta.territory,
                "role": role,
                "previous": meta.previous,
                "state": state,
            }
        )

    async def qr(self, request: Request) -> Response:
        body = await _read_body(request, MAX_BODY)
        if body is None:
            return _too_large(MAX_BODY)
        try:
            link = orjson.loads(body or b"{}").get("link")
            svg = qr_svg(link if isinstance(link, str) else "")
        except (orjson.JSONDecodeError, AttributeError, ValueError):
            return _error(400, "bad_link", 'Send {"link": "http(s)://..."} as JSON.')
        # the link holds a secret: keep the picture out of every cache
        return Response(svg, media_type="image/svg+xml", headers={"cache-control": "no-store"})

    async def rotate_link(self, request: Request) -> Response:
        """Replace one role's link; sockets joined with the old one are closed everywhere."""
        found = await self._authorize(request)
        if found is None:
            return _error(404, "not_found", "No workshop here for this link.")
        meta, role = found
        target = request.path_params["role"]
        if role != "facilitator":
            return _error(403, "forbidden", "Only the facilitator can replace a link.")
        if target not in ROLES:
            return _error(404, "not_found", f"Roles are {', '.join(ROLES)}.")
        secret = new_secret()
        hashes = {**meta.token_hashes, target: hash_secret(secret)}
        await self.backend.update_workshop(dataclasses.replace(meta, token_hashes=hashes))
        await self.bus.publish_presence(meta.id, revocation(target))
        base = str(request.base_url).rstrip("/")
        return JSONResponse({"role": target, "link": f"{base}/w/{meta.id}#k={secret}"})

    async def delete_workshop(self, request: Request) -> Response:
        """Erase a workshop and all its data; its sockets are closed everywhere."""
        found = await self._authorize(request)
        if found is None:
            return _error(404, "not_found", "No workshop here for this link.")
        meta, role = found
        if role != "facilitator":
            return _error(403, "forbidden", "Only the facilitator can delete a workshop.")
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
        base = str(request.base_url).rstrip("/")
        return await self._flow(request, lambda m, r: self.flow.export(m, r, fmt, source, base))

    async def import_findings(self, request: Request) -> Response:
        body = await _read_body(request, MAX_UPLOAD)
        if body is None:
            return _too_large(MAX_UPLOAD)
        preview = request.query_params.get("preview") == "1"  # report only, commit nothing
        return await self._flow(
            request, lambda m, r: self.flow.import_findings(m, r, body, preview=preview)
        )

    async def reopen(self, request: Request) -> Response:
        base = str(request.base_url).rstrip("/")
        return await self._flow(request, lambda m, role: self.flow.reopen(m, role, base))

    async def import_board(self, request: Request) -> Response:
        address = request.client.host if request.client else "unknown"
        if not self.guards.workshops.allow(address, time.monotonic()):
            return _error(429, "rate_limited", "Too many workshops created from here; wait.")
        body = await _read_body(request, MAX_UPLOAD)
        if body is None:
            return _too_large(MAX_UPLOAD)
        reply = await self.flow.import_board(body, str(request.base_url).rstrip("/"))
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
        return Response(render(), media_type=CONTENT_TYPE)

    async def socket(self, ws: WebSocket) -> None:
        await serve_socket(ws, self.backend, self.registry, self.settings, self.guards)


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
    api = _Api(store, bus, registry, settings)
    watch_rooms(lambda: len(registry))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await backends.start()
        purge = None
        if settings.retention_days > 0:
            purge = asyncio.create_task(_purge_forever(store, bus, settings.retention_days))
        try:
            yield
        finally:
            if purge is not None:
                purge.cancel()
            await registry.close_all()
            await backends.close()

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
        Route("/w/{workshop_id}", api.page),
        WebSocketRoute("/ws/{workshop_id}", api.socket),
        Mount("/", app=StaticFiles(directory=WEB_DIR, html=True), name="web"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(SecurityHeadersMiddleware)],
        lifespan=lifespan,
        exception_handlers={StorageFullError: _storage_full},
    )
    app.state.registry = registry
    app.state.backends = backends
    return app
