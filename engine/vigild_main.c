/* vigild_main.c - the vigild binary (placeholder until the pipeline lands). */
#include <stdio.h>
#include "vigil/common.h"
int main(void) { printf("vigild %s\n", VG_VERSION); return 0; }
