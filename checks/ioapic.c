/*
 * The IOAPIC (Intel 82093AA datasheet; ACPI 6.5, 5.2.12 for the MADT's overrides): it routes
 * ISA IRQ 0 from the PIT, through the override to its GSI, at the PIT's rate, and nothing
 * arrives on any other line or vector meanwhile; and a tick it delivered just before the 8259
 * takes over again is acknowledged where it was delivered, at the local APIC.
 *
 * The rate is taken the way the local APIC timer's is (checks/lapic.c): latency is taken out
 * with the device's own counter.  The handler latches channel 0's count inside a TSC bracket;
 * in mode 2 the PIT has counted divisor - count since the reload that raised IRQ 0, so the
 * first and the last tick give a span that is a whole number of periods even where ticks
 * were lost.
 */
#include "checks/checks.h"
#include "checks/measure.h"
#include "acct/stats.h"
#include "acct/steal.h"
#include "kernel/irq.h"
#include "kernel/report.h"
#include "kernel/trap.h"
#include "kernel/x86.h"
#include "drivers/ioapic.h"
#include "drivers/lapic.h"
#include "drivers/pit8254.h"
#include "drivers/tsc.h"

/* 1 kHz for 200 ms: 200 ticks, under TCG a rate at which QEMU drops some (lost, not failed). */
#define PIT_RATE_HZ     1000
#define WINDOW_MS       200

#define CLAIM "ioapic routes the PIT (ISA IRQ 0) at its programmed rate"

/*
 * What the PIT handler saw: channel 0's count latched inside a TSC bracket, for the first
 * END_TICKS ticks and the latest END_TICKS.  Each end of the span is timed by its narrowest
 * bracket: a host that takes the CPU inside one end read widens that bracket alone.
 */
#define END_TICKS       8

struct tick_read {
	uint64_t tsc, width;            /* the bracket's midpoint and width */
	uint32_t left;                  /* channel 0's count */
	unsigned n;                     /* which tick */
};

static volatile unsigned ticks;
static volatile bool recording;         /* off once the PIT is stopped: its count means nothing */
static struct tick_read first[END_TICKS], latest[END_TICKS];

static void pit_tick(struct trapframe *tf)
{
	struct tick_read t = { .tsc = rdtsc(), .n = ticks };

	(void)tf;
	if (!recording)
		return;
	t.left = pit_ch0_count();
	t.width = rdtsc() - t.tsc;
	t.tsc += t.width / 2;
	if (t.n < END_TICKS)
		first[t.n] = t;
	latest[t.n % END_TICKS] = t;
	ticks++;
}

/* The narrowest read among ticks [from, to) of those kept (the first, or the latest); a slot
 * this window did not write holds an earlier window's tick numbered past `to`. */
static struct tick_read narrowest(const struct tick_read *kept, unsigned from, unsigned to)
{
	struct tick_read best = { .width = UINT64_MAX };

	for (unsigned i = 0; i < END_TICKS; i++)
		if (kept[i].n >= from && kept[i].n < to && kept[i].width < best.width)
			best = kept[i];
	return best;
}

/* Interrupts nobody asked for: on an ISA line nobody registered, or on a vector nobody owns. */
static uint32_t stray_count(void)
{
	const struct irq_counts *c = irq_counts();
	uint32_t n = trap_unexpected_count();

	for (unsigned i = 0; i < NR_ISA_IRQS; i++)
		n += c->unhandled[i];
	return n;
}

struct pit_run {
	struct ioapic_pin pin;
	char why[96];                   /* why the PIT would not start */
	unsigned ticks;
	uint32_t stray;
	struct tick_read a, b;          /* the two ends */
	uint64_t span, expected;        /* TSC cycles: latency taken out; whole periods of it */
	uint64_t periods, lost;         /* periods between the ends; those not delivered */
	uint64_t programmed_mhz, measured_mhz;
	struct ppm_error e;             /* + when the ticks come fast */
};

