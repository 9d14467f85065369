"""``ocppgen validate``: check a captured OCPP-J exchange, frame by frame and CALL by CALL.

What is checked (each finding names the section it comes from):

- framing (OCPP-J 1.6 / Part 4 section 4.1.2, 4.2.x): valid JSON, an array of the type's
  number of elements, string message id and action, object payload and errorDetails;
- message type (4.1.3): one the version defines (5 and 6 are 2.1 only);
- message id (4.1.4): at most 36 characters; a CALL's (or SEND's) id not used before by the
  same sender for the same station (any connection: 1.6 errata 2025-04, 2.0.1, 2.1); a retry
  with the same id is allowed on 1.6 and 2.1, not on 2.0.1;
- action (2.x Part 4 4.1.6/4.1.7; 1.6 section 4.2.1): known to the version, sent by a side that
  may send it (1.6 chapters 4/5, 2.x Part 2), CALL or SEND as the action travels (2.1 4.2.4);
- payloads, strictly, with the generated decoders: requests against the action's request type,
  CALLRESULTs against the response type of the CALL they answer (correlated by message id, per
  station); every violation with its JSON path; what lenient mode would tolerate is marked;
- replies (4.1.4, 4.2.2, 4.2.3): a CALLRESULT/CALLERROR answers a CALL of the other side, once;
  a SEND is never answered; a CALLRESULTERROR answers a CALLRESULT; error codes from the
  version's table (1.6 4.2.3, 2.x 4.3), errorDescription at most 255 characters (2.x);
- synchronicity (4.1.1): a CALL sent while the sender's previous CALL is unanswered (a warning:
  the earlier CALL may have timed out, which a capture does not show); CALLs never answered.

Values the runtime's frame log redacted (``"***"`` where ``routing.REDACTION`` blanks a
secret) are recognised and not reported. The report is :class:`Report`; ``--format json``
prints it as JSON (its schema: docs/validate.md).
"""

from __future__ import annotations

import base64
import binascii
import importlib
import json
from collections import Counter
from dataclasses import dataclass, replace
from typing import Literal

import msgspec

from .capture import Capture, Record, Sender, other
from .generated.runtime import frames as fr
from .generated.runtime.codes import CODES
from .generated.runtime.routing import Role, Route
from .generated.runtime.security import REDACTED, Redaction
from .payload_check import PayloadIssue, check_payload

__all__ = ["Finding", "Kind", "Report", "Severity", "Summary", "render_text", "validate"]

Severity = Literal["violation", "warning"]
Kind = Literal[
    "framing", "message_type", "message_id", "duplicate_id", "unknown_action", "wrong_direction", "wrong_message_type",
    "schema", "datetime", "signature", "error_code", "unmatched_result", "answered_send", "unanswered_call",
    "concurrent_call", "both_sides_logged", "logged_by_unknown", "unreadable_record",
]
"""Every kind of finding (docs/validate.md has the table: what each means, which rule)."""
FrameType = Literal["CALL", "CALLRESULT", "CALLERROR", "CALLRESULTERROR", "SEND"]
_TYPE_NAMES: dict[int, FrameType] = {
    fr.CALL: "CALL", fr.CALLRESULT: "CALLRESULT", fr.CALLERROR: "CALLERROR", fr.CALLRESULTERROR: "CALLRESULTERROR", fr.SEND: "SEND",
}
_MODULES = {"1.6": "v16", "2.0.1": "v201", "2.1": "v21"}
_ROLE_OF: dict[Sender, Role] = {"station": Role.CHARGING_STATION, "csms": Role.CSMS}
_SENDER_OF: dict[Role, Sender] = {Role.CHARGING_STATION: "station", Role.CSMS: "csms"}
SIGNED_SUFFIX = "-Signed"
# OCPP-J 1.6 section 4.2.3 prints "OccurrenceConstraintViolation" in its table, OCA's JSON
# and most implementations spell it "OccurenceConstraintViolation": both are accepted.
_EXTRA_CODES = {"1.6": frozenset({"OccurrenceConstraintViolation"})}


