/*
 * kmain: bring the machine up, run the experiment, report.
 *
 * Order matters: the console first so every later failure can be reported; the GDT, IDT and
 * paging before anything can fault; the command line before any device is touched, so a bad
 * one costs nothing; the TSC calibrated before the tick starts, since the tick is measured
 * against it.  The banner comes first and all checks after the run, as docs/report.md says.
 */
#include <stdint.h>
#include "kernel/config.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/irq.h"
#include "kernel/multiboot.h"
#include "kernel/paging.h"
#include "kernel/report.h"
#include "kernel/tick.h"
#include "kernel/trap.h"
#include "kernel/version.h"
#include "drivers/acpi.h"
#include "drivers/pic8259.h"
#include "drivers/pit8254.h"
#include "drivers/tsc.h"
#include "kernel/checks.h"
#include "kernel/checks_apic.h"
#include "acct/acct_report.h"
#include "sched/sched.h"

static struct config cfg;

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
		/* Selector 0x40 is past the end of our three-entry GDT. */
		__asm__ volatile("mov %0, %%ds" : : "r"(0x40u));
		break;
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
	report_banner("acpi", "RSDP at 0x%05x, revision %u, tables:%s%s%s%s, bad checksums %u%s%s",
		      a->rsdp_addr, a->revision, a->fadt ? " FADT" : "", a->dsdt ? " DSDT" : "",
		      a->madt ? " MADT" : "", a->hpet ? " HPET" : "", a->bad_tables,
		      a->why[0] ? "; " : "", a->why);
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

static void calibrate(struct tsc_calibration *cal)
{
	if (!tsc_present())
		report_bail(EXIT_PANIC, "no TSC (CPUID.01H:EDX.TSC = 0); tickguest needs one");
	if (!tsc_calibrate(cal))
		report_bail(EXIT_PANIC, "PIT channel 2 never counted down: no 8254 to calibrate against");
	report_banner("tsc", "%llu.%03llu MHz from %s (%d windows of %d ms, spread %llu ppm)",
		      (unsigned long long)(cal->hz / 1000000),
		      (unsigned long long)(cal->hz / 1000 % 1000), cal->source, TSC_CAL_WINDOWS,
		      TSC_CAL_WINDOW_MS, (unsigned long long)cal->spread_ppm);
}

void kmain(uint32_t magic, uint32_t info_addr)
{
	struct boot_info bi;
	struct tsc_calibration cal;
	char err[160];

	console_init();
	report_begin();
	gdt_init();
	idt_init();
	acpi_init();            /* reads the BIOS data area in page 0, which paging unmaps */
	paging_init();

	if (!multiboot_parse(magic, info_addr, &bi))
		report_bail(EXIT_BAD_CONFIG, "not started by a multiboot loader (EAX = 0x%08x)", magic);
	banner(&bi);
	if (config_parse(&cfg, bi.cmdline, err, sizeof(err)) < 0)
		report_bail(EXIT_BAD_CONFIG, "%s", err);
	if (cfg.fault != FAULT_NONE)
		trigger_fault(cfg.fault);

	irq_set_chip(pic_init());
	calibrate(&cal);
	apic_measure();         /* wip-apic: LAPIC + IOAPIC measurements, the 8259 stays in charge */

	sched_init(&cfg, cal.hz);
	if (tick_start(&pit_tick_source, &tsc_refclock, cfg.hz, err, sizeof(err)) < 0)
		report_bail(EXIT_BAD_CONFIG, "hz=%u: %s", cfg.hz, err);
	pit_tick_source.describe(err, sizeof(err));
	report_banner("tick source", "%s", err);
	report_note("running %u tasks for %llu ms", sched_ntasks() - 1,
		    (unsigned long long)(cfg.duration_us / 1000));

	sched_run(cycles_from_us(cfg.duration_us, cal.hz));

	tick_stop();
	irq_chip()->mask_all();
	tsc_report_check(&cal);
	tick_report_check();
	irq_report_check();
	apic_report_checks();
	acct_report_checks();
	report_finish();
}
