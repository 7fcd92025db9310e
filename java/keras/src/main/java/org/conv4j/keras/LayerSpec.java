package org.conv4j.keras;

import com.google.gson.JsonObject;

/**
 * One layer of the config: its class, name, own config object, the key of its weights in the
 * file, and the file to read them from.
 */
record LayerSpec(String className, String name, JsonObject config, String weightKey, KerasFile file) {
    /** "layer Conv2D 'conv_a'", the prefix of every message about this layer. */
    String where() {
        return "layer " + className + " '" + name + "'";
    }

    float[][] weights(int[]... expected) throws KerasModelException {
        return file.weights(weightKey, expected, where());
    }

    /** Keras' channels_last only: conv4j's Keras loader works on channels_last tensors. */
    void requireChannelsLast() throws KerasModelException {
        String f = Json.string(config, "data_format", "channels_last", where());
        if (!f.equals("channels_last")) {
            throw new KerasModelException(where() + ": data_format '" + f + "' is not supported (channels_last"
                    + " only)");
        }
    }

    int[] ints(String key, int n, int min, int max) throws KerasModelException {
        return Json.ints(config, key, n, min, max, where());
    }
}
