/*
 * The local APIC (Intel SDM vol. 3A, chapter 11, "Advanced Programmable Interrupt Controller"):
 * the per-CPU interrupt controller, and the timer inside it.
 *
 * The registers are 32-bit, one per 16 bytes, in a 4 KiB page whose address is in the
 * IA32_APIC_BASE MSR (11.4.4); paging maps that page uncached.  This driver uses the xAPIC
 * (memory-mapped) interface, not x2APIC MSRs.
 *
 * The timer (11.5.4) counts TCCR down from TICR at the bus or core crystal clock divided by
 * TDCR.  Nothing architectural says what that clock is (CPUID leaf 15H does on recent Intel
 * parts; QEMU's TCG and most hypervisors do not fill it in), so the rate is measured against
 * the calibrated TSC, for every divider, and at divide by 1 against a second reference clock
 * for the checks (lapic_measure_rate_by).  Under QEMU the clock is 1 GHz; under VMware it is
 * the virtual bus clock VMware chose.  TSC-deadline mode (11.5.4.1) replaces TICR with the
 * IA32_TSC_DEADLINE MSR, where CPUID.01H:ECX[24] says the CPU has it.
 */
#include "drivers/lapic.h"
#include "kernel/format.h"
#include "kernel/x86.h"
#include "drivers/tsc.h"

/* Register offsets (table 11-1) */
#define LAPIC_ID                0x020   /* bits 31:24: this CPU's APIC ID */
#define LAPIC_VER               0x030
#define LAPIC_TPR               0x080
#define LAPIC_EOI               0x0b0
#define LAPIC_SVR               0x0f0
#define LAPIC_ESR               0x280
#define LAPIC_LVT_TIMER         0x320
#define LAPIC_LVT_LINT0         0x350
#define LAPIC_LVT_LINT1         0x360
#define LAPIC_LVT_ERROR         0x370
#define LAPIC_TICR              0x380   /* initial count */
#define LAPIC_TCCR              0x390   /* current count, read-only */
#define LAPIC_TDCR              0x3e0   /* divide configuration */

#define SVR_APIC_ENABLE         (1u << 8)       /* the software enable (11.4.7.2) */

/* LVT fields (figure 11-8) */
#define LVT_MASKED              (1u << 16)
#define LVT_DM_NMI              (4u << 8)
#define LVT_DM_EXTINT           (7u << 8)
#define LVT_TIMER_ONESHOT       (0u << 17)
#define LVT_TIMER_PERIODIC      (1u << 17)
#define LVT_TIMER_TSC_DEADLINE  (2u << 17)

#define VER_MAX_LVT(v)          (((v) >> 16) & 0xff)

/* IA32_APIC_BASE (11.4.4, figure 11-5) */
#define MSR_IA32_APIC_BASE      0x1b
#define APIC_BASE_BSP           (1ull << 8)
#define APIC_BASE_EXTD          (1ull << 10)    /* x2APIC mode */
#define APIC_BASE_EN            (1ull << 11)    /* the global enable */
#define APIC_BASE_ADDR          0xffffff000ull  /* bits 35:12 */
#define MSR_IA32_TSC_DEADLINE   0x6e0

#define CPUID_1_EDX_APIC        (1u << 9)
#define CPUID_1_ECX_TSC_DEADLINE (1u << 24)

#define MMIO_START              0xc0000000u     /* where paging_init() maps uncached */
#define PPM                     1000000ull

/*
 * TDCR encodings (figure 11-10): bits 0, 1 and 3, bit 2 reserved; divide by 2..16 are 0000..0011,
 * 32..128 are 1000..1010, and 1011 is divide by 1.  Indexed by log2 of the divider.
 */
static const uint8_t tdcr_code[LAPIC_NR_DIVIDERS] = { 0xb, 0x0, 0x1, 0x2, 0x3, 0x8, 0x9, 0xa };

static volatile uint32_t *regs;
static uint32_t base;
static bool tsc_deadline;
static uint32_t spurious;
static unsigned divider_now = 1;          /* what TDCR holds outside lapic_measure_rate() */
static struct lapic_calibration cal;

