/*
 * kmain: bring the machine up, run the experiment, report.
 *
 * Order matters: the console first so every later failure can be reported; the GDT, IDT and
 * paging before anything can fault; the command line before any device is touched, so a bad
 * one costs nothing; the PM timer and the HPET found before the TSC is calibrated, since it is
 * measured against them; the TSC calibrated before the tick starts, since the tick is measured
 * against it.  The banner comes first, the run's lines among it, then the device checks as
 * each device is done, then the run and its checks, as docs/report.md says.
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
#include "kernel/run.h"
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

void kmain(uint32_t magic, uint32_t info_addr)
{
	struct boot_info bi;
	struct tsc_calibration cal;
	char err[CONFIG_ERR_LEN];
	bool booted, devices, accounting;
	struct run_plan plan;

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

	/* The run is planned before the device checks so that its banner lines come first and a
	 * bad choice stops the guest at once, and started after them (kernel/run.h).  The device
	 * checks measure with the machine to themselves, each device's printed when it is done;
	 * the TSC's are judged from its calibration. */
	if (accounting)
		run_plan(&plan, &cfg, pmtimer_why, hpet_why);
	device_suite(&cal, devices, pmtimer_why, hpet_why);
	if (accounting)
		run_accounting(&plan, &cfg, &cal);

	if (accounting) {
		tick_report_check();
		tickclock_report_check();
	}
	irq_report_check();
	if (accounting)
		acct_report_checks();
	report_finish();
}
