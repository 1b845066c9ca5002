// Direct 3 × 3 convolution (stride 1, padding 1) kernels for the engine's narrow layers; see
// Sources/Neural/DirectConvolution.swift for the layouts and why. Compiled twice: with AVX2 + FMA where
// the CPU has them (chosen at load time), and for the baseline target otherwise.
#ifndef MNEMOSYNE_DIRECT_CONVOLUTION_H
#define MNEMOSYNE_DIRECT_CONVOLUTION_H

/// Output channels one forward task computes (the packed weights' block size).
#define MDC_BLOCK 8

/// y[sample, block·8 ..< block·8 + 8 (at most out), ·, ·] = bias + the 3 × 3 convolution of `padded`.
/// padded: batch × channels × (height + 2) × (width + 2), zero border; packed: ⌈out/8⌉ × channels × 9 × 8;
/// bias: out or NULL; y: batch × out × height × width. width must be a multiple of 8.
void mdc_conv3x3_forward(const float *padded, int channels, int height, int width, const float *packed, int out,
                         const float *bias, int sample, int block, float *y);

/// dw[o, c, ky, kx] += Σ over the batch and the grid of dy[n, o, y, x] · padded[n, c, y + ky, x + kx], for
/// output channels o in [first, end). dy: batch × out × height × width; dw: out × channels × 3 × 3.
void mdc_conv3x3_weight_gradient(const float *padded, int channels, int height, int width, const float *dy, int out,
                                 int batch, int first, int end, float *dw);

/// The kernels that run: 0 baseline, 1 AVX2 + FMA, 2 AVX-512VL.
int mdc_instruction_set(void);
/// The best kernels this CPU can run (chosen at load time).
int mdc_supported_instruction_set(void);
/// Runs the kernels `requested` (at most the supported ones; for tests and benchmarks, never while a
/// kernel runs); returns those that now run.
int mdc_use_instruction_set(int requested);

#endif
