/*
 * Timer 0 of the HPET (drivers/hpet.c is the rest of the driver): how its interrupt reaches
 * the CPU, the tick source on its periodic mode, and one-shots.  Run in 32-bit mode, so that its
 * comparator is always written in one access (see hpet.c).
 */
#include "drivers/hpet.h"
#include "drivers/hpet_regs.h"
#include "drivers/ioapic.h"
#include "drivers/lapic.h"
#include "drivers/pit8254.h"
#include "lib/format.h"
#include "kernel/irq.h"
#include "kernel/x86.h"

static int timer0_gsi = HPET_ROUTE_LEGACY;
static uint32_t t0_period_counts;       /* comparator increment while periodic, else 0 */

/* ---- timer 0: routing ---- */

void hpet_route_timer0_legacy(void)
{
	timer0_gsi = HPET_ROUTE_LEGACY;
}

int hpet_ioapic_gsi_for_timer0(void)
{
	uint32_t route_cap = hpet_read32(HPET_Tn_CONF_CAP(HPET_TIMER0) + HPET_HI);

	/* The highest PCI-range input it can reach: the least likely to be shared. */
	for (int gsi = 31; gsi >= HPET_FIRST_PCI_GSI; gsi--)
		if (route_cap & (1u << gsi))
			return gsi;
	return -1;
}

/*
 * The tick path: legacy replacement arrives as ISA IRQ 0 through whichever controller is in
 * charge; an IOAPIC input is a vector of its own, level-triggered, with the local APIC's EOI.
 */
static void hpet_connect(trap_handler_fn fn)
{
	if (timer0_gsi == HPET_ROUTE_LEGACY) {
		if (fn)
			irq_register(HPET_LEGACY_IRQ_T0, fn);
		else
			irq_unregister(HPET_LEGACY_IRQ_T0);
		return;
	}
	trap_set_handler(HPET_TIMER0_VECTOR, fn, lapic_eoi);
	if (fn)
		ioapic_route_gsi((uint32_t)timer0_gsi, HPET_TIMER0_VECTOR, true);
	else
		ioapic_mask_gsi((uint32_t)timer0_gsi);
}

int hpet_route_timer0_gsi(unsigned gsi, char *why, size_t whylen)
{
	uint32_t route_cap = hpet_read32(HPET_Tn_CONF_CAP(HPET_TIMER0) + HPET_HI);

	if (gsi >= 32 || !(route_cap & (1u << gsi))) {
		ksnprintf(why, whylen, "HPET timer 0 cannot reach IOAPIC input %u "
			  "(Tn_INT_ROUTE_CAP 0x%08x)", gsi, route_cap);
		return -1;
	}
	timer0_gsi = (int)gsi;
	return 0;
}

/*
 * Connect timer 0's interrupt and return the configuration bits the route needs.  Legacy:
 * ISA IRQ 0 is edge-triggered into the 8259, and the PIT has to be quiet first since the
 * route takes its line away.  IOAPIC: the input is named in Tn_INT_ROUTE_CNF; level-triggered,
 * as PCI-style inputs above 15 are, which makes GINTR_STA need an acknowledge.
 */
static int timer0_route(uint32_t *conf, char *why, size_t whylen)
{
	uint32_t gen = hpet_read32(HPET_GEN_CONF);

	*conf &= ~(Tn_INT_ROUTE_CNF_MASK | Tn_INT_TYPE_CNF);
	if (timer0_gsi == HPET_ROUTE_LEGACY) {
		if (!hpet_legacy_capable) {
			ksnprintf(why, whylen, "this HPET has no legacy replacement route "
				  "(LEG_RT_CAP = 0) and no IOAPIC input was chosen");
			return -1;
		}
		if (!(gen & GEN_CONF_LEG_RT_CNF)) {
			pit_tick_source.stop();
			hpet_write32(HPET_GEN_CONF, gen | GEN_CONF_LEG_RT_CNF);
		}
		return 0;
	}
	hpet_write32(HPET_GEN_CONF, gen & ~GEN_CONF_LEG_RT_CNF);
	*conf |= (uint32_t)timer0_gsi << Tn_INT_ROUTE_CNF_SHIFT | Tn_INT_TYPE_CNF;
	return 0;
}

/* ---- timer 0: the tick source ---- */

