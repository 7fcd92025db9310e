package org.conv4j.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.conv4j.SeparableConv;
import org.conv4j.Gradients;
import org.conv4j.cli.npy.Npy;
import org.conv4j.cli.npy.NpyArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** One layer's backward pass from .npy files to .npy files. */
@Command(name = "grad",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "The gradients of one convolution layer for an output gradient dL/dy: dL/dx, dL/dW (Keras layout)"
                + " and, with --bias-grad, dL/db; float32 .npy in and out. Layer flags as for conv (every --layer and"
                + " --rank); separable writes the depthwise kernel's gradient to --kernel-grad and the pointwise"
                + " one's to --pointwise-kernel-grad. With relu the"
                + " output gradient passes only where the layer's output is > 0.",
            "On any error: exit status 2, one line on stderr, and no output file."})
final class GradCommand extends LayerCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Option(names = "--output-grad", required = true, paramLabel = "FILE",
            description = "dL/dy .npy, the shape of the layer's output.")
    Path outputGrad;

    @Option(names = "--input-grad", required = true, paramLabel = "FILE", description = "dL/dx .npy to write.")
    Path inputGrad;

    @Option(names = "--kernel-grad", required = true, paramLabel = "FILE", description = "dL/dW .npy to write.")
    Path kernelGrad;

    @Option(names = "--bias-grad", paramLabel = "FILE", description = "dL/db .npy to write (needs --bias).")
    Path biasGrad;

    @Option(names = "--pointwise-kernel-grad", paramLabel = "FILE",
            description = "separable only (and required): the pointwise kernel's gradient .npy to write;"
                    + " --kernel-grad then holds the depthwise kernel's.")
    Path pointwiseKernelGrad;

    @Override
    public Integer call() throws IOException {
        if (biasGrad != null && bias == null) {
            throw new CliException("--bias-grad needs --bias: a layer without bias has no bias gradient");
        }
        if ((pointwiseKernelGrad != null) != (layerKind == LayerKind.separable)) {
            throw new CliException(pointwiseKernelGrad == null
                    ? "--layer separable needs --pointwise-kernel-grad (the pointwise kernel's gradient)"
                    : "--pointwise-kernel-grad is only for --layer separable, not " + layerKind);
        }
        List<Path> targets = new ArrayList<>(List.of(inputGrad, kernelGrad));
        if (pointwiseKernelGrad != null) {
            targets.add(pointwiseKernelGrad);
        }
        if (biasGrad != null) {
            targets.add(biasGrad);
        }
        for (int i = 0; i < targets.size(); i++) {
            for (int j = i + 1; j < targets.size(); j++) {
                if (targets.get(i).toAbsolutePath().normalize().equals(targets.get(j).toAbsolutePath().normalize())) {
                    throw new CliException("--input-grad, --kernel-grad, --pointwise-kernel-grad and --bias-grad"
                            + " must be different files, got " + targets.get(i) + " twice");
                }
            }
        }
        try (Loaded loaded = load(targets.toArray(new Path[0]))) {
            NpyArray x = loaded.input();
            int[] outShape = loaded.outputShape();
            NpyArray dy = read("--output-grad", outputGrad);
            if (!java.util.Arrays.equals(dy.shape(), outShape)) {
                throw new CliException("--output-grad has shape " + Npy.shapeText(dy.shape())
                        + " but the layer's output is " + Npy.shapeText(outShape));
            }
            Map<Path, NpyArray> files = new LinkedHashMap<>();
            float[] db;
            if (loaded.separable() != null) {
                SeparableConv.SeparableGradients g = loaded.separable().backward(x.data(), dy.data(), x.shape());
                files.put(inputGrad, new NpyArray(g.input(), x.shape()));
                files.put(kernelGrad, new NpyArray(g.depthwiseKernel(), loaded.kernel().shape()));
                files.put(pointwiseKernelGrad, new NpyArray(g.pointwiseKernel(), loaded.pointwiseKernel().shape()));
                db = g.bias();
            } else {
                Gradients g = loaded.layer().backward(x.data(), dy.data(), x.shape());
                files.put(inputGrad, new NpyArray(g.input(), x.shape()));
                files.put(kernelGrad, new NpyArray(g.kernel(), loaded.kernel().shape()));
                db = g.bias();
            }
            if (biasGrad != null) {
                files.put(biasGrad, new NpyArray(db, db.length));
            }
            List<Path> written = new ArrayList<>();
            try {
                for (Map.Entry<Path, NpyArray> f : files.entrySet()) {
                    AtomicFiles.write(f.getKey(), channel -> Npy.write(channel, f.getValue()));
                    written.add(f.getKey());
                }
            } catch (IOException | RuntimeException e) {
                for (Path p : written) {
                    Files.deleteIfExists(p); // all or none
                }
                throw e;
            }
            for (Map.Entry<Path, NpyArray> f : files.entrySet()) {
                spec.commandLine().getOut().println("wrote " + f.getKey() + " " + Npy.shapeText(f.getValue().shape()));
            }
        }
        return Main.EXIT_OK;
    }
}
