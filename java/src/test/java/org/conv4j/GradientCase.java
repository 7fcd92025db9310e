package org.conv4j;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A small random convolution for gradient checks: both ranks and layouts, every padding (causal
 * for rank 1), strides 1–3 or dilation 1–3, groups 1, 2 or depthwise, bias or not, relu or not,
 * with an output gradient of the output's shape.
 */
final class GradientCase {
    final ConvConfig config;
    final ConvGeometry geometry;
    final float[] input;
    final float[] kernel;
    final float[] bias;
    final float[] outputGradient;

    GradientCase(long seed, int index, int maxSpatial, int maxChannels) {
        SplittableRandom r = new SplittableRandom(seed * 1_000_003L + index);
        int rank = 1 + r.nextInt(2);
        DataFormat format = r.nextInt(3) == 0 ? DataFormat.CHANNELS_FIRST : DataFormat.CHANNELS_LAST;
        int groupKind = r.nextInt(3);
        int cinG = groupKind == 2 ? 1 : 1 + r.nextInt(maxChannels);
        int groups = groupKind == 0 ? 1 : groupKind == 1 ? 2 : 1 + r.nextInt(maxChannels + 1);
        int filters = groups * (1 + r.nextInt(groupKind == 2 ? 2 : maxChannels));
        boolean strided = r.nextInt(3) == 0;
        boolean dilated = !strided && r.nextInt(3) == 0;
        Padding[] paddings = rank == 1 ? Padding.values() : new Padding[] {Padding.VALID, Padding.SAME};
        Padding padding = paddings[r.nextInt(paddings.length)];
        int[] k = new int[rank], s = new int[rank], d = new int[rank], spatial = new int[rank];
        for (int i = 0; i < rank; i++) {
            k[i] = 1 + r.nextInt(3);
            s[i] = strided ? 1 + r.nextInt(3) : 1;
            d[i] = dilated ? 1 + r.nextInt(3) : 1;
            int effective = (k[i] - 1) * d[i] + 1;
            spatial[i] = 1 + r.nextInt(maxSpatial);
            if (padding == Padding.VALID && spatial[i] < effective) {
                spatial[i] = effective + r.nextInt(2);
            }
        }
        boolean useBias = r.nextBoolean();
        Activation activation = r.nextBoolean() ? Activation.RELU : Activation.NONE;
        config = ConvLayer.builder(rank).filters(filters).kernelSize(k).strides(s).dilationRate(d).padding(padding)
                .groups(groups).useBias(useBias).activation(activation).dataFormat(format).config();
        int cin = cinG * groups;
        int[] shape = new int[rank + 2];
        boolean last = format == DataFormat.CHANNELS_LAST;
        shape[0] = 1 + r.nextInt(2);
        shape[last ? rank + 1 : 1] = cin;
        System.arraycopy(spatial, 0, shape, last ? 1 : 2, rank);
        geometry = ConvGeometry.of(config, shape);
        input = RandomCase.values(r, geometry.inputCount());
        kernel = RandomCase.values(r, geometry.kernelCount());
        bias = useBias ? RandomCase.values(r, filters) : null;
        outputGradient = RandomCase.values(r, geometry.outputCount());
    }

    ConvLayer layer(Backend backend) {
        ConvLayer layer = new ConvLayer.Builder(config.rank()).filters(config.filters()).kernelSize(config.kernelSize())
                .strides(config.strides()).dilationRate(config.dilationRate()).padding(config.padding())
                .groups(config.groups()).useBias(config.useBias()).activation(config.activation())
                .dataFormat(config.dataFormat()).backend(backend).build();
        layer.setWeights(kernel, bias);
        return layer;
    }

    @Override
    public String toString() {
        return geometry + " input " + Arrays.toString(geometry.inputShape());
    }
}
