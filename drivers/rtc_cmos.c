/*
 * The PC's CMOS real-time clock, a Motorola MC146818 (or a chipset clone of it): a time-of-day
 * clock and a divider chain that raises three interrupts on ISA IRQ 8 — periodic, update ended
 * and alarm.  Here it is a tick source (the periodic interrupt) and a time-of-day clock.
 *
 * Names follow the MC146818A datasheet ("Register A" .. "Register D").  The chip sits behind an
 * index port and a data port: write the register number to 0x70, then read or write 0x71.
 * A 32.768 kHz crystal drives a 22-stage divider; the time of day advances once a second,
 * and the periodic interrupt taps the divider at one of 13 power-of-two rates.
 */
#include "drivers/rtc_cmos.h"
#include "drivers/acpi.h"
#include "lib/format.h"
#include "kernel/x86.h"

#define CMOS_INDEX      0x70    /* write-only on real hardware */
#define CMOS_DATA       0x71
#define CMOS_NMI_DISABLE 0x80   /* bit 7 of the index port: the PC's NMI mask, not an index bit */
#define CMOS_INDEX_MASK 0x7f
#define CMOS_USER_RAM_FIRST 0x0e        /* after the clock and control registers */

/* Time-of-day and alarm registers */
#define RTC_SECONDS             0x00
#define RTC_SECONDS_ALARM       0x01
#define RTC_MINUTES             0x02
#define RTC_MINUTES_ALARM       0x03
#define RTC_HOURS               0x04
#define RTC_HOURS_ALARM         0x05
#define RTC_DAY_OF_MONTH        0x07
#define RTC_MONTH               0x08
#define RTC_YEAR                0x09
#define RTC_ALARM_DONT_CARE     0xc0    /* any value 11xxxxxx in an alarm byte matches all */

/* Register A: the divider */
#define RTC_REG_A               0x0a
#define REG_A_UIP               0x80    /* update in progress: the time registers are changing */
#define REG_A_DV_MASK           0x70    /* divider select; 010 = 32.768 kHz time base, running */
#define REG_A_RS_MASK           0x0f    /* rate select of the periodic interrupt */
#define REG_A_RS_FASTEST        3       /* 8192 Hz; RS 1 and 2 give 256 and 128 Hz on a PC */
#define REG_A_RS_SLOWEST        15      /* 2 Hz */
#define RTC_XTAL_HZ             32768u

/* Register B: control */
#define RTC_REG_B               0x0b
#define REG_B_SET               0x80    /* freeze updates so software can set the time */
#define REG_B_PIE               0x40    /* periodic interrupt enable */
#define REG_B_AIE               0x20    /* alarm interrupt enable */
#define REG_B_UIE               0x10    /* update-ended interrupt enable */
#define REG_B_SQWE              0x08    /* square-wave output enable */
#define REG_B_DM                0x04    /* data mode: 1 binary, 0 BCD */
#define REG_B_24_12             0x02    /* 1: 24-hour mode */
#define REG_B_DSE               0x01    /* daylight saving enable (US rules of 1976): left alone */

/* Register C: interrupt flags, read-only, cleared by reading */
#define RTC_REG_C               0x0c
#define REG_C_IRQF              0x80    /* some flag below is set and its enable bit too */
#define REG_C_PF                0x40
#define REG_C_AF                0x20
#define REG_C_UF                0x10

/* Register D: status */
#define RTC_REG_D               0x0d
#define REG_D_VRT               0x80    /* valid RAM and time: the battery held */

/*
 * Each flag in C sits at the same bit as its enable in B, and a flag is set whether or not it
 * is enabled (PF follows RS, UF comes every second), so only flags AND enables raised the line.
 */
_Static_assert(REG_C_PF == REG_B_PIE && REG_C_AF == REG_B_AIE && REG_C_UF == REG_B_UIE,
	       "register C flags line up with the register B enables");
#define RTC_CAUSES      (REG_C_PF | REG_C_AF | REG_C_UF)

/* UIP stays set for at most 244 us + 1984 us; a poll is at least an I/O cycle (~1 us). */
#define RTC_UIP_MAX_POLLS       1000000
/* Two equal readings in a row come at the second attempt unless an update slips between. */
#define RTC_TOD_MAX_READS       5

/*
 * The NMI mask shares port 0x70 with the index, and the port is write-only, so every index
 * write would unmask (or mask) NMI by accident unless it carries the mask bit as last set.
 * This is the software copy.  tickguest never masks NMI (one is a panic with a dump), so it
 * is 0.  Firmware may differ: SeaBIOS sets bit 7 on each CMOS access, so NMI stays masked
 * from the BIOS until the first access here.  Code that masks NMI must change it here.
 */
static uint8_t nmi_disable_bit;

static uint8_t periodic_rs;             /* RS programmed by start_periodic, 0 before */
static uint8_t enabled_causes;          /* copy of B's PIE | AIE | UIE, read by the handler */
static struct rtc_irq_causes causes;

