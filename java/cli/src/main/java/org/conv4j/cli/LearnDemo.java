package org.conv4j.cli;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.conv4j.Backend;
import org.conv4j.Conv2D;
import org.conv4j.Optimizer;
import org.conv4j.Sequential;
import org.conv4j.Trainer;

/**
 * {@code demo --learn}: the tutorial's point that filters are learned, not hand-made. A 3×3 filter
 * starts from random weights and is trained (mean squared error, SGD with momentum) to reproduce a
 * hand-made filter's output: the vertical-line detector on random 8×8 images, or with
 * {@code --image} Sobel x on a photograph. Both are linear least-squares problems with one exact
 * solution, so the learned kernel converges to the hand-made one.
 */
final class LearnDemo {
    /** Samples per epoch of the 8×8 demo. */
    static final int IMAGES = 64;
    static final int EPOCHS = 60;

    private LearnDemo() {
    }

    /** Prints the run; returns the largest |learned − tutorial| of the kernel. */
    static double lineDetector(PrintWriter out, Backend backend, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] images = new float[IMAGES * 64];
        for (int i = 0; i < images.length; i++) {
            images[i] = (float) r.nextDouble();
        }
        float[] targets;
        try (Conv2D detector = conv(backend)) {
            detector.setWeights(TutorialExamples.VERTICAL, new float[] {0});
            targets = detector.predict(images, IMAGES, 8, 8, 1);
        }
        out.println("conv4j demo --learn: a 3x3 filter learns the tutorial's vertical-line detector from examples");
        out.println("training data: " + IMAGES + " random 8x8 images (pixels uniform in [0, 1)); the target of each"
                + " is the detector's 6x6 output on it. The first of them:");
        TutorialExamples.printSideBySide(out, "image", Grids.matrix(rounded(images, 0, 64, 2), 8, 8),
                "detector output (target)", Grids.matrix(rounded(targets, 0, 36, 2), 6, 6));
        Conv2D layer = conv(backend);
        float[] start = new float[9];
        for (int i = 0; i < 9; i++) {
            start[i] = (float) (r.nextDouble() - 0.5);
        }
        layer.setWeights(start, new float[] {0});
        out.println("the filter starts from random weights (Conv2D(filters=1, kernel_size=3), bias 0, "
                + layer.backend().cliName() + " backend):");
        Grids.matrix(rounded(start, 0, 9, 2), 3, 3).forEach(l -> out.println("    " + l));
        out.println("training: mean squared error, SGD(learning_rate=0.1, momentum=0.9), batches of 8, "
                + EPOCHS + " epochs");
        float[] learned;
        float learnedBias;
        try (Sequential model = Sequential.builder().input(8, 8, 1).add(layer).build();
             Trainer trainer = Trainer.builder(model).optimizer(Optimizer.sgd(0.1, 0.9)).seed(seed)
                     .progress(everyTenth(out)).build()) {
            trainer.fit(images, new int[] {IMAGES, 8, 8, 1}, targets, EPOCHS, 8);
            learned = layer.getWeights().kernel();
            learnedBias = layer.getWeights().bias()[0];
        }
        out.println("learned kernel (bias " + String.format(Locale.ROOT, "%.2g", learnedBias) + ") beside the"
                + " tutorial's:");
        TutorialExamples.printSideBySide(out, "learned", Grids.matrix(rounded(learned, 0, 9, 4), 3, 3),
                "tutorial", Grids.matrix(TutorialExamples.VERTICAL, 3, 3));
        double max = maxAbsDifference(learned, TutorialExamples.VERTICAL);
        out.println(String.format(Locale.ROOT, "largest |learned - tutorial| = %.3g", max));
        return max;
    }

    /** {@code demo --learn --image}: learns Sobel x from a photograph; returns the largest kernel difference. */
    static double sobel(PrintWriter out, Path imageFile, Path outDir, int maxSize, Backend backend, long seed)
            throws IOException {
        BufferedImage image = ImageDemo.fit(ImageDemo.prepare(imageFile, outDir), maxSize);
        int h = image.getHeight(), w = image.getWidth();
        if (w < 3 || h < 3) {
            throw new CliException("--image must be at least 3x3 pixels for 3x3 filters, got " + w + "x" + h);
        }
        float[] gray = ImageDemo.grayscale(image);
        // Standardized: Sobel sums to 0, so only the target's scale changes, and the problem gets
        // well conditioned (a photograph's mean would dominate the gradient otherwise).
        double mean = 0, square = 0;
        for (float v : gray) {
            mean += v;
            square += (double) v * v;
        }
        mean /= gray.length;
        double std = Math.sqrt(Math.max(square / gray.length - mean * mean, 1e-12));
        float[] x = new float[gray.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) ((gray[i] - mean) / std);
        }
        float[] target;
        try (Conv2D sobel = conv(backend)) {
            sobel.setWeights(ImageDemo.SOBEL_X, new float[] {0});
            target = sobel.predict(x, 1, h, w, 1);
        }
        out.println("conv4j demo --learn --image: a 3x3 filter learns Sobel x from " + imageFile + " (" + w + "x" + h
                + ", grayscale, standardized)");
        SplittableRandom r = new SplittableRandom(seed);
        float[] start = new float[9];
        for (int i = 0; i < 9; i++) {
            start[i] = (float) (r.nextDouble() - 0.5);
        }
        Conv2D layer = conv(backend);
        layer.setWeights(start, new float[] {0});
        int steps = 400;
        out.println("training: the whole picture per step, mean squared error against the Sobel x map,"
                + " SGD(learning_rate=0.05, momentum=0.9), " + steps + " steps");
        float[] learned;
        float[] map;
        try (Sequential model = Sequential.builder().input(h, w, 1).add(layer).build();
             Trainer trainer = Trainer.builder(model).optimizer(Optimizer.sgd(0.05, 0.9)).seed(seed)
                     .progress(every(out, 50)).build()) {
            trainer.fit(x, new int[] {1, h, w, 1}, target, steps, 1);
            learned = layer.getWeights().kernel();
            map = model.predict(x, 1, h, w, 1);
        }
        TutorialExamples.printSideBySide(out, "learned", Grids.matrix(rounded(learned, 0, 9, 4), 3, 3),
                "Sobel x", Grids.matrix(ImageDemo.SOBEL_X, 3, 3));
        Map<Path, BufferedImage> files = new LinkedHashMap<>();
        files.put(outDir.resolve("learned_kernel.png"), kernelImage(learned));
        files.put(outDir.resolve("sobel_x_kernel.png"), kernelImage(ImageDemo.SOBEL_X));
        files.put(outDir.resolve("learned_map.png"), ImageDemo.toImage(new ImageDemo.FeatureMap("learned", h - 2, w - 2,
                map)));
        files.put(outDir.resolve("sobel_x_map.png"), ImageDemo.toImage(new ImageDemo.FeatureMap("sobel_x", h - 2,
                w - 2, target)));
        ImageDemo.writePngs(files);
        out.println("wrote " + String.join(", ", files.keySet().stream().map(p -> p.getFileName().toString())
                .toList()) + " to " + outDir + " (kernels 3x3 drawn 32 px a cell on Sobel's scale -2 -> black,"
                + " 2 -> white; maps min -> black, max -> white)");
        double max = maxAbsDifference(learned, ImageDemo.SOBEL_X);
        out.println(String.format(Locale.ROOT, "largest |learned - Sobel x| = %.3g", max));
        return max;
    }

    private static Conv2D conv(Backend backend) {
        return Conv2D.builder().filters(1).kernelSize(3).backend(backend).build();
    }

    /** A 3×3 kernel as a 96×96 gray image, −2 → 0 and 2 → 255 (Sobel's range), clamped. */
    static BufferedImage kernelImage(float[] kernel) {
        int cell = 32;
        BufferedImage img = new BufferedImage(3 * cell, 3 * cell, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < 3 * cell; y++) {
            for (int x = 0; x < 3 * cell; x++) {
                double v = kernel[(y / cell) * 3 + x / cell];
                img.getRaster().setSample(x, y, 0, (int) Math.round(Math.max(0, Math.min(255, (v + 2) / 4 * 255))));
            }
        }
        return img;
    }

    private static java.util.function.Consumer<String> everyTenth(PrintWriter out) {
        return every(out, 10);
    }

    /** Prints the first epoch's line and every {@code n}-th. */
    private static java.util.function.Consumer<String> every(PrintWriter out, int n) {
        int[] count = {0};
        return line -> {
            if (++count[0] == 1 || count[0] % n == 0) {
                out.println("  " + line);
            }
        };
    }

    static double maxAbsDifference(float[] a, float[] b) {
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs((double) a[i] - b[i]));
        }
        return max;
    }

    /** Values rounded to {@code decimals} decimals for printing. */
    private static float[] rounded(float[] a, int from, int count, int decimals) {
        double scale = Math.pow(10, decimals);
        float[] r = new float[count];
        for (int i = 0; i < count; i++) {
            r[i] = (float) (Math.round(a[from + i] * scale) / scale);
        }
        return r;
    }
}
