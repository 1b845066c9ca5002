// Direct convolution kernels (3 × 3 at stride 1, 4 × 4 at stride 2) for the engine's narrow layers; see
// Sources/Neural/DirectConvolution.swift for the layouts and why. Compiled three times, for AVX-512VL,
// AVX2 + FMA and the baseline target; the best the CPU has runs (chosen at load time).
#ifndef MNEMOSYNE_DIRECT_CONVOLUTION_H
#define MNEMOSYNE_DIRECT_CONVOLUTION_H

/// Output channels one forward task computes (the packed weights' block size).
#define MDC_BLOCK 8

/// y[sample, block·8 ..< block·8 + 8 (at most out), row, x] = bias + Σ over channels c and taps t of
/// packed weight · image[sample, c, row · rowLength + x + tapOffsets[t]]: a 3 × 3 convolution on a padded
/// image (9 taps), or a 2 × 2 one (4 taps). image: batch × channels × plane; packed: ⌈out/8⌉ × channels ×
/// taps × 8; bias: out or NULL; y: batch × out × height × width. width must be a multiple of 8.
void mdc_convolve(const float *image, int channels, int plane, int rowLength, int taps, const int *tapOffsets,
                  int height, int width, const float *packed, int out, const float *bias, int sample, int block,
                  float *y);

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
