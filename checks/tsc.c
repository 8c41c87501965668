/*
 * The TSC's frequency, as calibrated (drivers/tsc.c) and from every source, held against each
 * other.  Measured estimates are compared with PIT channel 2, the classic reference, and the PM
 * timer with the HPET; the CPU's and the hypervisor's stated figures with PIT channel 2 too, and
 * the hypervisor's two figures with each other.  The comparison itself is
 * tsc_estimates_agree() (lib/tsc_sources.c), each bounded by the sum of the two estimates'
 * error bounds plus the stated limit for that kind of pair (TSC_AGREE_LIMIT_*).
 *
 * Nothing is measured here: every window was the calibration's, and each estimate's bound
 * already holds the brackets its windows had, robbed or not.  docs/tsc.md.
 */
#include "checks/checks.h"
#include "checks/measure.h"
#include "lib/format.h"
#include "kernel/report.h"

/* Plausible: anything outside is a broken TSC or calibration (drivers/tsc.h says why). */
#define TSC_PLAUSIBLE_MIN_HZ    TSC_MIN_HZ
#define TSC_PLAUSIBLE_MAX_HZ    TSC_MAX_HZ

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

/* <key>_<what>: one YAML key of an estimate's */
static void estimate_u64(const struct tsc_estimate *e, const char *what, uint64_t v)
{
	char key[40];

	ksnprintf(key, sizeof(key), "%s_%s", e->key, what);
	report_yaml_u64(key, v);
}

/* An estimate beside another: its figure, its bound, and how it was had. */
static void estimate_yaml(const struct tsc_estimate *e)
{
	char key[40];

	estimate_u64(e, "hz", e->hz);
	estimate_u64(e, "bound_ppm", e->bound_ppm);
	if (e->kind == TSC_MEASURED) {
		estimate_u64(e, "spread_ppm", e->spread_ppm);
	} else if (e->why[0]) {
		ksnprintf(key, sizeof(key), "%s_note", e->key);
		report_yaml(key, "%s", e->why);
	}
}

static void calibration_claim(const struct tsc_calibration *cal)
{
	const struct tsc_estimate *m = &cal->est[cal->best_measured];
	bool plausible = cal->hz >= TSC_PLAUSIBLE_MIN_HZ && cal->hz <= TSC_PLAUSIBLE_MAX_HZ;
	struct claim c;

	claim_open(&c, "TSC calibration is plausible and repeatable");
	/*
	 * Repeatable: the two most precise windows of the best measured estimate agree within
	 * their two error bounds (tsc_windows_combine).  Precise: the window kept was undisturbed.
	 * A window's error is the brackets of its two reads of the reference, so a wide one is a
	 * read the host took the CPU in: with every window that way, and the figure plausible and
	 * repeatable within those wide bounds, the host kept the claim from being measured.
	 */
	bool ok = plausible && m->agree_ppm <= m->pair_bound_ppm;
	bool precise = m->window_err_ppm[m->best] <= TSC_CAL_PRECISE_PPM;

	if (!(ok && !precise ? claim_not_judged(&c, "the host took the CPU inside a read of "
						"every one of %u windows (best %llu ppm, precise "
						"%u)", m->windows,
						(unsigned long long)m->window_err_ppm[m->best],
						TSC_CAL_PRECISE_PPM)
			     : claim_judge(&c, NULL, ok && precise)))
		return;
	report_yaml("source", "%s", cal->source);
	report_yaml("chosen_because", "%s", cal->why);
	report_yaml_u64("tsc_hz", cal->hz);
	report_yaml_u64("tsc_bound_ppm", tsc_uncertainty_ppm());
	report_yaml("windows_of", "%s", m->name);
	for (unsigned i = 0; i < m->windows; i++) {
		char key[24];

		ksnprintf(key, sizeof(key), "window%u_hz", i);
		report_yaml_u64(key, m->window_hz[i]);
		ksnprintf(key, sizeof(key), "window%u_err_ppm", i);
		report_yaml_u64(key, m->window_err_ppm[i]);
	}
	report_yaml_u64("chosen_window", m->best);
	report_yaml_u64("precise_ppm", TSC_CAL_PRECISE_PPM);
	report_yaml_u64("plausible_min_hz", TSC_PLAUSIBLE_MIN_HZ);
	report_yaml_u64("plausible_max_hz", TSC_PLAUSIBLE_MAX_HZ);
	report_yaml_u64("spread_ppm", m->spread_ppm);
	report_yaml_u64("agree_ppm", m->agree_ppm);
	report_yaml_u64("bound_ppm", m->pair_bound_ppm);
	for (int i = 0; i < TSC_NR_SOURCES; i++) {
		if (!cal->est[i].present)
			continue;
		estimate_u64(&cal->est[i], "hz", cal->est[i].hz);
		estimate_u64(&cal->est[i], "bound_ppm", cal->est[i].bound_ppm);
	}
	claim_close();
}

static void pair_claim(const struct tsc_estimate *a, const struct tsc_estimate *b,
		       const char *pa, const char *pb)
{
	uint64_t diff = 0, bound = 0, limit = tsc_agree_limit_ppm(a, b);
	bool ok = false;
	struct claim c;

	/* The measured bound goes in the YAML: descriptions must not change from run to run. */
	if (a->present && b->present)
		claim_open(&c, "TSC frequency from %s agrees with %s within their bounds + "
			   "%llu ppm", pa, pb, (unsigned long long)limit);
	else
		claim_open(&c, "TSC frequency from %s agrees with %s", pa, pb);
	claim_needs(&c, a->present, a->why);
	claim_needs(&c, b->present, b->why);
	if (!c.skip)
		ok = tsc_estimates_agree(a, b, &diff, &bound);
	if (!claim_judge(&c, NULL, ok))
		return;
	estimate_yaml(a);
	estimate_yaml(b);
	report_yaml_u64("diff_ppm", diff);
	report_yaml_u64("limit_ppm", limit);
	report_yaml_u64("bound_ppm", bound);
	claim_close();
}

void tsc_checks(const struct tsc_calibration *cal)
{
	calibration_claim(cal);
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
		pair_claim(&cal->est[pairs[i].a], &cal->est[pairs[i].b], phrase[pairs[i].a],
			   phrase[pairs[i].b]);
}
