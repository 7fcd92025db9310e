package org.conv4j;

import java.util.Locale;
import org.bytedeco.javacpp.Loader;
import org.conv4j.internal.Conv4jNative;

/**
 * Library-wide facts: version, whether the native core loaded (and if not, why), CPU features and
 * the default backend. Thread-safe; the native library is loaded once, on first use.
 *
 * <p>The system property {@value #BACKEND_PROPERTY} chooses the default backend: {@code auto}
 * (the default: native when it loads, else the pure-Java backend with one warning), {@code native}
 * (layers fail with {@link IllegalStateException} when it cannot load) or {@code java} (the native
 * library is never loaded).
 */
public final class Conv4j {
    /** System property that forces the default backend: {@code auto}, {@code native} or {@code java}. */
    public static final String BACKEND_PROPERTY = "conv4j.backend";
    /** The version of the Java library; the native core reports the same one. */
    public static final String VERSION = "0.1.0";

    private Conv4j() {}

    private static final class NativeHolder {
        static final String LOAD_ERROR = load();

        private static String load() {
            String requested = backendProperty(); // unchecked here: a bad value is reported to the layers
            if ("java".equals(requested)) {
                return "not loaded: -D" + BACKEND_PROPERTY + "=java";
            }
            try {
                Loader.load(Conv4jNative.class);
                String nativeVersion = Conv4jNative.conv4j_version();
                if (!VERSION.equals(nativeVersion)) {
                    return "native library version " + nativeVersion + " does not match the Java classes' " + VERSION;
                }
                return null;
            } catch (Throwable t) { // UnsatisfiedLinkError, extraction IOExceptions wrapped in errors, ...
                String why = NativeLoadDiagnosis.explain(t);
                if (!"native".equals(requested)) { // with native forced, layers report it instead
                    System.getLogger("org.conv4j").log(System.Logger.Level.WARNING,
                            "conv4j: native library unavailable on " + Loader.getPlatform() + " (" + why
                                    + "); layers use the pure-Java backend");
                }
                return why;
            }
        }
    }

    private static String backendProperty() {
        return System.getProperty(BACKEND_PROPERTY, "auto").trim().toLowerCase(Locale.ROOT);
    }

    static String requestedBackend() {
        String v = backendProperty();
        if (!v.equals("auto") && !v.equals("native") && !v.equals("java")) {
            throw new IllegalStateException("system property " + BACKEND_PROPERTY
                    + " must be auto, native or java, got '" + v + "'");
        }
        return v;
    }

    /** The library version. */
    public static String version() {
        return VERSION;
    }

    /** The version the native core reports, or null when it is not loaded. */
    public static String nativeVersion() {
        return nativeAvailable() ? Conv4jNative.conv4j_version() : null;
    }

    /** True when the native core is loaded and usable. */
    public static boolean nativeAvailable() {
        return NativeHolder.LOAD_ERROR == null;
    }

    /** Why the native core is not available, or null when it is. */
    public static String nativeLoadError() {
        return NativeHolder.LOAD_ERROR;
    }

    /** The backend layers use unless told otherwise: see {@link #BACKEND_PROPERTY}. */
    public static Backend defaultBackend() {
        switch (requestedBackend()) {
            case "java":
                return Backend.JAVA;
            case "native":
                return Backend.NATIVE;
            default:
                return nativeAvailable() ? Backend.NATIVE : Backend.JAVA;
        }
    }

    /**
     * The Java backend's inner loop in this JVM: {@code vector-256} (the JDK's Vector API, its
     * preferred width in bits) when the JVM runs with {@code --add-modules jdk.incubator.vector},
     * else {@code scalar} (plain Java the JIT vectorizes as it can).
     */
    public static String javaKernel() {
        return JavaConvolution.kernelName();
    }

    /** JavaCPP's name for this platform, e.g. {@code linux-x86_64}. */
    public static String platform() {
        return Loader.getPlatform();
    }

    /** CPU features the native core found, e.g. {@code "sse2 avx fma avx2 osxsave-ymm"}; "unavailable" without it. */
    public static String cpuFeatures() {
        return nativeAvailable() ? Conv4jNative.conv4j_cpu_features() : "unavailable";
    }

    /**
     * The widest ISA level the CPU and OS support: {@code scalar}, {@code avx2}, {@code avx512} or {@code neon};
     * "unavailable" without native.
     */
    public static String cpuIsa() {
        return nativeAvailable() ? Conv4jNative.conv4j_isa_name(Conv4jNative.conv4j_cpu_isa()) : "unavailable";
    }

    /**
     * The ISA level of the kernels in use ({@code scalar}, {@code avx2}, {@code avx512} or {@code neon}): the widest
     * level the CPU has, the environment variable {@code CONV4J_MAX_ISA} leaves on, and this build
     * has kernels for. "unavailable" without native.
     */
    public static String activeIsa() {
        return nativeAvailable() ? Conv4jNative.conv4j_isa_name(Conv4jNative.conv4j_active_isa()) : "unavailable";
    }

    /** Threads a native call with threads = 0 uses (OpenMP's maximum); 1 without native. */
    public static int maxThreads() {
        return nativeAvailable() ? Conv4jNative.conv4j_max_threads() : 1;
    }

    /**
     * The CPU's fp32 multiply-add throughput in GFLOP/s, measured for half a second: the ceiling
     * the benchmarks compare kernels against. See {@link #measurePeakGflops(int, double)}.
     */
    public static double measurePeakGflops(int threads) {
        return measurePeakGflops(threads, 0.5);
    }

    /**
     * Measures the CPU's fp32 multiply-add throughput in GFLOP/s with 12 independent FMA chains per
     * thread (at the vector width of {@link #activeIsa()}: 256-bit for avx2, 512-bit for avx512, 128-bit for neon) on {@code threads} threads (0 = all cores) for {@code seconds}
     * (after an untimed fifth of that). Blocks the caller for that long; thread-safe, but
     * concurrent calls share the cores and each measures less. Needs the native backend.
     */
    public static double measurePeakGflops(int threads, double seconds) {
        if (threads < 0) {
            throw new IllegalArgumentException("threads must be >= 0 (0 = all cores), got " + threads);
        }
        if (!(seconds > 0 && seconds <= 60)) {
            throw new IllegalArgumentException("seconds must be in (0, 60], got " + seconds);
        }
        requireNative();
        return Conv4jNative.conv4j_measure_peak_gflops(threads, seconds);
    }

    /** Throws {@link IllegalStateException} saying why, when native is not available. */
    static void requireNative() {
        if (!nativeAvailable()) {
            throw new IllegalStateException("the native backend is not available: " + nativeLoadError());
        }
    }
}
