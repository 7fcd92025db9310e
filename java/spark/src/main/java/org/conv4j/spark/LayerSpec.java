package org.conv4j.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.conv4j.Activation;
import org.conv4j.Algorithm;
import org.conv4j.Backend;
import org.conv4j.ConvConfig;
import org.conv4j.ConvLayer;
import org.conv4j.DataFormat;
import org.conv4j.Padding;

/**
 * The configuration of one conv4j layer as data: what {@link ConvLayer#builder(int)} takes, in a
 * form that serializes (to executors) and saves (as Keras-style JSON in a Spark ML param).
 * Nothing is validated here: {@link #build} hands every value to the library's builder, so a bad
 * value fails with the library's own message. Immutable.
 */
public final class LayerSpec implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final int rank;
    private final int filters;
    private final int[] kernelSize;
    private final int[] strides;
    private final int[] dilationRate;
    private final Padding padding;
    private final int groups;
    private final boolean useBias;
    private final Activation activation;
    private final DataFormat dataFormat;
    private final Algorithm algorithm;
    private final boolean winograd;
    private final Backend backend; // null: the executor's default (Conv4j.defaultBackend())

    LayerSpec(int rank, int filters, int[] kernelSize, int[] strides, int[] dilationRate, Padding padding,
              int groups, boolean useBias, Activation activation, DataFormat dataFormat, Algorithm algorithm,
              boolean winograd, Backend backend) {
        this.rank = rank;
        this.filters = filters;
        this.kernelSize = kernelSize == null ? null : kernelSize.clone();
        this.strides = strides == null ? null : strides.clone();
        this.dilationRate = dilationRate == null ? null : dilationRate.clone();
        this.padding = padding;
        this.groups = groups;
        this.useBias = useBias;
        this.activation = activation;
        this.dataFormat = dataFormat;
        this.algorithm = algorithm;
        this.winograd = winograd;
        this.backend = backend;
    }

    /**
     * The configuration of {@code layer}; its backend is kept only when {@code keepBackend} (else
     * each executor uses its default, native when it loads).
     */
    public static LayerSpec of(ConvLayer layer, boolean keepBackend) {
        ConvConfig c = layer.config();
        return new LayerSpec(c.rank(), c.filters(), c.kernelSize(), c.strides(), c.dilationRate(), c.padding(),
                c.groups(), c.useBias(), c.activation(), c.dataFormat(), c.algorithm(), c.winograd(),
                keepBackend ? layer.backend() : null);
    }

    public int rank() {
        return rank;
    }

    public DataFormat dataFormat() {
        return dataFormat;
    }

    /** Builds the layer through the library's builder (which validates), without weights. */
    public ConvLayer build(int threads) {
        ConvLayer.Builder b = ConvLayer.builder(rank).filters(filters).groups(groups).useBias(useBias);
        if (kernelSize != null) {
            b.kernelSize(kernelSize);
        }
        if (strides != null) {
            b.strides(strides);
        }
        if (dilationRate != null) {
            b.dilationRate(dilationRate);
        }
        return b.padding(padding).activation(activation).dataFormat(dataFormat).algorithm(algorithm)
                .winograd(winograd).backend(backend).threads(threads).build();
    }

    /** Keras-style JSON: a list of objects with class_name, filters, kernel_size, strides, .... */
    public static String toJson(List<LayerSpec> specs) {
        ArrayNode list = JSON.createArrayNode();
        for (LayerSpec s : specs) {
            ObjectNode o = list.addObject();
            o.put("class_name", "Conv" + s.rank + "D");
            o.put("filters", s.filters);
            putInts(o, "kernel_size", s.kernelSize);
            putInts(o, "strides", s.strides);
            putInts(o, "dilation_rate", s.dilationRate);
            o.put("padding", s.padding == null ? null : s.padding.kerasName());
            o.put("groups", s.groups);
            o.put("use_bias", s.useBias);
            o.put("activation", s.activation == null ? null : s.activation.kerasName());
            o.put("data_format", s.dataFormat == null ? null : s.dataFormat.kerasName());
            o.put("algorithm", s.algorithm == null ? null : s.algorithm.cliName());
            o.put("winograd", s.winograd);
            if (s.backend != null) {
                o.put("backend", s.backend.cliName());
            }
        }
        return list.toString();
    }

    private static void putInts(ObjectNode o, String name, int[] values) {
        if (values == null) {
            o.putNull(name);
        } else {
            ArrayNode a = o.putArray(name);
            for (int v : values) {
                a.add(v);
            }
        }
    }

    /**
     * Parses {@link #toJson} output. Missing keys take Keras' defaults (strides and dilation 1,
     * valid, groups 1, bias on, no activation, channels_last, algorithm auto, Winograd off as in the builder); enum spellings go
     * through the library's parsers, so their errors name the parameter.
     */
    public static List<LayerSpec> fromJson(String json) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (Exception e) {
            throw new IllegalArgumentException("layers must be a JSON list of layer configurations: "
                    + e.getMessage(), e);
        }
        if (root == null || !root.isArray() || root.size() == 0) {
            throw new IllegalArgumentException("layers must be a non-empty JSON list of layer configurations, got "
                    + json);
        }
        List<LayerSpec> specs = new ArrayList<>();
        for (JsonNode o : root) {
            if (!o.isObject()) {
                throw new IllegalArgumentException("each layer must be a JSON object, got " + o);
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = o.fields(); it.hasNext(); ) {
                String key = it.next().getKey();
                if (!KEYS.contains(key)) {
                    throw new IllegalArgumentException("unknown layer key '" + key + "'; known: " + KEYS);
                }
            }
            String className = o.path("class_name").asText("");
            int rank = switch (className) {
                case "Conv1D" -> 1;
                case "Conv2D" -> 2;
                default -> throw new IllegalArgumentException("class_name must be Conv1D or Conv2D, got '"
                        + className + "'");
            };
            specs.add(new LayerSpec(rank,
                    o.path("filters").asInt(0),
                    ints(o, "kernel_size", null),
                    ints(o, "strides", null),
                    ints(o, "dilation_rate", null),
                    Padding.parse(text(o, "padding", "valid")),
                    o.path("groups").asInt(1),
                    o.path("use_bias").asBoolean(true),
                    Activation.parse(text(o, "activation", "none")),
                    DataFormat.parse(text(o, "data_format", "channels_last")),
                    Algorithm.parse(text(o, "algorithm", "auto")),
                    o.path("winograd").asBoolean(false),
                    o.hasNonNull("backend") ? Backend.parse(o.get("backend").asText()) : null));
        }
        return specs;
    }

    private static final List<String> KEYS = List.of("class_name", "filters", "kernel_size", "strides",
            "dilation_rate", "padding", "groups", "use_bias", "activation", "data_format", "algorithm", "winograd",
            "backend");

    private static String text(JsonNode o, String key, String fallback) {
        return o.hasNonNull(key) ? o.get(key).asText() : fallback;
    }

    private static int[] ints(JsonNode o, String key, int[] fallback) {
        JsonNode a = o.get(key);
        if (a == null || a.isNull()) {
            return fallback;
        }
        if (a.isInt()) { // Keras allows one number for every axis
            return new int[] {a.asInt()};
        }
        if (!a.isArray()) {
            throw new IllegalArgumentException(key + " must be a number or a list of numbers, got " + a);
        }
        int[] v = new int[a.size()];
        for (int i = 0; i < v.length; i++) {
            if (!a.get(i).isInt()) {
                throw new IllegalArgumentException(key + " must hold integers, got " + a);
            }
            v[i] = a.get(i).asInt();
        }
        return v;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LayerSpec s && toJson(List.of(this)).equals(toJson(List.of(s)));
    }

    @Override
    public int hashCode() {
        return toJson(List.of(this)).hashCode();
    }

    @Override
    public String toString() {
        return "Conv" + rank + "D(filters=" + filters + ", kernel_size=" + Arrays.toString(kernelSize)
                + ", strides=" + Arrays.toString(strides) + ", padding=" + padding + ", dilation_rate="
                + Arrays.toString(dilationRate) + ", groups=" + groups + ", use_bias=" + useBias
                + ", activation=" + activation + ", data_format=" + dataFormat + ", algorithm=" + algorithm + ")";
    }
}
