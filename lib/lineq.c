/* The line queue; see lineq.h for who writes what and why. */
#include "lib/lineq.h"
#include "lib/format.h"

/*
 * Between the two ends the only ordering needed is the compiler's: on one CPU an interrupt
 * sees the task's stores in program order.  An entry must be in its slot before head says so,
 * and out before tail gives the slot back.
 */
static inline void fence(void)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

void lineq_init(struct lineq *q)
{
	q->head = q->tail = 0;
	q->pos = q->drops = 0;
	q->dropped = q->truncated = 0;
}

static uint32_t room(const struct lineq *q)
{
	return LINEQ_ENTRIES - (q->head - q->tail);
}

static void put(struct lineq *q, const char *fmt, va_list ap)
{
	uint32_t slot = q->head % LINEQ_ENTRIES;
	int n = kvsnprintf(q->text[slot], LINEQ_ENTRY_MAX, fmt, ap);

	if (n < 0)
		n = 0;
	if (n >= LINEQ_ENTRY_MAX) {
		n = LINEQ_ENTRY_MAX - 1;
		q->truncated++;
	}
	q->len[slot] = (uint16_t)n;
	fence();
	q->head++;
}

static void note(struct lineq *q, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	put(q, fmt, ap);
	va_end(ap);
}

/* The lines of an entry of this format: its arguments carry no newline (lineq.h). */
static uint32_t lines_of(const char *fmt)
{
	uint32_t n = 1;

	for (; *fmt; fmt++)
		n += *fmt == '\n';
	return n;
}

bool lineq_vprintf(struct lineq *q, const char *fmt, va_list ap)
{
	/* after drops, the line saying so goes first, so the entry needs room for both */
	if (room(q) < (q->drops ? 2u : 1u)) {
		uint32_t n = lines_of(fmt);

		q->drops += n;
		q->dropped += n;
		return false;
	}
	if (q->drops) {
		note(q, LINEQ_DROPPED_FMT, (unsigned)q->drops, (unsigned)LINEQ_ENTRIES);
		q->drops = 0;
	}
	put(q, fmt, ap);
	return true;
}

bool lineq_printf(struct lineq *q, const char *fmt, ...)
{
	va_list ap;
	bool ok;

	va_start(ap, fmt);
	ok = lineq_vprintf(q, fmt, ap);
	va_end(ap);
	return ok;
}

void lineq_close(struct lineq *q)
{
	if (q->drops && room(q) >= 1) {
		note(q, LINEQ_DROPPED_FMT, (unsigned)q->drops, (unsigned)LINEQ_ENTRIES);
		q->drops = 0;
	}
}

char lineq_peek(const struct lineq *q)
{
	uint32_t slot = q->tail % LINEQ_ENTRIES;

	if (!lineq_pending(q))
		return '\0';
	fence();
	return q->pos < q->len[slot] ? q->text[slot][q->pos] : '\n';
}

void lineq_advance(struct lineq *q)
{
	if (!lineq_pending(q))
		return;
	if (q->pos < q->len[q->tail % LINEQ_ENTRIES]) {
		q->pos++;
		return;
	}
	/* the last newline is out: the whole entry is, and its slot can be given back */
	q->pos = 0;
	fence();
	q->tail++;
}
