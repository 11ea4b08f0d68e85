// Activation functions, selected by the injected constant ACT:
//   0 none, 1 GELU (erf, exact), 2 GELU (tanh approximation),
//   3 quick-GELU x·σ(1.702x) (CLIP), 4 SiLU x·σ(x) (Llama/Phi-3 gate).
// Included by every kernel that fuses an activation; ActRef is the reference.

// erf by Abramowitz & Stegun 7.1.26 refined: |error| < 1.5e-7.
fn erf_approx(x: f32) -> f32 {
    let s = sign(x);
    let a = abs(x);
    let t = 1.0 / (1.0 + 0.3275911 * a);
    let y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * exp(-a * a);
    return s * y;
}

fn sigmoid(x: f32) -> f32 {
    // Written so that neither branch overflows exp for large |x|.
    if (x >= 0.0) {
        return 1.0 / (1.0 + exp(-x));
    }
    let e = exp(x);
    return e / (1.0 + e);
}

fn activate(x: f32) -> f32 {
    if (ACT == 1u) {
        return 0.5 * x * (1.0 + erf_approx(x * 0.70710678118654752));
    }
    if (ACT == 2u) {
        let inner = 0.7978845608028654 * (x + 0.044715 * x * x * x);
        // tanh via exp, clamped: WGSL tanh of large arguments is NaN on some drivers.
        let c = clamp(inner, -15.0, 15.0);
        let e = exp(2.0 * c);
        return 0.5 * x * (1.0 + (e - 1.0) / (e + 1.0));
    }
    if (ACT == 3u) {
        return x * sigmoid(1.702 * x);
    }
    if (ACT == 4u) {
        return x * sigmoid(x);
    }
    return x;
}