class Finding(msgspec.Struct, frozen=True, kw_only=True):
    """One violation (the capture breaks a rule) or warning (a SHOULD, or something a capture
    cannot decide). ``lenient``: the repair kind under which the runtime's lenient mode
    accepts it (None: lenient mode rejects it too)."""

    severity: Severity
    kind: Kind
    line: int | None
    detail: str
    spec: str
    station: str | None = None
    message_id: str | None = None
    action: str | None = None
    frame_type: FrameType | None = None
    sender: Sender | None = None
    path: str | None = None
    lenient: str | None = None


class Summary(msgspec.Struct, frozen=True, kw_only=True):
    """Counts over the whole capture."""

    frames: int
    by_type: dict[str, int]
    stations: int
    sender_unknown: int
    calls: int
    answered: int
    unanswered: int
    redacted: int
    violations: int
    warnings: int
    violations_by_kind: dict[str, int]
    warnings_by_kind: dict[str, int]


class Report(msgspec.Struct, frozen=True, kw_only=True):
    """What ``ocppgen validate`` found (``--format json`` prints this; ``report`` is the
    version of this layout)."""

    report: int
    source: str
    ocpp: str
    input: str
    logged_by: Sender | None
    lenient: bool
    partial: bool
    findings: list[Finding]
    summary: Summary
    exit_code: int


def _spec(version: str, what: str) -> str:
    """The section a rule comes from, in ``version``'s documents."""
    if version == "1.6":
        sections = {
            "json": "4.1.2", "type": "4.1.3", "id": "4.1.4", "call": "4.2.1", "result": "4.2.2", "error": "4.2.3",
            "codes": "4.2.3", "sync": "4.1.1", "action": "4.2.1",
        }
        if what == "payload":
            return "OCPP 1.6 JSON schemas (OCPP-J 1.6 section 4.2.3)"
        if what == "direction":
            return "OCPP 1.6 chapters 4 and 5 (operations initiated by the Charge Point / the Central System)"
        if what == "datetime":
            return "RFC 3339 section 5.6 (schemas: format date-time)"
        return f"OCPP-J 1.6 section {sections.get(what, '4')}"
    sections = {
        "json": "4.1.2", "type": "4.1.3", "id": "4.1.4", "call": "4.2.1", "result": "4.2.2", "error": "4.2.3",
        "codes": "4.3", "sync": "4.1.1", "action": "4.1.6, 4.1.7", "send": "4.2.4", "payload": "4.1.7", "json_payload": "4.1.5",
    }
    if what == "direction":
        return f"OCPP {version} Part 2 (the messages chapter names the sender of each request)"
    if what == "datetime":
        return f"OCPP {version} Part 2 section 3.1 / RFC 3339 section 5.6 (schemas: format date-time)"
    if what == "payload":
        return f"OCPP {version} Part 4 section 4.1.7 and the Part 3 JSON schemas"
    return f"OCPP {version} Part 4 section {sections.get(what, '4')}"


@dataclass
class _Call:
    line: int
    action: str
    route: Route[object, object] | None
    sender: Sender | None
    signed: bool
    guess: Sender | None = None


