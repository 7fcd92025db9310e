/*
 * CPU feature detection and the CONV4J_MAX_ISA cap, computed once.
 *
 * ISA levels are feature sets tested as flags, not an order: a level is
 * usable when every feature it needs is present, both in the CPU and in the
 * state the OS saves on a context switch (XCR0), or the first instruction
 * faults even though CPUID advertises it:
 *   avx2    AVX2 + FMA, XCR0 SSE and YMM state
 *   avx512  AVX-512 F/VL/BW/DQ (the kernels use all four), XCR0 YMM, opmask
 *           and both ZMM halves
 * On Linux aarch64 the kernel reports features in the auxiliary vector
 * (getauxval AT_HWCAP / AT_HWCAP2), and it only reports what it also saves:
 *   neon    asimd (Advanced SIMD; architecturally present on every AArch64
 *           CPU, checked anyway)
 * asimddp, fphp, bf16, i8mm and sve are listed for `info`; no kernel needs
 * them yet.
 * The cap keeps the levels a named level includes (scalar < avx2 < avx512 as
 * sets, since every avx512 CPU here also has avx2; scalar < neon on arm64).
 * The sets of the two families are disjoint but for scalar, so a cap from the
 * other family (avx2 on arm64) leaves scalar.
 */
#include "cpu/cpu_features.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if (defined(__x86_64__) || defined(__amd64__)) && (defined(__GNUC__) || defined(__clang__))
#define CONV4J_CPU_X86_64 1
#include <cpuid.h>
#endif

#if defined(__aarch64__) && defined(__linux__)
#define CONV4J_CPU_AARCH64_LINUX 1
#include <sys/auxv.h>
/* The bits of arch/arm64/include/uapi/asm/hwcap.h, for older headers. */
#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1UL << 1)
#endif
#ifndef HWCAP_FPHP
#define HWCAP_FPHP (1UL << 9)
#endif
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1UL << 20)
#endif
#ifndef HWCAP_SVE
#define HWCAP_SVE (1UL << 22)
#endif
#ifndef HWCAP2_I8MM
#define HWCAP2_I8MM (1UL << 13)
#endif
#ifndef HWCAP2_BF16
#define HWCAP2_BF16 (1UL << 14)
#endif
#endif

typedef struct cpu_info {
    unsigned detected; /* bit per conv4j_isa the CPU and OS support */
    unsigned active;   /* detected, less what CONV4J_MAX_ISA caps off */
    char features[192];
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

static unsigned detect_x86_64(char *features, size_t capacity)
{
    unsigned int eax = 0;
    unsigned int ebx = 0;
    unsigned int ecx = 0;
    unsigned int edx = 0;
    unsigned levels = CONV4J_ISA_BIT(CONV4J_ISA_SCALAR);
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) {
        return levels;
    }
    const int sse2 = (edx >> 26) & 1;
    const int fma = (ecx >> 12) & 1;
    const int osxsave = (ecx >> 27) & 1;
    const int avx = (ecx >> 28) & 1;
    int avx2 = 0;
    int avx512f = 0;
    int avx512dq = 0;
    int avx512bw = 0;
    int avx512vl = 0;
    if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) {
        avx2 = (ebx >> 5) & 1;
        avx512f = (ebx >> 16) & 1;
        avx512dq = (ebx >> 17) & 1;
        avx512bw = (ebx >> 30) & 1;
        avx512vl = (ebx >> 31) & 1;
    }
    int os_ymm = 0;
    int os_zmm = 0;
    if (osxsave) {
        const uint64_t xcr0 = read_xcr0();
        os_ymm = (xcr0 & 0x6) == 0x6;   /* SSE and AVX state */
        os_zmm = (xcr0 & 0xe6) == 0xe6; /* plus opmask and both ZMM halves */
    }
    const struct {
        int present;
        const char *name;
    } found[] = {{sse2, "sse2"},         {avx, "avx"},           {fma, "fma"},
                 {avx2, "avx2"},         {avx512f, "avx512f"},   {avx512dq, "avx512dq"},
                 {avx512bw, "avx512bw"}, {avx512vl, "avx512vl"}, {os_ymm, "osxsave-ymm"},
                 {os_zmm, "osxsave-zmm"}};
    for (size_t i = 0; i < sizeof found / sizeof found[0]; ++i) {
        if (found[i].present) {
            append_feature(features, capacity, found[i].name);
        }
    }
    if (avx2 && fma && os_ymm) {
        levels |= CONV4J_ISA_BIT(CONV4J_ISA_AVX2);
    }
    if (avx512f && avx512vl && avx512bw && avx512dq && fma && os_ymm && os_zmm) {
        levels |= CONV4J_ISA_BIT(CONV4J_ISA_AVX512);
    }
    return levels;
}
#endif

