package org.conv4j.keras;

import com.google.gson.JsonObject;
import io.jhdf.HdfFile;
import io.jhdf.api.Attribute;
import io.jhdf.api.Dataset;
import io.jhdf.api.Group;
import io.jhdf.api.Node;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * The two file layouts: a Keras 3 {@code .keras} zip ({@code config.json} + {@code model.weights.h5},
 * weights under {@code layers/<class-derived name>/vars/<i>}) and a legacy {@code .h5}
 * ({@code model_config} attribute, weights under {@code model_weights/<layer name>/} listed by the
 * {@code weight_names} attribute). Sizes read from the file are never trusted: zip entries are
 * inflated with a cap, and every dataset's shape is checked against what the config implies before
 * its data is read.
 */
final class KerasFile implements AutoCloseable {
    /** Caps for the zip: entries listed, config.json, the weights file, and inflated bytes in all. */
    static final int MAX_ZIP_ENTRIES = 10_000;
    static final int MAX_CONFIG_BYTES = 64 << 20;
    static final long MAX_WEIGHTS_BYTES = Integer.MAX_VALUE - 64;
    /** Inflated bytes may exceed the zip's size by at most this factor (plus 1 MiB): zip bombs stop here. */
    static final int MAX_INFLATION_RATIO = 100;

    final String label; // the file's name, for messages
    final JsonObject model; // {"class_name": ..., "config": {...}}
    final boolean zipped;
    /** Written by Keras 2 (keras_version 2.x): its hard_sigmoid differs from Keras 3's. */
    final boolean keras2;
    private final HdfFile hdf;
    private final long hdfBytes;

    private KerasFile(String label, JsonObject model, boolean zipped, String kerasVersion, HdfFile hdf,
                      long hdfBytes) {
        this.label = label;
        this.model = model;
        this.zipped = zipped;
        this.keras2 = kerasVersion != null && kerasVersion.startsWith("2.");
        this.hdf = hdf;
        this.hdfBytes = hdfBytes;
    }

    static KerasFile open(Path path) throws KerasModelException {
        String label = String.valueOf(path.getFileName());
        if (!Files.isRegularFile(path)) {
            throw new KerasModelException(label + ": no such file");
        }
        byte[] head = new byte[8];
        long size;
        try (InputStream in = Files.newInputStream(path)) {
            size = Files.size(path);
            int n = in.readNBytes(head, 0, 8);
            if (n < 4) {
                throw new KerasModelException(label + ": file too short (" + n + " bytes) for a .keras or .h5 model");
            }
        } catch (KerasModelException e) {
            throw e;
        } catch (IOException e) {
            throw new KerasModelException(label + ": cannot read: " + e.getMessage(), e);
        }
        if (head[0] == 'P' && head[1] == 'K') {
            return openZip(path, label, size);
        }
        if ((head[0] & 0xff) == 0x89 && head[1] == 'H' && head[2] == 'D' && head[3] == 'F') {
            return openH5(path, label);
        }
        throw new KerasModelException(label + ": neither a .keras zip nor an HDF5 .h5 file (it starts with "
                + Arrays.toString(Arrays.copyOf(head, 4)) + ")");
    }

