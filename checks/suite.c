/*
 * The device suite: every device's checks, in the order their interrupt lines allow, each
 * device's lines held while it measures and printed when it is done.  A line on a real
 * 115200-baud UART takes milliseconds, longer than some windows, so nothing is written while
 * a device measures; between devices nothing is measured, so a person watching the serial line
 * sees each device's verdicts as they come rather than all at the end.
 */
#include "checks/checks.h"
#include "kernel/apic_setup.h"
#include "kernel/report.h"

/* One device's checks are done: print them, and hold the next device's. */
static void device_done(void)
{
	report_release();
	report_hold();
}

void device_suite(const struct tsc_calibration *cal, bool devices, const char *pmtimer_absent,
		  const char *hpet_absent)
{
	report_hold();
	tsc_checks(cal);
	if (devices) {
		device_done();
		refclock_checks(pmtimer_absent, hpet_absent);
		device_done();
		pit_checks(pmtimer_absent, hpet_absent); /* IRQ 0 alone for ~1.6 s, by the 8259 */
		device_done();
		/* IRQ 8 alone for ~5 s, so before the tick and the tasks */
		rtc_checks(pmtimer_absent, hpet_absent);
		device_done();
		lapic_checks(apic_lapic_missing(), pmtimer_absent, hpet_absent);
		device_done();
		ioapic_checks(apic_ioapic_missing());
		device_done();
		oneshot_checks(hpet_absent, apic_lapic_missing());
	}
	report_release();
}
