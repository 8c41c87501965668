/*
 * Our own GDT.  The loader's GDT may live in memory we do not own, so the kernel installs a flat
 * one (Intel SDM vol. 3, 3.4.5): a 4 GiB ring-0 code segment and a 4 GiB ring-0 data segment,
 * and two task-state segments.
 *
 * The TSSs are for one fault.  A stack overflow makes the CPU fault on the push of the frame of
 * the exception it was delivering, a double fault, and delivering that on the same stack faults
 * a third time: the CPU shuts down and the serial port says nothing.  A task gate in the IDT's
 * vector 8 makes the CPU switch to another task, with its own stack, saving the state of the
 * one that faulted in its TSS (SDM vol. 3, 7.3 and 6.14.2), so panic_double_fault() can say
 * where it was.  Nothing else uses tasks.
 */
#include <stdint.h>
#include "kernel/gdt.h"
#include "kernel/panic.h"
#include "kernel/trap.h"
#include "kernel/x86.h"

/* access byte: present, ring 0, code/data descriptor, and the type */
#define SEG_ACCESS_CODE 0x9a    /* execute/read */
#define SEG_ACCESS_DATA 0x92    /* read/write */
#define SEG_ACCESS_TSS  0x89    /* a system descriptor: 32-bit TSS, available */
/* flags nibble: 4 KiB granularity, 32-bit default operand size */
#define SEG_FLAGS_4K_32 0xc

#define SEG_FLAT(access) \
	(((uint64_t)0xffff) | ((uint64_t)(access) << 40) | \
	 ((uint64_t)0xf << 48) | ((uint64_t)SEG_FLAGS_4K_32 << 52))

#define EFLAGS_RESERVED_1       (1u << 1)       /* always set */
#define DF_STACK_SIZE           8192

static uint64_t gdt[] __attribute__((aligned(8))) = {
	0,                              /* the null selector */
	SEG_FLAT(SEG_ACCESS_CODE),      /* GDT_KERNEL_CS */
	SEG_FLAT(SEG_ACCESS_DATA),      /* GDT_KERNEL_DS */
	0,                              /* GDT_MAIN_TSS, filled by gdt_tss_init() */
	0,                              /* GDT_DF_TSS */
};

static struct tss main_tss, df_tss;
static uint8_t df_stack[DF_STACK_SIZE] __attribute__((aligned(16)));

struct __attribute__((packed)) gdt_ptr {
	uint16_t limit;
	uint32_t base;
};

void gdt_init(void)
{
	struct gdt_ptr p = { sizeof(gdt) - 1, (uint32_t)(uintptr_t)gdt };

	/* A far jump is the only way to reload CS. */
	__asm__ volatile(
		"lgdt %0\n\t"
		"mov %1, %%ds\n\t"
		"mov %1, %%es\n\t"
		"mov %1, %%fs\n\t"
		"mov %1, %%gs\n\t"
		"mov %1, %%ss\n\t"
		"ljmp %2, $1f\n"
		"1:"
		: : "m"(p), "r"((uint32_t)GDT_KERNEL_DS), "i"(GDT_KERNEL_CS) : "memory");
}

/* A TSS descriptor: byte-granular limit, base split over the descriptor as for segments. */
static uint64_t tss_descriptor(const struct tss *t)
{
	const uint32_t base = (uint32_t)(uintptr_t)t, limit = sizeof(*t) - 1;

	return (uint64_t)(limit & 0xffff) | (uint64_t)(base & 0xffffff) << 16 |
	       (uint64_t)SEG_ACCESS_TSS << 40 | (uint64_t)(limit >> 16 & 0xf) << 48 |
	       (uint64_t)(base >> 24) << 56;
}

void gdt_tss_init(void)
{
	/* The task the CPU switches to on #DF: panic_double_fault() on df_stack, interrupts off,
	 * the current page tables.  The I/O map base past the limit means no I/O bitmap. */
	df_tss = (struct tss){
		.cr3 = read_cr3(), .eip = (uint32_t)(uintptr_t)panic_double_fault,
		.eflags = EFLAGS_RESERVED_1, .esp = (uint32_t)(uintptr_t)(df_stack + DF_STACK_SIZE),
		.cs = GDT_KERNEL_CS, .ss = GDT_KERNEL_DS, .ds = GDT_KERNEL_DS, .es = GDT_KERNEL_DS,
		.fs = GDT_KERNEL_DS, .gs = GDT_KERNEL_DS, .iomap = sizeof(struct tss),
	};
	/* Where the CPU saves the running code's state when it switches away. */
	main_tss = (struct tss){ .iomap = sizeof(struct tss) };
	gdt[GDT_MAIN_TSS / 8] = tss_descriptor(&main_tss);
	gdt[GDT_DF_TSS / 8] = tss_descriptor(&df_tss);
	__asm__ volatile("ltr %w0" : : "r"(GDT_MAIN_TSS) : "memory");
	idt_set_task_gate(VECTOR_DF, GDT_DF_TSS);
}

const struct tss *gdt_interrupted_task(void)
{
	return &main_tss;
}