/* One window: the IOAPIC in charge, the PIT running, the previous controller back after. */
static void measure(struct pit_run *p)
{
	const struct irqchip *prev = irq_chip();
	uint32_t stray0 = stray_count(), divisor;
	unsigned ends;
	uint64_t period;

	*p = (struct pit_run){ .why = "" };
	irq_set_chip(ioapic_select());
	ticks = 0;
	irq_register(0, pit_tick);
	ioapic_route(0, &p->pin);       /* after irq_register: the entry as unmasked */
	if (pit_tick_source.start_periodic(PIT_RATE_HZ, p->why, sizeof(p->why)) == 0) {
		recording = true;
		sti();
		window_wait_until(rdtsc() + tsc_from_ms(WINDOW_MS));
		cli();
		recording = false;
		pit_tick_source.stop();
	}
	/*
	 * A stop does not take back a tick already delivered, and QEMU's 8254 still raises the
	 * edge it had scheduled before the new control word (it re-plans only when a count is
	 * written), a millisecond or, on a loaded host, much later.  So the pin is masked first:
	 * the IOAPIC drops an edge on a masked pin.  A tick it sent before that lands now, on a
	 * line still registered.  Left pending past the switch back to the 8259, it would be
	 * taken with the 8259's EOI, never the local APIC's, and its in-service bit would hold
	 * off every ISA vector for good (seen: the run after the checks got no tick at all).
	 */
	irq_chip()->mask(0);
	irq_drain_ms(MS_PER_S / PIT_RATE_HZ);
	irq_unregister(0);
	ioapic_deselect();
	irq_set_chip(prev);

	p->ticks = ticks;
	p->stray = stray_count() - stray0;
	if (p->ticks < 2)
		return;
	/* each end from its half of the ticks, so the two never coincide */
	ends = p->ticks / 2 < END_TICKS ? p->ticks / 2 : END_TICKS;
	p->a = narrowest(first, 0, ends);
	p->b = narrowest(latest, p->ticks - ends, p->ticks);
	divisor = pit_ch0_divisor();
	p->programmed_mhz = 1000000000000000ull / pit_tick_source.period_ps();
	/* PIT input counts to TSC cycles at the PIT's nominal rate */
	period = tsc_from_counts(divisor, PIT_HZ);
	p->span = (p->b.tsc - tsc_from_counts(divisor - p->b.left, PIT_HZ)) -
		  (p->a.tsc - tsc_from_counts(divisor - p->a.left, PIT_HZ));
	p->periods = (p->span + period / 2) / period;
	p->lost = p->periods > p->b.n - p->a.n ? p->periods - (p->b.n - p->a.n) : 0;
	if (p->periods == 0)
		return;
	p->expected = period * p->periods;
	p->measured_mhz = p->periods * tsc_refclock.freq_hz * 1000 / p->span;
	/*
	 * Two count reads of one PIT count each (plus one for mode 2's reload count), the two
	 * read brackets (each end's moment is known to half of its own), the TSC's calibration
	 * (the PIT's rate is nominal, so the TSC's error does not cancel here), one for the
	 * rounding, and the device limit.
	 */
	p->e = ppm_of_span(p->span, p->expected,
			   div_up(3 * tsc_from_counts(1, PIT_HZ) * PPM, p->expected) +
			   div_up((p->a.width + p->b.width) / 2 * PPM, p->expected) + 1 +
			   tsc_uncertainty_ppm() + DEVICE_RATE_LIMIT_PPM);
}

/*
 * The window's steal reaches the rate only inside the two end reads: the count taken out puts
 * every tick back on the PIT's grid however late its handler ran, and a tick the host kept the
 * CPU over is lost, not wrong.  A step inside an end read widens the bound by its own length,
 * which would leave a bound that asks little; each end is the narrowest of eight reads (about
 * a microsecond each), so only a host that took the CPU inside all of them spoils one: the
 * window is void when an end read took a step over the steal threshold.  With fewer than two
 * ticks, it is void if any step was a PIT period or more: the host held the ticks back.
 */
static bool spoilt(const struct pit_run *p)
{
	const uint64_t step = tsc_from_us(STEAL_THRESHOLD_US);

	if (p->ticks < 2)
		return window_end().longest >= tsc_from_us(US_PER_S / PIT_RATE_HZ);
	return p->a.width > step || p->b.width > step;
}

/*
 * The switch of controllers (irq_set_chip).  The local APIC needs an EOI for every interrupt
 * the IOAPIC delivers; the 8259 wants its own.  A PIT tick the IOAPIC delivered while
 * interrupts were off waits in the local APIC's IRR, and if it is taken only after the 8259 is
 * back in charge, it gets the 8259's EOI: its in-service bit then stays set and holds off every
 * ISA vector, the run's tick with them.  So a tick is left pending on purpose, the controllers
 * are switched, and afterwards nothing may be in service.
 */
