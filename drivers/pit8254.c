/*
 * Intel 8254 programmable interval timer: channel 0 as the tick source and as a one-shot,
 * channel 2 as the calibration gate for the TSC.
 *
 * Names follow the 8254 datasheet (Intel 231164).  Each channel counts down at PIT_HZ.
 * Channel 0 drives ISA IRQ 0 with its OUT pin: the 8259 takes a rising edge of OUT as an
 * interrupt.  Channel 2's gate and output are wired to bits of port 0x61 (the "NMI status and
 * control" port of the PC), which is what lets software time an interval with it by polling.
 *
 * The file reads in the order a user of the chip needs it: the registers and the control word,
 * programming channel 0 in modes 0, 2 and 3, reading a count back (counter latch and
 * read-back), channel 0 as a tick source, and channel 2.
 */
#include "drivers/pit8254.h"
#include "lib/format.h"
#include "kernel/x86.h"

#define PIT_CH0         0x40
#define PIT_CH2         0x42
#define PIT_MODE        0x43    /* control word register */

/* Control word: SC (select counter) | RW (read/write) | M (mode) | BCD */
#define PIT_SC_CH0      (0u << 6)
#define PIT_SC_CH2      (2u << 6)
#define PIT_SC_READ_BACK (3u << 6)          /* the read-back command, below */
#define PIT_RW(access)  ((unsigned)(access) << 4)
#define PIT_M(mode)     ((unsigned)(mode) << 1)
#define PIT_BCD         0x01u               /* count in BCD: never used here */

/*
 * Read-back command (SC = 11): latch the count and/or the status of any set of counters at
 * once.  The COUNT and STATUS bits are active low: 0 means "latch it".  With both latched, the
 * next read of the counter returns the status byte, then the count (low byte, high byte).
 */
#define PIT_RB_NOT_COUNT  (1u << 5)
#define PIT_RB_NOT_STATUS (1u << 4)
#define PIT_RB_CNT0       (1u << 1)

/* Status byte: OUTPUT | NULL COUNT | RW1 RW0 | M2 M1 M0 | BCD (the control word, echoed) */
#define PIT_ST_OUTPUT     0x80u    /* the level of the OUT pin */
#define PIT_ST_NULL_COUNT 0x40u    /* the count written is not yet loaded into the counter */
#define PIT_ST_RW_SHIFT   4
#define PIT_ST_RW_MASK    0x3u
#define PIT_ST_M_SHIFT    1
#define PIT_ST_M_MASK     0x7u
#define PIT_ST_M2         0x4u     /* "don't care" in modes 2 and 3: 6 and 7 mean 2 and 3 */
#define PIT_ST_BCD        0x01u

#define PORT_61         0x61
#define PORT_61_GATE2   0x01    /* channel 2 gate input */
#define PORT_61_SPKR    0x02    /* speaker data enable: keep off */
#define PORT_61_OUT2    0x20    /* channel 2 output, read-only */

#define PIT_IRQ         0
#define PIT_CH2_MAX_POLLS 10000000

static uint32_t ch0_divisor = PIT_DIVISOR_MAX;

/* ---- programming channel 0 ---- */

/* Low byte, then high byte (RW = 11).  A count of 65536 is written as 0. */
static void pit_load(uint16_t port, uint32_t count)
{
	outb(port, count & 0xff);
	outb(port, (count >> 8) & 0xff);
}

static void pit_ch0_program(enum pit_mode mode, uint32_t count)
{
	outb(PIT_MODE, PIT_SC_CH0 | PIT_RW(PIT_ACCESS_LOHI) | PIT_M(mode));
	pit_load(PIT_CH0, count);
	ch0_divisor = count;
}

/*
 * Mode 0, interrupt on terminal count: OUT goes low on the control word, counting starts on
 * the clock after the count is written, and OUT goes high (the one interrupt) N + 1 clocks
 * after the write, so never less than N clock periods after it.  OUT then stays high; the
 * counter wraps and keeps counting, but raises nothing more.
 */
