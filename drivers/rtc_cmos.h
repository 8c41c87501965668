#ifndef TICKGUEST_RTC_CMOS_H
#define TICKGUEST_RTC_CMOS_H

#include <stdbool.h>
#include <stdint.h>
#include "lib/rtc_decode.h"
#include "kernel/tick.h"

#define RTC_IRQ                 8
#define RTC_PERIODIC_MIN_HZ     2       /* RS = 15 */
#define RTC_PERIODIC_MAX_HZ     8192    /* RS = 3 */
#define RTC_ALARM_ANY           (-1)    /* an alarm field that matches every value */

/* Periodic interrupt on IRQ 8; ack() reads register C and files what it saw (below). */
extern const struct tick_source rtc_tick_source;

/*
 * The one RTC interrupt line carries three causes: periodic (PF), alarm (AF) and update ended
 * (UF); register C says which, and reading it is the acknowledge.  ack() counts each cause
 * that was enabled, so a tick handler asks rtc_last_ack_was_periodic() before counting a tick
 * and an update or alarm interrupt is never taken for one.  One interrupt may carry several.
 */
struct rtc_irq_causes {
	uint32_t periodic;
	uint32_t alarm;
	uint32_t update;
	uint32_t none;          /* IRQF clear: the interrupt was not the RTC's */
	uint8_t last;           /* the enabled causes (REG_C_PF | AF | UF bits) of the last ack */
};
const struct rtc_irq_causes *rtc_irq_causes(void);
bool rtc_last_ack_was_periodic(void);
bool rtc_last_ack_was_update(void);
bool rtc_last_ack_was_alarm(void);

/* False when nothing answers at the CMOS ports, or the chip says its contents are invalid. */
bool rtc_present(const char **why);

/* How the firmware set the chip up (BCD or binary, 12 or 24 hours). */
struct rtc_format rtc_format(void);
/* The CMOS index of the century register, 0 if the FADT names none (or names a bad one). */
uint8_t rtc_century_index(void);

/* Read the time of day safely across the once-a-second update; false if it never settled. */
bool rtc_read_tod(struct rtc_tod *t);

/* Update-ended interrupt: once per second, just after the time of day has advanced. */
void rtc_update_irq_enable(void);
void rtc_update_irq_disable(void);

/* Alarm interrupt when the time of day matches; RTC_ALARM_ANY for a field matches each value. */
int rtc_alarm_enable(int hour, int minute, int second);
void rtc_alarm_disable(void);

#endif
