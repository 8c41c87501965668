/*
 * Small inline wrappers for the x86 instructions the kernel needs: port I/O, CPUID, RDTSC, MSRs,
 * control registers and interrupt flag handling.  Every hardware access in the drivers goes
 * through these, so the drivers read as register names rather than inline assembly.
 */
#ifndef TICKGUEST_X86_H
#define TICKGUEST_X86_H

#include <stdint.h>

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;
	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

/* A write to an unused port takes about 1 us on real hardware: the classic I/O delay. */
static inline void io_delay(void)
{
	outb(0x80, 0);
}

/*
 * A pointer to physical address `addr` (memory is identity mapped).  The empty asm hides the
 * constant from GCC, which otherwise warns about dereferencing small fixed addresses.
 */
static inline const volatile void *phys_ptr(uintptr_t addr)
{
	__asm__("" : "+r"(addr));
	return (const volatile void *)addr;
}

static inline void cpuid(uint32_t leaf, uint32_t subleaf,
			 uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
	__asm__ volatile("cpuid"
			 : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d)
			 : "a"(leaf), "c"(subleaf));
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

#define X86_CR0_PE  (1u << 0)
#define X86_CR0_WP  (1u << 16)
#define X86_CR0_PG  (1u << 31)
#define X86_CR4_PSE (1u << 4)
#define X86_EFLAGS_IF (1u << 9)
#define X86_EFLAGS_ID (1u << 21)        /* software can flip it where CPUID exists */

#define DEFINE_CR(n) \
	static inline uint32_t read_cr##n(void) \
	{ uint32_t v; __asm__ volatile("mov %%cr" #n ", %0" : "=r"(v)); return v; } \
	static inline void write_cr##n(uint32_t v) \
	{ __asm__ volatile("mov %0, %%cr" #n : : "r"(v) : "memory"); }
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)
#undef DEFINE_CR

static inline uint32_t read_eflags(void)
{
	uint32_t v;
	__asm__ volatile("pushfl; popl %0" : "=r"(v));
	return v;
}

static inline void write_eflags(uint32_t v)
{
	__asm__ volatile("pushl %0; popfl" : : "r"(v) : "memory", "cc");
}

static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void sti(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void hlt(void) { __asm__ volatile("hlt" ::: "memory"); }
/* sti takes effect after the next instruction, so no interrupt can slip in before hlt. */
static inline void sti_hlt(void) { __asm__ volatile("sti; hlt" ::: "memory"); }
static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }
/*
 * With interrupts off, let whatever interrupt is pending in, then shut them again: sti takes
 * effect after the next instruction, so a plain nop there is the window.  Not pause: under
 * QEMU's TCG an interrupt pending in the local APIC's IRR was not taken across "sti; pause;
 * cli", and was across "sti; nop; cli".
 */
static inline void irq_window(void) { __asm__ volatile("sti; nop; cli" ::: "memory"); }

/* Save and restore the interrupt flag around a critical section that may nest. */
static inline uint32_t irq_save(void)
{
	uint32_t f = read_eflags();
	cli();
	return f;
}

static inline void irq_restore(uint32_t flags)
{
	if (flags & X86_EFLAGS_IF)
		sti();
}

#endif
