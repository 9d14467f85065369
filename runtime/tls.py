"""Ready-made TLS contexts for OCPP security profiles 2 and 3 (standard library ``ssl`` only).

The CSMS is always the TLS server and the charging station the client (2.x A00.FR.306/409,
1.6 whitepaper A00.FR.305/409). :func:`server_context` builds the CSMS side and
:func:`client_context` the station side, per security profile and OCPP version; the
connection layer passes them to its socket or WebSocket library as they are.

What the contexts enforce (requirement ids of 2.0.1 / 2.1 Part 2 section A00, which number
alike; the 1.6 security whitepaper edition 3 numbers some differently, given second):

======================================  =====================================================
TLS 1.2 or above only                   A00.FR.313/416 (1.6: A00.FR.312/416)
the four cipher suites of the CSMS      A00.FR.318/421 (1.6: A00.FR.317/421), see below
the station's two suite pairs           A00.FR.319/422 (1.6: A00.FR.318/422)
no TLS compression                      A00.FR.321/424 (1.6: A00.FR.320/424)
keys of 112-bit strength or more        A00.FR.501-503: OpenSSL security level 2 (RSA/DSA
                                        2048 bits, EC 224 bits, no SHA-1 signatures)
station certificate required (prof. 3)  A00.FR.401-403/407 (``CERT_REQUIRED``)
CSMS certificate and host name checked  A00.FR.308/309, 411/412 (1.6: A00.FR.307/308, 411/412)
======================================  =====================================================

TLS 1.2 cipher suites (IANA name = OpenSSL name). The CSMS offers, in this order of
preference (server preference is on, so a station that offers forward secrecy gets it):

    TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256  ECDHE-ECDSA-AES128-GCM-SHA256   required
    TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384  ECDHE-ECDSA-AES256-GCM-SHA384   required
    TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256    ECDHE-RSA-AES128-GCM-SHA256     extra (forward secrecy
    TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384    ECDHE-RSA-AES256-GCM-SHA384      with an RSA certificate)
    TLS_RSA_WITH_AES_128_GCM_SHA256          AES128-GCM-SHA256               required
    TLS_RSA_WITH_AES_256_GCM_SHA384          AES256-GCM-SHA384               required

The specification asks for "at least" the four (A00.FR.318); the two ECDHE_RSA suites use the
same primitives and add forward secrecy, which the spec recommends (A00.FR.319 note 1).
Python's default cipher string leaves out the TLS_RSA suites (no ``kRSA``); these contexts set
the list explicitly. The ECDSA suites need an ECDSA server certificate and the RSA ones an RSA
certificate: pass both to :func:`server_context` (OpenSSL keeps one certificate per key type
on one context and picks per handshake). TLS 1.3 (allowed: "TLS v1.2 or above") uses its own
suites, which the standard library cannot configure: OpenSSL's defaults apply
(TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256, TLS_AES_128_GCM_SHA256), all AEAD.

OCPP 1.6 and legacy charge points (decision 0011): the 1.6 whitepaper lets a charge point
that cannot do TLS 1.2 use TLS 1.0/1.1 with TLS_RSA_WITH_AES_128_CBC_SHA (A00.FR.312/416,
A00.FR.318/422), and a Central System that expects such charge points SHOULD offer that suite
"only for TLS v1.0/1.1 connections" (A00.FR.324/428). The 1.6 contexts are the 2.x ones by
default; ``server_context(..., legacy_tls=True)`` (1.6 only, opt in per listener) also
accepts TLS 1.0/1.1 with that one suite. OpenSSL 3 refuses TLS 1.0/1.1 above security level
0, so a legacy context runs at level 0, which also lifts the key-size floor of A00.FR.501-503
for every connection on it: give legacy charge points their own port (whitepaper section 2.2
allows one profile per port; the same holds for one policy per port). OpenSSL cannot limit a
suite to TLS 1.0/1.1, so a TLS 1.2 client that offers only the CBC suite would get it: call
:func:`tls_violation` after the handshake and close such connections.

Memory per TLS connection: asyncio's TLS layer (``asyncio.sslproto.SSLProtocol``) allocates a
256 KiB read buffer for every connection and zeroes it, so each TLS station costs about 290 KiB
of resident memory on asyncio's loop (measured with bare websockets: 292 KiB per idle
connection) — 14 GiB for 50,000 stations before any OCPP state. A TLS record carries at most
16 KiB of plaintext (RFC 8446 section 5.1, RFC 5246 section 6.2.1), so a buffer of one record
reads every record in one call; :func:`limit_read_buffer` lowers asyncio's size for the process
(at 16 KiB: 52 KiB per idle connection of bare websockets, 54 KiB per idle ocppgen station).
The CSMS server applies it when it serves TLS (``ServerOptions.tls_read_buffer``). uvloop has
its own TLS layer, which does not touch its buffer until it is used (38 KiB per idle
connection of bare websockets, 40 KiB per ocppgen station, measured); nothing is changed there.

Not here (left to the connection and the authenticator): the subject checks of the station
certificate (O = CSO name, A00.FR.404; CN = serial number, A00.FR.405), accepting an expired
station certificate on explicit configuration (A00.FR.429), the security events a station
raises when TLS fails (A00.FR.310/316/323).
"""

