package org.conv4j.spark;

import java.util.Locale;

/** How long the native layers of a {@link ConvStack} live in an executor JVM. */
public enum LayerReuse {
    /**
     * One set of layers per executor JVM, shared by the tasks running there at the same time
     * (a local[N] or an N-core executor runs N tasks at once), reference-counted and closed when the
     * last of those tasks completes.
     */
    EXECUTOR,
    /** Each task (partition) builds its own layers and closes them when it completes. */
    PARTITION;

    /** Parses {@code "executor"} or {@code "partition"}, any case. */
    public static LayerReuse parse(String text) {
        for (LayerReuse r : values()) {
            if (text != null && r.name().equalsIgnoreCase(text.trim())) {
                return r;
            }
        }
        throw new IllegalArgumentException("layer reuse must be executor or partition, got '" + text + "'");
    }

    public String paramName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