class _Checker:
    """The state of one validation run: pending CALLs, used ids, counts, findings."""

    def __init__(self, version: str, *, lenient: bool, partial: bool) -> None:
        routing = importlib.import_module(f"ocppgen.generated.{_MODULES[version]}.routing")
        self.version = version
        self.routes: dict[str, Route[object, object]] = dict(routing.ROUTES)
        self.redaction: Redaction = routing.REDACTION
        self.lenient = lenient
        self.partial = partial
        self.types = fr.message_types(version)
        self.findings: list[Finding] = []
        self.pending: dict[tuple[str | None, Sender | None], dict[str, _Call]] = {}
        self.answered: dict[tuple[str | None, Sender | None], dict[str, tuple[int, str]]] = {}
        self.used: dict[tuple[str | None, Sender | None], dict[str, tuple[int, str, int]]] = {}
        # the same CALLs as ``pending``, by the side that sent them (known or guessed), oldest first
        self.unanswered: dict[tuple[str | None, Sender], dict[str, _Call]] = {}
        self.sends: dict[tuple[str | None, Sender | None], dict[str, int]] = {}
        self.unreadable: set[str | None] = set()
        self.by_type: Counter[str] = Counter()
        self.stations: set[str | None] = set()
        self.calls = 0
        self.answered_count = 0
        self.redacted = 0

    # -- findings -------------------------------------------------------------------------

    def add(self, severity: Severity, kind: Kind, record: Record | None, detail: str, spec: str, **where: object) -> None:
        line = where.pop("line", record.line if record is not None else None)
        station = record.station if record is not None else where.pop("station", None)
        self.findings.append(
            msgspec.convert(
                {"severity": severity, "kind": kind, "line": line, "detail": detail, "spec": spec, "station": station,
                 **{k: v for k, v in where.items() if v is not None}},
                Finding,
            )
        )

    def payload_findings(
        self, record: Record, issues: list[PayloadIssue], incomplete: bool, *, mid: str, action: str, frame_type: FrameType,
        sender: Sender | None,
    ) -> None:
        for n, issue in enumerate(issues, 1):
            tolerated = issue.lenient is not None
            detail = issue.detail
            if incomplete and n == len(issues):
                detail += " (the rest of this payload was not checked)"
            kind: Kind = "datetime" if issue.lenient in ("datetime_syntax", "timestamp_without_offset") else "schema"
            self.add(
                "warning" if tolerated and self.lenient else "violation", kind, record, detail,
                _spec(self.version, "datetime" if kind == "datetime" else "payload"),
                message_id=mid, action=action, frame_type=frame_type, sender=sender, path=issue.path, lenient=issue.lenient,
            )

    def check(
        self, record: Record, codec_route: Route[object, object], data: bytes, *, response: bool, mid: str, action: str,
        frame_type: FrameType, sender: Sender | None,
    ) -> None:
        codec = codec_route.response_codec if response else codec_route.request_codec
        if codec is None:
            return
        where: dict[str, object] = {"message_id": mid, "action": action, "frame_type": frame_type, "sender": sender, "path": "$"}
        spec = "json_payload" if self.version != "1.6" else "result" if frame_type == "CALLRESULT" else "call"
        if data.strip() == b"null":
            try:
                codec.decode(b"{}")
            except msgspec.ValidationError:
                self.add("violation", "framing", record, "the payload is null, and this message has required fields",
                         _spec(self.version, spec), **where)
            else:
                self.add("warning", "framing", record, "the payload is null: only {} is good practice for an empty payload",
                         _spec(self.version, spec), **where)
            return
        if not data.lstrip().startswith(b"{"):
            self.add("violation", "framing", record, "the payload must be a JSON object",
                     _spec(self.version, {"CALLRESULT": "result", "SEND": "send"}.get(frame_type, "call")), **where)
            return
        result = check_payload(codec, data, redaction=self.redaction, action=None if response else action)
        self.redacted += result.redacted
        self.payload_findings(record, result.issues, result.incomplete, mid=mid, action=action, frame_type=frame_type, sender=sender)

    # -- frames ---------------------------------------------------------------------------

    def frame(self, record: Record) -> None:
        self.stations.add(record.station)
        frame = fr.decode_frame(record.text)
        if frame is None:
            self.malformed(record)
            return
        kind = fr.type_of(frame)
        name = _TYPE_NAMES[kind]
        self.by_type[name] += 1
        if kind not in self.types:
            self.add("violation", "message_type", record, f"message type {kind} ({name}) is not defined in OCPP {self.version}",
                     _spec(self.version, "type"), message_id=frame.message_id, frame_type=name, sender=record.sender)
            return
        if isinstance(frame, (fr.Call, fr.Send)):
            self.call(record, frame)
        elif isinstance(frame, fr.CallResult):
            self.reply(record, frame.message_id, "CALLRESULT", bytes(frame.payload))
        elif isinstance(frame, fr.CallErrorFrame):
            self.error(record, frame.message_id, "CALLERROR", frame.code, frame.description)
        else:
            self.error(record, frame.message_id, "CALLRESULTERROR", frame.code, frame.description)

    def malformed(self, record: Record) -> None:
        problem = fr.diagnose(record.text, self.version)
        name = _TYPE_NAMES.get(problem.message_type or 0)
        if name is not None:
            self.by_type[name] += 1
        else:
            self.by_type["unreadable"] += 1
        if problem.message_id is None:
            self.unreadable.add(record.station)
        kind: Kind
        if problem.kind == "unknown_type":
            kind, spec = "message_type", "type"
        elif "message id" in problem.detail:
            kind, spec = "message_id", "id"
        elif problem.kind == "rpc" and problem.detail.startswith("not valid JSON"):
            kind, spec = "framing", "json"
        else:
            kind = "framing"
            spec = {2: "call", 6: "send", 3: "result"}.get(problem.message_type or 0, "error" if problem.message_type else "json")
        self.add("violation", kind, record, problem.detail, _spec(self.version, spec),
                 message_id=problem.message_id, frame_type=name, sender=record.sender)

    def call(self, record: Record, frame: fr.Call | fr.Send) -> None:
        mid, action = frame.message_id, frame.action
        name: FrameType = "SEND" if isinstance(frame, fr.Send) else "CALL"
        base, signed = action, False
        if action.endswith(SIGNED_SUFFIX) and self.version != "1.6" and action[: -len(SIGNED_SUFFIX)] in self.routes:
            base, signed = action[: -len(SIGNED_SUFFIX)], True
        route = self.routes.get(base)
        sender = record.sender
        guess: Sender | None = None
        if sender is None and route is not None and len(route.initiators) == 1:
            # the only side that may send it; kept apart from a known sender, so that an
            # answer from a known side can still show the CALL came from the wrong one
            guess = record.sender = _SENDER_OF[next(iter(route.initiators))]
        where: dict[str, object] = {"message_id": mid, "action": action, "frame_type": name, "sender": sender or guess}
        if name == "CALL":
            self.calls += 1
        if route is None:
            self.add("violation", "unknown_action", record, self.unknown_action(action), _spec(self.version, "action"), **where)
        else:
            if name == "SEND" and not route.send:
                self.add("violation", "wrong_message_type", record, f"{base} is a CALL action (it has a response), sent as SEND",
                         _spec(self.version, "send"), **where)
            elif name == "CALL" and route.send:
                self.add("violation", "wrong_message_type", record, f"{base} travels as SEND (no response), not as CALL",
                         _spec(self.version, "send"), **where)
            if sender is not None:
                self.direction(record, route, sender, where)
            payload = bytes(frame.payload)
            if signed:
                unwrapped = self.unsigned(record, payload, base, mid, where)
                if unwrapped is not None:
                    self.check(record, route, unwrapped, response=False, mid=mid, action=base, frame_type=name, sender=sender or guess)
            else:
                self.check(record, route, payload, response=False, mid=mid, action=base, frame_type=name, sender=sender or guess)
        key = (record.station, sender)
        used = self.used.setdefault((record.station, sender or guess), {})
        digest = hash(bytes(frame.payload))
        if mid in used:
            line, first_action, first_digest = used[mid]
            # a retry (the same CALL again, its answer not received in time; an answer that was
            # sent may still have been lost) MAY keep its id on 1.6 (errata 2025-04) and 2.1
            retry = first_action == action and first_digest == digest
            if not retry or self.version == "2.0.1":
                why = " (2.0.1 Part 4 section 4.1.4: this also applies to retries)" if retry else ""
                self.add("violation", "duplicate_id", record,
                         f"message id {mid!r} was used by the same sender on line {line} ({first_action}){why}",
                         _spec(self.version, "id"), **where)
        used[mid] = (record.line, action, digest)
        if name == "SEND":
            self.sends.setdefault((record.station, sender or guess), {})[mid] = record.line
            return
        pending = self.pending.setdefault(key, {})
        effective = sender or guess
        call = _Call(record.line, base, route, sender, signed, guess)
        if effective is not None:  # the same side's earlier CALL, known or guessed
            unanswered = self.unanswered.setdefault((record.station, effective), {})
            earlier = next((item for item in unanswered.items() if item[0] != mid), None)
            if earlier is not None:
                self.add("warning", "concurrent_call", record,
                         f"sent while the CALL {earlier[0]!r} of line {earlier[1].line} ({earlier[1].action}) was unanswered: "
                         "allowed only once that CALL timed out",
                         _spec(self.version, "sync"), **where)
            unanswered[mid] = call
        pending[mid] = call

    def unknown_action(self, action: str) -> str:
        detail = f"{action!r} is not an action of OCPP {self.version}"
        folded = {a.casefold(): a for a in self.routes}
        if action.endswith("Request") and action[: -len("Request")] in self.routes:
            return f"{detail}: the action is the message name without the \"Request\" suffix ({action[: -len('Request')]})"
        if action.casefold() in folded:
            return f"{detail}: actions are case-sensitive ({folded[action.casefold()]})"
        return detail

    def direction(self, record: Record, route: Route[object, object], sender: Sender, where: dict[str, object]) -> None:
        if _ROLE_OF[sender] in route.initiators:
            return
        who = "the CSMS" if sender == "csms" else "the charging station"
        self.add("violation", "wrong_direction", record,
                 f"{route.action} is sent only by {'the CSMS' if sender == 'station' else 'the charging station'}, not by {who}",
                 _spec(self.version, "direction"), line=where.get("line", record.line),
                 **{k: v for k, v in where.items() if k != "line"})

    def unsigned(self, record: Record, payload: bytes, action: str, mid: str, where: dict[str, object]) -> bytes | None:
        """The ordinary payload of a signed message (Part 4 chapter 7; the signature is not
        verified: that needs the signer's certificate), or None."""
        try:
            jws = msgspec.json.decode(payload)
        except (msgspec.DecodeError, RecursionError):
            jws = None
        problem = None
        if not isinstance(jws, dict) or not all(isinstance(jws.get(k), str) for k in ("protected", "payload", "signature")):
            problem = "a signed message's payload is a Flattened JWS object (protected, payload, signature)"
        elif jws["payload"] == REDACTED:
            self.redacted += 1
            return None
        else:
            try:
                header = json.loads(_b64(jws["protected"]))
                inner = _b64(jws["payload"])
            except (ValueError, binascii.Error, RecursionError):
                header, inner = None, b""
            if not isinstance(header, dict):
                problem = "the JWS protected header or payload is not base64url-encoded JSON"
            elif header.get("OCPPAction") not in (None, action) or header.get("OCPPMessageTypedId") not in (None, mid):
                problem = "the JWS protected header names another action or message id than the frame"
            else:
                return inner
        self.add("violation", "signature", record, problem, f"OCPP {self.version} Part 4 section 7.1", **where)
        return None

    # -- replies --------------------------------------------------------------------------

    def find_call(self, record: Record, mid: str) -> tuple[tuple[str | None, Sender | None], _Call] | None:
        sender = record.sender
        keys: list[tuple[str | None, Sender | None]] = (
            [(record.station, other(sender)), (record.station, None)] if sender is not None
            else [(record.station, "station"), (record.station, "csms"), (record.station, None)]
        )
        for key in keys:
            found = self.pending.get(key, {}).pop(mid, None)
            if found is not None:
                effective = found.sender or found.guess
                if effective is not None:
                    self.unanswered.get((record.station, effective), {}).pop(mid, None)
                return key, found
        return None

    def reply(self, record: Record, mid: str, name: FrameType, payload: bytes | None) -> _Call | None:
        """Correlate a CALLRESULT or CALLERROR with its CALL; validate a CALLRESULT's payload."""
        sender = record.sender
        where: dict[str, object] = {"message_id": mid, "frame_type": name, "sender": sender}
        found = self.find_call(record, mid)
        if found is None:
            self.unmatched(record, mid, name, where)
            return None
        key, call = found
        self.answered_count += 1
        if call.sender is None and sender is not None:
            call.sender = other(sender)
            if call.route is not None:
                self.direction(record, call.route, call.sender, {"line": call.line, "message_id": mid, "action": call.action,
                                                                   "frame_type": "CALL", "sender": call.sender})
        caller = call.sender or call.guess
        if sender is None and caller is not None:
            record.sender = sender = other(caller)
        self.answered.setdefault((record.station, caller), {})[mid] = (record.line, call.action)
        if payload is not None and call.route is not None:
            if call.signed and _is_jws(payload):
                payload = self.unsigned(record, payload, call.action, mid, {**where, "action": call.action})
            if payload is not None:
                self.check(record, call.route, payload, response=True, mid=mid, action=call.action, frame_type=name, sender=sender)
        return call

    def unmatched(self, record: Record, mid: str, name: FrameType, where: dict[str, object]) -> None:
        sender = record.sender
        severity: Severity = "violation"
        spec = _spec(self.version, "id")
        senders: list[Sender | None] = [other(sender), None] if sender is not None else ["station", "csms", None]
        sent = next((self.sends[(record.station, s)][mid] for s in senders if mid in self.sends.get((record.station, s), {})), None)
        answered = next((self.answered[(record.station, s)][mid] for s in senders if mid in self.answered.get((record.station, s), {})), None)
        own = self.unanswered.get((record.station, sender), {}).get(mid) if sender is not None else None
        kind: Kind
        if sent is not None:
            kind, detail, spec = "answered_send", f"answers the SEND of line {sent}: a SEND is never answered", _spec(self.version, "send")
        elif own is not None:
            kind, detail = "unmatched_result", f"answers the CALL of line {own.line} ({own.action}), which its own side sent"
        elif answered is not None:
            kind, detail = "unmatched_result", f"a second answer to the CALL answered on line {answered[0]} ({answered[1]})"
            where["action"] = answered[1]
        elif mid == "-1" and name == "CALLERROR":
            if record.station in self.unreadable:
                return  # answers a frame whose id could not be read (Part 4 section 4.2.3)
            kind, detail = "unmatched_result", "message id \"-1\" (an unreadable message's), but no unreadable frame preceded it"
        else:
            kind, detail = "unmatched_result", f"no CALL with message id {mid!r} in the capture"
            if self.partial:
                severity = "warning"
        self.add(severity, kind, record, detail, spec, **where)

    def error(self, record: Record, mid: str, name: FrameType, code: str, description: str) -> None:
        action = self.result_error(record, mid) if name == "CALLRESULTERROR" else None
        if name == "CALLERROR":
            call = self.reply(record, mid, name, None)
            action = call.action if call is not None else None
        where: dict[str, object] = {"message_id": mid, "action": action, "frame_type": name, "sender": record.sender}
        if len(mid) > fr.MAX_ID_LENGTH:
            self.add("violation", "message_id", record, f"the message id is longer than {fr.MAX_ID_LENGTH} characters",
                     _spec(self.version, "id"), **where)
        if code not in CODES[self.version] | _EXTRA_CODES.get(self.version, frozenset()):
            self.add("violation", "error_code", record,
                     f"{code!r} is not an error code of OCPP {self.version} ({', '.join(sorted(CODES[self.version]))})",
                     _spec(self.version, "codes"), **where)
        if self.version != "1.6" and len(description) > 255:
            self.add("violation", "framing", record, f"errorDescription has {len(description)} characters; at most 255",
                     _spec(self.version, "error"), **where)

    def result_error(self, record: Record, mid: str) -> str | None:
        """A 2.1 CALLRESULTERROR: sent by a CALL's sender about the CALLRESULT it received.
        Returns the CALL's action."""
        sender = record.sender
        senders: list[Sender | None] = [sender, None] if sender is not None else ["station", "csms", None]
        for s in senders:
            found = self.answered.get((record.station, s), {}).pop(mid, None)
            if found is not None:
                if record.sender is None:
                    record.sender = s
                return found[1]
        self.add("violation", "unmatched_result", record, f"no CALLRESULT with message id {mid!r} for it to answer",
                 _spec(self.version, "id"), message_id=mid, frame_type="CALLRESULTERROR", sender=sender)
        return None

    def finish(self) -> None:
        for (station, sender), calls in self.pending.items():
            for mid, call in calls.items():
                self.add("warning" if self.partial else "violation", "unanswered_call", None,
                         "no CALLRESULT or CALLERROR for this CALL in the capture",
                         _spec(self.version, "result"), line=call.line, station=station, message_id=mid, action=call.action,
                         frame_type="CALL", sender=sender)


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _is_jws(payload: bytes) -> bool:
    try:
        obj = msgspec.json.decode(payload)
    except (msgspec.DecodeError, RecursionError):
        return False
    return isinstance(obj, dict) and set(obj) >= {"protected", "payload", "signature"}


