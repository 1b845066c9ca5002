// The kernels' bodies, included once per instruction set by direct_convolution.c with KERNEL(name)
// naming each copy, MADD(a, b, c) = a · b + c and PIXEL_VECTORS. Every output pixel row is cut into
// vectors of 8 along the width; the input is pre-padded, so every tap is one unaligned load with no
// edge cases.

// The forward kernel for 9 taps (3 × 3) and for 4 (2 × 2: a 4 × 4 stride-2 convolution on the
// space-to-depth image, and each phase of its input gradient).
#define TAPS 9
#define FORWARD KERNEL(forward9)
#include "forward.h"
#undef TAPS
#undef FORWARD
#define TAPS 4
#define FORWARD KERNEL(forward4)
#include "forward.h"
#undef TAPS
#undef FORWARD

static void KERNEL(weight_gradient)(const float *restrict padded, int channels, int height, int width,
                                    const float *restrict dy, int out, int batch, int first, int end,
                                    float *restrict dw) {
    const int rowLength = width + 2, plane = (height + 2) * rowLength, grid = height * width;
    for (int o0 = first; o0 < end; o0 += GRADIENT_BLOCK) {
        // GRADIENT_BLOCK output channels × one kernel row's three taps in registers over the whole batch:
        // each load of the input feeds GRADIENT_BLOCK multiply-adds, each of the gradient three. A block
        // past `end` repeats its last channel and stores only the real ones. (Blocks of 8 with 32
        // registers measured no faster, and waste more on 3 output channels.)
        const int count = end - o0 < GRADIENT_BLOCK ? end - o0 : GRADIENT_BLOCK;
        for (int c = 0; c < channels; c++) {
            for (int ky = 0; ky < 3; ky++) {
                vector8 sum[GRADIENT_BLOCK][3];
#pragma clang loop unroll(full)
                for (int o = 0; o < GRADIENT_BLOCK; o++) {
#pragma clang loop unroll(full)
                    for (int kx = 0; kx < 3; kx++) sum[o][kx] = (vector8)0;
                }
                for (int n = 0; n < batch; n++) {
                    const float *image = padded + ((long)n * channels + c) * plane + ky * rowLength;
                    const float *gradient[GRADIENT_BLOCK];
                    for (int o = 0; o < GRADIENT_BLOCK; o++) gradient[o] = dy + ((long)n * out + o0 + (o < count ? o : count - 1)) * grid;
                    for (int row = 0; row < height; row++) {
                        for (int x = 0; x < width; x += 8) {
                            const float *source = image + row * rowLength + x;
                            vector8 d[GRADIENT_BLOCK];
#pragma clang loop unroll(full)
                            for (int o = 0; o < GRADIENT_BLOCK; o++) d[o] = load8(gradient[o] + row * width + x);
#pragma clang loop unroll(full)
                            for (int kx = 0; kx < 3; kx++) {
                                const vector8 v = load8(source + kx);
#pragma clang loop unroll(full)
                                for (int o = 0; o < GRADIENT_BLOCK; o++) sum[o][kx] = MADD(v, d[o], sum[o][kx]);
                            }
                        }
                    }
                }
                for (int o = 0; o < count; o++) {
                    float *target = dw + ((long)(o0 + o) * channels + c) * 9 + ky * 3;
                    for (int kx = 0; kx < 3; kx++) {
                        const vector8 s = sum[o][kx];
                        target[kx] += ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
                    }
                }
            }
        }
    }
}
