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
 * route timer 0 either way (hpet_route_timer0_legacy, hpet_route_timer0_gsi).  Timer 0, its
 * routes, its tick source and its one-shots are in drivers/hpet_timer0.c; this file is the
 * block, the main counter and init.
 *
 * The registers are 64 bits wide; an i686 reads and writes them as two 32-bit halves, which
 * is allowed by the spec but means a 64-bit counter must be read with care.  Timer 0 is run
 * in 32-bit mode so that its comparator is always written in one access.
 *
 * The register block is in the uncached top GiB that paging.c maps; the base address comes from
 * the ACPI HPET table (spec, "ACPI 2.0 HPET Description Table").
 */
#include "drivers/hpet.h"
#include "drivers/hpet_regs.h"
#include "drivers/acpi.h"
#include "lib/format.h"
#include "kernel/x86.h"

/* GCAP_ID, low half */
#define GCAP_NUM_TIM_CAP_SHIFT  8       /* number of the last timer: timers = this + 1 */
#define GCAP_NUM_TIM_CAP_MASK   0x1fu
#define GCAP_COUNT_SIZE_CAP     (1u << 13)      /* main counter is 64 bits wide */
#define GCAP_LEG_RT_CAP         (1u << 15)      /* legacy replacement route is supported */
/* GCAP_ID, high half: COUNTER_CLK_PERIOD, in fs; the spec caps it at 100 ns */
#define GCAP_PERIOD_MAX_FS      100000000u

/*
 * The ACPI HPET table: after the 36-byte header and the 4-byte Event Timer Block ID comes
 * BASE_ADDRESS, a 12-byte Generic Address Structure whose 64-bit address starts at its byte 4.
 */
#define ACPI_HPET_GAS           40
#define ACPI_GAS_SPACE_ID       0       /* byte offsets within the GAS */
#define ACPI_GAS_ADDRESS        4
#define ACPI_GAS_SYSTEM_MEMORY  0
#define UNCACHED_MMIO_START     0xc0000000ull   /* paging.c maps the top GiB uncached */

volatile uint8_t *hpet_regs;
uint32_t hpet_period_fs;
bool hpet_legacy_capable;
static unsigned num_timers;
static bool counter_64bit;
static char why_buf[96];

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

static bool hpet_fail(const char **why, const char *fmt, uint32_t a, uint32_t b)
{
	ksnprintf(why_buf, sizeof(why_buf), fmt, a, b);
	*why = why_buf;
	hpet_regs = 0;
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
	hpet_regs = (volatile uint8_t *)phys_ptr((uintptr_t)base);

	cap = hpet_read32(HPET_GCAP_ID);
	hpet_period_fs = hpet_read32(HPET_GCAP_ID + HPET_HI);
	/* No device decodes the address: reads float to all ones. */
	if (hpet_period_fs == 0 || hpet_period_fs > GCAP_PERIOD_MAX_FS)
		return hpet_fail(why, "the HPET reports COUNTER_CLK_PERIOD %u fs, outside 1..%u",
				 hpet_period_fs, GCAP_PERIOD_MAX_FS);
	num_timers = ((cap >> GCAP_NUM_TIM_CAP_SHIFT) & GCAP_NUM_TIM_CAP_MASK) + 1;
	hpet_legacy_capable = cap & GCAP_LEG_RT_CAP;
	counter_64bit = cap & GCAP_COUNT_SIZE_CAP;

	/* Quiet every timer before the counter runs, so no stale comparator fires. */
	for (unsigned n = 0; n < num_timers; n++)
		timer_disable(n);
	/* Leave ENABLE_CNF alone if the firmware set it: the counter then keeps its count. */
	hpet_write32(HPET_GEN_CONF,
		     (hpet_read32(HPET_GEN_CONF) & ~GEN_CONF_LEG_RT_CNF) | GEN_CONF_ENABLE_CNF);

	hpet_refclock.freq_hz = (FS_PER_S + hpet_period_fs / 2) / hpet_period_fs;
	hpet_refclock.width = counter_64bit ? 64 : 32;
	refclock_restart(&hpet_refclock);
	*why = "";
	return true;
}

void hpet_describe_device(char *buf, size_t len)
{
	ksnprintf(buf, len, "at 0x%08x, %u timers, %u-bit counter, period %u fs (%llu Hz), "
		  "legacy route %s", (unsigned)(uintptr_t)hpet_regs, num_timers, hpet_refclock.width,
		  hpet_period_fs, (unsigned long long)hpet_refclock.freq_hz,
		  hpet_legacy_capable ? "capable" : "not capable");
}
