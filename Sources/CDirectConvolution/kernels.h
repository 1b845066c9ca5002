// The kernels' bodies, included twice by direct_convolution.c with KERNEL(name) naming each copy and
// MADD(a, b, c) = a · b + c. Every output pixel row is cut into vectors of 8 along the width; the input
// is pre-padded, so every tap is one unaligned load with no edge cases.

static void KERNEL(forward)(const float *restrict padded, int channels, int height, int width,
                            const float *restrict packed, int out, const float *restrict bias, int sample, int block,
                            float *restrict y) {
    const int rowLength = width + 2, plane = (height + 2) * rowLength, grid = height * width;
    const int first = block * MDC_BLOCK, count = out - first < MDC_BLOCK ? out - first : MDC_BLOCK;
    const float *image = padded + (long)sample * channels * plane;
    const float *weights = packed + (long)block * channels * 9 * MDC_BLOCK;
    float *target = y + ((long)sample * out + first) * grid;
    float start[MDC_BLOCK];
    for (int o = 0; o < MDC_BLOCK; o++) start[o] = bias && o < count ? bias[first + o] : 0;
    // The output plane as vectors of 8 pixels, PIXEL_VECTORS at a time (along a row, or into the next).
    const int vectorsPerRow = width / 8, vectors = height * vectorsPerRow;
    for (int firstVector = 0; firstVector < vectors; firstVector += PIXEL_VECTORS) {
        int offset[PIXEL_VECTORS], outOffset[PIXEL_VECTORS];
        for (int p = 0; p < PIXEL_VECTORS; p++) {
            // A last odd vector is computed twice, into the same place.
            const int v = firstVector + p < vectors ? firstVector + p : vectors - 1;
            const int row = v / vectorsPerRow, x = v % vectorsPerRow * 8;
            offset[p] = row * rowLength + x;
            outOffset[p] = row * width + x;
        }
        // MDC_BLOCK output channels × PIXEL_VECTORS · 8 pixels in registers; each input load feeds
        // MDC_BLOCK multiply-adds, each weight broadcast PIXEL_VECTORS.
        vector8 sum[PIXEL_VECTORS][MDC_BLOCK];
#pragma clang loop unroll(full)
        for (int p = 0; p < PIXEL_VECTORS; p++) {
#pragma clang loop unroll(full)
            for (int o = 0; o < MDC_BLOCK; o++) sum[p][o] = (vector8)start[o];
        }
        for (int c = 0; c < channels; c++) {
            const float *source = image + (long)c * plane;
            const float *w = weights + c * 9 * MDC_BLOCK;
#pragma clang loop unroll(full)
            for (int tap = 0; tap < 9; tap++) {
                vector8 v[PIXEL_VECTORS];
#pragma clang loop unroll(full)
                for (int p = 0; p < PIXEL_VECTORS; p++) v[p] = load8(source + offset[p] + (tap / 3) * rowLength + tap % 3);
#pragma clang loop unroll(full)
                for (int o = 0; o < MDC_BLOCK; o++) {
                    const vector8 weight = (vector8)w[tap * MDC_BLOCK + o];
#pragma clang loop unroll(full)
                    for (int p = 0; p < PIXEL_VECTORS; p++) sum[p][o] = MADD(weight, v[p], sum[p][o]);
                }
            }
        }
        for (int p = 0; p < PIXEL_VECTORS; p++) {
            for (int o = 0; o < count; o++) store8(target + (long)o * grid + outOffset[p], sum[p][o]);
        }
    }
}

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