from __future__ import annotations

import asyncio
import asyncio.sslproto
import os
import ssl
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, TypeAlias

__all__ = [
    "LEGACY_SUITE",
    "OcppVersion",
    "REQUIRED_SUITES",
    "SERVER_SUITES",
    "CertChain",
    "SecurityProfile",
    "client_context",
    "limit_read_buffer",
    "server_context",
    "tls_violation",
]

TLS_RECORD = 16 * 1024
"""The most plaintext one TLS record carries (RFC 8446 section 5.1; RFC 5246 section 6.2.1)."""

OcppVersion: TypeAlias = Literal["1.6", "2.0.1", "2.1"]
"""An OCPP version, as the rest of the runtime spells it."""

SecurityProfile: TypeAlias = Literal[2, 3]
"""The security profiles that use TLS: 2 (TLS with Basic auth), 3 (TLS with client certificates)."""

StrPath: TypeAlias = "str | os.PathLike[str]"

REQUIRED_SUITES: Mapping[str, str] = {
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
    "TLS_RSA_WITH_AES_128_GCM_SHA256": "AES128-GCM-SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384": "AES256-GCM-SHA384",
}
"""The four TLS 1.2 suites a CSMS SHALL support (A00.FR.318/421): IANA name -> OpenSSL name."""

SERVER_SUITES: tuple[str, ...] = (
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "AES128-GCM-SHA256",
    "AES256-GCM-SHA384",
)
"""The TLS 1.2 suites both contexts offer (OpenSSL names), most preferred first."""

LEGACY_SUITE = ("TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA")
"""The one suite of 1.6 legacy charge points on TLS 1.0/1.1 (whitepaper A00.FR.318/324): IANA, OpenSSL."""

_VERSIONS: frozenset[str] = frozenset({"1.6", "2.0.1", "2.1"})
# A00.FR.501-503: 112-bit security, which is OpenSSL's security level 2.
_STRICT = ":".join(SERVER_SUITES) + ":@SECLEVEL=2"
# OpenSSL 3 negotiates TLS 1.0/1.1 only at security level 0 (measured: at levels 1 and 2 the
# server fails with NO_SUITABLE_SIGNATURE_ALGORITHM, even with the RSA key exchange suite).
_LEGACY = ":".join((*SERVER_SUITES, LEGACY_SUITE[1])) + ":@SECLEVEL=0"


@dataclass(frozen=True)
class CertChain:
    """A certificate chain and its private key, as files (what ``ssl`` loads).

    ``certfile``: PEM file with the leaf certificate first, then any intermediate CA
    certificates (A00.FR.507: PEM). ``keyfile``: PEM file with the private key, or None when
    it is in ``certfile``. ``password``: the key's password, if it is encrypted.
    """

    certfile: StrPath
    keyfile: StrPath | None = None
    password: str | bytes | None = None


