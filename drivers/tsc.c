/*
 * The time-stamp counter: a 64-bit cycle counter read with RDTSC (Intel SDM vol. 3, 18.17).
 *
 * Its frequency is not architecturally reported on most CPUs and never under QEMU's TCG, so it
 * is measured against clocks of known rate, as Linux's arch/x86/kernel/tsc.c does: PIT channel 2
 * counting a fixed window, and the ACPI PM timer and HPET main counter read at both ends of one.
 * Every edge of a window is seen through an I/O or MMIO read, so each window is only as good as
 * the TSC brackets around those reads; their widths become its error bound.  Three to eight
 * windows per clock, the one with the narrowest brackets kept (a disturbed window shows wide
 * brackets).
 *
 * The CPU and the hypervisor may also state the rate: CPUID 0x15 (crystal x ratio) and 0x16
 * (base MHz), CPUID 0x40000010 (VMware's timing leaf, also offered by KVM) and VMware's
 * backdoor command GETHZ.  All are read and compared; lib/tsc_sources.c chooses.
 * docs/tsc.md has the background.
 */
#include "drivers/tsc.h"
#include "acct/stats.h"
#include "drivers/acpi_pmtimer.h"
#include "drivers/hpet.h"
#include "drivers/pit8254.h"
#include "drivers/vmware_backdoor.h"
#include "lib/format.h"
#include "kernel/x86.h"

#define CPUID_1_EDX_TSC        (1u << 4)
#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define CPUID_LEAF_TSC_CRYSTAL 0x15u
#define CPUID_LEAF_FREQ        0x16u
#define CPUID_HV_BASE          0x40000000u
#define CPUID_HV_TIMING        0x40000010u
#define HZ_PER_KHZ             1000ull
#define HZ_PER_MHZ             1000000ull
#define TSC_CAL_WARMUP_MS      1
/* A working clock ends a 50 ms window long before this many reads. */
#define TSC_CAL_MAX_POLLS      10000000ull

static uint64_t uncertainty_ppm;

static uint64_t tsc_read_raw(void)
{
	return rdtsc();
}

struct refclock tsc_refclock = {
	.name = "tsc",
	.width = 64,
	.read_raw = tsc_read_raw,
};

bool tsc_present(void)
{
	uint32_t a, b, c, d;

	cpuid(1, 0, &a, &b, &c, &d);
	return d & CPUID_1_EDX_TSC;
}

/* ---- measured: one window against a clock ---- */

/*
 * A window measures `delta` TSC cycles while the clock counted `counts`, with `uncertainty`
 * cycles of timing error at its two edges together.
 */
struct window {
	uint64_t delta, counts, uncertainty;
};

static bool pit_window(struct refclock *unused, uint64_t counts, struct window *w)
{
	(void)unused;
	w->counts = counts;
	return pit_ch2_measure_tsc((uint16_t)counts, &w->delta, &w->uncertainty);
}

/*
 * A free-running counter (PM timer, HPET) read at the start and then until `counts` have
 * passed.  Each read is bracketed by two RDTSCs and taken at the bracket's middle, so each edge
 * is off by at most half its bracket.  Raw reads, masked to the counter's width: a 50 ms window
 * is far shorter than any wrap, and the clock's own wrap extension is left alone.
 */
static bool counter_window(struct refclock *c, uint64_t counts, struct window *w)
{
	const uint64_t mask = c->width >= 64 ? ~0ull : (1ull << c->width) - 1;
	uint64_t before0, after0, before1, after1, start, now;
	uint64_t polls = 0;

	before0 = rdtsc();
	start = c->read_raw();
	after0 = rdtsc();
	do {
		if (polls++ >= TSC_CAL_MAX_POLLS)
			return false;
		before1 = rdtsc();
		now = c->read_raw();
		after1 = rdtsc();
	} while (((now - start) & mask) < counts);
	w->counts = (now - start) & mask;
	w->delta = (before1 + after1) / 2 - (before0 + after0) / 2;
	w->uncertainty = ((after0 - before0) + (after1 - before1) + 1) / 2;
	return true;
}

typedef bool (*window_fn)(struct refclock *c, uint64_t counts, struct window *w);

/*
 * A short first window, thrown away, then windows of TSC_CAL_WINDOW_MS until two of them are
 * precise (at least TSC_CAL_WINDOWS_MIN, at most TSC_CAL_WINDOWS): a loaded host disturbs
 * windows, and more of them give an undisturbed pair a chance.
 */
