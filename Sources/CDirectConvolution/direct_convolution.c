#include "direct_convolution.h"

typedef float vector8 __attribute__((ext_vector_type(8)));

// Unaligned loads and stores as macros, not functions: a function passing a vector8 would need the
// AVX calling convention in the baseline copy.
#define load8(p) ({ vector8 loaded_; __builtin_memcpy(&loaded_, (p), sizeof loaded_); loaded_; })
#define store8(p, v) do { vector8 stored_ = (v); __builtin_memcpy((p), &stored_, sizeof stored_); } while (0)

// Output channels the weight gradient's kernel takes at once.
#define GRADIENT_BLOCK 4

// The baseline copy (any CPU): a · b + c, which the compiler may fuse where the target has FMA.
#define KERNEL(name) name##_baseline
#define MADD(a, b, c) ((a) * (b) + (c))
#define PIXEL_VECTORS 1
#include "kernels.h"
#undef KERNEL
#undef MADD
#undef PIXEL_VECTORS

#if defined(__x86_64__)
// The AVX2 + FMA copy, chosen at load time where the CPU has both.
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#define KERNEL(name) name##_avx2
#define MADD(a, b, c) __builtin_elementwise_fma(a, b, c)
#define PIXEL_VECTORS 1
#include "kernels.h"
#undef KERNEL
#undef MADD
#undef PIXEL_VECTORS
#pragma clang attribute pop

// The same with AVX-512VL: still vectors of 8, but 32 registers instead of 16, so the sums never spill
// and the forward holds two vectors of pixels (16 sums) per weight broadcast.
#pragma clang attribute push(__attribute__((target("avx2,fma,avx512f,avx512vl"))), apply_to = function)
#define KERNEL(name) name##_avx512
#define MADD(a, b, c) __builtin_elementwise_fma(a, b, c)
#define PIXEL_VECTORS 2
#include "kernels.h"
#undef KERNEL
#undef MADD
#undef PIXEL_VECTORS
#pragma clang attribute pop

static int instructionSet(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl")) return 2;
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? 1 : 0;
}
#else
static int instructionSet(void) { return 0; }
#define forward9_avx2 forward9_baseline
#define forward4_avx2 forward4_baseline
#define weight_gradient_avx2 weight_gradient_baseline
#define forward9_avx512 forward9_baseline
#define forward4_avx512 forward4_baseline
#define weight_gradient_avx512 weight_gradient_baseline
#endif

// 0: baseline, 1: AVX2 + FMA, 2: AVX-512VL. The best the CPU has, decided before any thread runs a
// kernel (a constructor runs at load time); tests and benchmarks may ask for a lesser one.
static int supported = 0, kernels = 0;
__attribute__((constructor)) static void chooseKernels(void) { supported = kernels = instructionSet(); }

int mdc_instruction_set(void) { return kernels; }

int mdc_supported_instruction_set(void) { return supported; }

int mdc_use_instruction_set(int requested) {
    kernels = requested < 0 ? 0 : requested > supported ? supported : requested;
    return kernels;
}

void mdc_convolve(const float *image, int channels, int plane, int rowLength, int taps, const int *tapOffsets,
                  int height, int width, const float *packed, int out, const float *bias, int sample, int block,
                  float *y) {
    if (taps == 9) {
        if (kernels == 2) {
            forward9_avx512(image, channels, plane, rowLength, tapOffsets, height, width, packed, out, bias, sample, block, y);
        } else if (kernels == 1) {
            forward9_avx2(image, channels, plane, rowLength, tapOffsets, height, width, packed, out, bias, sample, block, y);
        } else {
            forward9_baseline(image, channels, plane, rowLength, tapOffsets, height, width, packed, out, bias, sample, block, y);
        }
    } else {
        if (kernels == 2) {
            forward4_avx512(image, channels, plane, rowLength, tapOffsets, height, width, packed, out, bias, sample, block, y);
        } else if (kernels == 1) {
            forward4_avx2(image, channels, plane, rowLength, tapOffsets, height, width, packed, out, bias, sample, block, y);
        } else {
            forward4_baseline(image, channels, plane, rowLength, tapOffsets, height, width, packed, out, bias, sample, block, y);
        }
    }
}

void mdc_conv3x3_weight_gradient(const float *padded, int channels, int height, int width, const float *dy, int out,
                                 int batch, int first, int end, float *dw) {
    if (kernels == 2) {
        weight_gradient_avx512(padded, channels, height, width, dy, out, batch, first, end, dw);
    } else if (kernels == 1) {
        weight_gradient_avx2(padded, channels, height, width, dy, out, batch, first, end, dw);
    } else {
        weight_gradient_baseline(padded, channels, height, width, dy, out, batch, first, end, dw);
    }
}
