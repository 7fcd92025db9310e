package org.bytedeco.opencl.presets;

/**
 * Placeholder so that org.bytedeco:dnnl loads: its presets class names this one as inherited
 * configuration, and org.bytedeco:opencl is not served here. The CPU engine never touches OpenCL.
 */
public final class OpenCL {
    private OpenCL() {}
}
