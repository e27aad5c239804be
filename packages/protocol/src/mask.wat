;; XOR masking for RFC 6455 §5.3, 16 bytes per step with SIMD.
;; Source of src/mask-wasm.ts: regenerate with `node scripts/build-wasm.mjs`.
(module
  (memory (export "memory") 2)
  ;; XOR len bytes at ptr with the 32-bit mask word, 16 bytes at a time, then the tail.
  (func (export "mask") (param $ptr i32) (param $len i32) (param $word i32)
    (local $end i32) (local $m v128) (local $stop i32)
    (local.set $m (i32x4.splat (local.get $word)))
    (local.set $end (i32.add (local.get $ptr) (local.get $len)))
    (local.set $stop (i32.add (local.get $ptr) (i32.and (local.get $len) (i32.const -16))))
    (block $done16
      (loop $l16
        (br_if $done16 (i32.ge_u (local.get $ptr) (local.get $stop)))
        (v128.store (local.get $ptr) (v128.xor (v128.load (local.get $ptr)) (local.get $m)))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 16)))
        (br $l16)))
    (block $done1
      (loop $l1
        (br_if $done1 (i32.ge_u (local.get $ptr) (local.get $end)))
        (i32.store8 (local.get $ptr) (i32.xor (i32.load8_u (local.get $ptr)) (local.get $word)))
        (local.set $word (i32.rotr (local.get $word) (i32.const 8)))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 1)))
        (br $l1)))))