def _logged_by(capture: Capture, routes: dict[str, Route[object, object]]) -> Sender | None:
    """Which side wrote a capture with relative directions, from the CALLs only one side sends."""
    votes: Counter[Sender] = Counter()
    for record in capture.records:
        if record.relative is None:
            continue
        frame = fr.decode_frame(record.text)
        if not isinstance(frame, (fr.Call, fr.Send)):
            continue
        route = routes.get(frame.action.removesuffix(SIGNED_SUFFIX))
        if route is None or len(route.initiators) != 1:
            continue
        initiator = _SENDER_OF[next(iter(route.initiators))]
        votes[initiator if record.relative == "out" else other(initiator)] += 1
    ranked = votes.most_common()
    if not ranked or (len(ranked) > 1 and ranked[0][1] == ranked[1][1]):
        return None
    return ranked[0][0]


def _drop_mirrors(capture: Capture) -> int:
    """When both sides of a link logged into one capture, every frame is there twice: sent
    (``>``) by one side, then received (``<``) by the other. If most frames are such pairs,
    keep the sent copy, forget the relative directions (they name no side), and return how
    many copies were dropped; else change nothing and return 0."""
    relative = [r for r in capture.records if r.relative is not None]
    if len(relative) < 2:
        return 0
    outstanding: dict[tuple[str | None, str], int] = {}
    mirrors: set[int] = set()
    for index, record in enumerate(capture.records):
        if record.relative is None:
            continue
        key = (record.station, record.text)
        if record.relative == "out":
            outstanding[key] = outstanding.get(key, 0) + 1
        elif outstanding.get(key):
            outstanding[key] -= 1
            mirrors.add(index)
    if len(mirrors) * 5 < len(relative) * 2:  # fewer than 40% of the frames: chance, not a pattern
        return 0
    capture.records = [r for i, r in enumerate(capture.records) if i not in mirrors]
    for record in capture.records:
        record.relative = None
    return len(mirrors)


