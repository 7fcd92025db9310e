package org.conv4j.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.conv4j.Activation;
import org.conv4j.Algorithm;
import org.conv4j.Backend;
import org.conv4j.Conv1DTranspose;
import org.conv4j.Conv2DTranspose;
import org.conv4j.Conv3DTranspose;
import org.conv4j.ConvLayer;
import org.conv4j.DataFormat;
import org.conv4j.DepthwiseConv1D;
import org.conv4j.DepthwiseConv2D;
import org.conv4j.Padding;
import org.conv4j.SeparableConv;
import org.conv4j.SeparableConv1D;
import org.conv4j.SeparableConv2D;
import org.conv4j.cli.npy.Npy;
import org.conv4j.cli.npy.NpyArray;
import picocli.CommandLine.Option;

/** The options and files of one layer of the convolution family, shared by {@code conv} and {@code grad}. */
abstract class LayerCommand {
    /** The --layer values. */
    enum LayerKind { conv, conv_transpose, depthwise, separable }

    @Option(names = "--layer", paramLabel = "conv|conv_transpose|depthwise|separable", defaultValue = "conv",
            description = {"Keras layer: ConvND, ConvNDTranspose, DepthwiseConvND, SeparableConvND",
                "(default: ${DEFAULT-VALUE}). The depth multiplier is the depthwise kernel's last dimension."})
    LayerKind layerKind;

    @Option(names = "--rank", required = true, paramLabel = "1|2|3",
            description = "Spatial axes: 1, 2 or 3 (3: conv and conv_transpose only; lists take three numbers).")
    int rank;

    @Option(names = "--input", required = true, paramLabel = "FILE",
            description = "Input .npy: [N, L, C] / [N, H, W, C] (channels_last) or [N, C, L] / [N, C, H, W].")
    Path input;

    @Option(names = "--kernel", required = true, paramLabel = "FILE", description = "Kernel .npy in Keras layout.")
    Path kernel;

    @Option(names = "--pointwise-kernel", paramLabel = "FILE",
            description = "separable only: the pointwise kernel .npy [1..., cin*multiplier, filters].")
    Path pointwiseKernel;

    @Option(names = "--bias", paramLabel = "FILE", description = "Bias .npy, 1-D with one value per output channel (default: no bias).")
    Path bias;

    @Option(names = "--strides", paramLabel = "S[,S]", description = "One value per spatial axis (default: 1).")
    String strides;

    @Option(names = "--padding", paramLabel = "valid|same|causal|explicit", defaultValue = "valid",
            description = "Default: ${DEFAULT-VALUE}. explicit takes --pads.")
    String paddingName;

    @Option(names = "--pads", paramLabel = "B1,A1[,B2,A2...]",
            description = "With --padding explicit: zeros before and after each spatial axis (not for conv_transpose).")
    String pads;

    @Option(names = "--output-padding", paramLabel = "P[,P...]",
            description = "conv_transpose only: Keras output_padding, each below its stride (default: None).")
    String outputPadding;

    @Option(names = "--dilation", paramLabel = "D[,D]", description = "One value per spatial axis (default: 1).")
    String dilation;

    @Option(names = "--groups", paramLabel = "G", defaultValue = "1", description = "Default: ${DEFAULT-VALUE}.")
    int groups;

    @Option(names = "--activation", paramLabel = "none|relu", defaultValue = "none",
            description = "Default: ${DEFAULT-VALUE}.")
    Activation activation;

    @Option(names = "--data-format", paramLabel = "channels_last|channels_first", defaultValue = "channels_last",
            description = "Default: ${DEFAULT-VALUE}.")
    DataFormat dataFormat;

    @Option(names = "--backend", paramLabel = "native|java",
            description = "Default: native when its library loads, else java.")
    Backend backend;

    @Option(names = "--algorithm", paramLabel = "auto|gemm|winograd|direct|depthwise|reference", defaultValue = "auto",
            description = {"Native algorithm (default: ${DEFAULT-VALUE}, which never picks Winograd).",
                "winograd forces it: faster on 3x3 stride-1 layers with >= 16 channels, with its own error bound",
                "(README, Semantics); a forced algorithm that does not take the problem is an error."})
    Algorithm algorithm;