/* Index, then data, with interrupts off: the IRQ 8 handler itself selects register C. */
static inline uint8_t cmos_read(uint8_t index)
{
	uint32_t flags = irq_save();
	uint8_t v;

	outb(CMOS_INDEX, nmi_disable_bit | (index & CMOS_INDEX_MASK));
	v = inb(CMOS_DATA);
	irq_restore(flags);
	return v;
}

static inline void cmos_write(uint8_t index, uint8_t v)
{
	uint32_t flags = irq_save();

	outb(CMOS_INDEX, nmi_disable_bit | (index & CMOS_INDEX_MASK));
	outb(CMOS_DATA, v);
	irq_restore(flags);
}

/* Set and clear bits of register B; the enables' software copy follows. */
static void reg_b_update(uint8_t set, uint8_t clear)
{
	uint32_t flags = irq_save();
	uint8_t b = (uint8_t)((cmos_read(RTC_REG_B) & ~clear) | set);

	cmos_write(RTC_REG_B, b);
	enabled_causes = b & RTC_CAUSES;
	irq_restore(flags);
}

bool rtc_present(const char **why)
{
	uint8_t d = cmos_read(RTC_REG_D);

	/* Bits 0..6 of register D always read 0; a floating ISA bus reads 0xff. */
	if (d & ~REG_D_VRT) {
		*why = "nothing answers at CMOS ports 0x70/0x71";
		return false;
	}
	if (!(d & REG_D_VRT)) {
		*why = "register D says the CMOS contents are invalid (VRT = 0: battery failed)";
		return false;
	}
	return true;
}

/* ---- periodic interrupt: the tick source ---- */

/* rate = 32768 >> (RS - 1); returns 0 if hz is not one of the 13 rates. */
static uint8_t rs_for_hz(uint32_t hz)
{
	for (uint8_t rs = REG_A_RS_FASTEST; rs <= REG_A_RS_SLOWEST; rs++)
		if (RTC_XTAL_HZ >> (rs - 1) == hz)
			return rs;
	return 0;
}

static uint32_t hz_for_rs(uint8_t rs)
{
	return RTC_XTAL_HZ >> (rs - 1);
}

static void list_rates(char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = 0;
	for (uint8_t rs = REG_A_RS_SLOWEST; rs >= REG_A_RS_FASTEST && used < len; rs--)
		used += ksnprintf(buf + used, len - used, "%s%u", used ? " " : "", hz_for_rs(rs));
}

/* RS for hz; 0 with the reason if the chip has no such rate. */
static uint8_t rs_or_why(uint32_t hz, char *why, size_t whylen)
{
	uint8_t rs = rs_for_hz(hz);
	char rates[64];

	if (rs == 0) {
		list_rates(rates, sizeof(rates));
		ksnprintf(why, whylen, "the RTC cannot tick at %u Hz: it divides 32768 Hz by powers "
			  "of two only (%s Hz)", hz, rates);
	}
	return rs;
}

static int rtc_start_periodic(uint32_t hz, char *why, size_t whylen)
{
	uint8_t rs = rs_or_why(hz, why, whylen);

	if (rs == 0)
		return -1;
	periodic_rs = rs;
	/* Keep DV as the firmware left it: rewriting it could reset the divider chain. */
	cmos_write(RTC_REG_A, (uint8_t)((cmos_read(RTC_REG_A) & REG_A_DV_MASK) | rs));
	/* Drop a PF left from before, so the first interrupt belongs to the new rate. */
	(void)cmos_read(RTC_REG_C);
	reg_b_update(REG_B_PIE, 0);
	return 0;
}

static void rtc_stop(void)
{
	/* RS may stay: with PIE clear the rate only sets PF, which nobody waits for. */
	reg_b_update(0, REG_B_PIE);
	(void)cmos_read(RTC_REG_C);     /* and let the line fall if PF was pending */
}

/*
 * Reading C both acknowledges and is the only way to know why IRQ 8 fired.  Until it is read
 * the chip keeps IRQ low and raises no further interrupt of any kind.
 */
static bool rtc_ack(void)
{
	uint8_t c = cmos_read(RTC_REG_C);

	causes.last = c & enabled_causes;
	if (!(c & REG_C_IRQF) || !causes.last) {
		causes.none++;
		return false;
	}
	causes.periodic += !!(causes.last & REG_C_PF);
	causes.alarm += !!(causes.last & REG_C_AF);
	causes.update += !!(causes.last & REG_C_UF);
	return causes.last & REG_C_PF;
}

const struct rtc_irq_causes *rtc_irq_causes(void)
{
	return &causes;
}

bool rtc_last_ack_was_periodic(void)
{
	return causes.last & REG_C_PF;
}

bool rtc_last_ack_was_update(void)
{
	return causes.last & REG_C_UF;
}

bool rtc_last_ack_was_alarm(void)
{
	return causes.last & REG_C_AF;
}

