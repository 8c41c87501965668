/*
 * The TSC frequency from every source tickguest knows, and the choice between them.
 *
 * Three estimates are measured: the TSC is counted over windows timed by PIT channel 2, by
 * the ACPI PM timer and by the HPET main counter (drivers/tsc.c).  Four are reported: CPUID
 * leaves 0x15 (crystal ratio) and 0x16 (base frequency) by the CPU, CPUID 0x40000010 and the
 * VMware backdoor's GETHZ by the hypervisor.  Each carries an error bound in ppm.
 *
 * This file is the arithmetic only (no hardware access), so the host unit tests can drive it:
 * tests/unit/test_tsc_sources.c.
 */
#ifndef TICKGUEST_TSC_SOURCES_H
#define TICKGUEST_TSC_SOURCES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TSC_CAL_WINDOWS_MIN 3
#define TSC_CAL_WINDOWS   8     /* at most; fewer once two precise windows are in */
/* A window this precise or better counts as undisturbed: 25 us of brackets in 50 ms. */
#define TSC_CAL_PRECISE_PPM 500
#define TSC_CAL_WINDOW_MS 50

/*
 * The stated limits on how far two sound estimates may disagree, on top of the sum of their
 * own error bounds (the one table; checks/tsc.c uses it for its checks, tsc_choose()
 * to decide whether a hypervisor's figure can be believed).
 *
 * MEASURED: two measured estimates.  The PIT, the PM timer and usually the HPET run from the
 *   same 14.31818 MHz crystal on a PC, and under a hypervisor from the same host clock; the
 *   limit is the one the reference clock checks use (DEVICE_RATE_LIMIT_PPM).
 * NOMINAL: a reported exact frequency against a measured one.  CPUID 0x15 states the nominal
 *   crystal, which real crystals miss by up to ~100 ppm; a hypervisor states the rate it
 *   programmed, which its virtual PIT and PM timer follow only as well as its host clock does.
 * HINT: CPUID 0x16's base frequency in whole MHz.  It is a marketing figure that equals the TSC
 *   rate only roughly (Skylake: 2496 MHz TSC for a "2500 MHz" part, 1600 ppm).
 */
#define TSC_AGREE_LIMIT_MEASURED_PPM  100
#define TSC_AGREE_LIMIT_NOMINAL_PPM   200
#define TSC_AGREE_LIMIT_HINT_PPM      20000

enum tsc_source {
	TSC_SRC_PIT,            /* measured: PIT channel 2 gate */
	TSC_SRC_PMTIMER,        /* measured: ACPI PM timer */
	TSC_SRC_HPET,           /* measured: HPET main counter */
	TSC_SRC_CPUID_15,       /* CPU: crystal Hz x EBX / EAX */
	TSC_SRC_CPUID_16,       /* CPU: base frequency, MHz */
	TSC_SRC_HV_LEAF,        /* hypervisor: CPUID 0x40000010 EAX, kHz */
	TSC_SRC_VMWARE_GETHZ,   /* hypervisor: backdoor command 45, Hz */
	TSC_NR_SOURCES
};

enum tsc_source_kind {
	TSC_MEASURED,
	TSC_CPU_REPORTED,       /* the CPU's own nominal figure */
	TSC_HV_REPORTED,        /* the hypervisor's figure */
	TSC_HINT,               /* a rough figure: compared, never chosen */
};

struct tsc_estimate {
	const char *name;       /* "PIT channel 2", "CPUID 0x15", ... */
	const char *key;        /* short form for YAML keys: "pit", "cpuid_15", ... */
	enum tsc_source_kind kind;
	bool present;
	char why[96];           /* absent: the reason (the SKIP message); present: a note or "" */
	uint64_t hz;
	uint64_t bound_ppm;     /* how far hz may be from the true TSC rate */
	/* measured estimates only */
	unsigned windows;       /* windows measured */
	uint64_t window_hz[TSC_CAL_WINDOWS];
	uint64_t window_err_ppm[TSC_CAL_WINDOWS];
	unsigned best, second;  /* the two windows with the narrowest brackets */
	uint64_t spread_ppm;    /* max - min window, relative to hz */
	uint64_t agree_ppm;     /* best vs second window, relative to hz */
	uint64_t pair_bound_ppm;/* how far that pair may differ: the sum of their error bounds */
};

/* |x - y| relative to ref, in ppm (rounded down); 0 when ref is 0. */
uint64_t tsc_diff_ppm(uint64_t x, uint64_t y, uint64_t ref);

/*
 * One measured window's error bound in ppm: `uncertainty` TSC cycles of timing error at its
 * two edges over a `delta`-cycle window, plus one count of the reference clock's quantisation
 * over `counts`, plus 1 for rounding.
 */
uint64_t tsc_window_error_ppm(uint64_t uncertainty, uint64_t delta, uint64_t counts);

/* The TSC rate that counted `delta` cycles while a ref_hz clock counted `counts`. */
uint64_t tsc_window_hz(uint64_t delta, uint64_t counts, uint64_t ref_hz);

/*
 * Combine e->windows windows (window_hz, window_err_ppm filled in, at least 2): hz is the
 * window with the narrowest brackets (lib/calib.h says why that beats a median) and
 * bound_ppm its error bound.  Marks the estimate present.
 */
void tsc_windows_combine(struct tsc_estimate *e);

/* Enough windows: at least TSC_CAL_WINDOWS_MIN, and the two best both precise. */
bool tsc_windows_enough(const struct tsc_estimate *e);

/*
 * CPUID 0x15: TSC Hz = crystal Hz (ECX) x EBX / EAX.  False when the ratio is not enumerated
 * (EAX or EBX 0) or the crystal frequency is not (ECX 0), with the reason in why.
 */
bool tsc_hz_from_cpuid_15(uint32_t eax, uint32_t ebx, uint32_t ecx, uint64_t *hz,
			  char *why, size_t whylen);
/* CPUID 0x16 EAX[15:0]: base frequency in MHz; false when 0. */
bool tsc_hz_from_cpuid_16(uint32_t eax, uint64_t *hz);
/* CPUID 0x40000010 EAX: TSC frequency in kHz; false when 0. */
bool tsc_hz_from_hv_leaf(uint32_t eax, uint64_t *hz);
/* GETHZ: EBX:EAX is the TSC rate in Hz, EBX = 0xffffffff "unsupported"; false then or when 0. */
bool tsc_hz_from_gethz(uint32_t eax, uint32_t ebx, uint64_t *hz);

/* A reported figure in units of `unit_hz` is exact to half a unit: its bound in ppm, rounded up. */
uint64_t tsc_reported_bound_ppm(uint64_t hz, uint64_t unit_hz);

/* The stated limit for comparing a and b (the table above). */
uint64_t tsc_agree_limit_ppm(const struct tsc_estimate *a, const struct tsc_estimate *b);

/*
 * Compare two present estimates: *diff_ppm relative to the lower of the two, *bound_ppm the sum
 * of their bounds plus the stated limit.  True when they agree.
 */
bool tsc_estimates_agree(const struct tsc_estimate *a, const struct tsc_estimate *b,
			 uint64_t *diff_ppm, uint64_t *bound_ppm);

/*
 * Choose the estimate to run with: a hypervisor-reported one (the smaller bound first) when it
 * agrees with every present measured estimate, else the measured one with the smallest error
 * bound (the first on a tie).  *best_measured is that measured one.  Returns the index chosen,
 * or -1 when nothing was measured; why says why, in a few words, for the banner.
 */
int tsc_choose(const struct tsc_estimate est[TSC_NR_SOURCES], int *best_measured,
	       char *why, size_t whylen);

#endif
