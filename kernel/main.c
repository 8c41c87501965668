/*
 * kmain: bring the machine up, run the experiment, report.
 *
 * Order matters: the console first so every later failure can be reported; the GDT, IDT and
 * paging before anything can fault; the command line before any device is touched, so a bad
 * one costs nothing; the PM timer and the HPET found before the TSC is calibrated, since it is
 * measured against them; the TSC calibrated before the tick starts, since the tick is measured
 * against it.  The banner comes first and all checks after the run, as docs/report.md says.
 */
#include <stdint.h>
#include "kernel/config.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/gdt.h"
#include "lib/format.h"
#include "kernel/irq.h"
#include "kernel/multiboot.h"
#include "kernel/paging.h"
#include "kernel/report.h"
#include "kernel/tick.h"
#include "kernel/trap.h"
#include "kernel/version.h"
#include "drivers/acpi.h"
#include "drivers/acpi_pmtimer.h"
#include "drivers/hpet.h"
#include "drivers/ioapic.h"
#include "drivers/lapic.h"
#include "drivers/pic8259.h"
#include "drivers/pit8254.h"
#include "drivers/rtc_cmos.h"
#include "drivers/tsc.h"
#include "kernel/apic_setup.h"
#include "checks/checks.h"
#include "checks/limits.h"
#include "acct/acct_report.h"
#include "sched/sched.h"

static struct config cfg;
/* Why a reference clock is absent; NULL once it initialised. */
static const char *pmtimer_why, *hpet_why;

/* us * hz / 1e6 without overflowing for an hour at 20 GHz */
static uint64_t cycles_from_us(uint64_t us, uint64_t hz)
{
	return us / 1000000 * hz + us % 1000000 * hz / 1000000;
}

/* fault=: provoke one CPU exception to show the panic path works. */
static void trigger_fault(enum fault_kind f)
{
	report_note("provoking %s as asked by fault=", config_fault_name(f));
	switch (f) {
	case FAULT_UD:
		__asm__ volatile("ud2");
		break;
	case FAULT_DE:
		/* In assembly: a C division by zero is undefined and may be optimised away. */
		__asm__ volatile("xor %%edx, %%edx\n\t"
				 "mov $1, %%eax\n\t"
				 "xor %%ecx, %%ecx\n\t"
				 "div %%ecx" : : : "eax", "ecx", "edx");
		break;
	case FAULT_PF:
		(void)*(volatile uint32_t *)0;
		break;
	case FAULT_GP:
		/* Selector 0x40 is past the end of our five-entry GDT. */
		__asm__ volatile("mov %0, %%ds" : : "r"(0x40u));
		break;
	case FAULT_STACK:
		/* push until the guard page below the stack faults */
		__asm__ volatile("1: push %%eax\n\tjmp 1b" : : : "memory");
		break;
	case FAULT_TRIPLE: {
		/* No gate, not even #DF's, lies inside a limit of 0: the exception, the #GP for
		 * its missing gate and the double fault after it shut the CPU down. */
		static const struct __attribute__((packed)) { uint16_t limit; uint32_t base; }
			none = { 0, 0 };

		__asm__ volatile("lidt %0\n\tud2" : : "m"(none) : "memory");
		break;
	}
	case FAULT_TICK:        /* not a CPU exception: start_ticking() masks the tick's line */
	case FAULT_NONE:
		return;
	}
	report_bail(EXIT_PANIC, "fault=%s did not fault", config_fault_name(f));
}

static void acpi_banner(void)
{
	const struct acpi_info *a = acpi_info();

	if (!a->found) {
		report_banner("acpi", "none (%s)", a->why);
		return;
	}
	report_banner("acpi", "RSDP at 0x%05x from %s, revision %u, tables:%s%s%s%s, bad tables "
		      "%u%s%s%s%s", a->rsdp_addr, a->rsdp_source, a->revision,
		      a->fadt ? " FADT" : "", a->dsdt ? " DSDT" : "", a->madt ? " MADT" : "",
		      a->hpet ? " HPET" : "", a->bad_tables, a->why[0] ? "; " : "", a->why,
		      a->loader_why[0] ? "; " : "", a->loader_why);
}

