package org.conv4j.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import org.conv4j.Conv4j;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** What this installation can do: library version, native core, CPU dispatch, threads, JVM. */
@Command(name = "info",
        mixinStandardHelpOptions = true,
        description = "Show the version, platform, native library status, CPU features, ISA and threads.")
final class InfoCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        boolean loaded = Conv4j.nativeAvailable();
        line(out, "conv4j", Conv4j.version());
        line(out, "platform", Conv4j.platform());
        line(out, "native library", loaded
                ? "loaded (version " + Conv4j.nativeVersion() + ")"
                : notLoaded(Main.oneLine(Conv4j.nativeLoadError())));
        line(out, "CPU features", Conv4j.cpuFeatures());
        line(out, "detected ISA", Conv4j.cpuIsa());
        line(out, "ISA in use", Conv4j.activeIsa());
        line(out, "OpenMP threads", loaded ? Integer.toString(Conv4j.maxThreads()) : "unavailable");
        line(out, "default backend", Conv4j.defaultBackend().cliName());
        line(out, "java kernel", Conv4j.javaKernel().startsWith("vector") ? Conv4j.javaKernel() + " (Vector API)"
                : Conv4j.javaKernel() + " (add --add-modules jdk.incubator.vector for the Vector API)");
        line(out, "java", System.getProperty("java.version") + " (" + System.getProperty("java.vm.name")
                + ", " + System.getProperty("java.vendor") + ")");
        line(out, "os", System.getProperty("os.name") + " " + System.getProperty("os.version")
                + " " + System.getProperty("os.arch"));
        return Main.EXIT_OK;
    }

    /** The library's reason may already start with "not loaded". */
    private static String notLoaded(String reason) {
        return reason.startsWith("not loaded") ? reason : "not loaded: " + reason;
    }

    private static void line(PrintWriter out, String key, String value) {
        out.printf("%-16s %s%n", key + ":", value);
    }
}
