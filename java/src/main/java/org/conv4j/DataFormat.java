package org.conv4j;

import java.util.Locale;

/** Where the channel axis sits in the input and output tensors. */
public enum DataFormat {
    /** {@code [N, L, C]} / {@code [N, H, W, C]}: Keras' default. */
    CHANNELS_LAST,
    /** {@code [N, C, L]} / {@code [N, C, H, W]}. */
    CHANNELS_FIRST;

    /** Parses {@code "channels_last"} or {@code "channels_first"}, any case. */
    public static DataFormat parse(String text) {
        return Enums.parse(DataFormat.class, "data_format", text);
    }

    /** The Keras spelling. */
    public String kerasName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