void pit_ch0_interrupt_on_terminal_count(uint32_t count)
{
	pit_ch0_program(PIT_MODE_INTERRUPT_ON_TC, count);
}

/* Mode 2, the rate generator: OUT low for one clock every N, the counter reloads itself. */
void pit_ch0_rate_generator(uint32_t divisor)
{
	pit_ch0_program(PIT_MODE_RATE_GENERATOR, divisor);
}

/*
 * Mode 3, the square wave: the counter steps by 2, OUT is high for the first half of each
 * period and low for the second (for an odd N, high for (N + 1) / 2 and low for (N - 1) / 2).
 * The interrupt is the rising edge at the start of each period.
 */
void pit_ch0_square_wave(uint32_t divisor)
{
	pit_ch0_program(PIT_MODE_SQUARE_WAVE, divisor);
}

/* The control word alone, in mode 0: OUT goes low and stays low until a count is written. */
void pit_ch0_stop(void)
{
	outb(PIT_MODE, PIT_SC_CH0 | PIT_RW(PIT_ACCESS_LOHI) | PIT_M(PIT_MODE_INTERRUPT_ON_TC));
}

uint32_t pit_ch0_divisor(void)
{
	return ch0_divisor;
}

/* ---- reading channel 0 back ---- */

uint16_t pit_ch0_count(void)
{
	uint8_t lo;

	/* Latch first, so the two byte reads come from one moment, not from a moving counter. */
	outb(PIT_MODE, PIT_SC_CH0 | PIT_RW(PIT_ACCESS_LATCH));
	lo = inb(PIT_CH0);
	return (uint16_t)(lo | inb(PIT_CH0) << 8);
}

void pit_decode_status(uint8_t raw, struct pit_status *st)
{
	uint8_t mode = (raw >> PIT_ST_M_SHIFT) & PIT_ST_M_MASK;

	st->raw = raw;
	st->output = raw & PIT_ST_OUTPUT;
	st->null_count = raw & PIT_ST_NULL_COUNT;
	st->access = (raw >> PIT_ST_RW_SHIFT) & PIT_ST_RW_MASK;
	st->mode = mode >= (PIT_ST_M2 | PIT_MODE_RATE_GENERATOR) ? mode & ~PIT_ST_M2 : mode;
	st->bcd = raw & PIT_ST_BCD;
}

uint16_t pit_ch0_read_back(struct pit_status *st)
{
	uint8_t status, lo;

	/* One command latches both, so the status and the count describe the same clock. */
	outb(PIT_MODE, PIT_SC_READ_BACK | PIT_RB_CNT0);
	status = inb(PIT_CH0);
	lo = inb(PIT_CH0);
	pit_decode_status(status, st);
	return (uint16_t)(lo | inb(PIT_CH0) << 8);
}

/*
 * Clocks since OUT last rose, from a count and OUT read together; divisor in 2..65536, and a
 * count of 0 means 65536.  Mode 2 reloads N at the rising edge and counts N .. 1.  Mode 3 (even
 * N) counts N .. 2 by twos twice per period, OUT high for the first pass and low for the second.
 */
uint32_t pit_clocks_since_rise(enum pit_mode mode, uint32_t divisor, uint16_t count, bool output)
{
	uint32_t c = count ? count : PIT_DIVISOR_MAX;

	if (c > divisor)
		return 0;       /* read before the count was loaded */
	if (mode == PIT_MODE_SQUARE_WAVE)
		return (divisor - c) / 2 + (output ? 0 : divisor / 2);
	return divisor - c;
}

/* ---- channel 0 as the tick source ---- */

/* The rate generator's divisor for hz, the nearest; 0 with the reason if it cannot count it. */
static uint32_t divisor_for_hz(uint32_t hz, char *why, size_t whylen)
{
	uint32_t divisor = hz ? (PIT_HZ + hz / 2) / hz : 0;

	if (hz == 0 || divisor < PIT_DIVISOR_MIN || divisor > PIT_DIVISOR_MAX) {
		ksnprintf(why, whylen, "the PIT cannot tick at %u Hz (divisor %u outside %u..%u)",
			  hz, divisor, PIT_DIVISOR_MIN, PIT_DIVISOR_MAX);
		return 0;
	}
	return divisor;
}

