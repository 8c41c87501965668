/* The scheduler; see sched.h for the policy. */
#include "sched/sched.h"
#include "kernel/paging.h"
#include "sched/workload.h"
#include "kernel/console.h"
#include "kernel/panic.h"
#include "kernel/report.h"
#include "kernel/tick.h"
#include "kernel/x86.h"

#define TASK_STACK_SIZE 8192

static struct task tasks[SCHED_MAX_TASKS];
/* Each stack sits above a guard page (paging_guard): an overflow is a reported double fault. */
static uint8_t stacks[SCHED_MAX_TASKS][PAGE_SIZE + TASK_STACK_SIZE]
	__attribute__((aligned(PAGE_SIZE)));
static unsigned ntasks;
static struct task *current;
static struct task *idle;
static struct task *sponge;             /* NULL with sponge=off */
static struct task *console;
static enum sponge_mode sponge_mode;
static volatile uint64_t backlog;       /* the tick clock's, after the latest tick */
static uint64_t steal_threshold;        /* STEAL_THRESHOLD_US in TSC cycles */
static uint64_t steal_long_gap = UINT64_MAX;    /* a tick period in TSC cycles */
static struct context *boot_ctx;        /* kmain, waiting in sched_run() for the end */

/*
 * The watchdog.  The run ends at a tick, so a tick source that stops (an emulator whose timer
 * never fires, a route that goes nowhere) would leave the tasks spinning for ever.  The busy
 * loops' probes add up the time the vCPU ran since the last tick, leaving out every step over
 * the steal threshold: a host that stopped the VM has not silenced the device, whose ticks come
 * when the VM runs again.  Past WATCHDOG_PERIODS periods and WATCHDOG_MIN_MS of that, the run
 * ends with EXIT_DEVICE.  An idle task halted in hlt probes nothing: with no interrupt at all
 * it waits for the harness's timeout.
 */
#define WATCHDOG_PERIODS        100
#define WATCHDOG_MIN_MS         2000
static uint64_t ran_since_tick, watchdog_cycles, last_probe;

static uint64_t ticks;
static uint64_t run_start_ref, run_cycles;
static bool need_resched, run_over, running;
static uint64_t tsc_hz;
static uint32_t tick_hz;

extern void swtch(struct context **save, struct context *load);

static void task_start(void);

static void task_setup(struct task *t, const char *name, const struct task_spec *spec,
		       void (*body)(struct task *), uint32_t weight)
{
	uint32_t *sp = (uint32_t *)(stacks[t - tasks] + PAGE_SIZE + TASK_STACK_SIZE);

	paging_guard(stacks[t - tasks], name);
	t->name = name;
	t->spec = spec;
	t->body = body;
	t->weight = weight;
	t->state = TASK_RUNNABLE;
	/* A fake return address for task_start, then the frame swtch() pops. */
	*--sp = 0;
	sp -= sizeof(struct context) / sizeof(*sp);
	t->ctx = (struct context *)sp;
	*t->ctx = (struct context){ .eip = (uint32_t)(uintptr_t)task_start, .ebp = 0 };
}

void sched_init(const struct config *cfg, uint64_t hz)
{
	tsc_hz = hz;
	tick_hz = cfg->hz;
	for (unsigned i = 0; i < cfg->ntasks; i++) {
		const struct task_spec *s = &cfg->tasks[i];

		task_setup(&tasks[i], s->name, s, workload_body(s->kind), s->weight);
	}
	ntasks = cfg->ntasks;
	sponge_mode = cfg->sponge;
	if (sponge_mode != SPONGE_OFF) {
		sponge = &tasks[ntasks++];
		task_setup(sponge, "sponge", 0, workload_sponge, 1);
		sponge->state = TASK_BLOCKED;
	}
	console = &tasks[ntasks++];
	task_setup(console, "console", 0, workload_console, 1);
	console->state = TASK_BLOCKED;
	idle = &tasks[ntasks++];
	task_setup(idle, "idle", 0, cfg->idle == IDLE_POLL ? workload_idle_poll : workload_idle, 1);
	steal_threshold = STEAL_THRESHOLD_US * hz / 1000000;
}

