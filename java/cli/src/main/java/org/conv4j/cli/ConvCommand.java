package org.conv4j.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import org.conv4j.Activation;
import org.conv4j.Algorithm;
import org.conv4j.Backend;
import org.conv4j.Conv1DTranspose;
import org.conv4j.Conv2DTranspose;
import org.conv4j.Conv3DTranspose;
import org.conv4j.ConvLayer;
import org.conv4j.DepthwiseConv1D;
import org.conv4j.DepthwiseConv2D;
import org.conv4j.SeparableConv;
import org.conv4j.SeparableConv1D;
import org.conv4j.SeparableConv2D;
import org.conv4j.DataFormat;
import org.conv4j.Padding;
import org.conv4j.cli.npy.Npy;
import org.conv4j.cli.npy.NpyArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** One convolution from .npy files to a .npy file. */
@Command(name = "conv",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Convolve a float32 .npy input with a kernel in Keras layout and write the float32 result.",
            "Kernels in the layout Keras stores for the --layer: conv [k..., cin/groups, filters],",
            "conv_transpose [k..., filters, cin], depthwise [k..., cin, multiplier], separable --kernel",
            "[k..., cin, multiplier] and --pointwise-kernel [1..., cin*multiplier, filters].",
            "On any error: exit status 2, one line on stderr, and no output file."})
final class ConvCommand extends LayerCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Option(names = "--output", required = true, paramLabel = "FILE", description = "Output .npy (float32, little-endian).")
    Path output;

    @Override
    public Integer call() throws IOException {
        try (Loaded loaded = load(output)) {
            NpyArray x = loaded.input();
            int[] outShape = loaded.outputShape();
            if (loaded.separable() != null) {
                SeparableConv layer = loaded.separable();
                write(layer.predict(x.data(), x.shape()), outShape, layer.backend().cliName() + ", separable");
            } else {
                ConvLayer layer = loaded.layer();
                write(layer.predict(x.data(), x.shape()), outShape,
                        layer.backend().cliName() + ", " + layer.algorithm(x.shape()));
            }
        }
        return Main.EXIT_OK;
    }

    private void write(float[] y, int[] outShape, String how) throws IOException {
        NpyArray result = new NpyArray(y, outShape);
        AtomicFiles.write(output, channel -> Npy.write(channel, result));
        spec.commandLine().getOut().println("wrote " + output + " " + Npy.shapeText(outShape) + " (" + how + ")");
    }
}
