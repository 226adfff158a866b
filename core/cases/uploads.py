"""HTTP endpoints for evidence files: `POST /uploads` (multipart, field `file`) and
`GET /attachments/{id}`. Both need the `Authorization` header, which browsers never send on
their own, so neither can be driven cross-site."""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from core.accounts.service import principal_from_authorization
from core.cases import attachments
from core.errors import DomainError, InvalidInput, Unauthenticated


def _error(exc: DomainError, request: Request) -> JSONResponse:
    language = "en" if request.headers.get("accept-language", "").startswith("en") else "zh"
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
        raw = request.path_params["attachment_id"]
        if not str(raw).isdigit():
            raise InvalidInput("编号无效", "Invalid id", field="id")
        found = await attachments.fetch(principal, int(raw))
    except DomainError as exc:
        return _error(exc, request)
    return Response(found.data, media_type=found.content_type, headers={
        "Content-Disposition": "attachment", "X-Content-Type-Options": "nosniff"})
