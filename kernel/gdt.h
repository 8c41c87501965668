/* The GDT, and the task-state segments that give a double fault its own stack (kernel/gdt.c). */
#ifndef TICKGUEST_GDT_H
#define TICKGUEST_GDT_H

#include <stdint.h>

#define GDT_MAIN_TSS    0x18
#define GDT_DF_TSS      0x20

/* A 32-bit TSS (Intel SDM vol. 3, 7.2.1): each 16-bit selector followed by a reserved half. */
struct __attribute__((packed)) tss {
	uint16_t link, r0;
	uint32_t esp0;
	uint16_t ss0, r1;
	uint32_t esp1;
	uint16_t ss1, r2;
	uint32_t esp2;
	uint16_t ss2, r3;
	uint32_t cr3, eip, eflags, eax, ecx, edx, ebx, esp, ebp, esi, edi;
	uint16_t es, r4, cs, r5, ss, r6, ds, r7, fs, r8, gs, r9, ldt, r10;
	uint16_t trap, iomap;
};
_Static_assert(sizeof(struct tss) == 104, "a 32-bit TSS is 104 bytes");

void gdt_init(void);
/* After paging_init() (the #DF task takes the page tables then in CR3): load the task
 * register and point vector 8 at the #DF task. */
void gdt_tss_init(void);
/* The state of the code a double fault interrupted, as the task switch saved it. */
const struct tss *gdt_interrupted_task(void);

#endif
