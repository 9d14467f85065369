"""Exact checks for the schema keywords that msgspec's ``Meta`` cannot express exactly.

Generated structs call these from ``__post_init__``, which msgspec runs after decoding (and
after construction). They raise ``ValueError``; msgspec turns that into a ``ValidationError``
that carries the JSON path of the offending object.
"""

from __future__ import annotations

import re
from decimal import Decimal

__all__ = ["check_multiple_of", "check_uri"]


def check_multiple_of(value: float, step: Decimal, field: str) -> None:
    """Reject ``value`` unless it is an exact decimal multiple of ``step``; ``field`` names the
    field in the error (ValueError, which msgspec reports as a validation error).

    The decision is made on the shortest decimal spelling of the float (``repr``), which is
    the number the peer wrote for every JSON literal of 17 significant digits or fewer: 0.3 is
    a multiple of 0.1 here, although neither binary float arithmetic (msgspec's
    ``multiple_of``, jsonschema's quotient test) nor the float's exact binary value agree.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return
    if isinstance(value, float) and value != value:  # NaN cannot come from JSON
        raise ValueError(f"`{field}` must be a number")
    if Decimal(repr(value)) % step != 0:
        raise ValueError(f"`{field}` must be a multiple of {step}, got {value!r}")


# RFC 3986 section 3: URI = scheme ":" hier-part [ "?" query ] [ "#" fragment ]
_HEX = "[0-9A-Fa-f]"
_PCT = f"%{_HEX}{_HEX}"
_UNRESERVED = r"A-Za-z0-9\-._~"
_SUB_DELIMS = r"!$&'()*+,;="
_PCHAR = f"(?:[{_UNRESERVED}{_SUB_DELIMS}:@]|{_PCT})"
_DEC_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])"
_IPV4 = rf"{_DEC_OCTET}\.{_DEC_OCTET}\.{_DEC_OCTET}\.{_DEC_OCTET}"
_H16 = f"{_HEX}{{1,4}}"
_LS32 = f"(?:{_H16}:{_H16}|{_IPV4})"
_IPV6 = "(?:" + "|".join(
    [
        f"(?:{_H16}:){{6}}{_LS32}",
        f"::(?:{_H16}:){{5}}{_LS32}",
        f"(?:{_H16})?::(?:{_H16}:){{4}}{_LS32}",
        f"(?:(?:{_H16}:){{0,1}}{_H16})?::(?:{_H16}:){{3}}{_LS32}",
        f"(?:(?:{_H16}:){{0,2}}{_H16})?::(?:{_H16}:){{2}}{_LS32}",
        f"(?:(?:{_H16}:){{0,3}}{_H16})?::{_H16}:{_LS32}",
        f"(?:(?:{_H16}:){{0,4}}{_H16})?::{_LS32}",
        f"(?:(?:{_H16}:){{0,5}}{_H16})?::{_H16}",
        f"(?:(?:{_H16}:){{0,6}}{_H16})?::",
    ]
) + ")"
_IPVFUTURE = rf"[vV]{_HEX}+\.[{_UNRESERVED}{_SUB_DELIMS}:]+"
_IP_LITERAL = rf"\[(?:{_IPV6}|{_IPVFUTURE})\]"
_REG_NAME = f"(?:[{_UNRESERVED}{_SUB_DELIMS}]|{_PCT})*"
_USERINFO = f"(?:[{_UNRESERVED}{_SUB_DELIMS}:]|{_PCT})*"
_AUTHORITY = f"(?:{_USERINFO}@)?(?:{_IP_LITERAL}|{_IPV4}|{_REG_NAME})(?::[0-9]*)?"
_SEGMENT = f"{_PCHAR}*"
_SEGMENT_NZ = f"{_PCHAR}+"
_HIER_PART = (
    f"(?://{_AUTHORITY}(?:/{_SEGMENT})*"  # path-abempty
    f"|/(?:{_SEGMENT_NZ}(?:/{_SEGMENT})*)?"  # path-absolute
    f"|{_SEGMENT_NZ}(?:/{_SEGMENT})*"  # path-rootless
    ")?"  # path-empty
)
_QUERY = f"(?:{_PCHAR}|[/?])*"
_URI = re.compile(rf"[A-Za-z][A-Za-z0-9+\-.]*:{_HIER_PART}(?:\?{_QUERY})?(?:#{_QUERY})?\Z")


def check_uri(value: str, field: str) -> None:
    """Reject ``value`` unless it is a URI as RFC 3986 section 3 defines it (scheme required);
    ``field`` names the field in the error."""
    if _URI.match(value) is None:
        raise ValueError(f"`{field}` must be a URI (RFC 3986), got {value!r}")
