/*
 * Buffers that end (or start) at an inaccessible page, so a kernel that
 * reads or writes one float past the buffer faults instead of passing.
 * Where mmap is missing (Windows) they are plain allocations: the test then
 * checks values only.
 */
#ifndef CONV4J_TEST_GUARDED_H
#define CONV4J_TEST_GUARDED_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__unix__) || defined(__APPLE__)
#include <sys/mman.h>
#include <unistd.h>
#define TEST_HAVE_GUARD_PAGES 1
#endif

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
#ifdef TEST_HAVE_GUARD_PAGES
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    const size_t data_pages = (bytes + page - 1) / page;
    g->length = (data_pages + 1) * page;
    void *base = mmap(NULL, g->length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) {
        return NULL;
    }
    g->base = base;
    char *guard = at_end ? (char *)base + data_pages * page : (char *)base;
    if (mprotect(guard, page, PROT_NONE) != 0) {
        return NULL;
    }
    g->data = (float *)(at_end ? guard - bytes : (char *)base + page);
#else
    (void)at_end;
    g->base = malloc(bytes);
    g->data = g->base;
#endif
    return g->data;
}

/* The common case: the buffer ends at the guard page. */
static inline float *guarded_alloc(guarded *g, size_t count)
{
    return guarded_alloc_at(g, (int64_t)count, 1);
}

static inline void guarded_free(guarded *g)
{
#ifdef TEST_HAVE_GUARD_PAGES
    if (g->base != NULL) {
        munmap(g->base, g->length);
    }
#else
    free(g->base);
#endif
    memset(g, 0, sizeof *g);
}

#endif /* CONV4J_TEST_GUARDED_H */
