/* broker_main.c - vigil-broker (placeholder until the Kafka connectors land). */
#include <stdio.h>
int main(void) { return 1; }
