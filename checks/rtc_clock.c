/*
 * The CMOS RTC's clock held to its claims: its time of day decodes and steps by a second from
 * one update-ended interrupt to the next, those come once a second by the TSC, and the alarm
 * fires once at its second.  Measured in the session of checks/rtc.c, judged after it.
 */
#include "checks/rtc_session.h"
#include "checks/measure.h"
#include "drivers/rtc_cmos.h"
#include "lib/format.h"
#include "kernel/report.h"

/*
 * The update interrupts: RTC_UPDATES_TIMED of them, three one-second intervals timed as one
 * span.  The middle ones cancel (one interval's late end is the next one's late start); each
 * end may be late by A, the longest hold-up a clean periodic window saw (its longest interval
 * less a period), at least 5 ms, about what TCG shows on a quiet two-core host: 3333 ppm over
 * the span, which still catches a divider off by a factor, or update interrupts paced by
 * apparent time while catching up, which some guests would take for the CPU's speed
 * (Timekeeping in VMware Virtual Machines).
 *
 * So the span absorbs any steal in its middle and A at each end.  A stolen step of L can make
 * an interrupt later than A only if L >= A and the interrupt came within A of the step's end:
 * such a step before either end voids the span.  So does steal of more than 2A in all between
 * its ends, though no step of it reaches an end: the update interrupt comes from QEMU's device
 * thread, which a host that keeps taking the vCPU keeps off the CPU too, unseen by the polls
 * (seen under three busy loops and a second guest: 1127 ms stolen in slices of at most 5.6 ms,
 * and the span's first update 40 ms late).  A void span is followed by the next one (updates
 * 1 to 4, ...), up to WINDOW_TRIES, a second more each.
 *
 * Take a 300 ms stop (SIGSTOP: the TSC and the RTC's host clock run on).  In the middle of the
 * span it is absorbed, rightly; at an end, where it can make 10^5 ppm, only if A is longer than
 * the stop.  A cannot grow by the stop itself: every periodic window it fell in was void (no
 * rate's half period reaches 300 ms), measured again and its hold-up not taken.  A clean 2 Hz
 * window can still hold a step of up to 250 ms and show it as a hold-up, so A reaches the stop
 * only if the host also delivered a tick more than 50 ms late on top of that: then the span is
 * judged within the bound that hold-up gives (2 x 10^5 ppm, which still catches a divider off
 * by two); in practice the span is void and the next one is tried (seen: a SIGSTOP of 300 ms
 * every second, at the updates' phase, leaves the claim not judged).  A QMP stop freezes the TSC
 * and not the host's clock: no step to see, and the RTC is seen to run on, which the claim
 * reports.
 */
#define UPDATE_LATENCY_MIN_US   5000

static struct rtc_session *const u = &rtc_session;

/*
 * The first span (updates k to k + RTC_SPAN_S) noted so far that no stolen step can have
 * delayed at an end by more than A (else the last one tried), as a window run: its steal is the
 * polls' between its ends, its longest step the longest that can have delayed an end.
 */
static struct window_run update_span(unsigned *k, uint64_t *allow_us)
{
	struct window_run wr;

	*allow_us = tsc_ns(u->holdup) / NS_PER_US;
	if (*allow_us < UPDATE_LATENCY_MIN_US)
		*allow_us = UPDATE_LATENCY_MIN_US;
	wr = WINDOW_RUN(tsc_from_us(*allow_us));
	for (unsigned i = 0; !wr.clean && i + RTC_SPAN_S < u->noted; i++) {
		const struct window_steal *a = &u->before[i], *b = &u->before[i + RTC_SPAN_S];

		*k = i;
		wr.tries++;
		wr.steal = (struct window_steal){ b->stolen - a->stolen, 0, b->gaps - a->gaps };
		for (unsigned end = i; end <= i + RTC_SPAN_S; end += RTC_SPAN_S)
			if (u->at[end] - u->step[end].end <= wr.tolerable &&
			    u->step[end].len > wr.steal.longest)
				wr.steal.longest = u->step[end].len;
		wr.clean = window_clean(&wr.steal, wr.tolerable) &&
			   wr.steal.stolen <= 2 * wr.tolerable;
	}
	return wr;
}

bool rtc_updates_done(void)
{
	uint64_t allow_us;
	unsigned k;

	return update_span(&k, &allow_us).clean || u->noted == RTC_UPDATES_MAX;
}

