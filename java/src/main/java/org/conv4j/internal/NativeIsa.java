package org.conv4j.internal;

import java.util.Locale;

/**
 * The {@code conv4j_isa} levels of {@code native/include/conv4j.h}: the names
 * {@code conv4j_isa_name} gives them and {@code CONV4J_MAX_ISA} takes. HeaderConstantsTest checks
 * them against the header.
 */
public enum NativeIsa {
    SCALAR(0),
    /** AVX2 + FMA with OS-enabled YMM state. */
    AVX2(1),
    /** AVX-512 F/VL/BW/DQ with OS-enabled ZMM and opmask state. */
    AVX512(2),
    /** AArch64 Advanced SIMD (asimd), 128-bit vectors. */
    NEON(3);

    private final int code;

    NativeIsa(int code) {
        this.code = code;
    }

    /** The {@code conv4j_isa} value. */
    public int code() {
        return code;
    }

    /** The C name, e.g. {@code CONV4J_ISA_AVX2}. */
    public String cName() {
        return "CONV4J_ISA_" + name();
    }

    /**
     * Whether a CPU whose widest level is {@code cpu} has this level. Levels are feature sets, not an order:
     * x86-64 has scalar &lt; avx2 &lt; avx512, arm64 scalar &lt; neon, and the two families share only scalar.
     */
    public boolean availableOn(NativeIsa cpu) {
        if (this == SCALAR || this == cpu) {
            return true;
        }
        boolean x86 = this == AVX2 || this == AVX512;
        boolean cpuX86 = cpu == AVX2 || cpu == AVX512;
        return x86 && cpuX86 && code <= cpu.code;
    }

    /** The lower-case name: {@code scalar}, {@code avx2}, {@code avx512}, {@code neon}. */
    public String isaName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The level with this {@link #isaName()}, or null. */
    public static NativeIsa fromName(String name) {
        for (NativeIsa isa : values()) {
            if (isa.isaName().equals(name)) {
                return isa;
            }
        }
        return null;
    }
}
