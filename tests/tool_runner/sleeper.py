"""A hostile component that blocks inside one WASI host call: `Sleep` subscribes to a monotonic
clock timer of `seconds` (default 60) and blocks on the pollable, where epoch interruption
cannot reach it. Built from `wat_components`' echo by adding the two imports and a behaviour.
"""

from __future__ import annotations

from toolspec import Param
from wat_components import Spec, component_wat

_IMPORTS = """
  (import "wasi:io/poll@0.2.0" (instance $poll
    (export "pollable" (type $p (sub resource)))
    (export "[method]pollable.block" (func (param "self" (borrow $p))))))
  (alias export $poll "pollable" (type $pollable))
  (import "wasi:clocks/monotonic-clock@0.2.0" (instance $clock
    (alias outer 1 $pollable (type $p0))
    (export "pollable" (type $p (eq $p0)))
    (export "subscribe-duration" (func (param "when" u64) (result (own $p))))))
"""

_CORE_IMPORTS = """
    (import "host" "subscribe-duration" (func $subscribe (param i64) (result i32)))
    (import "host" "block" (func $block (param i32)))
"""

# Sleep `seconds` (the first argument, decimal; 60 when empty), then echo it.
_BEHAVIOUR = """
    (func $sleep (param $args i32) (param $n i32) (result i32)
      (local $p i32) (local $len i32) (local $i i32) (local $secs i64)
      (local.set $p (i32.load (i32.add (local.get $args) (i32.const 8))))
      (local.set $len (i32.load (i32.add (local.get $args) (i32.const 12))))
      (block $done (loop $digits
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (local.set $secs (i64.add (i64.mul (local.get $secs) (i64.const 10))
          (i64.extend_i32_u (i32.sub
            (i32.load8_u (i32.add (local.get $p) (local.get $i))) (i32.const 48)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $digits)))
      (if (i64.eqz (local.get $secs)) (then (local.set $secs (i64.const 60))))
      (call $block (call $subscribe (i64.mul (local.get $secs) (i64.const 1000000000))))
      (call $ok (local.get $p) (local.get $len)))
"""

_LOWER = """
  (core func $subscribe (canon lower (func $clock "subscribe-duration")))
  (core func $block (canon lower (func $poll "[method]pollable.block")))
"""

SLEEPER = Spec(
    name="Sleep",
    description="Sleeps in one host call",
    params=(Param("seconds", "How long", required=False),),
    behaviour="sleep",
    extra_imports=_IMPORTS,
)


_EXPORTS = """
    (export "subscribe-duration" (func $subscribe))
    (export "block" (func $block))
"""


def sleeper_wat() -> str:
    """The component WAT text of the sleeping tool."""
    wat = component_wat(SLEEPER)
    first_import = '    (import "host" "get-environment"'
    wat = wat.replace(first_import, _CORE_IMPORTS + first_import, 1)
    first_func = "    (func $alloc (param $n i32)"
    wat = wat.replace(first_func, _BEHAVIOUR + first_func, 1)
    host_funcs = "  (core instance $host_funcs\n"
    return wat.replace(host_funcs, _LOWER + host_funcs + _EXPORTS.lstrip("\n"), 1)