static uint64_t div_up(uint64_t a, uint64_t b)
{
	return (a + b - 1) / b;
}

static uint32_t lapic_read(unsigned reg)
{
	return regs[reg / 4];
}

static void lapic_write(unsigned reg, uint32_t v)
{
	regs[reg / 4] = v;
}

static void lapic_spurious(struct trapframe *tf)
{
	/* The APIC withdrew the interrupt between signalling it and the CPU's acknowledge
	 * (11.9): nothing is in service, so no EOI (trap() sends none for this vector). */
	(void)tf;
	spurious++;
}

bool lapic_init(char *why, size_t whylen)
{
	uint32_t a, b, c, d;
	uint64_t msr;

	cpuid(1, 0, &a, &b, &c, &d);
	if (!(d & CPUID_1_EDX_APIC)) {
		ksnprintf(why, whylen, "no local APIC (CPUID.01H:EDX[9] = 0)");
		return false;
	}
	tsc_deadline = c & CPUID_1_ECX_TSC_DEADLINE;
	msr = rdmsr(MSR_IA32_APIC_BASE);
	if (msr & APIC_BASE_EXTD) {
		/* Leaving x2APIC mode means disabling the APIC globally first: see below. */
		ksnprintf(why, whylen, "local APIC in x2APIC mode (IA32_APIC_BASE[10] = 1)");
		return false;
	}
	if (!(msr & APIC_BASE_EN)) {
		/* Firmware left it off.  Turning it on may work; turning it off never happens
		 * here, because QEMU's TCG APIC refuses to come back once globally disabled
		 * ("if disabled, cannot be enabled again" in hw/intc/apic.c), and on real parts a
		 * global disable loses the APIC's state (11.4.3).  Software enable (SVR) is the
		 * switch this driver uses. */
		wrmsr(MSR_IA32_APIC_BASE, msr | APIC_BASE_EN);
		msr = rdmsr(MSR_IA32_APIC_BASE);
		if (!(msr & APIC_BASE_EN)) {
			ksnprintf(why, whylen, "local APIC globally disabled (IA32_APIC_BASE[11] = 0)");
			return false;
		}
	}
	if (!(msr & APIC_BASE_BSP)) {
		ksnprintf(why, whylen, "not the bootstrap processor (IA32_APIC_BASE[8] = 0)");
		return false;
	}
	if ((msr & APIC_BASE_ADDR) < MMIO_START || (msr & APIC_BASE_ADDR) > 0xfffff000ull) {
		ksnprintf(why, whylen, "local APIC at 0x%llx, outside the uncached top GiB",
			  (unsigned long long)(msr & APIC_BASE_ADDR));
		return false;
	}
	base = (uint32_t)(msr & APIC_BASE_ADDR);
	regs = (volatile uint32_t *)(uintptr_t)phys_ptr(base);

	lapic_write(LAPIC_TPR, 0);      /* accept every priority class */
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | LAPIC_TIMER_VECTOR);
	lapic_write(LAPIC_TICR, 0);
	lapic_write(LAPIC_LVT_ERROR, LVT_MASKED);       /* ESR still latches errors */
	/* Virtual wire (MP spec 3.6.2.2): the 8259 keeps reaching the CPU through LINT0 while it is
	 * the interrupt controller, whatever the firmware left there; LINT1 is the NMI pin. */
	lapic_lint0_extint(true);
	lapic_write(LAPIC_LVT_LINT1, LVT_DM_NMI);
	trap_set_handler(LAPIC_SPURIOUS_VECTOR, lapic_spurious, 0);
	lapic_write(LAPIC_SVR, SVR_APIC_ENABLE | LAPIC_SPURIOUS_VECTOR);
	/* ESR is a latch updated by a write (11.5.3): write once to clear what came before. */
	lapic_write(LAPIC_ESR, 0);
	lapic_write(LAPIC_ESR, 0);
	lapic_set_divider(1);
	return true;
}

bool lapic_ready(void)
{
	return regs != 0;
}

uint32_t lapic_base(void)
{
	return base;
}

uint32_t lapic_id(void)
{
	return lapic_read(LAPIC_ID) >> 24;
}

