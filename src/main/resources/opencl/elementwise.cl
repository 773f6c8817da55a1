// Elementwise ops: one work-item per element.

__kernel void fill_f32(__global float* t, int to, float value, int n) {
    int i = get_global_id(0);
    if (i < n) t[to + i] = value;
}

__kernel void add_f32(__global const float* a, int ao, __global const float* b, int bo, __global float* out, int oo, int n) {
    int i = get_global_id(0);
    if (i < n) out[oo + i] = a[ao + i] + b[bo + i];
}

__kernel void axpy_f32(float alpha, __global const float* x, int xo, __global float* y, int yo, int n) {
    int i = get_global_id(0);
    if (i < n) y[yo + i] += alpha * x[xo + i];
}

__kernel void scale_f32(__global const float* x, int xo, float s, __global float* out, int oo, int n) {
    int i = get_global_id(0);
    if (i < n) out[oo + i] = s * x[xo + i];
}

__kernel void swiglu_f32(__global const float* gate, int gto, __global const float* up, int uo,
                         __global float* out, int oo, int n) {
    int i = get_global_id(0);
    if (i < n) {
        float g = gate[gto + i];
        out[oo + i] = g * sigmoidf(g) * up[uo + i];
    }
}

__kernel void swiglu_backward_f32(__global const float* dout, int go, __global const float* gate, int gto,
                                  __global const float* up, int uo, __global float* dgate, int dgo,
                                  __global float* dup, int duo, int n) {
    int i = get_global_id(0);
    if (i < n) {
        float g = gate[gto + i];
        float sg = sigmoidf(g);
        float d = dout[go + i];
        dgate[dgo + i] = d * up[uo + i] * sg * (1.0f + g * (1.0f - sg));
        dup[duo + i] = d * g * sg;
    }
}