static bool measure(struct tsc_estimate *e, window_fn window, struct refclock *c, uint64_t ref_hz)
{
	struct window w;

	/*
	 * The first pass through a polling loop is slow (cold caches; under TCG, code not yet
	 * translated), which biased the first real window by over 1000 ppm under QEMU.
	 */
	if (!window(c, ref_hz * TSC_CAL_WARMUP_MS / 1000, &w))
		return false;
	for (e->windows = 0; e->windows < TSC_CAL_WINDOWS && !tsc_windows_enough(e); e->windows++) {
		if (!window(c, ref_hz * TSC_CAL_WINDOW_MS / 1000, &w))
			return false;
		e->window_hz[e->windows] = tsc_window_hz(w.delta, w.counts, ref_hz);
		e->window_err_ppm[e->windows] = tsc_window_error_ppm(w.uncertainty, w.delta, w.counts);
	}
	tsc_windows_combine(e);
	return true;
}

static void measure_pit(struct tsc_estimate *e)
{
	if (!measure(e, pit_window, 0, PIT_HZ))
		ksnprintf(e->why, sizeof(e->why), "PIT channel 2's OUT (port 0x61 bit 5) never "
			  "went low, then high: no 8254 there");
}

static void measure_counter(struct tsc_estimate *e, struct refclock *c, const char *absent)
{
	if (absent)
		ksnprintf(e->why, sizeof(e->why), "%s", absent);
	else if (!measure(e, counter_window, c, c->freq_hz))
		ksnprintf(e->why, sizeof(e->why), "the %s stopped counting", c->name);
}

/* ---- reported: CPUID and the VMware backdoor ---- */

static void read_cpuid_leaves(struct tsc_estimate *e15, struct tsc_estimate *e16)
{
	uint32_t max, a, b, c, d;

	cpuid(0, 0, &max, &b, &c, &d);
	if (max < CPUID_LEAF_TSC_CRYSTAL) {
		ksnprintf(e15->why, sizeof(e15->why), "CPUID leaf 0x15 absent (max leaf 0x%x)", max);
	} else {
		cpuid(CPUID_LEAF_TSC_CRYSTAL, 0, &a, &b, &c, &d);
		if (tsc_hz_from_cpuid_15(a, b, c, &e15->hz, e15->why, sizeof(e15->why))) {
			e15->present = true;
			/* ECX is in Hz and the ratio is exact: only the division rounds. */
			e15->bound_ppm = tsc_reported_bound_ppm(e15->hz, 1);
			ksnprintf(e15->why, sizeof(e15->why), "nominal: crystal %u Hz x %u/%u", c, b, a);
		}
	}
	if (max < CPUID_LEAF_FREQ) {
		ksnprintf(e16->why, sizeof(e16->why), "CPUID leaf 0x16 absent (max leaf 0x%x)", max);
		return;
	}
	cpuid(CPUID_LEAF_FREQ, 0, &a, &b, &c, &d);
	if (!tsc_hz_from_cpuid_16(a, &e16->hz)) {
		ksnprintf(e16->why, sizeof(e16->why), "CPUID 0x16 gives no base frequency (EAX = 0)");
		return;
	}
	e16->present = true;
	e16->bound_ppm = tsc_reported_bound_ppm(e16->hz, HZ_PER_MHZ);
	ksnprintf(e16->why, sizeof(e16->why), "a hint: processor base frequency %u MHz", a & 0xffff);
}

/* CPUID 0x40000000: whether there is a hypervisor, its signature and its highest leaf. */
static bool hypervisor_leaf(char sig[13], uint32_t *max)
{
	uint32_t a, b, c, d;

	cpuid(1, 0, &a, &b, &c, &d);
	if (!(c & CPUID_1_ECX_HYPERVISOR))
		return false;
	cpuid(CPUID_HV_BASE, 0, max, &b, &c, &d);
	for (int i = 0; i < 4; i++) {
		sig[i] = (char)(b >> 8 * i);
		sig[4 + i] = (char)(c >> 8 * i);
		sig[8 + i] = (char)(d >> 8 * i);
	}
	sig[12] = 0;
	return true;
}

static bool is_vmware(const char *sig)
{
	const char *v = "VMwareVMware";

	for (int i = 0; i < 13; i++)
		if (sig[i] != v[i])
			return false;
	return true;
}

