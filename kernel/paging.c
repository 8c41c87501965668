/*
 * Identity paging over the whole 4 GiB, with the page at address 0 left out.
 *
 * tickguest needs no address spaces; paging is on so that a null pointer faults (#PF with
 * CR2 = 0) instead of silently reading the real-mode interrupt table.  The first 4 MiB are
 * mapped with 4 KiB pages to make that hole; the rest uses 4 MiB pages (CR4.PSE, Intel SDM
 * vol. 3, 4.3).  The top gigabyte, where the PC puts its device registers (local APIC,
 * IOAPIC, HPET), is mapped uncached.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kernel/paging.h"
#include "kernel/x86.h"

#define PTE_P           (1u << 0)       /* present */
#define PTE_W           (1u << 1)       /* writable */
#define PTE_PWT         (1u << 3)       /* write-through */
#define PTE_PCD         (1u << 4)       /* cache disable */
#define PDE_PS          (1u << 7)       /* 4 MiB page */

#define LARGE_PAGE_SIZE (4u << 20)
#define ENTRIES         1024u
#define MMIO_START      0xc0000000u

#define PHYS_LIMIT      (1ull << 32)
#define GUARDS_MAX      24      /* the boot stack's and one per task */

extern char boot_stack_guard[];

static struct guard {
	uint32_t page;
	const char *owner;
} guards[GUARDS_MAX];
static unsigned nguards;

static uint32_t page_dir[ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static uint32_t first_table[ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static bool paging_on;

void paging_init(void)
{
	/* Entry 0 stays 0: not present. */
	for (uint32_t i = 1; i < ENTRIES; i++)
		first_table[i] = i * PAGE_SIZE | PTE_P | PTE_W;
	page_dir[0] = (uint32_t)(uintptr_t)first_table | PTE_P | PTE_W;
	for (uint32_t i = 1; i < ENTRIES; i++) {
		uint32_t base = i * LARGE_PAGE_SIZE;

		page_dir[i] = base | PTE_P | PTE_W | PDE_PS;
		if (base >= MMIO_START)
			page_dir[i] |= PTE_PCD | PTE_PWT;
	}
	write_cr4(read_cr4() | X86_CR4_PSE);
	write_cr3((uint32_t)(uintptr_t)page_dir);
	write_cr0(read_cr0() | X86_CR0_PG | X86_CR0_WP);
	paging_on = true;
	paging_guard(boot_stack_guard, "the boot code");
}

void paging_guard(void *page, const char *owner)
{
	const uint32_t a = (uint32_t)(uintptr_t)page;

	if ((a & (PAGE_SIZE - 1)) || a / PAGE_SIZE >= ENTRIES || nguards == GUARDS_MAX)
		return;         /* not a page of the first table: left mapped, no guard */
	first_table[a / PAGE_SIZE] = 0;
	__asm__ volatile("invlpg (%0)" : : "r"(a) : "memory");
	guards[nguards++] = (struct guard){ a, owner };
}

const char *paging_guard_owner(uint32_t addr)
{
	for (unsigned i = 0; i < nguards; i++)
		if (addr - guards[i].page < PAGE_SIZE)
			return guards[i].owner;
	return NULL;
}

const void *phys_map(uint64_t addr, uint64_t len)
{
	if (len == 0 || addr >= PHYS_LIMIT || len > PHYS_LIMIT - addr)
		return NULL;
	if (paging_on && addr < PAGE_SIZE)
		return NULL;
	return (const void *)phys_ptr((uintptr_t)addr);
}
