"""Builds the small seeded Keras models conv4j-keras is tested against.

Run with the Keras 3 venv:  /work/kv/bin/python tools/keras/make_model_fixtures.py [OUT_DIR [MODEL...]]
(default java/keras/src/test/resources/keras; MODEL names regenerate only those models). For each model NAME it writes NAME.keras, NAME.h5,
NAME.in<i>.npy (float32 inputs), NAME.out<j>.f32.npy (Keras float32) and NAME.out<j>.f64.npy
(the same weights run by Keras in float64), and NAME.summary.txt (Keras' own summary). Rerunnable:
everything is seeded, so the same Keras gives the same files.
"""
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ["COLUMNS"] = "200"  # rich would cut the summary's columns at a narrow default width

import numpy as np  # noqa: E402
import keras  # noqa: E402
from keras import layers as L  # noqa: E402

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), "..", "..", "java", "keras", "src", "test", "resources", "keras")


def cnn2d():
    """Sequential image classifier: every 2-D layer that sits in a plain stack."""
    return keras.Sequential([
        keras.Input((9, 9, 3)),
        L.Rescaling(1 / 2.0, offset=-0.25),
        L.ZeroPadding2D(((1, 0), (0, 2))),
        L.Conv2D(4, 3, activation="relu"),
        L.BatchNormalization(epsilon=1e-3),
        L.MaxPooling2D(2, strides=1),
        L.DepthwiseConv2D(3, depth_multiplier=2, padding="same", activation="relu6"),
        L.Conv2D(6, 3, strides=2, padding="same", activation="swish", groups=2),
        L.AveragePooling2D(2, padding="same"),
        L.SpatialDropout2D(0.3),
        L.Conv2D(4, (1, 3), padding="same", dilation_rate=(1, 2), activation="elu"),
        L.Dropout(0.5),
        L.Flatten(),
        L.Dense(6),
        L.BatchNormalization(),  # folds into the Dense
        L.Activation("tanh"),
        L.GaussianNoise(0.1),
        L.Dense(3, activation="softmax"),
    ], name="cnn2d")


def tcn1d():
    """Sequential 1-D stack: causal dilated conv, 1-D pooling, upsampling, BN as an affine."""
    return keras.Sequential([
        keras.Input((16, 2)),
        L.Conv1D(4, 3, padding="causal", dilation_rate=2, activation="gelu"),
        L.BatchNormalization(),
        L.DepthwiseConv1D(2, padding="same"),
        L.Conv1D(4, 2),
        L.BatchNormalization(epsilon=0.01),  # folds into the conv
        L.Activation("relu6"),
        L.UpSampling1D(2),
        L.ZeroPadding1D((2, 1)),
        L.MaxPooling1D(3, strides=2, padding="same"),
        L.AveragePooling1D(3, padding="same"),
        L.BatchNormalization(center=False),
        L.Activation("leaky_relu"),
        L.Conv1D(3, 1, activation="hard_sigmoid"),
        L.GlobalAveragePooling1D(),
        L.Dense(2, activation="sigmoid"),
    ], name="tcn1d")


def graph():
    """Functional DAG: two inputs, two outputs, merges, BN not after a conv, ReLU with arguments."""
    a = keras.Input((6, 6, 2), name="image_a")
    b = keras.Input((6, 6, 2), name="image_b")
    ca = L.Conv2D(4, 3, padding="same", name="conv_a")(a)
    cb = L.Conv2D(4, 3, padding="same", use_bias=False, name="conv_b")(b)
    added = L.Add(name="add")([ca, cb])
    bn = L.BatchNormalization(name="bn_after_add")(added)
    sub = L.Subtract()([ca, cb])
    mul = L.Multiply()([L.Activation("sigmoid")(sub), bn])
    r = L.ReLU(max_value=2.0, negative_slope=0.1, threshold=0.25)(mul)
    mx = L.Maximum()([ca, cb])
    mn = L.Minimum()([ca, cb])
    av = L.Average()([mx, mn])
    lr = L.LeakyReLU(negative_slope=0.15)(L.GaussianDropout(0.2)(av))
    sp = L.Activation("softplus")(L.AlphaDropout(0.1)(lr))
    ss = L.Activation("softsign")(L.ActivityRegularization(l1=0.01)(L.Activation("selu")(sp)))
    cat = L.Concatenate(axis=-1)([r, L.Activation("tanh")(bn), L.Activation("linear")(ss)])
    up = L.UpSampling2D((2, 1))(cat)
    c2 = L.Conv2D(3, 2, strides=(2, 1), activation="silu", name="conv_c")(up)
    gmax = L.GlobalMaxPooling2D()(c2)
    gavg = L.GlobalAveragePooling2D(keepdims=True)(c2)
    flat = L.Reshape((3,))(gavg)
    out1 = L.Dense(2, name="score")(L.Concatenate()([gmax, flat]))
    out2 = L.Activation("softmax", name="probs")(L.Reshape((2, 3))(L.Concatenate()([flat, gmax])))
    return keras.Model([a, b], [out1, out2], name="graph")


