"""Loads the .weights.h5 files conv4j-keras wrote (KerasWeightsWriterTest leaves them in
java/keras/target/keras-export) into Keras models of the same layers and compares Keras' predictions
with conv4j's on the same inputs.

Run after the test:  /work/kv/bin/python tools/keras/check_weights_export.py [EXPORT_DIR]
Exits 1 if Keras refuses a file or a prediction differs by more than 1e-4 (float32 sums of a few
dozen terms; the two sides differ only in summation order).
"""
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402
import keras  # noqa: E402
from keras import layers as L  # noqa: E402

DIR = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), "..", "..", "java", "keras", "target", "keras-export")

# The same layers as KerasWeightsWriterTest builds, with weightless layers in between to show that
# they take no key of a conv class.
MODELS = {
    "trained": ((7, 7, 2), lambda: [
        L.Conv2D(4, 3, padding="same", activation="relu"),
        L.Activation("linear"),
        L.Conv2D(2, 3),
    ]),
    "family": ((5, 6, 2), lambda: [
        L.Conv2D(3, 2, use_bias=False),
        L.DepthwiseConv2D(3, depth_multiplier=2, padding="same"),
        L.Dropout(0.5),
        L.Conv2DTranspose(2, 2, strides=2),
        L.Conv2D(1, 1),
    ]),
}


def main():
    worst = 0.0
    for name, (shape, make) in MODELS.items():
        model = keras.Sequential([keras.Input(shape)] + make())
        model.load_weights(os.path.join(DIR, name + ".weights.h5"))
        x = np.fromfile(os.path.join(DIR, name + ".x.f32"), "<f4").reshape((-1,) + shape)
        ours = np.fromfile(os.path.join(DIR, name + ".y.f32"), "<f4")
        theirs = np.asarray(model.predict(x, verbose=0)).reshape(-1)
        err = float(np.max(np.abs(ours - theirs)))
        worst = max(worst, err)
        print(f"{name}: Keras loaded {len(model.weights)} arrays; max |conv4j - keras| = {err:.3g}"
              f" over {ours.size} outputs")
    sys.exit(0 if worst <= 1e-4 else 1)


if __name__ == "__main__":
    main()
