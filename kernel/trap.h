#ifndef TICKGUEST_TRAP_H
#define TICKGUEST_TRAP_H

#include <stdbool.h>
#include <stdint.h>

/* What boot/stubs.asm leaves on the stack: pushad, then vector and error code, then the CPU's
 * EIP, CS, EFLAGS.  Ring 0 only, so no SS:ESP. */
struct trapframe {
	uint32_t edi, esi, ebp, esp_at_pushad, ebx, edx, ecx, eax;
	uint32_t vector, error;
	uint32_t eip, cs, eflags;
};

#define GDT_KERNEL_CS   0x08
#define GDT_KERNEL_DS   0x10

#define NR_EXCEPTIONS   32
#define IRQ_VECTOR_BASE 32      /* the 8259s are remapped to vectors 32..47 */
#define NR_ISA_IRQS     16
#define FIRST_LOCAL_VECTOR (IRQ_VECTOR_BASE + NR_ISA_IRQS)  /* 48: vectors no ISA line owns */

#define VECTOR_DF       8       /* double fault */

void idt_init(void);
/* Make vector a task gate to the TSS at tss_selector (kernel/gdt.c: the double fault's). */
void idt_set_task_gate(unsigned vector, uint16_t tss_selector);
void trap(struct trapframe *tf);

/*
 * Own a vector that is not an ISA IRQ (the local APIC's timer, error and spurious vectors).
 * trap() runs fn, then eoi (NULL when the source must not get one, like the local APIC's
 * spurious vector), inside sched_irq_enter/exit as for ISA IRQs.  fn NULL gives the vector up.
 */
typedef void (*trap_handler_fn)(struct trapframe *tf);
void trap_set_handler(unsigned vector, trap_handler_fn fn, void (*eoi)(void));

/*
 * A port read that may raise #GP (the VMware backdoor where there is none, or where the
 * hypervisor forbids it): between begin and end, a #GP on an `in eax, dx` does not panic; the
 * instruction is skipped and end() returns true.
 */
void trap_io_probe_begin(void);
bool trap_io_probe_end(void);

/* Interrupts that arrived on a vector nobody owns (counted, never treated as ticks). */
uint32_t trap_unexpected_count(void);

/*
 * The end-of-interrupt an unowned vector above the ISA range still gets: the local APIC's,
 * once it is enabled.  Only the local APIC delivers such vectors (its spurious vector, which
 * takes none, is owned), and a fixed interrupt it delivered holds its ISR bit until an EOI:
 * left set, it blocks every vector of its priority class and below (SDM vol. 3, 11.8.3), so
 * one straggler with no owner would silence the IOAPIC's ticks for the rest of the run.
 */
void trap_set_unowned_eoi(void (*eoi)(void));

/* The interrupted ESP: ring 0 frames end right after EFLAGS. */
static inline uint32_t trapframe_esp(const struct trapframe *tf)
{
	return (uint32_t)(uintptr_t)(&tf->eflags + 1);
}

#endif
