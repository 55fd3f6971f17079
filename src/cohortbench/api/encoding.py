"""Content negotiation for bodies the API sends compressed: does the client take gzip?"""

from __future__ import annotations

GZIP_CODINGS = ("gzip", "x-gzip")


def accepts_gzip(header: str) -> bool:
    """Whether an Accept-Encoding header allows gzip (RFC 9110 12.5.3).

    gzip (or `*` when gzip is not named) with a q-value above 0; an unreadable q-value counts as 0,
    so a malformed header gets the uncompressed body rather than one the client cannot read.
    """
    named: float | None = None
    star: float | None = None
    for item in header.split(","):
        coding, *params = (part.strip() for part in item.split(";"))
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = 0.0
        coding = coding.lower()
        if coding in GZIP_CODINGS:
            named = quality if named is None else max(named, quality)
        elif coding == "*":
            star = quality
    chosen = named if named is not None else star
    return chosen is not None and chosen > 0
