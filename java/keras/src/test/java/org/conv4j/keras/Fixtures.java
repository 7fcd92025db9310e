package org.conv4j.keras;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** The Keras fixtures of tools/keras/make_model_fixtures.py: models, inputs and Keras' outputs. */
final class Fixtures {
    static final String[] MODELS = {"cnn2d", "tcn1d", "graph", "pool3d", "family"};

    private Fixtures() {
    }

    static Path dir() {
        try {
            return Path.of(Fixtures.class.getResource("/keras/cnn2d.keras").toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static Path file(String name) {
        return dir().resolve(name);
    }

    static int count(String prefix) {
        int n = 0;
        while (Files.exists(dir().resolve(prefix + n + (prefix.contains(".out") ? ".f32.npy" : ".npy")))) {
            n++;
        }
        return n;
    }

    /** A little-endian float32 or float64 C-order .npy as doubles, with its shape. */
    record Npy(int[] shape, double[] data) {
        int batch() {
            return shape[0];
        }
    }

    static Npy npy(String name) {
        try {
            byte[] b = Files.readAllBytes(file(name));
            ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
            int major = b[6];
            int headerLen = major == 1 ? bb.getShort(8) & 0xffff : bb.getInt(8);
            int start = (major == 1 ? 10 : 12) + headerLen;
            String header = new String(b, major == 1 ? 10 : 12, headerLen, StandardCharsets.ISO_8859_1);
            boolean f8 = header.contains("'<f8'");
            if (!f8 && !header.contains("'<f4'") || header.contains("'fortran_order': True")) {
                throw new IllegalStateException(name + ": unexpected header " + header);
            }
            String dims = header.substring(header.indexOf("'shape': (") + 10);
            dims = dims.substring(0, dims.indexOf(')'));
            String[] parts = dims.split(",");
            int k = 0;
            int[] shape = new int[parts.length];
            for (String p : parts) {
                if (!p.isBlank()) {
                    shape[k++] = Integer.parseInt(p.trim());
                }
            }
            shape = java.util.Arrays.copyOf(shape, k);
            int n = (b.length - start) / (f8 ? 8 : 4);
            double[] data = new double[n];
            for (int i = 0; i < n; i++) {
                data[i] = f8 ? bb.getDouble(start + 8 * i) : bb.getFloat(start + 4 * i);
            }
            return new Npy(shape, data);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static float[] floats(Npy a) {
        float[] f = new float[a.data().length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) a.data()[i];
        }
        return f;
    }
}
