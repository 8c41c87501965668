/*
 * The MC146818 time-of-day registers, decoded: pure code, no port I/O, so the kernel's RTC
 * driver and the host unit tests share it.
 *
 * The chip keeps each field either in BCD or in binary (register B, DM bit), and the hours
 * either 0..23 or 1..12 with a PM flag (register B, 24/12 bit).  Firmware picks; PC BIOSes
 * almost always leave BCD and 24-hour mode, but nothing guarantees it, so both are decoded.
 */
#ifndef TICKGUEST_RTC_DECODE_H
#define TICKGUEST_RTC_DECODE_H

#include <stdbool.h>
#include <stdint.h>

/* In 12-hour mode the high bit of the hours byte (and of the hours alarm) means PM. */
#define RTC_HOUR_PM             0x80

/* Without a century register the two-digit year is taken to be in this century. */
#define RTC_DEFAULT_CENTURY     20

/* How the chip holds its fields (register B's DM and 24/12 bits). */
struct rtc_format {
	bool binary;            /* DM = 1: binary; DM = 0: BCD */
	bool hour24;            /* 24/12 = 1: 0..23; else 1..12 with RTC_HOUR_PM */
};

/* The time-of-day registers exactly as read, in the chip's format. */
struct rtc_raw {
	uint8_t seconds, minutes, hours;
	uint8_t day_of_month, month, year;
	uint8_t century;        /* from the FADT's century register, meaningful if has_century */
	bool has_century;
};

/* A decoded, range-checked date and time (whatever zone the firmware keeps: usually local). */
struct rtc_tod {
	uint16_t year;          /* four digits */
	uint8_t month;          /* 1..12 */
	uint8_t day;            /* 1..31 */
	uint8_t hour;           /* 0..23 */
	uint8_t minute, second;
};

bool rtc_bcd_valid(uint8_t v);          /* both nibbles 0..9 */
uint8_t rtc_bcd_to_bin(uint8_t v);
uint8_t rtc_bin_to_bcd(uint8_t v);      /* v in 0..99 */

/* One field (not the hours) in the chip's format -> binary; false for a bad BCD digit. */
bool rtc_decode_field(uint8_t raw, struct rtc_format f, uint8_t *out);
uint8_t rtc_encode_field(uint8_t bin, struct rtc_format f);

/* The hours byte -> 0..23 (12 AM is 0, 12 PM is 12); false if out of range. */
bool rtc_decode_hour(uint8_t raw, struct rtc_format f, uint8_t *hour24);
uint8_t rtc_encode_hour(uint8_t hour24, struct rtc_format f);

/* Two-digit year plus century (binary); RTC_DEFAULT_CENTURY when there is no century. */
uint16_t rtc_full_year(uint8_t year2, uint8_t century, bool has_century);

bool rtc_leap_year(uint16_t year);
uint8_t rtc_days_in_month(uint16_t year, uint8_t month);

/* Decode and range-check every field; false (t unspecified) if any is impossible. */
bool rtc_decode_tod(const struct rtc_raw *raw, struct rtc_format f, struct rtc_tod *t);

/* Seconds since 1970-01-01 00:00:00 of the same zone: differences between readings. */
int64_t rtc_tod_seconds(const struct rtc_tod *t);

#endif
