/* Reads a fuzzer's bytes as small numbers; past the end every read gives 0, so any input,
 * however short, decodes to something. Header-only, shared by the fuzz targets. */
#ifndef CONV4J_FUZZ_INPUT_H
#define CONV4J_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conv4j.h"

/* A failed check aborts, which libFuzzer reports as a crash and saves the input. */
#define FUZZ_REQUIRE(condition, ...)                                                       \
    do {                                                                                   \
        if (!(condition)) {                                                                \
            fprintf(stderr, "%s:%d: %s: ", __FILE__, __LINE__, #condition);                \
            fprintf(stderr, __VA_ARGS__);                                                  \
            fputc('\n', stderr);                                                           \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

typedef struct fuzz_input {
    const uint8_t *data;
    size_t size;
    size_t position;
} fuzz_input;

static inline uint8_t fuzz_byte(fuzz_input *in)
{
    return in->position < in->size ? in->data[in->position++] : 0;
}

/* Uniform-ish in [low, high] from one byte (the ranges here are all < 256). */
static inline int32_t fuzz_range(fuzz_input *in, int32_t low, int32_t high)
{
    return low + (int32_t)(fuzz_byte(in) % (uint32_t)(high - low + 1));
}

static inline int32_t fuzz_int32(fuzz_input *in)
{
    uint32_t value = 0;
    for (int i = 0; i < 4; ++i) {
        value = value << 8 | fuzz_byte(in);
    }
    int32_t result;
    memcpy(&result, &value, sizeof result);
    return result;
}

static inline uint64_t fuzz_uint64(fuzz_input *in)
{
    uint64_t value = 0;
    for (int i = 0; i < 8; ++i) {
        value = value << 8 | fuzz_byte(in);
    }
    return value;
}

/* Whether status is one the library defines: its text differs from an undefined code's. Keeps
 * the targets right when statuses are added (no hard-coded last code). */
static inline int fuzz_known_error(conv4j_status status)
{
    return status != CONV4J_OK &&
           strcmp(conv4j_status_string(status), conv4j_status_string((conv4j_status)100000)) != 0;
}

#endif /* CONV4J_FUZZ_INPUT_H */
