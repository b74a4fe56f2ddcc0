/* stdio.h: formatted output straight to file descriptors. There is no FILE
 * and no buffering: every printf-family call formats into a buffer on the
 * stack and ends in write() calls of its own (one write when the text is
 * shorter than 512 bytes). Conversions: d i u x X o c s p %, flags '-' '0',
 * width and precision (number or '*'), lengths hh h l ll z. */
#ifndef VS_STDIO_H
#define VS_STDIO_H

#include <stdarg.h>
#include <stddef.h>

#define EOF (-1)

int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int dprintf(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int vdprintf(int fd, const char *fmt, va_list ap);
int puts(const char *s);
int putchar(int c);

#endif