uint32_t lapic_version(void)
{
	return lapic_read(LAPIC_VER);
}

uint32_t lapic_spurious_count(void)
{
	return spurious;
}

uint32_t lapic_error_status(void)
{
	lapic_write(LAPIC_ESR, 0);      /* latch the current errors into the readable register */
	return lapic_read(LAPIC_ESR);
}

bool lapic_tsc_deadline_supported(void)
{
	return tsc_deadline;
}

void lapic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}

void lapic_lint0_extint(bool on)
{
	lapic_write(LAPIC_LVT_LINT0, on ? LVT_DM_EXTINT : LVT_MASKED | LVT_DM_EXTINT);
}

unsigned lapic_divider(unsigned index)
{
	return 1u << index;
}

static int divider_index(unsigned divider)
{
	for (unsigned i = 0; i < LAPIC_NR_DIVIDERS; i++)
		if (lapic_divider(i) == divider)
			return (int)i;
	return -1;
}

uint32_t lapic_timer_sample(uint64_t *tsc, uint64_t *width)
{
	uint64_t t0 = rdtsc();
	uint32_t count = lapic_read(LAPIC_TCCR);
	uint64_t t1 = rdtsc();

	*tsc = t0 + (t1 - t0) / 2;
	*width = t1 - t0;
	return count;
}

/* The narrowest of three samples: one that a host interrupt or a cold path stretched is not
 * the one kept. */
static uint32_t best_sample(uint64_t *tsc, uint64_t *width)
{
	uint32_t count = lapic_timer_sample(tsc, width);

	for (int i = 0; i < 2; i++) {
		uint64_t t, w;
		uint32_t c = lapic_timer_sample(&t, &w);

		if (w < *width) {
			*tsc = t;
			*width = w;
			count = c;
		}
	}
	return count;
}

void lapic_measure_rate(unsigned index, uint64_t window_tsc, struct lapic_rate *r)
{
	uint64_t t0, w0, t1, w1;
	uint32_t c0, c1;

	*r = (struct lapic_rate){ .divider = lapic_divider(index) };
	/* Masked one-shot from the largest count: it counts for seconds and never interrupts. */
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | LVT_TIMER_ONESHOT | LAPIC_TIMER_VECTOR);
	lapic_write(LAPIC_TDCR, tdcr_code[index]);
	lapic_write(LAPIC_TICR, 0xffffffffu);
	c0 = best_sample(&t0, &w0);
	while (rdtsc() - t0 < window_tsc)
		cpu_relax();
	c1 = best_sample(&t1, &w1);
	lapic_write(LAPIC_TICR, 0);
	if (c1 == 0 || c1 >= c0 || t1 <= t0)
		return;                 /* ran out, or did not count: hz stays 0 */
	r->counts = c0 - c1;
	r->tsc_delta = t1 - t0;
	r->read_cycles = w0 > w1 ? w0 : w1;
	r->hz = r->counts * tsc_refclock.freq_hz / r->tsc_delta;
	/*
	 * Each TCCR read is whole counts, so the difference is off by under one count; each
	 * sample's moment is known to half its bracket, so the window is off by under one
	 * bracket in all.  (+1 for the rounding of the two divisions.)
	 */
	r->bound_ppm = PPM / r->counts + r->read_cycles * PPM / r->tsc_delta + 1;
}

void lapic_calibrate(void)
{
	/* 20 ms per divider: at a 1 GHz clock divided by 128 that is still 156000 counts. */
	const uint64_t window = tsc_refclock.freq_hz / 50;

	/* A throw-away first pass: under TCG the first run through a loop is translation. */
	lapic_measure_rate(0, window / 20, &cal.rate[0]);
	for (unsigned i = 0; i < LAPIC_NR_DIVIDERS; i++)
		lapic_measure_rate(i, window, &cal.rate[i]);
	cal.hz = cal.rate[0].hz;
	cal.bound_ppm = cal.rate[0].bound_ppm;
	lapic_set_divider(divider_now);
}

/*
 * Read ref between two TCCR reads.  The reference latched somewhere between them, so its
 * moment, in the timer's counts, is their midpoint to within half their distance (*width).
 * Returns twice that midpoint, kept whole.
 */