def avg_pool3d_same_f64(t):
    """AveragePooling3D(2, strides=(1, 2, 1), padding="same") in float64, which TensorFlow's
    AvgPool3D lacks: window sums by a ones kernel, divided by the count of real (unpadded) cells."""
    ops = keras.ops
    c = t.shape[-1]
    eye = np.zeros((2, 2, 2, c, c))
    for i in range(c):
        eye[..., i, i] = 1
    sums = ops.conv(t, ops.convert_to_tensor(eye, "float64"), strides=(1, 2, 1), padding="same")
    counts = ops.conv(ops.ones_like(t[..., :1]), ops.ones((2, 2, 2, 1, 1), "float64"),
                      strides=(1, 2, 1), padding="same")
    return sums / counts


def pool3d():
    """3-D layers without a 3-D conv (conv4j has none yet): padding, pooling, global pooling."""
    x = keras.Input((4, 5, 3, 2))
    y = L.UpSampling3D((1, 1, 2))(x)
    y = L.ZeroPadding3D((1, (0, 1), 1))(y)
    if keras.config.dtype_policy().name == "float64":
        y = L.Lambda(avg_pool3d_same_f64)(y)
    else:
        y = L.AveragePooling3D(2, strides=(1, 2, 1), padding="same")(y)
    if keras.config.dtype_policy().name == "float64":
        # TensorFlow's MaxPool3D has no float64 kernel: the same window max by reshaping.
        y = L.Lambda(lambda t: keras.ops.max(keras.ops.reshape(
            t[:, :6, :2, :8, :], (-1, 3, 2, 1, 2, 8, 1, 2)), axis=(2, 4, 6)))(y)
    else:
        y = L.MaxPooling3D((2, 2, 1))(y)
    g1 = L.GlobalAveragePooling3D()(y)
    g2 = L.GlobalMaxPooling3D()(x)
    y = L.Dense(3, activation="elu")(L.Concatenate()([g1, g2]))
    return keras.Model(x, y, name="pool3d")


def family():
    """The convolution family (issue 13): Conv3D, the three transposed convs (strides, output_padding;
    TensorFlow's CPU kernels refuse dilated transposes), SeparableConv1D/2D, depthwise multipliers, and ZeroPadding1D/2D/3D in front of convs
    (folded into their explicit pads: same, causal, valid, separable) plus BN after a transposed conv."""
    a = keras.Input((5, 6, 3), name="image")
    y = L.ZeroPadding2D(((1, 0), (2, 1)))(a)
    y = L.Conv2D(4, 3, strides=2, padding="same", activation="relu")(y)
    y = L.Conv2DTranspose(3, 3, strides=2, output_padding=1, activation="tanh")(y)
    y = L.Conv2DTranspose(2, 2, padding="same")(y)  # dilation: TensorFlow CPU has no kernel to compare with
    y = L.BatchNormalization()(y)
    y = L.ZeroPadding2D(1)(y)
    y = L.SeparableConv2D(4, 3, depth_multiplier=2, strides=2, activation="elu")(y)
    y = L.DepthwiseConv2D(2, depth_multiplier=3, padding="same")(y)
    out1 = L.GlobalAveragePooling2D()(y)

    s = keras.Input((12, 2), name="signal")
    z = L.ZeroPadding1D((2, 0))(s)
    z = L.Conv1D(3, 3, padding="causal", dilation_rate=2)(z)
    z = L.SeparableConv1D(4, 3, padding="same", depth_multiplier=2, use_bias=False)(z)
    z = L.Conv1DTranspose(3, 3, strides=2, padding="same", activation="relu")(z)
    z = L.Conv1DTranspose(2, 2, strides=3, output_padding=2)(z)
    out2 = L.Flatten()(z)

    v = keras.Input((4, 5, 4, 2), name="volume")
    u = L.ZeroPadding3D((1, (0, 1), 1))(v)
    u = L.Conv3D(3, (2, 3, 2), strides=(1, 2, 1), activation="relu")(u)
    u = L.Conv3DTranspose(2, 2, strides=2, padding="same")(u)
    u = L.Conv3D(2, 3, padding="same", dilation_rate=(1, 2, 1))(u)
    out3 = L.GlobalMaxPooling3D()(u)
    return keras.Model([a, s, v], [out1, out2, out3], name="family")


MODELS = [cnn2d, tcn1d, graph, pool3d, family]


