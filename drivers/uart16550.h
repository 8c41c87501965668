#ifndef TICKGUEST_UART16550_H
#define TICKGUEST_UART16550_H

#include <stdbool.h>

bool uart_init(void);
void uart_putc(char c);

#endif
