/*
 * The High Precision Event Timer (IA-PC HPET specification 1.0a, October 2004).
 *
 * One block of memory-mapped registers holds a free-running up-counter, the main counter, and
 * 3 to 32 timers.  Each timer is a comparator: when the main counter reaches its value the timer
 * interrupts.  In periodic mode the hardware then adds the period to the comparator by itself,
 * so the rate never depends on how late software handles the interrupt.  The counter period is
 * read from the capabilities register, in femtoseconds, so the HPET needs no calibration.
 *
 * How its interrupts reach the CPU is the awkward part.  Legacy replacement (LEG_RT_CNF) wires
 * timer 0 to ISA IRQ 0 and timer 1 to IRQ 8, cutting the PIT and the RTC off those lines; that
 * works through the 8259 and through the IOAPIC's ISA inputs alike.  Otherwise each timer names
 * an IOAPIC input in Tn_INT_ROUTE_CNF, from the set its Tn_INT_ROUTE_CAP allows; tickguest can
 * route timer 0 either way (hpet_route_timer0_legacy, hpet_route_timer0_gsi).
 *
 * The registers are 64 bits wide; an i686 reads and writes them as two 32-bit halves, which
 * is allowed by the spec but means a 64-bit counter must be read with care.  Timer 0 is run
 * in 32-bit mode so that its comparator is always written in one access.
 *
 * The register block is in the uncached top GiB that paging.c maps; the base address comes from
 * the ACPI HPET table (spec, "ACPI 2.0 HPET Description Table").
 */
#include "drivers/hpet.h"
#include "drivers/ioapic.h"
#include "drivers/lapic.h"
#include "kernel/irq.h"
#include "drivers/acpi.h"
#include "drivers/pit8254.h"
#include "kernel/format.h"
#include "kernel/x86.h"

/* Register offsets (spec, "Register Overview") */
#define HPET_GCAP_ID            0x000   /* general capabilities and ID */
#define HPET_GEN_CONF           0x010   /* general configuration */
#define HPET_GINTR_STA          0x020   /* general interrupt status */
#define HPET_MAIN_CNT           0x0f0   /* main counter value */
#define HPET_Tn_CONF_CAP(n)     (0x100 + 0x20 * (n))   /* timer n configuration and capability */
#define HPET_Tn_COMPARATOR(n)   (0x108 + 0x20 * (n))   /* timer n comparator value */
#define HPET_HI                 4       /* offset of a register's upper 32 bits */

/* GCAP_ID, low half */
#define GCAP_NUM_TIM_CAP_SHIFT  8       /* number of the last timer: timers = this + 1 */
#define GCAP_NUM_TIM_CAP_MASK   0x1fu
#define GCAP_COUNT_SIZE_CAP     (1u << 13)      /* main counter is 64 bits wide */
#define GCAP_LEG_RT_CAP         (1u << 15)      /* legacy replacement route is supported */
/* GCAP_ID, high half: COUNTER_CLK_PERIOD, in fs; the spec caps it at 100 ns */
#define GCAP_PERIOD_MAX_FS      100000000u

/* GEN_CONF */
#define GEN_CONF_ENABLE_CNF     (1u << 0)       /* main counter runs, timers may interrupt */
#define GEN_CONF_LEG_RT_CNF     (1u << 1)       /* legacy replacement route */

/* Tn_CONF_CAP, low half (the high half is Tn_INT_ROUTE_CAP, a bit per IOAPIC input) */
#define Tn_INT_TYPE_CNF         (1u << 1)       /* 1 = level-triggered, 0 = edge */
#define Tn_INT_ENB_CNF          (1u << 2)       /* interrupt enabled */
#define Tn_TYPE_CNF             (1u << 3)       /* 1 = periodic */
#define Tn_PER_INT_CAP          (1u << 4)       /* periodic mode is supported */
#define Tn_SIZE_CAP             (1u << 5)       /* comparator is 64 bits wide */
#define Tn_VAL_SET_CNF          (1u << 6)       /* next comparator write sets the accumulator */
#define Tn_32MODE_CNF           (1u << 8)       /* run a 64-bit timer as a 32-bit one */
#define Tn_INT_ROUTE_CNF_SHIFT  9
#define Tn_INT_ROUTE_CNF_MASK   (0x1fu << Tn_INT_ROUTE_CNF_SHIFT)

/*
 * The ACPI HPET table: after the 36-byte header and the 4-byte Event Timer Block ID comes
 * BASE_ADDRESS, a 12-byte Generic Address Structure whose 64-bit address starts at its byte 4.
 */
