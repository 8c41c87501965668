/*
 * Byte-at-a-time versions of the C library's string routines.  Nothing in tickguest moves
 * enough memory for a faster version to matter, and simple loops are easy to trust.
 */
#include "lib/string.h"

/*
 * GCC may recognise a byte-filling or byte-copying loop and replace it with a call to memset
 * or memcpy, even when building freestanding.  The kernel does not provide those, so turn that
 * transformation off for this file.  (Clang does not know this pragma and would warn.)
 */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-tree-loop-distribute-patterns")
#endif

void *kmemset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;

	while (n--)
		*d++ = (unsigned char)c;
	return dst;
}

void *kmemcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	while (n--)
		*d++ = *s++;
	return dst;
}

size_t kstrlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

/* Characters compare as unsigned char, as in the C library, so the order does not depend on
 * whether plain char is signed. */
int kstrcmp(const char *a, const char *b)
{
	const unsigned char *x = (const unsigned char *)a;
	const unsigned char *y = (const unsigned char *)b;

	while (*x && *x == *y) {
		x++;
		y++;
	}
	return *x - *y;
}

int kstrncmp(const char *a, const char *b, size_t n)
{
	const unsigned char *x = (const unsigned char *)a;
	const unsigned char *y = (const unsigned char *)b;

	for (; n; n--, x++, y++) {
		if (*x != *y || !*x)
			return *x - *y;
	}
	return 0;
}