    private static KerasFile openZip(Path path, String label, long size) throws KerasModelException {
        long budget = Math.min(Long.MAX_VALUE / 2, size * MAX_INFLATION_RATIO + (1 << 20));
        long[] inflated = {0};
        byte[] config = null;
        byte[] weights = null;
        byte[] metadata = null;
        try (ZipFile zip = new ZipFile(path.toFile())) {
            int entries = 0;
            Enumeration<? extends ZipEntry> all = zip.entries();
            while (all.hasMoreElements()) {
                ZipEntry e = all.nextElement();
                if (++entries > MAX_ZIP_ENTRIES) {
                    throw new KerasModelException(label + ": more than " + MAX_ZIP_ENTRIES + " zip entries");
                }
                String name = e.getName();
                if (name.equals("config.json")) {
                    config = read(zip, e, label, MAX_CONFIG_BYTES, budget, inflated);
                } else if (name.equals("model.weights.h5")) {
                    weights = read(zip, e, label, MAX_WEIGHTS_BYTES, budget, inflated);
                } else if (name.equals("metadata.json")) {
                    metadata = read(zip, e, label, 1 << 20, budget, inflated);
                }
            }
        } catch (KerasModelException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new KerasModelException(label + ": not a readable .keras zip: " + e.getMessage(), e);
        }
        if (config == null) {
            throw new KerasModelException(label + ": the .keras zip has no config.json");
        }
        JsonObject model = Json.parse(new String(config, StandardCharsets.UTF_8), label + " config.json");
        if (weights == null) {
            throw new KerasModelException(label + ": the .keras zip has no model.weights.h5");
        }
        String version = null;
        if (metadata != null) {
            JsonObject meta = Json.parse(new String(metadata, StandardCharsets.UTF_8), label + " metadata.json");
            version = Json.string(meta, "keras_version", null, label + " metadata.json");
        }
        byte[] h5 = weights;
        HdfFile hdf = hdf(() -> HdfFile.fromBytes(h5), label + " model.weights.h5");
        return new KerasFile(label, model, true, version, hdf, h5.length);
    }

