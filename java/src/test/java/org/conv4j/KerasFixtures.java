package org.conv4j;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The Keras fixtures of tools/keras/make_conv_family_fixtures.py (test resources
 * org/conv4j/keras/*.txt), and the conv4j layer each one describes.
 */
final class KerasFixtures {
    private KerasFixtures() {}

    record Tensor(int[] shape, double[] values) {
        float[] floats() {
            float[] f = new float[values.length];
            for (int i = 0; i < f.length; i++) {
                f[i] = (float) values[i];
            }
            return f;
        }
    }

    /** A fixture: a case (tensors set) or a refusal (inputShape and message set). */
    record Fixture(String name, String layer, int rank, Map<String, String> config, long params,
                   Map<String, Tensor> tensors, int[] inputShape, String message) {
        boolean refusal() {
            return message != null;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    static List<Fixture> all() {
        try {
            Path dir = Path.of(KerasFixtures.class.getResource("keras").toURI());
            List<Fixture> out = new ArrayList<>();
            try (Stream<Path> files = Files.list(dir)) {
                for (Path p : files.sorted().toList()) {
                    out.addAll(parse(Files.readAllLines(p)));
                }
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static List<Fixture> parse(List<String> lines) {
        List<Fixture> out = new ArrayList<>();
        String name = null, layer = null, message = null;
        int rank = 0;
        long params = -1;
        int[] inputShape = null;
        Map<String, String> config = new HashMap<>();
        Map<String, Tensor> tensors = new HashMap<>();
        for (String line : lines) {
            if (line.startsWith("#") || line.isBlank()) {
                continue;
            }
            String[] w = line.split(" ", 2);
            String rest = w.length > 1 ? w[1] : "";
            switch (w[0]) {
                case "case", "refusal" -> {
                    name = rest;
                    layer = message = null;
                    params = -1;
                    inputShape = null;
                    config = new HashMap<>();
                    tensors = new HashMap<>();
                }
                case "layer" -> layer = rest;
                case "rank" -> rank = Integer.parseInt(rest);
                case "params" -> params = Long.parseLong(rest);
                case "via" -> { }
                case "input_shape" -> inputShape = ints(rest);
                case "message" -> message = rest;
                case "config" -> {
                    for (String kv : rest.split(" ")) {
                        int eq = kv.indexOf('=');
                        config.put(kv.substring(0, eq), kv.substring(eq + 1));
                    }
                }
                case "tensor" -> {
                    String[] t = rest.split(" ");
                    double[] v = new double[t.length - 2];
                    for (int i = 0; i < v.length; i++) {
                        v[i] = Double.parseDouble(t[i + 2]);
                    }
                    tensors.put(t[0], new Tensor(ints(t[1]), v));
                }
                case "end" -> out.add(new Fixture(name, layer, rank, config, params, tensors, inputShape, message));
                default -> throw new IllegalStateException("unknown fixture line: " + line);
            }
        }
        return out;
    }

    static int[] ints(String csv) {
        return Arrays.stream(csv.split(",")).mapToInt(Integer::parseInt).toArray();
    }

    /** The fixture's layer: a {@link ConvLayer} or a {@link SeparableConv}, weights not set. */
    static AutoCloseable build(Fixture f, Backend backend) {
        Map<String, String> c = f.config();
        int[] kernel = ints(c.get("kernel_size"));
        boolean first = "channels_first".equals(c.get("data_format"));
        int cin = f.inputShape() != null ? (first ? f.inputShape()[1] : f.inputShape()[f.rank() + 1])
                : (first ? f.tensors().get("input").shape()[1] : f.tensors().get("input").shape()[f.rank() + 1]);
        ConvLayer.AbstractBuilder<?> b = switch (f.layer()) {
            case "conv" -> ConvLayer.builder(f.rank()).filters(Integer.parseInt(c.get("filters")));
            case "conv_transpose" -> {
                ConvLayer.TransposeBuilder<?> t = switch (f.rank()) {
                    case 1 -> Conv1DTranspose.builder();
                    case 2 -> Conv2DTranspose.builder();
                    default -> Conv3DTranspose.builder();
                };
                if (c.containsKey("output_padding") && !c.get("output_padding").equals("none")) {
                    t.outputPadding(ints(c.get("output_padding")));
                }
                yield t.filters(Integer.parseInt(c.get("filters")));
            }
            case "depthwise" -> (f.rank() == 1 ? DepthwiseConv1D.builder() : DepthwiseConv2D.builder())
                    .depthMultiplier(Integer.parseInt(c.getOrDefault("depth_multiplier", "1"))).inputChannels(cin);
            case "separable" -> (f.rank() == 1 ? SeparableConv1D.builder() : SeparableConv2D.builder())
                    .depthMultiplier(Integer.parseInt(c.getOrDefault("depth_multiplier", "1"))).inputChannels(cin)
                    .filters(Integer.parseInt(c.get("filters")));
            default -> throw new IllegalStateException(f.layer());
        };
        b.kernelSize(kernel).backend(backend).threads(2);
        if (c.containsKey("strides")) {
            b.strides(ints(c.get("strides")));
        }
        if (c.containsKey("dilation_rate")) {
            b.dilationRate(ints(c.get("dilation_rate")));
        }
        if (c.containsKey("groups")) {
            b.groups(Integer.parseInt(c.get("groups")));
        }
        String padding = c.getOrDefault("padding", "valid");
        if (padding.equals("explicit")) {
            int[] pads = ints(c.get("pads"));
            int[] before = new int[pads.length / 2], after = new int[pads.length / 2];
            for (int i = 0; i < before.length; i++) {
                before[i] = pads[2 * i];
                after[i] = pads[2 * i + 1];
            }
            b.padding(Padding.explicit(before, after));
        } else {
            b.padding(Padding.parse(padding));
        }
        b.useBias(!"false".equals(c.get("use_bias")));
        b.activation("relu".equals(c.get("activation")) ? Activation.RELU : Activation.NONE);
        b.dataFormat(DataFormat.parse(c.getOrDefault("data_format", "channels_last")));
        if (b instanceof SeparableConv.Builder<?> s) {
            return f.rank() == 1 ? ((SeparableConv1D.Builder) s).build() : ((SeparableConv2D.Builder) s).build();
        }
        return switch (f.layer()) {
            case "conv" -> ((ConvLayer.Builder) b).build();
            case "conv_transpose" -> switch (f.rank()) {
                case 1 -> ((Conv1DTranspose.Builder) b).build();
                case 2 -> ((Conv2DTranspose.Builder) b).build();
                default -> ((Conv3DTranspose.Builder) b).build();
            };
            default -> f.rank() == 1 ? ((DepthwiseConv1D.Builder) b).build() : ((DepthwiseConv2D.Builder) b).build();
        };
    }
}