#define SWITCH_CLAIM    "an ioapic interrupt pending as the 8259 takes over is acknowledged " \
			"at the local APIC"
#define PENDING_MS      100     /* with interrupts off, wait this long for a tick to be pending */

static volatile unsigned switch_ticks;

static void switch_tick(struct trapframe *tf)
{
	(void)tf;
	switch_ticks++;
}

static void vector_yaml(const char *key, int vector)
{
	if (vector < 0)
		report_yaml(key, "none");
	else
		report_yaml(key, "0x%02x", (unsigned)vector);
}

static void check_switch(const char *ioapic_why)
{
	const struct irqchip *prev = irq_chip();
	const uint64_t end = rdtsc() + tsc_from_ms(PENDING_MS);
	struct ioapic_pin pin;
	struct claim c;
	char why[96] = "";
	int pending = -1, in_service = -1;

	claim_open(&c, SWITCH_CLAIM);
	claim_needs(&c, !ioapic_why, ioapic_why);
	if (!c.skip) {
		cli();
		irq_set_chip(ioapic_select());
		switch_ticks = 0;
		irq_register(0, switch_tick);
		ioapic_route(0, &pin);
		if (pit_tick_source.start_periodic(PIT_RATE_HZ, why, sizeof(why)) == 0)
			while ((pending = lapic_requested()) < 0 && (int64_t)(rdtsc() - end) < 0)
				cpu_relax();
		pit_tick_source.stop();
		irq_chip()->mask(0);    /* the tick pending stays the only one (see measure()) */
		ioapic_deselect();
		irq_set_chip(prev);
		irq_drain_ms(MS_PER_S / PIT_RATE_HZ);   /* where it lands without the switch's care */
		in_service = lapic_in_service();
		irq_unregister(0);
		if (in_service >= 0)
			lapic_eoi();    /* so that the checks after this one are not held off too */
	}
	if (pending < 0 ? !claim_not_judged(&c, "no PIT tick reached the local APIC in %u ms with "
					    "interrupts off%s%s", PENDING_MS, why[0] ? ": " : "",
					    why) :
	    !claim_judge(&c, NULL, in_service < 0 && switch_ticks == 1))
		return;
	vector_yaml("pending_vector", pending);
	report_yaml_u64("ticks_taken", switch_ticks);
	vector_yaml("in_service_after", in_service);
	claim_close();
}

static void check_rate(const char *ioapic_why)
{
	struct window_run wr = WINDOW_RUN(UINT64_MAX);
	struct pit_run p = { .ticks = 0 };
	struct claim c;

	claim_open(&c, CLAIM);
	claim_needs(&c, !ioapic_why, ioapic_why);
	if (!c.skip)
		while (window_again(&wr)) {
			measure(&p);
			wr.spoilt = spoilt(&p);
		}
	if (!claim_judge(&c, &wr, ppm_ok(&p.e) && p.stray == 0))
		return;
	if (p.why[0])
		report_yaml("problem", "the PIT did not start: %s", p.why);
	report_yaml_u64("gsi", p.pin.gsi);
	report_yaml_u64("ioapic_id", p.pin.ioapic_id);
	report_yaml_u64("pin", p.pin.pin);
	report_yaml("override", "%s", p.pin.overridden ? "true" : "false");
	report_yaml("polarity", "%s", p.pin.active_low ? "low" : "high");
	report_yaml("trigger", "%s", p.pin.level ? "level" : "edge");
	report_yaml("redirection_entry", "0x%016llx", (unsigned long long)p.pin.entry);
	report_yaml_fixed("programmed_hz", (int64_t)p.programmed_mhz, 3);
	report_yaml_fixed("measured_hz", (int64_t)p.measured_mhz, 3);
	report_yaml_u64("ticks", p.ticks);
	report_yaml_u64("periods_measured", p.periods);
	report_yaml_u64("lost_ticks", p.lost);
	report_yaml_fixed("error_ppm", p.e.err_mppm, 3);
	report_yaml_u64("bound_ppm", p.e.bound_ppm);
	report_yaml_fixed("first_read_bracket_us", (int64_t)tsc_ns(p.a.width), 3);
	report_yaml_fixed("last_read_bracket_us", (int64_t)tsc_ns(p.b.width), 3);
	report_yaml_u64("stray_interrupts", p.stray);
	claim_close();
}

void ioapic_checks(const char *ioapic_why)
{
	check_rate(ioapic_why);
	check_switch(ioapic_why);
}
