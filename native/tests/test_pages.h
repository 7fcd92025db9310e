/* Whole pages for the guard-page tests: POSIX mmap/mprotect/munmap, or Windows
 * VirtualAlloc/VirtualProtect/VirtualFree, so a read or write past a buffer faults on both.
 * A test that uses MAP_ANONYMOUS-era names defines _DEFAULT_SOURCE before including this. */
#ifndef CONV4J_TEST_PAGES_H
#define CONV4J_TEST_PAGES_H

#include <stddef.h>

#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#define NOMINMAX
#include <windows.h>
#else
#include <sys/mman.h>
#include <unistd.h>
#endif

static inline size_t test_page_size(void)
{
#ifdef _WIN32
    SYSTEM_INFO info;
    GetSystemInfo(&info);
    return (size_t)info.dwPageSize;
#else
    return (size_t)sysconf(_SC_PAGESIZE);
#endif
}

/* bytes (a multiple of the page size), readable and writable, or NULL. */
static inline void *test_pages_map(size_t bytes)
{
#ifdef _WIN32
    return VirtualAlloc(NULL, bytes, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
#else
    void *mapping = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return mapping == MAP_FAILED ? NULL : mapping;
#endif
}

/* 0 when the pages [at, at + bytes) are inaccessible from now on, -1 on failure. */
static inline int test_pages_forbid(void *at, size_t bytes)
{
#ifdef _WIN32
    DWORD previous;
    return VirtualProtect(at, bytes, PAGE_NOACCESS, &previous) ? 0 : -1;
#else
    return mprotect(at, bytes, PROT_NONE);
#endif
}

/* Releases what test_pages_map returned (bytes as given there). */
static inline void test_pages_unmap(void *mapping, size_t bytes)
{
#ifdef _WIN32
    (void)bytes;
    VirtualFree(mapping, 0, MEM_RELEASE);
#else
    munmap(mapping, bytes);
#endif
}

#endif /* CONV4J_TEST_PAGES_H */
