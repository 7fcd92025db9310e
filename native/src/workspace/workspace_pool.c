/* See workspace_pool.h. */
#include "workspace/workspace_pool.h"

#include <stdint.h>
#include <stdlib.h>

#define WORKSPACE_ALIGN 64

static void lock(conv4j_workspace_pool *pool)
{
    while (atomic_flag_test_and_set_explicit(&pool->lock, memory_order_acquire)) {
        /* Held only around a pointer push or pop: spin. */
    }
}

static void unlock(conv4j_workspace_pool *pool)
{
    atomic_flag_clear_explicit(&pool->lock, memory_order_release);
}

void conv4j_workspace_pool_init(conv4j_workspace_pool *pool, size_t bytes)
{
    atomic_flag_clear(&pool->lock);
    pool->bytes = bytes;
    pool->idle_count = 0;
}

void *conv4j_workspace_take(conv4j_workspace_pool *pool)
{
    void *raw = NULL;
    lock(pool);
    if (pool->idle_count > 0) {
        raw = pool->idle[--pool->idle_count];
    }
    unlock(pool);
    if (raw == NULL && pool->bytes <= SIZE_MAX - WORKSPACE_ALIGN) {
        raw = malloc(pool->bytes + WORKSPACE_ALIGN);
    }
    return raw;
}

void conv4j_workspace_give(conv4j_workspace_pool *pool, void *raw)
{
    lock(pool);
    if (pool->idle_count < CONV4J_WORKSPACE_POOL_SLOTS) {
        pool->idle[pool->idle_count++] = raw;
        raw = NULL;
    }
    unlock(pool);
    free(raw);
}

void *conv4j_workspace_aligned(void *raw)
{
    const uintptr_t address = (uintptr_t)raw;
    return (void *)((address + WORKSPACE_ALIGN - 1) / WORKSPACE_ALIGN * WORKSPACE_ALIGN);
}

void conv4j_workspace_pool_destroy(conv4j_workspace_pool *pool)
{
    for (int i = 0; i < pool->idle_count; ++i) {
        free(pool->idle[i]);
    }
    pool->idle_count = 0;
}
