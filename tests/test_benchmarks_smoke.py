"""A smoke run of the benchmark harness: it works end to end and times real validators.
No timing is asserted here (speed is reported by `python -m benchmarks.codec`, not tested)."""

from __future__ import annotations

import pytest

from benchmarks import codec


def test_codec_harness_runs_and_times_real_validators() -> None:
    rows = codec.run(repeat=1, target_seconds=0.0005)
    assert [r["name"] for r in rows] == [c[0] for c in codec.CALLS]
    for row in rows:
        assert {"floor", "ours_receive", "ours_codec", "least_python", "incumbent", "ours_encode", "incumbent_encode", "out_floor", "ours_respond", "incumbent_respond"} <= set(row["samples"])
    text = codec.table(rows)
    body = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| message")]
    assert len(body) == 2 * len(rows)  # one row per message in each table


def test_harness_refuses_a_decoder_that_accepts_invalid_messages(monkeypatch: pytest.MonkeyPatch) -> None:
    from ocppgen.generated.runtime.payload import PayloadCodec

    monkeypatch.setattr(PayloadCodec, "decode", lambda self, data: object())
    with pytest.raises(AssertionError, match="accepted an invalid message"):
        codec.prove_decoders_reject_invalid()


def test_least_python_receive_decodes_and_validates_as_receive_does() -> None:
    """The "least Python receive" column times a real typed, validated decode: it gives the
    request receive gives, and refuses what the schema refuses."""
    import msgspec

    from benchmarks.messages import CALLS, frame

    name, version, action, payload = CALLS[0]
    text = frame("19223201", action, payload)
    [event] = codec.least_python_receive(version, action, text)()
    expected = codec.ours_receive(version, text)()
    assert event.request == expected.request and event.message_id == expected.message_id
    bad = frame("19223201", action, dict(payload, seqNo="42"))
    with pytest.raises(msgspec.ValidationError):
        codec.least_python_receive(version, action, bad)()


def test_e2e_harness_smoke() -> None:
    """The end-to-end harness on a tiny load (3 stations): it proves the server validates,
    drives all three servers on both loops, and reports every cell of the table."""
    import asyncio

    from benchmarks import e2e

    results = asyncio.run(e2e.run([3], 4, 1, ["asyncio", "uvloop"], min_calls=12))
    text = e2e.table(results, [3])
    for kind in e2e.KINDS:
        for loop in results["loops"]:
            assert f"| 3 | {loop} | {kind} |" in text
    assert all(r[0]["calls_per_s"] > 0 for r in results["load"].values())


def test_idle_harness_smoke() -> None:
    """The idle-connections harness with 20 stations from two load generator processes, deflate on and off."""
    from benchmarks import idle

    results = idle.run(20, ["ocppgen", "floor"], 1, per_process=10)
    text = idle.table(results, ["ocppgen", "floor"])
    assert all(r[0]["connected"] == 20 for r in results.values())
    assert "| on | ocppgen | 20 |" in text and "| off | floor | 20 |" in text


def test_storm_harness_smoke() -> None:
    """The storm harness with 20 stations over plain WebSockets, with admission control and
    against the floor: every station is registered again and its queued messages delivered."""
    import asyncio

    from benchmarks import storm

    results = asyncio.run(storm.run([20], ["ws"], ["ocppgen+admission", "floor"], admission="100,5,2", steady=2, queued=1, per_process=10))
    text = storm.table(results, "100,5,2")
    assert "| 20 | ws | ocppgen+admission |" in text and "| 20 | ws | floor |" in text
    for r in results.values():
        assert r["stations"] == 20 and r["delivered_s"] >= r["registered_s"] >= 0


def test_idle_objects_harness_smoke(capsys: pytest.CaptureFixture[str]) -> None:
    """The per-station allocation probe with 5 stations, ocppgen and the floor: it reports the
    traced growth and a table for each (a server that fails before listening is an error, not
    a wait forever)."""
    from benchmarks import idle_objects

    assert idle_objects.main(["--stations", "5", "--top", "5", "--frames", "2"]) == 0
    out = capsys.readouterr().out
    assert "## ocppgen, permessage-deflate off: 5 idle booted stations" in out
    assert "## floor, permessage-deflate off: 5 idle booted stations" in out
    assert out.count("traced growth per station:") == 2
