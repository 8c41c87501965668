/* The measurement machinery of the device checks; see measure.h. */
#include <stdarg.h>
#include "checks/measure.h"
#include "acct/stats.h"
#include "acct/steal.h"
#include "lib/format.h"
#include "kernel/report.h"
#include "kernel/tick.h"
#include "kernel/x86.h"

int64_t tsc_signed_ns(int64_t cycles)
{
	uint64_t ns = tsc_ns(cycles < 0 ? (uint64_t)-cycles : (uint64_t)cycles);

	return cycles < 0 ? -(int64_t)ns : (int64_t)ns;
}

void irq_drain_ms(uint64_t ms)
{
	uint64_t end = rdtsc() + tsc_from_ms(ms);

	sti();
	tsc_spin_until(end);
	cli();
}

void limits_banner(void)
{
	report_banner("limits", "device_rate_ppm %u, reference_nominal_ppm %u, window_tries %u, "
		      "oneshot_arm_tries %u, held_up_waits %u, steal_threshold_us %u",
		      DEVICE_RATE_LIMIT_PPM, REF_NOMINAL_PPM, WINDOW_TRIES, TICK_ONESHOT_ARM_TRIES,
		      HELD_UP_WAITS, STEAL_THRESHOLD_US);
}

/* ---- rate errors ---- */

/* num / den - 1 in 1/1000 ppm, exactly (muldiv64), for any den > 0 */
static int64_t relative_mppm(uint64_t num, uint64_t den)
{
	uint64_t d = num > den ? num - den : den - num;
	uint64_t e = muldiv64(d, (uint64_t)MPPM, den);

	if (e > (uint64_t)INT64_MAX)
		e = (uint64_t)INT64_MAX;
	return num > den ? (int64_t)e : -(int64_t)e;
}

/* num / den - 1 against a bound; no figure (not valid) when either is 0. */
static struct ppm_error ppm_error_of(uint64_t num, uint64_t den, uint64_t bound_ppm)
{
	struct ppm_error e = { .valid = num && den, .bound_ppm = bound_ppm };

	if (e.valid)
		e.err_mppm = relative_mppm(num, den);
	return e;
}

/* A span longer than expected is a rate lower than expected: expected / measured - 1. */
struct ppm_error ppm_of_span(uint64_t measured, uint64_t expected, uint64_t bound_ppm)
{
	return ppm_error_of(expected, measured, bound_ppm);
}

struct ppm_error ppm_of_rate(uint64_t measured, uint64_t expected, uint64_t bound_ppm)
{
	return ppm_error_of(measured, expected, bound_ppm);
}

bool ppm_ok(const struct ppm_error *e)
{
	uint64_t mag = e->err_mppm < 0 ? -(uint64_t)e->err_mppm : (uint64_t)e->err_mppm;

	return e->valid && mag <= e->bound_ppm * 1000;
}

void ppm_yaml(const struct ppm_error *e)
{
	report_yaml_fixed("error_ppm", e->err_mppm, 3);
	report_yaml_u64("tolerance_ppm", e->bound_ppm);
}

/* ---- a claim ---- */

void claim_open(struct claim *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kvsnprintf(c->text, sizeof(c->text), fmt, ap);
	va_end(ap);
	c->skip = 0;
}

void claim_needs(struct claim *c, bool have, const char *why)
{
	if (!have && !c->skip)
		c->skip = why;
}

/* A claim a requirement was missing for is a SKIP saying which, with no YAML: true if so. */
static bool skipped_unmade(const struct claim *c)
{
	if (c->skip)
		report_skip(c->skip, "%s", c->text);
	return c->skip;
}

bool claim_judge(const struct claim *c, const struct window_run *wr, bool ok)
{
	char why[192];

	if (skipped_unmade(c))
		return false;
	if (wr && !wr->clean) {
		window_not_judged(why, sizeof(why), wr->tries, &wr->steal);
		report_skip(why, "%s", c->text);
	} else {
		report_check(ok, "%s", c->text);
	}
	report_yaml_begin();
	if (wr)
		window_yaml(wr->tries, &wr->steal);
	return true;
}

