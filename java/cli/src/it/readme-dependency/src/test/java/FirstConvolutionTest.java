import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.conv4j.Backend;
import org.conv4j.Conv2D;
import org.conv4j.Conv4j;
import org.junit.jupiter.api.Test;

/** What a user does first with the README's dependency: a native convolution. */
class FirstConvolutionTest {
    @Test
    void nativeConvolution() {
        assertTrue(Conv4j.nativeAvailable(), () -> "native library did not load: " + Conv4j.nativeLoadError());
        // The tutorial's vertical-line detector on a 4x4 image with one vertical line.
        try (Conv2D conv = Conv2D.builder().inputChannels(1).filters(1).kernelSize(3, 3).build()) {
            assertEquals(Backend.NATIVE, conv.backend());
            conv.setWeights(new float[] {0, 1, 0, 0, 1, 0, 0, 1, 0}, new float[] {0});
            float[] image = {0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0};
            float[] y = conv.predict(image, 1, 4, 4, 1);
            assertArrayEquals(new float[] {3, 0, 3, 0}, y);
            System.out.println("conv4j " + Conv4j.version() + " on " + Conv4j.platform() + ": " + conv.explain(1, 4, 4, 1));
        }
    }
}