def server_context(
    profile: SecurityProfile,
    version: OcppVersion,
    *,
    rsa: CertChain | None = None,
    ecdsa: CertChain | None = None,
    station_ca: StrPath | None = None,
    station_ca_data: str | bytes | None = None,
    legacy_tls: bool = False,
) -> ssl.SSLContext:
    """The CSMS's TLS server context for one security profile and OCPP version.

    :param profile: 2 (TLS, stations authenticate with Basic auth; no client certificate is
        requested) or 3 (TLS with client certificates: a station without a certificate that
        chains to ``station_ca`` fails the handshake, A00.FR.401-403/407).
    :param version: "1.6", "2.0.1" or "2.1". All three get TLS 1.2 or above and the suites of
        the module docstring; only "1.6" accepts ``legacy_tls``.
    :param rsa: the CSMS's RSA certificate and key, for the TLS_RSA suites (and ECDHE_RSA).
    :param ecdsa: the CSMS's ECDSA certificate and key, for the TLS_ECDHE_ECDSA suites. The
        CSMS needs both to support the four suites A00.FR.318/421 require; at least one is
        needed. Each is checked to hold the key type its name says.
    :param station_ca: profile 3 only: PEM file of the CA certificate(s) that issue station
        certificates (A00.FR.403: the path is validated by OpenSSL per RFC 5280).
    :param station_ca_data: the same as PEM text (str) or DER bytes, instead of or with
        ``station_ca``.
    :param legacy_tls: 1.6 only: also accept TLS 1.0/1.1 with TLS_RSA_WITH_AES_128_CBC_SHA
        for charge points that cannot do TLS 1.2 (whitepaper A00.FR.312/324, 416/428). Needs
        ``rsa``. Lowers OpenSSL's security level to 0 for the whole context (see the module
        docstring): use a separate listener, and check :func:`tls_violation` after handshakes.
    :raises ValueError: on a combination the specification does not allow, or a certificate
        whose key type does not match the parameter it was given as.
    """
    _check_version(version)
    if profile not in (2, 3):
        raise ValueError(f"security profile {profile!r} does not use TLS; profiles 2 and 3 do")
    if rsa is None and ecdsa is None:
        raise ValueError("the CSMS needs a server certificate: pass rsa=, ecdsa= or both (A00.FR.307/410)")
    if legacy_tls and version != "1.6":
        raise ValueError(f"OCPP {version} allows only TLS 1.2 or above (A00.FR.313/416); legacy_tls is for 1.6")
    if legacy_tls and rsa is None:
        raise ValueError("legacy_tls needs an RSA certificate: TLS_RSA_WITH_AES_128_CBC_SHA is an RSA suite")
    has_ca = station_ca is not None or station_ca_data is not None
    if profile == 3 and not has_ca:
        raise ValueError("profile 3 needs the CA of the station certificates (station_ca or station_ca_data)")
    if profile == 2 and has_ca:
        raise ValueError("profile 2 does not use client certificates (stations use Basic auth, A00.FR.301)")

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    _harden(ctx)
    ctx.options |= ssl.OP_CIPHER_SERVER_PREFERENCE | ssl.OP_NO_RENEGOTIATION
    if legacy_tls:
        with warnings.catch_warnings():  # Python deprecates TLS 1.0/1.1; the 1.6 whitepaper allows them here
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.set_ciphers(_LEGACY)
    else:
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers(_STRICT)
    for chain, kind in ((rsa, "rsa"), (ecdsa, "ec")):
        if chain is not None:
            found = _key_type(chain.certfile)
            if found != kind:
                name = "rsa" if kind == "rsa" else "ecdsa"
                raise ValueError(f"{name}=: {os.fspath(chain.certfile)} holds a {found} key, not {kind}")
            ctx.load_cert_chain(chain.certfile, chain.keyfile, chain.password)
    if profile == 3:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(cafile=station_ca, cadata=station_ca_data)
    else:
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def client_context(
    profile: SecurityProfile,
    version: OcppVersion,
    *,
    csms_ca: StrPath | None = None,
    csms_ca_data: str | bytes | None = None,
    certificate: CertChain | None = None,
) -> ssl.SSLContext:
    """The charging station's TLS client context for one security profile and OCPP version.

    The station verifies the CSMS certificate's path and that it names the host it connects
    to (A00.FR.308/309, 411/412; 1.6: A00.FR.307/308), refuses anything below TLS 1.2
    (A00.FR.313/316, 416/419; a Python station always has TLS 1.2, so the 1.6 legacy
    allowance for charge points that cannot do it never applies), and offers the suites of
    the module docstring: both suite pairs of A00.FR.319/422, so it works with a CSMS that has
    only one of the two certificate types.

    :param profile: 2 (TLS with Basic auth: no client certificate) or 3 (the station
        authenticates with ``certificate``, A00.FR.401/402).
    :param version: "1.6", "2.0.1" or "2.1" (the contexts are alike; checked for typos).
    :param csms_ca: PEM file with the CSMS root certificate(s) the station trusts
        (CSMSRootCertificate; 1.6: CentralSystemRootCertificate). With neither this nor
        ``csms_ca_data``, the system's default trust store is used.
    :param csms_ca_data: the same as PEM text (str) or DER bytes.
    :param certificate: profile 3 only, required there: the station's certificate chain and
        key (its CN holds the station's serial number, A00.FR.405).
    :raises ValueError: on a combination the specification does not allow.
    """
    _check_version(version)
    if profile not in (2, 3):
        raise ValueError(f"security profile {profile!r} does not use TLS; profiles 2 and 3 do")
    if profile == 3 and certificate is None:
        raise ValueError("profile 3 needs the station's certificate (A00.FR.401/402)")
    if profile == 2 and certificate is not None:
        raise ValueError("profile 2 does not use client certificates (stations use Basic auth, A00.FR.301)")

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # CERT_REQUIRED and check_hostname
    _harden(ctx)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(_STRICT)
    ctx.hostname_checks_common_name = True  # A00.FR.309: the CN may carry the FQDN (no SAN)
    if csms_ca is None and csms_ca_data is None:
        ctx.load_default_certs(ssl.Purpose.SERVER_AUTH)
    else:
        ctx.load_verify_locations(cafile=csms_ca, cadata=csms_ca_data)
    if certificate is not None:
        ctx.load_cert_chain(certificate.certfile, certificate.keyfile, certificate.password)
    return ctx


