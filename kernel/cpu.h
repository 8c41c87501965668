#ifndef TICKGUEST_CPU_H
#define TICKGUEST_CPU_H

struct cpu_info {
	char vendor[13];        /* CPUID 0: "GenuineIntel", "AuthenticAMD", ... */
	char hypervisor[13];    /* CPUID 0x40000000 when CPUID.1:ECX.HV is set, else "" */
	unsigned family, model, stepping;
};

void cpu_identify(struct cpu_info *ci);

/*
 * Why this CPU cannot run tickguest, or NULL when it can: it needs CPUID, a time-stamp
 * counter (every device is timed by it) and 4 MiB pages (kernel/paging.c).  The kernel is
 * built for the i486 instruction set, so this runs, and says so, on any x86; everything else a
 * CPU may lack (the local APIC, TSC-deadline, leaves 0x15 and 0x16) is a device or an
 * estimate that is skipped with its reason.  Call it first.
 */
const char *cpu_unsupported(void);

#endif