    /** Inflates one entry, counting real bytes (the declared size may lie) against both caps. */
    private static byte[] read(ZipFile zip, ZipEntry e, String label, long cap, long budget, long[] inflated)
            throws IOException {
        try (InputStream in = zip.getInputStream(e)) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[1 << 16];
            long total = 0;
            int n;
            while ((n = in.read(buf)) > 0) {
                total += n;
                inflated[0] += n;
                if (total > cap) {
                    throw new KerasModelException(label + ": zip entry " + e.getName() + " inflates past " + cap
                            + " bytes");
                }
                if (inflated[0] > budget) {
                    throw new KerasModelException(label + ": zip entries inflate past " + budget + " bytes ("
                            + MAX_INFLATION_RATIO + "x the file): refused as a zip bomb");
                }
                out.write(buf, 0, n);
            }
            return out.toByteArray();
        }
    }

    private static KerasFile openH5(Path path, String label) throws KerasModelException {
        HdfFile hdf = hdf(() -> new HdfFile(path), label);
        try {
            String where = label + " (legacy .h5)";
            String config = stringAttribute(hdf, "model_config", where);
            if (config == null) {
                throw new KerasModelException(where + ": no model_config attribute: the file holds weights only;"
                        + " save the whole model (model.save) to load it here");
            }
            JsonObject model = Json.parse(config, where + " model_config");
            if (!(hdf(() -> hdf.getChild("model_weights"), where) instanceof Group)) {
                throw new KerasModelException(where + ": no model_weights group");
            }
            String version = stringAttribute(hdf, "keras_version", where);
            return new KerasFile(label, model, false, version, hdf, Files.size(path));
        } catch (KerasModelException e) {
            hdf.close();
            throw e;
        } catch (IOException e) {
            hdf.close();
            throw new KerasModelException(label + ": " + e.getMessage(), e);
        }
    }

    interface HdfCall<T> {
        T call() throws Exception;
    }

    /** Any failure inside the HDF5 reader (a malformed file trips many kinds) becomes one typed exception. */
    static <T> T hdf(HdfCall<T> call, String where) throws KerasModelException {
        try {
            return call.call();
        } catch (KerasModelException e) {
            throw e;
        } catch (Exception | StackOverflowError | OutOfMemoryError | AssertionError e) {
            throw new KerasModelException(where + ": malformed HDF5: " + e, e);
        }
    }

    private static String stringAttribute(Node node, String name, String where) throws KerasModelException {
        return hdf(() -> {
            Attribute a = node.getAttribute(name);
            if (a == null) {
                return null;
            }
            Object data = a.getData();
            if (data instanceof String s) {
                return s;
            }
            if (data instanceof String[] arr && arr.length == 1) {
                return arr[0];
            }
            throw new KerasModelException(where + ": attribute " + name + " is not a string");
        }, where);
    }

    /**
     * The weights of one layer, checked against the shapes the config implies.
     *
     * @param key the layer's class-derived key ({@code .keras}) or its name (legacy {@code .h5})
     */
    float[][] weights(String key, int[][] expected, String where) throws KerasModelException {
        String[] paths = zipped ? kerasPaths(key, where) : legacyPaths(key, where);
        if (paths.length != expected.length) {
            throw new KerasModelException(where + ": the weights file has " + paths.length + " arrays for it, the"
                    + " config implies " + expected.length + " (" + describe(expected) + ")");
        }
        float[][] out = new float[expected.length][];
        long budget = Math.max(hdfBytes, 0) * 4 + (1 << 20); // compressed datasets may inflate, not without bound
        for (int i = 0; i < paths.length; i++) {
            String path = paths[i];
            int[] shape = expected[i];
            String part = where + ": weights " + path;
            Dataset d = hdf(() -> hdf.getDatasetByPath(path), part);
            long[] dims = hdf(d::getDimensionsAsLong, part);
            if (dims.length != shape.length || !same(dims, shape)) {
                throw new KerasModelException(part + " has shape " + Arrays.toString(dims) + ", the config implies "
                        + Arrays.toString(shape));
            }
            Class<?> type = hdf(d::getJavaType, part);
            if (type != float.class) {
                throw new KerasModelException(part + " is " + type.getSimpleName() + ", not float32: only float32"
                        + " models are supported");
            }
            long count = Shapes.countLong(shape);
            if (count * 4 > budget) {
                throw new KerasModelException(part + " claims " + count + " floats, more than the file can hold");
            }
            Object flat = hdf(d::getDataFlat, part);
            if (!(flat instanceof float[] f) || f.length != count) {
                throw new KerasModelException(part + " did not read as " + count + " floats");
            }
            out[i] = f;
        }
        return out;
    }

    private static boolean same(long[] dims, int[] shape) {
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] != shape[i]) {
                return false;
            }
        }
        return true;
    }

    private static String describe(int[][] shapes) {
        StringBuilder sb = new StringBuilder();
        for (int[] s : shapes) {
            sb.append(sb.length() == 0 ? "" : ", ").append(Arrays.toString(s));
        }
        return shapes.length == 0 ? "none" : sb.toString();
    }

    private String[] kerasPaths(String key, String where) throws KerasModelException {
        String base = "layers/" + key + "/vars";
        Node vars = hdf(() -> hdf.getByPath(base), where + ": weights group " + base);
        if (!(vars instanceof Group g)) {
            throw new KerasModelException(where + ": weights group " + base + " is missing");
        }
        int n = hdf(() -> g.getChildren().size(), where + ": weights group " + base);
        String[] out = new String[n];
        for (int i = 0; i < n; i++) {
            out[i] = base + "/" + i;
        }
        return out;
    }

    private String[] legacyPaths(String name, String where) throws KerasModelException {
        String base = "model_weights/" + name;
        Node group = hdf(() -> hdf.getByPath(base), where + ": weights group " + base);
        String part = where + ": " + base + " attribute weight_names";
        Object names = hdf(() -> {
            Attribute a = group.getAttribute("weight_names");
            return a == null ? null : a.getData();
        }, part);
        if (names == null) {
            throw new KerasModelException(part + " is missing");
        }
        if (names instanceof String s) {
            names = new String[] {s};
        }
        if (!(names instanceof String[] list)) {
            // An empty list is stored as an empty float array.
            if (names.getClass().isArray() && java.lang.reflect.Array.getLength(names) == 0) {
                return new String[0];
            }
            throw new KerasModelException(part + " is not a list of strings");
        }
        String[] out = new String[list.length];
        for (int i = 0; i < list.length; i++) {
            out[i] = base + "/" + list[i];
        }
        return out;
    }

    @Override
    public void close() {
        try {
            hdf.close();
        } catch (RuntimeException ignored) {
            // Closing a reader of a malformed file must not hide the first error.
        }
    }
}