bool claim_not_judged(const struct claim *c, const char *fmt, ...)
{
	char why[192];
	va_list ap;
	int n;

	if (skipped_unmade(c))
		return false;
	n = ksnprintf(why, sizeof(why), "not judged: ");
	va_start(ap, fmt);
	kvsnprintf(why + n, sizeof(why) - (size_t)n, fmt, ap);
	va_end(ap);
	report_skip(why, "%s", c->text);
	report_yaml_begin();
	return true;
}


void claim_close(void)
{
	report_yaml_end();
}

/* ---- one-shot timers ---- */

static volatile unsigned shot_irqs, shot_foreign;
static volatile uint64_t shot_first;
static bool (*shot_due)(void);          /* the plan's, for shot_handler() */

void shot_interrupt(uint64_t tsc)
{
	if (shot_irqs++ == 0)
		shot_first = tsc;
}

void shot_interrupt_by(uint64_t tsc, bool raised)
{
	if (raised)
		shot_interrupt(tsc);
	else
		shot_foreign++;
}

void shot_handler(struct trapframe *tf)
{
	uint64_t now = rdtsc();

	(void)tf;
	shot_interrupt_by(now, !shot_due || shot_due());
}

/* With interrupts on, wait until the TSC passes end or `irqs` interrupts came, probing. */
static void wait_irqs(unsigned irqs, uint64_t end)
{
	while (shot_irqs < irqs && (int64_t)(rdtsc() - end) < 0) {
		window_probe();
		cpu_relax();
	}
}

void shot_fire(const struct shot_plan *p, uint64_t early_by, struct shot *s)
{
	static bool missed;     /* the previous shot's wait ended with no interrupt, or robbed */

	*s = (struct shot){ .suspect = missed };
	shot_due = p->due;
	for (unsigned tries = 1;; tries++) {
		/* An interrupt already pending was raised before this shot was armed, so it is not
		 * the shot's: take it here, uncounted, rather than at the sti after the arm. */
		irq_window();
		shot_irqs = 0;
		shot_foreign = 0;
		s->before = rdtsc();
		if (p->arm(p->ctx) == 0)
			break;
		s->held_refusals += rdtsc() - s->before >= early_by;
		sti();
		tsc_spin_until(rdtsc() + p->quiet);
		if (tries == TICK_ONESHOT_ARM_TRIES)
			return;
		s->retries++;
	}
	s->after = rdtsc();
	s->armed = true;
	s->suspect |= s->retries > 0;
	window_begin();
	sti();
	wait_irqs(1, s->before + p->wait);
	s->steal = window_end();
	if (!shot_irqs && (p->expired || p->due)) {
		bool due;

		cli();                  /* the handler asks the device too: one at a time */
		due = p->expired ? p->expired() : p->due();
		sti();
		if (due) {
			wait_irqs(1, rdtsc() + HELD_UP_WAITS * p->wait);
			s->held_up = shot_irqs > 0;
			s->after_wait = s->held_up;
		}
	}
	if (shot_irqs) {
		wait_irqs(2, shot_first + p->quiet);
	} else {
		cli();
		if (p->disarm)
			p->disarm(p->ctx);
		sti();
		wait_irqs(1, rdtsc() + p->quiet);
		s->after_wait = shot_irqs > 0;
	}
	cli();
	s->irqs = shot_irqs;
	s->foreign = shot_foreign;
	s->fired = shot_first;
	missed = !s->irqs || s->after_wait || s->steal.gaps;
}

void shot_series_fire(const struct shot_plan *p, unsigned wanted, uint64_t early_by,
		      uint64_t due_late, void (*after)(void *ctx, const struct shot *s),
		      struct shot_series *r)
{
	int64_t lat[16];
	struct shot s;

