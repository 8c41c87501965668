"""tickguest/plan.py: descheduling plans written as text, for `tickguest run --deschedule` and
the suite's catalogue."""

import re

import pytest

from tickguest import plan
from tickguest.host_steal import Contention, CpuCap
from tickguest.pauses import FixedPauses, OnePause, RandomPauses


def test_none_is_no_plan():
    p = plan.parse("none")
    assert p.kind == "none" and p.schedule() is None and p.load() is None
    assert p.describe() == "no descheduling" and not p.needs_qmp and p.unavailable() is None


def test_stops_become_the_schedules_with_their_figures():
    p = plan.parse("pauses:every=1s,pause=300ms")
    assert p.schedule() == FixedPauses(period_s=1.0, duty=0.3) and p.via == "signal"
    assert p.describe() == "a 300 ms pause every 1000 ms (30% steal) by SIGSTOP"
    p = plan.parse("random:seed=7,pause=100ms,gap=0.4s,min-pause=20ms,via=qmp")
    assert p.schedule() == RandomPauses(seed=7, mean_pause_s=0.1, mean_gap_s=0.4,
                                        min_pause_s=0.02)
    assert p.needs_qmp and p.describe().endswith("by QMP stop")
    # a seed that is not a number is a string seed, as RandomPauses takes one
    assert plan.parse("random:seed=ab,pause=100ms,gap=400ms").schedule().seed == "ab"
    p = plan.parse("once:at=2s,pause=1500ms,horizon=5s")
    assert p.schedule() == OnePause(at_s=2.0, length_s=1.5) and p.horizon_s == 5.0


def test_loads_are_new_for_every_run():
    p = plan.parse("cap:quota=20ms,period=50ms")
    a, b = p.load(), p.load()
    assert isinstance(a, CpuCap) and a is not b          # a load keeps its run's state
    assert (a.quota_ms, a.period_ms) == (20, 50) and p.schedule() is None
    c = plan.parse("contention:competitors=2,nice=5,cpu=1").load()
    assert isinstance(c, Contention) and (c.competitors, c.nice, c.cpu) == (2, 5, 1)
    assert plan.parse("contention").load().competitors == 1


@pytest.mark.parametrize("text, said", [
    ("", "a plan is one of"),
    ("sleep:every=1s", "a plan is one of"),
    ("none:every=1s", "a plan is one of"),
    ("pauses:every=1s", "pauses needs pause"),
    ("pauses:every=1,pause=300ms", "every=1 is not a time"),
    ("pauses:every=1s,pause=300", "pause=300 is not a time"),
    ("pauses:every=1s,pause=1s", "shorter than the period"),
    ("pauses:every=1s,pause=300ms,pause=200ms", "given twice"),
    ("pauses:every=1s,pause=300ms,via=ssh", "via is signal or qmp"),
    ("pauses:every=1s,pause=300ms,quota=2ms", "pauses takes every, pause, via, horizon"),
    ("pauses:every=1s,pause", "is not key=value"),
    ("cap:quota=60ms,period=50ms", "quota_ms must lie between"),
    ("cap:quota=20ms,period=50ms,via=qmp", "cap takes quota, period, horizon"),
    ("contention:nice=40", "nice must be a whole number"),
    ("contention:competitors=1.5", "competitors=1.5 is not a whole number"),
    ("random:seed=1,pause=10ms,gap=400ms", "mean_pause_s (0.01) cannot be below"),
])
def test_a_bad_plan_says_what_is_wrong(text, said):
    with pytest.raises(ValueError, match="^" + re.escape(repr(text)) + ": .*" + re.escape(said)):
        plan.parse(text)


class _Guest:
    def __init__(self):
        self.calls = []
        self.pauses = [(1.0, 1.3)]
        self.host_steal_window = (2.0, 4.0)

    def run_pauses(self, schedule, horizon_s=None, method="signal"):
        self.calls.append(("pauses", schedule, horizon_s, method))

    def run_host_steal(self, steal, horizon_s=None):
        self.calls.append(("steal", type(steal).__name__, horizon_s))


def test_apply_starts_the_plan_the_guest_way_and_shown_says_what_it_did():
    g = _Guest()
    plan.parse("pauses:every=1s,pause=300ms,via=qmp,horizon=3s").apply(g)
    plan.parse("cap:quota=20ms,period=50ms").apply(g)
    plan.parse("none").apply(g)
    assert g.calls == [("pauses", FixedPauses(1.0, 0.3), 3.0, "qmp"),
                       ("steal", "CpuCap", None)]
    assert plan.shown(plan.parse("once:at=1s,pause=300ms"), g) == ("signal", [(1.0, 1.3)])
    assert plan.shown(plan.parse("contention"), g) == ("contention", [(2.0, 4.0)])
    assert plan.shown(plan.parse("none"), g) == ("none", [])
    g.host_steal_window = (2.0, None)           # still in force: no band to draw yet
    assert plan.shown(plan.parse("cap:quota=20ms,period=50ms"), g) == ("cap", [])
