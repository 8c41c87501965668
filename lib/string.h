/*
 * The few string and memory routines the kernel needs.  There is no C library in the kernel,
 * so these stand in for memset, memcpy, strlen, strcmp and strncmp.  They carry a 'k' prefix
 * so that they never clash with the host's C library when pure modules are built into the
 * host unit tests.
 */
#ifndef TICKGUEST_STRING_H
#define TICKGUEST_STRING_H

#include <stddef.h>

void *kmemset(void *dst, int c, size_t n);
void *kmemcpy(void *dst, const void *src, size_t n);
size_t kstrlen(const char *s);
int kstrcmp(const char *a, const char *b);
int kstrncmp(const char *a, const char *b, size_t n);

#endif
