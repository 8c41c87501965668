"""The pause schedules of tickguest/pauses.py, on their own: what they yield, and what they refuse.

The conformance tests compare the guest's figures with the pauses the harness applied; those
pauses come from these schedules, so a schedule that drifted, overran its horizon or changed
with the phase of the moon would make every such comparison meaningless.
"""

import math

import pytest

from tickguest import FixedPauses, OnePause, RandomPauses


def ends(pauses):
    return [o + l for o, l in pauses]


# -- FixedPauses


def test_fixed_pauses_are_period_times_duty_once_a_period():
    s = FixedPauses(1.0, 0.2)
    p = list(s.pauses(5.0))
    assert len(p) == 5
    assert all(length == 1.0 * 0.2 for _, length in p)
    # each pause closes its period: the guest runs 800 ms, then is stopped 200 ms
    for k, (offset, length) in enumerate(p, start=1):
        assert offset + length == pytest.approx(k * 1.0, abs=1e-12)
    gaps = [b[0] - a[0] for a, b in zip(p, p[1:])]
    assert gaps == pytest.approx([1.0] * 4, abs=1e-12)


def test_fixed_pauses_stop_at_the_horizon():
    s = FixedPauses(0.7, 0.3)
    for until in (0.0, 0.69, 0.7, 3.5, 9.99, 10.0):
        p = list(s.pauses(until))
        assert len(p) == math.floor(until / 0.7 + 1e-9), (until, p)
        assert all(e <= until + 1e-9 for e in ends(p)), (until, p)


def test_fixed_pauses_steal_fraction_is_the_duty_up_to_one_cut_period():
    s = FixedPauses(0.5, 0.25)
    assert s.steal_fraction == 0.25
    for until in (1.0, 2.3, 7.49, 20.0):
        # the horizon can cut off at most the one pause of the period it falls in
        assert abs(s.paused_s(until) - s.steal_fraction * until) <= s.length_s + 1e-9, until


# -- RandomPauses


def test_random_pauses_are_reproducible_from_the_seed():
    a = list(RandomPauses(7, 0.2, 0.8).pauses(60.0))
    assert a == list(RandomPauses(7, 0.2, 0.8).pauses(60.0))
    s = RandomPauses(7, 0.2, 0.8)
    assert list(s.pauses(60.0)) == list(s.pauses(60.0)), "a schedule must not keep state"
    assert a != list(RandomPauses(8, 0.2, 0.8).pauses(60.0))
    assert len(a) > 10


def test_random_pauses_respect_the_horizon_and_a_shorter_one_gives_a_prefix():
    s = RandomPauses("horizon", 0.3, 0.5)
    long = list(s.pauses(100.0))
    for until in (0.0, 0.5, 3.0, 17.3, 99.9):
        short = list(s.pauses(until))
        assert all(e <= until for e in ends(short)), until
        # everything of the long schedule that fits, and nothing else
        assert short == [p for p in long if p[0] + p[1] <= until], until


def test_random_pauses_keep_their_floors_and_never_overlap():
    s = RandomPauses(3, 0.12, 0.3, min_pause_s=0.05, min_gap_s=0.1)
    p = list(s.pauses(200.0))
    assert min(length for _, length in p) >= 0.05
    assert p[0][0] >= 0.1
    assert all(b[0] - (a[0] + a[1]) >= 0.1 - 1e-12 for a, b in zip(p, p[1:]))


def test_random_pauses_with_mean_at_the_floor_are_constant():
    p = list(RandomPauses(1, 0.05, 0.05).pauses(10.0))
    assert p and all(length == 0.05 for _, length in p)
    assert all(b[0] - a[0] == pytest.approx(0.1) for a, b in zip(p, p[1:]))


