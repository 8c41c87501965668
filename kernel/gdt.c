/*
 * Our own GDT.  The loader's GDT may live in memory we do not own, so the kernel installs a flat
 * one (Intel SDM vol. 3, 3.4.5): a 4 GiB ring-0 code segment and a 4 GiB ring-0 data segment.
 */
#include <stdint.h>
#include "kernel/trap.h"

/* access byte: present, ring 0, code/data descriptor, and the type */
#define SEG_ACCESS_CODE 0x9a    /* execute/read */
#define SEG_ACCESS_DATA 0x92    /* read/write */
/* flags nibble: 4 KiB granularity, 32-bit default operand size */
#define SEG_FLAGS_4K_32 0xc

#define SEG_FLAT(access) \
	(((uint64_t)0xffff) | ((uint64_t)(access) << 40) | \
	 ((uint64_t)0xf << 48) | ((uint64_t)SEG_FLAGS_4K_32 << 52))

static const uint64_t gdt[] __attribute__((aligned(8))) = {
	0,                              /* the null selector */
	SEG_FLAT(SEG_ACCESS_CODE),      /* GDT_KERNEL_CS */
	SEG_FLAT(SEG_ACCESS_DATA),      /* GDT_KERNEL_DS */
};

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
