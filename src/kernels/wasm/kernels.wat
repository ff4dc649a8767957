;; edge-rnn WebAssembly SIMD kernels. Assembled by scripts/build-wasm.ts into kernels-module.ts
;; twice: the baseline module (128-bit SIMD only, no FMA: the results are fixed by IEEE f32
;; rounding and src/kernels/wasm/reference.ts mirrors every kernel bit for bit), and the
;; relaxed-SIMD module: only the kernels that use a _RELAXED macro (mv_f32, mm_f32), assembled
;; with those definitions swapped in (their multiply-adds as f32x4.relaxed_madd; see MAC below
;; and docs/kernels.md), over the baseline instance's memory.
;;
;; All pointers are byte offsets into the exported memory; every buffer is 16-byte aligned.
;;
;; Weight layout (laid out once at load by src/kernels/wasm/layout.ts):
;;   rows are permuted so that one 4-row panel holds one gate of 4 consecutive hidden units,
;;   and the G gates of a unit group follow each other (LSTM: i f g o, GRU: r z n);
;;   panels are grouped by four into superpanels of 16 rows;
;;   f32:  [superpanel][col][16]            (column j of 16 rows is one 64-byte line)
;;   int8: [superpanel][colpair][16][2] i16 (rows' weights for columns 2p, 2p+1 side by side, widened
;;         to i16 at load: a row's pair loads as one i32 splat, no widening in the loop)
;; Single-stream kernels put 4 rows in the lanes of a vector; batched kernels put 4 streams
;; in the lanes (activations transposed: xT [cols][n]) and splat one weight per row. Both
;; add the columns in order, so a batched step equals the single steps bit for bit.

(module
  (memory (export "memory") 1)

  ;; ------------------------------------------------------------------ math (macros, see scripts/build-wasm.ts)
  ;; The math is pasted into the loops that use it: V8 does not inline wasm calls, and a call
  ;; spills every live vector. A function using the macros declares MATH_LOCALS (the
  ;; temporaries; constants come from the table below). EXP uses $_k $_r $_p $_t $_z2 $_e0-1;
  ;; TANH $_a $_z $_s $_l $_k $_z2 $_e0-2. {d} may be the same local as {x}.
  ;; The polynomials are evaluated in Estrin's form (independent halves joined by powers of the
  ;; argument), not Horner's: the gate loops are bound by the latency of one activation's
  ;; dependency chain (a vector's ~45 instructions fill the scheduler a few iterations deep), and
  ;; Estrin cuts the chain's multiply-add steps (tanh: from 6 to 3).
  ;;@def MATH_LOCALS
    (local $_k v128) (local $_r v128) (local $_p v128) (local $_t v128)
    (local $_a v128) (local $_z v128) (local $_s v128) (local $_l v128)
    (local $_z2 v128) (local $_e0 v128) (local $_e1 v128) (local $_e2 v128)
  ;;@end
  ;; The math constants, stored once at instantiation at bytes [16, 576) (heap_base: the first free
  ;; byte). V8 rebuilds a v128.const from immediates at every use, inside loops (3 instructions,
  ;; one on the shuffle port); a load from this table is one. The macros read them with
  ;; (v128.load offset=ADDR (i32.const 0)).
  (global (export "heap_base") i32 (i32.const 576))
  (func $init_constants
    ;; magic = 1.5 * 2^23: v + magic rounds v to an integer, ties to even, for |v| < 2^22 (as
    ;; f32.nearest); the sum's bits are then 0x4b400000 + round(v). bias = 127 - 0x4b400000.
    (v128.store offset=16 (i32.const 0) (v128.const f32x4 88.0 88.0 88.0 88.0))
    (v128.store offset=32 (i32.const 0) (v128.const f32x4 -87.0 -87.0 -87.0 -87.0))
    (v128.store offset=48 (i32.const 0) (v128.const f32x4 1.44269504088896341 1.44269504088896341 1.44269504088896341 1.44269504088896341))
    (v128.store offset=64 (i32.const 0) (v128.const f32x4 12582912.0 12582912.0 12582912.0 12582912.0))
    (v128.store offset=80 (i32.const 0) (v128.const i32x4 -1262485377 -1262485377 -1262485377 -1262485377))
    (v128.store offset=96 (i32.const 0) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375))
    (v128.store offset=112 (i32.const 0) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))
    (v128.store offset=128 (i32.const 0) (v128.const f32x4 8.3125038072e-03 8.3125038072e-03 8.3125038072e-03 8.3125038072e-03))
    (v128.store offset=144 (i32.const 0) (v128.const f32x4 4.1890338063e-02 4.1890338063e-02 4.1890338063e-02 4.1890338063e-02))
    (v128.store offset=160 (i32.const 0) (v128.const f32x4 1.6667115688e-01 1.6667115688e-01 1.6667115688e-01 1.6667115688e-01))
    (v128.store offset=176 (i32.const 0) (v128.const f32x4 4.9999231100e-01 4.9999231100e-01 4.9999231100e-01 4.9999231100e-01))
    (v128.store offset=224 (i32.const 0) (v128.const f32x4 1.0 1.0 1.0 1.0))
    ;; tanh: clamp, odd numerator a1..a13, even denominator b0..b6, tiny threshold
    (v128.store offset=240 (i32.const 0) (v128.const f32x4 9.0 9.0 9.0 9.0))
    (v128.store offset=256 (i32.const 0) (v128.const f32x4 -9.0 -9.0 -9.0 -9.0))
    (v128.store offset=272 (i32.const 0) (v128.const f32x4 4.89352455891786e-03 4.89352455891786e-03 4.89352455891786e-03 4.89352455891786e-03))
    (v128.store offset=288 (i32.const 0) (v128.const f32x4 6.37261928875436e-04 6.37261928875436e-04 6.37261928875436e-04 6.37261928875436e-04))
    (v128.store offset=304 (i32.const 0) (v128.const f32x4 1.48572235717979e-05 1.48572235717979e-05 1.48572235717979e-05 1.48572235717979e-05))
    (v128.store offset=320 (i32.const 0) (v128.const f32x4 5.12229709037114e-08 5.12229709037114e-08 5.12229709037114e-08 5.12229709037114e-08))
    (v128.store offset=336 (i32.const 0) (v128.const f32x4 -8.60467152213735e-11 -8.60467152213735e-11 -8.60467152213735e-11 -8.60467152213735e-11))
    (v128.store offset=352 (i32.const 0) (v128.const f32x4 2.00018790482477e-13 2.00018790482477e-13 2.00018790482477e-13 2.00018790482477e-13))
    (v128.store offset=368 (i32.const 0) (v128.const f32x4 -2.76076847742355e-16 -2.76076847742355e-16 -2.76076847742355e-16 -2.76076847742355e-16))
    (v128.store offset=384 (i32.const 0) (v128.const f32x4 4.89352518554385e-03 4.89352518554385e-03 4.89352518554385e-03 4.89352518554385e-03))
    (v128.store offset=400 (i32.const 0) (v128.const f32x4 2.26843463243900e-03 2.26843463243900e-03 2.26843463243900e-03 2.26843463243900e-03))
    (v128.store offset=416 (i32.const 0) (v128.const f32x4 1.18534705686654e-04 1.18534705686654e-04 1.18534705686654e-04 1.18534705686654e-04))
    (v128.store offset=432 (i32.const 0) (v128.const f32x4 1.19825839466702e-06 1.19825839466702e-06 1.19825839466702e-06 1.19825839466702e-06))
    ;; sigmoid: x clamped to [-88, 87] (exp(-x)'s clamp), -log2(e), -c5, -c3 (see SIGMOID)
    (v128.store offset=448 (i32.const 0) (v128.const f32x4 87.0 87.0 87.0 87.0))
    ;; int8 activation clamp
    (v128.store offset=464 (i32.const 0) (v128.const f32x4 127.0 127.0 127.0 127.0))
    (v128.store offset=480 (i32.const 0) (v128.const f32x4 -127.0 -127.0 -127.0 -127.0))
    ;; the bits of magic (1.5 * 2^23): (v + magic) bits - these = round(v), ties to even
    (v128.store offset=496 (i32.const 0) (v128.const i32x4 0x4b400000 0x4b400000 0x4b400000 0x4b400000))
    (v128.store offset=512 (i32.const 0) (v128.const f32x4 -88.0 -88.0 -88.0 -88.0))
    (v128.store offset=528 (i32.const 0) (v128.const f32x4 -1.44269504088896341 -1.44269504088896341 -1.44269504088896341 -1.44269504088896341))
    (v128.store offset=544 (i32.const 0) (v128.const f32x4 -8.3125038072e-03 -8.3125038072e-03 -8.3125038072e-03 -8.3125038072e-03))
    (v128.store offset=560 (i32.const 0) (v128.const f32x4 -1.6667115688e-01 -1.6667115688e-01 -1.6667115688e-01 -1.6667115688e-01)))
  (start $init_constants)

  ;; {d} = exp({x}), Cephes expf's range reduction: x = k ln2 + r, |r| <= ln2/2, then
  ;; e^r ~ 1 + r + r^2 q(r), q of degree 3 (c2..c5, a minimax fit of relative error, 1.05e-7, in
  ;; place of Cephes' degree 5: 5 fewer instructions an exp; within 1.7e-7 of e^r evaluated in
  ;; f32), 2^k via the exponent.
  ;; The clamp uses pmin/pmax (one instruction each; min/max are ~7 for NaN and -0 rules): x is the
  ;; first operand, so a NaN x stays NaN as with min/max, and the clamp bounds are not -0.
  ;;@def EXP {d} {x}
    (local.set {d} (f32x4.pmax (f32x4.pmin (local.get {x}) (v128.load offset=16 (i32.const 0))) (v128.load offset=32 (i32.const 0))))
    (local.set $_t (f32x4.add (f32x4.mul (local.get {d}) (v128.load offset=48 (i32.const 0))) (v128.load offset=64 (i32.const 0))))
    (local.set $_k (f32x4.sub (local.get $_t) (v128.load offset=64 (i32.const 0))))
    (local.set $_r (f32x4.sub
      (f32x4.sub (local.get {d}) (f32x4.mul (local.get $_k) (v128.load offset=96 (i32.const 0))))
      (f32x4.mul (local.get $_k) (v128.load offset=112 (i32.const 0)))))
    ;; q = (c5 r + c4) r^2 + (c3 r + c2)
    (local.set $_z2 (f32x4.mul (local.get $_r) (local.get $_r)))
    (local.set $_e0 (f32x4.add (f32x4.mul (v128.load offset=128 (i32.const 0)) (local.get $_r)) (v128.load offset=144 (i32.const 0))))
    (local.set $_e1 (f32x4.add (f32x4.mul (v128.load offset=160 (i32.const 0)) (local.get $_r)) (v128.load offset=176 (i32.const 0))))
    (local.set $_p (f32x4.add (f32x4.mul (local.get $_e0) (local.get $_z2)) (local.get $_e1)))
    ;; p = p r^2 + r + 1
    (local.set $_p (f32x4.add
      (f32x4.add (f32x4.mul (local.get $_p) (local.get $_z2)) (local.get $_r))
      (v128.load offset=224 (i32.const 0))))
    ;; 2^k = (k + 127) << 23, k from the magic sum's bits
    (local.set {d} (f32x4.mul (local.get $_p)
      (i32x4.shl (i32x4.add (local.get $_t) (v128.load offset=80 (i32.const 0))) (i32.const 23))))
  ;;@end

  ;; {d} = sigmoid({x}) = 1 / (1 + exp(-x)): EXP of y = -x with the negation folded into the
  ;; constants instead of a neg (which V8 builds from a fresh sign mask each time: 3 instructions).
  ;; Every step is EXP's on y, negated exactly: clamp(-x, -87, 88) = -clamp(x, -88, 87) =: -u;
  ;; y log2e = u (-log2e); r = (y - k c1) - k c2 = -((u + k c1) + k c2) =: -w; c5 r + c4 =
  ;; (-c5) w + c4 (likewise c3); r^2 = w^2; q r^2 + r = q r^2 - w. Same bits as EXP(-x).
  ;;@def SIGMOID {d} {x}
    (local.set $_a (f32x4.pmin (f32x4.pmax (local.get {x}) (v128.load offset=512 (i32.const 0))) (v128.load offset=448 (i32.const 0))))
    (local.set $_t (f32x4.add (f32x4.mul (local.get $_a) (v128.load offset=528 (i32.const 0))) (v128.load offset=64 (i32.const 0))))
    (local.set $_k (f32x4.sub (local.get $_t) (v128.load offset=64 (i32.const 0))))
    (local.set $_r (f32x4.add
      (f32x4.add (local.get $_a) (f32x4.mul (local.get $_k) (v128.load offset=96 (i32.const 0))))
      (f32x4.mul (local.get $_k) (v128.load offset=112 (i32.const 0)))))
    (local.set $_z2 (f32x4.mul (local.get $_r) (local.get $_r)))
    (local.set $_e0 (f32x4.add (f32x4.mul (v128.load offset=544 (i32.const 0)) (local.get $_r)) (v128.load offset=144 (i32.const 0))))
    (local.set $_e1 (f32x4.add (f32x4.mul (v128.load offset=560 (i32.const 0)) (local.get $_r)) (v128.load offset=176 (i32.const 0))))
    (local.set $_p (f32x4.add (f32x4.mul (local.get $_e0) (local.get $_z2)) (local.get $_e1)))
    (local.set $_p (f32x4.add
      (f32x4.sub (f32x4.mul (local.get $_p) (local.get $_z2)) (local.get $_r))
      (v128.load offset=224 (i32.const 0))))
    (local.set {d} (f32x4.mul (local.get $_p)
      (i32x4.shl (i32x4.add (local.get $_t) (v128.load offset=80 (i32.const 0))) (i32.const 23))))
    (local.set {d} (f32x4.div (v128.load offset=224 (i32.const 0)) (f32x4.add (v128.load offset=224 (i32.const 0)) (local.get {d}))))
  ;;@end

  ;; {d} = tanh({x}): a rational function of x clamped to ±9 (odd degree-13 numerator over even
  ;; degree-6 denominator; Eigen's float tanh). Within 4e-7 relative of tanh; no exp and one
  ;; division, against Cephes' two branches (polynomial and exp). Eigen returns x itself below
  ;; |x| 0.0004; the rational form there is x (1 - 1.3e-7), within the same bound down to |x| 1e-36
  ;; (below, x a1 is subnormal: absolute error < 2e-43), so the select (abs, compare, blend: about 7
  ;; instructions in V8) is left out.
  ;;@def TANH {d} {x}
    (local.set $_a (f32x4.pmax (f32x4.pmin (local.get {x}) (v128.load offset=240 (i32.const 0))) (v128.load offset=256 (i32.const 0))))
    (local.set $_z (f32x4.mul (local.get $_a) (local.get $_a)))
    ;; s = a ((a13 z^2 + (a11 z + a9)) z^4 + ((a7 z + a5) z^2 + (a3 z + a1)))
    (local.set $_z2 (f32x4.mul (local.get $_z) (local.get $_z)))
    (local.set $_k (f32x4.mul (local.get $_z2) (local.get $_z2)))
    (local.set $_e0 (f32x4.add (f32x4.mul (v128.load offset=288 (i32.const 0)) (local.get $_z)) (v128.load offset=272 (i32.const 0))))
    (local.set $_e1 (f32x4.add (f32x4.mul (v128.load offset=320 (i32.const 0)) (local.get $_z)) (v128.load offset=304 (i32.const 0))))
    (local.set $_e2 (f32x4.add (f32x4.mul (v128.load offset=352 (i32.const 0)) (local.get $_z)) (v128.load offset=336 (i32.const 0))))
    (local.set $_s (f32x4.add (f32x4.mul (v128.load offset=368 (i32.const 0)) (local.get $_z2)) (local.get $_e2)))
    (local.set $_s (f32x4.add
      (f32x4.mul (local.get $_s) (local.get $_k))
      (f32x4.add (f32x4.mul (local.get $_e1) (local.get $_z2)) (local.get $_e0))))
    (local.set $_s (f32x4.mul (local.get $_s) (local.get $_a)))
    ;; l = (b6 z + b4) z^2 + (b2 z + b0)
    (local.set $_l (f32x4.add
      (f32x4.mul (f32x4.add (f32x4.mul (v128.load offset=432 (i32.const 0)) (local.get $_z)) (v128.load offset=416 (i32.const 0))) (local.get $_z2))
      (f32x4.add (f32x4.mul (v128.load offset=400 (i32.const 0)) (local.get $_z)) (v128.load offset=384 (i32.const 0)))))
    (local.set {d} (f32x4.div (local.get $_s) (local.get $_l)))
  ;;@end

  ;; Exported for the tests, which hold the macros to their TypeScript mirrors: y[0..n) = f(x[0..n)), n % 4 == 0.
  (func (export "exp_v") (param $x i32) (param $y i32) (param $n i32)
    (local $v v128)
    ;;@MATH_LOCALS
    (block $done (loop $l
      (br_if $done (i32.le_s (local.get $n) (i32.const 0)))
      (local.set $v (v128.load (local.get $x)))
      ;;@EXP $v $v
      (v128.store (local.get $y) (local.get $v))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (local.set $y (i32.add (local.get $y) (i32.const 16)))
      (local.set $n (i32.sub (local.get $n) (i32.const 4)))
      (br $l))))
  (func (export "sigmoid_v") (param $x i32) (param $y i32) (param $n i32)
    (local $v v128)
    ;;@MATH_LOCALS
    (block $done (loop $l
      (br_if $done (i32.le_s (local.get $n) (i32.const 0)))
      (local.set $v (v128.load (local.get $x)))
      ;;@SIGMOID $v $v
      (v128.store (local.get $y) (local.get $v))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (local.set $y (i32.add (local.get $y) (i32.const 16)))
      (local.set $n (i32.sub (local.get $n) (i32.const 4)))
      (br $l))))
  (func (export "tanh_v") (param $x i32) (param $y i32) (param $n i32)
    (local $v v128)
    ;;@MATH_LOCALS
    (block $done (loop $l
      (br_if $done (i32.le_s (local.get $n) (i32.const 0)))
      (local.set $v (v128.load (local.get $x)))
      ;;@TANH $v $v
      (v128.store (local.get $y) (local.get $v))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (local.set $y (i32.add (local.get $y) (i32.const 16)))
      (local.set $n (i32.sub (local.get $n) (i32.const 4)))
      (br $l))))

  ;; ------------------------------------------------------------------ cells (4 lanes)
  ;; Gate pre-activations come in with both biases added: p = (Wx + bI) + (Uh + bH). The cell
  ;; arithmetic, one f32 operation at a time, is specified by lstmCellF32 / gruCellF32 /
  ;; rnnCellF32 in src/kernels/wasm/reference.ts (the tests hold every gate kernel to them):
  ;;   LSTM: c' = σ(f) c + σ(i) tanh(g);  h' = σ(o) tanh(c')
  ;;   GRU:  r = σ(pr), z = σ(pz), n = tanh(xn + r hn), h' = (1 - z) n + z h
  ;;         (xn = Wn x + bIn, hn = Un h + bHn: PyTorch's reset-after form)
  ;; The gate kernels name their temporaries $si $sf $tg $so $cn $tc (plus the math temporaries).

  ;; RNN: tanh ({relu} = 0) or relu ({relu} = 1).  Stores at {hp}.
  ;;@def RNN_CELL {p} {relu} {hp}
    (if (local.get {relu})
      (then (local.set $tc (f32x4.max (local.get {p}) (v128.const f32x4 0.0 0.0 0.0 0.0))))
      (else
        ;;@TANH $tc {p}
      ))
    (v128.store (local.get {hp}) (local.get $tc))
  ;;@end

  ;; ------------------------------------------------------------------ multiply-accumulate
  ;; The matrix kernels' one accumulation step, {a} += {b} {c} (MACW: {a} += W[{off}] x, mv_f32's
  ;; form). The baseline module rounds the product, then the sum (f32x4.mul, f32x4.add); the
  ;; relaxed-SIMD module (scripts/build-wasm.ts swaps in the _RELAXED definitions) uses
  ;; f32x4.relaxed_madd, which the engine runs as one fused multiply-add where the CPU has one
  ;; (x64 FMA3, arm64) and as mul then add elsewhere: rounded once or twice, never otherwise.
  ;; Both matrix kernels add the columns in the same order either way, so a batched step still
  ;; equals the single steps bit for bit within one module.
  ;;@def MAC {a} {b} {c}
    (local.set {a} (f32x4.add (local.get {a}) (f32x4.mul (local.get {b}) (local.get {c}))))
  ;;@end
  ;;@def MAC_RELAXED {a} {b} {c}
    (local.set {a} (f32x4.relaxed_madd (local.get {b}) (local.get {c}) (local.get {a})))
  ;;@end
  ;;@def MACW {a} {off}
    (local.set {a} (f32x4.add (local.get {a}) (f32x4.mul (v128.load offset={off} (local.get $w)) (local.get $xv))))
  ;;@end
  ;;@def MACW_RELAXED {a} {off}
    (local.set {a} (f32x4.relaxed_madd (v128.load offset={off} (local.get $w)) (local.get $xv) (local.get {a})))
  ;;@end

  ;; ------------------------------------------------------------------ single stream
  ;; y [sp*16] = W x.  W [sp][cols][16] f32, x [cols] -> y.  16 rows per pass.
  (func (export "mv_f32") (param $w i32) (param $x i32) (param $y i32) (param $sp i32) (param $cols i32)
    (local $xp i32) (local $xe i32) (local $xv v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local.set $xe (i32.add (local.get $x) (i32.shl (local.get $cols) (i32.const 2))))
    (block $done (loop $panel
      (br_if $done (i32.eqz (local.get $sp)))
      (local.set $a0 (v128.const i32x4 0 0 0 0))
      (local.set $a1 (v128.const i32x4 0 0 0 0))
      (local.set $a2 (v128.const i32x4 0 0 0 0))
      (local.set $a3 (v128.const i32x4 0 0 0 0))
      (local.set $xp (local.get $x))
      (block $cdone (loop $col
        (br_if $cdone (i32.ge_u (local.get $xp) (local.get $xe)))
        (local.set $xv (v128.load32_splat (local.get $xp)))
        ;;@MACW $a0 0
        ;;@MACW $a1 16
        ;;@MACW $a2 32
        ;;@MACW $a3 48
        (local.set $w (i32.add (local.get $w) (i32.const 64)))
        (local.set $xp (i32.add (local.get $xp) (i32.const 4)))
        (br $col)))
      (v128.store offset=0 (local.get $y) (local.get $a0))
      (v128.store offset=16 (local.get $y) (local.get $a1))
      (v128.store offset=32 (local.get $y) (local.get $a2))
      (v128.store offset=48 (local.get $y) (local.get $a3))
      (local.set $y (i32.add (local.get $y) (i32.const 64)))
      (local.set $sp (i32.sub (local.get $sp) (i32.const 1)))
      (br $panel))))

  ;; Dynamic symmetric int8 quantization of an activation vector:
  ;;   m = max |x|;  m == 0 -> q = 0, returns 0;  else q = clamp(roundeven(x * (127 / m)), ±127), returns m / 127.
  ;; x [n] f32 -> q [n] i16 (so that pairs of columns load as one i32).  n % 8 == 0.
  (func $quant_act (export "quant_act") (param $x i32) (param $q i32) (param $n i32) (result f32)
    (local $i i32) (local $m v128) (local $ms f32) (local $inv v128) (local $va v128) (local $vb v128)
    (local.set $m (v128.const i32x4 0 0 0 0))
    (local.set $i (i32.const 0))
    (block $d1 (loop $l1
      (br_if $d1 (i32.ge_u (local.get $i) (local.get $n)))
      ;; pmax (one instruction) is the reference's `if (a > m) m = a`: a NaN |x| is skipped
      (local.set $m (f32x4.pmax (local.get $m) (f32x4.abs (v128.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2)))))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $l1)))
    (local.set $ms (f32.max
      (f32.max (f32x4.extract_lane 0 (local.get $m)) (f32x4.extract_lane 1 (local.get $m)))
      (f32.max (f32x4.extract_lane 2 (local.get $m)) (f32x4.extract_lane 3 (local.get $m)))))
    ;; m == 0: a zero scale, and inv = 0 makes every q zero below.
    (local.set $inv (f32x4.splat
      (if (result f32) (f32.eq (local.get $ms) (f32.const 0))
        (then (f32.const 0)) (else (f32.div (f32.const 127) (local.get $ms))))))
    (local.set $i (i32.const 0))
    (block $d2 (loop $l2
      (br_if $d2 (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $va (v128.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2)))))
      (local.set $vb (v128.load offset=16 (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2)))))
      ;;@Q127 $va
      ;;@Q127 $vb
      (v128.store (i32.add (local.get $q) (i32.shl (local.get $i) (i32.const 1)))
        (i16x8.narrow_i32x4_s (local.get $va) (local.get $vb)))
      (local.set $i (i32.add (local.get $i) (i32.const 8)))
      (br $l2)))
    (f32.div (local.get $ms) (f32.const 127)))

  ;; {v} = clamp(roundeven({v} * $inv), -127, 127) as i32x4 (NaN -> 0, as the reference's Int16Array
  ;; store). Clamping to the integer bounds before rounding gives the same integers, and in
  ;; [-127, 127] adding magic = 1.5 * 2^23 rounds to an integer, ties to even, whose value is the
  ;; sum's bits - magic's bits: 7 single instructions, where nearest + trunc_sat + two integer
  ;; clamps took about twice that (V8's trunc_sat is a NaN- and overflow-fixing sequence).
  ;;@def Q127 {v}
    (local.set {v} (f32x4.mul (local.get {v}) (local.get $inv)))
    (local.set {v} (i32x4.sub
      (f32x4.add
        (f32x4.pmax
          (f32x4.pmin (v128.and (local.get {v}) (f32x4.eq (local.get {v}) (local.get {v}))) (v128.load offset=464 (i32.const 0)))
          (v128.load offset=480 (i32.const 0)))
        (v128.load offset=64 (i32.const 0)))
      (v128.load offset=496 (i32.const 0))))
  ;;@end

  ;; y [sp*16] = (Q xq) * (scale * sx).  Q [sp][cp][16][2] int8 values as i16, xq [2cp] i16, scale [sp*16] f32.
  (func $mv_q8 (export "mv_q8") (param $w i32) (param $xq i32) (param $sx f32) (param $scale i32) (param $y i32)
    (param $sp i32) (param $cp i32)
    (local $xp i32) (local $xe i32) (local $xv v128) (local $sxv v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local.set $xe (i32.add (local.get $xq) (i32.shl (local.get $cp) (i32.const 2))))
    (local.set $sxv (f32x4.splat (local.get $sx)))
    (block $done (loop $panel
      (br_if $done (i32.eqz (local.get $sp)))
      (local.set $a0 (v128.const i32x4 0 0 0 0))
      (local.set $a1 (v128.const i32x4 0 0 0 0))
      (local.set $a2 (v128.const i32x4 0 0 0 0))
      (local.set $a3 (v128.const i32x4 0 0 0 0))
      (local.set $xp (local.get $xq))
      (block $cdone (loop $col
        (br_if $cdone (i32.ge_u (local.get $xp) (local.get $xe)))
        (local.set $xv (v128.load32_splat (local.get $xp)))
        (local.set $a0 (i32x4.add (local.get $a0) (i32x4.dot_i16x8_s (v128.load offset=0 (local.get $w)) (local.get $xv))))
        (local.set $a1 (i32x4.add (local.get $a1) (i32x4.dot_i16x8_s (v128.load offset=16 (local.get $w)) (local.get $xv))))
        (local.set $a2 (i32x4.add (local.get $a2) (i32x4.dot_i16x8_s (v128.load offset=32 (local.get $w)) (local.get $xv))))
        (local.set $a3 (i32x4.add (local.get $a3) (i32x4.dot_i16x8_s (v128.load offset=48 (local.get $w)) (local.get $xv))))
        (local.set $w (i32.add (local.get $w) (i32.const 64)))
        (local.set $xp (i32.add (local.get $xp) (i32.const 4)))
        (br $col)))
      (v128.store offset=0 (local.get $y) (f32x4.mul (f32x4.convert_i32x4_s (local.get $a0))
        (f32x4.mul (v128.load offset=0 (local.get $scale)) (local.get $sxv))))
      (v128.store offset=16 (local.get $y) (f32x4.mul (f32x4.convert_i32x4_s (local.get $a1))
        (f32x4.mul (v128.load offset=16 (local.get $scale)) (local.get $sxv))))
      (v128.store offset=32 (local.get $y) (f32x4.mul (f32x4.convert_i32x4_s (local.get $a2))
        (f32x4.mul (v128.load offset=32 (local.get $scale)) (local.get $sxv))))
      (v128.store offset=48 (local.get $y) (f32x4.mul (f32x4.convert_i32x4_s (local.get $a3))
        (f32x4.mul (v128.load offset=48 (local.get $scale)) (local.get $sxv))))
      (local.set $y (i32.add (local.get $y) (i32.const 64)))
      (local.set $scale (i32.add (local.get $scale) (i32.const 64)))
      (local.set $sp (i32.sub (local.get $sp) (i32.const 1)))
      (br $panel))))

  ;; quant_act then mv_q8 in one call from JavaScript (the single-stream int8 step makes two of
  ;; these a layer; a JS-to-wasm call costs about as much as quantizing a short vector).
  (func (export "qmv_q8") (param $w i32) (param $x i32) (param $xq i32) (param $n i32) (param $scale i32)
    (param $y i32) (param $sp i32) (param $cp i32)
    (call $mv_q8 (local.get $w) (local.get $xq) (call $quant_act (local.get $x) (local.get $xq) (local.get $n))
      (local.get $scale) (local.get $y) (local.get $sp) (local.get $cp)))

  ;; Gates, single stream. gx, gh, bi, bh [rows] in panel order; c, h [Hp]; groups = Hp / 4.
  ;; (gx + bi) + (gh + bh) of the 4 rows at byte offset {o}
  ;;@def PRE1 {d} {o}
    (local.set {d} (f32x4.add
      (f32x4.add (v128.load offset={o} (local.get $gx)) (v128.load offset={o} (local.get $bi)))
      (f32x4.add (v128.load offset={o} (local.get $gh)) (v128.load offset={o} (local.get $bh)))))
  ;;@end
  ;; Single-stream gates in passes, one activation per loop body (with several in one body V8
  ;; spills most live vectors): ACT_ROWS turns gate rows at byte offset {off} of each group
  ;; ({stride} bytes a group) into {act}((gx + bi) + (gh + bh)) in place in gx; a last pass
  ;; combines them per group. Same operations, in the same order, as lstmCellF32 / gruCellF32.
  ;;@def ACT_ROWS {off} {stride} {act}
    (local.set $o (i32.const {off}))
    (loop $rows
      (local.set $v (f32x4.add
        (f32x4.add (v128.load (i32.add (local.get $gx) (local.get $o))) (v128.load (i32.add (local.get $bi) (local.get $o))))
        (f32x4.add (v128.load (i32.add (local.get $gh) (local.get $o))) (v128.load (i32.add (local.get $bh) (local.get $o))))))
      ;;@{act} $v $v
      (v128.store (i32.add (local.get $gx) (local.get $o)) (local.get $v))
      (local.set $o (i32.add (local.get $o) (i32.const {stride})))
      (br_if $rows (i32.lt_u (local.get $o) (local.get $oe))))
  ;;@end
  (func (export "lstm_gates") (param $gx i32) (param $gh i32) (param $bi i32) (param $bh i32)
    (param $c i32) (param $h i32) (param $groups i32)
    (local $o i32) (local $oe i32) (local $v v128)
    (local $si v128) (local $sf v128) (local $tg v128) (local $so v128) (local $cn v128) (local $tc v128)
    ;;@MATH_LOCALS
    (if (i32.eqz (local.get $groups)) (then (return)))
    (local.set $oe (i32.shl (local.get $groups) (i32.const 6)))
    ;;@ACT_ROWS 0 64 SIGMOID
    ;;@ACT_ROWS 16 64 SIGMOID
    ;;@ACT_ROWS 32 64 TANH
    ;;@ACT_ROWS 48 64 SIGMOID
    (block $done (loop $u
      (br_if $done (i32.eqz (local.get $groups)))
      (local.set $si (v128.load offset=0 (local.get $gx)))
      (local.set $sf (v128.load offset=16 (local.get $gx)))
      (local.set $tg (v128.load offset=32 (local.get $gx)))
      (local.set $so (v128.load offset=48 (local.get $gx)))
      (local.set $cn (f32x4.add
        (f32x4.mul (local.get $sf) (v128.load (local.get $c)))
        (f32x4.mul (local.get $si) (local.get $tg))))
      (v128.store (local.get $c) (local.get $cn))
      ;;@TANH $tc $cn
      (v128.store (local.get $h) (f32x4.mul (local.get $so) (local.get $tc)))
      (local.set $gx (i32.add (local.get $gx) (i32.const 64)))
      (local.set $c (i32.add (local.get $c) (i32.const 16)))
      (local.set $h (i32.add (local.get $h) (i32.const 16)))
      (local.set $groups (i32.sub (local.get $groups) (i32.const 1)))
      (br $u))))

  (func (export "gru_gates") (param $gx i32) (param $gh i32) (param $bi i32) (param $bh i32)
    (param $h i32) (param $groups i32)
    (local $o i32) (local $oe i32) (local $v v128)
    (local $si v128) (local $sf v128) (local $cn v128) (local $tc v128)
    ;;@MATH_LOCALS
    (if (i32.eqz (local.get $groups)) (then (return)))
    (local.set $oe (i32.mul (local.get $groups) (i32.const 48)))
    ;;@ACT_ROWS 0 48 SIGMOID
    ;;@ACT_ROWS 16 48 SIGMOID
    (block $done (loop $u
      (br_if $done (i32.eqz (local.get $groups)))
      (local.set $si (v128.load offset=0 (local.get $gx)))
      (local.set $sf (v128.load offset=16 (local.get $gx)))
      ;; n = tanh((Wn x + bIn) + r (Un h + bHn))
      (local.set $cn (f32x4.add
        (f32x4.add (v128.load offset=32 (local.get $gx)) (v128.load offset=32 (local.get $bi)))
        (f32x4.mul (local.get $si) (f32x4.add (v128.load offset=32 (local.get $gh)) (v128.load offset=32 (local.get $bh))))))
      ;;@TANH $tc $cn
      (v128.store (local.get $h) (f32x4.add
        (f32x4.mul (f32x4.sub (v128.load offset=224 (i32.const 0)) (local.get $sf)) (local.get $tc))
        (f32x4.mul (local.get $sf) (v128.load (local.get $h)))))
      (local.set $gx (i32.add (local.get $gx) (i32.const 48)))
      (local.set $gh (i32.add (local.get $gh) (i32.const 48)))
      (local.set $bi (i32.add (local.get $bi) (i32.const 48)))
      (local.set $bh (i32.add (local.get $bh) (i32.const 48)))
      (local.set $h (i32.add (local.get $h) (i32.const 16)))
      (local.set $groups (i32.sub (local.get $groups) (i32.const 1)))
      (br $u))))

  (func (export "rnn_gates") (param $gx i32) (param $gh i32) (param $bi i32) (param $bh i32)
    (param $h i32) (param $groups i32) (param $relu i32)
    (local $p v128) (local $tc v128)
    ;;@MATH_LOCALS
    (block $done (loop $u
      (br_if $done (i32.eqz (local.get $groups)))
      ;;@PRE1 $p 0
      ;;@RNN_CELL $p $relu $h
      (local.set $gx (i32.add (local.get $gx) (i32.const 16)))
      (local.set $gh (i32.add (local.get $gh) (i32.const 16)))
      (local.set $bi (i32.add (local.get $bi) (i32.const 16)))
      (local.set $bh (i32.add (local.get $bh) (i32.const 16)))
      (local.set $h (i32.add (local.get $h) (i32.const 16)))
      (local.set $groups (i32.sub (local.get $groups) (i32.const 1)))
      (br $u))))

  ;; ------------------------------------------------------------------ batched (streams in lanes)
  ;; yT [sp*16][n] = W xT.  W [sp][cols][16] f32, xT [cols][n], n % 4 == 0.
  ;; Register blocks of 4 rows x 8 streams: per column 4 weight splats (each weight loaded once
  ;; for the 8 streams) and 2 stream vectors feed 8 accumulators (14 of the 16 vector registers,
  ;; V8 keeps one as scratch); a last block of 4 rows x 4 streams when n % 8 == 4, so a batch is
  ;; padded to 4 lanes, not 8. Every lane adds the columns in order, as mv_f32.
  ;; The 4-row x 4-stream block: rows 4q..4q+3 of the superpanel at $w, streams $sb..$sb+3.
  ;;@def MM4X4
    (local.set $a00 (v128.const i32x4 0 0 0 0)) (local.set $a10 (v128.const i32x4 0 0 0 0))
    (local.set $a20 (v128.const i32x4 0 0 0 0)) (local.set $a30 (v128.const i32x4 0 0 0 0))
    (local.set $wp (i32.add (local.get $w) (i32.shl (local.get $q) (i32.const 4))))
    (local.set $xp (i32.add (local.get $x) (i32.shl (local.get $sb) (i32.const 2))))
    (local.set $j (local.get $cols))
    (loop $col4
      (local.set $w0 (v128.load32_splat offset=0 (local.get $wp)))
      (local.set $w1 (v128.load32_splat offset=4 (local.get $wp)))
      (local.set $w2 (v128.load32_splat offset=8 (local.get $wp)))
      (local.set $w3 (v128.load32_splat offset=12 (local.get $wp)))
      (local.set $x0 (v128.load offset=0 (local.get $xp)))
      ;;@MAC $a00 $w0 $x0
      ;;@MAC $a10 $w1 $x0
      ;;@MAC $a20 $w2 $x0
      ;;@MAC $a30 $w3 $x0
      (local.set $wp (i32.add (local.get $wp) (i32.const 64)))
      (local.set $xp (i32.add (local.get $xp) (local.get $ns)))
      (local.set $j (i32.sub (local.get $j) (i32.const 1)))
      (br_if $col4 (local.get $j)))
    (local.set $yp (i32.add (local.get $y)
      (i32.add (i32.mul (i32.shl (local.get $q) (i32.const 2)) (local.get $ns)) (i32.shl (local.get $sb) (i32.const 2)))))
    (v128.store (local.get $yp) (local.get $a00))
    (v128.store (i32.add (local.get $yp) (local.get $ns)) (local.get $a10))
    (v128.store (i32.add (local.get $yp) (i32.shl (local.get $ns) (i32.const 1))) (local.get $a20))
    (v128.store (i32.add (local.get $yp) (i32.mul (local.get $ns) (i32.const 3))) (local.get $a30))
  ;;@end
  (func (export "mm_f32") (param $w i32) (param $x i32) (param $y i32) (param $sp i32) (param $cols i32) (param $n i32)
    (local $ns i32) (local $n8 i32) (local $q i32) (local $sb i32) (local $j i32) (local $wp i32) (local $xp i32) (local $yp i32)
    (local $w0 v128) (local $w1 v128) (local $w2 v128) (local $w3 v128) (local $x0 v128) (local $x1 v128)
    (local $a00 v128) (local $a01 v128) (local $a10 v128) (local $a11 v128)
    (local $a20 v128) (local $a21 v128) (local $a30 v128) (local $a31 v128)
    (local.set $ns (i32.shl (local.get $n) (i32.const 2)))
    (local.set $n8 (i32.and (local.get $n) (i32.const -8)))
    (block $done (loop $panel
      (br_if $done (i32.eqz (local.get $sp)))
      (local.set $q (i32.const 0))
      (loop $quad
        (local.set $sb (i32.const 0))
        (block $s8 (loop $streams
          (br_if $s8 (i32.ge_u (local.get $sb) (local.get $n8)))
          (local.set $a00 (v128.const i32x4 0 0 0 0)) (local.set $a01 (v128.const i32x4 0 0 0 0))
          (local.set $a10 (v128.const i32x4 0 0 0 0)) (local.set $a11 (v128.const i32x4 0 0 0 0))
          (local.set $a20 (v128.const i32x4 0 0 0 0)) (local.set $a21 (v128.const i32x4 0 0 0 0))
          (local.set $a30 (v128.const i32x4 0 0 0 0)) (local.set $a31 (v128.const i32x4 0 0 0 0))
          (local.set $wp (i32.add (local.get $w) (i32.shl (local.get $q) (i32.const 4))))
          (local.set $xp (i32.add (local.get $x) (i32.shl (local.get $sb) (i32.const 2))))
          (local.set $j (local.get $cols))
          (loop $col
            (local.set $w0 (v128.load32_splat offset=0 (local.get $wp)))
            (local.set $w1 (v128.load32_splat offset=4 (local.get $wp)))
            (local.set $w2 (v128.load32_splat offset=8 (local.get $wp)))
            (local.set $w3 (v128.load32_splat offset=12 (local.get $wp)))
            (local.set $x0 (v128.load offset=0 (local.get $xp)))
            (local.set $x1 (v128.load offset=16 (local.get $xp)))
            ;;@MAC $a00 $w0 $x0
            ;;@MAC $a01 $w0 $x1
            ;;@MAC $a10 $w1 $x0
            ;;@MAC $a11 $w1 $x1
            ;;@MAC $a20 $w2 $x0
            ;;@MAC $a21 $w2 $x1
            ;;@MAC $a30 $w3 $x0
            ;;@MAC $a31 $w3 $x1
            (local.set $wp (i32.add (local.get $wp) (i32.const 64)))
            (local.set $xp (i32.add (local.get $xp) (local.get $ns)))
            (local.set $j (i32.sub (local.get $j) (i32.const 1)))
            (br_if $col (local.get $j)))
          ;; rows 4q..4q+3 of this superpanel, streams sb..sb+7
          (local.set $yp (i32.add (local.get $y)
            (i32.add (i32.mul (i32.shl (local.get $q) (i32.const 2)) (local.get $ns)) (i32.shl (local.get $sb) (i32.const 2)))))
          (v128.store offset=0 (local.get $yp) (local.get $a00))
          (v128.store offset=16 (local.get $yp) (local.get $a01))
          (local.set $yp (i32.add (local.get $yp) (local.get $ns)))
          (v128.store offset=0 (local.get $yp) (local.get $a10))
          (v128.store offset=16 (local.get $yp) (local.get $a11))
          (local.set $yp (i32.add (local.get $yp) (local.get $ns)))
          (v128.store offset=0 (local.get $yp) (local.get $a20))
          (v128.store offset=16 (local.get $yp) (local.get $a21))
          (local.set $yp (i32.add (local.get $yp) (local.get $ns)))
          (v128.store offset=0 (local.get $yp) (local.get $a30))
          (v128.store offset=16 (local.get $yp) (local.get $a31))
          (local.set $sb (i32.add (local.get $sb) (i32.const 8)))
          (br $streams)))
        (if (i32.lt_u (local.get $sb) (local.get $n)) (then
          ;;@MM4X4
        ))
        (local.set $q (i32.add (local.get $q) (i32.const 1)))
        (br_if $quad (i32.lt_u (local.get $q) (i32.const 4))))
      (local.set $w (i32.add (local.get $w) (i32.shl (local.get $cols) (i32.const 6))))
      (local.set $y (i32.add (local.get $y) (i32.shl (local.get $ns) (i32.const 4))))
      (local.set $sp (i32.sub (local.get $sp) (i32.const 1)))
      (br $panel))))

  ;; Batched dynamic quantization, one scale per stream: xT [rows][n] f32 -> qT [rows/2][n] i32 (two
  ;; i16: rows 2p and 2p+1 of one stream), sx [n] f32. rows % 2 == 0, n % 4 == 0. Same rule as quant_act.
  (func (export "quant_act_t") (param $x i32) (param $q i32) (param $sx i32) (param $rows i32) (param $n i32)
    (local $ns i32) (local $sv i32) (local $r i32) (local $xp i32) (local $qp i32) (local $m v128) (local $m2 v128) (local $inv v128)
    (local $va v128) (local $vb v128)
    (local.set $ns (i32.shl (local.get $n) (i32.const 2)))
    (local.set $sv (i32.const 0))
    (block $done (loop $streams
      (br_if $done (i32.ge_u (local.get $sv) (local.get $n)))
      ;; two chains (even and odd rows): the loop is bound by pmax's latency, not its throughput
      (local.set $m (v128.const i32x4 0 0 0 0))
      (local.set $m2 (v128.const i32x4 0 0 0 0))
      (local.set $xp (i32.add (local.get $x) (i32.shl (local.get $sv) (i32.const 2))))
      (local.set $r (local.get $rows))
      (block $d1 (loop $l1
        (br_if $d1 (i32.eqz (local.get $r)))
        (local.set $m (f32x4.pmax (local.get $m) (f32x4.abs (v128.load (local.get $xp)))))
        (local.set $m2 (f32x4.pmax (local.get $m2) (f32x4.abs (v128.load (i32.add (local.get $xp) (local.get $ns))))))
        (local.set $xp (i32.add (local.get $xp) (i32.shl (local.get $ns) (i32.const 1))))
        (local.set $r (i32.sub (local.get $r) (i32.const 2)))
        (br $l1)))
      (local.set $m (f32x4.pmax (local.get $m) (local.get $m2)))
      (local.set $inv (v128.bitselect
        (v128.const i32x4 0 0 0 0)
        (f32x4.div (v128.const f32x4 127.0 127.0 127.0 127.0) (local.get $m))
        (f32x4.eq (local.get $m) (v128.const f32x4 0.0 0.0 0.0 0.0))))
      (v128.store (i32.add (local.get $sx) (i32.shl (local.get $sv) (i32.const 2)))
        (f32x4.div (local.get $m) (v128.const f32x4 127.0 127.0 127.0 127.0)))
      (local.set $xp (i32.add (local.get $x) (i32.shl (local.get $sv) (i32.const 2))))
      (local.set $qp (i32.add (local.get $q) (i32.shl (local.get $sv) (i32.const 2))))
      (local.set $r (local.get $rows))
      (block $d2 (loop $l2
        (br_if $d2 (i32.eqz (local.get $r)))
        (local.set $va (v128.load (local.get $xp)))
        (local.set $vb (v128.load (i32.add (local.get $xp) (local.get $ns))))
        ;;@Q127 $va
        ;;@Q127 $vb
        (v128.store (local.get $qp)
          (i8x16.shuffle 0 1 8 9 2 3 10 11 4 5 12 13 6 7 14 15
            (i16x8.narrow_i32x4_s (local.get $va) (local.get $vb))
            (local.get $va)))
        (local.set $xp (i32.add (local.get $xp) (i32.shl (local.get $ns) (i32.const 1))))
        (local.set $qp (i32.add (local.get $qp) (local.get $ns)))
        (local.set $r (i32.sub (local.get $r) (i32.const 2)))
        (br $l2)))
      (local.set $sv (i32.add (local.get $sv) (i32.const 4)))
      (br $streams))))

  ;; yT [sp*16][n] = (Q xqT) * (scale[row] * sx[stream]).  Q [sp][cp][16][2] int8 values as i16, xqT [cp][n] (i16 pairs),
  ;; sx [n], scale [sp*16].  4 rows x 8 streams per pass (as mm_f32, and a 4 x 4 block when n % 8 == 4).  cp >= 1.
  ;; The 4-row x 4-stream block (the first column pair sets the accumulators, as below).
  ;;@def MMQ4X4
    (local.set $wp (i32.add (local.get $w) (i32.shl (local.get $q) (i32.const 4))))
    (local.set $xp (i32.add (local.get $x) (i32.shl (local.get $sb) (i32.const 2))))
    (local.set $x0 (v128.load (local.get $xp)))
    (local.set $a00 (i32x4.dot_i16x8_s (v128.load32_splat offset=0 (local.get $wp)) (local.get $x0)))
    (local.set $a10 (i32x4.dot_i16x8_s (v128.load32_splat offset=4 (local.get $wp)) (local.get $x0)))
    (local.set $a20 (i32x4.dot_i16x8_s (v128.load32_splat offset=8 (local.get $wp)) (local.get $x0)))
    (local.set $a30 (i32x4.dot_i16x8_s (v128.load32_splat offset=12 (local.get $wp)) (local.get $x0)))
    (local.set $j (i32.sub (local.get $cp) (i32.const 1)))
    (if (local.get $j) (then (loop $col4
      (local.set $wp (i32.add (local.get $wp) (i32.const 64)))
      (local.set $xp (i32.add (local.get $xp) (local.get $ns)))
      (local.set $x0 (v128.load (local.get $xp)))
      (local.set $a00 (i32x4.add (local.get $a00) (i32x4.dot_i16x8_s (v128.load32_splat offset=0 (local.get $wp)) (local.get $x0))))
      (local.set $a10 (i32x4.add (local.get $a10) (i32x4.dot_i16x8_s (v128.load32_splat offset=4 (local.get $wp)) (local.get $x0))))
      (local.set $a20 (i32x4.add (local.get $a20) (i32x4.dot_i16x8_s (v128.load32_splat offset=8 (local.get $wp)) (local.get $x0))))
      (local.set $a30 (i32x4.add (local.get $a30) (i32x4.dot_i16x8_s (v128.load32_splat offset=12 (local.get $wp)) (local.get $x0))))
      (local.set $j (i32.sub (local.get $j) (i32.const 1)))
      (br_if $col4 (local.get $j)))))
    (local.set $sp0 (v128.load (i32.add (local.get $sx) (i32.shl (local.get $sb) (i32.const 2)))))
    (local.set $yp (i32.add (local.get $y)
      (i32.add (i32.mul (i32.shl (local.get $q) (i32.const 2)) (local.get $ns)) (i32.shl (local.get $sb) (i32.const 2)))))
    (local.set $wp (i32.add (local.get $scale) (i32.shl (local.get $q) (i32.const 4))))
    (v128.store (local.get $yp) (f32x4.mul (f32x4.convert_i32x4_s (local.get $a00)) (f32x4.mul (v128.load32_splat offset=0 (local.get $wp)) (local.get $sp0))))
    (local.set $yp (i32.add (local.get $yp) (local.get $ns)))
    (v128.store (local.get $yp) (f32x4.mul (f32x4.convert_i32x4_s (local.get $a10)) (f32x4.mul (v128.load32_splat offset=4 (local.get $wp)) (local.get $sp0))))
    (local.set $yp (i32.add (local.get $yp) (local.get $ns)))
    (v128.store (local.get $yp) (f32x4.mul (f32x4.convert_i32x4_s (local.get $a20)) (f32x4.mul (v128.load32_splat offset=8 (local.get $wp)) (local.get $sp0))))
    (local.set $yp (i32.add (local.get $yp) (local.get $ns)))
    (v128.store (local.get $yp) (f32x4.mul (f32x4.convert_i32x4_s (local.get $a30)) (f32x4.mul (v128.load32_splat offset=12 (local.get $wp)) (local.get $sp0))))
  ;;@end
  (func (export "mm_q8") (param $w i32) (param $x i32) (param $sx i32) (param $scale i32) (param $y i32)
    (param $sp i32) (param $cp i32) (param $n i32)
    (local $ns i32) (local $n8 i32) (local $q i32) (local $sb i32) (local $j i32) (local $wp i32) (local $xp i32) (local $yp i32)
    (local $sp0 v128) (local $sp1 v128) (local $sc v128)
    (local $w0 v128) (local $w1 v128) (local $w2 v128) (local $w3 v128) (local $x0 v128) (local $x1 v128)
    (local $a00 v128) (local $a01 v128) (local $a10 v128) (local $a11 v128)
    (local $a20 v128) (local $a21 v128) (local $a30 v128) (local $a31 v128)
    (local.set $ns (i32.shl (local.get $n) (i32.const 2)))
    (local.set $n8 (i32.and (local.get $n) (i32.const -8)))
    (block $done (loop $panel
      (br_if $done (i32.eqz (local.get $sp)))
      (local.set $q (i32.const 0))
      (loop $quad
        (local.set $sb (i32.const 0))
        (block $s8 (loop $streams
          (br_if $s8 (i32.ge_u (local.get $sb) (local.get $n8)))
          (local.set $wp (i32.add (local.get $w) (i32.shl (local.get $q) (i32.const 4))))
          (local.set $xp (i32.add (local.get $x) (i32.shl (local.get $sb) (i32.const 2))))
          ;; column pair 0 sets the accumulators (integer sums: no zero to add first)
          (local.set $w0 (v128.load32_splat offset=0 (local.get $wp)))
          (local.set $w1 (v128.load32_splat offset=4 (local.get $wp)))
          (local.set $w2 (v128.load32_splat offset=8 (local.get $wp)))
          (local.set $w3 (v128.load32_splat offset=12 (local.get $wp)))
          (local.set $x0 (v128.load offset=0 (local.get $xp)))
          (local.set $x1 (v128.load offset=16 (local.get $xp)))
          (local.set $a00 (i32x4.dot_i16x8_s (local.get $w0) (local.get $x0)))
          (local.set $a01 (i32x4.dot_i16x8_s (local.get $w0) (local.get $x1)))
          (local.set $a10 (i32x4.dot_i16x8_s (local.get $w1) (local.get $x0)))
          (local.set $a11 (i32x4.dot_i16x8_s (local.get $w1) (local.get $x1)))
          (local.set $a20 (i32x4.dot_i16x8_s (local.get $w2) (local.get $x0)))
          (local.set $a21 (i32x4.dot_i16x8_s (local.get $w2) (local.get $x1)))
          (local.set $a30 (i32x4.dot_i16x8_s (local.get $w3) (local.get $x0)))
          (local.set $a31 (i32x4.dot_i16x8_s (local.get $w3) (local.get $x1)))
          (local.set $wp (i32.add (local.get $wp) (i32.const 64)))
          (local.set $xp (i32.add (local.get $xp) (local.get $ns)))
          (local.set $j (i32.sub (local.get $cp) (i32.const 1)))
          (if (local.get $j) (then (loop $col
            (local.set $w0 (v128.load32_splat offset=0 (local.get $wp)))
            (local.set $w1 (v128.load32_splat offset=4 (local.get $wp)))
            (local.set $w2 (v128.load32_splat offset=8 (local.get $wp)))
            (local.set $w3 (v128.load32_splat offset=12 (local.get $wp)))
            (local.set $x0 (v128.load offset=0 (local.get $xp)))
            (local.set $x1 (v128.load offset=16 (local.get $xp)))
            (local.set $a00 (i32x4.add (local.get $a00) (i32x4.dot_i16x8_s (local.get $w0) (local.get $x0))))
            (local.set $a01 (i32x4.add (local.get $a01) (i32x4.dot_i16x8_s (local.get $w0) (local.get $x1))))
            (local.set $a10 (i32x4.add (local.get $a10) (i32x4.dot_i16x8_s (local.get $w1) (local.get $x0))))
            (local.set $a11 (i32x4.add (local.get $a11) (i32x4.dot_i16x8_s (local.get $w1) (local.get $x1))))
            (local.set $a20 (i32x4.add (local.get $a20) (i32x4.dot_i16x8_s (local.get $w2) (local.get $x0))))
            (local.set $a21 (i32x4.add (local.get $a21) (i32x4.dot_i16x8_s (local.get $w2) (local.get $x1))))
            (local.set $a30 (i32x4.add (local.get $a30) (i32x4.dot_i16x8_s (local.get $w3) (local.get $x0))))
            (local.set $a31 (i32x4.add (local.get $a31) (i32x4.dot_i16x8_s (local.get $w3) (local.get $x1))))
            (local.set $wp (i32.add (local.get $wp) (i32.const 64)))
            (local.set $xp (i32.add (local.get $xp) (local.get $ns)))
            (local.set $j (i32.sub (local.get $j) (i32.const 1)))
            (br_if $col (local.get $j)))))
          (local.set $sp0 (v128.load offset=0 (i32.add (local.get $sx) (i32.shl (local.get $sb) (i32.const 2)))))
          (local.set $sp1 (v128.load offset=16 (i32.add (local.get $sx) (i32.shl (local.get $sb) (i32.const 2)))))
          (local.set $yp (i32.add (local.get $y)
            (i32.add (i32.mul (i32.shl (local.get $q) (i32.const 2)) (local.get $ns)) (i32.shl (local.get $sb) (i32.const 2)))))
          (local.set $wp (i32.add (local.get $scale) (i32.shl (local.get $q) (i32.const 4))))
          (local.set $sc (v128.load32_splat offset=0 (local.get $wp)))
          (v128.store offset=0 (local.get $yp) (f32x4.mul (f32x4.convert_i32x4_s (local.get $a00)) (f32x4.mul (local.get $sc) (local.get $sp0))))
          (v128.store offset=16 (local.get $yp) (f32x4.mul (f32x4.convert_i32x4_s (local.get $a01)) (f32x4.mul (local.get $sc) (local.get $sp1))))
          (local.set $yp (i32.add (local.get $yp) (local.get $ns)))
          (local.set $sc (v128.load32_splat offset=4 (local.get $wp)))
          (v128.store offset=0 (local.get $yp) (f32x4.mul (f32x4.convert_i32x4_s (local.get $a10)) (f32x4.mul (local.get $sc) (local.get $sp0))))
          (v128.store offset=16 (local.get $yp) (f32x4.mul (f32x4.convert_i32x4_s (local.get $a11)) (f32x4.mul (local.get $sc) (local.get $sp1))))
          (local.set $yp (i32.add (local.get $yp) (local.get $ns)))
          (local.set $sc (v128.load32_splat offset=8 (local.get $wp)))
          (v128.store offset=0 (local.get $yp) (f32x4.mul (f32x4.convert_i32x4_s (local.get $a20)) (f32x4.mul (local.get $sc) (local.get $sp0))))
          (v128.store offset=16 (local.get $yp) (f32x4.mul (f32x4.convert_i32x4_s (local.get $a21)) (f32x4.mul (local.get $sc) (local.get $sp1))))
          (local.set $yp (i32.add (local.get $yp) (local.get $ns)))
          (local.set $sc (v128.load32_splat offset=12 (local.get $wp)))
          (v128.store offset=0 (local.get $yp) (f32x4.mul (f32x4.convert_i32x4_s (local.get $a30)) (f32x4.mul (local.get $sc) (local.get $sp0))))
          (v128.store offset=16 (local.get $yp) (f32x4.mul (f32x4.convert_i32x4_s (local.get $a31)) (f32x4.mul (local.get $sc) (local.get $sp1))))
          (local.set $sb (i32.add (local.get $sb) (i32.const 8)))
          (br $streams)))
        (if (i32.lt_u (local.get $sb) (local.get $n)) (then
          ;;@MMQ4X4
        ))
        (local.set $q (i32.add (local.get $q) (i32.const 1)))
        (br_if $quad (i32.lt_u (local.get $q) (i32.const 4))))
      (local.set $w (i32.add (local.get $w) (i32.shl (local.get $cp) (i32.const 6))))
      (local.set $scale (i32.add (local.get $scale) (i32.const 64)))
      (local.set $y (i32.add (local.get $y) (i32.shl (local.get $ns) (i32.const 4))))
      (local.set $sp (i32.sub (local.get $sp) (i32.const 1)))
      (br $panel))))

  ;; Gates, batched: gxT, ghT [rows][n]; bi, bh [rows]; cT, hT [Hp][n]. Row of gate g of unit 4u+k:
  ;; u*4G + 4g + k. Same lane arithmetic as the single-stream gates. Per group and unit k the
  ;; G rows' biases are splat once; the streams loop runs over byte offsets o in [k ns, (k+1) ns),
  ;; gate g's row at o + 4g ns (ns = 4n bytes per row).
  ;; (gx + bi) + (gh + bh) of gate row at byte offset {o} from $o, with splat biases {b} {c}
  ;;@def PRET {d} {off} {bi} {bh}
    (local.set {d} (f32x4.add
      (f32x4.add (v128.load (i32.add (local.get $gx) (local.get {off}))) (local.get {bi}))
      (f32x4.add (v128.load (i32.add (local.get $gh) (local.get {off}))) (local.get {bh}))))
  ;;@end
  ;; Two passes, one activation per loop body: with the four gates' math in one body V8 spills
  ;; most of the live vectors. Pass 1 turns gxT's rows into activations in place (σ for i, f,
  ;; o; tanh for g); pass 2 combines them with c per unit. Same arithmetic as lstmCellF32.
  (func (export "lstm_gates_t") (param $gx i32) (param $gh i32) (param $bi i32) (param $bh i32)
    (param $c i32) (param $h i32) (param $groups i32) (param $n i32)
    (local $ns i32) (local $r i32) (local $o i32) (local $p i32) (local $pe i32) (local $q i32)
    (local $biv v128) (local $bhv v128) (local $v v128)
    (local $si v128) (local $sf v128) (local $tg v128) (local $so v128) (local $cn v128) (local $tc v128)
    ;;@MATH_LOCALS
    (local.set $ns (i32.shl (local.get $n) (i32.const 2)))
    ;; pass 1: row r of all groups' 16-row blocks; r = 4g + k
    (local.set $r (i32.const 0))
    (local.set $pe (i32.add (local.get $gx) (i32.mul (i32.shl (local.get $groups) (i32.const 4)) (local.get $ns))))
    (local.set $p (local.get $gx))
    (local.set $q (i32.const 0)) ;; byte offset of the row's bias
    (block $d1 (loop $rows
      (br_if $d1 (i32.ge_u (local.get $p) (local.get $pe)))
      (local.set $biv (v128.load32_splat (i32.add (local.get $bi) (local.get $q))))
      (local.set $bhv (v128.load32_splat (i32.add (local.get $bh) (local.get $q))))
      (local.set $o (local.get $p))
      (local.set $r (i32.add (local.get $p) (local.get $ns)))
      ;; gate g = (q / 16) % 4; g == 2 is the cell input (tanh)
      (if (i32.eq (i32.and (local.get $q) (i32.const 48)) (i32.const 32))
        (then (loop $t
          (local.set $v (f32x4.add
            (f32x4.add (v128.load (local.get $o)) (local.get $biv))
            (f32x4.add (v128.load (i32.add (local.get $o) (i32.sub (local.get $gh) (local.get $gx)))) (local.get $bhv))))
          ;;@TANH $v $v
          (v128.store (local.get $o) (local.get $v))
          (local.set $o (i32.add (local.get $o) (i32.const 16)))
          (br_if $t (i32.lt_u (local.get $o) (local.get $r)))))
        (else (loop $s
          (local.set $v (f32x4.add
            (f32x4.add (v128.load (local.get $o)) (local.get $biv))
            (f32x4.add (v128.load (i32.add (local.get $o) (i32.sub (local.get $gh) (local.get $gx)))) (local.get $bhv))))
          ;;@SIGMOID $v $v
          (v128.store (local.get $o) (local.get $v))
          (local.set $o (i32.add (local.get $o) (i32.const 16)))
          (br_if $s (i32.lt_u (local.get $o) (local.get $r))))))
      (local.set $p (local.get $r))
      (local.set $q (i32.add (local.get $q) (i32.const 4)))
      (br $rows)))
    ;; pass 2: per group, its 4 units' rows of each gate are 4 ns bytes apart
    (block $done (loop $u
      (br_if $done (i32.eqz (local.get $groups)))
      (local.set $o (i32.const 0))
      (local.set $r (i32.shl (local.get $ns) (i32.const 2)))
      (loop $cells
        (local.set $p (i32.add (local.get $gx) (local.get $o)))
        (local.set $si (v128.load (local.get $p)))
        (local.set $sf (v128.load (i32.add (local.get $p) (local.get $r))))
        (local.set $tg (v128.load (i32.add (local.get $p) (i32.shl (local.get $r) (i32.const 1)))))
        (local.set $so (v128.load (i32.add (local.get $p) (i32.mul (local.get $r) (i32.const 3)))))
        (local.set $p (i32.add (local.get $c) (local.get $o)))
        (local.set $cn (f32x4.add
          (f32x4.mul (local.get $sf) (v128.load (local.get $p)))
          (f32x4.mul (local.get $si) (local.get $tg))))
        (v128.store (local.get $p) (local.get $cn))
        ;;@TANH $tc $cn
        (v128.store (i32.add (local.get $h) (local.get $o)) (f32x4.mul (local.get $so) (local.get $tc)))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br_if $cells (i32.lt_u (local.get $o) (local.get $r))))
      (local.set $gx (i32.add (local.get $gx) (i32.shl (local.get $ns) (i32.const 4))))
      (local.set $c (i32.add (local.get $c) (local.get $r)))
      (local.set $h (i32.add (local.get $h) (local.get $r)))
      (local.set $groups (i32.sub (local.get $groups) (i32.const 1)))
      (br $u))))

  ;; Two passes like lstm_gates_t (one activation per loop body). Pass 1 turns the r and z rows of
  ;; gxT into σ in place (rows 0-7 of each group's 12); pass 2 per unit: n = tanh(xn + r hn),
  ;; h' = (1 - z) n + z h. Same arithmetic as gruCellF32.
  (func (export "gru_gates_t") (param $gx i32) (param $gh i32) (param $bi i32) (param $bh i32)
    (param $h i32) (param $groups i32) (param $n i32)
    (local $ns i32) (local $u i32) (local $k i32) (local $o i32) (local $oe i32) (local $p i32) (local $q i32)
    (local $dg i32) (local $rz i32) (local $r4 i32)
    (local $biv v128) (local $bhv v128) (local $v v128)
    (local $si v128) (local $sf v128) (local $cn v128) (local $tc v128)
    ;;@MATH_LOCALS
    (local.set $ns (i32.shl (local.get $n) (i32.const 2)))
    (local.set $dg (i32.sub (local.get $gh) (local.get $gx)))
    ;; pass 1: per group, its 8 r and z rows
    (local.set $p (local.get $gx))
    (local.set $q (i32.const 0)) ;; byte offset of the row's bias
    (local.set $u (local.get $groups))
    (block $d1 (loop $grp
      (br_if $d1 (i32.eqz (local.get $u)))
      (local.set $rz (i32.const 8))
      (loop $rows
        (local.set $biv (v128.load32_splat (i32.add (local.get $bi) (local.get $q))))
        (local.set $bhv (v128.load32_splat (i32.add (local.get $bh) (local.get $q))))
        (local.set $o (local.get $p))
        (local.set $oe (i32.add (local.get $p) (local.get $ns)))
        (loop $s
          (local.set $v (f32x4.add
            (f32x4.add (v128.load (local.get $o)) (local.get $biv))
            (f32x4.add (v128.load (i32.add (local.get $o) (local.get $dg))) (local.get $bhv))))
          ;;@SIGMOID $v $v
          (v128.store (local.get $o) (local.get $v))
          (local.set $o (i32.add (local.get $o) (i32.const 16)))
          (br_if $s (i32.lt_u (local.get $o) (local.get $oe))))
        (local.set $p (local.get $oe))
        (local.set $q (i32.add (local.get $q) (i32.const 4)))
        (local.set $rz (i32.sub (local.get $rz) (i32.const 1)))
        (br_if $rows (local.get $rz)))
      ;; skip the 4 n rows
      (local.set $p (i32.add (local.get $p) (i32.shl (local.get $ns) (i32.const 2))))
      (local.set $q (i32.add (local.get $q) (i32.const 16)))
      (local.set $u (i32.sub (local.get $u) (i32.const 1)))
      (br $grp)))
    ;; pass 2: per group and unit k: r at row k, z at row 4 + k, n at row 8 + k (4 ns bytes apart)
    (local.set $r4 (i32.shl (local.get $ns) (i32.const 2)))
    (block $done (loop $grp2
      (br_if $done (i32.eqz (local.get $groups)))
      (local.set $k (i32.const 0))
      (loop $unit
        (local.set $biv (v128.load32_splat offset=32 (i32.add (local.get $bi) (i32.shl (local.get $k) (i32.const 2)))))
        (local.set $bhv (v128.load32_splat offset=32 (i32.add (local.get $bh) (i32.shl (local.get $k) (i32.const 2)))))
        (local.set $o (i32.mul (local.get $k) (local.get $ns)))
        (local.set $oe (i32.add (local.get $o) (local.get $ns)))
        (loop $cells
          (local.set $p (i32.add (local.get $gx) (local.get $o)))
          (local.set $si (v128.load (local.get $p)))
          (local.set $sf (v128.load (i32.add (local.get $p) (local.get $r4))))
          (local.set $p (i32.add (local.get $p) (i32.shl (local.get $r4) (i32.const 1))))
          ;; n = tanh((Wn x + bIn) + r (Un h + bHn))
          (local.set $cn (f32x4.add
            (f32x4.add (v128.load (local.get $p)) (local.get $biv))
            (f32x4.mul (local.get $si) (f32x4.add (v128.load (i32.add (local.get $p) (local.get $dg))) (local.get $bhv)))))
          ;;@TANH $tc $cn
          (local.set $p (i32.add (local.get $h) (local.get $o)))
          (v128.store (local.get $p) (f32x4.add
            (f32x4.mul (f32x4.sub (v128.load offset=224 (i32.const 0)) (local.get $sf)) (local.get $tc))
            (f32x4.mul (local.get $sf) (v128.load (local.get $p)))))
          (local.set $o (i32.add (local.get $o) (i32.const 16)))
          (br_if $cells (i32.lt_u (local.get $o) (local.get $oe))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br_if $unit (i32.lt_u (local.get $k) (i32.const 4))))
      (local.set $gx (i32.add (local.get $gx) (i32.mul (local.get $ns) (i32.const 12))))
      (local.set $bi (i32.add (local.get $bi) (i32.const 48)))
      (local.set $bh (i32.add (local.get $bh) (i32.const 48)))
      (local.set $h (i32.add (local.get $h) (local.get $r4)))
      (local.set $groups (i32.sub (local.get $groups) (i32.const 1)))
      (br $grp2))))

  ;; RNN batched: row of unit j is j itself (one gate), so gx, gh, h are all [Hp][n].
  (func (export "rnn_gates_t") (param $gx i32) (param $gh i32) (param $bi i32) (param $bh i32)
    (param $h i32) (param $units i32) (param $n i32) (param $relu i32)
    (local $o i32) (local $ns i32) (local $ho i32) (local $biv v128) (local $bhv v128) (local $p v128) (local $tc v128)
    ;;@MATH_LOCALS
    (local.set $ns (i32.shl (local.get $n) (i32.const 2)))
    (block $done (loop $u
      (br_if $done (i32.eqz (local.get $units)))
      (local.set $biv (v128.load32_splat (local.get $bi)))
      (local.set $bhv (v128.load32_splat (local.get $bh)))
      (local.set $o (i32.const 0))
      (loop $streams
        ;;@PRET $p $o $biv $bhv
        (local.set $ho (i32.add (local.get $h) (local.get $o)))
        ;;@RNN_CELL $p $relu $ho
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br_if $streams (i32.lt_u (local.get $o) (local.get $ns))))
      (local.set $gx (i32.add (local.get $gx) (local.get $ns)))
      (local.set $gh (i32.add (local.get $gh) (local.get $ns)))
      (local.set $h (i32.add (local.get $h) (local.get $ns)))
      (local.set $bi (i32.add (local.get $bi) (i32.const 4)))
      (local.set $bh (i32.add (local.get $bh) (i32.const 4)))
      (local.set $units (i32.sub (local.get $units) (i32.const 1)))
      (br $u))))


  ;; ------------------------------------------------------------------ state transposition
  ;; The session copies each stream's state (one Float32Array) into a staging area with one
  ;; memcpy, [m][stride] f32; these move one vector of it to and from the streams-in-lanes
  ;; layout, so JavaScript never touches the state element by element.
  ;; Full 4x4 blocks move as 4 vector loads, a 4x4 transpose (unpack lo/hi, move lo/hi halves) and
  ;; 4 vector stores; the rows past a multiple of 4 and the streams past a multiple of 4 go one
  ;; float at a time (a 4-wide store there would overwrite the next vector of the state).
  ;; {a} {b} {c} {d} (rows of a 4x4 f32 block) <- their transpose. Uses $t0..$t3.
  ;;@def TRANSPOSE4 {a} {b} {c} {d}
    (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get {a}) (local.get {b})))
    (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get {a}) (local.get {b})))
    (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get {c}) (local.get {d})))
    (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get {c}) (local.get {d})))
    (local.set {a} (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
    (local.set {b} (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
    (local.set {c} (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
    (local.set {d} (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
  ;;@end
  ;; One float at a time: T [rows][n] (ns bytes a row) and S [streams][stride] (stride bytes a
  ;; stream), rows [j0, j1) of streams [s0, s1); toT = 1: S -> T, 0: T -> S.
  (func $transpose_s (param $T i32) (param $ns i32) (param $S i32) (param $stride i32)
    (param $j0 i32) (param $j1 i32) (param $s0 i32) (param $s1 i32) (param $toT i32)
    (local $j i32) (local $s i32) (local $tp i32) (local $sp i32)
    (local.set $j (local.get $j0))
    (block $done (loop $row
      (br_if $done (i32.ge_u (local.get $j) (local.get $j1)))
      (local.set $s (local.get $s0))
      (block $sdone (loop $str
        (br_if $sdone (i32.ge_u (local.get $s) (local.get $s1)))
        (local.set $tp (i32.add (local.get $T) (i32.add (i32.mul (local.get $j) (local.get $ns)) (i32.shl (local.get $s) (i32.const 2)))))
        (local.set $sp (i32.add (local.get $S) (i32.add (i32.mul (local.get $s) (local.get $stride)) (i32.shl (local.get $j) (i32.const 2)))))
        (if (local.get $toT)
          (then (f32.store (local.get $tp) (f32.load (local.get $sp))))
          (else (f32.store (local.get $sp) (f32.load (local.get $tp)))))
        (local.set $s (i32.add (local.get $s) (i32.const 1)))
        (br $str)))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br $row))))

  ;; dT [rowsP][n] <- src [s][stride] rows [0, rows) of streams [0, m); rows [rows, rowsP) <- 0.
  (func (export "gather_t") (param $src i32) (param $stride i32) (param $dT i32) (param $rows i32) (param $rowsP i32)
    (param $m i32) (param $n i32)
    (local $ns i32) (local $r4 i32) (local $m4 i32) (local $sb i32) (local $j i32) (local $sp i32) (local $dp i32)
    (local $a v128) (local $b v128) (local $c v128) (local $d v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $ns (i32.shl (local.get $n) (i32.const 2)))
    (local.set $stride (i32.shl (local.get $stride) (i32.const 2)))
    (local.set $r4 (i32.and (local.get $rows) (i32.const -4)))
    (local.set $m4 (i32.and (local.get $m) (i32.const -4)))
    (local.set $sb (i32.const 0))
    (block $done (loop $sblk
      (br_if $done (i32.ge_u (local.get $sb) (local.get $m4)))
      (local.set $sp (i32.add (local.get $src) (i32.mul (local.get $sb) (local.get $stride))))
      (local.set $dp (i32.add (local.get $dT) (i32.shl (local.get $sb) (i32.const 2))))
      (local.set $j (i32.const 0))
      (block $rdone (loop $rblk
        (br_if $rdone (i32.ge_u (local.get $j) (local.get $r4)))
        (local.set $a (v128.load (local.get $sp)))
        (local.set $b (v128.load (i32.add (local.get $sp) (local.get $stride))))
        (local.set $c (v128.load (i32.add (local.get $sp) (i32.shl (local.get $stride) (i32.const 1)))))
        (local.set $d (v128.load (i32.add (local.get $sp) (i32.mul (local.get $stride) (i32.const 3)))))
        ;;@TRANSPOSE4 $a $b $c $d
        (v128.store (local.get $dp) (local.get $a))
        (v128.store (i32.add (local.get $dp) (local.get $ns)) (local.get $b))
        (v128.store (i32.add (local.get $dp) (i32.shl (local.get $ns) (i32.const 1))) (local.get $c))
        (v128.store (i32.add (local.get $dp) (i32.mul (local.get $ns) (i32.const 3))) (local.get $d))
        (local.set $sp (i32.add (local.get $sp) (i32.const 16)))
        (local.set $dp (i32.add (local.get $dp) (i32.shl (local.get $ns) (i32.const 2))))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $rblk)))
      (local.set $sb (i32.add (local.get $sb) (i32.const 4)))
      (br $sblk)))
    (call $transpose_s (local.get $dT) (local.get $ns) (local.get $src) (local.get $stride)
      (local.get $r4) (local.get $rows) (i32.const 0) (local.get $m) (i32.const 1))
    (call $transpose_s (local.get $dT) (local.get $ns) (local.get $src) (local.get $stride)
      (i32.const 0) (local.get $r4) (local.get $m4) (local.get $m) (i32.const 1))
    (memory.fill (i32.add (local.get $dT) (i32.mul (local.get $rows) (local.get $ns))) (i32.const 0)
      (i32.mul (i32.sub (local.get $rowsP) (local.get $rows)) (local.get $ns))))

  ;; dst [s][stride] rows [0, rows) of streams [0, m) <- sT [rows][n].
  (func (export "scatter_t") (param $sT i32) (param $dst i32) (param $stride i32) (param $rows i32)
    (param $m i32) (param $n i32)
    (local $ns i32) (local $r4 i32) (local $m4 i32) (local $sb i32) (local $j i32) (local $sp i32) (local $dp i32)
    (local $a v128) (local $b v128) (local $c v128) (local $d v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $ns (i32.shl (local.get $n) (i32.const 2)))
    (local.set $stride (i32.shl (local.get $stride) (i32.const 2)))
    (local.set $r4 (i32.and (local.get $rows) (i32.const -4)))
    (local.set $m4 (i32.and (local.get $m) (i32.const -4)))
    (local.set $sb (i32.const 0))
    (block $done (loop $sblk
      (br_if $done (i32.ge_u (local.get $sb) (local.get $m4)))
      (local.set $sp (i32.add (local.get $sT) (i32.shl (local.get $sb) (i32.const 2))))
      (local.set $dp (i32.add (local.get $dst) (i32.mul (local.get $sb) (local.get $stride))))
      (local.set $j (i32.const 0))
      (block $rdone (loop $rblk
        (br_if $rdone (i32.ge_u (local.get $j) (local.get $r4)))
        (local.set $a (v128.load (local.get $sp)))
        (local.set $b (v128.load (i32.add (local.get $sp) (local.get $ns))))
        (local.set $c (v128.load (i32.add (local.get $sp) (i32.shl (local.get $ns) (i32.const 1)))))
        (local.set $d (v128.load (i32.add (local.get $sp) (i32.mul (local.get $ns) (i32.const 3)))))
        ;;@TRANSPOSE4 $a $b $c $d
        (v128.store (local.get $dp) (local.get $a))
        (v128.store (i32.add (local.get $dp) (local.get $stride)) (local.get $b))
        (v128.store (i32.add (local.get $dp) (i32.shl (local.get $stride) (i32.const 1))) (local.get $c))
        (v128.store (i32.add (local.get $dp) (i32.mul (local.get $stride) (i32.const 3))) (local.get $d))
        (local.set $sp (i32.add (local.get $sp) (i32.shl (local.get $ns) (i32.const 2))))
        (local.set $dp (i32.add (local.get $dp) (i32.const 16)))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $rblk)))
      (local.set $sb (i32.add (local.get $sb) (i32.const 4)))
      (br $sblk)))
    (call $transpose_s (local.get $sT) (local.get $ns) (local.get $dst) (local.get $stride)
      (local.get $r4) (local.get $rows) (i32.const 0) (local.get $m) (i32.const 0))
    (call $transpose_s (local.get $sT) (local.get $ns) (local.get $dst) (local.get $stride)
      (i32.const 0) (local.get $r4) (local.get $m4) (local.get $m) (i32.const 0)))

  ;; A chunk's network outputs when h is the output (no dense head): dst [m][o] = std * src + mean,
  ;; src rows `stride` floats apart. The JS output stage's arithmetic exactly (a float64 multiply
  ;; and add, rounded once to f32), two lanes at a time: in JS this loop cost more than the gates.
  ;;@def AFFINE64 {d} {p}
    (local.set {d} (f32x4.demote_f64x2_zero (f64x2.add
      (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_splat (i32.add (local.get $sp) (local.get {p}))))
                 (f64x2.promote_low_f32x4 (v128.load64_splat (i32.add (local.get $std) (local.get {p})))))
      (f64x2.promote_low_f32x4 (v128.load64_splat (i32.add (local.get $mean) (local.get {p})))))))
  ;;@end
  (func (export "affine_out") (param $src i32) (param $stride i32) (param $std i32) (param $mean i32)
    (param $dst i32) (param $o i32) (param $m i32)
    (local $s i32) (local $j i32) (local $sp i32) (local $o8 i32) (local $ob i32) (local $v v128)
    (local.set $stride (i32.shl (local.get $stride) (i32.const 2)))
    (local.set $ob (i32.shl (local.get $o) (i32.const 2)))
    (local.set $o8 (i32.and (local.get $ob) (i32.const -8)))
    (local.set $sp (local.get $src))
    (local.set $s (local.get $m))
    (block $done (loop $streams
      (br_if $done (i32.eqz (local.get $s)))
      (local.set $j (i32.const 0))
      (block $pdone (loop $pairs
        (br_if $pdone (i32.ge_u (local.get $j) (local.get $o8)))
        ;;@AFFINE64 $v $j
        (i64.store (i32.add (local.get $dst) (local.get $j)) (i64x2.extract_lane 0 (local.get $v)))
        (local.set $j (i32.add (local.get $j) (i32.const 8)))
        (br $pairs)))
      (if (i32.lt_u (local.get $j) (local.get $ob)) (then
        (f32.store (i32.add (local.get $dst) (local.get $j)) (f32.demote_f64 (f64.add
          (f64.mul (f64.promote_f32 (f32.load (i32.add (local.get $sp) (local.get $j))))
                   (f64.promote_f32 (f32.load (i32.add (local.get $std) (local.get $j)))))
          (f64.promote_f32 (f32.load (i32.add (local.get $mean) (local.get $j)))))))))
      (local.set $sp (i32.add (local.get $sp) (local.get $stride)))
      (local.set $dst (i32.add (local.get $dst) (local.get $ob)))
      (local.set $s (i32.sub (local.get $s) (i32.const 1)))
      (br $streams))))
)