/* The comparator increment for hz, to the nearest count; 0 with the reason if none fits. */
static uint32_t counts_for_hz(uint32_t hz, char *why, size_t whylen)
{
	uint32_t conf = hpet_read32(HPET_Tn_CONF_CAP(HPET_TIMER0));
	uint64_t fs_per_tick = hz ? FS_PER_S / hz : 0;
	uint64_t counts = (fs_per_tick + hpet_period_fs / 2) / hpet_period_fs;
	uint64_t min_counts = ((uint64_t)HPET_MIN_PERIOD_NS * FS_PER_NS + hpet_period_fs - 1) / hpet_period_fs;

	if (!(conf & Tn_PER_INT_CAP)) {
		ksnprintf(why, whylen, "HPET timer 0 has no periodic mode (Tn_PER_INT_CAP = 0)");
		return 0;
	}
	if (hz == 0 || counts < min_counts || counts > HPET_MAX_PERIOD_COUNTS) {
		ksnprintf(why, whylen, "the HPET cannot tick at %u Hz (period %llu counts outside "
			  "%llu..%u)", hz, (unsigned long long)counts,
			  (unsigned long long)min_counts, HPET_MAX_PERIOD_COUNTS);
		return 0;
	}
	return (uint32_t)counts;
}

static int hpet_start_periodic(uint32_t hz, char *why, size_t whylen)
{
	uint32_t conf = hpet_read32(HPET_Tn_CONF_CAP(HPET_TIMER0));
	uint32_t counts = counts_for_hz(hz, why, whylen), now;

	if (counts == 0)
		return -1;
	timer_disable(HPET_TIMER0);
	if (timer0_route(&conf, why, whylen) < 0)
		return -1;
	t0_period_counts = counts;
	conf = (conf & ~Tn_INT_ENB_CNF) | Tn_TYPE_CNF | Tn_32MODE_CNF;
	for (unsigned tries = 0; tries < TICK_ONESHOT_ARM_TRIES; tries++) {
		/*
		 * Periodic start (spec, "Periodic Mode"): with Tn_VAL_SET_CNF set, a comparator
		 * write sets the first deadline and the bit clears itself.  The spec does not say
		 * where the increment comes from: QEMU takes it from every write, some chipsets
		 * (Linux names the AMD 81xx) and Xen only from a write made with the bit clear.
		 * Two writes, deadline then increment, suit both, as in Linux's
		 * hpet_clkevt_set_state_periodic().
		 */
		hpet_write32(HPET_Tn_CONF_CAP(HPET_TIMER0), conf | Tn_VAL_SET_CNF);
		now = hpet_read32(HPET_MAIN_CNT);
		hpet_write32(HPET_Tn_COMPARATOR(HPET_TIMER0), now + t0_period_counts);
		io_delay();
		hpet_write32(HPET_Tn_COMPARATOR(HPET_TIMER0), t0_period_counts);
		/*
		 * The two writes are not atomic.  If the first deadline passes between them (a
		 * host that took the CPU for a period), QEMU has already added the first write's
		 * value, the counter itself, as the increment: the next deadline is then a whole
		 * counter's worth away, and the timer falls silent for seconds.  A sound start
		 * leaves the next deadline within one period of the counter; else start again.
		 */
		if ((uint32_t)(hpet_read32(HPET_Tn_COMPARATOR(HPET_TIMER0)) -
			       hpet_read32(HPET_MAIN_CNT)) <= t0_period_counts) {
			/* Enable last: with a stale comparator in the past, QEMU would fire at once. */
			hpet_write32(HPET_Tn_CONF_CAP(HPET_TIMER0), conf | Tn_INT_ENB_CNF);
			return 0;
		}
		timer_disable(HPET_TIMER0);
	}
	t0_period_counts = 0;
	ksnprintf(why, whylen, "HPET timer 0's first periodic deadline did not take in %u tries "
		  "(the next deadline was over a period away each time)", TICK_ONESHOT_ARM_TRIES);
	return -1;
}

static void hpet_stop(void)
{
	timer_disable(HPET_TIMER0);
	t0_period_counts = 0;
	hpet_write32(HPET_GINTR_STA, HPET_T0_INT_STS);
	/* Give IRQ 0 back to the PIT and IRQ 8 back to the RTC. */
	hpet_write32(HPET_GEN_CONF, hpet_read32(HPET_GEN_CONF) & ~GEN_CONF_LEG_RT_CNF);
}

/* A level-triggered interrupt stays asserted until its GINTR_STA bit is written with 1. */
static bool hpet_ack(void)
{
	if (timer0_gsi != HPET_ROUTE_LEGACY)
		hpet_write32(HPET_GINTR_STA, HPET_T0_INT_STS);
	return true;
}