static uint64_t divisor_period_ps(uint32_t divisor)
{
	return (uint64_t)divisor * 1000000000000ull / PIT_HZ;
}

static int pit_start_periodic(uint32_t hz, char *why, size_t whylen)
{
	uint32_t divisor = divisor_for_hz(hz, why, whylen);

	if (divisor == 0)
		return -1;
	pit_ch0_rate_generator(divisor);
	return 0;
}

static uint64_t pit_period_ps(void)
{
	return divisor_period_ps(ch0_divisor);
}

static int pit_plan_periodic(uint32_t hz, char *buf, size_t len)
{
	uint32_t divisor = divisor_for_hz(hz, buf, len);
	char us[24];

	if (divisor == 0)
		return -1;
	ksnprintf(buf, len, "pit channel 0, mode 2, divisor %u, period %s us", divisor,
		  fmt_fixed(us, sizeof(us), (int64_t)(divisor_period_ps(divisor) / 1000), 3));
	return 0;
}

/* Mode 0: the output rises N + 1 clocks after the count is written, once. */
static int pit_arm_oneshot(uint64_t delay_ns, char *why, size_t whylen)
{
	uint64_t count = (delay_ns * PIT_HZ + 999999999ull) / 1000000000ull;

	if (count < 1 || count > 65536) {
		ksnprintf(why, whylen, "the PIT cannot wait %llu ns in one count (1..65536 clocks)",
			  (unsigned long long)delay_ns);
		return -1;
	}
	pit_ch0_interrupt_on_terminal_count((uint32_t)count);
	return 0;
}

/* Mode 0's OUT goes high at the terminal count and stays high: the read-back status says so. */
static bool pit_oneshot_due(void)
{
	struct pit_status st;

	(void)pit_ch0_read_back(&st);
	return st.output;
}

const struct tick_source pit_tick_source = {
	.name = "pit",
	.irq = PIT_IRQ,
	.caps = TICK_CAP_PERIODIC | TICK_CAP_ONESHOT,
	.start_periodic = pit_start_periodic,
	.stop = pit_ch0_stop,
	.ack = 0,               /* edge-triggered through the 8259: nothing to clear */
	.period_ps = pit_period_ps,
	.plan_periodic = pit_plan_periodic,
	.arm_oneshot = pit_arm_oneshot,
	.oneshot_due = pit_oneshot_due,
	.oneshot_expired = pit_oneshot_due,
};

/* ---- channel 2: timing an interval by polling OUT through port 0x61 ---- */

bool pit_ch2_measure_tsc(uint16_t counts, uint64_t *tsc_delta, uint64_t *uncertainty)
{
	uint8_t p61 = inb(PORT_61);
	uint64_t gate_before, gate_after, last_low, poll, now;
	uint64_t polls = 0;
	bool done;

	/* Gate low while programming, speaker off, so the count starts when the gate rises. */
	outb(PORT_61, p61 & ~(PORT_61_GATE2 | PORT_61_SPKR));
	/* Mode 0: output goes low on the write and high when the count reaches zero. */
	outb(PIT_MODE, PIT_SC_CH2 | PIT_RW(PIT_ACCESS_LOHI) | PIT_M(PIT_MODE_INTERRUPT_ON_TC));
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
	/* high at the first poll: the output never went low on the mode write, so it is not an
	 * 8254's (microvm has no port 0x61: the read floats high) */
	if (!done || polls == 0)
		return false;
	/* The count started in [gate_before, gate_after] and ended in [last_low, now]. */
	*tsc_delta = now - gate_before;
	*uncertainty = (gate_after - gate_before) + (now - last_low);
	return true;
}
