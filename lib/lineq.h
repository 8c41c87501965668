/*
 * A queue of lines, formatted where writing them would take too long and written out later.
 * The tick handler formats its TimeTrackerStats and TimeTrackerBacklog lines into one
 * (kernel/console.h), and the console task writes them to the UART from task context.
 *
 * One producer, in interrupt context; one consumer, a task (or kmain after the run); one CPU.
 * The producer can interrupt the consumer, never the reverse, so each moves only its own end:
 * the producer head, the consumer tail and its place in the entry at the tail.  A slot is
 * given back only once its whole entry is out, so the producer never writes over text being
 * written.  The consumer goes a character at a time and its place is kept, so that a write
 * cut off (a task switched out for good at the end of the run) goes on where it stopped,
 * without writing anything twice.
 *
 * An entry is one line or a few that belong together (a TimeTrackerStats pair: a reader takes
 * the second for the device figures of the first), queued or dropped whole.  A full queue
 * drops the entry and counts its lines.  The next entry that finds room comes after a line
 * saying how many were dropped (LINEQ_DROPPED_FMT), so the report shows the gap where it is;
 * lineq_close() says so for drops after the last entry.
 *
 * Pure code, tested on the host (tests/unit/test_lineq.c).
 */
#ifndef TICKGUEST_LINEQ_H
#define TICKGUEST_LINEQ_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

/* 32 entries is 32 TimeTrackerStats pairs: 32 s at the default stats=1s without the console
 * task getting the CPU, 3.2 s at the shortest, stats=100ms. */
#define LINEQ_ENTRIES   32
/* The longest entry, a TimeTrackerStats pair, is some 270 characters with the figures of an
 * hour at 1000 Hz; an entry that does not fit is cut short and counted. */
#define LINEQ_ENTRY_MAX 384
#define LINEQ_DROPPED_FMT "# console: %u lines dropped here: the queue of %u entries was full"

struct lineq {
	char text[LINEQ_ENTRIES][LINEQ_ENTRY_MAX];
	uint16_t len[LINEQ_ENTRIES];    /* characters of each entry, without its last newline */
	volatile uint32_t head;         /* entries queued so far (the producer's) */
	volatile uint32_t tail;         /* entries written so far (the consumer's) */
	uint32_t pos;                   /* characters of the entry at tail written */
	uint32_t drops;                 /* lines dropped since the latest entry queued */
	uint64_t dropped;               /* lines dropped in all */
	uint64_t truncated;             /* entries queued cut short */
};

void lineq_init(struct lineq *q);
/*
 * Queue one entry: its lines are separated by '\n' in fmt, the last newline is the queue's,
 * and the arguments carry none (a dropped entry's lines are counted from fmt).  Returns false
 * when it was dropped.
 */
bool lineq_printf(struct lineq *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool lineq_vprintf(struct lineq *q, const char *fmt, va_list ap);
/* The producer is done: queue the line about drops after the last entry, if any. */
void lineq_close(struct lineq *q);

/* For the consumer: the next character to write ('\n' ends every line), '\0' when none. */
char lineq_peek(const struct lineq *q);
/* That character is out. */
void lineq_advance(struct lineq *q);
static inline bool lineq_pending(const struct lineq *q)
{
	return q->tail != q->head;
}

#endif