static void banner(const struct boot_info *bi)
{
	struct cpu_info cpu;

	cpu_identify(&cpu);
	report_banner("tickguest", "%s", TICKGUEST_VERSION);
	report_banner("cmdline", "%s", bi->cmdline);
	if (bi->loader[0])
		report_banner("loader", "%s", bi->loader);
	report_banner("cpu", "%s family %u model %u stepping %u", cpu.vendor, cpu.family,
		      cpu.model, cpu.stepping);
	report_banner("hypervisor", "%s", cpu.hypervisor[0] ? cpu.hypervisor : "none");
	report_banner("memory", "%llu MiB", (unsigned long long)(bi->ram_bytes >> 20));
	acpi_banner();
}

/* Every TSC estimate on one banner line: the figure and its bound, or that it is absent. */
static void estimates_banner(const struct tsc_calibration *cal)
{
	char line[320];
	size_t n = 0;

	for (int i = 0; i < TSC_NR_SOURCES && n < sizeof(line); i++) {
		const struct tsc_estimate *e = &cal->est[i];

		if (e->present)
			n += ksnprintf(line + n, sizeof(line) - n, "%s%s %llu.%06llu MHz +-%llu ppm",
				       n ? ", " : "", e->name, (unsigned long long)(e->hz / 1000000),
				       (unsigned long long)(e->hz % 1000000),
				       (unsigned long long)e->bound_ppm);
		else
			n += ksnprintf(line + n, sizeof(line) - n, "%s%s absent", n ? ", " : "", e->name);
	}
	report_banner("tsc estimates", "%s", line);
}

/* After refclocks_init(): the PM timer and the HPET are two of the clocks measured against. */
static void calibrate(struct tsc_calibration *cal)
{
	if (!tsc_calibrate(cal, pmtimer_why, hpet_why))
		report_bail(EXIT_DEVICE, "no clock to calibrate the TSC against: %s; %s; %s",
			    cal->est[TSC_SRC_PIT].why, cal->est[TSC_SRC_PMTIMER].why,
			    cal->est[TSC_SRC_HPET].why);
	estimates_banner(cal);
	if (cal->hz < TSC_MIN_HZ || cal->hz > TSC_MAX_HZ)
		report_bail(EXIT_DEVICE, "the TSC calibrated at %llu.%03llu MHz from %s (%s), "
			    "outside the 1 MHz to 20 GHz a working TSC and reference give "
			    "(drivers/tsc.h)", (unsigned long long)(cal->hz / 1000000),
			    (unsigned long long)(cal->hz / 1000 % 1000), cal->source, cal->why);
	report_banner("tsc", "%llu.%03llu MHz from %s (%s)",
		      (unsigned long long)(cal->hz / 1000000),
		      (unsigned long long)(cal->hz / 1000 % 1000), cal->source, cal->why);
}

/* A reference clock's banner line: its description if init found it (then no why), else why not. */
static void refclock_banner(const char *key, bool found, const char **why,
			    void (*describe)(char *buf, size_t len))
{
	char line[160];

	if (found) {
		*why = NULL;
		describe(line, sizeof(line));
	}
	report_banner(key, "%s", found ? line : *why);
}

/* The PM timer and the HPET: found and described in the banner, or the reason they are not. */
static void refclocks_init(void)
{
	bool pm = pmtimer_init(&pmtimer_why), hpet = hpet_init(&hpet_why);

	refclock_banner("pmtimer", pm, &pmtimer_why, pmtimer_describe);
	refclock_banner("hpet", hpet, &hpet_why, hpet_describe_device);
}

/* The device timer= asks for, or NULL with *why saying what the platform lacks. */
static const struct tick_source *choose_tick_source(enum timer_kind t, const char **why)
{
	switch (t) {
	case TIMER_PIT:
		return &pit_tick_source;
	case TIMER_HPET:
		*why = hpet_why;
		return hpet_why ? NULL : &hpet_tick_source;
	case TIMER_RTC:
		return rtc_present(why) ? &rtc_tick_source : NULL;
	case TIMER_LAPIC:
		*why = apic_lapic_missing();
		return *why ? NULL : &lapic_tick_source;
	}
	*why = "unknown timer";
	return NULL;
}