_MODERN = frozenset({"TLSv1.2", "TLSv1.3"})
_ALLOWED_12 = frozenset(SERVER_SUITES)


def tls_violation(tls: ssl.SSLObject | ssl.SSLSocket, version: OcppVersion) -> str | None:
    """What is wrong with an established TLS session under OCPP ``version``, or None.

    Both endpoints SHALL check the TLS version used (A00.FR.314/417; 1.6: A00.FR.313/417). The
    contexts of this module already refuse what the rules forbid, except one case OpenSSL
    cannot express: on a 1.6 legacy context, TLS_RSA_WITH_AES_128_CBC_SHA is meant for TLS
    1.0/1.1 connections only (whitepaper A00.FR.324/428), yet a TLS 1.2 client offering only
    that suite gets it. This function reports that, and any session (e.g. from a context
    built elsewhere) that uses an older TLS version, another TLS 1.2 suite or compression.

    :param tls: the established session: ``writer.get_extra_info("ssl_object")`` of an
        asyncio stream, or an ``ssl.SSLSocket`` after its handshake.
    :param version: the OCPP version of the link.
    :returns: a one-line reason to log before closing the connection, or None if it is fine.
    """
    _check_version(version)
    negotiated = tls.version()
    cipher = tls.cipher()
    if negotiated is None or cipher is None:
        return "the TLS handshake has not completed"
    suite = cipher[0]
    if tls.compression() is not None:
        return f"TLS compression ({tls.compression()}) is in use (A00.FR.321/424)"
    if negotiated in ("TLSv1", "TLSv1.1"):
        if version != "1.6":
            return f"{negotiated} is below TLS 1.2 (OCPP {version} A00.FR.313/416)"
        if suite != LEGACY_SUITE[1]:
            return f"{negotiated} with {suite}: a 1.6 legacy link uses only {LEGACY_SUITE[0]} (A00.FR.318/324)"
        return None
    if negotiated not in _MODERN:
        return f"{negotiated} is not allowed (A00.FR.313/416)"
    if negotiated == "TLSv1.2" and suite not in _ALLOWED_12:
        return f"TLS 1.2 with {suite}, which is not one of the OCPP suites (A00.FR.318/319, 421/422)"
    return None


