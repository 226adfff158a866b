"""HTTP endpoints for files: `POST /uploads` (multipart, field `file`), `GET
/attachments/{id}` (both need the `Authorization` header, which browsers never send on their
own, so neither can be driven cross-site) and `GET /exports/{token}` (a short-lived signed
link from `requestExport`)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

from starlette.background import BackgroundTask
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse

from core.accounts.service import principal_from_authorization
from core.attachments import service as attachments
from core.errors import DomainError, InvalidInput, NotFound, Unauthenticated, language_from
from core.evidence import service as evidence
from core.reports import exports


def _error(exc: DomainError, request: Request) -> JSONResponse:
    language = language_from(request.headers.get("accept-language", ""))
    status = {"UNAUTHENTICATED": 401, "NOT_FOUND": 404, "RATE_LIMITED": 429}.get(exc.code, 400)
    extensions = {"code": exc.code, **({"field": exc.field} if exc.field else {})}
    return JSONResponse({"errors": [{"message": exc.message(language),
                                     "extensions": extensions}]}, status_code=status)


async def upload(request: Request) -> Response:
    try:
        principal = await principal_from_authorization(request.headers.get("authorization"))
        if principal is None:
            raise Unauthenticated()
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            raise InvalidInput("须以 multipart/form-data 上传", "Send multipart/form-data",
                               field="file")
        async with request.form(max_files=1, max_fields=2) as form:
            file = form.get("file")
            if not isinstance(file, UploadFile):
                raise InvalidInput("缺少文件", "No file", field="file")
            data = await file.read(attachments.MAX_BYTES + 1)
            staged = await attachments.stage(principal, file.filename or "file", data)
    except DomainError as exc:
        return _error(exc, request)
    return JSONResponse({"id": str(staged.id), "sha256": staged.sha256, "size": staged.size,
                         "contentType": staged.content_type}, status_code=201)


async def download(request: Request) -> Response:
    try:
        principal = await principal_from_authorization(request.headers.get("authorization"))
        if principal is None:
            raise Unauthenticated()
        raw = str(request.path_params["attachment_id"])
        # ASCII digits only ('²' is a digit to str.isdigit, not to int), within the column
        if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) < attachments.MAX_ID:
            raise NotFound("附件不存在", "No such attachment", field="id")
        found = await evidence.readable(principal, int(raw))
    except DomainError as exc:
        return _error(exc, request)
    return Response(found.data, media_type=found.content_type, headers={
        "Content-Disposition": "attachment", "X-Content-Type-Options": "nosniff"})


async def export(request: Request) -> Response:
    """`GET /exports/{token}`: the signed link of `requestExport`, streamed."""
    try:
        principal, claims = await exports.open_export(request.path_params["token"])
        source = exports.rows(principal, claims)
        first = await anext(source)  # fail here (scope, period) rather than mid-stream

        async def replay() -> AsyncIterator[list[Any]]:
            yield first
            async for row in source:
                yield row

        name = f"{claims['kind'].lower()}-{claims['j']}"
        if claims["fmt"] == "CSV":
            return StreamingResponse(exports.csv_chunks(replay()), media_type="text/csv",
                                     headers={"Content-Disposition":
                                              f'attachment; filename="{name}.csv"'})
        path = await exports.xlsx_file(replay())
        return FileResponse(path, filename=f"{name}.xlsx",
                            background=BackgroundTask(os.unlink, path),
                            media_type="application/vnd.openxmlformats-officedocument."
                                       "spreadsheetml.sheet")
    except DomainError as exc:
        return _error(exc, request)
