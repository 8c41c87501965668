/*
 * A tiny preemptive scheduler for one CPU.
 *
 * Tasks have their own stacks and switch with swtch() (boot/swtch.asm).  Turns are
 * round-robin with weights: a task runs for `weight` ticks, then the turn goes to the runnable
 * task that is furthest behind its weighted share of exact CPU time (cycles / weight), ties in
 * list order.  With spinners only this is plain weighted round-robin; it also stays fair when
 * a task blocks in the middle of a tick, because the part-tick it leaves is counted to
 * whoever gets it.  The idle task runs only when nothing else can.
 */
#ifndef TICKGUEST_SCHED_H
#define TICKGUEST_SCHED_H

#include <stdbool.h>
#include <stdint.h>
#include "acct/acct.h"
#include "kernel/config.h"

/* Callee-saved registers, in the order boot/swtch.asm pushes them; eip is its return address. */
struct context {
	uint32_t edi, esi, ebx, ebp, eip;
};

enum task_state {
	TASK_RUNNABLE,
	TASK_SLEEPING,
};

struct task {
	const char *name;
	const struct task_spec *spec;   /* the workload; NULL for idle */
	void (*body)(struct task *t);
	enum task_state state;
	uint32_t weight;                /* quantum in ticks */
	uint32_t quantum_left;
	uint64_t wake_tick;
	struct context *ctx;
	struct acct acct;
	uint32_t overruns;              /* duty periods that ended before the work did */
	uint64_t periods;               /* duty periods started */
};

#define SCHED_MAX_TASKS (CONFIG_MAX_TASKS + 1)  /* the workload, then idle */

void sched_init(const struct config *cfg, uint64_t tsc_hz);
/* Run the tasks until `duration_cycles` of reference time have passed since the first tick. */
void sched_run(uint64_t duration_cycles);

unsigned sched_ntasks(void);
struct task *sched_task(unsigned i);
struct task *sched_current(void);
uint64_t sched_ticks(void);

/* From the tick interrupt: sample, count quanta, wake sleepers, end the run. */
void sched_tick(uint64_t now_ref);
/* From trap() around every IRQ: accounting marks, and the switch a tick asked for. */
void sched_irq_enter(void);
void sched_irq_exit(void);

/* For task bodies. */
void sched_sleep_until(uint64_t tick);
uint64_t sched_my_cycles(void);
uint64_t sched_tsc_hz(void);
uint32_t sched_tick_hz(void);

#endif
