#ifndef TICKGUEST_EXIT_H
#define TICKGUEST_EXIT_H

/* The statuses of docs/exit-status.md. */
enum exit_status {
	EXIT_PASSED = 0,
	EXIT_FAILED = 1,
	EXIT_BAD_CONFIG = 2,
	EXIT_PANIC = 3,
	EXIT_DEVICE = 4,        /* a device went silent or gave an impossible figure */
	EXIT_SKIPPED = 77,
};

const char *exit_status_name(enum exit_status s);

/* Print the final "# exit:" line and leave: isa-debug-exit, else halt with a message. */
void exit_guest(enum exit_status s) __attribute__((noreturn));

#endif
