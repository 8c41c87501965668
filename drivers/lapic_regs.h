/*
 * The local APIC's registers, for the two files of its driver: drivers/lapic.c (bring-up, the
 * interrupt controller, the timer's modes, the tick source) and drivers/lapic_timer_rate.c (the
 * timer's rate, measured).  Not for anyone else: the rest of the kernel goes through lapic.h.
 */
#ifndef TICKGUEST_LAPIC_REGS_H
#define TICKGUEST_LAPIC_REGS_H

#include <stdint.h>

/* Register offsets (table 11-1) */
#define LAPIC_ID                0x020   /* bits 31:24: this CPU's APIC ID */
#define LAPIC_VER               0x030
#define LAPIC_TPR               0x080
#define LAPIC_EOI               0x0b0
#define LAPIC_SVR               0x0f0
#define LAPIC_ISR               0x100   /* in service: 8 registers, 0x10 apart, 32 vectors each */
#define LAPIC_IRR               0x200   /* requested, not yet taken: laid out as the ISR */
#define LAPIC_ESR               0x280
#define LAPIC_LVT_TIMER         0x320
#define LAPIC_LVT_LINT0         0x350
#define LAPIC_LVT_LINT1         0x360
#define LAPIC_LVT_ERROR         0x370
#define LAPIC_TICR              0x380   /* initial count */
#define LAPIC_TCCR              0x390   /* current count, read-only */
#define LAPIC_TDCR              0x3e0   /* divide configuration */

#define SVR_APIC_ENABLE         (1u << 8)       /* the software enable (11.4.7.2) */

/* LVT fields (figure 11-8) */
#define LVT_MASKED              (1u << 16)
#define LVT_DM_NMI              (4u << 8)
#define LVT_DM_EXTINT           (7u << 8)
#define LVT_TIMER_ONESHOT       (0u << 17)
#define LVT_TIMER_PERIODIC      (1u << 17)
#define LVT_TIMER_TSC_DEADLINE  (2u << 17)

#define VER_MAX_LVT(v)          (((v) >> 16) & 0xff)

/* The register page, mapped by lapic_init(); NULL without a usable local APIC. */
extern volatile uint32_t *lapic_regs;

/* Inline, so that a TCCR read between two other clocks' reads costs no call. */
static inline uint32_t lapic_read(unsigned reg)
{
	return lapic_regs[reg / 4];
}

static inline void lapic_write(unsigned reg, uint32_t v)
{
	lapic_regs[reg / 4] = v;
}

/*
 * For measuring the timer's rate (lapic_timer_rate.c), from lapic.c, which keeps the divider:
 * count down from the largest count at divide by 1 << index, masked, so that it counts for
 * seconds and never interrupts, leaving the divider lapic_set_divider() set on the books; and
 * put that divider back in TDCR afterwards.
 */
void lapic_timer_free_run(unsigned index);
void lapic_restore_divider(void);

#endif