def keras2_h5(model, path):
    """The same model in Keras 2's (tf_keras') legacy .h5 layout, which cannot be saved here: its
    documented config (inbound nodes as [name, node, tensor, kwargs] lists, batch_input_shape,
    dtype strings) and weights named with ':0' under model_weights/<layer>/<layer>/."""
    import h5py
    import json

    def k2_layer(layer_cfg, functional):
        c = dict(layer_cfg["config"])
        if isinstance(c.get("dtype"), dict):
            c["dtype"] = c["dtype"]["config"]["name"]
        if "batch_shape" in c:
            c["batch_input_shape"] = c.pop("batch_shape")
        out = {"class_name": layer_cfg["class_name"], "config": c}
        if functional:
            out["name"] = layer_cfg["name"]
            nodes = []
            for node in layer_cfg["inbound_nodes"]:
                args = node["args"][0] if isinstance(node["args"][0], list) else node["args"]
                nodes.append([[t["config"]["keras_history"][0], t["config"]["keras_history"][1],
                               t["config"]["keras_history"][2], {}] for t in args])
            out["inbound_nodes"] = nodes
        return out

    cfg = keras.saving.serialize_keras_object(model)
    functional = cfg["class_name"] != "Sequential"
    mc = {"name": cfg["config"]["name"], "layers": [k2_layer(l, functional) for l in cfg["config"]["layers"]]}
    if functional:
        mc["input_layers"] = cfg["config"]["input_layers"]
        mc["output_layers"] = cfg["config"]["output_layers"]
    k2 = {"class_name": "Functional" if functional else "Sequential", "config": mc}
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = "2.15.0"
        f.attrs["backend"] = "tensorflow"
        f.attrs["model_config"] = json.dumps(k2)
        g = f.create_group("model_weights")
        names = [l.name for l in model.layers]
        g.attrs["layer_names"] = [n.encode() for n in names]
        g.attrs["backend"] = "tensorflow"
        g.attrs["keras_version"] = "2.15.0"
        for layer in model.layers:
            lg = g.create_group(layer.name)
            wn = [f"{layer.name}/{v.name}:0" for v in layer.weights]
            lg.attrs["weight_names"] = [n.encode() for n in wn]
            for n, v in zip(wn, layer.weights):
                lg.create_dataset(n, data=np.asarray(v.numpy(), np.float32))



def randomize(model, rng):
    """Seeded weights with non-trivial BatchNorm statistics (Keras' init would make BN the identity)."""
    for layer in model.layers:
        ws = layer.get_weights()
        if not ws:
            continue
        if isinstance(layer, L.BatchNormalization):
            new = []
            for w, var in zip(ws, layer.weights):
                n = var.path.split("/")[-1]
                if n == "moving_variance":
                    new.append(rng.uniform(0.3, 2.0, w.shape))
                elif n == "gamma":
                    new.append(rng.uniform(0.5, 1.5, w.shape))
                else:
                    new.append(rng.normal(0, 0.5, w.shape))
            ws = new
        else:
            ws = [rng.normal(0, 0.5, w.shape) for w in ws]
        layer.set_weights([w.astype(np.float32) for w in ws])


def main():
    os.makedirs(OUT, exist_ok=True)
    only = set(sys.argv[2:])  # optional model names after OUT_DIR: regenerate just those
    for make in MODELS:
        name = make.__name__
        if only and name not in only:
            continue
        keras.utils.set_random_seed(1)
        keras.config.set_dtype_policy("float32")
        m32 = make()
        randomize(m32, np.random.default_rng(len(name) * 7919))
        keras.config.set_dtype_policy("float64")
        m64 = make()
        keras.config.set_dtype_policy("float32")
        m64.set_weights([w.astype(np.float64) for w in m32.get_weights()])
        rng = np.random.default_rng(len(name) * 104729)
        inputs = [rng.normal(0, 1, (3,) + tuple(t.shape[1:])).astype(np.float32) for t in m32.inputs]
        y32 = m32.predict(inputs, verbose=0)
        y64 = m64.predict([i.astype(np.float64) for i in inputs], verbose=0)
        y32 = y32 if isinstance(y32, list) else [y32]
        y64 = y64 if isinstance(y64, list) else [y64]
        m32.save(os.path.join(OUT, name + ".keras"))
        m32.save(os.path.join(OUT, name + ".h5"))
        if name in ("cnn2d", "graph"):
            keras2_h5(m32, os.path.join(OUT, name + ".k2.h5"))
        for i, x in enumerate(inputs):
            np.save(os.path.join(OUT, f"{name}.in{i}.npy"), x)
        for j, (a, b) in enumerate(zip(y32, y64)):
            np.save(os.path.join(OUT, f"{name}.out{j}.f32.npy"), np.asarray(a, np.float32))
            np.save(os.path.join(OUT, f"{name}.out{j}.f64.npy"), np.asarray(b, np.float64))
        lines = []
        m32.summary(print_fn=lambda s, **kw: lines.append(s), line_length=100)
        with open(os.path.join(OUT, name + ".summary.txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        err = max(float(np.max(np.abs(a - b))) for a, b in zip(y32, y64))
        print(f"{name}: keras float32 vs float64 max |diff| = {err:.3g}")


if __name__ == "__main__":
    main()
