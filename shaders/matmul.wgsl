// Shared epilogue of the gemv and gemm kernels (MatMulParams in matmul.go):
//   y[m·ldy + ycol + n] = act(sum + b[n])   (+ the old y when ACCUM: the
// fused residual add, applied after the activation).
// bias_at and row_range are generated with the bindings (matmul.go).

fn mm_store(m: u32, n: u32, sum: f32) {
    let i = m * P.ldy + P.ycol + n;
    var v = activate(sum + bias_at(n));
    if (ACCUM) {
        v = v + y[i];
    }
    y[i] = v;
}