def validate(
    capture: Capture, version: str, *, source: str, lenient: bool = False, partial: bool = False,
    logged_by: Sender | None = None,
) -> Report:
    """Check every frame of ``capture`` as OCPP ``version`` (1.6, 2.0.1, 2.1). ``capture``
    is left as it is (the senders worked out are set on copies of its records)."""
    capture = Capture([replace(r) for r in capture.records], capture.input_format, capture.logged_by, list(capture.skipped))
    checker = _Checker(version, lenient=lenient, partial=partial)
    mirrored = _drop_mirrors(capture) if logged_by is None else 0
    if mirrored:
        checker.add("warning", "both_sides_logged", None,
                    f"the capture holds both sides' logs ({mirrored} frames appear once sent and once received): each frame "
                    "is checked once, its sender taken from its action and its answers", "docs/validate.md (input formats)",
                    line=None)
    if any(r.relative is not None for r in capture.records):
        logged_by = logged_by or _logged_by(capture, checker.routes)
        if logged_by is not None:
            for record in capture.records:
                if record.relative is not None and record.sender is None:
                    record.sender = logged_by if record.relative == "out" else other(logged_by)
        if logged_by is None:
            checker.add("warning", "logged_by_unknown", None,
                        "which side wrote this capture (its '>' frames) cannot be told from its one-sided actions: "
                        "give --logged-by csms|station to check directions", "docs/validate.md (input formats)", line=None)
    else:
        logged_by = None
    for line, why in capture.skipped:
        checker.add("warning", "unreadable_record", None, why, "docs/validate.md (input formats)", line=line)
    for record in capture.records:
        checker.frame(record)
    checker.finish()
    findings = sorted(checker.findings, key=lambda f: (f.line or 0, f.severity != "violation"))
    violations = Counter(f.kind for f in findings if f.severity == "violation")
    warnings = Counter(f.kind for f in findings if f.severity == "warning")
    summary = Summary(
        frames=len(capture.records),
        by_type=dict(sorted(checker.by_type.items())),
        stations=len(checker.stations),
        sender_unknown=sum(1 for r in capture.records if r.sender is None),
        calls=checker.calls,
        answered=checker.answered_count,
        unanswered=sum(len(p) for p in checker.pending.values()),
        redacted=checker.redacted,
        violations=sum(violations.values()),
        warnings=sum(warnings.values()),
        violations_by_kind=dict(sorted(violations.items())),
        warnings_by_kind=dict(sorted(warnings.items())),
    )
    return Report(
        report=1, source=source, ocpp=version, input=capture.input_format, logged_by=logged_by, lenient=lenient,
        partial=partial, findings=findings, summary=summary, exit_code=1 if violations else 0,
    )


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{kind} {n}" for kind, n in counts.items())


