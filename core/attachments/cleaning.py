"""R4.4: evidence files without what names their maker, as the offload pool's processes make
them (core/offload: the work holds the interpreter lock). Imports nothing of the platform, so
that the processes start fast; an unreadable file is None, for the service to refuse."""

from __future__ import annotations

import io

import pikepdf
from PIL import Image, UnidentifiedImageError

_PIL_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG"}
# What a PDF says about who made it: the document information dictionary (Author, Creator,
# Producer, dates) and XMP streams, of the document or of any object in it (pages, images).
_PDF_TELLING = ("/Metadata", "/PieceInfo")


def strip_pdf_metadata(data: bytes) -> bytes | None:
    """R4.4: the PDF rewritten by qpdf (pikepdf) without its document information, XMP and
    application data, and with a new document id: an office PDF's author is often the
    reporter's real name."""
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            if "/Info" in pdf.trailer:
                del pdf.trailer["/Info"]
            for obj in pdf.objects:
                if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
                    for key in _PDF_TELLING:
                        if key in obj:
                            del obj[key]
            out = io.BytesIO()
            pdf.save(out, static_id=False)
    except (pikepdf.PdfError, ValueError):
        return None
    return out.getvalue()


def clean(data: bytes, content_type: str) -> bytes | None:
    """The file without what it says of its maker (None: it cannot be read). Images: the
    pixels re-encoded, so no metadata of the original survives."""
    if content_type == "application/pdf":
        return strip_pdf_metadata(data)
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            clean = Image.frombytes(image.mode, image.size, image.tobytes())
            if image.mode == "P" and image.getpalette():
                clean.putpalette(image.getpalette() or [])
    except (UnidentifiedImageError, OSError, ValueError):
        return None
    out = io.BytesIO()
    clean.save(out, format=_PIL_FORMATS[content_type])
    return out.getvalue()
