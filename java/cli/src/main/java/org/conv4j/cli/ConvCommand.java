package org.conv4j.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.conv4j.ConvLayer;
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
            "Kernel shape: [k, cin/groups, filters] (rank 1) or [kh, kw, cin/groups, filters] (rank 2).",
            "On any error: exit status 2, one line on stderr, and no output file."})
final class ConvCommand extends LayerCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Option(names = "--output", required = true, paramLabel = "FILE", description = "Output .npy (float32, little-endian).")
    Path output;

    @Override
    public Integer call() throws IOException {
        Loaded loaded = load(output);
        NpyArray x = loaded.input();
        try (ConvLayer layer = loaded.layer()) {
            int[] outShape = layer.outputShape(x.shape());
            float[] y = layer.predict(x.data(), x.shape());
            NpyArray result = new NpyArray(y, outShape);
            AtomicFiles.write(output, channel -> Npy.write(channel, result));
            spec.commandLine().getOut().println("wrote " + output + " " + Npy.shapeText(outShape)
                    + " (" + layer.backend().cliName() + ", " + layer.algorithm(x.shape()) + ")");
        }
        return Main.EXIT_OK;
    }
}
