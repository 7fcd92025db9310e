/*
 * CPU detection: the active ISA never exceeds the detected one, names are
 * right, the feature list is non-empty and consistent with the ISA.
 * Usage: test_cpu_features [--expect-uncapped]   (active must equal detected,
 * e.g. when CONV4J_MAX_ISA holds a value that must be ignored)
 */
#include "cpu/cpu_features.h"
#include "test_util.h"

int main(int argc, char **argv)
{
    int expect_uncapped = 0;
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--expect-uncapped") == 0) {
            expect_uncapped = 1;
        } else {
            fprintf(stderr, "usage: %s [--expect-uncapped]\n", argv[0]);
            return 2;
        }
    }
    const conv4j_isa detected = conv4j_cpu_isa();
    const conv4j_isa active = conv4j_active_isa();
    const char *features = conv4j_cpu_features();
    printf("detected %s, active %s, features \"%s\", max threads %d\n",
           conv4j_isa_name(detected), conv4j_isa_name(active), features,
           (int)conv4j_max_threads());

    CHECK(detected == CONV4J_ISA_SCALAR || detected == CONV4J_ISA_AVX2 ||
              detected == CONV4J_ISA_AVX512 || detected == CONV4J_ISA_NEON,
          "detected %d", (int)detected);
    /* Levels are flag sets: the active ones are a subset of the detected. */
    const unsigned detected_levels = conv4j_isa_levels_detected();
    const unsigned active_levels = conv4j_isa_levels_active();
    CHECK((active_levels & ~detected_levels) == 0, "active levels %#x outside detected %#x",
          active_levels, detected_levels);
    CHECK(active_levels & CONV4J_ISA_BIT(CONV4J_ISA_SCALAR), "scalar is always active");
    CHECK(active_levels & CONV4J_ISA_BIT(active), "the active isa %s is not an active level",
          conv4j_isa_name(active));
    const char *cap = getenv("CONV4J_MAX_ISA");
    if (cap != NULL && strcmp(cap, "avx2") == 0) {
        CHECK(!(active_levels & CONV4J_ISA_BIT(CONV4J_ISA_AVX512)), "avx2 cap left avx512 on");
        CHECK(active == ((detected_levels & CONV4J_ISA_BIT(CONV4J_ISA_AVX2)) ? CONV4J_ISA_AVX2
                                                                              : CONV4J_ISA_SCALAR),
              "avx2 cap: active %s", conv4j_isa_name(active));
    }
    if (expect_uncapped) {
        CHECK(conv4j_isa_levels_active() == conv4j_isa_levels_detected(),
              "active levels %#x, expected the detected %#x", conv4j_isa_levels_active(),
              conv4j_isa_levels_detected());
    }
    /* Read once: later calls agree. */
    CHECK(conv4j_active_isa() == active && conv4j_cpu_isa() == detected, "isa changed");
    CHECK(conv4j_cpu_features() == features, "features string moved");

    CHECK(features != NULL && features[0] != '\0', "features string empty");
    if (detected == CONV4J_ISA_AVX2) {
        CHECK(strstr(features, "avx2") != NULL && strstr(features, "fma") != NULL &&
                  strstr(features, "osxsave-ymm") != NULL,
              "avx2 isa without avx2, fma and osxsave-ymm in \"%s\"", features);
    }
    if (detected_levels & CONV4J_ISA_BIT(CONV4J_ISA_AVX512)) {
        const char *needed[] = {"avx512f", "avx512dq", "avx512bw", "avx512vl", "osxsave-zmm",
                                "fma"};
        for (size_t i = 0; i < sizeof needed / sizeof needed[0]; ++i) {
            CHECK(strstr(features, needed[i]) != NULL, "avx512 level without %s in \"%s\"",
                  needed[i], features);
        }
    }
    if (cap != NULL && strcmp(cap, "neon") == 0) {
        CHECK(!(active_levels & (CONV4J_ISA_BIT(CONV4J_ISA_AVX2) | CONV4J_ISA_BIT(CONV4J_ISA_AVX512))),
              "neon cap left an x86 level on");
    }
    if (detected_levels & CONV4J_ISA_BIT(CONV4J_ISA_NEON)) {
        CHECK(strstr(features, "asimd") != NULL, "neon level without asimd in \"%s\"", features);
        CHECK(!(detected_levels & (CONV4J_ISA_BIT(CONV4J_ISA_AVX2) | CONV4J_ISA_BIT(CONV4J_ISA_AVX512))),
              "neon and an x86 level both detected: %#x", detected_levels);
    }
#if defined(__x86_64__)
    CHECK(strstr(features, "sse2") != NULL, "x86-64 always has sse2: \"%s\"", features);
    CHECK(!(detected_levels & CONV4J_ISA_BIT(CONV4J_ISA_NEON)), "neon detected on x86-64");
#endif
#if defined(__aarch64__) && defined(__linux__)
    /* Advanced SIMD is part of every AArch64 CPU (qemu's included). */
    CHECK(detected == CONV4J_ISA_NEON, "aarch64 without the neon level: \"%s\"", features);
#endif

    CHECK(strcmp(conv4j_isa_name(CONV4J_ISA_SCALAR), "scalar") == 0, "scalar name");
    CHECK(strcmp(conv4j_isa_name(CONV4J_ISA_AVX2), "avx2") == 0, "avx2 name");
    CHECK(strcmp(conv4j_isa_name(CONV4J_ISA_AVX512), "avx512") == 0, "avx512 name");
    CHECK(strcmp(conv4j_isa_name(CONV4J_ISA_NEON), "neon") == 0, "neon name");
    CHECK(conv4j_isa_name((conv4j_isa)9) != NULL, "unknown isa name");
    CHECK(conv4j_max_threads() >= 1, "max threads %d", (int)conv4j_max_threads());
    return test_summary("test_cpu_features");
}