#define ACPI_HPET_GAS           40
#define ACPI_GAS_SPACE_ID       0       /* byte offsets within the GAS */
#define ACPI_GAS_ADDRESS        4
#define ACPI_GAS_SYSTEM_MEMORY  0
#define UNCACHED_MMIO_START     0xc0000000ull   /* paging.c maps the top GiB uncached */

#define FS_PER_S                1000000000000000ull
#define FS_PER_PS               1000u
#define FS_PER_NS               1000000u

#define HPET_TIMER0             0
#define HPET_T0_INT_STS         (1u << HPET_TIMER0)     /* GINTR_STA bit of timer 0 */
#define HPET_LEGACY_IRQ_T0      0       /* ISA IRQ timer 0 drives under LEG_RT_CNF */
#define HPET_ROUTE_LEGACY       (-1)
#define HPET_FIRST_PCI_GSI      16      /* below are the ISA lines */

/*
 * The shortest tick period we program.  Each tick costs an interrupt and a few register reads,
 * microseconds each under emulation, and the first deadline of a periodic start is one period
 * after the counter was read: it must not pass before the comparator write lands (a comparator
 * matches on equality, so a missed one only matches again after a counter wrap).  100 us leaves ample margin.
 */
#define HPET_MIN_PERIOD_NS      100000u
/* The longest: 32-bit mode keeps the comparator distance in a signed 32-bit difference. */
#define HPET_MAX_PERIOD_COUNTS  0x7fffffffu

static volatile uint8_t *regs;
static uint32_t period_fs;              /* COUNTER_CLK_PERIOD */
static unsigned num_timers;
static bool legacy_capable;
static bool counter_64bit;
static int timer0_gsi = HPET_ROUTE_LEGACY;
static uint32_t t0_period_counts;       /* comparator increment while periodic, else 0 */
static char why_buf[96];

static uint32_t hpet_read32(unsigned off)
{
	return *(volatile uint32_t *)(regs + off);
}

static void hpet_write32(unsigned off, uint32_t v)
{
	*(volatile uint32_t *)(regs + off) = v;
}

/* The high half can change between the two reads: read it again and retry until it holds. */
static uint64_t hpet_main_cnt(void)
{
	uint32_t hi, lo, hi2;

	if (!counter_64bit)
		return hpet_read32(HPET_MAIN_CNT);
	hi = hpet_read32(HPET_MAIN_CNT + HPET_HI);
	for (;;) {
		lo = hpet_read32(HPET_MAIN_CNT);
		hi2 = hpet_read32(HPET_MAIN_CNT + HPET_HI);
		if (hi2 == hi)
			return (uint64_t)hi << 32 | lo;
		hi = hi2;
	}
}

struct refclock hpet_refclock = {
	.name = "hpet",
	.read_raw = hpet_main_cnt,
};

/* ---- init ---- */

static void timer_disable(unsigned n)
{
	hpet_write32(HPET_Tn_CONF_CAP(n),
		     hpet_read32(HPET_Tn_CONF_CAP(n)) & ~(Tn_INT_ENB_CNF | Tn_TYPE_CNF));
}

static bool hpet_fail(const char **why, const char *fmt, uint32_t a, uint32_t b)
{
	ksnprintf(why_buf, sizeof(why_buf), fmt, a, b);
	*why = why_buf;
	regs = 0;
	return false;
}

bool hpet_init(const char **why)
{
	const struct acpi_info *a = acpi_info();
	const uint8_t *t = a->hpet;
	uint64_t base = 0;
	uint32_t cap;

	if (!a->found || !t) {
		*why = "no HPET table";
		return false;
	}
	for (int i = 0; i < 8; i++)
		base |= (uint64_t)t[ACPI_HPET_GAS + ACPI_GAS_ADDRESS + i] << (8 * i);
	if (t[ACPI_HPET_GAS + ACPI_GAS_SPACE_ID] != ACPI_GAS_SYSTEM_MEMORY)
		return hpet_fail(why, "the HPET table puts the registers in address space %u, not %u (memory)",
				 t[ACPI_HPET_GAS + ACPI_GAS_SPACE_ID], ACPI_GAS_SYSTEM_MEMORY);
	if (base < UNCACHED_MMIO_START || base >= 0x100000000ull)
		return hpet_fail(why, "the HPET registers at 0x%08x%08x are outside the uncached top GiB",
				 (uint32_t)(base >> 32), (uint32_t)base);
	regs = (volatile uint8_t *)phys_ptr((uintptr_t)base);

	cap = hpet_read32(HPET_GCAP_ID);
	period_fs = hpet_read32(HPET_GCAP_ID + HPET_HI);
	/* No device decodes the address: reads float to all ones. */
	if (period_fs == 0 || period_fs > GCAP_PERIOD_MAX_FS)
		return hpet_fail(why, "the HPET reports COUNTER_CLK_PERIOD %u fs, outside 1..%u",
				 period_fs, GCAP_PERIOD_MAX_FS);
	num_timers = ((cap >> GCAP_NUM_TIM_CAP_SHIFT) & GCAP_NUM_TIM_CAP_MASK) + 1;
	legacy_capable = cap & GCAP_LEG_RT_CAP;
	counter_64bit = cap & GCAP_COUNT_SIZE_CAP;

	/* Quiet every timer before the counter runs, so no stale comparator fires. */
	for (unsigned n = 0; n < num_timers; n++)
		timer_disable(n);
	/* Leave ENABLE_CNF alone if the firmware set it: the counter then keeps its count. */
	hpet_write32(HPET_GEN_CONF,
		     (hpet_read32(HPET_GEN_CONF) & ~GEN_CONF_LEG_RT_CNF) | GEN_CONF_ENABLE_CNF);

	hpet_refclock.freq_hz = (FS_PER_S + period_fs / 2) / period_fs;
	hpet_refclock.width = counter_64bit ? 64 : 32;
	refclock_restart(&hpet_refclock);
	*why = "";
	return true;
}

