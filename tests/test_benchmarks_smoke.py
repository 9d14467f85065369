"""A smoke run of the benchmark harness: it works end to end and times real validators.
No timing is asserted here (speed is reported by `python -m benchmarks.codec`, not tested)."""

from __future__ import annotations

import pytest

from benchmarks import codec


def test_codec_harness_runs_and_times_real_validators() -> None:
    rows = codec.run(repeat=1, target_seconds=0.0005)
    assert [r["name"] for r in rows] == [c[0] for c in codec.CALLS]
    for row in rows:
        assert {"floor", "ours_receive", "ours_codec", "incumbent", "ours_encode", "incumbent_encode"} <= set(row["samples"])
    text = codec.table(rows)
    assert text.count("\n| ") == len(rows)  # one table row per message


def test_harness_refuses_a_decoder_that_accepts_invalid_messages(monkeypatch: pytest.MonkeyPatch) -> None:
    from ocppgen.generated.runtime.payload import PayloadCodec

    monkeypatch.setattr(PayloadCodec, "decode", lambda self, data: object())
    with pytest.raises(AssertionError, match="accepted an invalid message"):
        codec.prove_decoders_reject_invalid()
