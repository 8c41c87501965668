#ifndef TICKGUEST_WORKLOAD_H
#define TICKGUEST_WORKLOAD_H

#include "sched/sched.h"

/* The body that runs a workload task of this kind. */
void (*workload_body(enum task_kind kind))(struct task *t);
void workload_idle(struct task *t);          /* idle=halt */
void workload_idle_poll(struct task *t);     /* idle=poll: spins, so it sees stolen time */
void workload_sponge(struct task *t);
void workload_console(struct task *t);

#endif
