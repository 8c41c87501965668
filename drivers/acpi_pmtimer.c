/*
 * The ACPI power management timer (ACPI 6.5, 4.8.3.3 "Power Management Timer"; the PM_TMR_BLK
 * and TMR_VAL_EXT fields of the FADT, 5.2.9).
 *
 * A free-running up-counter at 3.579545 MHz in the chipset, read with one 32-bit IN from the
 * port the FADT names.  It cannot be set or stopped, and only ever counts up; when it reaches its
 * top value it rolls over to zero.  TMR_VAL holds 24 bits; with TMR_VAL_EXT set the counter is
 * 32 bits wide (E_TMR_VAL adds bits 31:24).  The timer can also raise an SCI when its top bit
 * flips, which tickguest does not use: it is a reference clock here, never a tick source.
 *
 * Its rate is fixed by the specification, so unlike the TSC it needs no calibration; it is slow
 * to read instead (an I/O port read, 1-2 us on real chipsets and a VM exit under a hypervisor).
 */
#include "drivers/acpi_pmtimer.h"
#include "drivers/acpi.h"
#include "lib/format.h"
#include "kernel/x86.h"

#define PM_TMR_VAL_MASK_24  0x00ffffffu     /* TMR_VAL; bits 31:24 read as zero (reserved) */
#define PM_TMR_VAL_MASK_32  0xffffffffu     /* TMR_VAL + E_TMR_VAL with TMR_VAL_EXT */
#define PM_TMR_WIDTH_24     24
#define PM_TMR_WIDTH_32     32

/* At 3.58 MHz this many reads must see the counter move, or there is no timer behind the port. */
#define PM_TMR_PROBE_READS  100000

static uint16_t pm_tmr_port;
static uint32_t pm_tmr_mask;

static uint32_t pm_tmr_read(void)
{
	return inl(pm_tmr_port) & pm_tmr_mask;
}

static uint64_t pmtimer_read_raw(void)
{
	return pm_tmr_read();
}

struct refclock pmtimer_refclock = {
	.name = "pmtimer",
	.freq_hz = PM_TMR_HZ,
	.read_raw = pmtimer_read_raw,
};

/* An idle port reads as all ones (or a constant): a counter that never moves is no timer. */
static bool pm_tmr_counts(void)
{
	uint32_t first = pm_tmr_read();

	for (int i = 0; i < PM_TMR_PROBE_READS; i++)
		if (pm_tmr_read() != first)
			return true;
	return false;
}

bool pmtimer_init(const char **why)
{
	const struct acpi_info *a = acpi_info();

	if (!a->found) {
		*why = "no ACPI tables";
		return false;
	}
	if (!a->fadt) {
		*why = "no FADT";
		return false;
	}
	if (!a->pm_tmr) {
		*why = "the FADT has no PM timer (PM_TMR_BLK is 0 or PM_TMR_LEN is not 4)";
		return false;
	}
	pm_tmr_port = a->pm_tmr;
	pmtimer_refclock.width = a->pm_tmr_32bit ? PM_TMR_WIDTH_32 : PM_TMR_WIDTH_24;
	pm_tmr_mask = a->pm_tmr_32bit ? PM_TMR_VAL_MASK_32 : PM_TMR_VAL_MASK_24;
	if (!pm_tmr_counts()) {
		*why = "the PM timer port named by the FADT does not count";
		pm_tmr_port = 0;
		return false;
	}
	refclock_restart(&pmtimer_refclock);
	*why = "";
	return true;
}

void pmtimer_describe(char *buf, size_t len)
{
	char wrap_s[24];
	/* 2^width / 3.579545 MHz, in ms */
	uint64_t wrap_ms = (1ull << pmtimer_refclock.width) * 1000 / PM_TMR_HZ;

	ksnprintf(buf, len, "port 0x%x, %u-bit, %u Hz, wraps every %s s", pm_tmr_port,
		  pmtimer_refclock.width, PM_TMR_HZ, fmt_fixed(wrap_s, sizeof(wrap_s), (int64_t)wrap_ms, 3));
}
