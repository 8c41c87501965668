/*
 * Intel 8254 programmable interval timer: channel 0 as the tick source, channel 2 as the
 * calibration gate for the TSC.
 *
 * Names follow the 8254 datasheet.  Each channel counts down at PIT_HZ.  Channel 0 drives
 * ISA IRQ 0; channel 2's gate and output are wired to bits of port 0x61 (the "NMI status and
 * control" port of the PC), which is what lets software time an interval with it by polling.
 */
#include "drivers/pit8254.h"
#include "kernel/format.h"
#include "kernel/x86.h"

#define PIT_CH0         0x40
#define PIT_CH2         0x42
#define PIT_MODE        0x43    /* control word register */

/* Control word: SC (select counter) | RW (access) | M (mode) | BCD = 0 */
#define PIT_SC_CH0      (0u << 6)
#define PIT_SC_CH2      (2u << 6)
#define PIT_RW_LATCH    (0u << 4)   /* counter latch command */
#define PIT_RW_LOHI     (3u << 4)   /* low byte, then high byte */
#define PIT_M_INTERRUPT_ON_TC (0u << 1)  /* mode 0 */
#define PIT_M_RATE_GEN  (2u << 1)   /* mode 2 */

#define PORT_61         0x61
#define PORT_61_GATE2   0x01    /* channel 2 gate input */
#define PORT_61_SPKR    0x02    /* speaker data enable: keep off */
#define PORT_61_OUT2    0x20    /* channel 2 output, read-only */

#define PIT_IRQ         0
#define PIT_CH2_MAX_POLLS 10000000

static uint16_t ch0_divisor;

/* A divisor of 0 means 65536 to the 8254. */
static void pit_load(uint16_t port, uint32_t divisor)
{
	outb(port, divisor & 0xff);
	outb(port, (divisor >> 8) & 0xff);
}

static int pit_start_periodic(uint32_t hz, char *why, size_t whylen)
{
	uint32_t divisor = (PIT_HZ + hz / 2) / hz;

	if (hz == 0 || divisor < 2 || divisor > 65536) {
		ksnprintf(why, whylen, "the PIT cannot tick at %u Hz (divisor %u outside 2..65536)",
			  hz, divisor);
		return -1;
	}
	ch0_divisor = divisor & 0xffff;
	/* Mode 2, the rate generator: one short pulse per period, counter reloads itself. */
	outb(PIT_MODE, PIT_SC_CH0 | PIT_RW_LOHI | PIT_M_RATE_GEN);
	pit_load(PIT_CH0, divisor);
	return 0;
}

static void pit_stop(void)
{
	/* Mode 0 with no count written leaves the output low: no more edges on IRQ 0. */
	outb(PIT_MODE, PIT_SC_CH0 | PIT_RW_LOHI | PIT_M_INTERRUPT_ON_TC);
}

static uint32_t pit_divisor(void)
{
	return ch0_divisor ? ch0_divisor : 65536;
}

uint32_t pit_ch0_divisor(void)
{
	return pit_divisor();
}

uint16_t pit_ch0_count(void)
{
	uint8_t lo;

	/* Latch first, so the two byte reads come from one moment, not from a moving counter. */
	outb(PIT_MODE, PIT_SC_CH0 | PIT_RW_LATCH);
	lo = inb(PIT_CH0);
	return (uint16_t)(lo | inb(PIT_CH0) << 8);
}

static uint64_t pit_period_ps(void)
{
	return (uint64_t)pit_divisor() * 1000000000000ull / PIT_HZ;
}

static void pit_describe(char *buf, size_t len)
{
	char us[24];

	ksnprintf(buf, len, "pit channel 0, mode 2, divisor %u, period %s us", pit_divisor(),
		  fmt_fixed(us, sizeof(us), (int64_t)(pit_period_ps() / 1000), 3));
}

const struct tick_source pit_tick_source = {
	.name = "pit",
	.irq = PIT_IRQ,
	.caps = TICK_CAP_PERIODIC,
	.start_periodic = pit_start_periodic,
	.stop = pit_stop,
	.ack = 0,               /* edge-triggered through the 8259: nothing to clear */
	.period_ps = pit_period_ps,
	.describe = pit_describe,
};

bool pit_ch2_measure_tsc(uint16_t counts, uint64_t *tsc_delta, uint64_t *uncertainty)
{
	uint8_t p61 = inb(PORT_61);
	uint64_t gate_before, gate_after, last_low, poll, now;
	uint64_t polls = 0;
	bool done;

	/* Gate low while programming, speaker off, so the count starts when the gate rises. */
	outb(PORT_61, p61 & ~(PORT_61_GATE2 | PORT_61_SPKR));
	/* Mode 0: output goes low on the write and high when the count reaches zero. */
	outb(PIT_MODE, PIT_SC_CH2 | PIT_RW_LOHI | PIT_M_INTERRUPT_ON_TC);
	pit_load(PIT_CH2, counts);

	/*
	 * Each edge is bracketed by two TSC readings taken around the I/O that saw it, never by
	 * one taken after: if the vCPU is descheduled between an I/O and the RDTSC that follows
	 * it, the bracket widens and says so, instead of silently shifting the window.
	 */
	gate_before = rdtsc();
	outb(PORT_61, (p61 & ~PORT_61_SPKR) | PORT_61_GATE2);
	gate_after = rdtsc();
	last_low = gate_after;
	/* A working PIT ends this in counts / PIT_HZ seconds; give up after 10 M polls. */
	for (;;) {
		poll = rdtsc();
		done = inb(PORT_61) & PORT_61_OUT2;
		if (done || polls++ >= PIT_CH2_MAX_POLLS)
			break;
		last_low = poll;
	}
	now = rdtsc();
	outb(PORT_61, p61);
	if (!done)
		return false;
	/* The count started in [gate_before, gate_after] and ended in [last_low, now]. */
	*tsc_delta = now - gate_before;
	*uncertainty = (gate_after - gate_before) + (now - last_low);
	return true;
}
