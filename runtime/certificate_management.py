"""The certificate life cycle on both sides of the link, as recipes a handler calls.

Station side
    :class:`CertificateStore` keeps the station's certificates in one directory: the CA
    certificates the CSMS installs (M05), lists (M03) and deletes (M04), and the station's own
    certificates with their private keys (A02/A03). ``answer_install``,
    ``answer_get_installed_ids`` and ``answer_delete`` turn a request of any version into its
    typed response::

        async def on_install_certificate(self, request, context):
            return store.answer_install(routing.INSTALL_CERTIFICATE, request)

    :class:`StationCertificates` runs the station's part of A02/A03: a new key and CSR after a
    TriggerMessage (1.6: ExtendedTriggerMessage), SignCertificate, the retries of
    A02.FR.17-19 (:class:`SigningRetry`, sans-I/O), the checks of a CertificateSigned chain,
    and the switch to the new certificate (:class:`RenewableContext`: the client's TLS context
    whose certificate can change, then a reconnect).

CSMS side
    :class:`CertificateIssuer` answers SignCertificate (A02.FR.11/12) and then sends
    CertificateSigned with the chain a signer made (any ``csr -> chain`` callable, e.g.
    ``certificates.CertificateAuthority`` or a client of the CSO's CA server, A02.FR.04);
    :func:`trigger_renewal` starts A02; :func:`installed_certificates` reads a station's
    installed certificates (M03) in every version.

Versions: 2.0.1 and 2.1 Part 2 use cases A02, A03, M03-M05; the OCPP 1.6 security whitepaper
(edition 3) use cases of the same ids. Where they differ, the functions branch on the
session's version and say so. Decision 0015 records the choices.
"""

from __future__ import annotations

import asyncio
import datetime
import errno
import hashlib
import json
import logging
import os
import random
import ssl
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec

from . import certificates as x509
from .errors import NotConnected
from .tls import CertChain, OcppVersion, client_context

if TYPE_CHECKING:
    from .client import StationClient
    from .routing import CallContext, Route
    from .session import Session

__all__ = [
    "CSMS_ROOT",
    "CertificateIssuer",
    "CertificateStore",
    "InstalledCertificate",
    "InstalledId",
    "IssueResult",
    "RenewableContext",
    "SigningRetry",
    "StationCertificates",
    "StoreResult",
    "installed_certificates",
    "trigger_renewal",
]

log = logging.getLogger("ocppgen")
Res = TypeVar("Res")

