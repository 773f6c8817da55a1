// Shared definitions for every blt4j OpenCL kernel family. The backend concatenates this file with the
// families into one program. Every tensor argument is a (buffer, element offset) pair, so views share buffers.
// Build-time defines: RED_WG (work-group size of row reductions, a power of two), TILE (tiled matmul),
// HAS_FP64 (device supports cl_khr_fp64).
#ifdef HAS_FP64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif
#ifndef RED_WG
#define RED_WG 64
#endif
#ifndef TILE
#define TILE 16
#endif

// Tree reductions over one work-group of RED_WG items; every item gets the result.
inline float wg_sum(__local float* buf, float v) {
    int l = get_local_id(0);
    buf[l] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = RED_WG / 2; s > 0; s >>= 1) {
        if (l < s) {
            buf[l] += buf[l + s];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float r = buf[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}

inline float wg_max(__local float* buf, float v) {
    int l = get_local_id(0);
    buf[l] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = RED_WG / 2; s > 0; s >>= 1) {
        if (l < s) {
            buf[l] = fmax(buf[l], buf[l + s]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float r = buf[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}

inline float sigmoidf(float x) {
    return 1.0f / (1.0f + exp(-x));
}

// Reports the build-time configuration, so a prebuilt binary can be checked against the profile that loads it.
__kernel void blt4j_config(__global int* out) {
    out[0] = RED_WG;
    out[1] = TILE;
#ifdef HAS_FP64
    out[2] = 1;
#else
    out[2] = 0;
#endif
}
