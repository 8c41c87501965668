/*
 * CPU identification for the banner (Intel SDM vol. 2, CPUID).  Family and model are the
 * "displayed" values: the extended fields count only for family 0x0f (and model also for 6).
 * A hypervisor announces itself with CPUID.1:ECX bit 31 and a 12-byte signature in leaf
 * 0x40000000 ("TCGTCGTCGTCG", "KVMKVMKVM", "VMwareVMware").
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kernel/cpu.h"
#include "kernel/x86.h"

#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define CPUID_1_EDX_PSE        (1u << 3)
#define CPUID_1_EDX_TSC        (1u << 4)
#define CPUID_HV_BASE          0x40000000u

static void put_reg(char *dst, uint32_t r)
{
	for (int i = 0; i < 4; i++)
		dst[i] = (char)(r >> (8 * i));
}

/* A 12-byte signature from three registers, in the order the leaf gives it, and its NUL. */
static void put_signature(char dst[13], uint32_t r0, uint32_t r1, uint32_t r2)
{
	put_reg(dst, r0);
	put_reg(dst + 4, r1);
	put_reg(dst + 8, r2);
	dst[12] = 0;
}

void cpu_identify(struct cpu_info *ci)
{
	uint32_t a, b, c, d;
	unsigned base_family, base_model;

	cpuid(0, 0, &a, &b, &c, &d);
	put_signature(ci->vendor, b, d, c);      /* "GenuineIntel" is EBX, EDX, ECX */

	cpuid(1, 0, &a, &b, &c, &d);
	base_family = (a >> 8) & 0xf;
	base_model = (a >> 4) & 0xf;
	ci->stepping = a & 0xf;
	ci->family = base_family == 0xf ? base_family + ((a >> 20) & 0xff) : base_family;
	ci->model = (base_family == 0xf || base_family == 6) ?
		    base_model | (((a >> 16) & 0xf) << 4) : base_model;

	ci->hypervisor[0] = 0;
	if (c & CPUID_1_ECX_HYPERVISOR) {
		cpuid(CPUID_HV_BASE, 0, &a, &b, &c, &d);
		put_signature(ci->hypervisor, b, c, d);
	}
}

/* A CPU with CPUID lets software change EFLAGS.ID (SDM vol. 1, 20.1.2); a 386 or early 486 not. */
static bool cpuid_present(void)
{
	const uint32_t before = read_eflags();
	bool flips;

	write_eflags(before ^ X86_EFLAGS_ID);
	flips = (read_eflags() ^ before) & X86_EFLAGS_ID;
	write_eflags(before);
	return flips;
}

const char *cpu_unsupported(void)
{
	uint32_t a, b, c, d;

	if (!cpuid_present())
		return "no CPUID instruction (EFLAGS.ID does not change); tickguest needs a Pentium "
		       "or later";
	cpuid(0, 0, &a, &b, &c, &d);
	if (a < 1)
		return "CPUID has no leaf 1, so no feature flags";
	cpuid(1, 0, &a, &b, &c, &d);
	if (!(d & CPUID_1_EDX_TSC))
		return "no time-stamp counter (CPUID.01H:EDX.TSC[bit 4] = 0), by which tickguest "
		       "times every device";
	if (!(d & CPUID_1_EDX_PSE))
		return "no 4 MiB pages (CPUID.01H:EDX.PSE[bit 3] = 0), which its paging uses";
	return NULL;
}
