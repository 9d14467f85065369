"""The generated OCPP 1.6 configuration keys against 1.6 edition 2 chapter 9, the security
whitepaper's chapter 7 and OCPP-J 1.6 chapter 7 (when ../shared/spec is present)."""

from __future__ import annotations

import re

from ocppgen import configuration_v16
from ocppgen.generated.v16 import configuration as cfg
from tests import spec_tables as spec
from tests.conftest import require_shared_spec

CORE_16 = "ocpp16/ocpp-1.6 edition 2.md"
WHITEPAPER = "ocpp16/OCPP 1.6 security whitepaper edition 3.md"
OCPP_J = "ocpp16/ocpp-j-1.6-specification.md"
PROFILES = {"1": "Core", "2": "LocalAuthListManagement", "3": "Reservation", "4": "SmartCharging"}
# Keys whose heading the transcription spells with other capitals (1.6 keys are CiString50:
# compared without case); the generated spelling is the one 2.0.1's AuthCtrlr uses.
CASING = {"LocalAuthorizeOffline", "LocalPreAuthorize", "AuthorizeRemoteTxRequests"}


def _by_key() -> dict[str, cfg.ConfigurationKey]:
    return {k.key: k for k in cfg.CONFIGURATION_KEYS}


def test_counts_profiles_and_secrets() -> None:
    keys = cfg.CONFIGURATION_KEYS
    assert len(keys) == 50
    profiles = [k.profile for k in keys]
    assert [
        profiles.count(p) for p in ("Core", "LocalAuthListManagement", "Reservation", "SmartCharging", None)
    ] == [
        34,
        3,
        1,
        5,
        7,
    ]
    assert cfg.SECRET_KEYS == frozenset({"AuthorizationKey"}) == frozenset(configuration_v16.SECRETS)
    assert {k.key for k in keys if k.secret} == {"AuthorizationKey"}
    assert cfg.Keys.AuthorizationKey.accessibility == ("W",)
    # Every write-only key is a secret.
    assert {k.key for k in keys if "W" in k.accessibility and "R" not in k.accessibility} <= cfg.SECRET_KEYS
    assert [v for k, v in vars(cfg.Keys).items() if not k.startswith("_")] == list(keys)


def _chapter_9() -> tuple[list[tuple[str, str]], list[spec.KeyFields]]:
    text = spec.read_text(CORE_16)
    text = text[text.index("\n# 9. Standard Configuration Key Names") : text.index("\n# Appendix A")]
    names = [
        (m.group(1), m.group(2)) for m in re.finditer(r"^(?:#\s*)?9\.(\d)\.\d+\.?\s*(\w+)\s*$", text, re.M)
    ]
    return names, spec.key_definitions(text)


def test_chapter_9_keys_match_the_specification() -> None:
    require_shared_spec()
    names, definitions = _chapter_9()
    # One definition per key heading, in the same order (the transcription shifts some tables
    # of 9.1.18-9.1.22 under the next heading, but keeps their order).
    assert len(names) == len(definitions) == 43
    keys = _by_key()
    for (profile, name), fields in zip(names, definitions, strict=True):
        key = next(k for k in keys if k.lower() == name.lower())
        assert key == name or key in CASING, (key, name)
        k = keys[key]
        assert k.profile == PROFILES[profile], key
        assert k.required == (fields.required == "required"), key
        assert k.data_type == fields.type, key
        assert (k.unit or "") == fields.unit, key
        access = "R/RW" if fields.accessibility.startswith("R or RW") else fields.accessibility
        assert "/".join(k.accessibility) == access, key
        assert configuration_v16.KEYS[[r.key for r in configuration_v16.KEYS].index(key)].cite.startswith(
            f"1.6 §9.{profile}."
        )


def test_whitepaper_keys_match_the_whitepaper() -> None:
    require_shared_spec()
    text = spec.read_text(WHITEPAPER)
    text = text[text.index("\n# 7. Configuration Keys") : text.index("\n# 8. Security Events")]
    # 7.6's heading sits in a table cell of the transcription.
    names = re.findall(r"(?:^|>)(?:#\s*)?7\.\d\.\s*(\w+)", text, re.M)
    definitions = spec.key_definitions(text)
    assert len(names) == len(definitions) == 6
    keys = _by_key()
    for name, fields in zip(names, definitions, strict=True):
        k = keys[name]
        assert k.profile is None
        assert k.required == (fields.required == "required"), name
        assert k.data_type == fields.type.lower(), name
        assert "/".join(k.accessibility) == fields.accessibility, name


def test_keys_named_only_in_the_text() -> None:
    require_shared_spec()
    whitepaper = spec.read_text(WHITEPAPER)
    # N01's remark names SupportedFileTransferProtocols an optional key that reports protocols.
    assert re.search(r"optional Configuration Key that reports which file transfer protocols", whitepaper)
    assert "SupportedFileTransferProtocols" in whitepaper
    k = cfg.Keys.SupportedFileTransferProtocols
    assert (k.required, k.accessibility, k.profile) == (False, ("R",), None)
    # OCPP-J 1.6 chapter 7 defines WebSocketPingInterval as an integer.
    ocpp_j = spec.read_text(OCPP_J)
    chapter = ocpp_j[ocpp_j.index("\n# 7. Configuration") :]
    assert re.search(r"<td>WebSocketPingInterval</td><td>integer", chapter)
    assert cfg.Keys.WebSocketPingInterval.data_type == "integer"


def test_every_key_is_documented_once() -> None:
    """The data file and the generated module list the same keys, each with its citation."""
    assert [r.key for r in configuration_v16.KEYS] == [k.key for k in cfg.CONFIGURATION_KEYS]
    assert len({r.key.lower() for r in configuration_v16.KEYS}) == len(configuration_v16.KEYS)
    for r in configuration_v16.KEYS:
        assert "§" in r.cite or "N01" in r.cite, r
