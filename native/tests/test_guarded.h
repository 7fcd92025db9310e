/*
 * Buffers that end (or start) at an inaccessible page, so a kernel that
 * reads or writes one float past the buffer faults instead of passing
 * (POSIX mmap or Windows VirtualAlloc, through test_pages.h).
 */
#ifndef CONV4J_TEST_GUARDED_H
#define CONV4J_TEST_GUARDED_H

#include <stdint.h>
#include <string.h>

#include "test_pages.h"

typedef struct guarded {
    void *base;
    size_t length;
    float *data;
} guarded;

/* count floats (at least 1); at_end: the last float touches the guard page
 * after it, else the first float starts right after one. NULL when out of
 * memory. */
static inline float *guarded_alloc_at(guarded *g, int64_t count, int at_end)
{
    memset(g, 0, sizeof *g);
    const size_t bytes = (size_t)(count > 0 ? count : 1) * sizeof(float);
    const size_t page = test_page_size();
    const size_t data_pages = (bytes + page - 1) / page;
    g->length = (data_pages + 1) * page;
    char *base = test_pages_map(g->length);
    if (base == NULL) {
        return NULL;
    }
    g->base = base;
    char *guard = at_end ? base + data_pages * page : base;
    if (test_pages_forbid(guard, page) != 0) {
        return NULL;
    }
    g->data = (float *)(at_end ? guard - bytes : base + page);
    return g->data;
}

/* The common case: the buffer ends at the guard page. */
static inline float *guarded_alloc(guarded *g, size_t count)
{
    return guarded_alloc_at(g, (int64_t)count, 1);
}

static inline void guarded_free(guarded *g)
{
    if (g->base != NULL) {
        test_pages_unmap(g->base, g->length);
    }
    memset(g, 0, sizeof *g);
}

#endif /* CONV4J_TEST_GUARDED_H */
