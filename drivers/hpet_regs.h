/*
 * The HPET's registers, for the two files of its driver: drivers/hpet.c (the block, its main
 * counter, init) and drivers/hpet_timer0.c (timer 0: its routes, the tick source, one-shots).
 * Not for anyone else: the rest of the kernel goes through hpet.h.
 */
#ifndef TICKGUEST_HPET_REGS_H
#define TICKGUEST_HPET_REGS_H

#include <stdbool.h>
#include <stdint.h>

/* Register offsets (spec, "Register Overview") */
#define HPET_GCAP_ID            0x000   /* general capabilities and ID */
#define HPET_GEN_CONF           0x010   /* general configuration */
#define HPET_GINTR_STA          0x020   /* general interrupt status */
#define HPET_MAIN_CNT           0x0f0   /* main counter value */
#define HPET_Tn_CONF_CAP(n)     (0x100 + 0x20 * (n))   /* timer n configuration and capability */
#define HPET_Tn_COMPARATOR(n)   (0x108 + 0x20 * (n))   /* timer n comparator value */
#define HPET_HI                 4       /* offset of a register's upper 32 bits */

/* GEN_CONF */
#define GEN_CONF_ENABLE_CNF     (1u << 0)       /* main counter runs, timers may interrupt */
#define GEN_CONF_LEG_RT_CNF     (1u << 1)       /* legacy replacement route */

/* Tn_CONF_CAP, low half (the high half is Tn_INT_ROUTE_CAP, a bit per IOAPIC input) */
#define Tn_INT_TYPE_CNF         (1u << 1)       /* 1 = level-triggered, 0 = edge */
#define Tn_INT_ENB_CNF          (1u << 2)       /* interrupt enabled */
#define Tn_TYPE_CNF             (1u << 3)       /* 1 = periodic */
#define Tn_PER_INT_CAP          (1u << 4)       /* periodic mode is supported */
#define Tn_SIZE_CAP             (1u << 5)       /* comparator is 64 bits wide */
#define Tn_VAL_SET_CNF          (1u << 6)       /* next comparator write sets the accumulator */
#define Tn_32MODE_CNF           (1u << 8)       /* run a 64-bit timer as a 32-bit one */
#define Tn_INT_ROUTE_CNF_SHIFT  9
#define Tn_INT_ROUTE_CNF_MASK   (0x1fu << Tn_INT_ROUTE_CNF_SHIFT)

#define FS_PER_S                1000000000000000ull
#define FS_PER_PS               1000u
#define FS_PER_NS               1000000u

#define HPET_TIMER0             0
#define HPET_T0_INT_STS         (1u << HPET_TIMER0)     /* GINTR_STA bit of timer 0 */
#define HPET_LEGACY_IRQ_T0      0       /* ISA IRQ timer 0 drives under LEG_RT_CNF */
#define HPET_ROUTE_LEGACY       (-1)
#define HPET_FIRST_PCI_GSI      16      /* below are the ISA lines */

/*
 * The shortest tick period we program.  Each tick costs an interrupt and a few register reads,
 * microseconds each under emulation, and the first deadline of a periodic start is one period
 * after the counter was read: it must not pass before the comparator write lands (a comparator
 * matches on equality, so a missed one only matches again after a counter wrap).  100 us leaves
 * ample margin.
 */
#define HPET_MIN_PERIOD_NS      100000u
/* The longest: 32-bit mode keeps the comparator distance in a signed 32-bit difference. */
#define HPET_MAX_PERIOD_COUNTS  0x7fffffffu

/* Set by hpet_init(): the mapped register block (NULL when there is no usable HPET), the
 * counter's COUNTER_CLK_PERIOD and whether the legacy replacement route exists (LEG_RT_CAP). */
extern volatile uint8_t *hpet_regs;
extern uint32_t hpet_period_fs;
extern bool hpet_legacy_capable;

static inline uint32_t hpet_read32(unsigned off)
{
	return *(volatile uint32_t *)(hpet_regs + off);
}

static inline void hpet_write32(unsigned off, uint32_t v)
{
	*(volatile uint32_t *)(hpet_regs + off) = v;
}

/* Timer n stops interrupting, in either mode. */
static inline void timer_disable(unsigned n)
{
	hpet_write32(HPET_Tn_CONF_CAP(n),
		     hpet_read32(HPET_Tn_CONF_CAP(n)) & ~(Tn_INT_ENB_CNF | Tn_TYPE_CNF));
}

#endif