/* irq=: the IOAPIC when asked for or, by default, when the MADT lists one. */
static bool choose_irq_route(void)
{
	const char *why = apic_ioapic_missing();

	if (cfg.irq == IRQ_ROUTE_IOAPIC && why)
		report_bail(EXIT_BAD_CONFIG, "irq=ioapic: %s", why);
	if (why) {
		report_banner("irq routing", "8259 PICs (no IOAPIC: %s)", why);
		return false;
	}
	if (cfg.irq == IRQ_ROUTE_PIC) {
		report_banner("irq routing", "8259 PICs, as irq=pic asked");
		return false;
	}
	irq_set_chip(ioapic_select());
	report_banner("irq routing", "IOAPIC, 8259 PICs masked");
	return true;
}

/*
 * The HPET reaches the 8259s only by legacy replacement (timer 0 takes ISA IRQ 0 from the PIT);
 * with an IOAPIC it gets an input of its own, as modern systems route it, if it can reach one.
 */
static void route_hpet(bool ioapic)
{
	int gsi = ioapic ? hpet_ioapic_gsi_for_timer0() : -1;
	char why[96];

	if (gsi < 0 || hpet_route_timer0_gsi((unsigned)gsi, why, sizeof(why)) < 0)
		hpet_route_timer0_legacy();
}

/* clock=: the reference tick time is held against; a clock that is absent is bad config. */
static struct refclock *choose_tick_reference(void)
{
	switch (cfg.clock) {
	case CLOCK_PMTIMER:
		if (pmtimer_why)
			report_bail(EXIT_BAD_CONFIG, "clock=pmtimer: %s", pmtimer_why);
		return &pmtimer_refclock;
	case CLOCK_HPET:
		if (hpet_why)
			report_bail(EXIT_BAD_CONFIG, "clock=hpet: %s", hpet_why);
		return &hpet_refclock;
	case CLOCK_TSC:
		break;
	}
	return &tsc_refclock;
}

/*
 * The CMOS clock's time of day beside the TSC, at the run's start and end: a host that
 * deschedules the VM can tell from the two pairs whether the guest's time of day went on
 * through it (QEMU's RTC follows the host's clock by default) while the TSC stopped, or the
 * other way round.  Whole seconds only: the chip counts no finer.
 */
static void note_time_of_day(const char *when)
{
	const uint64_t tsc_us = tsc_ns(rdtsc()) / 1000;
	const char *why = NULL;
	struct rtc_tod t;
	char b[24];

	if (!rtc_present(&why)) {
		report_note("time of day at the run's %s: no RTC (%s)", when, why);
		return;
	}
	if (!rtc_read_tod(&t)) {
		report_note("time of day at the run's %s: unreadable (no steady reading, or one "
			    "that does not decode to a date)", when);
		return;
	}
	report_note("time of day at the run's %s: %04u-%02u-%02u %02u:%02u:%02u at tsc %s s", when,
		    t.year, t.month, t.day, t.hour, t.minute, t.second,
		    fmt_fixed(b, sizeof(b), (int64_t)tsc_us, 6));
}

