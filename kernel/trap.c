/*
 * The IDT and the one C entry point for every vector.
 *
 * All 256 vectors have a stub (boot/stubs.asm) so that nothing the CPU or a device can raise
 * lands on an empty gate: exceptions panic with a dump, the 16 ISA IRQ vectors go to the
 * interrupt controller's dispatch, a vector above them goes to the handler a driver set for it
 * (the local APIC's own interrupts), anything else is counted as unexpected.  After an IRQ the
 * scheduler may switch tasks; that happens here, after the controller has had its EOI.
 */
#include <stdbool.h>
#include <stdint.h>
#include "kernel/trap.h"
#include "kernel/irq.h"
#include "kernel/panic.h"
#include "sched/sched.h"

#define IDT_GATE_INTR32 0x8e    /* present, ring 0, 32-bit interrupt gate: clears IF on entry */
#define IDT_GATE_TASK   0x85    /* present, ring 0, task gate */
#define VECTOR_GP       13      /* general protection */
#define OPCODE_IN_EAX_DX 0xed   /* in eax, dx: one byte */

struct __attribute__((packed)) idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t zero;
	uint8_t type_attr;
	uint16_t offset_hi;
};

struct __attribute__((packed)) idt_ptr {
	uint16_t limit;
	uint32_t base;
};

extern const uint32_t trap_vectors[256];
static struct idt_gate idt[256] __attribute__((aligned(8)));
static uint32_t unexpected;
static void (*unowned_eoi)(void);       /* trap_set_unowned_eoi */
static volatile bool io_probe_armed, io_probe_faulted;

/* Vectors FIRST_LOCAL_VECTOR..255: a handler and the end-of-interrupt that follows it. */
static struct {
	trap_handler_fn fn;
	void (*eoi)(void);
} local[256 - FIRST_LOCAL_VECTOR];

void idt_init(void)
{
	struct idt_ptr p = { sizeof(idt) - 1, (uint32_t)(uintptr_t)idt };

	for (unsigned v = 0; v < 256; v++) {
		idt[v].offset_lo = trap_vectors[v] & 0xffff;
		idt[v].selector = GDT_KERNEL_CS;
		idt[v].zero = 0;
		idt[v].type_attr = IDT_GATE_INTR32;
		idt[v].offset_hi = trap_vectors[v] >> 16;
	}
	__asm__ volatile("lidt %0" : : "m"(p));
}

void idt_set_task_gate(unsigned vector, uint16_t tss_selector)
{
	idt[vector] = (struct idt_gate){ .selector = tss_selector, .type_attr = IDT_GATE_TASK };
}

void trap(struct trapframe *tf)
{
	/* A probed port read that faulted: note it and step over the one-byte IN. */
	if (tf->vector == VECTOR_GP && io_probe_armed &&
	    *(const volatile uint8_t *)(uintptr_t)tf->eip == OPCODE_IN_EAX_DX) {
		io_probe_faulted = true;
		tf->eip += 1;
		return;
	}
	if (tf->vector < NR_EXCEPTIONS)
		panic_exception(tf);

	if (tf->vector >= IRQ_VECTOR_BASE && tf->vector < IRQ_VECTOR_BASE + NR_ISA_IRQS) {
		sched_irq_enter();
		irq_dispatch(tf->vector - IRQ_VECTOR_BASE, tf);
		sched_irq_exit();
		return;
	}
	if (tf->vector >= FIRST_LOCAL_VECTOR && local[tf->vector - FIRST_LOCAL_VECTOR].fn) {
		unsigned i = tf->vector - FIRST_LOCAL_VECTOR;

		sched_irq_enter();
		local[i].fn(tf);
		/* After the handler, as for ISA IRQs: the source holds back its next interrupt
		 * until this one is handled, and a task switch in sched_irq_exit() never leaves
		 * an interrupt unacknowledged. */
		if (local[i].eoi)
			local[i].eoi();
		sched_irq_exit();
		return;
	}
	unexpected++;
	if (tf->vector >= FIRST_LOCAL_VECTOR && unowned_eoi)
		unowned_eoi();
}

void trap_set_unowned_eoi(void (*eoi)(void))
{
	unowned_eoi = eoi;
}

void trap_set_handler(unsigned vector, trap_handler_fn fn, void (*eoi)(void))
{
	if (vector < FIRST_LOCAL_VECTOR || vector > 255)
		panic("trap_set_handler: vector %u is not a local vector", vector);
	local[vector - FIRST_LOCAL_VECTOR].fn = fn;
	local[vector - FIRST_LOCAL_VECTOR].eoi = fn ? eoi : 0;
}

uint32_t trap_unexpected_count(void)
{
	return unexpected;
}

void trap_io_probe_begin(void)
{
	io_probe_faulted = false;
	io_probe_armed = true;
}

bool trap_io_probe_end(void)
{
	io_probe_armed = false;
	return io_probe_faulted;
}
