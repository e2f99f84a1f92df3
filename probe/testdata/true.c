/* The cheapest process there is: the baseline for a worker's start-up. */
int main(void) { return 0; }
