package org.conv4j.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.conv4j.Backend;
import org.conv4j.keras.KerasModel;

/**
 * End-to-end {@code predict} of a Keras model at several batch sizes: median ms per call (5 runs
 * after a warm-up, into caller arrays) and the share of time outside the convolution layers
 * (Conv*, DepthwiseConv*, Dense), from {@link KerasModel#profile}. The models and inputs come from
 * tools/keras/make_bench_models.py; TensorFlow's side is tools/keras/time_keras.py.
 *
 * <pre>
 * java -cp ... org.conv4j.bench.KerasBench MODEL.keras INPUT.npy THREADS [BACKEND] [SECONDS]
 * </pre>
 */
public final class KerasBench {
    private static final Set<String> CONVS = Set.of("Conv1D", "Conv2D", "DepthwiseConv1D", "DepthwiseConv2D", "Dense");

    private KerasBench() {
    }

    public static void main(String[] args) throws IOException {
        Path model = Path.of(args[0]);
        float[] all = readFloat32Npy(Path.of(args[1]));
        int threads = Integer.parseInt(args[2]);
        Backend backend = args.length > 3 ? Backend.parse(args[3]) : Backend.NATIVE;
        double seconds = args.length > 4 ? Double.parseDouble(args[4]) : 3;
        try (KerasModel m = KerasModel.load(model, backend, threads)) {
            int sample = Math.toIntExact(Arrays.stream(m.inputShapes().get(0)).asLongStream().reduce(1, (a, b) -> a * b));
            for (int batch : new int[] {1, 32}) {
                float[][] in = {Arrays.copyOf(all, sample * batch)};
                float[][] out = m.predict(in, batch);
                for (int i = 0; i < 20; i++) {
                    m.predict(in, batch, out);
                }
                double[] runs = new double[5];
                for (int r = 0; r < runs.length; r++) {
                    long t0 = System.nanoTime();
                    long n = 0;
                    while (System.nanoTime() - t0 < seconds / runs.length * 1e9) {
                        m.predict(in, batch, out);
                        n++;
                    }
                    runs[r] = (System.nanoTime() - t0) / 1e6 / n;
                }
                Arrays.sort(runs);
                Map<String, Long> profile = m.profile(in, batch, Math.max(3, (int) (0.5e3 / runs[2])));
                long total = profile.values().stream().mapToLong(Long::longValue).sum();
                long outside = profile.entrySet().stream().filter(e -> !CONVS.contains(e.getKey()))
                        .mapToLong(Map.Entry::getValue).sum();
                System.out.printf(Locale.ROOT, "%s batch %d threads %d %s: %.3f ms, outside convs %.0f%% %s%n",
                        model.getFileName(), batch, threads, backend.cliName(), runs[2], 100.0 * outside / total,
                        profile);
            }
        }
    }

    /** A little-endian float32 C-order .npy's data. */
    static float[] readFloat32Npy(Path file) throws IOException {
        byte[] b = Files.readAllBytes(file);
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        int headerLen = b[6] == 1 ? bb.getShort(8) & 0xffff : bb.getInt(8);
        int start = (b[6] == 1 ? 10 : 12) + headerLen;
        String header = new String(b, 0, start, StandardCharsets.ISO_8859_1);
        if (!header.contains("'<f4'") || header.contains("'fortran_order': True")) {
            throw new IOException(file + ": not a little-endian float32 C-order .npy");
        }
        float[] f = new float[(b.length - start) / 4];
        bb.position(start).asFloatBuffer().get(f);
        return f;
    }
}