static void read_hypervisor(struct tsc_estimate *leaf, struct tsc_estimate *gethz)
{
	char sig[13];
	uint32_t max, a, b, c, d;
	const char *why;
	struct vmw_bdoor_regs r;

	if (!hypervisor_leaf(sig, &max)) {
		ksnprintf(leaf->why, sizeof(leaf->why), "no hypervisor (CPUID.1:ECX bit 31 clear)");
		ksnprintf(gethz->why, sizeof(gethz->why), "no hypervisor: the backdoor is not probed");
		return;
	}
	if (max < CPUID_HV_TIMING) {
		ksnprintf(leaf->why, sizeof(leaf->why), "no hypervisor timing leaf (%s: max leaf 0x%x)",
			  sig, max);
	} else {
		cpuid(CPUID_HV_TIMING, 0, &a, &b, &c, &d);
		if (tsc_hz_from_hv_leaf(a, &leaf->hz)) {
			leaf->present = true;
			leaf->bound_ppm = tsc_reported_bound_ppm(leaf->hz, HZ_PER_KHZ);
			ksnprintf(leaf->why, sizeof(leaf->why), "%s: TSC %u kHz, bus %u kHz", sig, a, b);
		} else {
			ksnprintf(leaf->why, sizeof(leaf->why), "%s leaf 0x40000010 gives no TSC kHz", sig);
		}
	}
	/* The backdoor only where VMware says it is there, or where GETVERSION answers. */
	if (!is_vmware(sig) && !vmw_bdoor_present(&why)) {
		ksnprintf(gethz->why, sizeof(gethz->why), "%s (%s)", why, sig);
		return;
	}
	if (!vmw_bdoor_call(VMW_BDOOR_CMD_GETHZ, 0, &r)) {
		ksnprintf(gethz->why, sizeof(gethz->why), "VMware backdoor GETHZ raised #GP (%s)", sig);
		return;
	}
	if (!tsc_hz_from_gethz(r.eax, r.ebx, &gethz->hz)) {
		ksnprintf(gethz->why, sizeof(gethz->why), "VMware backdoor GETHZ unsupported (%s%s)",
			  sig, r.ebx == 0xffffffffu ? ": EBX = 0xffffffff" : ": 0 Hz");
		return;
	}
	gethz->present = true;
	gethz->bound_ppm = tsc_reported_bound_ppm(gethz->hz, 1);
	ksnprintf(gethz->why, sizeof(gethz->why), "%s: APIC bus %u Hz", sig, r.ecx);
}

/* ---- all of them ---- */

static const struct {
	const char *name, *key;
	enum tsc_source_kind kind;
} sources[TSC_NR_SOURCES] = {
	[TSC_SRC_PIT]          = { "PIT channel 2", "pit", TSC_MEASURED },
	[TSC_SRC_PMTIMER]      = { "PM timer", "pmtimer", TSC_MEASURED },
	[TSC_SRC_HPET]         = { "HPET", "hpet", TSC_MEASURED },
	[TSC_SRC_CPUID_15]     = { "CPUID 0x15", "cpuid_15", TSC_CPU_REPORTED },
	[TSC_SRC_CPUID_16]     = { "CPUID 0x16", "cpuid_16", TSC_HINT },
	[TSC_SRC_HV_LEAF]      = { "CPUID 0x40000010", "cpuid_40000010", TSC_HV_REPORTED },
	[TSC_SRC_VMWARE_GETHZ] = { "VMware GETHZ", "vmware_gethz", TSC_HV_REPORTED },
};

bool tsc_calibrate(struct tsc_calibration *cal, const char *pmtimer_absent,
		   const char *hpet_absent)
{
	struct tsc_estimate *e = cal->est;

	for (int i = 0; i < TSC_NR_SOURCES; i++)
		e[i] = (struct tsc_estimate){ .name = sources[i].name, .key = sources[i].key,
					      .kind = sources[i].kind };
	measure_pit(&e[TSC_SRC_PIT]);
	measure_counter(&e[TSC_SRC_PMTIMER], &pmtimer_refclock, pmtimer_absent);
	measure_counter(&e[TSC_SRC_HPET], &hpet_refclock, hpet_absent);
	read_cpuid_leaves(&e[TSC_SRC_CPUID_15], &e[TSC_SRC_CPUID_16]);
	read_hypervisor(&e[TSC_SRC_HV_LEAF], &e[TSC_SRC_VMWARE_GETHZ]);

	cal->chosen = tsc_choose(e, &cal->best_measured, cal->why, sizeof(cal->why));
	if (cal->chosen < 0)
		return false;
	cal->source = e[cal->chosen].name;
	cal->hz = e[cal->chosen].hz;
	tsc_refclock.freq_hz = cal->hz;
	uncertainty_ppm = e[cal->chosen].bound_ppm;
	return true;
}

uint64_t tsc_uncertainty_ppm(void)
{
	return uncertainty_ppm;
}

uint64_t tsc_ns(uint64_t cycles)
{
	return cycles_to_ns(cycles, tsc_refclock.freq_hz);
}