@pytest.mark.parametrize("seed", [1, 2, 3, "four"])
def test_random_pauses_steal_fraction_matches_what_they_generate(seed):
    """Over N cycles the paused share is the ratio of two sums and tends to
    mean_pause / (mean_pause + mean_gap).  Per cycle, pause - f * (pause + gap) has mean 0 and,
    with the floors 0.05 and exponential parts of 0.15 and 0.75 s, a standard deviation of
    sqrt(0.64 * 0.15**2 + 0.04 * 0.75**2) = 0.19 s; over about 10000 one-second cycles the
    share's error is 0.0019 for one standard deviation.  Five of them, plus one whole cycle the
    horizon may cut (the longest one drawn, over the horizon), bound it."""
    s = RandomPauses(seed, 0.2, 0.8)
    assert s.steal_fraction == pytest.approx(0.2)
    until = 10000.0
    p = list(s.pauses(until))
    longest_cycle = max(b[0] + b[1] - a[0] - a[1] for a, b in zip(p, p[1:]))
    share = sum(length for _, length in p) / until
    assert abs(share - s.steal_fraction) <= 5 * 0.0019 + longest_cycle / until, share


# -- OnePause


def test_one_pause_yields_one_pause_if_it_fits():
    s = OnePause(1.5, 2.0)
    assert list(s.pauses(10.0)) == [(1.5, 2.0)]
    assert list(s.pauses(3.5)) == [(1.5, 2.0)]
    assert list(s.pauses(3.49)) == []
    assert s.steal_fraction == pytest.approx(2.0 / 3.5)
    assert s.paused_s(3.5) == pytest.approx(s.steal_fraction * 3.5)


# -- describe()


def test_describe_names_the_figures():
    assert FixedPauses(1.0, 0.2).describe() == "a 200 ms pause every 1000 ms (20% steal)"
    assert OnePause(2.0, 0.5).describe() == "one 500 ms pause at 2000 ms"
    d = RandomPauses(42, 0.1, 0.4).describe()
    assert "seed 42" in d and "100 ms" in d and "400 ms" in d and "20% steal" in d, d


# -- what is refused


@pytest.mark.parametrize("duty", [0, 1, -0.1, 1.5, float("nan")])
def test_fixed_pauses_refuse_a_duty_outside_zero_to_one(duty):
    with pytest.raises(ValueError, match=r"FixedPauses: duty .* strictly between 0 and 1"):
        FixedPauses(1.0, duty)


@pytest.mark.parametrize("period", [0, -1.0, float("inf")])
def test_fixed_pauses_refuse_a_period_that_is_not_positive(period):
    with pytest.raises(ValueError, match=r"FixedPauses: period_s must be .* > 0"):
        FixedPauses(period, 0.5)


@pytest.mark.parametrize("kw, message", [
    (dict(mean_pause_s=-0.1), r"mean_pause_s must be .* > 0"),
    (dict(mean_gap_s=-1.0), r"mean_gap_s must be .* > 0"),
    (dict(min_pause_s=-0.01), r"min_pause_s must be .* >= 0"),
    (dict(min_gap_s=-0.01), r"min_gap_s must be .* >= 0"),
    (dict(mean_pause_s=0.01), r"mean_pause_s \(0.01\) cannot be below min_pause_s \(0.05\)"),
    (dict(mean_gap_s=0.01), r"mean_gap_s \(0.01\) cannot be below min_gap_s \(0.05\)"),
    (dict(seed=None), r"seed must be an int, str or bytes"),
])
def test_random_pauses_refuse_negative_or_inconsistent_figures(kw, message):
    args = dict(seed=1, mean_pause_s=0.2, mean_gap_s=0.8) | kw
    with pytest.raises(ValueError, match="RandomPauses: " + message):
        RandomPauses(**args)


@pytest.mark.parametrize("at, length, message", [
    (-1.0, 1.0, r"at_s must be .* >= 0"),
    (1.0, -0.5, r"length_s must be .* > 0"),
    (1.0, 0, r"length_s must be .* > 0"),
])
def test_one_pause_refuses_negative_times(at, length, message):
    with pytest.raises(ValueError, match="OnePause: " + message):
        OnePause(at, length)


@pytest.mark.parametrize("schedule", [FixedPauses(1.0, 0.5), RandomPauses(1, 0.2, 0.8),
                                      OnePause(0.0, 1.0)])
def test_a_negative_horizon_is_refused_at_the_call(schedule):
    with pytest.raises(ValueError, match=r"horizon until_s must be .* >= 0"):
        schedule.pauses(-1.0)      # not only once iterated
