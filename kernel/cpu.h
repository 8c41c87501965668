#ifndef TICKGUEST_CPU_H
#define TICKGUEST_CPU_H

struct cpu_info {
	char vendor[13];        /* CPUID 0: "GenuineIntel", "AuthenticAMD", ... */
	char hypervisor[13];    /* CPUID 0x40000000 when CPUID.1:ECX.HV is set, else "" */
	unsigned family, model, stepping;
};

void cpu_identify(struct cpu_info *ci);

#endif