CSMS_ROOT = "CSMSRootCertificate"
STATION_CERTIFICATE = "ChargingStationCertificate"
# Trust-store kinds, by their 2.x names (InstallCertificateUseEnumType; 2.1 adds OEMRootCertificate).
_USES = frozenset({CSMS_ROOT, "ManufacturerRootCertificate", "V2GRootCertificate", "MORootCertificate", "OEMRootCertificate"})
_FROM_16 = {"CentralSystemRootCertificate": CSMS_ROOT}  # 1.6 CertificateUseEnumType
_TO_16 = {CSMS_ROOT: "CentralSystemRootCertificate"}
_OWN_TYPES = frozenset({STATION_CERTIFICATE, "V2GCertificate", "V2G20Certificate"})
_V2G_CHAIN = "V2GCertificateChain"


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _write(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write a file atomically and durably (a crash leaves the old or the new content)."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _fingerprint(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


def _value(obj: object) -> str:
    """An enum member's wire value, or the string itself."""
    return str(getattr(obj, "value", obj))


def _wire_names(struct_type: Any) -> frozenset[str]:
    return frozenset(f.encode_name for f in msgspec.structs.fields(struct_type))


def _response(route: Route[Any, Res], payload: dict[str, Any]) -> Res:
    """The route's response type from a JSON-shaped payload; members the version's schema does
    not have (statusInfo on 1.6) are dropped, strings are cut to the schema's limits."""
    codec = route.response_codec
    if codec is None or route.response is None:
        raise TypeError(f"{route.action} has no response")
    names = _wire_names(route.response)
    return codec.decode(msgspec.json.encode({k: v for k, v in payload.items() if k in names}))


def _status(status: str, reason_code: str | None = None, detail: str | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {"status": status}
    if reason_code is not None:
        info: dict[str, str] = {"reasonCode": reason_code}
        if detail:
            info["additionalInfo"] = detail[:512]
        payload["statusInfo"] = info
    return payload


# -- the station's certificate store (M03, M04, M05) ------------------------------------------


@dataclass(frozen=True)
class StoreResult:
    """What the store did: the ``status`` to answer (the spec's values: Accepted, Rejected,
    Failed, NotFound) and, when not Accepted, why: ``reason_code`` (the statusInfo reasonCode)
    and ``detail`` (in words, with the requirement id)."""

    status: str
    reason_code: str | None = None
    detail: str | None = None

    @property
    def accepted(self) -> bool:
        return self.status == "Accepted"


@dataclass(frozen=True)
class InstalledCertificate:
    """One CA certificate in the trust store: its kind (``use``, 2.x name), ``pem``,
    ``hash_data`` (SHA-256), and whether it is the ``fallback`` CSMS root kept by
    AdditionalRootCertificateCheck (M05.FR.12)."""

    use: str
    pem: str
    hash_data: x509.CertificateHashData
    fallback: bool = False


class CertificateStore:
    """The station's certificates in one directory, kept across restarts.

    Layout (every write is atomic; private keys are written with mode 0600 and are never part
    of any message, A02.FR.05)::

        trust/<kind>/<sha256>.pem       CA certificates by kind (CSMSRootCertificate, ...)
        trust/CSMSRootCertificate.fallback   the fallback root of M05.FR.12, if any
        own/<type>/current, candidate   the name of the certificate in use / just accepted
        own/<type>/<name>.pem, .key     the station's certificate chains and private keys
        own/<type>/pending.key, .json   the key and CSR of an outstanding SignCertificate

    ``<kind>`` uses the 2.x names; 1.6's CentralSystemRootCertificate is CSMSRootCertificate
    here and on 1.6 wires again as CentralSystemRootCertificate.

    :param directory: where the files live (created if missing).
    :param max_entries: CertificateEntries' maxLimit (2.x) / CertificateStoreMaxLength (1.6):
        installing one more CA certificate is Rejected (M05.FR.06; 1.6 M05.FR.03). None: no limit.
    :param additional_root_check: AdditionalRootCertificateCheck (M05.FR.09-12; 1.6
        M05.FR.08-11): one CSMS root at a time; a new one must be signed by the old one, which
        is kept as a fallback until :meth:`drop_fallback_root` (call it once connected with the
        new root, M05.FR.13).
    :param keep_last_csms_root: refuse (Failed) to delete the only CSMS root (2.x M04.FR.03's
        note; 1.6 M04.FR.06: the root in use for the connection). False allows it, as 2.x
        M04 remarks say a CSMS may do on purpose.
    :param clock: the current time (UTC, aware), for validity checks.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        max_entries: int | None = None,
        additional_root_check: bool = False,
        keep_last_csms_root: bool = True,
        clock: Callable[[], datetime.datetime] = _utcnow,
    ) -> None:
        self.root = Path(directory)
        self.max_entries = max_entries
        self.additional_root_check = additional_root_check
        self.keep_last_csms_root = keep_last_csms_root
        self.clock = clock
        #: Called after the CSMS roots changed (install, delete, fallback dropped), e.g. to
        #: rebuild the station's TLS context (``StationCertificates`` registers itself).
        self.listeners: list[Callable[[], None]] = []
        (self.root / "trust").mkdir(parents=True, exist_ok=True)
        (self.root / "own").mkdir(parents=True, exist_ok=True)

    # -- the trust store ----------------------------------------------------------------------

    def _kind_dir(self, use: str) -> Path:
        return self.root / "trust" / use

    def _fallback_file(self) -> Path:
        return self.root / "trust" / f"{CSMS_ROOT}.fallback"

    def _entries(self, uses: Iterable[str] | None = None) -> list[tuple[str, Path, bytes]]:
        wanted = sorted(_USES if uses is None else set(uses) & _USES)
        found: list[tuple[str, Path, bytes]] = []
        for use in wanted:
            folder = self._kind_dir(use)
            if folder.is_dir():
                for path in sorted(folder.glob("*.pem")):
                    ders = x509.der_certificates(path.read_text("ascii"))
                    if ders:
                        found.append((use, path, ders[0]))
        return found

    def _issuer_of(self, der: bytes, candidates: Iterable[bytes], path: Path | None = None) -> bytes | None:
        """The certificate whose key signed ``der``: the one kept beside it at install time,
        itself (self-issued), or one of ``candidates`` with its issuer's name."""
        if path is not None:
            kept = path.with_suffix(".issuer")
            if kept.exists():
                return x509.der_certificates(kept.read_text("ascii"))[0]
        issuer = x509._issuer_name(der)
        if issuer == x509._subject_name(der):
            return der
        for other in candidates:
            if other != der and x509._subject_name(other) == issuer:
                return other
        return None

    def installed(self, uses: Iterable[str] | None = None, algorithm: str = "SHA256") -> list[InstalledCertificate]:
        """The installed CA certificates of the given kinds (2.x names; None: all), each with
        its hash data (M03.FR.04). A certificate whose issuer is no longer known is left out.

        Args:
            uses: Kinds by their 2.x names (None: all).
            algorithm: The hash algorithm of the hash data (SHA256, SHA384, SHA512).
        """
        everything = [der for _, _, der in self._entries()]
        fallback = self._fallback_name()
        out: list[InstalledCertificate] = []
        for use, path, der in self._entries(uses):
            issuer = self._issuer_of(der, everything, path)
            if issuer is None:
                continue
            hash_data = x509.certificate_hash_data(der, None if issuer == der else issuer, algorithm)
            out.append(InstalledCertificate(use, x509.to_pem(der), hash_data, use == CSMS_ROOT and path.stem == fallback))
        return out

    def trusted_pem(self, use: str = CSMS_ROOT) -> str:
        """The PEM of every installed certificate of one kind (the fallback root included,
        M05.FR.14): e.g. ``csms_ca_data`` of ``tls.client_context``.

        Args:
            use: The kind, by its 2.x name (default CSMSRootCertificate).
        """
        return "".join(x509.to_pem(der) for _, _, der in self._entries([use]))

    def _fallback_name(self) -> str | None:
        path = self._fallback_file()
        return path.read_text("ascii").strip() if path.exists() else None

    def drop_fallback_root(self) -> bool:
        """The station connected with the new CSMS root: remove the old (fallback) one
        (M05.FR.13; 1.6 M05.FR.12). Returns whether there was one."""
        name = self._fallback_name()
        if name is None:
            return False
        (self._kind_dir(CSMS_ROOT) / f"{name}.pem").unlink(missing_ok=True)
        (self._kind_dir(CSMS_ROOT) / f"{name}.issuer").unlink(missing_ok=True)
        self._fallback_file().unlink(missing_ok=True)
        self._changed(CSMS_ROOT)
        return True

    def _changed(self, use: str) -> None:
        if use != CSMS_ROOT:
            return
        for listener in self.listeners:
            try:
                listener()
            except Exception:
                log.exception("a certificate store listener failed")

    def install(self, use: str, certificate: str) -> StoreResult:
        """Install a CA certificate (M05; 1.6 M05). ``use``: the kind, by its 2.x or 1.6 name.

        Rejected (M05.FR.07; 1.6 M05.FR.06) when it is not exactly one PEM certificate
        (A00.FR.507), not a CA certificate, expired or not yet valid, has a key below 112-bit
        strength (A00.FR.501-503) or a SHA-1/MD5 signature (A00.FR.504), is not self-signed
        and no installed certificate issued it (the store could not name it by hash data,
        M03.FR.04), or its self-signature does not verify; Rejected when ``max_entries`` is
        reached (M05.FR.06; 1.6 M05.FR.03); Rejected when AdditionalRootCertificateCheck is on
        and the old CSMS root did not sign it (M05.FR.11). The same certificate again is
        replaced and Accepted (M05.FR.17). Failed when it cannot be written (M05.FR.03).

        Args:
            certificate: The certificate, PEM.
        """
        kind = _FROM_16.get(use, use)
        if kind not in _USES:
            return StoreResult("Rejected", "InvalidValue", f"unknown certificate type {use!r}")
        result = self._install(kind, certificate)
        if result.accepted:
            self._changed(kind)
        return result

    def _install(self, kind: str, certificate: str) -> StoreResult:
        try:
            ders = x509.der_certificates(certificate)
        except x509.CertificateError as exc:
            return StoreResult("Rejected", "InvalidCertificate", f"{exc} (A00.FR.507)")
        if len(ders) != 1:
            return StoreResult("Rejected", "InvalidCertificate", f"{len(ders)} certificates where one PEM certificate is expected (A00.FR.507)")
        der = ders[0]
        entries = self._entries()
        existing = [e for e in entries if e[0] == kind]
        problem = _ca_problem(der, [d for _, _, d in entries], self.clock())
        if problem is not None:
            return StoreResult("Rejected", "InvalidCertificate", problem)
        name = _fingerprint(der)
        target = self._kind_dir(kind) / f"{name}.pem"
        issuer = None if x509._issuer_name(der) == x509._subject_name(der) else _issuer_among(der, [d for _, _, d in entries])
        if target.exists():  # M05.FR.17: replace and accept
            return self._write_trust(target, der, issuer)
        if self.max_entries is not None and len(entries) >= self.max_entries:
            return StoreResult("Rejected", "OutOfStorage", f"{len(entries)} certificates installed, the limit is {self.max_entries} (M05.FR.06)")
        if self.additional_root_check and kind == CSMS_ROOT:
            fallback = self._fallback_name()
            current = [(p, d) for _, p, d in existing if p.stem != fallback]
            if current:
                old_path, old_der = current[0]
                if not _signed_by(der, old_der):
                    return StoreResult("Rejected", "InvalidCertificate", "the new CSMS root is not signed by the old one (M05.FR.11)")
                result = self._write_trust(target, der, old_der)
                if result.accepted:
                    if fallback is not None:
                        (self._kind_dir(CSMS_ROOT) / f"{fallback}.pem").unlink(missing_ok=True)
                    for other_path, _ in current[1:]:
                        other_path.unlink(missing_ok=True)
                    _write(self._fallback_file(), old_path.stem.encode("ascii"))  # M05.FR.12
                return result
        return self._write_trust(target, der, issuer)

    def _write_trust(self, target: Path, der: bytes, issuer: bytes | None) -> StoreResult:
        """Store a CA certificate, and beside it the certificate of its issuer when it is not
        self-issued: its hash data stays computable when the issuer is deleted (M03.FR.04)."""
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            if issuer is not None:
                _write(target.with_suffix(".issuer"), x509.to_pem(issuer).encode("ascii"))
            _write(target, x509.to_pem(der).encode("ascii"))
        except OSError as exc:
            return StoreResult("Failed", _storage_reason(exc), f"the certificate could not be stored: {exc.strerror}")
        return StoreResult("Accepted")

    def delete(self, hash_data: x509.CertificateHashData) -> StoreResult:
        """Delete the certificate ``hash_data`` names (M04; 1.6 M04). Certificates it issued
        stay (M04.FR.08 allows deleting them; they stay nameable, as their issuer's certificate
        is kept beside them).

        NotFound when none matches (M04.FR.04). Failed for the station's own certificate
        (2.x M04.FR.06; 1.6 M04.FR.05), for the only CSMS root while ``keep_last_csms_root``
        (2.x M04.FR.03; 1.6 M04.FR.06), and when deleting fails (M04.FR.03). Hash data is
        compared case-insensitively, with the algorithm the request names (M04.FR.07).
        """
        algorithm = hash_data.hash_algorithm.upper()
        try:
            for own in self._own_certificates(algorithm):
                if own[1].matches(hash_data):
                    if own[0] == STATION_CERTIFICATE:
                        return StoreResult("Failed", "InvalidValue", "the Charging Station Certificate cannot be deleted (M04.FR.06)")
                    return StoreResult("Failed", "InvalidValue", "a certificate of the station's own chain is replaced by A02/A03, not deleted")
            matches = [c for c in self.installed(algorithm=algorithm) if c.hash_data.matches(hash_data)]
        except x509.CertificateError as exc:
            return StoreResult("NotFound", "NotFound", str(exc))
        if not matches:
            return StoreResult("NotFound", "NotFound", "no installed certificate has this hash data (M04.FR.04)")
        roots = [c for c in self.installed([CSMS_ROOT])]
        if self.keep_last_csms_root and any(c.use == CSMS_ROOT for c in matches) and len(roots) <= 1:
            return StoreResult("Failed", "InvalidValue", "the only CSMS root certificate is in use and is kept (M04.FR.03; 1.6 M04.FR.06)")
        doomed = {x509.der_certificates(c.pem)[0] for c in matches}
        fallback = self._fallback_name()
        try:
            for use, path, der in self._entries():
                if der in doomed:
                    path.unlink()
                    path.with_suffix(".issuer").unlink(missing_ok=True)
                    if use == CSMS_ROOT and path.stem == fallback:
                        self._fallback_file().unlink(missing_ok=True)
        except OSError as exc:
            return StoreResult("Failed", _storage_reason(exc), f"deleting failed: {exc.strerror}")
        for use in {c.use for c in matches}:
            self._changed(use)
        return StoreResult("Accepted")

    # -- the station's own certificates ---------------------------------------------------------

    def _own_dir(self, certificate_type: str) -> Path:
        if certificate_type not in _OWN_TYPES:
            raise ValueError(f"unknown certificate type {certificate_type!r}; one of {sorted(_OWN_TYPES)}")
        return self.root / "own" / certificate_type

    def _slot(self, certificate_type: str, slot: str) -> str | None:
        path = self._own_dir(certificate_type) / slot
        return path.read_text("ascii").strip() if path.exists() else None

    def certificate_chain(self, certificate_type: str = STATION_CERTIFICATE, *, candidate: bool = False) -> CertChain | None:
        """The files of the station's certificate in use (or the one just accepted, not yet
        confirmed), as ``tls.CertChain`` for ``tls.client_context``; None if there is none.

        Args:
            certificate_type: The kind, by its 2.x name (default ChargingStationCertificate).
            candidate: The certificate just accepted and not yet confirmed, instead of the one in use.
        """
        name = self._slot(certificate_type, "candidate" if candidate else "current")
        if name is None:
            return None
        folder = self._own_dir(certificate_type)
        return CertChain(folder / f"{name}.pem", folder / f"{name}.key")

    def chain_pem(self, certificate_type: str = STATION_CERTIFICATE, *, candidate: bool = False) -> str | None:
        """The PEM chain of the station's certificate in use (or the candidate).

        Args:
            certificate_type: The kind, by its 2.x name (default ChargingStationCertificate).
            candidate: As for ``certificate_chain``.
        """
        chain = self.certificate_chain(certificate_type, candidate=candidate)
        return None if chain is None else Path(chain.certfile).read_text("ascii")

    def set_certificate(self, chain: str, private_key: bytes, certificate_type: str = STATION_CERTIFICATE) -> None:
        """Install the station's certificate and key directly (manufacturing or installation,
        A00.FR.801-804): it is in use at once.

        Args:
            chain: The PEM chain, leaf first.
            private_key: Its private key (PEM).
            certificate_type: The kind, by its 2.x name (default ChargingStationCertificate).
        """
        self._save_own(certificate_type, chain, private_key, "current")

    def _save_own(self, certificate_type: str, chain: str, private_key: bytes, slot: str) -> None:
        ders = x509.der_certificates(chain)
        if not ders:
            raise x509.CertificateError("no PEM certificate in the chain")
        folder = self._own_dir(certificate_type)
        folder.mkdir(parents=True, exist_ok=True)
        name = _fingerprint(ders[0])[:32]
        _write(folder / f"{name}.key", private_key, 0o600)
        _write(folder / f"{name}.pem", "".join(x509.to_pem(d) for d in ders).encode("ascii"))
        _write(folder / slot, name.encode("ascii"))

    def save_pending(self, certificate_type: str, private_key: bytes, csr: str, request_id: int | None) -> None:
        """Keep the key of a CSR just made (A02.FR.05: it never leaves the station), with the
        CSR and the 2.1 requestId, until its certificate arrives.

        Args:
            certificate_type: The kind the CSR is for.
            private_key: The CSR's private key (PEM).
            csr: The CSR (PEM).
            request_id: 2.1: the SignCertificate's requestId (None on 1.6 and 2.0.1).
        """
        folder = self._own_dir(certificate_type)
        folder.mkdir(parents=True, exist_ok=True)
        _write(folder / "pending.key", private_key, 0o600)
        _write(folder / "pending.json", json.dumps({"csr": csr, "requestId": request_id}).encode())

    def pending(self, certificate_type: str) -> tuple[bytes, str, int | None] | None:
        """The key, CSR and requestId of the outstanding CSR of this type, or None.

        Args:
            certificate_type: The kind.
        """
        folder = self._own_dir(certificate_type)
        if not (folder / "pending.key").exists() or not (folder / "pending.json").exists():
            return None
        meta = json.loads((folder / "pending.json").read_text())
        return (folder / "pending.key").read_bytes(), str(meta["csr"]), meta.get("requestId")

    def accept_candidate(self, certificate_type: str, chain: str, private_key: bytes) -> None:
        """A CertificateSigned chain passed its checks: keep it as the candidate (the
        certificate in use stays until the candidate is confirmed, A02.FR.10/28).

        Args:
            certificate_type: The kind.
            chain: The accepted PEM chain.
            private_key: The key of its CSR (PEM).
        """
        self._save_own(certificate_type, chain, private_key, "candidate")

    def promote(self, certificate_type: str) -> bool:
        """The candidate works: it becomes the certificate in use; the old one and the
        pending key are discarded (2.x A02.FR.10: the certificate not in use is discarded).

        Args:
            certificate_type: The kind.
        """
        folder = self._own_dir(certificate_type)
        name = self._slot(certificate_type, "candidate")
        if name is None:
            return False
        old = self._slot(certificate_type, "current")
        _write(folder / "current", name.encode("ascii"))
        (folder / "candidate").unlink(missing_ok=True)
        if old is not None and old != name:
            for suffix in (".pem", ".key"):
                (folder / f"{old}{suffix}").unlink(missing_ok=True)
        self.clear_pending(certificate_type)
        return True

    def discard_candidate(self, certificate_type: str) -> bool:
        """The candidate did not work: discard it; the certificate in use stays (A02.FR.28).

        Args:
            certificate_type: The kind.
        """
        folder = self._own_dir(certificate_type)
        name = self._slot(certificate_type, "candidate")
        if name is None:
            return False
        (folder / "candidate").unlink(missing_ok=True)
        if name != self._slot(certificate_type, "current"):
            for suffix in (".pem", ".key"):
                (folder / f"{name}{suffix}").unlink(missing_ok=True)
        return True

    def clear_pending(self, certificate_type: str) -> None:
        """Forget the outstanding CSR of ``certificate_type`` (its key and request)."""
        folder = self._own_dir(certificate_type)
        for name in ("pending.key", "pending.json"):
            (folder / name).unlink(missing_ok=True)

    def _own_certificates(self, algorithm: str) -> list[tuple[str, x509.CertificateHashData, list[x509.CertificateHashData]]]:
        """Each own certificate in use or accepted: type, hash data, hash data of its sub-CAs."""
        roots = [der for _, _, der in self._entries()]
        out: list[tuple[str, x509.CertificateHashData, list[x509.CertificateHashData]]] = []
        for certificate_type in sorted(_OWN_TYPES):
            for candidate in (False, True):
                pem = self.chain_pem(certificate_type, candidate=candidate)
                if pem is None:
                    continue
                ders = x509.der_certificates(pem)
                hashes: list[x509.CertificateHashData] = []
                for position, der in enumerate(ders):
                    issuer = ders[position + 1] if position + 1 < len(ders) else self._issuer_of(der, roots)
                    if issuer is None:
                        continue
                    hashes.append(x509.certificate_hash_data(der, None if issuer == der else issuer, algorithm))
                if hashes and ders:
                    out.append((certificate_type, hashes[0], hashes[1:]))
        return out

    # -- answers to the CSMS's requests, for any version ---------------------------------------

    def answer_install(self, route: Route[Any, Res], request: object) -> Res:
        """InstallCertificateResponse for an InstallCertificateRequest (M05.FR.01).

        Args:
            route: The version's InstallCertificate route: it types the answer.
            request: The InstallCertificate request.
        """
        result = self.install(_value(getattr(request, "certificate_type")), str(getattr(request, "certificate")))
        if not result.accepted:
            log.info("InstallCertificate %s: %s", result.status, result.detail)
        return _response(route, _status(result.status, result.reason_code, result.detail))

    def answer_delete(self, route: Route[Any, Res], request: object) -> Res:
        """DeleteCertificateResponse for a DeleteCertificateRequest (M04.FR.01).

        Args:
            route: The version's DeleteCertificate route: it types the answer.
            request: The DeleteCertificate request.
        """
        result = self.delete(x509.CertificateHashData.of(getattr(request, "certificate_hash_data")))
        return _response(route, _status(result.status, result.reason_code, result.detail))

    def answer_get_installed_ids(self, route: Route[Any, Res], request: object) -> Res:
        """GetInstalledCertificateIdsResponse (M03.FR.01-05; 1.6 M03): Accepted with the hash
        data (SHA-256) of every certificate of the requested kinds, NotFound when there is none.
        2.x V2GCertificateChain lists the station's V2G certificates with their sub-CA
        certificates as children (M03.FR.05).

        Args:
            route: The version's GetInstalledCertificateIds route: it types the answer.
            request: The GetInstalledCertificateIds request.
        """
        requested = getattr(request, "certificate_type", None)
        v16 = "certificateHashData" in _wire_names(route.response) if route.response is not None else False
        kinds: list[str] | None
        if isinstance(requested, list):
            kinds = [_value(k) for k in requested] or None
        elif requested is None or requested is msgspec.UNSET:
            kinds = None
        else:
            kinds = [_value(requested)]
        canonical = None if kinds is None else [_FROM_16.get(k, k) for k in kinds]
        found = self.installed(canonical)
        if v16:
            data = [msgspec.to_builtins(c.hash_data) for c in found]
            payload = _status("Accepted") if data else _status("NotFound", "NotFound")
            if data:
                payload["certificateHashData"] = data
            return _response(route, payload)
        chains: list[dict[str, Any]] = [
            {"certificateType": c.use, "certificateHashData": msgspec.to_builtins(c.hash_data)} for c in found
        ]
        if canonical is None or _V2G_CHAIN in canonical:
            for certificate_type, hash_data, children in self._own_certificates("SHA256"):
                if certificate_type == STATION_CERTIFICATE:
                    continue
                entry: dict[str, Any] = {"certificateType": _V2G_CHAIN, "certificateHashData": msgspec.to_builtins(hash_data)}
                if children:
                    entry["childCertificateHashData"] = [msgspec.to_builtins(h) for h in children[:4]]
                chains.append(entry)
        payload = _status("Accepted") if chains else _status("NotFound", "NotFound")
        if chains:
            payload["certificateHashDataChain"] = chains
        return _response(route, payload)


def _storage_reason(exc: OSError) -> str:
    """The reasonCode (Part 2 appendix) of a failed write: OutOfStorage when the disk is full."""
    return "OutOfStorage" if exc.errno == errno.ENOSPC else "Unspecified"


def _ca_problem(der: bytes, installed: list[bytes], now: datetime.datetime) -> str | None:
    """Why a certificate cannot be installed as a CA certificate (M05.FR.07), or None."""
    x509._need_cryptography()
    from cryptography import x509 as cx  # type: ignore[import-not-found, unused-ignore]

    try:
        certificate = cx.load_der_x509_certificate(der)
    except ValueError as exc:
        return f"the certificate cannot be read: {exc}"
    if not x509._is_ca(certificate):
        return "not a CA certificate (basicConstraints CA=true); the station's own certificate comes with CertificateSigned"
    problem = x509._key_problem(certificate.public_key())
    if problem is not None:
        return problem
    algorithm = certificate.signature_hash_algorithm
    if algorithm is not None and algorithm.name in x509._WEAK_HASHES:
        return f"signed with {algorithm.name.upper()} (A00.FR.504)"
    try:
        x509._check_time(certificate, now, False)
        x509._check_critical(certificate)
    except x509.InvalidCertificate as exc:
        return exc.reason
    if certificate.issuer == certificate.subject:
        return None if _signed_by(der, der) else "its self-signature does not verify"
    if _issuer_among(der, installed) is None:
        return "not self-signed, and no installed certificate issued it (its hash data could not be computed, M03.FR.04)"
    return None


def _issuer_among(der: bytes, candidates: Iterable[bytes]) -> bytes | None:
    return next((other for other in candidates if _signed_by(der, other)), None)


def _signed_by(der: bytes, issuer_der: bytes) -> bool:
    from cryptography import exceptions, x509 as cx  # type: ignore[import-not-found, unused-ignore]

    try:
        cx.load_der_x509_certificate(der).verify_directly_issued_by(cx.load_der_x509_certificate(issuer_der))
    except (ValueError, TypeError, exceptions.InvalidSignature):
        return False
    return True


# -- the CSMS reads a station's installed certificates (M03) ----------------------------------


@dataclass(frozen=True)
class InstalledId:
    """One entry of a station's GetInstalledCertificateIds answer, in every version: the kind
    (``use``, 2.x names), the ``hash_data``, and (2.x V2GCertificateChain) the sub-CAs' hash
    data (``children``)."""

    use: str
    hash_data: x509.CertificateHashData
    children: tuple[x509.CertificateHashData, ...] = ()


def _routes(session: Session, action: str) -> Route[Any, Any]:
    link = session.link
    routes = getattr(getattr(link, "binding", None), "routes", None)
    if link is None or routes is None:
        raise NotConnected("-", action, f"{session.identity} is not connected")
    route: Route[Any, Any] = routes[action]
    return route


async def installed_certificates(
    session: Session, uses: Iterable[str] | None = None, *, timeout: float | None = None
) -> list[InstalledId]:
    """Ask the station of ``session`` for its installed certificates (M03; 1.6
    GetInstalledCertificateIds), waiting up to ``timeout`` seconds per request.

    ``uses``: kinds by their 2.x names (None: all). On 1.6, which asks for one kind per
    request, one request is sent per kind (CSMSRootCertificate, ManufacturerRootCertificate).
    A NotFound answer is an empty list. Raises what the CALL raises.
    """
    route = _routes(session, "GetInstalledCertificateIds")
    out: list[InstalledId] = []
    if session.version == "1.6":
        kinds = [CSMS_ROOT, "ManufacturerRootCertificate"] if uses is None else list(uses)
        for kind in kinds:
            request = route.request_codec.decode(msgspec.json.encode({"certificateType": _TO_16.get(kind, kind)}))
            response = await session.call(route, request, timeout)
            for item in getattr(response, "certificate_hash_data", None) or []:
                if item is not msgspec.UNSET:
                    out.append(InstalledId(kind, x509.CertificateHashData.of(item)))
        return out
    payload: dict[str, Any] = {} if uses is None else {"certificateType": list(uses)}
    response = await session.call(route, route.request_codec.decode(msgspec.json.encode(payload)), timeout)
    entries = getattr(response, "certificate_hash_data_chain", None)
    for entry in entries if isinstance(entries, list) else []:
        children = getattr(entry, "child_certificate_hash_data", None)
        out.append(
            InstalledId(
                _value(entry.certificate_type),
                x509.CertificateHashData.of(entry.certificate_hash_data),
                tuple(x509.CertificateHashData.of(c) for c in children) if isinstance(children, list) else (),
            )
        )
    return out


# -- A02/A03 on the CSMS ---------------------------------------------------------------------

Signer = Callable[[str], "str | Awaitable[str]"]
"""Makes a PEM certificate chain (leaf first) from a PEM CSR: ``certificates.CertificateAuthority``,
or a client of the CSO's CA server (A02.FR.04). It may be a coroutine function."""


@dataclass(frozen=True)
class IssueResult:
    """What became of one SignCertificate on the CSMS: ``status`` is the station's
    CertificateSignedResponse status (Accepted, Rejected), or ``CsrRejected`` (the CSMS
    answered Rejected, A02.FR.12), ``SigningFailed`` (the signer raised: the station never
    learns; A02 error handling: an operator should), ``NotDelivered`` (the CertificateSigned
    CALL failed). ``chain`` is what was sent. ``identity``: the station's;
    ``certificate_type``: the kind asked for (None when the request named none);
    ``detail``: why, in words."""

    identity: str
    status: str
    certificate_type: str | None
    detail: str | None = None
    chain: str | None = None


class CertificateIssuer:
    """The CSMS's part of A02/A03: answer SignCertificate, then send CertificateSigned.

    ::

        issuer = CertificateIssuer(CertificateAuthority(ca_pem, ca_key))

        class MyCsms(v201.csms.CsmsHandler):
            async def on_sign_certificate(self, request, context):
                return issuer.answer(v201.routing.SIGN_CERTIFICATE, request, context)

    ``answer`` checks the CSR (:func:`certificates.read_csr`: PEM, proof of possession, key
    strength, CN) and ``check``; it answers Accepted when it can process the request
    (A02.FR.11) and Rejected otherwise (A02.FR.12). After the answer is on the wire, the
    signer makes the chain and CertificateSigned carries it, with the request's
    certificateType echoed (A02.FR.14) and, on 2.1, its requestId (A02.FR.25).

    :param signer: ``csr -> chain`` (sync or async).
    :param check: ``check(session, csr_info)`` returns why the CSMS refuses this CSR, or None.
        Default: a profile-3 station's CSR must keep the CN of its current certificate
        (A00.FR.405: the CN is the station's serial number).
    :param timeout: of the CertificateSigned CALL (None: the connection's default).
    :param on_result: hears every :class:`IssueResult` (also kept in ``results``).
    """

    def __init__(
        self,
        signer: Signer,
        *,
        check: Callable[[Session, x509.CsrInfo], str | None] | None = None,
        timeout: float | None = None,
        on_result: Callable[[IssueResult], None] | None = None,
    ) -> None:
        self.signer = signer
        self.check = check if check is not None else _same_serial
        self.timeout = timeout
        self.on_result = on_result
        self.results: list[IssueResult] = []

    def answer(self, route: Route[Any, Res], request: object, context: CallContext[Any]) -> Res:
        """The SignCertificateResponse for ``request``; schedules CertificateSigned.

        Args:
            route: The version's SignCertificate route (``routing.SIGN_CERTIFICATE``): it types the answer.
            request: The SignCertificate request.
            context: The handler's context (the station's session; CertificateSigned goes after the answer).
        """
        csr = str(getattr(request, "csr"))
        session = context.session
        try:
            info = x509.read_csr(csr)
        except x509.InvalidCertificate as exc:
            self._result(IssueResult(session.identity, "CsrRejected", None, exc.reason))
            return _response(route, _status("Rejected", "InvalidCSR", exc.reason))
        why = self.check(session, info)
        if why is not None:
            self._result(IssueResult(session.identity, "CsrRejected", None, why))
            return _response(route, _status("Rejected", "InvalidCSR", why))
        certificate_type = getattr(request, "certificate_type", None)
        kind = None if certificate_type is None or certificate_type is msgspec.UNSET else _value(certificate_type)
        request_id = getattr(request, "request_id", None)
        request_id = request_id if isinstance(request_id, int) else None

        async def deliver() -> None:
            await self._deliver(session, csr, kind, request_id)

        context.after_response(deliver)
        return _response(route, _status("Accepted"))  # A02.FR.11

    async def _deliver(self, session: Session, csr: str, kind: str | None, request_id: int | None) -> None:
        try:
            made = self.signer(csr)
            chain = await made if not isinstance(made, str) else made
        except Exception as exc:  # the CA refused or failed: the operator is told, never the station
            log.warning("%s: signing the CSR failed: %s", session.identity, exc)
            self._result(IssueResult(session.identity, "SigningFailed", kind, f"{type(exc).__name__}: {exc}"))
            return
        payload: dict[str, Any] = {"certificateChain": chain}
        if kind is not None:
            payload["certificateType"] = kind  # A02.FR.14
        if request_id is not None:
            payload["requestId"] = request_id  # 2.1 A02.FR.25
        try:
            route = _routes(session, "CertificateSigned")
            names = _wire_names(route.request)
            request = route.request_codec.decode(msgspec.json.encode({k: v for k, v in payload.items() if k in names}))
            response = await session.call(route, request, self.timeout)
        except Exception as exc:
            log.warning("%s: CertificateSigned not delivered: %s", session.identity, exc)
            self._result(IssueResult(session.identity, "NotDelivered", kind, f"{type(exc).__name__}: {exc}", chain))
            return
        info = getattr(response, "status_info", None)
        detail = getattr(info, "additional_info", None) or getattr(info, "reason_code", None)
        self._result(
            IssueResult(session.identity, _value(response.status), kind, detail if isinstance(detail, str) else None, chain)
        )

    def _result(self, result: IssueResult) -> None:
        self.results.append(result)
        if self.on_result is not None:
            self.on_result(result)


def _same_serial(session: Session, info: x509.CsrInfo) -> str | None:
    serial = session.certificate_serial
    if serial is not None and info.common_name != serial:
        return f"the CSR's CN {info.common_name!r} is not the station's serial number {serial!r} (A00.FR.405)"
    return None


_TRIGGER_2X = {
    STATION_CERTIFICATE: "SignChargingStationCertificate",
    "V2GCertificate": "SignV2GCertificate",
    "V2G20Certificate": "SignV2G20Certificate",
    "Combined": "SignCombinedCertificate",
}


async def trigger_renewal(session: Session, certificate_type: str = STATION_CERTIFICATE, *, timeout: float | None = None) -> bool:
    """Start A02 from the CSMS: TriggerMessage(SignChargingStationCertificate) on 2.x (or
    SignV2GCertificate, 2.1 SignV2G20Certificate / SignCombinedCertificate: ``certificate_type``
    V2GCertificate, V2G20Certificate, Combined); ExtendedTriggerMessage(SignChargePointCertificate)
    on 1.6, to the station of ``session``, waiting up to ``timeout`` seconds. Returns whether
    the station answered Accepted. Raises what the CALL raises."""
    if session.version == "1.6":
        route = _routes(session, "ExtendedTriggerMessage")
        payload = {"requestedMessage": "SignChargePointCertificate"}
    else:
        route = _routes(session, "TriggerMessage")
        payload = {"requestedMessage": _TRIGGER_2X[certificate_type]}
    response = await session.call(route, route.request_codec.decode(msgspec.json.encode(payload)), timeout)
    return _value(response.status) == "Accepted"


# -- A02/A03 on the station ------------------------------------------------------------------


class SigningRetry:
    """The retries of SignCertificate (2.x A02.FR.17-20, A03.FR.17-19), sans-I/O.

    After the CSMS accepted a SignCertificate, the station waits CertSigningWaitMinimum
    seconds for CertificateSigned; each time the wait ends without it, it sends the CSR again
    and doubles the wait (A02.FR.17/18), at most CertSigningRepeatTimes times (A02.FR.19);
    then, and after a certificate it rejected (A02.FR.20), it waits for the CSMS's next
    TriggerMessage. Every input takes ``now``; the caller sleeps until :meth:`next_deadline`
    and calls :meth:`handle_timeout`, which says whether to send the CSR again.
    ``wait_minimum``: CertSigningWaitMinimum, seconds; ``repeat_times``: CertSigningRepeatTimes.
    """

    def __init__(self, wait_minimum: float, repeat_times: int) -> None:
        self.wait_minimum = wait_minimum
        self.repeat_times = repeat_times
        self.resent = 0
        self._deadline: float | None = None
        self._wait = wait_minimum

    def accepted(self, now: float) -> None:
        """The CSMS answered Accepted to a new CSR (a first SignCertificate) at ``now``: start waiting."""
        self.resent = 0
        self._wait = self.wait_minimum
        self._deadline = now + self._wait

    def received(self) -> None:
        """CertificateSigned for the CSR arrived (accepted or rejected): stop (A02.FR.20)."""
        self._deadline = None

    def next_deadline(self) -> float | None:
        """When to call :meth:`handle_timeout` next, or None (nothing to wait for)."""
        return self._deadline

    def handle_timeout(self, now: float) -> bool:
        """At ``now`` the wait may have ended: True means send the CSR again now (A02.FR.17)."""
        if self._deadline is None or now < self._deadline:
            return False
        if self.resent >= self.repeat_times:  # A02.FR.19: until the CSMS triggers again
            self._deadline = None
            return False
        self.resent += 1
        self._wait *= 2  # A02.FR.18
        self._deadline = now + self._wait
        return True


class RenewableContext(ssl.SSLContext):
    """A station's client TLS context whose certificate can change while the client runs:
    every handshake uses the context last given to :meth:`use` (first: ``inner``). Pass it as
    ``StationOptions(ssl=...)``; :class:`StationCertificates` switches it to the new
    certificate and reconnects (A02.FR.08), or back to the old one (A02.FR.28)."""

    def __new__(cls, inner: ssl.SSLContext) -> RenewableContext:
        return super().__new__(cls, ssl.PROTOCOL_TLS_CLIENT)

    def __init__(self, inner: ssl.SSLContext) -> None:
        self.inner = inner

    def use(self, inner: ssl.SSLContext) -> None:
        """Handshakes from now on use ``inner``."""
        self.inner = inner

    def wrap_bio(
        self,
        incoming: ssl.MemoryBIO,
        outgoing: ssl.MemoryBIO,
        server_side: bool = False,
        server_hostname: str | bytes | None = None,
        session: ssl.SSLSession | None = None,
    ) -> ssl.SSLObject:
        """``ssl.SSLContext.wrap_bio`` of the current inner context (``incoming``, ``outgoing``,
        ``server_side``, ``server_hostname``, ``session`` passed on unchanged)."""
        return self.inner.wrap_bio(incoming, outgoing, server_side, server_hostname, session)

    def wrap_socket(self, sock: Any, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        """``ssl.SSLContext.wrap_socket`` of ``sock`` with the current inner context."""
        return self.inner.wrap_socket(sock, *args, **kwargs)


_ROOT_FOR = {STATION_CERTIFICATE: CSMS_ROOT, "V2GCertificate": "V2GRootCertificate", "V2G20Certificate": "V2GRootCertificate"}
_SIGN_TRIGGERS = {
    "SignChargingStationCertificate": STATION_CERTIFICATE,
    "SignChargePointCertificate": STATION_CERTIFICATE,  # 1.6 ExtendedTriggerMessage
    "SignV2GCertificate": "V2GCertificate",
    "SignV2G20Certificate": "V2G20Certificate",
    "SignCombinedCertificate": STATION_CERTIFICATE,
}


class StationCertificates:
    """The station's part of A02/A03 over a :class:`CertificateStore`.

    ::

        certificates = StationCertificates(store, serial_number="SN-1", organization="ACME CSO")
        client = StationClient(url, v201.station.BINDING, MyStation(certificates),
                               StationOptions(ssl=certificates.tls_context("2.0.1")))
        certificates.attach(client)

        class MyStation(v201.station.StationHandler):
            async def on_trigger_message(self, request, context):
                if self.certificates.on_trigger(request, context):   # A02.FR.02
                    return TriggerMessageResponse(status=TriggerMessageStatusEnumType.Accepted)
                ...
            async def on_certificate_signed(self, request, context):
                return self.certificates.answer_certificate_signed(routing.CERTIFICATE_SIGNED, request, context)

    A new key pair (EC P-256 by default, A00.FR.501-503) and CSR (CN = ``serial_number``, O =
    ``organization``) are made after the trigger's answer was sent (A02.FR.02/03); the key
    stays in the store (A02.FR.05). A CertificateSigned chain is checked with
    :func:`certificates.validate_chain` against the installed roots of its kind (CSMS roots
    for the Charging Station Certificate, V2G roots for V2G certificates); a bad one is
    Rejected, discarded and reported as InvalidChargingStationCertificate (1.6:
    InvalidChargePointCertificate) (A02.FR.07). A good one is Accepted, then the client's
    :class:`RenewableContext` switches to it and the station reconnects (A02.FR.08); once a
    connection with it is up the old certificate is discarded (A02.FR.10); if none comes up
    within ``confirm_timeout`` seconds the station falls back to the old one, discards the
    new one and reports DiscardedRenewedClientCertificate (2.x A02.FR.28/29).

    :param store: where keys and certificates live.
    :param serial_number: the CSR's CN (A00.FR.511).
    :param organization: the CSR's O: OrganizationName (2.x), CpoName (1.6 A02.FR.13).
    :param key_type: "ec" or "rsa"; ``key_size`` as in ``certificates.generate_private_key``.
    :param max_chain_size: MaxCertificateChainSize (2.x A02.FR.16) / CertificateSignedMaxChainSize
        (1.6): a longer certificateChain is Rejected. None: only the schema's 10,000.
    :param wait_minimum: CertSigningWaitMinimum (2.x): seconds before the CSR is sent again
        (A02.FR.17); None: no retries (1.6 has none).
    :param repeat_times: CertSigningRepeatTimes (2.x A02.FR.19).
    :param confirm_timeout: seconds a new certificate has to connect before the fallback.
    :param allow_not_yet_valid: accept a certificate whose validity starts in the future and
        switch when it starts. None: on 1.6 (whitepaper A02.FR.08), off on 2.x (2.0.1 errata
        2025-09 and 2.1 A02.FR.06: the current time must be within the validity period).
    :param v2g_common_name: the CN of V2G (ISO 15118 SECC) certificate CSRs (default: the
        serial number); ISO 15118 names what it holds.
    :param clock: the current time (UTC, aware).
    """

    def __init__(
        self,
        store: CertificateStore,
        *,
        serial_number: str,
        organization: str,
        key_type: x509.KeyType = "ec",
        key_size: int | None = None,
        max_chain_size: int | None = None,
        wait_minimum: float | None = None,
        repeat_times: int = 3,
        confirm_timeout: float = 60.0,
        allow_not_yet_valid: bool | None = None,
        v2g_common_name: str | None = None,
        clock: Callable[[], datetime.datetime] = _utcnow,
    ) -> None:
        self.store = store
        self.v2g_common_name = v2g_common_name
        self.serial_number = serial_number
        self.organization = organization
        self.key_type: x509.KeyType = key_type
        self.key_size = key_size
        self.max_chain_size = max_chain_size
        self.wait_minimum = wait_minimum
        self.repeat_times = repeat_times
        self.confirm_timeout = confirm_timeout
        self.allow_not_yet_valid = allow_not_yet_valid
        self.clock = clock
        self.client: StationClient[Any, Any] | None = None
        self.retries: dict[str, SigningRetry] = {}
        self.context: RenewableContext | None = None
        self._version: OcppVersion = "2.0.1"
        self._profile = 3
        self._tasks: set[asyncio.Task[Any]] = set()
        self._wake = asyncio.Event()
        self._retry_task: asyncio.Task[None] | None = None
        self._sessions: dict[str, Session] = {}
        store.listeners.append(self.refresh)  # a new CSMS root is trusted at the next handshake

    # -- wiring ------------------------------------------------------------------------------

    def attach(self, client: StationClient[Any, Any]) -> None:
        """``client``: the client whose TLS context switches and through which security events go."""
        self.client = client

    def tls_context(self, version: OcppVersion, *, profile: int = 3) -> RenewableContext:
        """The client's TLS context (``tls.client_context``) over the store: the installed CSMS
        roots (A00.FR.411), and in profile 3 the station's certificate in use (A00.FR.401).
        A candidate left over by a restart before it was confirmed is discarded.

        Args:
            version: The OCPP version (``"1.6"``, ``"2.0.1"``, ``"2.1"``).
            profile: 2 (no client certificate) or 3.
        """
        if profile not in (2, 3):
            raise ValueError(f"security profile {profile!r} does not use TLS; profiles 2 and 3 do")
        self._version = version
        self._profile = profile
        self.store.discard_candidate(STATION_CERTIFICATE)
        self.context = RenewableContext(self._build(candidate=False))
        return self.context

    def _build(self, *, candidate: bool) -> ssl.SSLContext:
        version = self._version
        roots = self.store.trusted_pem(CSMS_ROOT) or None
        if self._profile == 3:
            chain = self.store.certificate_chain(STATION_CERTIFICATE, candidate=candidate)
            return client_context(3, version, csms_ca_data=roots, certificate=chain)
        return client_context(2, version, csms_ca_data=roots)

    def refresh(self) -> None:
        """Rebuild the TLS context from the store (e.g. after a new CSMS root was installed)."""
        if self.context is None:
            return
        try:
            self.context.use(self._build(candidate=False))
        except (ValueError, OSError, ssl.SSLError) as exc:  # e.g. the last CSMS root was deleted
            log.warning("the station's TLS context was not rebuilt: %s", exc)

    def due_for_renewal(self, now: datetime.datetime | None = None, *, margin: datetime.timedelta = datetime.timedelta(days=30)) -> bool:
        """A03.FR.02: the certificate in use expires within ``margin`` (a month) of ``now``
        (None: the store's clock), or there is none."""
        pem = self.store.chain_pem(STATION_CERTIFICATE)
        if pem is None:
            return True
        x509._need_cryptography()
        from cryptography import x509 as cx  # type: ignore[import-not-found, unused-ignore]

        leaf = cx.load_pem_x509_certificate(pem.encode("ascii"))
        return bool(leaf.not_valid_after_utc - margin <= (now or self.clock()))

    # -- SignCertificate ---------------------------------------------------------------------

    def on_trigger(self, request: object, context: CallContext[Any]) -> bool:
        """If ``request`` (TriggerMessage, 1.6 ExtendedTriggerMessage) asks for a CSR, schedule
        one after the answer (through ``context``, the handler's, A02.FR.02) and return True:
        the handler answers Accepted."""
        kind = _SIGN_TRIGGERS.get(_value(getattr(request, "requested_message", "")))
        if kind is None:
            return False
        requested = _value(getattr(request, "requested_message", ""))
        session = context.session
        combined = requested == "SignCombinedCertificate"

        async def send() -> None:
            self._spawn(self.request_certificate(session, kind, combined=combined))

        context.after_response(send)
        return True

    async def request_certificate(
        self, session: Session, certificate_type: str = STATION_CERTIFICATE, *, combined: bool = False, timeout: float | None = None
    ) -> bool:
        """Make a new key and CSR and send SignCertificate over ``session``, waiting up to
        ``timeout`` seconds (A02.FR.02/03; A03 when the station
        starts it, e.g. when :meth:`due_for_renewal`). Returns whether the CSMS accepted it.
        On 2.x the request names ``certificate_type`` (A02.FR.13; omitted for a combined
        certificate, ``combined``: both station and V2G in one CSR, 2.1); on 2.1 it carries a
        new requestId (A02.FR.24)."""
        common_name = self.serial_number if certificate_type == STATION_CERTIFICATE else self.v2g_common_name or self.serial_number
        made = await asyncio.to_thread(
            x509.new_key_and_csr, common_name, self.organization, key_type=self.key_type, size=self.key_size
        )
        request_id = random.randrange(1, 2**31) if session.version == "2.1" else None
        self.store.save_pending(certificate_type, made.private_key, made.csr, request_id)
        accepted = await self._send_csr(session, certificate_type, made.csr, request_id, combined, timeout)
        if accepted and self.wait_minimum is not None and session.version != "1.6":
            retry = self.retries.setdefault(certificate_type, SigningRetry(self.wait_minimum, self.repeat_times))
            retry.accepted(asyncio.get_running_loop().time())
            self._sessions[certificate_type] = session
            self._ensure_retry_task()
        return accepted

    async def _send_csr(
        self, session: Session, certificate_type: str, csr: str, request_id: int | None, combined: bool, timeout: float | None
    ) -> bool:
        route = _routes(session, "SignCertificate")
        payload: dict[str, Any] = {"csr": csr}
        if session.version != "1.6" and not combined:
            payload["certificateType"] = certificate_type
        if request_id is not None:
            payload["requestId"] = request_id
        response = await session.call(route, route.request_codec.decode(msgspec.json.encode(payload)), timeout)
        status = _value(response.status)
        if status != "Accepted":
            log.warning("%s: SignCertificate %s", session.identity, status)
        return status == "Accepted"

    def _ensure_retry_task(self) -> None:
        self._wake.set()
        if self._retry_task is None or self._retry_task.done():
            self._retry_task = self._spawn(self._run_retries())

    async def _run_retries(self) -> None:
        """Drive the :class:`SigningRetry` timers: send the pending CSR again when one ends."""
        loop = asyncio.get_running_loop()
        while True:
            deadlines = [d for r in self.retries.values() if (d := r.next_deadline()) is not None]
            if not deadlines:
                return
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), max(0.0, min(deadlines) - loop.time()))
            except asyncio.TimeoutError:
                pass
            for certificate_type, retry in list(self.retries.items()):
                if not retry.handle_timeout(loop.time()):
                    continue
                pending = self.store.pending(certificate_type)
                session = self._sessions.get(certificate_type)
                if pending is None or session is None:
                    retry.received()
                    continue
                try:  # A02.FR.17: the same CSR again
                    await self._send_csr(session, certificate_type, pending[1], pending[2], False, None)
                except Exception as exc:
                    log.info("%s: SignCertificate not sent again: %s", session.identity, exc)

    def _spawn(self, coroutine: Awaitable[Any]) -> asyncio.Task[Any]:
        """Run work that must outlive the connection it started on (a switch reconnects)."""
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("certificate renewal work failed", exc_info=task.exception())

    # -- CertificateSigned -------------------------------------------------------------------

    def answer_certificate_signed(self, route: Route[Any, Res], request: object, context: CallContext[Any]) -> Res:
        """The CertificateSignedResponse: Accepted after :func:`certificates.validate_chain`
        passed (then the switch, A02.FR.08), Rejected otherwise (A02.FR.07, A02.FR.16, 2.1
        A02.FR.26: an unknown requestId).

        Args:
            route: The version's CertificateSigned route: it types the answer.
            request: The CertificateSigned request.
            context: The handler's context (the station's session).
        """
        version = context.ocpp_version
        kind_value = getattr(request, "certificate_type", None)
        kind = STATION_CERTIFICATE if kind_value is None or kind_value is msgspec.UNSET else _value(kind_value)
        chain = str(getattr(request, "certificate_chain"))
        request_id = getattr(request, "request_id", None)
        retry = self.retries.get(kind)
        pending = self.store.pending(kind) if kind in _OWN_TYPES else None
        if pending is None:
            return self._reject(route, context, kind, "InvalidCertificate", "no CSR of this station awaits a certificate of this type")
        key, _, pending_id = pending
        if isinstance(request_id, int) and request_id != pending_id:  # 2.1 A02.FR.26
            return self._reject(route, context, kind, "InvalidValue", f"unknown requestId {request_id} (A02.FR.26)", event=False)
        if retry is not None:
            retry.received()  # A02.FR.20 after a rejection; nothing more to wait for after an acceptance
        future_ok = self.allow_not_yet_valid if self.allow_not_yet_valid is not None else version == "1.6"
        try:
            validated = x509.validate_chain(
                chain,
                roots=x509.der_certificates(self.store.trusted_pem(_ROOT_FOR[kind])),
                now=self.clock(),
                common_name=self.serial_number if kind == STATION_CERTIFICATE else None,
                organization=self.organization if kind == STATION_CERTIFICATE else None,
                public_key=_public_key(key),
                max_size=self.max_chain_size,
                allow_not_yet_valid=future_ok,
            )
        except x509.InvalidCertificate as exc:  # A02.FR.07: Rejected, discarded, reported
            code = "TooLargeElement" if "A02.FR.16" in exc.reason else "InvalidCertificate"
            return self._reject(route, context, kind, code, exc.reason)
        self.store.accept_candidate(kind, validated.chain_pem, key)
        log.info("%s: new %s accepted (serial %s)", context.station_id, kind, validated.serial_number)

        async def switch() -> None:
            self._spawn(self._switch(kind, validated))

        context.after_response(switch)
        return _response(route, _status("Accepted"))

    def _reject(self, route: Route[Any, Res], context: CallContext[Any], kind: str, code: str, reason: str, *, event: bool = True) -> Res:
        log.warning("%s: CertificateSigned rejected: %s", context.station_id, reason)
        if event:
            v16 = context.ocpp_version == "1.6"
            name = "InvalidChargePointCertificate" if v16 else "InvalidChargingStationCertificate"
            self._report(name, f"{kind}: {reason}", critical=not v16)
        return _response(route, _status("Rejected", code, reason))

    async def _switch(self, kind: str, validated: x509.ValidatedChain) -> None:
        """A02.FR.08: use the new certificate; confirm it (A02.FR.10) or fall back (A02.FR.28)."""
        delay = (validated.not_before - self.clock()).total_seconds()
        if delay > 0:  # 1.6 A02.FR.08: as soon as the time is after 'Not valid before'
            await asyncio.sleep(delay)
        client, context = self.client, self.context
        if kind != STATION_CERTIFICATE or client is None or context is None or self._profile != 3:
            self.store.promote(kind)  # nothing on the OCPP link uses it yet: it is in use at once
            return
        old = client.current
        context.use(self._build(candidate=True))
        if old is not None and not old.closed:
            old.close_reason = "reconnecting with the new certificate (A02.FR.08)"
            await old.close(1000, "new certificate")
        loop = asyncio.get_running_loop()
        end = loop.time() + self.confirm_timeout
        while loop.time() < end:
            current = client.current
            if current is not None and current is not old and not current.closed:
                self.store.promote(kind)  # A02.FR.10: discard the one not in use
                self.refresh()
                log.info("%s: connected with the new certificate", client.station_id)
                return
            await asyncio.sleep(0.05)
        self.store.discard_candidate(kind)  # A02.FR.28: back to the old certificate
        self.refresh()
        log.warning("%s: the new certificate did not connect within %s s; back to the old one", client.station_id, self.confirm_timeout)
        if client.binding.version != "1.6":
            self._report("DiscardedRenewedClientCertificate", "no connection with the renewed certificate (A02.FR.29)", critical=True)

    def _report(self, kind: str, detail: str, *, critical: bool) -> None:
        """Send SecurityEventNotification: critical ones through the client's durable queue
        when it has one (A04.FR.02), others (and critical ones without a queue) once the
        station is connected and registered. Unlike ``StationClient.security_event``, every
        event is sent: each rejected certificate is an event of its own."""
        client = self.client
        if client is None or not client.options.security_events:
            log.info("security event %s: %s", kind, detail)
            return
        route = client.binding.routes.get("SecurityEventNotification")
        if route is None:
            return
        now = datetime.datetime.now(datetime.timezone.utc).isoformat()
        request = route.request_codec.decode(msgspec.json.encode({"type": kind, "timestamp": now, "techInfo": detail[:255]}))
        if critical and client.sender is not None:
            client.sender.submit(route, request)
            return
        session = client.session
        station = client

        async def send() -> None:  # once connected and registered (a switch may be reconnecting)
            loop = asyncio.get_running_loop()
            end = loop.time() + 600.0
            while station.current is None or not station.registered:
                if loop.time() > end:
                    log.info("%s: SecurityEventNotification %s dropped: not connected", session.identity, kind)
                    return
                await asyncio.sleep(0.05)
            try:
                await session.call(route, request, None)
            except Exception as exc:
                log.info("%s: SecurityEventNotification %s not delivered: %s", session.identity, kind, exc)

        self._spawn(send())


def _public_key(private_key: bytes) -> bytes:
    """The SubjectPublicKeyInfo DER of a private key (what the certificate must certify)."""
    x509._need_cryptography()
    from cryptography.hazmat.primitives import serialization  # type: ignore[import-not-found, unused-ignore]

    key = x509._load_key(private_key)
    spki: bytes = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return spki
