import java.io.File;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;
import org.conv4j.Conv2D;
import org.conv4j.Conv4j;

/** Checks which conv4j natives jars Maven put on the class path, then convolves natively. */
public class Consumer {
    public static void main(String[] args) {
        Set<String> found = new TreeSet<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            String name = new File(entry).getName();
            if (name.matches("conv4j-\\d.*-(linux|windows|macosx)-\\w+\\.jar")) {
                found.add(name.replaceAll("^conv4j-[^-]+(-SNAPSHOT)?-", "").replace(".jar", ""));
            }
        }
        Set<String> expected = new TreeSet<>(Arrays.asList(System.getProperty("expected.platforms").split("\\+")));
        if (!found.equals(expected)) {
            throw new AssertionError("natives jars on the class path: " + found + ", expected " + expected);
        }
        if (!Conv4j.nativeAvailable()) {
            throw new AssertionError("native library did not load: " + Conv4j.nativeLoadError());
        }
        // The tutorial's vertical-line detector on a 4x4 image with one vertical line.
        try (Conv2D conv = Conv2D.builder().filters(1).kernelSize(3, 3).build()) {
            conv.setWeights(new float[] {0, 1, 0, 0, 1, 0, 0, 1, 0}, new float[] {0});
            float[] image = {0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0};
            float[] y = conv.predict(image, 1, 4, 4, 1);
            if (!Arrays.equals(y, new float[] {3, 0, 3, 0})) {
                throw new AssertionError("unexpected output " + Arrays.toString(y));
            }
            System.out.println("conv4j " + Conv4j.version() + " on " + Conv4j.platform() + ", natives jars " + found
                    + ", backend " + conv.backend() + ": " + Arrays.toString(y));
        }
    }
}
