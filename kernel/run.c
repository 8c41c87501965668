/*
 * The accounting run (run.h): the workload's tasks on the tick source timer= chose, its tick
 * held against the reference clock= chose.  Chosen and checked before the device checks, so a
 * bad command line stops the guest at once and the run's banner lines come before the first
 * check; applied after them, since the device checks reprogram every device.
 */
#include "kernel/run.h"
#include "kernel/console.h"
#include "kernel/irq.h"
#include "kernel/panic.h"
#include "kernel/report.h"
#include "drivers/acpi_pmtimer.h"
#include "drivers/hpet.h"
#include "drivers/ioapic.h"
#include "drivers/lapic.h"
#include "drivers/pit8254.h"
#include "drivers/rtc_cmos.h"
#include "kernel/apic_setup.h"
#include "acct/acct_report.h"
#include "lib/format.h"
#include "sched/sched.h"

/* us * hz / 1e6 without overflowing for an hour at 20 GHz */
static uint64_t cycles_from_us(uint64_t us, uint64_t hz)
{
	return us / 1000000 * hz + us % 1000000 * hz / 1000000;
}

/* The device timer= asks for, or NULL with *why saying what the platform lacks. */
static const struct tick_source *choose_tick_source(enum timer_kind t, const char *hpet_why,
						    const char **why)
{
	switch (t) {
	case TIMER_PIT:
		return &pit_tick_source;
	case TIMER_HPET:
		*why = hpet_why;
		return hpet_why ? NULL : &hpet_tick_source;
	case TIMER_RTC:
		return rtc_present(why) ? &rtc_tick_source : NULL;
	case TIMER_LAPIC:
		*why = apic_lapic_missing();
		return *why ? NULL : &lapic_tick_source;
	}
	*why = "unknown timer";
	return NULL;
}

/* irq=: the IOAPIC when asked for or, by default, when the MADT lists one. */
static bool choose_irq_route(const struct config *cfg)
{
	const char *why = apic_ioapic_missing();

	if (cfg->irq == IRQ_ROUTE_IOAPIC && why)
		report_bail(EXIT_BAD_CONFIG, "irq=ioapic: %s", why);
	if (why) {
		report_banner("irq routing", "8259 PICs (no IOAPIC: %s)", why);
		return false;
	}
	if (cfg->irq == IRQ_ROUTE_PIC) {
		report_banner("irq routing", "8259 PICs, as irq=pic asked");
		return false;
	}
	report_banner("irq routing", "IOAPIC, 8259 PICs masked");
	return true;
}

/*
 * The HPET reaches the 8259s only by legacy replacement (timer 0 takes ISA IRQ 0 from the PIT);
 * with an IOAPIC it gets an input of its own, as modern systems route it, if it can reach one.
 */
static void route_hpet(int gsi)
{
	char why[96];

	if (gsi < 0 || hpet_route_timer0_gsi((unsigned)gsi, why, sizeof(why)) < 0)
		hpet_route_timer0_legacy();
}

/* clock=: the reference tick time is held against; a clock that is absent is bad config. */
static struct refclock *choose_tick_reference(enum clock_kind c, const char *pmtimer_why,
					      const char *hpet_why)
{
	switch (c) {
	case CLOCK_PMTIMER:
		if (pmtimer_why)
			report_bail(EXIT_BAD_CONFIG, "clock=pmtimer: %s", pmtimer_why);
		return &pmtimer_refclock;
	case CLOCK_HPET:
		if (hpet_why)
			report_bail(EXIT_BAD_CONFIG, "clock=hpet: %s", hpet_why);
		return &hpet_refclock;
	case CLOCK_TSC:
		break;
	}
	return &tsc_refclock;
}