/* a is further behind its weighted share than b: a.cycles / a.weight < b.cycles / b.weight */
static bool behind(const struct task *a, const struct task *b)
{
	return a->acct.cycles * b->weight < b->acct.cycles * a->weight;
}

static struct task *pick_next(void)
{
	unsigned start = current && current != idle ? (unsigned)(current - tasks) + 1 : 0;
	struct task *best = 0;

	/* A runnable sponge goes first: it is there to be running when catch-up ticks come. */
	if (sponge && sponge->state == TASK_RUNNABLE)
		return sponge;
	/* Then the console: the lines it writes were due when the tick queued them. */
	if (console->state == TASK_RUNNABLE)
		return console;
	for (unsigned k = 0; k < ntasks; k++) {
		struct task *t = &tasks[(start + k) % ntasks];

		if (t == idle || t == sponge || t == console || t->state != TASK_RUNNABLE)
			continue;
		if (!best || behind(t, best))
			best = t;
	}
	return best ? best : idle;
}

/*
 * Every path that comes out of swtch() -- a preempted task resuming in switch_to(), a new one
 * in task_start() -- calls this first: from here on the CPU's time is the current task's.
 */
static void sched_switched_in(void)
{
	uint64_t now = rdtsc();

	if (running)
		acct_charge_to(&current->acct, now);
}

/* Switch to `next`, or back to kmain when the run is over.  Interrupts are off. */
static void switch_to(struct task *next)
{
	struct task *prev = current;
	uint64_t now = rdtsc();

	need_resched = false;
	if (run_over) {
		running = false;
		acct_dispatch(&prev->acct, 0, now);
		acct_end(now);
		swtch(&prev->ctx, boot_ctx);
		panic("task %s resumed after the end of the run", prev->name);
	}
	next->quantum_left = next->weight;
	if (next != prev) {
		acct_dispatch(&prev->acct, &next->acct, now);
		current = next;
		swtch(&prev->ctx, next->ctx);
	}
	sched_switched_in();
}

static void task_start(void)
{
	sched_switched_in();
	sti();
	current->body(current);
	panic("task %s returned", current->name);
}

void sched_run(uint64_t duration_cycles)
{
	struct task *first;

	cli();
	run_cycles = duration_cycles;
	first = pick_next();
	current = first;
	first->quantum_left = first->weight;
	running = true;
	acct_begin(&first->acct, rdtsc());
	swtch(&boot_ctx, first->ctx);
	/* Back here from switch_to() once the run is over, interrupts still off. */
}

void sched_tick(uint64_t now_ref, uint64_t owed)
{
	ran_since_tick = 0;
	if (!running)
		return;
	if (ticks++ == 0)
		run_start_ref = now_ref;
	backlog = owed;
	if (sponge_mode == SPONGE_RUN && owed > 0 && sponge->state == TASK_BLOCKED) {
		sponge->state = TASK_RUNNABLE;
		sponge->wakeups++;
		need_resched = true;
	}

	for (unsigned i = 0; i < ntasks; i++) {
		struct task *t = &tasks[i];

		if (t->state == TASK_SLEEPING && t->wake_tick <= ticks) {
			t->state = TASK_RUNNABLE;
			if (current == idle)
				need_resched = true;
		}
	}
	/* the sponge and the console run until they block, the idle task until anything else can */
	if (current != idle && current != sponge && current != console &&
	    --current->quantum_left == 0)
		need_resched = true;
	if (now_ref - run_start_ref >= run_cycles) {
		run_over = true;
		need_resched = true;
	}
}

struct acct *sched_interrupted(void)
{
	return running ? &current->acct : 0;
}

void sched_irq_enter(void)
{
	struct steal_probe *p;

	if (!running)
		return;
	acct_charge_to(0, rdtsc());
	/*
	 * A pause usually ends in an interrupt: a tick is pending when the vCPU runs again.  The
	 * busy loop it interrupted would see the gap only at its next probe, after the handler,
	 * and the tick is what has to know of it.  So probe here for the interrupted task, with
	 * its exact time as of this entry.  Only for a task whose busy loop has probed (primed):
	 * a halted idle task owns the CPU while it waits, and that is not a gap.
	 */
	p = &current->acct.steal;
	if (p->primed)
		steal_observe(p, current->acct.cycles, steal_threshold, steal_long_gap);
}

