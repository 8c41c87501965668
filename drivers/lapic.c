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
 * for the checks: drivers/lapic_timer_rate.c, the rest of this driver.  Under QEMU the clock is 1 GHz; under VMware it is
 * the virtual bus clock VMware chose.  TSC-deadline mode (11.5.4.1) replaces TICR with the
 * IA32_TSC_DEADLINE MSR, where CPUID.01H:ECX[24] says the CPU has it.
 */
#include "drivers/lapic.h"
#include "drivers/lapic_regs.h"
#include "lib/format.h"
#include "kernel/x86.h"

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

/*
 * TDCR encodings (figure 11-10): bits 0, 1 and 3, bit 2 reserved; divide by 2..16 are 0000..0011,
 * 32..128 are 1000..1010, and 1011 is divide by 1.  Indexed by log2 of the divider.
 */
static const uint8_t tdcr_code[LAPIC_NR_DIVIDERS] = { 0xb, 0x0, 0x1, 0x2, 0x3, 0x8, 0x9, 0xa };

volatile uint32_t *lapic_regs;
static uint32_t base;
static bool tsc_deadline;
static uint32_t spurious;
static unsigned divider_now = 1;          /* what TDCR holds outside lapic_timer_free_run() */

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
	lapic_regs = (volatile uint32_t *)(uintptr_t)phys_ptr(base);

	lapic_write(LAPIC_TPR, 0);      /* accept every priority class */
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | LAPIC_TIMER_VECTOR);
	lapic_write(LAPIC_TICR, 0);
	lapic_write(LAPIC_LVT_ERROR, LVT_MASKED);       /* ESR still latches errors */
	/* Virtual wire (MP spec 3.6.2.2): the 8259 keeps reaching the CPU through LINT0 while it is
	 * the interrupt controller, whatever the firmware left there; LINT1 is the NMI pin. */
	lapic_lint0_extint(true);
	lapic_write(LAPIC_LVT_LINT1, LVT_DM_NMI);
	trap_set_handler(LAPIC_SPURIOUS_VECTOR, lapic_spurious, 0);
	trap_set_unowned_eoi(lapic_eoi);
	lapic_write(LAPIC_SVR, SVR_APIC_ENABLE | LAPIC_SPURIOUS_VECTOR);
	/* ESR is a latch updated by a write (11.5.3): write once to clear what came before. */
	lapic_write(LAPIC_ESR, 0);
	lapic_write(LAPIC_ESR, 0);
	lapic_set_divider(1);
	return true;
}

bool lapic_ready(void)
{
	return lapic_regs != 0;
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

/* The highest vector set in a 256-bit vector register (the ISR, the IRR); vectors 0-15 are
 * reserved and never set (11.8.4), so the first 32-bit word is read like the rest. */
static int highest_vector(unsigned base)
{
	for (int i = 7; i >= 0; i--) {
		uint32_t bits = lapic_read(base + 0x10 * (unsigned)i);

		if (bits)
			return 32 * i + 31 - __builtin_clz(bits);
	}
	return -1;
}

int lapic_in_service(void)
{
	return highest_vector(LAPIC_ISR);
}

int lapic_requested(void)
{
	return highest_vector(LAPIC_IRR);
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

	if (i < 0 || !lapic_regs)
		return -1;
	divider_now = divider;
	lapic_write(LAPIC_TDCR, tdcr_code[i]);
	return 0;
}

void lapic_timer_free_run(unsigned index)
{
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | LVT_TIMER_ONESHOT | LAPIC_TIMER_VECTOR);
	lapic_write(LAPIC_TDCR, tdcr_code[index]);
	lapic_write(LAPIC_TICR, 0xffffffffu);
}

void lapic_restore_divider(void)
{
	lapic_set_divider(divider_now);
}

int lapic_arm_oneshot(uint32_t count)
{
	if (!lapic_regs || count == 0)
		return -1;
	lapic_write(LAPIC_LVT_TIMER, LVT_TIMER_ONESHOT | LAPIC_TIMER_VECTOR);
	lapic_write(LAPIC_TICR, count);
	return 0;
}

