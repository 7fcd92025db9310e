package org.conv4j.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.conv4j.Backend;
import org.conv4j.keras.KerasModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** A Keras model's summary, as Keras prints it. */
@Command(name = "summary",
        mixinStandardHelpOptions = true,
        description = {"Print a Keras model's layers, output shapes and parameter counts (as model.summary()).",
            "On any error: exit status 2 and one line on stderr."})
final class SummaryCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "FILE", description = "The .keras or .h5 model.")
    Path model;

    @Override
    public Integer call() throws IOException {
        // The Java backend: a summary needs no native memory.
        try (KerasModel m = KerasModel.load(model, Backend.JAVA, 1)) {
            spec.commandLine().getOut().print(m.summary());
        }
        return Main.EXIT_OK;
    }
}
