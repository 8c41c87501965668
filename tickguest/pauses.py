"""Pause schedules: when the host takes the CPU from the guest by stopping it, as plain
data that Guest.run_pauses (deschedule.py) applies and the ground truth reads back."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Iterator


# A schedule says when the host takes the CPU away from the guest, as plain data: offsets and
# lengths in host seconds, counted from the moment the schedule starts (Guest.run_pauses starts
# it at a serial line).  Each is a cycle of running then pausing; steal_fraction is the share of
# a cycle spent paused, so over whole cycles it is the share of wall time the guest loses.

# Slack for comparing sums of floats with a horizon: 1 ns, far below any timer's resolution.
_HORIZON_SLACK_S = 1e-9


def _require(ok: bool, who: str, message: str) -> None:
    if not ok:
        raise ValueError(f"{who}: {message}")


def _finite(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _require_seconds(who: str, name: str, value, positive: bool = False) -> None:
    """The check every figure in seconds gets: finite, and > 0 (positive) or >= 0."""
    ok = _finite(value) and (value > 0 if positive else value >= 0)
    _require(ok, who, f"{name} must be a finite number of seconds {'>' if positive else '>='} 0, "
                      f"got {value!r}")


class StealSource:
    """What a pause schedule (here) and a host load (host_steal.HostSteal) both say of
    themselves, so plan.py can show either one by its describe()."""

    @property
    def steal_fraction(self) -> float:
        """The share of the time the guest loses: of a cycle for a schedule, of the window for
        a host load's vCPU that always wants the CPU."""
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


class PauseSchedule(StealSource):
    """What every schedule offers.  pauses(until_s) yields (offset_s, length_s) in increasing
    order of offset, never overlapping, each ending by until_s: the caller picks the horizon to
    leave the end of the run unpaused (about a second, so the guest's last figures come from a
    clock that has settled)."""

    def _generate(self, until_s: float) -> Iterator[tuple]:
        raise NotImplementedError

    def pauses(self, until_s: float) -> Iterator[tuple]:
        """The pauses that end by until_s seconds after the start.  The horizon is checked here,
        at the call, not at the first next(): a bad argument should fail where it was given."""
        _require_seconds(type(self).__name__, "the horizon until_s", until_s)
        return self._generate(float(until_s))

    def paused_s(self, until_s: float) -> float:
        """How long the pauses up to until_s add up to."""
        return sum(length for _, length in self.pauses(until_s))


@dataclass(frozen=True)
class FixedPauses(PauseSchedule):
    """A pause of period_s * duty at the end of every period_s: the guest runs first, then
    stops, so the first pause comes after it has done some work and every whole period has
    exactly the same share paused (duty)."""
    period_s: float
    duty: float

    def __post_init__(self):
        who = "FixedPauses"
        _require_seconds(who, "period_s", self.period_s, positive=True)
        _require(_finite(self.duty) and 0 < self.duty < 1, who,
                 f"duty is the paused share of a period and must lie strictly between 0 and 1, "
                 f"got {self.duty!r}")

    @property
    def length_s(self) -> float:
        return self.period_s * self.duty

    @property
    def steal_fraction(self) -> float:
        return self.duty

    def describe(self) -> str:
        return (f"a {self.length_s * 1000:g} ms pause every {self.period_s * 1000:g} ms "
                f"({self.duty * 100:g}% steal)")

    def _generate(self, until_s):
        k = 1
        # Offsets from k * period (not by adding up periods), so no error builds up.
        while k * self.period_s <= until_s + _HORIZON_SLACK_S:
            yield (k * self.period_s - self.length_s, self.length_s)
            k += 1


@dataclass(frozen=True)
class RandomPauses(PauseSchedule):
    """Pauses arriving at random, the way a host's other load takes the CPU: gap, pause, gap,
    pause ... with each gap and each pause drawn from an exponential distribution shifted by a
    floor.  A pause is min_pause_s + Exp(mean mean_pause_s - min_pause_s) so its mean is
    mean_pause_s exactly and none is too short to tell from host noise; gaps likewise with
    min_gap_s, so the guest always runs a little between two pauses and they stay two.

    The draws come from random.Random(seed), created afresh at each pauses() call, in the
    order gap, pause, gap, pause: the same seed gives the same schedule, and a shorter horizon
    gives a prefix of a longer one's."""
    seed: object
    mean_pause_s: float
    mean_gap_s: float
    min_pause_s: float = 0.05
    min_gap_s: float = 0.05

    def __post_init__(self):
        who = "RandomPauses"
        _require(self.seed is not None and isinstance(self.seed, (int, str, bytes)), who,
                 f"seed must be an int, str or bytes (None would draw a different schedule "
                 f"every time), got {self.seed!r}")
        for name in ("min_pause_s", "min_gap_s"):
            _require_seconds(who, name, getattr(self, name))
        _require_seconds(who, "mean_pause_s", self.mean_pause_s, positive=True)
        _require_seconds(who, "mean_gap_s", self.mean_gap_s, positive=True)
        _require(self.mean_pause_s >= self.min_pause_s, who,
                 f"mean_pause_s ({self.mean_pause_s!r}) cannot be below min_pause_s "
                 f"({self.min_pause_s!r})")
        _require(self.mean_gap_s >= self.min_gap_s, who,
                 f"mean_gap_s ({self.mean_gap_s!r}) cannot be below min_gap_s "
                 f"({self.min_gap_s!r})")

    @property
    def steal_fraction(self) -> float:
        # Long-run share (renewal reward): mean pause over mean cycle.
        return self.mean_pause_s / (self.mean_pause_s + self.mean_gap_s)

    def describe(self) -> str:
        return (f"random pauses (seed {self.seed!r}): {self.mean_pause_s * 1000:g} ms on average "
                f"(at least {self.min_pause_s * 1000:g}), {self.mean_gap_s * 1000:g} ms apart "
                f"on average (at least {self.min_gap_s * 1000:g}), "
                f"{self.steal_fraction * 100:.3g}% steal")

    @staticmethod
    def _draw(rng: random.Random, floor: float, mean: float) -> float:
        return floor + (rng.expovariate(1.0 / (mean - floor)) if mean > floor else 0.0)

    def _generate(self, until_s):
        rng = random.Random(self.seed)
        t = 0.0
        while True:
            offset = t + self._draw(rng, self.min_gap_s, self.mean_gap_s)
            length = self._draw(rng, self.min_pause_s, self.mean_pause_s)
            if offset + length > until_s + _HORIZON_SLACK_S:
                return
            yield (offset, length)
            t = offset + length


@dataclass(frozen=True)
class OnePause(PauseSchedule):
    """One pause of length_s, at_s after the start: a single long descheduling, such as a
    host migrating the VM or swapping it out.  Its cycle is the run up to the pause and the
    pause itself, so steal_fraction is length_s / (at_s + length_s)."""
    at_s: float
    length_s: float

    def __post_init__(self):
        who = "OnePause"
        _require_seconds(who, "at_s", self.at_s)
        _require_seconds(who, "length_s", self.length_s, positive=True)

    @property
    def steal_fraction(self) -> float:
        return self.length_s / (self.at_s + self.length_s)

    def describe(self) -> str:
        return f"one {self.length_s * 1000:g} ms pause at {self.at_s * 1000:g} ms"

    def _generate(self, until_s):
        if self.at_s + self.length_s <= until_s + _HORIZON_SLACK_S:
            yield (self.at_s, self.length_s)
