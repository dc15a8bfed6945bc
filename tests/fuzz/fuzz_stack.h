/*
 * fuzz_stack.h — the libFuzzer entry point of tests/fuzz/fuzz_stack.c, for
 * the replay runner (tests/fuzz/fuzz_replay.c) that calls it without
 * libFuzzer.
 */
#ifndef FUZZ_STACK_H
#define FUZZ_STACK_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Run the liveness check (a fresh connection between the two stacks must
 * still work) after every input rather than after one in eight. The
 * replay runner sets it. */
extern int fuzz_stack_always_check_liveness;

#endif