int lapic_arm_tsc_deadline(uint64_t tsc)
{
	if (!lapic_regs || !tsc_deadline)
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
	if (!lapic_regs)
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

/* The timer's input clock as calibrated (lapic_timer_rate.c); 0 if it did not count. */
static uint64_t clock_hz(void)
{
	return lapic_calibration()->hz;
}

/* The divider and initial count for hz: 0, or -1 with the reason. */
static int setting_for_hz(uint32_t hz, unsigned *divider, uint32_t *count, char *why,
			  size_t whylen)
{
	if (!lapic_regs || clock_hz() == 0) {
		ksnprintf(why, whylen, "the local APIC timer is %s",
			  lapic_regs ? "not calibrated" : "not available");
		return -1;
	}
	for (unsigned i = 0; i < LAPIC_NR_DIVIDERS; i++) {
		/* The smallest divider gives the finest period; the count must fit TICR. */
		uint64_t c = (clock_hz() / lapic_divider(i) + hz / 2) / (hz ? hz : 1);

		if (hz && c >= 2 && c <= 0xffffffffull) {
			*divider = lapic_divider(i);
			*count = (uint32_t)c;
			return 0;
		}
	}
	ksnprintf(why, whylen, "the local APIC timer cannot tick at %u Hz from a %llu Hz clock", hz,
		  (unsigned long long)clock_hz());
	return -1;
}

/* From the measured clock: the timer has no nominal frequency to fall back on. */
static uint64_t setting_period_ps(unsigned divider, uint32_t count)
{
	uint64_t counts = (uint64_t)count * divider, hz = clock_hz();

	return hz ? counts * 1000000 / hz * 1000000 + counts * 1000000 % hz * 1000000 / hz : 0;
}

static int lapic_start_periodic(uint32_t hz, char *why, size_t whylen)
{
	if (setting_for_hz(hz, &tick_divider, &tick_count, why, whylen) < 0)
		return -1;
	lapic_timer_periodic(tick_divider, tick_count);
	return 0;
}

static uint64_t lapic_period_ps(void)
{
	return setting_period_ps(tick_divider, tick_count);
}

static int lapic_plan_periodic(uint32_t hz, char *buf, size_t len)
{
	char us[24], mhz[24];
	unsigned divider;
	uint32_t count;

	if (setting_for_hz(hz, &divider, &count, buf, len) < 0)
		return -1;
	ksnprintf(buf, len, "local APIC timer, periodic, divide by %u, initial count %u, period %s us "
		  "(timer clock %s MHz measured)", divider, count,
		  fmt_fixed(us, sizeof(us), (int64_t)(setting_period_ps(divider, count) / 1000), 3),
		  fmt_fixed(mhz, sizeof(mhz), (int64_t)(clock_hz() / 1000), 3));
	return 0;
}

/* One-shot at divide by 1, counted at the calibrated timer clock, rounded up. */
static int lapic_tick_oneshot(uint64_t delay_ns, char *why, size_t whylen)
{
	uint64_t count = (delay_ns * clock_hz() + 999999999ull) / 1000000000ull;

	if (!lapic_regs || clock_hz() == 0 || count == 0 || count > 0xffffffffull) {
		ksnprintf(why, whylen, "the local APIC timer cannot wait %llu ns at divide by 1",
			  (unsigned long long)delay_ns);
		return -1;
	}
	lapic_set_divider(1);
	return lapic_arm_oneshot((uint32_t)count);
}

/* One-shot mode stops TCCR at 0 when the count runs out (SDM 11.5.4), interrupt or not. */
static bool lapic_tick_expired(void)
{
	return lapic_timer_current() == 0;
}

const struct tick_source lapic_tick_source = {
	.name = "lapic",
	.irq = 0,               /* not an ISA line: connect routes vector LAPIC_TIMER_VECTOR */
	.caps = TICK_CAP_PERIODIC | TICK_CAP_ONESHOT,
	.start_periodic = lapic_start_periodic,
	.stop = lapic_timer_stop,
	.ack = 0,               /* the EOI is trap()'s, after the handler */
	.period_ps = lapic_period_ps,
	.plan_periodic = lapic_plan_periodic,
	.connect = lapic_timer_connect,
	.arm_oneshot = lapic_tick_oneshot,
	.oneshot_expired = lapic_tick_expired,
};
