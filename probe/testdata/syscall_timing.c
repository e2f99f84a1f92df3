/*
 * The C baseline for the worker's timed call (make bench): getppid through
 * glibc's syscall(), alone and between two clock_gettime(CLOCK_MONOTONIC)
 * readings, as the worker times its call with runtime.nanotime.
 *
 * Prints, one per line: bare_ns_per_op (the fastest of several runs' means),
 * timed_ns_per_op, timed_median_ns (of every call's duration), and
 * clock_median_ns (two readings with nothing between: the floor of any
 * measurement).
 * Build: gcc -O2 -o syscall_timing syscall_timing.c
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define N 2000000
#define RUNS 9

static int64_t now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

int main(void)
{
	static int64_t d[N];
	int64_t bare[RUNS], start, end;
	long i;
	int r;

	for (i = 0; i < N / 10; i++) /* warm up */
		syscall(SYS_getppid);

	/* The fastest of several runs: a shared machine slows some down. */
	for (r = 0; r < RUNS; r++) {
		start = now();
		for (i = 0; i < N / RUNS; i++)
			syscall(SYS_getppid);
		end = now();
		bare[r] = end - start;
	}
	qsort(bare, RUNS, sizeof bare[0], cmp);
	printf("bare_ns_per_op %.1f\n", (double)bare[0] / (N / RUNS));

	start = now();
	for (i = 0; i < N; i++) {
		int64_t t0 = now();
		syscall(SYS_getppid);
		d[i] = now() - t0;
	}
	end = now();
	printf("timed_ns_per_op %.1f\n", (double)(end - start) / N);

	qsort(d, N, sizeof d[0], cmp);
	printf("timed_median_ns %lld\n", (long long)d[N / 2]);

	for (i = 0; i < N; i++) {
		int64_t t0 = now();
		d[i] = now() - t0;
	}
	qsort(d, N, sizeof d[0], cmp);
	printf("clock_median_ns %lld\n", (long long)d[N / 2]);
	return 0;
}
