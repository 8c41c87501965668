/* Stolen time inside a device check's window; see window.h. */
#include "checks/window.h"
#include "acct/steal.h"
#include "drivers/tsc.h"
#include "lib/format.h"
#include "kernel/report.h"
#include "kernel/x86.h"

static struct window_steal w;
static uint64_t last;

void window_begin(void)
{
	w = (struct window_steal){ 0, 0, 0 };
	last = rdtsc();
}

void window_probe(void)
{
	uint64_t now = rdtsc(), step = now - last;

	last = now;
	if (step > w.longest)
		w.longest = step;
	/* the workload's threshold, for the same reasons (acct/steal.h) */
	if (step > STEAL_THRESHOLD_US * tsc_refclock.freq_hz / 1000000) {
		w.stolen += step;
		w.gaps++;
	}
}

void window_wait_until(uint64_t tsc_end)
{
	while ((int64_t)(rdtsc() - tsc_end) < 0) {
		window_probe();
		cpu_relax();
	}
	window_probe();
}

bool window_wait_count(const volatile unsigned *n, unsigned want, uint64_t tsc_end)
{
	while (*n < want && (int64_t)(rdtsc() - tsc_end) < 0) {
		window_probe();
		cpu_relax();
	}
	window_probe();
	return *n >= want;
}

struct window_steal window_end(void)
{
	window_probe();
	return w;
}

void window_not_judged(char *why, size_t n, unsigned tries, const struct window_steal *w)
{
	ksnprintf(why, n, "not judged: in each of %u windows the host took the CPU for longer "
		  "than the claim absorbs (last: %llu us stolen, longest step %llu us)", tries,
		  (unsigned long long)(tsc_ns(w->stolen) / 1000),
		  (unsigned long long)(tsc_ns(w->longest) / 1000));
}

void window_yaml(unsigned tries, const struct window_steal *w)
{
	report_yaml_u64("windows", tries);
	report_yaml_fixed("window_stolen_ms", (int64_t)(tsc_ns(w->stolen) / 1000), 3);
	report_yaml_fixed("window_longest_step_ms", (int64_t)(tsc_ns(w->longest) / 1000), 3);
}

bool window_again(struct window_run *wr)
{
	if (wr->tries > 0) {
		wr->steal = window_end();
		wr->clean = !wr->spoilt && window_clean(&wr->steal, wr->tolerable);
		if (wr->clean || wr->tries == WINDOW_TRIES)
			return false;
	}
	wr->tries++;
	wr->spoilt = false;
	window_begin();
	return true;
}
