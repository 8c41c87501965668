#ifndef TICKGUEST_UART16550_H
#define TICKGUEST_UART16550_H

#include <stdbool.h>

bool uart_init(void);
void uart_putc(char c);
/* The transmitter has room: uart_putc() would not wait (true without a UART). */
bool uart_tx_ready(void);

#endif
