#ifndef TICKGUEST_WORKLOAD_H
#define TICKGUEST_WORKLOAD_H

#include "sched/sched.h"

/* The body that runs a workload task of this kind. */
void (*workload_body(enum task_kind kind))(struct task *t);
void workload_idle(struct task *t);

#endif