    /**
     * Checks the options and the output files (before the expensive work), reads --input, the kernels
     * and --bias, checks their shapes and builds the layer with its weights set.
     */
    Loaded load(Path... outputs) {
        if (rank < 1 || rank > 3) {
            throw new CliException("--rank must be 1, 2 or 3, got " + rank);
        }
        if (rank == 3 && (layerKind == LayerKind.depthwise || layerKind == LayerKind.separable)) {
            throw new CliException("--layer " + layerKind + " takes --rank 1 or 2 (Keras has no "
                    + (layerKind == LayerKind.depthwise ? "DepthwiseConv3D" : "SeparableConv3D") + "), got 3");
        }
        if (outputPadding != null && layerKind != LayerKind.conv_transpose) {
            throw new CliException("--output-padding is only for --layer conv_transpose, not " + layerKind);
        }
        if ((pointwiseKernel != null) != (layerKind == LayerKind.separable)) {
            throw new CliException(pointwiseKernel == null ? "--layer separable needs --pointwise-kernel"
                    : "--pointwise-kernel is only for --layer separable, not " + layerKind);
        }
        boolean explicit = paddingName.strip().equalsIgnoreCase("explicit");
        Padding padding;
        try {
            padding = explicit ? Padding.VALID : Padding.parse(paddingName);
        } catch (IllegalArgumentException e) {
            throw new CliException("--padding must be one of valid, same, causal, explicit, got '" + paddingName + "'");
        }
        if ((pads != null) != explicit) {
            throw new CliException(pads == null ? "--padding explicit needs --pads B1,A1,... (two per spatial axis)"
                    : "--pads needs --padding explicit, got --padding " + padding.kerasName());
        }
        int[] strideValues = tuple("--strides", strides, rank);
        int[] dilationValues = tuple("--dilation", dilation, rank);
        int[] padValues = pads == null ? null : tuple("--pads", pads, 2 * rank);
        int[] outputPaddingValues = outputPadding == null ? null : tuple("--output-padding", outputPadding, rank);
        for (Path o : outputs) {
            if (o != null) {
                AtomicFiles.checkWritableTarget(o);
            }
        }

        NpyArray x = read("--input", input);
        NpyArray k = read("--kernel", kernel);
        NpyArray p = pointwiseKernel == null ? null : read("--pointwise-kernel", pointwiseKernel);
        NpyArray b = bias == null ? null : read("--bias", bias);
        checkRanks(x, k, p, b);
        int[] kernelSize = Arrays.copyOf(k.shape(), rank);
        int cin = dataFormat == DataFormat.CHANNELS_LAST ? x.dim(rank + 1) : x.dim(1);

        ConvLayer.AbstractBuilder<?> builder = switch (layerKind) {
            case conv -> ConvLayer.builder(rank).filters(k.dim(rank + 1)).groups(groups);
            case conv_transpose -> {
                ConvLayer.TransposeBuilder<?> t = switch (rank) {
                    case 1 -> Conv1DTranspose.builder();
                    case 2 -> Conv2DTranspose.builder();
                    default -> Conv3DTranspose.builder();
                };
                if (outputPaddingValues != null) {
                    t.outputPadding(outputPaddingValues);
                }
                yield t.filters(k.dim(rank)).groups(groups);
            }
            case depthwise -> (rank == 1 ? DepthwiseConv1D.builder() : DepthwiseConv2D.builder())
                    .depthMultiplier(k.dim(rank + 1)).inputChannels(k.dim(rank)).groups(groups);
            case separable -> (rank == 1 ? SeparableConv1D.builder() : SeparableConv2D.builder())
                    .depthMultiplier(k.dim(rank + 1)).inputChannels(k.dim(rank)).filters(p.dim(rank + 1))
                    .groups(groups);
        };
        builder.kernelSize(kernelSize)
                .strides(strideValues)
                .dilationRate(dilationValues)
                .useBias(b != null)
                .activation(activation)
                .dataFormat(dataFormat)
                .algorithm(algorithm)
                .backend(backend); // null: the library's default
        if (padValues != null) {
            int[] before = new int[rank];
            int[] after = new int[rank];
            for (int i = 0; i < rank; i++) {
                before[i] = padValues[2 * i];
                after[i] = padValues[2 * i + 1];
            }
            builder.padding(Padding.explicit(before, after));
        } else {
            builder.padding(padding);
        }
        if (cin != k.dim(rank) && (layerKind == LayerKind.depthwise || layerKind == LayerKind.separable)) {
            throw new CliException("--input has " + cin + " channels but the " + layerKind + " kernel "
                    + Npy.shapeText(k.shape()) + " is for " + k.dim(rank) + " ([k..., cin, multiplier])");
        }
        if (layerKind == LayerKind.separable) {
            SeparableConv layer = rank == 1 ? ((SeparableConv1D.Builder) builder).build()
                    : ((SeparableConv2D.Builder) builder).build();
            try {
                layer.setWeights(k.data(), p.data(), b == null ? null : b.data());
                layer.outputShape(x.shape()); // validates the input against the layer
            } catch (RuntimeException ex) {
                layer.close();
                throw ex;
            }
            return new Loaded(x, k, p, null, layer);
        }
        ConvLayer layer = build(builder);
        try {
            layer.setWeights(k.data(), k.shape(), b == null ? null : b.data());
            layer.outputShape(x.shape()); // validates the input against the layer
        } catch (RuntimeException ex) {
            layer.close();
            throw ex;
        }
        return new Loaded(x, k, p, layer, null);
    }

    /**
     * The input, the kernels as read (p null unless separable) and the layer: {@code layer} or, for
     * --layer separable, {@code separable}; closing this closes it.
     */
    record Loaded(NpyArray input, NpyArray kernel, NpyArray pointwiseKernel, ConvLayer layer, SeparableConv separable)
            implements AutoCloseable {
        int[] outputShape() {
            return layer != null ? layer.outputShape(input.shape()) : separable.outputShape(input.shape());
        }

        @Override
        public void close() {
            if (layer != null) {
                layer.close();
            } else {
                separable.close();
            }
        }
    }

