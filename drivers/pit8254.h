#ifndef TICKGUEST_PIT8254_H
#define TICKGUEST_PIT8254_H

#include <stdbool.h>
#include <stdint.h>
#include "kernel/tick.h"

/* 14.31818 MHz / 12, the PC's PIT input clock, rounded up by 0.28 ppm */
#define PIT_HZ 1193182u

/* Counts a channel can be loaded with in modes 2 and 3: 1 is illegal, 0 is written for 65536. */
#define PIT_DIVISOR_MIN 2u
#define PIT_DIVISOR_MAX 65536u

/* The modes used here (control word M2..M0); 1, 4 and 5 need the gate, which channel 0 lacks. */
enum pit_mode {
	PIT_MODE_INTERRUPT_ON_TC = 0,
	PIT_MODE_RATE_GENERATOR = 2,
	PIT_MODE_SQUARE_WAVE = 3,
};

/* Control word RW1..RW0: how the count is read and written. */
enum pit_access {
	PIT_ACCESS_LATCH = 0,   /* counter latch command */
	PIT_ACCESS_LSB = 1,
	PIT_ACCESS_MSB = 2,
	PIT_ACCESS_LOHI = 3,    /* low byte, then high byte */
};

/* The status byte of the read-back command, decoded. */
struct pit_status {
	uint8_t raw;
	bool output;            /* OUTPUT: the level of OUT */
	bool null_count;        /* NULL COUNT: the last count written is not loaded yet */
	uint8_t access;         /* RW, enum pit_access */
	uint8_t mode;           /* M, enum pit_mode (6 and 7 folded to 2 and 3) */
	bool bcd;               /* BCD */
};

extern const struct tick_source pit_tick_source;

/* Channel 0 programming; every count is 1..65536 (mode 0) or 2..65536, never checked here. */
void pit_ch0_interrupt_on_terminal_count(uint32_t count);   /* mode 0: one interrupt */
void pit_ch0_rate_generator(uint32_t divisor);              /* mode 2: periodic */
void pit_ch0_square_wave(uint32_t divisor);                 /* mode 3: periodic */
/* Stop channel 0: OUT low, no more edges on IRQ 0 (but see docs/pit.md on QEMU). */
void pit_ch0_stop(void);
/* The count channel 0 was last loaded with (65536 for 0). */
uint32_t pit_ch0_divisor(void);

/* Channel 0's current count (counter latch command): counts left until the next reload. */
uint16_t pit_ch0_count(void);
/* Channel 0's count and status latched together by one read-back command. */
uint16_t pit_ch0_read_back(struct pit_status *st);
void pit_decode_status(uint8_t raw, struct pit_status *st);
/* PIT clocks since channel 0's OUT last rose (the interrupt), from a read-back. */
uint32_t pit_clocks_since_rise(enum pit_mode mode, uint32_t divisor, uint16_t count, bool output);

/*
 * Count `counts` PIT input clocks on channel 2 and measure them with the TSC.  Returns false
 * if channel 2's output, read through port 0x61, never went low and then high (no PIT, or no
 * port 0x61).  *tsc_delta may be longer than the window by
 * up to *uncertainty cycles: the widths of the TSC brackets around its start and its end.
 */
bool pit_ch2_measure_tsc(uint16_t counts, uint64_t *tsc_delta, uint64_t *uncertainty);

#endif
