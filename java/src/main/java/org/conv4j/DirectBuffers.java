package org.conv4j;

import java.nio.Buffer;
import org.bytedeco.javacpp.Pointer;

/** The native address of a direct buffer, through JavaCPP's JNI helper; no allocation. */
final class DirectBuffers extends Pointer {
    private DirectBuffers() {
        super((Pointer) null);
    }

    /** Address of the buffer's element 0 (not its position). */
    static long address(Buffer direct) {
        return getDirectBufferAddress(direct);
    }
}
