/*
 * Decoding the MC146818 time-of-day registers (see rtc_decode.h).  Pure code: tested on the
 * host by tests/unit/test_rtc_decode.c.
 */
#include "lib/rtc_decode.h"

#define BCD_DIGIT_MAX   9
#define HOURS_PER_HALF_DAY 12
#define SECONDS_PER_DAY 86400
#define UNIX_EPOCH_DAYS 719468  /* days from 0000-03-01 to 1970-01-01, proleptic Gregorian */

bool rtc_bcd_valid(uint8_t v)
{
	return (v >> 4) <= BCD_DIGIT_MAX && (v & 0x0f) <= BCD_DIGIT_MAX;
}

uint8_t rtc_bcd_to_bin(uint8_t v)
{
	return (v >> 4) * 10 + (v & 0x0f);
}

uint8_t rtc_bin_to_bcd(uint8_t v)
{
	return (uint8_t)((v / 10) << 4 | v % 10);
}

bool rtc_decode_field(uint8_t raw, struct rtc_format f, uint8_t *out)
{
	if (f.binary) {
		*out = raw;
		return true;
	}
	if (!rtc_bcd_valid(raw))
		return false;
	*out = rtc_bcd_to_bin(raw);
	return true;
}

uint8_t rtc_encode_field(uint8_t bin, struct rtc_format f)
{
	return f.binary ? bin : rtc_bin_to_bcd(bin);
}

bool rtc_decode_hour(uint8_t raw, struct rtc_format f, uint8_t *hour24)
{
	bool pm = false;
	uint8_t h;

	if (!f.hour24) {
		pm = raw & RTC_HOUR_PM;
		raw &= (uint8_t)~RTC_HOUR_PM;
	}
	if (!rtc_decode_field(raw, f, &h))
		return false;
	if (f.hour24) {
		*hour24 = h;
		return h < 24;
	}
	/* The 12-hour clock runs 12, 1, 2, ... 11: 12 AM is midnight, 12 PM is noon. */
	if (h < 1 || h > HOURS_PER_HALF_DAY)
		return false;
	*hour24 = (uint8_t)(h % HOURS_PER_HALF_DAY + (pm ? HOURS_PER_HALF_DAY : 0));
	return true;
}

uint8_t rtc_encode_hour(uint8_t hour24, struct rtc_format f)
{
	uint8_t h12;

	if (f.hour24)
		return rtc_encode_field(hour24, f);
	h12 = hour24 % HOURS_PER_HALF_DAY;
	if (h12 == 0)
		h12 = HOURS_PER_HALF_DAY;
	return (uint8_t)(rtc_encode_field(h12, f) |
			 (hour24 >= HOURS_PER_HALF_DAY ? RTC_HOUR_PM : 0));
}

uint16_t rtc_full_year(uint8_t year2, uint8_t century, bool has_century)
{
	return (uint16_t)((has_century ? century : RTC_DEFAULT_CENTURY) * 100 + year2);
}

bool rtc_leap_year(uint16_t year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

uint8_t rtc_days_in_month(uint16_t year, uint8_t month)
{
	static const uint8_t days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (month < 1 || month > 12)
		return 0;
	return (uint8_t)(days[month - 1] + (month == 2 && rtc_leap_year(year)));
}

bool rtc_decode_tod(const struct rtc_raw *raw, struct rtc_format f, struct rtc_tod *t)
{
	uint8_t year2, century = 0;

	if (!rtc_decode_field(raw->seconds, f, &t->second) ||
	    !rtc_decode_field(raw->minutes, f, &t->minute) ||
	    !rtc_decode_hour(raw->hours, f, &t->hour) ||
	    !rtc_decode_field(raw->day_of_month, f, &t->day) ||
	    !rtc_decode_field(raw->month, f, &t->month) ||
	    !rtc_decode_field(raw->year, f, &year2))
		return false;
	/* The century register follows DM like the clock registers (QEMU, most chipsets). */
	if (raw->has_century && !rtc_decode_field(raw->century, f, &century))
		return false;
	if (year2 > 99 || century > 99)
		return false;
	t->year = rtc_full_year(year2, century, raw->has_century);
	return t->second < 60 && t->minute < 60 && t->day >= 1 &&
	       t->day <= rtc_days_in_month(t->year, t->month);
}

/*
 * Days since 1970-01-01 of a civil date: count years from March, so that the leap day is the
 * last day of its year and every month-length table becomes one formula (H. Hinnant's
 * days_from_civil).  Years before 1 are not needed: the chip holds two digits.
 */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = y / 400;
	yoe = y - era * 400;                                    /* 0..399 */
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;  /* 0..365 */
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;            /* 0..146096 */
	return era * 146097 + doe - UNIX_EPOCH_DAYS;
}

int64_t rtc_tod_seconds(const struct rtc_tod *t)
{
	return days_from_civil(t->year, t->month, t->day) * SECONDS_PER_DAY +
	       t->hour * 3600 + t->minute * 60 + t->second;
}
