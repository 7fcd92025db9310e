/*
 * Scratch buffers a plan lends to execute calls that bring no workspace of
 * their own, so that steady-state calls do not malloc. A buffer is lent to
 * one call at a time; up to CONV4J_WORKSPACE_POOL_SLOTS idle buffers are
 * kept (as many concurrent callers as that reuse them), more are freed on
 * return. The pool, and every buffer in it, belongs to its plan.
 */
#ifndef CONV4J_WORKSPACE_POOL_H
#define CONV4J_WORKSPACE_POOL_H

#include <stdatomic.h>
#include <stddef.h>

#define CONV4J_WORKSPACE_POOL_SLOTS 8

typedef struct conv4j_workspace_pool {
    atomic_flag lock; /* guards idle and idle_count; held for a few instructions */
    size_t bytes;     /* usable bytes of every buffer, 64-byte aligned */
    void *idle[CONV4J_WORKSPACE_POOL_SLOTS]; /* raw malloc pointers */
    int idle_count;
} conv4j_workspace_pool;

void conv4j_workspace_pool_init(conv4j_workspace_pool *pool, size_t bytes);
/* A raw buffer (NULL when out of memory); its usable, 64-byte aligned start
 * is conv4j_workspace_aligned(raw). */
void *conv4j_workspace_take(conv4j_workspace_pool *pool);
void conv4j_workspace_give(conv4j_workspace_pool *pool, void *raw);
void *conv4j_workspace_aligned(void *raw);
/* Frees the idle buffers; no call may be running. */
void conv4j_workspace_pool_destroy(conv4j_workspace_pool *pool);

#endif /* CONV4J_WORKSPACE_POOL_H */
