#ifndef TICKGUEST_PAGING_H
#define TICKGUEST_PAGING_H

void paging_init(void);

#endif
