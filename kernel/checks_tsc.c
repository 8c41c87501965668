/*
 * The TSC's frequency from every source, held against each other.  Measured estimates are
 * compared with PIT channel 2, the classic reference, and the PM timer with the HPET; the CPU's
 * and the hypervisor's stated figures with PIT channel 2 too, and the hypervisor's two figures
 * with each other.  The comparison itself is tsc_estimates_agree() (kernel/tsc_sources.c).
 */
#include "kernel/checks_tsc.h"
#include "kernel/format.h"
#include "kernel/report.h"

static const struct {
	enum tsc_source a, b;
} pairs[] = {
	{ TSC_SRC_PMTIMER,      TSC_SRC_PIT },
	{ TSC_SRC_HPET,         TSC_SRC_PIT },
	{ TSC_SRC_HPET,         TSC_SRC_PMTIMER },
	{ TSC_SRC_CPUID_15,     TSC_SRC_PIT },
	{ TSC_SRC_CPUID_16,     TSC_SRC_PIT },
	{ TSC_SRC_HV_LEAF,      TSC_SRC_PIT },
	{ TSC_SRC_VMWARE_GETHZ, TSC_SRC_PIT },
	{ TSC_SRC_VMWARE_GETHZ, TSC_SRC_HV_LEAF },
};

/* How a source reads in a sentence. */
static const char *const phrase[TSC_NR_SOURCES] = {
	[TSC_SRC_PIT]          = "PIT channel 2",
	[TSC_SRC_PMTIMER]      = "the PM timer",
	[TSC_SRC_HPET]         = "the HPET",
	[TSC_SRC_CPUID_15]     = "CPUID 0x15",
	[TSC_SRC_CPUID_16]     = "CPUID 0x16 (a hint)",
	[TSC_SRC_HV_LEAF]      = "CPUID 0x40000010",
	[TSC_SRC_VMWARE_GETHZ] = "VMware GETHZ",
};

static void yaml_estimate(const struct tsc_estimate *e)
{
	char key[40];

	ksnprintf(key, sizeof(key), "%s_hz", e->key);
	report_yaml_u64(key, e->hz);
	ksnprintf(key, sizeof(key), "%s_bound_ppm", e->key);
	report_yaml_u64(key, e->bound_ppm);
	if (e->kind == TSC_MEASURED) {
		ksnprintf(key, sizeof(key), "%s_spread_ppm", e->key);
		report_yaml_u64(key, e->spread_ppm);
	} else if (e->why[0]) {
		ksnprintf(key, sizeof(key), "%s_note", e->key);
		report_yaml(key, "%s", e->why);
	}
}

static void report_pair(const struct tsc_estimate *a, const struct tsc_estimate *b,
			const char *pa, const char *pb)
{
	uint64_t diff, bound;
	bool ok;

	if (!a->present || !b->present) {
		report_skip(!a->present ? a->why : b->why, "TSC frequency from %s agrees with %s", pa, pb);
		return;
	}
	ok = tsc_estimates_agree(a, b, &diff, &bound);
	/* The measured bound goes in the YAML: descriptions must not change from run to run. */
	report_check(ok, "TSC frequency from %s agrees with %s within their bounds + %llu ppm",
		     pa, pb, (unsigned long long)tsc_agree_limit_ppm(a, b));
	report_yaml_begin();
	yaml_estimate(a);
	yaml_estimate(b);
	report_yaml_u64("diff_ppm", diff);
	report_yaml_u64("limit_ppm", tsc_agree_limit_ppm(a, b));
	report_yaml_u64("bound_ppm", bound);
	report_yaml_end();
}

void tsc_report_agreement_checks(const struct tsc_calibration *cal)
{
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
		report_pair(&cal->est[pairs[i].a], &cal->est[pairs[i].b], phrase[pairs[i].a],
			    phrase[pairs[i].b]);
}
