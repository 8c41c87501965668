/*
 * A tiny preemptive scheduler for one CPU.
 *
 * Tasks have their own stacks and switch with swtch() (boot/swtch.asm).  Turns are
 * round-robin with weights: a task runs for `weight` ticks, then the turn goes to the runnable
 * task that is furthest behind its weighted share of exact CPU time (cycles / weight), ties in
 * list order.  With spinners only this is plain weighted round-robin; it also stays fair when
 * a task blocks in the middle of a tick, because the part-tick it leaves is counted to
 * whoever gets it.  The idle task runs only when nothing else can.
 *
 * The sponge (sponge=run|charge, VMware's VMDesched) is a task of its own.  With sponge=run it
 * blocks until a tick finds tick time behind by a period or more, then runs ahead of every
 * other task until the backlog is paid, so the catch-up ticks that arrive meanwhile are
 * sampled to it.  With sponge=charge it never runs: the tick's accounting decision
 * (acct/tick_account.h) charges every catch-up tick to it directly, whoever was running.  Either way its sampled time stands for the time the
 * guest was descheduled.
 *
 * The console task writes the lines the tick handler queues (kernel/console.h), so that the
 * polled UART is never waited on with interrupts off.  It blocks until the tick queues a line,
 * then runs ahead of every task but a runnable sponge, writes what is queued with interrupts
 * on and blocks again.  Its time is its own row of the accounting, by every method, rather
 * than another task's: written from a workload task, the UART's time would be charged to that
 * task exactly, and by every tick that found it writing.  It probes for stolen time like any
 * busy loop.  It is not part of the workload: the share of the stolen time charged to the
 * workload leaves it out, as it does the sponge and idle.
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
	TASK_BLOCKED,           /* the sponge, waiting for a backlog; the console, for lines */
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
	uint64_t wakeups;               /* the sponge: backlogs it was woken for; the console */
};

/* the workload, the sponge, the console, then idle */
#define SCHED_MAX_TASKS (CONFIG_MAX_TASKS + 3)

void sched_init(const struct config *cfg, uint64_t tsc_hz);
/* Run the tasks until `duration_cycles` of reference time have passed since the first tick. */
void sched_run(uint64_t duration_cycles);

unsigned sched_ntasks(void);
struct task *sched_task(unsigned i);
struct task *sched_current(void);
uint64_t sched_ticks(void);

/*
 * From the tick interrupt, after the accounting took its share of the tick
 * (acct/tick_account.h): with sponge=run, wake the sponge when the tick clock's backlog (owed,
 * in ticks) is one tick or more; count quanta, wake sleepers, end the run.
 */
void sched_tick(uint64_t now_ref, uint64_t owed);
/* The accounting of the task a tick interrupts; NULL outside the run, when there is none. */
struct acct *sched_interrupted(void);
/* From trap() around every IRQ: accounting marks, and the switch a tick asked for. */
void sched_irq_enter(void);
void sched_irq_exit(void);

/* The sponge, or NULL when there is none (sponge=off); the console task; the idle task. */
struct task *sched_sponge(void);
struct task *sched_console(void);
struct task *sched_idle(void);
enum sponge_mode sched_sponge_mode(void);

/* For task bodies. */
void sched_sleep_until(uint64_t tick);
/* The sponge: block until the next backlog, unless one is owed already. */
void sched_sponge_wait(void);
/* The console task: block until a line is queued, unless one is already.  The tick wakes it. */
void sched_console_wait(void);
void sched_console_wake(void);
uint64_t sched_backlog(void);
/* Busy loops, once an iteration: feed the stolen-time probe of the current task. */
void sched_steal_probe(void);
/* The tick period in TSC cycles, once the tick source is programmed (steal.h: long gaps). */
void sched_set_tick_period(uint64_t cycles);
/* Stolen cycles the probes of all tasks have seen so far, and in how many gaps. */
uint64_t sched_stolen_cycles(void);
uint64_t sched_steal_gaps(void);
uint64_t sched_my_cycles(void);
uint64_t sched_tsc_hz(void);
uint32_t sched_tick_hz(void);

#endif
