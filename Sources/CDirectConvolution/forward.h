// One forward kernel body, included by kernels.h with TAPS and FORWARD (its name) defined:
// y[sample, block·8 ..< +8, row, x] = bias + Σ over channels c and taps t of
// weight · image[sample, c, row · rowLength + x + tapOffsets[t]].

static void FORWARD(const float *restrict image, int channels, int plane, int rowLength, const int *restrict tapOffsets,
                    int height, int width, const float *restrict packed, int out, const float *restrict bias,
                    int sample, int block, float *restrict y) {
    const int grid = height * width;
    const int first = block * MDC_BLOCK, count = out - first < MDC_BLOCK ? out - first : MDC_BLOCK;
    const float *input = image + (long)sample * channels * plane;
    const float *weights = packed + (long)block * channels * TAPS * MDC_BLOCK;
    float *target = y + ((long)sample * out + first) * grid;
    float start[MDC_BLOCK];
    for (int o = 0; o < MDC_BLOCK; o++) start[o] = bias && o < count ? bias[first + o] : 0;
    int taps[TAPS];
    for (int tap = 0; tap < TAPS; tap++) taps[tap] = tapOffsets[tap];
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
            const float *source = input + (long)c * plane;
            const float *w = weights + c * TAPS * MDC_BLOCK;
#pragma clang loop unroll(full)
            for (int tap = 0; tap < TAPS; tap++) {
                vector8 v[PIXEL_VECTORS];
#pragma clang loop unroll(full)
                for (int p = 0; p < PIXEL_VECTORS; p++) v[p] = load8(source + offset[p] + taps[tap]);
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
