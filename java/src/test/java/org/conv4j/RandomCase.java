package org.conv4j;

import java.util.Arrays;
import java.util.SplittableRandom;

/** A random valid convolution: configuration, input shape, weights and input values in [-1, 1]. */
final class RandomCase {
    final int rank;
    final int filters;
    final int[] kernelSize;
    final int[] strides;
    final int[] dilation;
    final Padding padding;
    final int groups;
    final boolean useBias;
    final Activation activation;
    final DataFormat dataFormat;
    final int[] inputShape;
    final float[] input;
    final float[] kernel;
    final float[] bias;

    /** Case {@code index} of a run seeded with {@code seed}; some indices force the edge shapes. */
    RandomCase(long seed, int index) {
        SplittableRandom r = new SplittableRandom(seed * 1_000_003L + index);
        rank = r.nextBoolean() ? 1 : 2;
        dataFormat = r.nextInt(3) == 0 ? DataFormat.CHANNELS_FIRST : DataFormat.CHANNELS_LAST;
        int groupKind = r.nextInt(4);
        int cinPerGroup = groupKind == 3 ? 1 : 1 + r.nextInt(5);
        groups = groupKind == 0 || groupKind == 1 ? 1 : groupKind == 2 ? 2 + r.nextInt(2) : 1 + r.nextInt(8);
        int cin = groups * cinPerGroup;
        filters = groups * (1 + r.nextInt(groupKind == 3 ? 2 : 4));
        boolean strided = r.nextInt(3) == 0;
        boolean dilated = !strided && r.nextInt(3) == 0;
        kernelSize = new int[rank];
        strides = new int[rank];
        dilation = new int[rank];
        int[] spatial = new int[rank];
        Padding[] paddings = rank == 1 ? Padding.values() : new Padding[] {Padding.VALID, Padding.SAME};
        padding = paddings[r.nextInt(paddings.length)];
        int shapeKind = index % 10; // 0: kernel equals the input, 1: 1×1, 2: output length 1 by stride
        for (int i = 0; i < rank; i++) {
            kernelSize[i] = shapeKind == 1 ? 1 : 1 + r.nextInt(5);
            strides[i] = strided ? 1 + r.nextInt(3) : 1;
            dilation[i] = dilated ? 1 + r.nextInt(3) : 1;
            int effective = (kernelSize[i] - 1) * dilation[i] + 1;
            if (shapeKind == 0) {
                spatial[i] = effective;
            } else if (shapeKind == 2) {
                spatial[i] = 1 + r.nextInt(3);
                strides[i] = strided ? 4 : 1;
            } else {
                spatial[i] = 1 + r.nextInt(13);
            }
            if (padding == Padding.VALID && spatial[i] < effective) {
                spatial[i] = effective + r.nextInt(3);
            }
        }
        useBias = r.nextBoolean();
        activation = r.nextBoolean() ? Activation.RELU : Activation.NONE;
        int n = 1 + r.nextInt(3);
        inputShape = new int[rank + 2];
        boolean last = dataFormat == DataFormat.CHANNELS_LAST;
        inputShape[0] = n;
        inputShape[last ? rank + 1 : 1] = cin;
        System.arraycopy(spatial, 0, inputShape, last ? 1 : 2, rank);
        int inCount = n * cin;
        for (int s : spatial) {
            inCount *= s;
        }
        int kCount = cinPerGroup * filters;
        for (int k : kernelSize) {
            kCount *= k;
        }
        input = values(r, inCount);
        kernel = values(r, kCount);
        bias = useBias ? values(r, filters) : null;
    }

    /** {@code count} values uniform in [-1, 1). */
    static float[] values(SplittableRandom r, int count) {
        float[] a = new float[count];
        for (int i = 0; i < count; i++) {
            a[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return a;
    }

    ConvLayer.Builder builder() {
        return ConvLayer.builder(rank).filters(filters).kernelSize(kernelSize).strides(strides)
                .dilationRate(dilation).padding(padding).groups(groups).useBias(useBias)
                .activation(activation).dataFormat(dataFormat);
    }

    ConvConfig config() {
        return builder().config();
    }

    ConvGeometry geometry() {
        return ConvGeometry.of(config(), inputShape);
    }

    ConvLayer layer(Backend backend, Algorithm algorithm) {
        ConvLayer layer = builder().backend(backend).algorithm(algorithm).build();
        layer.setWeights(kernel, bias);
        return layer;
    }

    @Override
    public String toString() {
        return "rank=" + rank + " filters=" + filters + " kernel=" + Arrays.toString(kernelSize) + " strides="
                + Arrays.toString(strides) + " dilation=" + Arrays.toString(dilation) + " padding=" + padding
                + " groups=" + groups + " bias=" + useBias + " act=" + activation + " " + dataFormat + " input="
                + Arrays.toString(inputShape);
    }
}
