package org.conv4j.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import org.conv4j.Backend;
import org.conv4j.Conv4j;
import org.conv4j.cli.npy.Npy;
import org.conv4j.cli.npy.NpyArray;
import org.conv4j.keras.KerasModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** A Keras model's prediction from .npy inputs to .npy outputs. */
@Command(name = "predict",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Run a Keras model (.keras or legacy .h5) on float32 .npy inputs and write its float32 outputs.",
            "Inputs in the model's input order, each [N, ...] channels_last with the same batch N;",
            "one --output per model output, in its output order.",
            "On any error: exit status 2, one line on stderr, and no output file."})
final class PredictCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "FILE", description = "The .keras or .h5 model.")
    Path model;

    @Option(names = "--input", required = true, paramLabel = "FILE", description = "Input .npy (repeat per model input).")
    List<Path> inputs;

    @Option(names = "--output", required = true, paramLabel = "FILE", description = "Output .npy (repeat per model output).")
    List<Path> outputs;

    @Option(names = "--backend", paramLabel = "native|java",
            description = "Default: native when its library loads, else java.")
    Backend backend;

    @Option(names = "--threads", paramLabel = "T", defaultValue = "0",
            description = "Threads per convolution (default: ${DEFAULT-VALUE} = all cores).")
    int threads;

    @Override
    public Integer call() throws IOException {
        if (threads < 0) {
            throw new CliException("--threads must be >= 0 (0 = all cores), got " + threads);
        }
        for (Path out : outputs) {
            AtomicFiles.checkWritableTarget(out);
        }
        if (outputs.stream().distinct().count() != outputs.size()) {
            throw new CliException("--output names the same file twice");
        }
        NpyArray[] xs = new NpyArray[inputs.size()];
        for (int i = 0; i < xs.length; i++) {
            xs[i] = LayerCommand.read("--input", inputs.get(i));
        }
        try (KerasModel m = KerasModel.load(model, backend == null ? Conv4j.defaultBackend() : backend, threads)) {
            List<int[]> shapes = m.inputShapes();
            if (xs.length != shapes.size()) {
                throw new CliException("the model takes " + shapes.size() + " input" + (shapes.size() == 1 ? "" : "s")
                        + " " + m.inputNames() + ", got " + xs.length + " --input");
            }
            if (outputs.size() != m.outputShapes().size()) {
                throw new CliException("the model has " + m.outputShapes().size() + " output"
                        + (m.outputShapes().size() == 1 ? "" : "s") + " " + m.outputNames() + ", got "
                        + outputs.size() + " --output");
            }
            int batch = -1;
            float[][] data = new float[xs.length][];
            for (int i = 0; i < xs.length; i++) {
                int[] s = xs[i].shape();
                int[] want = shapes.get(i);
                if (s.length != want.length + 1 || !Arrays.equals(Arrays.copyOfRange(s, 1, s.length), want)
                        || s[0] < 1) {
                    throw new CliException("--input " + inputs.get(i) + " has shape " + Npy.shapeText(s)
                            + " but model input '" + m.inputNames().get(i) + "' needs [N, " + join(want) + "]");
                }
                if (batch >= 0 && s[0] != batch) {
                    throw new CliException("--input " + inputs.get(i) + " has batch " + s[0] + " but the first has "
                            + batch);
                }
                batch = s[0];
                data[i] = xs[i].data();
            }
            float[][] ys = m.predict(data, batch);
            for (int j = 0; j < ys.length; j++) {
                int[] shape = new int[m.outputShapes().get(j).length + 1];
                shape[0] = batch;
                System.arraycopy(m.outputShapes().get(j), 0, shape, 1, shape.length - 1);
                NpyArray result = new NpyArray(ys[j], shape);
                AtomicFiles.write(outputs.get(j), channel -> Npy.write(channel, result));
                spec.commandLine().getOut().println("wrote " + outputs.get(j) + " " + Npy.shapeText(shape) + " ("
                        + m.outputNames().get(j) + ", " + m.backend().cliName() + ")");
            }
        }
        return Main.EXIT_OK;
    }

    private static String join(int[] a) {
        StringBuilder sb = new StringBuilder();
        for (int v : a) {
            sb.append(sb.length() == 0 ? "" : ", ").append(v);
        }
        return sb.toString();
    }
}
