package org.conv4j;

/**
 * The three gradients of a convolution layer for one output gradient dL/dy: {@code input} is
 * dL/dx (the input's shape and layout), {@code kernel} is dL/dW (Keras kernel layout, as
 * {@link ConvLayer#setWeights}), {@code bias} is dL/db ({@code [filters]}, null when the layer has
 * no bias). With a fused relu the output gradient is first masked by the forward output: where
 * y ≤ 0 (or NaN) it counts as 0, as TensorFlow's ReluGrad does (its derivative at 0 is 0).
 */
public record Gradients(float[] input, float[] kernel, float[] bias) {
}
