package org.conv4j.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.conv4j.Activation;
import org.conv4j.Algorithm;
import org.conv4j.Backend;
import org.conv4j.ConvLayer;
import org.conv4j.DataFormat;
import org.conv4j.Padding;
import org.conv4j.cli.npy.Npy;
import org.conv4j.cli.npy.NpyArray;
import picocli.CommandLine.Option;

/** The options and files of one layer, shared by {@code conv} and {@code grad}. */
abstract class LayerCommand {
    @Option(names = "--rank", required = true, paramLabel = "1|2", description = "1 for Conv1D, 2 for Conv2D.")
    int rank;

    @Option(names = "--input", required = true, paramLabel = "FILE",
            description = "Input .npy: [N, L, C] / [N, H, W, C] (channels_last) or [N, C, L] / [N, C, H, W].")
    Path input;

    @Option(names = "--kernel", required = true, paramLabel = "FILE", description = "Kernel .npy in Keras layout.")
    Path kernel;

    @Option(names = "--bias", paramLabel = "FILE", description = "Bias .npy, 1-D with one value per filter (default: no bias).")
    Path bias;

    @Option(names = "--strides", paramLabel = "S[,S]", description = "One value per spatial axis (default: 1).")
    String strides;

    @Option(names = "--padding", paramLabel = "valid|same|causal", defaultValue = "valid",
            description = "Default: ${DEFAULT-VALUE}.")
    Padding padding;

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
     * Checks the options and the output files (before the expensive work), reads --input, --kernel
     * and --bias, checks their ranks and builds the layer with the kernel set.
     */
    Loaded load(Path... outputs) {
        if (rank != 1 && rank != 2) {
            throw new CliException("--rank must be 1 or 2, got " + rank);
        }
        int[] strideValues = tuple("--strides", strides);
        int[] dilationValues = tuple("--dilation", dilation);
        for (Path p : outputs) {
            if (p != null) {
                AtomicFiles.checkWritableTarget(p);
            }
        }
        NpyArray x = read("--input", input);
        NpyArray k = read("--kernel", kernel);
        NpyArray b = bias == null ? null : read("--bias", bias);
        checkRanks(x, k, b);
        ConvLayer layer = ConvLayer.builder(rank)
                .filters(k.dim(rank + 1))
                .kernelSize(Arrays.copyOf(k.shape(), rank))
                .strides(strideValues)
                .padding(padding)
                .dilationRate(dilationValues)
                .groups(groups)
                .useBias(b != null)
                .activation(activation)
                .dataFormat(dataFormat)
                .algorithm(algorithm)
                .backend(backend) // null: the library's default
                .build();
        try {
            layer.setWeights(k.data(), k.shape(), b == null ? null : b.data());
            layer.outputShape(x.shape()); // validates the input against the layer
        } catch (RuntimeException e) {
            layer.close();
            throw e;
        }
        return new Loaded(x, layer);
    }

    /** The input and the layer (which the caller closes). */
    record Loaded(NpyArray input, ConvLayer layer) {
    }

    /** "2" or "2,3" into one int per spatial axis; whether the values are allowed is the library's call. */
    int[] tuple(String option, String text) {
        if (text == null) {
            int[] ones = new int[rank];
            Arrays.fill(ones, 1);
            return ones;
        }
        String[] parts = text.split(",", -1);
        if (parts.length != rank) {
            throw new CliException(option + " '" + text + "' has " + parts.length + " value"
                    + (parts.length == 1 ? "" : "s") + " but --rank " + rank + " needs " + rank
                    + (rank == 1 ? " (e.g. " + option + " 1)" : " (e.g. " + option + " 1,1)"));
        }
        int[] values = new int[rank];
        for (int i = 0; i < rank; i++) {
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

    void checkRanks(NpyArray x, NpyArray k, NpyArray b) {
        boolean last = dataFormat == DataFormat.CHANNELS_LAST;
        String inputAxes = rank == 1 ? (last ? "[N, L, C]" : "[N, C, L]") : (last ? "[N, H, W, C]" : "[N, C, H, W]");
        if (x.ndim() != rank + 2) {
            throw new CliException("--input has shape " + Npy.shapeText(x.shape()) + " but --rank " + rank
                    + " with " + dataFormat.kerasName() + " needs " + (rank + 2) + " dimensions " + inputAxes);
        }
        String kernelAxes = rank == 1 ? "[k, cin/groups, filters]" : "[kh, kw, cin/groups, filters]";
        if (k.ndim() != rank + 2) {
            throw new CliException("--kernel has shape " + Npy.shapeText(k.shape()) + " but --rank " + rank
                    + " needs " + (rank + 2) + " dimensions " + kernelAxes);
        }
        for (int d : k.shape()) {
            if (d < 1) {
                throw new CliException("--kernel has shape " + Npy.shapeText(k.shape()) + " with an empty dimension");
            }
        }
        int filters = k.dim(rank + 1);
        if (b != null && (b.ndim() != 1 || b.dim(0) != filters)) {
            throw new CliException("--bias has shape " + Npy.shapeText(b.shape()) + " but the kernel has "
                    + filters + " filter" + (filters == 1 ? "" : "s") + ", so it must be [" + filters + "]");
        }
    }
}
