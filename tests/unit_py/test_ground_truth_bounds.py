"""The host-side bound on the vCPU thread's time in the host kernel (tickguest/ground_truth.py):
the Poisson upper bound it rests on, and that bound against a simulation of how the kernel
charges its ticks."""

import math
import os
import random

import pytest

from tickguest import ground_truth
import tickguest as tg
from tickguest import Guest


def at_most(k, mean):
    return sum(math.exp(i * math.log(mean) - mean - math.lgamma(i + 1)) for i in range(k + 1))


def test_poisson_upper_leaves_exactly_the_miss_below_it():
    # nothing seen: e^-m = miss
    assert ground_truth.poisson_upper(0, 1e-4) == pytest.approx(-math.log(1e-4), rel=1e-9)
    for k in (1, 5, 30, 200, 2000):
        m = ground_truth.poisson_upper(k, 1e-4)
        assert at_most(k, m) == pytest.approx(1e-4, rel=1e-6), k
        assert m > k


def test_poisson_upper_grows_with_the_count_and_the_confidence():
    ups = [ground_truth.poisson_upper(k) for k in range(50)]
    assert all(a < b for a, b in zip(ups, ups[1:]))
    assert ground_truth.poisson_upper(10, 1e-2) < ground_truth.poisson_upper(10, 1e-4)


def charged_ticks(rng, tick, run_s, stays):
    """The ticks a kernel with a fixed tick finds inside stays of the given lengths, placed at
    random in a run of run_s: what the kernel charges to a thread's kernel time."""
    phase = rng.uniform(0, tick)
    n = 0
    for length in stays:
        start = rng.uniform(0, run_s - length)
        # ticks at phase + i * tick inside [start, start + length)
        n += math.ceil((start + length - phase) / tick) - math.ceil((start - phase) / tick)
    return n


@pytest.mark.parametrize("shape", ["short", "mixed"])
def test_the_bound_covers_the_true_kernel_time_as_often_as_it_says(shape):
    """Short stays (system calls, small faults) and a mix with long ones (2 MB pages of cold
    memory, milliseconds each): in at most 2x the nominal share of simulated runs is the
    truth above the bound, taken at a miss of 1 % so that misses are seen at all."""
    rng = random.Random(f"kernel-{shape}")
    tick, runs, miss = 0.004, 2000, 0.01
    over = 0
    for _ in range(runs):
        stays = [rng.expovariate(1 / 0.0003) for _ in range(rng.randint(20, 200))]
        if shape == "mixed":
            stays += [rng.uniform(0.002, 0.015) for _ in range(rng.randint(0, 20))]
        seen = charged_ticks(rng, tick, 6.0, stays)
        over += sum(stays) > ground_truth.poisson_upper(seen, miss) * tick
    assert over <= 2 * miss * runs, over


def test_kernel_ms_bound_adds_the_spread_and_a_rounding_a_stretch():
    g = Guest(kernel="unused.elf")
    tick, ms = tg.host_tick_s(), 1_000_000
    g.vcpu_samples = [(0.0, 0, 0, 0, 0), (1.0, 900 * ms, 0, 10, round(10 * tick * 1e9)),
                      (2.0, 1800 * ms, 0, 20, round(10 * tick * 1e9))]
    one = ground_truth.kernel_ms_bound(g, [(0.0, 2.0)])
    assert one == pytest.approx((ground_truth.poisson_upper(10) * tick +
                                 1 / os.sysconf("SC_CLK_TCK")) * 1000)
    # nothing seen in the second second: still the most that no tick can have caught
    quiet = ground_truth.kernel_ms_bound(g, [(1.0, 2.0)])
    assert quiet == pytest.approx((ground_truth.poisson_upper(0) * tick +
                                   1 / os.sysconf("SC_CLK_TCK")) * 1000)