void run_plan(struct run_plan *p, const struct config *cfg, const char *pmtimer_why,
	      const char *hpet_why)
{
	const char *why = NULL;
	char line[160], route[48];

	p->src = choose_tick_source(cfg->timer, hpet_why, &why);
	if (!p->src)
		report_bail(EXIT_BAD_CONFIG, "timer=%s: %s", config_timer_name(cfg->timer), why);
	p->ioapic = choose_irq_route(cfg);
	p->hpet_gsi = p->ioapic && p->src == &hpet_tick_source ? hpet_ioapic_gsi_for_timer0() : -1;
	p->ref = choose_tick_reference(cfg->clock, pmtimer_why, hpet_why);
	if (p->src->plan_periodic(cfg->hz, line, sizeof(line)) < 0)
		report_bail(EXIT_BAD_CONFIG, "hz=%u: %s", cfg->hz, line);
	if (p->src == &hpet_tick_source) {
		hpet_describe_route(p->hpet_gsi, route, sizeof(route));
		report_banner("tick source", "%s, %s", line, route);
	} else {
		report_banner("tick source", "%s", line);
	}
	report_banner("tick clock", "against the %s; lostticks=%s, sponge=%s, idle=%s, stats %s",
		      p->ref->name, config_lostticks_name(cfg->lostticks),
		      config_sponge_name(cfg->sponge), config_idle_name(cfg->idle),
		      cfg->stats_us ? "on" : "off");
}

/*
 * The CMOS clock's time of day beside the TSC, at the run's start and end: a host that
 * deschedules the VM can tell from the two pairs whether the guest's time of day went on
 * through it (QEMU's RTC follows the host's clock by default) while the TSC stopped, or the
 * other way round.  Whole seconds only: the chip counts no finer.
 */
static void note_time_of_day(const char *when)
{
	const uint64_t tsc_us = tsc_ns(rdtsc()) / 1000;
	const char *why = NULL;
	struct rtc_tod t;
	char b[24];

	if (!rtc_present(&why)) {
		report_note("time of day at the run's %s: no RTC (%s)", when, why);
		return;
	}
	if (!rtc_read_tod(&t)) {
		report_note("time of day at the run's %s: unreadable (no steady reading, or one "
			    "that does not decode to a date)", when);
		return;
	}
	report_note("time of day at the run's %s: %04u-%02u-%02u %02u:%02u:%02u at tsc %s s", when,
		    t.year, t.month, t.day, t.hour, t.minute, t.second,
		    fmt_fixed(b, sizeof(b), (int64_t)tsc_us, 6));
}

void run_accounting(const struct run_plan *p, const struct config *cfg,
		    const struct tsc_calibration *cal)
{
	struct tick_options opt = {
		.compensate = cfg->lostticks == LOSTTICKS_COMPENSATE, .stats_us = cfg->stats_us,
		.tsc_hz = cal->hz,
	};
	char err[160];
	int v;

	if (p->ioapic)
		irq_set_chip(ioapic_select());
	/* An interrupt taken and never acknowledged holds off its priority class and every one
	 * below it: the tick would never come, and the watchdog would blame the device. */
	if (lapic_ready() && (v = lapic_in_service()) >= 0)
		panic("vector 0x%02x is still in service at the local APIC as the run starts: an "
		      "interrupt was taken and never acknowledged", (unsigned)v);
	if (p->src == &hpet_tick_source)
		route_hpet(p->hpet_gsi);
	sched_init(cfg, cal->hz);
	if (cfg->sponge == SPONGE_CHARGE)
		opt.catchup_sink = &sched_sponge()->acct;
	acct_report_set_w(cfg->w_ppm);
	/* plan_periodic() took hz, so a refusal now is the device's doing, not the command line's */
	if (tick_start(p->src, p->ref, cfg->hz, &opt, err, sizeof(err)) < 0)
		report_bail(EXIT_DEVICE, "the %s would not start at %u Hz: %s", p->src->name,
			    cfg->hz, err);
	sched_set_tick_period(tick_period_in(cal->hz));
	if (cfg->fault == FAULT_TICK) {
		report_note("masking the %s's interrupt as asked by fault=tick", p->src->name);
		tick_source_connect(p->src, 0);
	}
	note_time_of_day("start");
	report_note("running %u tasks for %llu ms", cfg->ntasks,
		    (unsigned long long)(cfg->duration_us / 1000));

	/* the run's length is counted by the tick clock's reference, in its own counts */
	sched_run(cycles_from_us(cfg->duration_us, p->ref->freq_hz));

	tick_stop();
	irq_chip()->mask_all();
	/* what the console task had not written yet, before the checks */
	console_flush_queued();
	note_time_of_day("end");
}