#ifdef CONV4J_CPU_AARCH64_LINUX
static unsigned detect_aarch64(char *features, size_t capacity)
{
    const unsigned long hwcap = getauxval(AT_HWCAP);
    const unsigned long hwcap2 = getauxval(AT_HWCAP2);
    unsigned levels = CONV4J_ISA_BIT(CONV4J_ISA_SCALAR);
    const struct {
        int present;
        const char *name;
    } found[] = {{(hwcap & HWCAP_ASIMD) != 0, "asimd"},  {(hwcap & HWCAP_ASIMDDP) != 0, "asimddp"},
                 {(hwcap & HWCAP_FPHP) != 0, "fphp"},    {(hwcap2 & HWCAP2_BF16) != 0, "bf16"},
                 {(hwcap2 & HWCAP2_I8MM) != 0, "i8mm"},  {(hwcap & HWCAP_SVE) != 0, "sve"}};
    for (size_t i = 0; i < sizeof found / sizeof found[0]; ++i) {
        if (found[i].present) {
            append_feature(features, capacity, found[i].name);
        }
    }
    if (hwcap & HWCAP_ASIMD) {
        levels |= CONV4J_ISA_BIT(CONV4J_ISA_NEON);
    }
    return levels;
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

/* The levels CONV4J_MAX_ISA allows; all of them when unset or not understood. */
static unsigned isa_cap(void)
{
    const char *value = getenv("CONV4J_MAX_ISA");
    if (value == NULL || value[0] == '\0') {
        return ~0u;
    }
    static const struct {
        const char *name;
        unsigned levels;
    } caps[] = {
        {"scalar", CONV4J_ISA_BIT(CONV4J_ISA_SCALAR)},
        {"avx2", CONV4J_ISA_BIT(CONV4J_ISA_SCALAR) | CONV4J_ISA_BIT(CONV4J_ISA_AVX2)},
        {"avx512", CONV4J_ISA_BIT(CONV4J_ISA_SCALAR) | CONV4J_ISA_BIT(CONV4J_ISA_AVX2) |
                       CONV4J_ISA_BIT(CONV4J_ISA_AVX512)},
        {"neon", CONV4J_ISA_BIT(CONV4J_ISA_SCALAR) | CONV4J_ISA_BIT(CONV4J_ISA_NEON)},
    };
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; ++i) {
        if (equals_ignoring_case(value, caps[i].name)) {
            return caps[i].levels;
        }
    }
    /* Runs once per process, so this warns once. */
    fprintf(stderr,
            "conv4j: ignoring unknown CONV4J_MAX_ISA value \"%s\" (use scalar, avx2, avx512 or neon)\n",
            value);
    return ~0u;
}

static void detect_cpu(void)
{
    cpu.features[0] = '\0';
    cpu.detected = CONV4J_ISA_BIT(CONV4J_ISA_SCALAR);
#ifdef CONV4J_CPU_X86_64
    cpu.detected = detect_x86_64(cpu.features, sizeof cpu.features);
#endif
#ifdef CONV4J_CPU_AARCH64_LINUX
    cpu.detected = detect_aarch64(cpu.features, sizeof cpu.features);
#endif
    if (cpu.features[0] == '\0') {
        append_feature(cpu.features, sizeof cpu.features, "none");
    }
    cpu.active = cpu.detected & isa_cap();
}

static const cpu_info *cpu_info_once(void)
{
    pthread_once(&cpu_once, detect_cpu);
    return &cpu;
}

unsigned conv4j_isa_levels_detected(void)
{
    return cpu_info_once()->detected;
}

unsigned conv4j_isa_levels_active(void)
{
    return cpu_info_once()->active;
}

/* The widest level in a set: the one the dispatch prefers. */
static conv4j_isa widest(unsigned levels)
{
    if (levels & CONV4J_ISA_BIT(CONV4J_ISA_AVX512)) {
        return CONV4J_ISA_AVX512;
    }
    if (levels & CONV4J_ISA_BIT(CONV4J_ISA_AVX2)) {
        return CONV4J_ISA_AVX2;
    }
    if (levels & CONV4J_ISA_BIT(CONV4J_ISA_NEON)) {
        return CONV4J_ISA_NEON;
    }
    return CONV4J_ISA_SCALAR;
}

conv4j_isa conv4j_cpu_isa(void)
{
    return widest(cpu_info_once()->detected);
}


const char *conv4j_cpu_features(void)
{
    return cpu_info_once()->features;
}
