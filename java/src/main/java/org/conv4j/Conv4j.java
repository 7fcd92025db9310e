package org.conv4j;

import java.util.Locale;
import org.bytedeco.javacpp.Loader;
import org.conv4j.internal.Conv4jNative;

/**
 * Library-wide facts: version, whether the native core loaded (and if not, why), CPU features and
 * the default backend. Thread-safe; the native library is loaded once, on first use.
 *
 * <p>The system property {@value #BACKEND_PROPERTY} chooses the default backend: {@code auto}
 * (the default: native when it loads, else the Java reference with one warning), {@code native}
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
                                    + "); layers use the pure-Java reference backend");
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

    /** JavaCPP's name for this platform, e.g. {@code linux-x86_64}. */
    public static String platform() {
        return Loader.getPlatform();
    }

    /** CPU features the native core found, e.g. {@code "sse2 avx fma avx2 osxsave-ymm"}; "unavailable" without it. */
    public static String cpuFeatures() {
        return nativeAvailable() ? Conv4jNative.conv4j_cpu_features() : "unavailable";
    }

    /** The best ISA the CPU and OS support ({@code scalar} or {@code avx2}); "unavailable" without native. */
    public static String cpuIsa() {
        return nativeAvailable() ? Conv4jNative.conv4j_isa_name(Conv4jNative.conv4j_cpu_isa()) : "unavailable";
    }

    /** The ISA in use after the {@code CONV4J_MAX_ISA} cap; "unavailable" without native. */
    public static String activeIsa() {
        return nativeAvailable() ? Conv4jNative.conv4j_isa_name(Conv4jNative.conv4j_active_isa()) : "unavailable";
    }

    /** Threads a native call with threads = 0 uses (OpenMP's maximum); 1 without native. */
    public static int maxThreads() {
        return nativeAvailable() ? Conv4jNative.conv4j_max_threads() : 1;
    }

    /** Throws {@link IllegalStateException} saying why, when native is not available. */
    static void requireNative() {
        if (!nativeAvailable()) {
            throw new IllegalStateException("the native backend is not available: " + nativeLoadError());
        }
    }
}
