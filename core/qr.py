"""QR codes of certificate tokens (R5.1: anyone checks a certificate by its code). A module of
its own, importing nothing of the platform, so that the offload pool's processes start fast."""

from __future__ import annotations

import io

import segno


def svg(token: str) -> str:
    """The token as a QR code, as an SVG document."""
    out = io.BytesIO()
    segno.make(token, error="m").save(out, kind="svg", scale=4, border=2, xmldecl=False)
    return out.getvalue().decode()