/* The workload on the chosen tick source, and the checks of the tick and the accounting. */
static void accounting_run(const struct tsc_calibration *cal)
{
	const struct tick_source *src;
	struct tick_options opt = {
		.compensate = cfg.lostticks == LOSTTICKS_COMPENSATE, .stats_us = cfg.stats_us,
		.tsc_hz = cal->hz,
	};
	struct refclock *ref;
	const char *why = NULL;
	char err[160];
	bool ioapic;

	src = choose_tick_source(cfg.timer, &why);
	if (!src)
		report_bail(EXIT_BAD_CONFIG, "timer=%s: %s", config_timer_name(cfg.timer), why);
	ioapic = choose_irq_route();
	if (src == &hpet_tick_source)
		route_hpet(ioapic);
	ref = choose_tick_reference();
	sched_init(&cfg, cal->hz);
	if (cfg.sponge == SPONGE_CHARGE)
		opt.catchup_sink = &sched_sponge()->acct;
	acct_report_set_w(cfg.w_ppm);
	if (tick_start(src, ref, cfg.hz, &opt, err, sizeof(err)) < 0)
		report_bail(EXIT_BAD_CONFIG, "hz=%u: %s", cfg.hz, err);
	sched_set_tick_period(tick_period_in(cal->hz));
	if (cfg.fault == FAULT_TICK) {
		report_note("masking the %s's interrupt as asked by fault=tick", src->name);
		tick_source_connect(src, 0);
	}
	src->describe(err, sizeof(err));
	report_banner("tick source", "%s", err);
	report_banner("tick clock", "against the %s; lostticks=%s, sponge=%s, idle=%s, stats %s",
		      ref->name, config_lostticks_name(cfg.lostticks),
		      config_sponge_name(cfg.sponge), config_idle_name(cfg.idle),
		      cfg.stats_us ? "on" : "off");
	note_time_of_day("start");
	report_note("running %u tasks for %llu ms", cfg.ntasks,
		    (unsigned long long)(cfg.duration_us / 1000));

	/* the run's length is counted by the tick clock's reference, in its own counts */
	sched_run(cycles_from_us(cfg.duration_us, ref->freq_hz));

	tick_stop();
	irq_chip()->mask_all();
	/* what the console task had not written yet, before the checks */
	console_flush_queued();
	note_time_of_day("end");
}

void kmain(uint32_t magic, uint32_t info_addr)
{
	struct boot_info bi;
	struct tsc_calibration cal;
	char err[CONFIG_ERR_LEN];
	bool booted, devices, accounting;

	console_init();
	report_begin();
	if (cpu_unsupported())
		report_bail(EXIT_BAD_CONFIG, "this CPU cannot run tickguest: %s", cpu_unsupported());
	gdt_init();
	idt_init();
	acpi_find_rsdp();       /* reads the BIOS data area in page 0, which paging unmaps */
	paging_init();
	gdt_tss_init();         /* a double fault on its own stack, with the page tables now */

	booted = multiboot_parse(magic, info_addr, &bi);
	/* the loader's RSDP before the BIOS area's: under UEFI it is the only one */
	acpi_init(booted ? bi.rsdp : NULL, bi.rsdp_len, bi.rsdp_source);
	if (!booted)
		report_bail(EXIT_BAD_CONFIG, "%s (EAX = 0x%08x, EBX = 0x%08x)", bi.why, magic,
			    info_addr);
	banner(&bi);
	if (config_parse(&cfg, bi.cmdline, err, sizeof(err)) < 0)
		report_bail(EXIT_BAD_CONFIG, "%s", err);
	if (cfg.fault != FAULT_NONE)
		trigger_fault(cfg.fault);
	devices = cfg.suite != SUITE_ACCOUNTING;
	accounting = cfg.suite != SUITE_DEVICES;
	report_banner("suite", "%s", config_suite_name(cfg.suite));
	limits_banner();

	irq_set_chip(pic_init());
	refclocks_init();       /* before calibrate(): the TSC is measured against them too */
	calibrate(&cal);
	apic_init();

	/* Device checks measure now, with the machine to themselves, and print after the run;
	 * the TSC's are judged from its calibration. */
	report_hold();
	tsc_checks(&cal);
	if (devices) {
		refclock_checks(pmtimer_why, hpet_why);
		pit_checks(pmtimer_why, hpet_why);      /* IRQ 0 alone for ~1.6 s, through the 8259 */
		/* IRQ 8 alone for ~5 s, so before the tick and the tasks */
		rtc_checks(pmtimer_why, hpet_why);
		lapic_checks(apic_lapic_missing(), pmtimer_why, hpet_why);
		ioapic_checks(apic_ioapic_missing());
		oneshot_checks(hpet_why, apic_lapic_missing());
	}
	if (accounting)
		accounting_run(&cal);
	report_release();

	if (accounting) {
		tick_report_check();
		tickclock_report_check();
	}
	irq_report_check();
	if (accounting)
		acct_report_checks();
	report_finish();
}
