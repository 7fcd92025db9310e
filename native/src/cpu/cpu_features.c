/*
 * CPU feature detection and the CONV4J_MAX_ISA cap, computed once.
 *
 * AVX2 kernels need the CPU to have AVX2 and FMA *and* the OS to save the YMM
 * registers on a context switch (OSXSAVE set and XCR0 bits 1 and 2), or the
 * first AVX instruction faults even though CPUID advertises it.
 */
#include "conv4j.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if (defined(__x86_64__) || defined(__amd64__)) && (defined(__GNUC__) || defined(__clang__))
#define CONV4J_CPU_X86_64 1
#include <cpuid.h>
#endif

typedef struct cpu_info {
    conv4j_isa detected;
    conv4j_isa active;
    char features[128];
} cpu_info;

static cpu_info cpu;
static pthread_once_t cpu_once = PTHREAD_ONCE_INIT;

static void append_feature(char *list, size_t capacity, const char *name)
{
    const size_t used = strlen(list);
    snprintf(list + used, capacity - used, "%s%s", used > 0 ? " " : "", name);
}

#ifdef CONV4J_CPU_X86_64
/* XGETBV as raw bytes: older assemblers lack the mnemonic. Only valid when
 * CPUID reports OSXSAVE. */
static uint64_t read_xcr0(void)
{
    uint32_t low;
    uint32_t high;
    __asm__ __volatile__(".byte 0x0f, 0x01, 0xd0" : "=a"(low), "=d"(high) : "c"(0));
    return ((uint64_t)high << 32) | low;
}

static conv4j_isa detect_x86_64(char *features, size_t capacity)
{
    unsigned int eax = 0;
    unsigned int ebx = 0;
    unsigned int ecx = 0;
    unsigned int edx = 0;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) {
        return CONV4J_ISA_SCALAR;
    }
    const int sse2 = (edx >> 26) & 1;
    const int fma = (ecx >> 12) & 1;
    const int osxsave = (ecx >> 27) & 1;
    const int avx = (ecx >> 28) & 1;
    int avx2 = 0;
    int avx512f = 0;
    if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) {
        avx2 = (ebx >> 5) & 1;
        avx512f = (ebx >> 16) & 1;
    }
    int os_ymm = 0;
    int os_zmm = 0;
    if (osxsave) {
        const uint64_t xcr0 = read_xcr0();
        os_ymm = (xcr0 & 0x6) == 0x6;   /* SSE and AVX state */
        os_zmm = (xcr0 & 0xe6) == 0xe6; /* plus opmask and both ZMM halves */
    }
    if (sse2) {
        append_feature(features, capacity, "sse2");
    }
    if (avx) {
        append_feature(features, capacity, "avx");
    }
    if (fma) {
        append_feature(features, capacity, "fma");
    }
    if (avx2) {
        append_feature(features, capacity, "avx2");
    }
    if (avx512f) {
        append_feature(features, capacity, "avx512f");
    }
    if (os_ymm) {
        append_feature(features, capacity, "osxsave-ymm");
    }
    if (os_zmm) {
        append_feature(features, capacity, "osxsave-zmm");
    }
    return (avx2 && fma && os_ymm) ? CONV4J_ISA_AVX2 : CONV4J_ISA_SCALAR;
}
#endif

static int equals_ignoring_case(const char *a, const char *b)
{
    for (; *a != '\0' && *b != '\0'; ++a, ++b) {
        const char ca = (*a >= 'A' && *a <= 'Z') ? (char)(*a - 'A' + 'a') : *a;
        const char cb = (*b >= 'A' && *b <= 'Z') ? (char)(*b - 'A' + 'a') : *b;
        if (ca != cb) {
            return 0;
        }
    }
    return *a == *b;
}

/* The ISA cap from CONV4J_MAX_ISA; detected when unset or not understood. */
static conv4j_isa isa_cap(conv4j_isa detected)
{
    const char *value = getenv("CONV4J_MAX_ISA");
    if (value == NULL || value[0] == '\0') {
        return detected;
    }
    if (equals_ignoring_case(value, "scalar")) {
        return CONV4J_ISA_SCALAR;
    }
    if (equals_ignoring_case(value, "avx2")) {
        return CONV4J_ISA_AVX2;
    }
    /* Runs once per process, so this warns once. */
    fprintf(stderr, "conv4j: ignoring unknown CONV4J_MAX_ISA value \"%s\" (use scalar or avx2)\n",
            value);
    return detected;
}

static void detect_cpu(void)
{
    cpu.features[0] = '\0';
    cpu.detected = CONV4J_ISA_SCALAR;
#ifdef CONV4J_CPU_X86_64
    cpu.detected = detect_x86_64(cpu.features, sizeof cpu.features);
#endif
    if (cpu.features[0] == '\0') {
        append_feature(cpu.features, sizeof cpu.features, "none");
    }
    const conv4j_isa cap = isa_cap(cpu.detected);
    cpu.active = cap < cpu.detected ? cap : cpu.detected;
}

static const cpu_info *cpu_info_once(void)
{
    pthread_once(&cpu_once, detect_cpu);
    return &cpu;
}

conv4j_isa conv4j_cpu_isa(void)
{
    return cpu_info_once()->detected;
}

conv4j_isa conv4j_active_isa(void)
{
    return cpu_info_once()->active;
}

const char *conv4j_cpu_features(void)
{
    return cpu_info_once()->features;
}