static uint64_t counts_period_ps(uint32_t counts)
{
	return (uint64_t)counts * hpet_period_fs / FS_PER_PS;
}

static uint64_t hpet_period_ps(void)
{
	return counts_period_ps(t0_period_counts);
}

static int hpet_plan_periodic(uint32_t hz, char *buf, size_t len)
{
	uint32_t counts = counts_for_hz(hz, buf, len);
	char us[24];

	if (counts == 0)
		return -1;
	ksnprintf(buf, len, "hpet timer 0, periodic, comparator increment %u counts of %u fs, "
		  "period %s us", counts, hpet_period_fs,
		  fmt_fixed(us, sizeof(us), (int64_t)(counts_period_ps(counts) / 1000), 3));
	return 0;
}

void hpet_describe_route(int gsi, char *buf, size_t len)
{
	if (gsi == HPET_ROUTE_LEGACY)
		ksnprintf(buf, len, "legacy replacement to IRQ 0");
	else
		ksnprintf(buf, len, "IOAPIC input %d, level", gsi);
}

static int hpet_tick_oneshot(uint64_t delay_ns, char *why, size_t whylen)
{
	uint64_t counts = (delay_ns * FS_PER_NS + hpet_period_fs - 1) / hpet_period_fs;

	if (hpet_arm_oneshot(counts) < 0) {
		ksnprintf(why, whylen, "HPET timer 0 could not be armed %llu counts ahead",
			  (unsigned long long)counts);
		return -1;
	}
	return 0;
}

/* In one-shot mode the comparator holds the deadline itself (t0_period_counts is 0). */
static bool hpet_tick_expired(void)
{
	return hpet_timer0_since_deadline() >= 0;
}

const struct tick_source hpet_tick_source = {
	.name = "hpet",
	.irq = HPET_LEGACY_IRQ_T0,
	.caps = TICK_CAP_PERIODIC | TICK_CAP_ONESHOT,
	.start_periodic = hpet_start_periodic,
	.stop = hpet_stop,
	.ack = hpet_ack,
	.period_ps = hpet_period_ps,
	.plan_periodic = hpet_plan_periodic,
	.connect = hpet_connect,
	.arm_oneshot = hpet_tick_oneshot,
	.oneshot_expired = hpet_tick_expired,
};

/* ---- timer 0: one shot ---- */

int hpet_arm_oneshot(uint64_t delta_counts)
{
	uint32_t conf = hpet_read32(HPET_Tn_CONF_CAP(HPET_TIMER0));
	uint32_t deadline;
	char why[80];

	if (delta_counts == 0 || delta_counts > HPET_MAX_PERIOD_COUNTS)
		return -1;
	timer_disable(HPET_TIMER0);
	if (timer0_route(&conf, why, sizeof(why)) < 0)
		return -1;
	t0_period_counts = 0;
	/*
	 * conf was read before timer_disable(), so it may still say enabled: keep the interrupt
	 * off until the new deadline is in, or the old one (already past) fires at once.
	 */
	conf = (conf & ~(Tn_TYPE_CNF | Tn_VAL_SET_CNF | Tn_INT_ENB_CNF)) | Tn_32MODE_CNF;
	hpet_write32(HPET_Tn_CONF_CAP(HPET_TIMER0), conf);
	deadline = hpet_read32(HPET_MAIN_CNT) + (uint32_t)delta_counts;
	hpet_write32(HPET_Tn_COMPARATOR(HPET_TIMER0), deadline);
	hpet_write32(HPET_Tn_CONF_CAP(HPET_TIMER0), conf | Tn_INT_ENB_CNF);
	/*
	 * The comparator only matches on equality: if the counter passed the deadline before the
	 * write landed, the interrupt would come one counter wrap later.  Say so instead, as
	 * Linux's hpet_clkevt_set_next_event() does.
	 */
	if ((int32_t)(hpet_read32(HPET_MAIN_CNT) - deadline) >= 0)
		return -1;
	return 0;
}

int32_t hpet_timer0_since_deadline(void)
{
	uint32_t now = hpet_read32(HPET_MAIN_CNT);
	/* In periodic mode the comparator already holds the next deadline. */
	uint32_t deadline = hpet_read32(HPET_Tn_COMPARATOR(HPET_TIMER0)) - t0_period_counts;

	return (int32_t)(now - deadline);
}