/* 1e12 / rate: exact down to 4096 Hz; at 8192 Hz the true period is 122070312.5 ps. */
static uint64_t rtc_period_ps(void)
{
	return periodic_rs ? 1000000000000ull / hz_for_rs(periodic_rs) : 0;
}

static int rtc_plan_periodic(uint32_t hz, char *buf, size_t len)
{
	uint8_t rs = rs_or_why(hz, buf, len);

	if (rs == 0)
		return -1;
	ksnprintf(buf, len, "rtc periodic, RS=%u, %u Hz", rs, hz_for_rs(rs));
	return 0;
}

const struct tick_source rtc_tick_source = {
	.name = "rtc",
	.irq = RTC_IRQ,
	.caps = TICK_CAP_PERIODIC,
	.start_periodic = rtc_start_periodic,
	.stop = rtc_stop,
	.ack = rtc_ack,
	.period_ps = rtc_period_ps,
	.plan_periodic = rtc_plan_periodic,
};

/* ---- time of day ---- */

struct rtc_format rtc_format(void)
{
	uint8_t b = cmos_read(RTC_REG_B);

	return (struct rtc_format){ .binary = b & REG_B_DM, .hour24 = b & REG_B_24_12 };
}

uint8_t rtc_century_index(void)
{
	uint8_t idx = acpi_info()->century;

	/* An index into the clock registers, or past the 128 bytes the index port reaches, is
	 * a firmware bug: treat it as no century register. */
	return idx >= CMOS_USER_RAM_FIRST && idx <= CMOS_INDEX_MASK ? idx : 0;
}

/*
 * UIP rises 244 us before the registers change, so once it reads clear there are at least
 * 244 us to read them all.  A vCPU can be descheduled inside that window, hence the second
 * reading in rtc_read_tod.
 */
static bool wait_update_done(void)
{
	for (long polls = 0; polls < RTC_UIP_MAX_POLLS; polls++)
		if (!(cmos_read(RTC_REG_A) & REG_A_UIP))
			return true;
	return false;
}

static bool read_raw(struct rtc_raw *r, uint8_t century_index)
{
	if (!wait_update_done())
		return false;
	r->seconds = cmos_read(RTC_SECONDS);
	r->minutes = cmos_read(RTC_MINUTES);
	r->hours = cmos_read(RTC_HOURS);
	r->day_of_month = cmos_read(RTC_DAY_OF_MONTH);
	r->month = cmos_read(RTC_MONTH);
	r->year = cmos_read(RTC_YEAR);
	r->has_century = century_index != 0;
	r->century = century_index ? cmos_read(century_index) : 0;
	return true;
}

static bool raw_equal(const struct rtc_raw *a, const struct rtc_raw *b)
{
	return a->seconds == b->seconds && a->minutes == b->minutes && a->hours == b->hours &&
	       a->day_of_month == b->day_of_month && a->month == b->month &&
	       a->year == b->year && a->century == b->century;
}

bool rtc_read_tod(struct rtc_tod *t)
{
	uint8_t century_index = rtc_century_index();
	struct rtc_raw prev, cur;

	if (!read_raw(&prev, century_index))
		return false;
	/* Two equal readings cannot straddle an update: the registers did not move between. */
	for (int i = 1; i < RTC_TOD_MAX_READS; i++) {
		if (!read_raw(&cur, century_index))
			return false;
		if (raw_equal(&prev, &cur))
			return rtc_decode_tod(&cur, rtc_format(), t);
		prev = cur;
	}
	return false;
}

/* ---- update-ended and alarm interrupts ---- */

void rtc_update_irq_enable(void)
{
	(void)cmos_read(RTC_REG_C);     /* a UF from the last second must not fire at once */
	reg_b_update(REG_B_UIE, 0);
}

void rtc_update_irq_disable(void)
{
	reg_b_update(0, REG_B_UIE);
}

static uint8_t alarm_byte(int v, bool hours, struct rtc_format f)
{
	if (v == RTC_ALARM_ANY)
		return RTC_ALARM_DONT_CARE;
	return hours ? rtc_encode_hour((uint8_t)v, f) : rtc_encode_field((uint8_t)v, f);
}

int rtc_alarm_enable(int hour, int minute, int second)
{
	struct rtc_format f = rtc_format();

	if (hour < RTC_ALARM_ANY || hour > 23 || minute < RTC_ALARM_ANY || minute > 59 ||
	    second < RTC_ALARM_ANY || second > 59)
		return -1;
	/* With AIE off while the bytes change, a half-written alarm cannot match. */
	reg_b_update(0, REG_B_AIE);
	cmos_write(RTC_HOURS_ALARM, alarm_byte(hour, true, f));
	cmos_write(RTC_MINUTES_ALARM, alarm_byte(minute, false, f));
	cmos_write(RTC_SECONDS_ALARM, alarm_byte(second, false, f));
	(void)cmos_read(RTC_REG_C);
	reg_b_update(REG_B_AIE, 0);
	return 0;
}

void rtc_alarm_disable(void)
{
	reg_b_update(0, REG_B_AIE);
}
