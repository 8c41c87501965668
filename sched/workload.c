/*
 * What the tasks do.  Their CPU demand is known by construction, which is what makes the
 * accounting checkable: a spinner always wants the CPU; a duty task wants duty_pct % of each
 * period and sleeps the rest; idle halts until the next interrupt (or spins, with idle=poll).
 * Every busy loop probes for stolen time once an iteration (acct/steal.h), the console task's
 * wait on the UART included.
 */
#include "sched/workload.h"
#include "kernel/console.h"
#include "kernel/x86.h"

static void workload_spin(struct task *t)
{
	(void)t;
	for (;;) {
		sched_steal_probe();
		cpu_relax();
	}
}

/*
 * Periods are counted in ticks, since sleeping is tick-granular; the work in each period is
 * measured in the task's own exact CPU time, so being preempted does not shorten it.
 */
static void workload_duty(struct task *t)
{
	const struct task_spec *s = t->spec;
	uint64_t period_ticks = (s->period_us * sched_tick_hz() + 500000) / 1000000;
	uint64_t work = s->period_us * s->duty_pct / 100 * sched_tsc_hz() / 1000000;
	uint64_t next = sched_ticks();

	for (;;) {
		uint64_t begin = sched_my_cycles();

		t->periods++;
		next += period_ticks;
		while (sched_my_cycles() - begin < work) {
			sched_steal_probe();
			cpu_relax();
		}
		if (sched_ticks() >= next) {
			t->overruns++;
			next = sched_ticks();
			continue;
		}
		sched_sleep_until(next);
	}
}

void workload_idle(struct task *t)
{
	(void)t;
	for (;;)
		sti_hlt();
}

void workload_idle_poll(struct task *t)
{
	workload_spin(t);
}

/*
 * Run while the tick clock owes ticks, so that the catch-up ticks find this task running;
 * block as soon as the backlog is paid.  Only ever runnable with sponge=run.
 */
void workload_sponge(struct task *t)
{
	(void)t;
	for (;;) {
		sched_steal_probe();
		if (sched_backlog() == 0)
			sched_sponge_wait();
		cpu_relax();
	}
}

/* Write the lines the tick queued, probing while the UART is busy; block until the next. */
void workload_console(struct task *t)
{
	(void)t;
	for (;;) {
		console_write_queued(sched_steal_probe);
		sched_console_wait();
	}
}

void (*workload_body(enum task_kind kind))(struct task *t)
{
	return kind == TASK_DUTY ? workload_duty : workload_spin;
}
