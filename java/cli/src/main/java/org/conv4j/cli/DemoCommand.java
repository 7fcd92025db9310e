package org.conv4j.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import org.conv4j.Backend;
import org.conv4j.Conv2DTranspose;
import org.conv4j.Conv4j;
import org.conv4j.ConvLayer;
import org.conv4j.NativeUnsupportedException;
import org.conv4j.Padding;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The two worked examples of the classic "how convolutional layers work" tutorial (a 1-D and a 2-D
 * vertical-line detector), run on every available backend and checked against the known answers.
 */
@Command(name = "demo",
        mixinStandardHelpOptions = true,
        description = {"Run the tutorial's examples (line detectors, several filters and channels, stacked layers)"
            + " on the native and the Java backend; with --image, apply the filters to a picture and write the"
            + " feature maps as PNG files.",
            "Exit status 1 if a result differs from the tutorial's or the backends disagree."})
final class DemoCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Option(names = "--image", paramLabel = "FILE",
            description = "A PNG or JPEG picture: convolve it instead of running the printed examples.")
    private Path image;

    @Option(names = "--out", paramLabel = "DIR",
            description = "Where --image writes its PNG files (created if missing; default: conv4j-demo).")
    private Path outDir;

    @Option(names = "--max-size", paramLabel = "PIXELS",
            description = "Scale a larger picture down so its longer side is at most this (default: 1024; 128"
                    + " with --learn).")
    private Integer maxSize;

    @Option(names = "--learn",
            description = {"Train a 3x3 filter from random weights instead: to the tutorial's vertical-line detector"
                + " on random 8x8 images, or with --image to Sobel x on the picture (writes the learned and the"
                + " hand-made kernel and map as PNG files). The last line is the largest |learned - hand-made|.",
                "Exit status 1 if the line detector is not recovered to within 1e-3."})
    private boolean learn;

    /** One computed output and the backend that produced it. */
    private record Run(Backend backend, float[] output) {
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (image == null && outDir != null) {
            throw new CliException("--out needs --image FILE");
        }
        int size = maxSize != null ? maxSize : learn ? 128 : 1024;
        if (size < 3) {
            throw new CliException("--max-size must be at least 3, got " + size);
        }
        if (learn) {
            if (image != null) {
                LearnDemo.sobel(out, image, outDir != null ? outDir : Path.of("conv4j-demo"), size, null, 1);
                return Main.EXIT_OK;
            }
            return LearnDemo.lineDetector(out, null, 1) < 1e-3 ? Main.EXIT_OK : Main.EXIT_FAILURE;
        }
        if (image != null) {
            ImageDemo.run(out, image, outDir != null ? outDir : Path.of("conv4j-demo"), size, null);
            return Main.EXIT_OK;
        }
        List<Backend> backends = new ArrayList<>();
        out.println("conv4j demo: the two worked examples of the classic convolution tutorial");
        out.println("(Keras semantics, padding 'valid', bias 0), computed by each available backend.");
        if (Conv4j.nativeAvailable()) {
            backends.add(Backend.NATIVE);
            out.println("backends: native (ISA " + Conv4j.activeIsa() + ", " + Conv4j.maxThreads()
                    + " threads) and java");
        } else {
            out.println("native backend unavailable: " + Main.oneLine(Conv4j.nativeLoadError()));
            out.println("showing the Java backend only.");
        }
        backends.add(Backend.JAVA);
        out.println();

        boolean ok = conv1d(out, backends);
        out.println();
        ok &= conv2d(out, backends);
        out.println();
        ok &= TutorialExamples.run(out, backends);
        out.println();
        ok &= transposed(out, backends);
        out.println();
        out.println(ok ? "demo: all results match the tutorial." : "demo: FAILED, see above.");
        return ok ? Main.EXIT_OK : Main.EXIT_FAILURE;
    }

    private static boolean conv1d(PrintWriter out, List<Backend> backends) {
        float[] input = {0, 0, 0, 1, 1, 0, 0, 0};
        float[] kernel = {0, 1, 0};
        float[] expected = {0, 0, 1, 1, 0, 0};
        int[] inputShape = {1, 8, 1};

        out.println("Example 1: Conv1D, the line detector [0, 1, 0] on a sequence of 8");
        out.println("  input  " + Arrays.toString(inputShape) + ":  " + Grids.row(input, 0, input.length, 1));
        out.println("  kernel [3, 1, 1]:  " + Grids.row(kernel, 0, kernel.length, 1));
        out.println("  bias   [1]:        0");
        List<Run> runs = new ArrayList<>();
        for (Backend backend : backends) {
            runs.add(new Run(backend, predict(1, backend, new int[] {3}, kernel, input, inputShape)));
        }
        out.println("  output [1, 6, 1]:");
        for (Run run : runs) {
            out.printf("    %-7s %s%n", run.backend().cliName() + ":", Grids.row(run.output(), 0, run.output().length, 1));
        }
        out.println("  printed as the tutorial prints model.predict(data):");
        float[] first = runs.get(0).output();
        for (int i = 0; i < first.length; i++) {
            String open = i == 0 ? "[[[" : "  [";
            String close = i == first.length - 1 ? "]]]" : "]";
            out.println("  " + open + Grids.numpyFloat(first[i]) + close);
        }
        return verdict(out, runs, expected);
    }

    private static boolean conv2d(PrintWriter out, List<Backend> backends) {
        int size = 8;
        float[] image = new float[size * size];
        for (int r = 0; r < size; r++) {
            image[r * size + 3] = 1;
            image[r * size + 4] = 1;
        }
        // Keras layout [3, 3, 1, 1] with one in- and out-channel is just the 3x3 matrix, row-major.
        float[] kernel = {0, 1, 0, 0, 1, 0, 0, 1, 0};
        float[] expected = new float[36];
        for (int r = 0; r < 6; r++) {
            expected[r * 6 + 2] = 3;
            expected[r * 6 + 3] = 3;
        }
        int[] inputShape = {1, size, size, 1};

        out.println("Example 2: Conv2D, a 3x3 vertical line detector on an 8x8 image with a vertical line");
        out.println("  input [1, 8, 8, 1]:");
        Grids.matrix(image, size, size).forEach(line -> out.println("    " + line));
        out.println("  kernel [3, 3, 1, 1]:");
        Grids.matrix(kernel, 3, 3).forEach(line -> out.println("    " + line));
        out.println("  bias [1]: 0");
        List<Run> runs = new ArrayList<>();
        for (Backend backend : backends) {
            runs.add(new Run(backend, predict(2, backend, new int[] {3, 3}, kernel, image, inputShape)));
        }
        out.println("  output [1, 6, 6, 1]:");
        List<List<String>> grids = new ArrayList<>();
        StringBuilder heading = new StringBuilder("   ");
        for (Run run : runs) {
            List<String> grid = Grids.matrix(run.output(), 6, 6);
            grids.add(grid);
            heading.append(String.format(" %-" + (grid.get(0).length() + 4) + "s", run.backend().cliName()));
        }
        out.println(heading.toString().stripTrailing());
        for (int r = 0; r < 6; r++) {
            StringBuilder line = new StringBuilder("   ");
            for (List<String> grid : grids) {
                line.append(' ').append(grid.get(r)).append("    ");
            }
            out.println(line.toString().stripTrailing());
        }
        out.println("  printed as the tutorial prints it, one Python list per row:");
        float[] first = runs.get(0).output();
        for (int r = 0; r < 6; r++) {
            List<String> cells = new ArrayList<>();
            for (int c = 0; c < 6; c++) {
                cells.add(Grids.pythonFloat(first[r * 6 + c]));
            }
            out.println("  [" + String.join(", ", cells) + "]");
        }
        return verdict(out, runs, expected);
    }

    private static float[] predict(int rank, Backend backend, int[] kernelSize, float[] kernel,
                                   float[] input, int[] inputShape) {
        try (ConvLayer layer = ConvLayer.builder(rank)
                .filters(1)
                .kernelSize(kernelSize)
                .padding(Padding.VALID)
                .useBias(true)
                .backend(backend)
                .build()) {
            layer.setWeights(kernel, new float[] {0f});
            return layer.predict(input, inputShape);
        }
    }

    /** Prints whether every backend produced the tutorial's answer and whether they agree. */
    /** Conv2DTranspose with a 2x2 kernel of ones and strides 2: each pixel becomes a 2x2 block. */
    private static boolean transposed(PrintWriter out, List<Backend> backends) {
        float[] input = {1, 2, 3, 4};
        float[] expected = new float[16];
        for (int i = 0; i < 16; i++) {
            expected[i] = input[i / 8 * 2 + i % 4 / 2];
        }
        out.println("Example 6: Conv2DTranspose(filters=1, kernel_size=2, strides=2), kernel all ones: upsampling");
        out.println("  input [1, 2, 2, 1]:");
        Grids.matrix(input, 2, 2).forEach(l -> out.println("    " + l));
        List<Run> runs = new ArrayList<>();
        for (Backend backend : backends) {
            try (Conv2DTranspose up = Conv2DTranspose.builder().filters(1).kernelSize(2).strides(2).backend(backend)
                    .build()) {
                up.setWeights(new float[] {1, 1, 1, 1}, new float[] {0});
                runs.add(new Run(backend, up.predict(input, 1, 2, 2, 1)));
            } catch (NativeUnsupportedException e) {
                out.println("  " + backend.cliName() + ": " + Main.oneLine(e.getMessage()));
            }
        }
        out.println("  output [1, 4, 4, 1] (" + runs.get(0).backend().cliName() + "):");
        Grids.matrix(runs.get(0).output(), 4, 4).forEach(l -> out.println("    " + l));
        boolean ok = runs.stream().allMatch(run -> Arrays.equals(run.output(), expected));
        if (runs.size() > 1) {
            out.println("  native and java give the same output: " + (ok ? "yes" : "NO"));
        }
        out.println("  each value fills its 2x2 block: " + (ok ? "yes" : "NO"));
        return ok;
    }

    private static boolean verdict(PrintWriter out, List<Run> runs, float[] expected) {
        boolean allMatch = true;
        for (Run run : runs) {
            if (!Arrays.equals(run.output(), expected)) {
                allMatch = false;
                out.println("  " + run.backend().cliName() + " result differs from the tutorial's answer "
                        + Arrays.toString(expected));
            }
        }
        boolean agree = true;
        if (runs.size() > 1) {
            float[] a = runs.get(0).output();
            float[] b = runs.get(1).output();
            agree = Arrays.equals(a, b);
            out.println("  backends agree: " + (agree ? "yes (identical output)"
                    : "NO, max |native - java| = " + maxAbsDiff(a, b)));
        }
        out.println("  matches the tutorial's answer: " + (allMatch ? "yes" : "NO"));
        return allMatch && agree;
    }

    private static String maxAbsDiff(float[] a, float[] b) {
        if (a.length != b.length) {
            return "n/a (lengths " + a.length + " and " + b.length + ")";
        }
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs((double) a[i] - b[i]));
        }
        return Double.toString(max);
    }
}
