/*
 * The RTC checks' one session with IRQ 8, shared by checks/rtc.c (the session itself: the
 * handler, the polls, the periodic rates) and checks/rtc_clock.c (the claims of the clock: its
 * time of day, its update-ended and alarm interrupts, judged when the session is over).
 */
#ifndef TICKGUEST_CHECKS_RTC_SESSION_H
#define TICKGUEST_CHECKS_RTC_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include "checks/window.h"
#include "lib/rtc_decode.h"

/* Four update interrupts, so three one-second intervals, timed as one span (rtc_clock.c); a
 * span that was robbed is followed by the next, up to WINDOW_TRIES. */
#define RTC_UPDATES_TIMED       4
#define RTC_SPAN_S              (RTC_UPDATES_TIMED - 1)
#define RTC_UPDATES_MAX         (RTC_SPAN_S + WINDOW_TRIES)

struct rtc_step {
	uint64_t len, end;      /* a stolen step of the main line's polls, TSC */
};

extern struct rtc_session {
	uint64_t holdup;        /* the longest hold-up of a clean periodic window, TSC */
	volatile uint32_t not_ours;     /* IRQ 8 with no enabled cause in register C */
	volatile unsigned seen;         /* update interrupts, up to RTC_UPDATES_MAX */
	unsigned noted;                 /* of them, seen by the main line's polls */
	uint64_t at[RTC_UPDATES_MAX];   /* TSC in the handler */
	struct rtc_step step[RTC_UPDATES_MAX];  /* the step that can have delayed each */
	struct window_steal before[RTC_UPDATES_MAX];    /* the polls' steal before each */
	bool tod_ok[RTC_UPDATES_MAX];
	struct rtc_tod tod[RTC_UPDATES_MAX];    /* read right after each */
	bool alarm_set;                 /* the time of day could be read to set it */
	unsigned alarm_second;          /* the seconds value it was set for */
	volatile unsigned alarm_fired, alarm_update;    /* interrupts; updates seen at the first */
} rtc_session;

/* Before the session: the banner line and the decoding claim. */
void rtc_decode_check(const char *absent);
/* Whether the session has the updates it needs: a clean span, or as many as it takes. */
bool rtc_updates_done(void);
/* After it: the update interval, the time of day's steps, the alarm. */
void rtc_clock_checks(const char *absent);

#endif