static uint64_t ref_sample(struct refclock *ref, uint64_t *refv, uint32_t *width)
{
	uint32_t c0 = lapic_read(LAPIC_TCCR), c1;

	*refv = refclock_read(ref);
	c1 = lapic_read(LAPIC_TCCR);
	*width = c0 - c1;
	return (uint64_t)c0 + c1;
}

static uint64_t best_ref_sample(struct refclock *ref, uint64_t *refv, uint32_t *width)
{
	uint64_t mid2 = ref_sample(ref, refv, width);

	for (int i = 0; i < 2; i++) {
		uint64_t v;
		uint32_t w;
		uint64_t m = ref_sample(ref, &v, &w);

		if (w < *width) {
			*refv = v;
			*width = w;
			mid2 = m;
		}
	}
	return mid2;
}

void lapic_measure_rate_by(struct refclock *ref, uint64_t window_tsc, struct lapic_ref_rate *r)
{
	uint64_t ref0, ref1, mid0, mid1;
	uint32_t w0, w1;

	*r = (struct lapic_ref_rate){ 0 };
	/* As lapic_measure_rate(): a masked one-shot from the largest count, at divide by 1. */
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | LVT_TIMER_ONESHOT | LAPIC_TIMER_VECTOR);
	lapic_write(LAPIC_TDCR, tdcr_code[0]);
	lapic_write(LAPIC_TICR, 0xffffffffu);
	mid0 = best_ref_sample(ref, &ref0, &w0);
	tsc_spin_until(rdtsc() + window_tsc);
	mid1 = best_ref_sample(ref, &ref1, &w1);
	lapic_write(LAPIC_TICR, 0);
	lapic_set_divider(divider_now);
	if (mid1 < 2 || mid1 >= mid0 || ref1 <= ref0)
		return;                 /* ran out, or one of the two did not count: hz stays 0 */
	r->counts = (mid0 - mid1) / 2;
	r->ref_delta = ref1 - ref0;
	r->read_counts = (uint64_t)w0 + w1;
	r->hz = r->counts * ref->freq_hz / r->ref_delta;
	/*
	 * Per sample: each TCCR read is whole counts, so their midpoint is off by under one count,
	 * and the reference latched within half the bracket of it; half a count more for halving
	 * the difference of the two doubled midpoints.  The reference's reads are whole counts
	 * too: its difference is off by under one of them.  (+1: hz is truncated to whole Hz,
	 * under 1 ppm of any clock above 1 MHz.)
	 */
	r->bound_ppm = div_up((r->read_counts + 5) * PPM, 2 * r->counts) + div_up(PPM, r->ref_delta) + 1;
}

const struct lapic_calibration *lapic_calibration(void)
{
	return &cal;
}

void lapic_timer_connect(trap_handler_fn fn)
{
	trap_set_handler(LAPIC_TIMER_VECTOR, fn, lapic_eoi);
}

void lapic_timer_periodic(unsigned divider, uint32_t count)
{
	/* Mode and divider before the count: writing TICR is what starts the timer. */
	if (lapic_set_divider(divider) < 0)
		return;
	lapic_write(LAPIC_LVT_TIMER, LVT_TIMER_PERIODIC | LAPIC_TIMER_VECTOR);
	lapic_write(LAPIC_TICR, count);
}

int lapic_set_divider(unsigned divider)
{
	int i = divider_index(divider);

	if (i < 0 || !regs)
		return -1;
	divider_now = divider;
	lapic_write(LAPIC_TDCR, tdcr_code[i]);
	return 0;
}

int lapic_arm_oneshot(uint32_t count)
{
	if (!regs || count == 0)
		return -1;
	lapic_write(LAPIC_LVT_TIMER, LVT_TIMER_ONESHOT | LAPIC_TIMER_VECTOR);
	lapic_write(LAPIC_TICR, count);
	return 0;
}

