/*
 * The limits every device check holds a device to, in one place, each with where it comes
 * from.  The guest prints them in its banner (limits_banner(), "# limits: ..."), and the host
 * tests read them from there instead of keeping copies (tickguest/tap.py, Tap.limits).
 */
#ifndef TICKGUEST_CHECKS_LIMITS_H
#define TICKGUEST_CHECKS_LIMITS_H

/*
 * How far a sound PC timer's rate may be off its nominal one.  Timer crystals (14.318 MHz for
 * the PIT, PM timer and HPET, 32.768 kHz for the RTC) are cut to about +-20 ppm at 25 C and move
 * with temperature and age; 100 ppm (8.6 s a day) is a clock that still keeps time.  The HPET
 * specification allows 500 ppm for its own period over long intervals, but no PC chipset
 * needs it, and an emulator following the host's clock does far better.
 */
#define DEVICE_RATE_LIMIT_PPM   100

/*
 * A reference clock taken at its nominal rate (the PM timer's 3.579545 MHz, which the ACPI
 * specification fixes, or the HPET's period from its capabilities register): the ppm its
 * integer frequency in Hz may round away.
 */
#define REF_NOMINAL_PPM         1

/*
 * Windows tried for one claim before it is reported as not judged (checks/window.h).  A window
 * robbed of a period is a rare, independent event per window on a loaded host (the host takes
 * the CPU in slices of a few ms, a window lasts about 100 ms to 2 s); four in a row is a host
 * that does not let this claim be measured now, which the claim then says.
 */
#define WINDOW_TRIES            4

/*
 * Waits a one-shot's interrupt gets, after a first wait with none, once the device says its
 * count ran out (shot.held_up): QEMU raises a timer's interrupt from its main loop, and a
 * loaded host has been seen to hold that thread off for more than a 20 ms wait while the
 * vCPU ran on unrobbed.  Ten waits (200 ms at the tick-source check's 20) is longer than any
 * such hold seen, and costs nothing where the interrupt comes; one that never comes is a miss.
 */
#define HELD_UP_WAITS           10

/* Print these, with the steal probes' threshold (acct/steal.h) and the one-shot re-arms
 * (kernel/tick.h), as one banner line. */
void limits_banner(void);

#endif