void sched_irq_exit(void)
{
	if (!running)
		return;
	if (need_resched)
		switch_to(pick_next());
	else
		acct_charge_to(&current->acct, rdtsc());
}

/* The current task leaves the CPU until woken.  Interrupts are off. */
static void leave_cpu(enum task_state why)
{
	/* Flush the exact time first: pick_next() compares up-to-date figures. */
	acct_charge_to(&current->acct, rdtsc());
	current->state = why;
	switch_to(pick_next());
}

void sched_sleep_until(uint64_t tick)
{
	uint32_t flags = irq_save();

	if (tick > ticks) {
		current->wake_tick = tick;
		leave_cpu(TASK_SLEEPING);
	}
	irq_restore(flags);
}

void sched_sponge_wait(void)
{
	uint32_t flags = irq_save();

	if (backlog == 0)
		leave_cpu(TASK_BLOCKED);
	irq_restore(flags);
}

void sched_console_wait(void)
{
	uint32_t flags = irq_save();

	if (!console_queued())
		leave_cpu(TASK_BLOCKED);
	irq_restore(flags);
}

void sched_console_wake(void)
{
	if (!console || console->state != TASK_BLOCKED)
		return;
	console->state = TASK_RUNNABLE;
	console->wakeups++;
	need_resched = true;
}

uint64_t sched_backlog(void)
{
	return backlog;
}

static void watchdog(uint64_t now)
{
	const uint64_t d = now - last_probe;
	const struct tick_state *ts = tick_state();

	last_probe = now;
	if (!running || !watchdog_cycles || d > steal_threshold ||
	    (ran_since_tick += d) < watchdog_cycles)
		return;
	report_bail(EXIT_DEVICE, "watchdog: the %s tick source gave no tick in %llu ms of running "
		    "time (%llu periods of %llu us) after %llu ticks",
		    ts->src ? ts->src->name : "(none)",
		    (unsigned long long)(ran_since_tick * 1000 / tsc_hz),
		    (unsigned long long)(ran_since_tick / steal_long_gap),
		    (unsigned long long)(steal_long_gap * 1000000 / tsc_hz),
		    (unsigned long long)ts->count);
}

void sched_steal_probe(void)
{
	uint32_t flags = irq_save();
	const uint64_t now = rdtsc();

	steal_observe(&current->acct.steal, acct_cycles_now(&current->acct, now),
		      steal_threshold, steal_long_gap);
	watchdog(now);
	irq_restore(flags);
}

void sched_set_tick_period(uint64_t cycles)
{
	const uint64_t floor = WATCHDOG_MIN_MS * tsc_hz / 1000;

	steal_long_gap = cycles;
	watchdog_cycles = WATCHDOG_PERIODS * cycles > floor ? WATCHDOG_PERIODS * cycles : floor;
}

uint64_t sched_stolen_cycles(void)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < ntasks; i++)
		sum += tasks[i].acct.steal.stolen;
	return sum;
}

uint64_t sched_steal_gaps(void)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < ntasks; i++)
		sum += tasks[i].acct.steal.events;
	return sum;
}

uint64_t sched_my_cycles(void)
{
	uint32_t flags = irq_save();
	uint64_t c = acct_cycles_now(&current->acct, rdtsc());

	irq_restore(flags);
	return c;
}

unsigned sched_ntasks(void) { return ntasks; }
struct task *sched_task(unsigned i) { return &tasks[i]; }
struct task *sched_current(void) { return current; }
struct task *sched_sponge(void) { return sponge; }
struct task *sched_console(void) { return console; }
struct task *sched_idle(void) { return idle; }
enum sponge_mode sched_sponge_mode(void) { return sponge_mode; }
uint64_t sched_ticks(void) { return ticks; }
uint64_t sched_tsc_hz(void) { return tsc_hz; }
uint32_t sched_tick_hz(void) { return tick_hz; }
