"""Heavy churn in the live app: alerts are coalesced so they never pile up over the panel, and what was
announced is remembered within a bound."""

from __future__ import annotations

from dataclasses import replace

from portwatch.model import Scan
from portwatch.tui.alerts import ALERT_TIMEOUT, MAX_LIVE
from tests.support import ManualClock
from tests.ui.fixed_data import FixedInspector, listener, sample_scan
from tests.ui.ui_helpers import RecordingApp, wait_for

#: New alarming listeners each refresh brings (an owner running from /tmp: exe-in-temp).
PER_REFRESH = 5


class ChurningCollector:
    """The fixed sample, plus PER_REFRESH fresh alarming listeners at every scan after the first."""

    source = "fixed"

    def __init__(self) -> None:
        self.calls = 0

    def scan(self) -> Scan:
        self.calls += 1
        base = sample_scan()
        fresh = (
            tuple(
                listener("tcp", "127.0.0.1", 20000 + self.calls * PER_REFRESH + n, [(6666, "evil", "mallory")])
                for n in range(PER_REFRESH)
            )
            if self.calls > 1
            else ()
        )
        return replace(base, listeners=base.listeners + fresh)


def alerts(app: RecordingApp) -> list[str]:
    return [message for message in app.notified if "127.0.0.1:2" in message]


async def test_churn_raises_at_most_a_few_alerts_and_folds_the_rest_into_one_summary() -> None:
    collector = ChurningCollector()
    app = RecordingApp(collector=collector, interval=0.5, inspector=FixedInspector())
    clock = ManualClock()
    app.alerts.clock = clock  # nothing times out until the test says so
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await wait_for(pilot, lambda: collector.calls >= 12)
        # 55 alarming listeners opened, one notification a refresh would be 11 up at once: at most MAX_LIVE
        assert 1 <= len(alerts(app)) <= MAX_LIVE
        assert app.alerts.waiting >= PER_REFRESH * 6  # the rest are folded, not dropped

        clock.advance(ALERT_TIMEOUT + 1)  # the first alerts time out: the folded news is raised as one summary
        before = len(alerts(app))
        await wait_for(pilot, lambda: len(alerts(app)) > before)
        waiting_then = collector.calls * PER_REFRESH
        summary = alerts(app)[before]
        more = int(summary.rsplit("… and ", 1)[1].split(" more")[0])
        assert summary.count("127.0.0.1:2") == 3  # names the first few, counts the rest
        assert more + 3 >= PER_REFRESH * 6 and more + 3 <= waiting_then

        await wait_for(pilot, lambda: collector.calls >= 24)  # churn goes on within the new window
        assert len(alerts(app)) - before <= MAX_LIVE


async def test_announced_identities_are_bounded_under_churn() -> None:
    collector = ChurningCollector()
    app = RecordingApp(collector=collector, interval=0.5, inspector=FixedInspector())
    app.alerts.announced_limit = 12
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await wait_for(pilot, lambda: collector.calls >= 8)  # 35 fresh identities
        assert app.alerts.remembered == 12