def _check_version(version: str) -> None:
    if version not in _VERSIONS:
        raise ValueError(f"unknown OCPP version {version!r}; expected one of {sorted(_VERSIONS)}")


def _harden(ctx: ssl.SSLContext) -> None:
    # A00.FR.321/424 (1.6: A00.FR.320/424): no TLS compression.
    ctx.options |= ssl.OP_NO_COMPRESSION | ssl.OP_NO_SSLv2 | ssl.OP_NO_SSLv3


# DER encodings of the two public-key algorithm identifiers (SubjectPublicKeyInfo).
_RSA_ENCRYPTION = bytes.fromhex("06092a864886f70d010101")  # 1.2.840.113549.1.1.1
_EC_PUBLIC_KEY = bytes.fromhex("06072a8648ce3d0201")  # 1.2.840.10045.2.1


def _key_type(certfile: StrPath) -> str:
    """"rsa" or "ec": the key type of the first (leaf) certificate of a PEM file."""
    with open(certfile, encoding="ascii", errors="replace") as f:
        text = f.read()
    begin, end = "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"
    start = text.find(begin)
    stop = text.find(end, start)
    if start < 0 or stop < 0:
        raise ValueError(f"{os.fspath(certfile)}: no PEM certificate found")
    der = ssl.PEM_cert_to_DER_cert(text[start : stop + len(end)])
    # The signature algorithm ids (sha256WithRSAEncryption, ecdsa-with-SHA256) differ from these.
    if _EC_PUBLIC_KEY in der:
        return "ec"
    if _RSA_ENCRYPTION in der:
        return "rsa"
    return "other"


def limit_read_buffer(size: int, loop: asyncio.AbstractEventLoop | None = None) -> bool:
    """Make asyncio's TLS layer allocate at most ``size`` bytes of read buffer per connection
    (its default is 256 KiB, zeroed, for every connection: most of what a TLS station costs in
    memory). Process-wide: it sets ``asyncio.sslproto.SSLProtocol.max_size``, which every TLS
    connection made afterwards on asyncio's own loops uses; it only ever lowers it.

    Exact: the size bounds how much one read takes from the socket and from OpenSSL, never what
    is read. A record holds at most 16 KiB of plaintext (:data:`TLS_RECORD`), so a buffer of at
    least that size reads each record in one call; a larger message takes as many reads as it
    has records either way.

    Args:
        size: Bytes, at least :data:`TLS_RECORD`.
        loop: The event loop the server runs on (default: the running loop, else asyncio's).
            On a loop with its own TLS layer (uvloop) nothing is changed.

    Returns:
        Whether asyncio's TLS layer now uses at most ``size`` bytes per connection (False on a
        loop with its own TLS layer).

    Raises:
        ValueError: ``size`` below one TLS record.
    """
    if size < TLS_RECORD:
        raise ValueError(f"a TLS read buffer needs at least {TLS_RECORD} bytes (one record), got {size}")
    if loop is None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
    if loop is not None and not isinstance(loop, asyncio.BaseEventLoop):
        return False  # uvloop and other loops bring their own TLS layer
    protocol = asyncio.sslproto.SSLProtocol
    if protocol.max_size > size:
        protocol.max_size = size
    return True