	*r = (struct shot_series){ .wanted = wanted };
	if (wanted > sizeof(lat) / sizeof(lat[0]))
		wanted = r->wanted = sizeof(lat) / sizeof(lat[0]);
	shot_fire(p, early_by, &s);     /* unmeasured: see measure.h */
	for (unsigned i = 0; r->clean < wanted && i < wanted * WINDOW_TRIES; i++) {
		bool clean;

		shot_fire(p, early_by, &s);
		r->retries += s.retries;
		if (!s.armed && s.held_refusals == TICK_ONESHOT_ARM_TRIES) {
			r->held_arms++;         /* the host's every time: says nothing of the device */
			r->robbed++;
			continue;
		}
		if (!s.armed) {
			r->refused++;
			break;                  /* a device that never arms: no point in more */
		}
		r->armed++;
		r->foreign += s.foreign;
		clean = s.steal.gaps == 0 && !s.held_up &&
			!(s.suspect && (s.irqs > 1 || (s.irqs && s.fired < s.before + early_by)));
		/* a second interrupt in a robbed wait is the host's as much as a late first */
		if (!clean && s.irqs > 1)
			s.suspect = true;
		r->clean += clean;
		r->robbed += !clean;
		if (!clean && s.steal.longest > r->worst.longest)
			r->worst = s.steal;
		if (after)
			after(p->ctx, &s);
		if (!s.irqs)
			continue;
		r->after_wait += s.after_wait;
		r->held_up += s.held_up;
		if (s.suspect && !clean)
			continue;
		r->early += s.fired < s.before + early_by;
		r->extra += s.irqs - 1;
		if (!clean)
			continue;
		lat[r->fired_once++] = tsc_signed_ns((int64_t)(s.fired - (s.after + due_late)));
	}
	if (r->fired_once) {
		sort_i64(lat, r->fired_once);
		r->lat_min_ns = lat[0];
		r->lat_med_ns = lat[r->fired_once / 2];
		r->lat_max_ns = lat[r->fired_once - 1];
	}
}

/* A failure steal cannot explain stands; a missed wait stands only if the wait was clean. */
bool shot_series_bad(const struct shot_series *r)
{
	return r->refused || r->extra || r->early || (r->clean && r->fired_once < r->clean);
}

bool shot_series_judged(const struct shot_series *r)
{
	return shot_series_bad(r) || r->clean >= r->wanted;
}

bool claim_judge_shots(const struct claim *c, const struct shot_series *r, bool ok)
{
	char why[192];

	if (skipped_unmade(c))
		return false;
	if (!shot_series_judged(r)) {
		ksnprintf(why, sizeof(why), "not judged: the host took the CPU in %u of %u shots' "
			  "waits (longest step %llu us; %u interrupts late though the device was "
			  "on time), %u clean", r->robbed, r->robbed + r->clean,
			  (unsigned long long)(tsc_ns(r->worst.longest) / NS_PER_US), r->held_up,
			  r->clean);
		report_skip(why, "%s", c->text);
	} else {
		report_check(ok && !shot_series_bad(r), "%s", c->text);
	}
	report_yaml_begin();
	shot_series_yaml(r);
	return true;
}

void shot_series_yaml(const struct shot_series *r)
{
	report_yaml_u64("shots", r->wanted);
	report_yaml_u64("armed", r->armed);
	report_yaml_u64("clean_shots", r->clean);
	report_yaml_u64("robbed_shots", r->robbed);
	report_yaml_u64("fired_once", r->fired_once);
	report_yaml_u64("early", r->early);
	report_yaml_u64("extra_interrupts", r->extra);
	report_yaml_u64("arm_retries", r->retries);
	report_yaml_u64("not_raised_by_device", r->foreign);
	if (r->refused)
		report_yaml_u64("refused", r->refused);
	if (r->held_arms)
		report_yaml_u64("never_armed_host_held", r->held_arms);
	if (r->after_wait)
		report_yaml_u64("fired_after_wait", r->after_wait);
	if (r->held_up)
		report_yaml_u64("held_up_delivery", r->held_up);
	if (r->robbed)
		report_yaml_fixed("robbed_longest_step_ms",
				  (int64_t)(tsc_ns(r->worst.longest) / NS_PER_US), 3);
	if (r->fired_once) {
		report_yaml_fixed("late_min_us", r->lat_min_ns, 3);
		report_yaml_fixed("late_median_us", r->lat_med_ns, 3);
		report_yaml_fixed("late_max_us", r->lat_max_ns, 3);
	}
}
