/*
 * The ACPI PM timer's own claim: its 24-bit TMR_VAL, extended to 64 bits by counting wraps
 * (lib/refclock.c), keeps time when read on schedule.  It wraps every 2^24 / 3.579545 MHz
 * = 4.69 s, too long to wait for at every boot; read every EXTEND_STEP_MS the extended count
 * must still keep time with the TSC.  A lost or double wrap would be 4.69 s off; the wrap logic
 * itself is tested on the host (tests/unit/test_refclock.c).  Its reads and its rate against
 * the TSC and the HPET are checks/refclock.c's.
 */
#include "checks/checks.h"
#include "checks/agreement.h"
#include "kernel/report.h"
#include "drivers/acpi_pmtimer.h"

#define EXTEND_WINDOW_MS        1000
#define EXTEND_STEP_MS          100

void pmtimer_checks(const char *absent)
{
	struct refclock *const pm[] = { &pmtimer_refclock };
	struct sample s0 = { 0 }, s1 = { 0 };
	struct agreement a = { 0 };
	struct window_run wr = { 0 };
	struct claim c;

	claim_open(&c, "pmtimer read every %d ms keeps time with the tsc over %d ms",
		   EXTEND_STEP_MS, EXTEND_WINDOW_MS);
	claim_needs(&c, !absent, absent);
	if (!c.skip)
		sample_window(pm, 1, tsc_from_ms(EXTEND_WINDOW_MS), tsc_from_ms(EXTEND_STEP_MS),
			      &s0, &s1, &wr);
	agree_with_tsc(&s0, &s1, PM_TMR_HZ, &a);
	if (!claim_judge(&c, &wr, ppm_ok(&a.e)))
		return;
	agreement_yaml(&a);
	report_yaml_u64("width_bits", pmtimer_refclock.width);
	/* the extension is wraps << width | TMR_VAL */
	report_yaml_u64("wraps_in_window", (s1.count >> pmtimer_refclock.width) -
					   (s0.count >> pmtimer_refclock.width));
	claim_close();
}