void hpet_describe_device(char *buf, size_t len)
{
	ksnprintf(buf, len, "at 0x%08x, %u timers, %u-bit counter, period %u fs (%llu Hz), "
		  "legacy route %s", (unsigned)(uintptr_t)regs, num_timers, hpet_refclock.width,
		  period_fs, (unsigned long long)hpet_refclock.freq_hz,
		  legacy_capable ? "capable" : "not capable");
}

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
		if (!legacy_capable) {
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

static int hpet_start_periodic(uint32_t hz, char *why, size_t whylen)
{
	uint32_t conf = hpet_read32(HPET_Tn_CONF_CAP(HPET_TIMER0));
	uint64_t fs_per_tick = hz ? FS_PER_S / hz : 0;
	/* Round the comparator increment to the nearest whole count. */
	uint64_t counts = (fs_per_tick + period_fs / 2) / period_fs;
	uint64_t min_counts = ((uint64_t)HPET_MIN_PERIOD_NS * FS_PER_NS + period_fs - 1) / period_fs;
	uint32_t now;

	if (!(conf & Tn_PER_INT_CAP)) {
		ksnprintf(why, whylen, "HPET timer 0 has no periodic mode (Tn_PER_INT_CAP = 0)");
		return -1;
	}
	if (hz == 0 || counts < min_counts || counts > HPET_MAX_PERIOD_COUNTS) {
		ksnprintf(why, whylen, "the HPET cannot tick at %u Hz (period %llu counts outside "
			  "%llu..%u)", hz, (unsigned long long)counts,
			  (unsigned long long)min_counts, HPET_MAX_PERIOD_COUNTS);
		return -1;
	}
	timer_disable(HPET_TIMER0);
	if (timer0_route(&conf, why, whylen) < 0)
		return -1;
	t0_period_counts = (uint32_t)counts;
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

static uint64_t hpet_period_ps(void)
{
	return (uint64_t)t0_period_counts * period_fs / FS_PER_PS;
}

static void hpet_describe(char *buf, size_t len)
{
	char us[24], route[48];

	if (timer0_gsi == HPET_ROUTE_LEGACY)
		ksnprintf(route, sizeof(route), "legacy replacement to IRQ 0");
	else
		ksnprintf(route, sizeof(route), "IOAPIC input %d, level", timer0_gsi);
	ksnprintf(buf, len, "hpet timer 0, periodic, %s, comparator increment %u counts of %u fs, "
		  "period %s us", route, t0_period_counts, period_fs,
		  fmt_fixed(us, sizeof(us), (int64_t)(hpet_period_ps() / 1000), 3));
}

static int hpet_tick_oneshot(uint64_t delay_ns, char *why, size_t whylen)
{
	uint64_t counts = (delay_ns * FS_PER_NS + period_fs - 1) / period_fs;

	if (hpet_arm_oneshot(counts) < 0) {
		ksnprintf(why, whylen, "HPET timer 0 could not be armed %llu counts ahead",
			  (unsigned long long)counts);
		return -1;
	}
	return 0;
}

const struct tick_source hpet_tick_source = {
	.name = "hpet",
	.irq = HPET_LEGACY_IRQ_T0,
	.caps = TICK_CAP_PERIODIC | TICK_CAP_ONESHOT,
	.start_periodic = hpet_start_periodic,
	.stop = hpet_stop,
	.ack = hpet_ack,
	.period_ps = hpet_period_ps,
	.describe = hpet_describe,
	.connect = hpet_connect,
	.arm_oneshot = hpet_tick_oneshot,
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
