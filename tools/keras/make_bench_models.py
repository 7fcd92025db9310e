"""The three models of bench/README.md's Keras comparison, seeded, saved as .keras.

/work/kv/bin/python tools/keras/make_bench_models.py [OUT_DIR]   (default bench/target/keras)
Writes classifier.keras, mobilenet.keras, tcn.keras and one float32 input per model (NAME.in0.npy,
batch 32). Not committed: rerun to recreate them (same seed, same weights).
"""
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402
import keras  # noqa: E402
from keras import layers as L  # noqa: E402

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", "bench", "target",
                                                          "keras")


def classifier():
    """A small image classifier: three conv + BN + pool stages, global pooling, Dense softmax."""
    x = inp = keras.Input((64, 64, 3))
    for f in (16, 32, 64):
        x = L.Conv2D(f, 3, padding="same", activation="relu")(x)
        x = L.BatchNormalization()(x)
        x = L.MaxPooling2D(2)(x)
    x = L.GlobalAveragePooling2D()(x)
    x = L.Dense(10, activation="softmax")(x)
    return keras.Model(inp, x, name="classifier")


def mobilenet():
    """MobileNet-style: a strided stem, then depthwise 3x3 + pointwise 1x1 blocks with BN and ReLU6."""
    x = inp = keras.Input((96, 96, 3))
    x = L.Conv2D(16, 3, strides=2, padding="same", use_bias=False)(x)
    x = L.BatchNormalization()(x)
    x = L.ReLU(6.0)(x)
    for filters, stride in ((32, 1), (64, 2), (64, 1), (128, 2), (128, 1)):
        x = L.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False)(x)
        x = L.BatchNormalization()(x)
        x = L.ReLU(6.0)(x)
        x = L.Conv2D(filters, 1, use_bias=False)(x)
        x = L.BatchNormalization()(x)
        x = L.ReLU(6.0)(x)
    x = L.GlobalAveragePooling2D()(x)
    x = L.Dense(10, activation="softmax")(x)
    return keras.Model(inp, x, name="mobilenet")


def tcn():
    """A 1-D causal TCN: residual blocks of two dilated causal convs, dilations 1..8."""
    x = inp = keras.Input((256, 8))
    x = L.Conv1D(32, 1)(x)
    for d in (1, 2, 4, 8):
        y = L.Conv1D(32, 3, padding="causal", dilation_rate=d, activation="relu")(x)
        y = L.Conv1D(32, 3, padding="causal", dilation_rate=d, activation="relu")(y)
        x = L.Add()([x, y])
    x = L.GlobalAveragePooling1D()(x)
    x = L.Dense(1)(x)
    return keras.Model(inp, x, name="tcn")


def main():
    os.makedirs(OUT, exist_ok=True)
    for make in (classifier, mobilenet, tcn):
        keras.utils.set_random_seed(7)
        m = make()
        rng = np.random.default_rng(7)
        for layer in m.layers:
            if isinstance(layer, L.BatchNormalization):
                g, b, mu, var = layer.get_weights()
                layer.set_weights([rng.uniform(0.5, 1.5, g.shape), rng.normal(0, 0.1, b.shape),
                                   rng.normal(0, 0.1, mu.shape), rng.uniform(0.5, 1.5, var.shape)])
        m.save(os.path.join(OUT, make.__name__ + ".keras"))
        x = rng.normal(0, 1, (32,) + tuple(m.inputs[0].shape[1:])).astype(np.float32)
        np.save(os.path.join(OUT, make.__name__ + ".in0.npy"), x)
        print(make.__name__, m.count_params(), "params")


if __name__ == "__main__":
    main()
