/*
 * fuzz.h - what every fuzz target shares. A target is one file
 * tests/fuzz/fuzz_<name>.c defining LLVMFuzzerTestOneInput (and, when it
 * needs a fixed world - a store, a JWKS, a template folder - setting it up
 * once on the first call). With KLEIDI_FUZZ (clang) it links libFuzzer;
 * otherwise replay.c drives it over the seed corpus, so that every input
 * in tests/fuzz/corpus/ (crashes found included) is a regression test of
 * the ordinary build too.
 */
#ifndef KLEIDI_FUZZ_H
#define KLEIDI_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-terminated malloc'd copy of data (the parsers that take C
 * strings); aborts when out of memory. */
char *fuzz_cstr(const uint8_t *data, size_t size);

#endif