def render_text(report: Report) -> str:
    """The report for a terminal: one line per finding, then the summary."""
    out = []
    for f in report.findings:
        subject = " ".join(
            part for part in (
                f"[{f.station}]" if f.station else "",
                f.frame_type or "",
                repr(f.message_id) if f.message_id is not None else "",
                f.action or "",
                {"csms": "from the CSMS", "station": "from the station"}.get(f.sender or "", ""),
                f.path or "",
            ) if part
        )
        line = f"{report.source}:{f.line if f.line is not None else '-'}: {f.severity}: {f.kind}: "
        line += f"{subject}: " if subject else ""
        line += f"{f.detail} [{f.spec}]"
        if f.lenient is not None:
            line += (
                f" (tolerated by lenient mode: {f.lenient})" if f.severity == "warning" else f" (lenient mode would tolerate it: {f.lenient})"
            )
        out.append(line)
    s = report.summary
    types = ", ".join(f"{n} {t}" for t, n in s.by_type.items())
    writer = {"csms": "the CSMS", "station": "the station"}.get(report.logged_by or "", "")
    out.append(
        f"ocppgen validate: {report.source}: OCPP {report.ocpp}, read as {report.input}"
        + (f" written by {writer}" if writer else "")
        + f"; {s.frames} frames ({types}) of {s.stations} station(s)"
        + (f", sender unknown for {s.sender_unknown}" if s.sender_unknown else "")
    )
    out.append(f"  CALLs: {s.calls}, answered {s.answered}, unanswered {s.unanswered}; redacted values recognised: {s.redacted}")
    out.append(f"  violations: {s.violations}" + (f" ({_counts(s.violations_by_kind)})" if s.violations else ""))
    out.append(f"  warnings: {s.warnings}" + (f" ({_counts(s.warnings_by_kind)})" if s.warnings else ""))
    return "\n".join(out)
