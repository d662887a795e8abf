/* Placeholder: the daemon issue replaces this. */
#include <stdio.h>
int main(void) { fprintf(stderr, "ssovaultd: not built yet\n"); return 1; }
