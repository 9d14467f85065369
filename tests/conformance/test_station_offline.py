"""OCA station test cases of the durable queue against the example station (2.0.1 and 2.1):
retrying a TransactionEvent after a CALLERROR (E13, TC_E_51) and a connection lost during a
transaction (E12, TC_E_40)."""

from __future__ import annotations

import pytest

from ocppgen.generated.runtime.config import StationOptions
from tests.conformance.sut import FAST, accept_all, booted_station
from tests.helpers import run

V2X = pytest.mark.parametrize("version", ["2.0.1", "2.1"])
tc = pytest.mark.tc


@tc("TC_E_51_CS", "E13.FR.02", "E13.FR.03")
@V2X
def test_tc_e_51_cs(version: str) -> None:
    """Success before reaching the max retry count - CallError: the TransactionEvent answered with
    a CALLERROR is sent again after MessageAttemptInterval x attempts (E13.FR.02/03), the same event
    (seqNo), and the next one only after it was accepted."""

    async def script() -> None:
        options = StationOptions(backoff=FAST, ping_interval=0, queue_attempts=3, queue_interval=0.3)
        async with booted_station(version, wait_idle=False, meter_values=1, interval=0.05, options=options) as cs:
            first = await cs.link.expect("TransactionEvent", allow=accept_all(version))
            assert first.payload["eventType"] == "Started" and first.payload["seqNo"] == 0
            await cs.link.reply_error(first, "InternalError", "tester")
            again = await cs.link.expect("TransactionEvent", timeout=3)
            assert again.payload["seqNo"] == 0 and again.payload["eventType"] == "Started"
            if version == "2.1":
                assert again.message_id == first.message_id  # a retry reuses its message id (2.1 section 4.1.4)
            else:
                assert again.message_id != first.message_id  # 2.0.1 section 4.1.4: never reused
            await cs.link.reply(again, {"idTokenInfo": {"status": "Accepted"}})
            for seq, kind in ((1, "Updated"), (2, "Ended")):
                event = await cs.link.expect("TransactionEvent")
                assert (event.payload["seqNo"], event.payload["eventType"]) == (seq, kind)
                await cs.link.reply(event, {})
            assert cs.link.violations == []

    run(script())


@tc("TC_E_40_CS", "E12.FR.01", "E12.FR.02")
@V2X
def test_tc_e_40_cs(version: str) -> None:
    """Connection loss during transaction: the events of the offline period are sent after the
    reconnect, in order, offline=true (E12.FR.01/02/03), without a new BootNotification."""

    async def script() -> None:
        async with booted_station(version, wait_idle=False, meter_values=3, interval=0.4) as cs:
            started = await cs.link.expect("TransactionEvent", allow=accept_all(version))
            assert started.payload["eventType"] == "Started"
            await cs.link.reply(started, {"idTokenInfo": {"status": "Accepted"}})
            cs.csms.refuse = 3  # the connection is lost and the next attempts fail (HTTP 503) for about a second
            await cs.link.close()
            link = await cs.csms.accepted(timeout=15)
            kinds: list[str] = []
            offline: list[bool] = []
            while not kinds or kinds[-1] != "Ended":
                event = await link.expect("TransactionEvent")
                kinds.append(event.payload["eventType"])
                assert event.payload["seqNo"] == len(kinds)
                offline.append(event.payload.get("offline", False))
                await link.reply(event, {})
            assert kinds == ["Updated", "Updated", "Updated", "Ended"]
            assert offline[0] is True  # created during the outage (E12.FR.03), sent after the reconnect
            assert offline == sorted(offline, reverse=True)  # those created after the reconnect are not offline
            assert link.violations == []

    run(script())