int lapic_arm_tsc_deadline(uint64_t tsc)
{
	if (!regs || !tsc_deadline)
		return -1;
	lapic_write(LAPIC_LVT_TIMER, LVT_TIMER_TSC_DEADLINE | LAPIC_TIMER_VECTOR);
	/* The LVT write is a memory write and WRMSR does not wait for it: without a fence the
	 * deadline could be armed while the timer is still in the old mode (SDM 11.5.4.1). */
	__asm__ volatile("mfence" ::: "memory");
	wrmsr(MSR_IA32_TSC_DEADLINE, tsc);
	return 0;
}

void lapic_timer_stop(void)
{
	if (!regs)
		return;
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | LAPIC_TIMER_VECTOR);
	lapic_write(LAPIC_TICR, 0);
	if (tsc_deadline)
		wrmsr(MSR_IA32_TSC_DEADLINE, 0);
}

uint32_t lapic_timer_current(void)
{
	return lapic_read(LAPIC_TCCR);
}

uint64_t lapic_tsc_deadline_read(void)
{
	return rdmsr(MSR_IA32_TSC_DEADLINE);
}

/* ---- the tick source: periodic mode at the smallest divider whose count fits 32 bits ---- */

static unsigned tick_divider;
static uint32_t tick_count;

static int lapic_start_periodic(uint32_t hz, char *why, size_t whylen)
{
	if (!regs || cal.hz == 0) {
		ksnprintf(why, whylen, "the local APIC timer is %s",
			  regs ? "not calibrated" : "not available");
		return -1;
	}
	for (unsigned i = 0; i < LAPIC_NR_DIVIDERS; i++) {
		/* The smallest divider gives the finest period; the count must fit TICR. */
		uint64_t count = (cal.hz / lapic_divider(i) + hz / 2) / (hz ? hz : 1);

		if (hz && count >= 2 && count <= 0xffffffffull) {
			tick_divider = lapic_divider(i);
			tick_count = (uint32_t)count;
			lapic_timer_periodic(tick_divider, tick_count);
			return 0;
		}
	}
	ksnprintf(why, whylen, "the local APIC timer cannot tick at %u Hz from a %llu Hz clock", hz,
		  (unsigned long long)cal.hz);
	return -1;
}

static uint64_t lapic_period_ps(void)
{
	/* From the measured clock: the timer has no nominal frequency to fall back on. */
	uint64_t counts = (uint64_t)tick_count * tick_divider;

	return cal.hz ? counts * 1000000 / cal.hz * 1000000 + counts * 1000000 % cal.hz * 1000000 / cal.hz
		      : 0;
}

static void lapic_describe(char *buf, size_t len)
{
	char us[24], mhz[24];

	ksnprintf(buf, len, "local APIC timer, periodic, divide by %u, initial count %u, period %s us "
		  "(timer clock %s MHz measured)", tick_divider, tick_count,
		  fmt_fixed(us, sizeof(us), (int64_t)(lapic_period_ps() / 1000), 3),
		  fmt_fixed(mhz, sizeof(mhz), (int64_t)(cal.hz / 1000), 3));
}

/* One-shot at divide by 1, counted at the calibrated timer clock, rounded up. */
static int lapic_tick_oneshot(uint64_t delay_ns, char *why, size_t whylen)
{
	uint64_t count = (delay_ns * cal.hz + 999999999ull) / 1000000000ull;

	if (!regs || cal.hz == 0 || count == 0 || count > 0xffffffffull) {
		ksnprintf(why, whylen, "the local APIC timer cannot wait %llu ns at divide by 1",
			  (unsigned long long)delay_ns);
		return -1;
	}
	lapic_set_divider(1);
	return lapic_arm_oneshot((uint32_t)count);
}

const struct tick_source lapic_tick_source = {
	.name = "lapic",
	.irq = 0,               /* not an ISA line: connect routes vector LAPIC_TIMER_VECTOR */
	.caps = TICK_CAP_PERIODIC | TICK_CAP_ONESHOT,
	.start_periodic = lapic_start_periodic,
	.stop = lapic_timer_stop,
	.ack = 0,               /* the EOI is trap()'s, after the handler */
	.period_ps = lapic_period_ps,
	.describe = lapic_describe,
	.connect = lapic_timer_connect,
	.arm_oneshot = lapic_tick_oneshot,
};