static void check_update_interval(const char *absent)
{
	unsigned k = 0;
	uint64_t allow_us;
	const struct window_run wr = update_span(&k, &allow_us);
	const uint64_t span = wr.tries ? u->at[k + RTC_SPAN_S] - u->at[k] : 0;
	/* allow_us late at each end, over RTC_SPAN_S seconds: allow_us / RTC_SPAN_S ppm per end;
	 * the error is the rate's, as for the periodic interrupt: positive when too fast */
	const struct ppm_error e = ppm_of_span(span, tsc_from_ms(RTC_SPAN_S * MS_PER_S),
					       2 * allow_us / RTC_SPAN_S + tsc_uncertainty_ppm() +
					       DEVICE_RATE_LIMIT_PPM);
	struct claim c;
	char key[24];

	claim_open(&c, "rtc update-ended interrupts come once a second, measured by the tsc");
	claim_needs(&c, !absent, absent);
	if (!claim_judge(&c, wr.tries ? &wr : NULL, ppm_ok(&e)))
		return;
	report_yaml_u64("update_interrupts", u->noted);
	for (unsigned i = 1; i < u->noted; i++) {
		ksnprintf(key, sizeof(key), "interval%u_ms", i);
		report_yaml_fixed(key, (int64_t)(tsc_ns(u->at[i] - u->at[i - 1]) / NS_PER_US), 3);
	}
	if (wr.tries) {
		report_yaml_u64("span_from_update", k);
		report_yaml_fixed("mean_interval_ms",
				  (int64_t)(tsc_ns(span) / NS_PER_US / RTC_SPAN_S), 3);
	}
	ppm_yaml(&e);
	report_yaml_fixed("latency_allowed_ms", (int64_t)allow_us, 3);
	report_yaml_u64("irq8_without_enabled_cause", u->not_ours);
	claim_close();
}

static void format_tod(char *buf, size_t len, bool ok, const struct rtc_tod *t)
{
	if (ok)
		ksnprintf(buf, len, "%04u-%02u-%02uT%02u:%02u:%02u", t->year, t->month, t->day,
			  t->hour, t->minute, t->second);
	else
		ksnprintf(buf, len, "unreadable");
}

static void check_tod_step(const char *absent)
{
	bool ok = u->noted >= RTC_UPDATES_TIMED;
	char key[24], tod[24];
	struct claim c;

	for (unsigned i = 0; i < u->noted; i++)
		ok = ok && u->tod_ok[i] && (i == 0 || rtc_tod_seconds(&u->tod[i]) -
						       rtc_tod_seconds(&u->tod[i - 1]) == 1);
	claim_open(&c, "rtc time of day advances by one second from one update interrupt to the "
		   "next");
	claim_needs(&c, !absent, absent);
	if (!claim_judge(&c, NULL, ok))
		return;
	for (unsigned i = 0; i < u->noted; i++) {
		ksnprintf(key, sizeof(key), "after_update%u", i);
		format_tod(tod, sizeof(tod), u->tod_ok[i], &u->tod[i]);
		report_yaml(key, "%s", tod);
	}
	claim_close();
}

/* Read before the session: the banner shows it. */
void rtc_decode_check(const char *absent)
{
	const struct rtc_format fmt = absent ? (struct rtc_format){ 0 } : rtc_format();
	struct rtc_tod t;
	const bool ok = !absent && rtc_read_tod(&t);
	char tod[24];
	struct claim c;

	format_tod(tod, sizeof(tod), ok, &t);
	if (absent)
		report_banner("rtc", "none (%s)", absent);
	else
		report_banner("rtc", "%s, %s, %s", fmt.binary ? "binary" : "BCD",
			      fmt.hour24 ? "24-hour" : "12-hour", ok ? tod : "time unreadable");
	claim_open(&c, "rtc time of day decodes to a valid date and time");
	claim_needs(&c, !absent, absent);
	if (!claim_judge(&c, NULL, ok))
		return;
	report_yaml("data_mode", "%s", fmt.binary ? "binary" : "bcd");
	report_yaml("hour_mode", "%s", fmt.hour24 ? "24" : "12");
	if (rtc_century_index())
		report_yaml("century_register", "0x%02x", rtc_century_index());
	else
		report_yaml("century_register", "none (assumed %u00s)", RTC_DEFAULT_CENTURY);
	report_yaml("date_time", "%s", tod);
	claim_close();
}

/* The time of day read after the update the alarm came with is the second it came at. */
static void check_alarm(const char *absent)
{
	const unsigned i = u->alarm_update - 1;
	const bool read = u->alarm_fired && i < u->noted && u->tod_ok[i];
	char tod[24];
	struct claim c;

	claim_open(&c, "rtc alarm interrupt fires once, at the second it was set for");
	claim_needs(&c, !absent, absent);
	if (!claim_judge(&c, NULL, u->alarm_set && u->alarm_fired == 1 && read &&
			 u->tod[i].second == u->alarm_second))
		return;
	report_yaml("alarm", u->alarm_set ? "xx:xx:%02u" : "not set (time of day unreadable)",
		    u->alarm_second);
	report_yaml_u64("alarm_interrupts", u->alarm_fired);
	format_tod(tod, sizeof(tod), read, &u->tod[i < RTC_UPDATES_MAX ? i : 0]);
	report_yaml("time_of_day_after", "%s", tod);
	claim_close();
}

void rtc_clock_checks(const char *absent)
{
	check_update_interval(absent);
	check_tod_step(absent);
	check_alarm(absent);
}
