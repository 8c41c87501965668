"""A descheduling plan written as one word of text, for the command line (`tickguest run
--deschedule`) and the suite's catalogue (tests/suite.cfg):

    none                                         nobody takes the CPU
    pauses:every=1s,pause=300ms[,via=signal]     a 300 ms stop at the end of every second
    random:seed=7,pause=100ms,gap=400ms          stops at random (exponential lengths and gaps;
           [,min-pause=50ms,min-gap=50ms]        each at least its floor)
    once:at=2s,pause=1500ms                      one long stop
    cap:quota=20ms,period=50ms                   QEMU's threads held to 20 ms of CPU every 50
    contention[:competitors=1,nice=0,cpu=1]      busy processes pinned beside the vCPU thread

Any of them but none takes horizon=6s: the plan ends that long after the run's start line
(by default the run's duration= less a second, so its end is never descheduled).  The stops
take via=signal (SIGSTOP of QEMU's process group, the default: the guest's clocks run on) or
via=qmp (QMP stop: QEMU's virtual clock stands still); pauses.py and host_steal.py say what
each does to the guest.  Times carry their unit, s or ms.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Optional

from .host_steal import Contention, CpuCap, HostSteal
from .pauses import FixedPauses, OnePause, PauseSchedule, RandomPauses

_TIME_RE = re.compile(r"^(\d+(?:\.\d+)?)(ms|s)$")

# kind: (required keys, optional keys); times are the keys that carry a unit
_KINDS = {
    "pauses": (("every", "pause"), ("via", "horizon")),
    "random": (("seed", "pause", "gap"), ("min-pause", "min-gap", "via", "horizon")),
    "once": (("at", "pause"), ("via", "horizon")),
    "cap": (("quota", "period"), ("horizon",)),
    "contention": ((), ("competitors", "nice", "cpu", "horizon")),
}
_TIMES = {"every", "pause", "gap", "min-pause", "min-gap", "at", "quota", "period", "horizon"}
_STOPS = ("pauses", "random", "once")


def _seconds(spec: str, key: str, text: str) -> float:
    m = _TIME_RE.match(text)
    if not m:
        raise ValueError(f"{spec!r}: {key}={text} is not a time: a number with its unit, "
                         f"s or ms (as 300ms or 1.5s)")
    return float(m.group(1)) / (1000 if m.group(2) == "ms" else 1)


def _whole(spec: str, key: str, text: str) -> int:
    if not re.fullmatch(r"-?\d+", text):
        raise ValueError(f"{spec!r}: {key}={text} is not a whole number")
    return int(text)


@dataclass(frozen=True)
class Plan:
    """A parsed plan: kind is one of none, pauses, random, once, cap, contention; args the
    figures in the units the classes take; via how stops are made; horizon_s, if given."""
    text: str
    kind: str
    args: dict = field(default_factory=dict)
    via: str = "signal"
    horizon_s: Optional[float] = None

    @property
    def needs_qmp(self) -> bool:
        return self.via == "qmp"

    def schedule(self) -> Optional[PauseSchedule]:
        """The pause schedule of a stopping plan, or None."""
        a = self.args
        if self.kind == "pauses":
            return FixedPauses(period_s=a["every"], duty=a["pause"] / a["every"])
        if self.kind == "random":
            return RandomPauses(seed=a["seed"], mean_pause_s=a["pause"], mean_gap_s=a["gap"],
                                min_pause_s=a.get("min-pause", 0.05),
                                min_gap_s=a.get("min-gap", 0.05))
        if self.kind == "once":
            return OnePause(at_s=a["at"], length_s=a["pause"])
        return None

    def load(self) -> Optional[HostSteal]:
        """A new host load for a plan that leaves the guest runnable (one per run: a load
        keeps the state of the run it was applied to), or None."""
        a = self.args
        if self.kind == "cap":
            return CpuCap(a["quota"] * 1000, a["period"] * 1000)
        if self.kind == "contention":
            return Contention(a.get("competitors", 1), a.get("nice", 0), a.get("cpu"))
        return None

    def describe(self) -> str:
        if self.kind == "none":
            return "no descheduling"
        what = (self.schedule() or self.load()).describe()
        if self.kind in _STOPS:
            what += " by " + ("QMP stop" if self.via == "qmp" else "SIGSTOP")
        return what

    def unavailable(self) -> Optional[str]:
        """Why this host cannot apply the plan (no cgroup cpu controller, one CPU), or None."""
        load = self.load()
        return load.unavailable() if load is not None else None

    def apply(self, guest) -> None:
        """Start the plan on a started Guest (made with qmp=True if needs_qmp)."""
        schedule, load = self.schedule(), self.load()
        if schedule is not None:
            guest.run_pauses(schedule, horizon_s=self.horizon_s, method=self.via)
        elif load is not None:
            guest.run_host_steal(load, horizon_s=self.horizon_s)


def parse(spec: str) -> Plan:
    """The Plan a text names (the module's docstring has the forms); ValueError, saying what
    is wrong, for anything else, including figures the classes refuse."""
    text = (spec or "").strip()
    kind, _, rest = text.partition(":")
    if kind == "none" and not rest:
        return Plan(text, "none")
    if kind not in _KINDS:
        raise ValueError(f"{spec!r}: a plan is one of {', '.join(['none', *_KINDS])}, then "
                         f"':' and its key=value figures")
    required, optional = _KINDS[kind]
    args = {}
    for item in filter(None, rest.split(",")):
        key, eq, value = item.partition("=")
        if not eq or not value:
            raise ValueError(f"{spec!r}: {item!r} is not key=value")
        if key not in required + optional:
            raise ValueError(f"{spec!r}: {kind} takes {', '.join(required + optional)}, "
                             f"not {key}")
        if key in args:
            raise ValueError(f"{spec!r}: {key} is given twice")
        args[key] = value
    missing = [k for k in required if k not in args]
    if missing:
        raise ValueError(f"{spec!r}: {kind} needs {', '.join(missing)}")
    via = args.pop("via", "signal")
    if via not in ("signal", "qmp"):
        raise ValueError(f"{spec!r}: via is signal or qmp, not {via}")
    for key in list(args):
        if key in _TIMES:
            args[key] = _seconds(spec, key, args[key])
        elif key != "seed" or re.fullmatch(r"-?\d+", args[key]):
            args[key] = _whole(spec, key, args[key])     # seed=7 draws as RandomPauses(seed=7)
    horizon = args.pop("horizon", None)
    plan = Plan(text, kind, args, via, horizon)
    if kind == "pauses" and not args["pause"] < args["every"]:
        raise ValueError(f"{spec!r}: the pause must be shorter than the period it ends")
    try:
        plan.schedule() or plan.load()      # the classes' own checks, here at the parse
    except ValueError as e:
        raise ValueError(f"{spec!r}: {e}") from None
    if horizon is not None and not math.isfinite(horizon):
        raise ValueError(f"{spec!r}: horizon must be finite")
    return plan


def shown(plan: Plan, guest) -> tuple:
    """How a run's record (report_html.record_from) shows what the plan did: the method's
    name and the host-time bands to shade, the stops made or the window the load held."""
    if plan.kind in _STOPS:
        return plan.via, list(guest.pauses)
    if plan.kind == "none":
        return "none", []
    window = guest.host_steal_window
    return plan.kind, [window] if window and window[1] is not None else []
