/*
 * The APICs brought up and described (apic_setup.h).  It spans three drivers (drivers/madt.c,
 * drivers/lapic.c, drivers/ioapic.c), whose order matters: the IOAPIC delivers through the
 * local APIC, and both are found through the MADT; so it lives in the kernel, not in any one
 * driver (drivers/ hold one device a file, and print nothing).
 */
#include "kernel/apic_setup.h"
#include "lib/format.h"
#include "kernel/report.h"
#include "drivers/ioapic.h"
#include "drivers/lapic.h"
#include "drivers/madt.h"

static char lapic_why[96], ioapic_why[96];
static bool lapic, ioapic;

static void madt_banner(void)
{
	const struct madt_info *m = madt();
	char buf[200];
	size_t n = 0;

	if (!m->found) {
		report_banner("madt", "none (%s)", m->why);
		return;
	}
	for (unsigned i = 0; i < m->noverrides && n < sizeof(buf); i++) {
		const struct madt_override *o = &m->override[i];
		struct madt_route rt = madt_isa_route(m, o->source);

		n += ksnprintf(buf + n, sizeof(buf) - n, " irq%u->gsi%u%s%s", o->source, o->gsi,
			       rt.level ? " level" : "", rt.active_low ? " low" : "");
	}
	report_banner("madt", "local APIC 0x%08llx, %u CPU, %u IOAPIC, overrides:%s%s%s",
		      (unsigned long long)m->lapic_addr, m->ncpus, m->nioapics, n ? buf : " none",
		      m->flags & MADT_PCAT_COMPAT ? ", PCAT_COMPAT" : "", m->why);
}

static void lapic_setup(void)
{
	char mhz[24];

	lapic = lapic_init(lapic_why, sizeof(lapic_why));
	if (!lapic) {
		report_banner("lapic", "none (%s)", lapic_why);
		return;
	}
	/* VER: bits 7:0 the version (1xH: integrated APIC), 23:16 the last LVT entry */
	report_banner("lapic", "id %u at 0x%08x, version 0x%02x, %u LVT entries, TSC-deadline %s",
		      lapic_id(), lapic_base(), lapic_version() & 0xff,
		      ((lapic_version() >> 16) & 0xff) + 1,
		      lapic_tsc_deadline_supported() ? "yes" : "no");
	lapic_calibrate();
	report_banner("lapic timer", "%s MHz at divide by 1, from the tsc (8 windows of 20 ms, "
		      "bound %llu ppm)",
		      fmt_fixed(mhz, sizeof(mhz), (int64_t)(lapic_calibration()->hz / 1000), 3),
		      (unsigned long long)lapic_calibration()->bound_ppm);
	if (lapic_calibration()->hz == 0) {
		lapic = false;
		ksnprintf(lapic_why, sizeof(lapic_why), "the local APIC timer did not count");
	}
}

void apic_init(void)
{
	char buf[160];

	madt_init();
	madt_banner();
	lapic_setup();
	ioapic = ioapic_init(ioapic_why, sizeof(ioapic_why));
	if (!ioapic) {
		report_banner("ioapic", "none (%s)", ioapic_why);
		return;
	}
	for (unsigned i = 0; i < ioapic_count(); i++) {
		ioapic_describe(i, buf, sizeof(buf));
		report_banner("ioapic", "%s", buf);
	}
}

const char *apic_lapic_missing(void)
{
	return lapic ? NULL : lapic_why;
}

const char *apic_ioapic_missing(void)
{
	return ioapic ? NULL : ioapic_why;
}