    private ConvLayer build(ConvLayer.AbstractBuilder<?> builder) {
        if (builder instanceof ConvLayer.Builder b) {
            return b.build();
        } else if (builder instanceof Conv1DTranspose.Builder b) {
            return b.build();
        } else if (builder instanceof Conv2DTranspose.Builder b) {
            return b.build();
        } else if (builder instanceof Conv3DTranspose.Builder b) {
            return b.build();
        } else if (builder instanceof DepthwiseConv1D.Builder b) {
            return b.build();
        }
        return ((DepthwiseConv2D.Builder) builder).build();
    }

    /** "2" or "2,3" into {@code n} ints; whether the values are allowed is the library's call. */
    int[] tuple(String option, String text, int n) {
        if (text == null) {
            int[] ones = new int[n];
            Arrays.fill(ones, 1);
            return ones;
        }
        String[] parts = text.split(",", -1);
        if (parts.length != n) {
            throw new CliException(option + " '" + text + "' has " + parts.length + " value"
                    + (parts.length == 1 ? "" : "s") + " but --rank " + rank + " needs " + n
                    + " (e.g. " + option + " " + String.join(",", java.util.Collections.nCopies(n, "1")) + ")");
        }
        int[] values = new int[n];
        for (int i = 0; i < n; i++) {
            try {
                values[i] = Integer.parseInt(parts[i].strip());
            } catch (NumberFormatException e) {
                throw new CliException(option + " '" + text + "': '" + parts[i].strip() + "' is not an integer");
            }
        }
        return values;
    }

    static NpyArray read(String option, Path file) {
        if (Files.isDirectory(file)) {
            throw new CliException(option + " " + file + ": is a directory, not a .npy file");
        }
        if (Files.exists(file) && !Files.isRegularFile(file)) {
            // A pipe would block the read forever; a device has no end.
            throw new CliException(option + " " + file + ": is not a regular file (a device, pipe or socket)");
        }
        try {
            return Npy.read(file);
        } catch (IOException e) {
            throw new CliException(option + " " + file + ": " + ErrorMessages.reasonForFile(e));
        }
    }

    private void checkRanks(NpyArray x, NpyArray k, NpyArray p, NpyArray b) {
        boolean last = dataFormat == DataFormat.CHANNELS_LAST;
        String spatial = rank == 1 ? "L" : rank == 2 ? "H, W" : "D, H, W";
        String inputAxes = last ? "[N, " + spatial + ", C]" : "[N, C, " + spatial + "]";
        if (x.ndim() != rank + 2) {
            throw new CliException("--input has shape " + Npy.shapeText(x.shape()) + " but --rank " + rank
                    + " with " + dataFormat.kerasName() + " needs " + (rank + 2) + " dimensions " + inputAxes);
        }
        String k0 = rank == 1 ? "k" : rank == 2 ? "kh, kw" : "kd, kh, kw";
        String kernelAxes = switch (layerKind) {
            case conv -> "[" + k0 + ", cin/groups, filters]";
            case conv_transpose -> "[" + k0 + ", filters, cin]";
            default -> "[" + k0 + ", cin, multiplier]";
        };
        requireShape("--kernel", k, kernelAxes);
        int outChannels = switch (layerKind) {
            case conv -> k.dim(rank + 1);
            case conv_transpose -> k.dim(rank);
            case depthwise -> k.dim(rank) * k.dim(rank + 1);
            case separable -> {
                requireShape("--pointwise-kernel", p, "[" + (rank == 1 ? "1" : "1, 1") + ", cin*multiplier, filters]");
                for (int i = 0; i < rank; i++) {
                    if (p.dim(i) != 1) {
                        throw new CliException("--pointwise-kernel has shape " + Npy.shapeText(p.shape())
                                + " but its spatial sizes must be 1");
                    }
                }
                if (p.dim(rank) != k.dim(rank) * k.dim(rank + 1)) {
                    throw new CliException("--pointwise-kernel has shape " + Npy.shapeText(p.shape()) + " but the"
                            + " depthwise kernel " + Npy.shapeText(k.shape()) + " gives " + k.dim(rank) * k.dim(rank + 1)
                            + " channels (cin*multiplier)");
                }
                yield p.dim(rank + 1);
            }
        };
        if (b != null && (b.ndim() != 1 || b.dim(0) != outChannels)) {
            throw new CliException("--bias has shape " + Npy.shapeText(b.shape()) + " but the layer has "
                    + outChannels + " output channel" + (outChannels == 1 ? "" : "s") + ", so it must be ["
                    + outChannels + "]");
        }
    }

    private void requireShape(String option, NpyArray a, String axes) {
        if (a.ndim() != rank + 2) {
            throw new CliException(option + " has shape " + Npy.shapeText(a.shape()) + " but --rank " + rank
                    + " needs " + (rank + 2) + " dimensions " + axes);
        }
        for (int d : a.shape()) {
            if (d < 1) {
                throw new CliException(option + " has shape " + Npy.shapeText(a.shape()) + " with an empty dimension");
            }
        }
    }
}
