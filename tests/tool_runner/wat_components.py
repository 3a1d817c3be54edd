"""Real test components written as component WAT text, built for each test session.

Everything here is hand-written WebAssembly using the canonical ABI directly: a `libc` core
module (memory + bump `cabi_realloc`), lowered WASI p2 and `llm-agent:tool/host` imports, and a
`main` core module whose `execute` runs one *behaviour*. The same core code is wrapped in either
tool world: `llm-agent:tool/tool@0.1.0` (interface export) or the seed's `llama-cpp:tool` world
(root exports, `tool-result` record, `assistent` spelling).

Behaviours (chosen when the component is built):
- `echo`: returns the first argument's value.
- `join`: returns every argument as `name=value` lines (shows canonical argument values).
- `dispatch`: the first argument is a mode, the second (optional) its argument; the first letter
  of the mode selects a hostile or helpful action, see `MODES`.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, field

# What a tool reports about itself, as the guests' own library defines it (unvalidated: a test
# may build a component that reports a type the host rejects).
from toolspec import Param, Usage

MODES = {
    "echo": "ok(arg)",
    "Error": "err(arg): the tool's own error",
    "loop": "spin forever (timeout)",
    "memory": "grow memory until refused, print the Rust OOM line to stderr, abort",
    "Measure": "grow memory until refused, return the number of 64 KiB pages obtained",
    "alloc": "grow memory until refused, then return the tool's own err('out of memory ...')",
    "Alloc": "allocate 64 MiB through the allocator, which traps when memory.grow is refused",
    "trap": "execute `unreachable`",
    "flood": "write 16 MiB to stdout in 4 KiB chunks (the most one blocking write takes)",
    "output": "return a 2 MiB string",
    "vars": "return every environment variable as NAME=VALUE lines",
    "read": "read the file at path `arg` relative to the first preopened directory",
    "write": "create/truncate the file at path `arg` there and write `pwned`",
    "dirs": "list the guest paths of the preopened directories",
    "xit": "exit(err) through wasi:cli/exit: exit code 1",
    "gossip": "log `arg` through llm-agent:tool/host, then ok",
    "print": "print `arg` to stdout and to stderr, then ok(arg)",
    "http": "http-get `arg` through llm-agent:tool/host: ok(body) or err(message)",
    "net": "TCP-connect to 127.0.0.1:`arg` with wasi:sockets: err(error code) or ok",
}


@dataclass(frozen=True)
class Spec:
    """What to build: the metadata the component reports and the behaviour it runs."""

    name: str = "Echo"
    description: str = "Echos the passed in value"
    version: str = "0.1.0"
    params: Sequence[Param] = (Param("value", "Value to be echoed"),)
    usage: Sequence[Usage] = ()
    behaviour: str = "echo"
    world: str = "llm-agent"
    extra_imports: str = field(default="", repr=False)


HOSTILE = Spec(
    name="hostile",
    description="Misbehaves on request",
    params=(Param("mode", "What to do"), Param("arg", "Its argument", required=False)),
    usage=(Usage("Spin forever", '{"mode": "loop"}'),),
    behaviour="dispatch",
)


class _Data:
    """Lays out static data (strings, metadata records) from a base address."""

    def __init__(self, base: int) -> None:
        self.base = base
        self.buf = bytearray()

    def put(self, raw: bytes, align: int = 4) -> int:
        while len(self.buf) % align:
            self.buf.append(0)
        offset = self.base + len(self.buf)
        self.buf += raw
        return offset

    def string(self, text: str) -> tuple[int, int]:
        raw = text.encode()
        return self.put(raw, 1), len(raw)

    def wat(self) -> str:
        escaped = "".join(f"\\{b:02x}" for b in self.buf)
        return f'(data (i32.const {self.base}) "{escaped}")'


def _metadata(spec: Spec, data: _Data) -> int:
    params = []
    for p in spec.params:
        params.append(
            (*data.string(p.name), *data.string(p.description), *data.string(p.wire_type()))
        )
    usage = [(*data.string(u.user), *data.string(u.assistant)) for u in spec.usage]
    params_raw = b"".join(
        struct.pack("<6IB3x", *fields, int(p.required))
        for fields, p in zip(params, spec.params, strict=True)
    )
    usage_raw = b"".join(struct.pack("<4I", *u) for u in usage)
    params_at = data.put(params_raw) if params_raw else 0
    usage_at = data.put(usage_raw) if usage_raw else 0
    root = struct.pack(
        "<10I",
        *data.string(spec.name),
        *data.string(spec.description),
        *data.string(spec.version),
        params_at,
        len(spec.params),
        usage_at,
        len(spec.usage),
    )
    return data.put(root)


_STRINGS = {
    "no_dirs": "no preopened directories",
    "open_failed": "open failed: error code ",
    "read_failed": "read failed: error code ",
    "write_failed": "write failed: error code ",
    "pwned": "pwned",
    "written": "written",
    "logged": "logged",
    "flooded": "flooded",
    "stdout_closed": "stdout refused the write",
    "oom": "memory allocation of 1048576 bytes failed\n",
    "oom_err": "out of memory: memory.grow refused",
    "unknown_mode": "unknown mode",
    "socket_failed": "socket failed: error code ",
    "connect_failed": "connect failed: error code ",
    "connecting": "connecting",
}


def _core_module(spec: Spec) -> str:
    data = _Data(256)
    meta = _metadata(spec, data)
    consts = []
    for key, text in _STRINGS.items():
        off, n = data.string(text)
        consts.append(
            f"(global $s_{key} i32 (i32.const {off})) (global $n_{key} i32 (i32.const {n}))"
        )
    return _MAIN.format(
        data=data.wat(), meta=meta, behaviour=spec.behaviour, consts="\n    ".join(consts)
    )


_LIBC = """
  (core module $libc
    (memory (export "memory") 2)
    (global $heap (mut i32) (i32.const 65536))
    (func $cabi_realloc (export "realloc") (param $old i32) (param $oldsz i32) (param $align i32)
        (param $new i32) (result i32)
      (local $p i32) (local $end i32)
      (local.set $p (i32.and
        (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
        (i32.sub (i32.const 0) (local.get $align))))
      (local.set $end (i32.add (local.get $p) (local.get $new)))
      (if (i32.gt_u (local.get $end) (i32.shl (memory.size) (i32.const 16)))
        (then
          (if (i32.eq (i32.const -1) (memory.grow
                (i32.add (i32.const 1) (i32.shr_u
                  (i32.sub (local.get $end) (i32.shl (memory.size) (i32.const 16)))
                  (i32.const 16)))))
            (then unreachable))))
      (if (local.get $oldsz)
        (then (memory.copy (local.get $p) (local.get $old) (local.get $oldsz))))
      (global.set $heap (local.get $end))
      (local.get $p))
  )
  (core instance $libc (instantiate $libc))
  (alias core export $libc "memory" (core memory $mem))
  (alias core export $libc "realloc" (core func $realloc))
"""

_MAIN = """
  (core module $main
    (import "libc" "memory" (memory 1))
    (import "libc" "realloc" (func $realloc (param i32 i32 i32 i32) (result i32)))
    (import "host" "get-environment" (func $get_env (param i32)))
    (import "host" "get-stdout" (func $get_stdout (result i32)))
    (import "host" "get-stderr" (func $get_stderr (result i32)))
    (import "host" "write" (func $write (param i32 i32 i32 i32)))
    (import "host" "drop-output-stream" (func $drop_os (param i32)))
    (import "host" "exit" (func $exit (param i32)))
    (import "host" "get-directories" (func $get_dirs (param i32)))
    (import "host" "open-at" (func $open_at (param i32 i32 i32 i32 i32 i32 i32)))
    (import "host" "read" (func $fd_read (param i32 i64 i64 i32)))
    (import "host" "write-file" (func $fd_write (param i32 i32 i32 i64 i32)))
    (import "host" "drop-descriptor" (func $drop_fd (param i32)))
    (import "host" "log" (func $log (param i32 i32)))
    (import "host" "http-get" (func $http_get (param i32 i32 i32)))
    (import "host" "instance-network" (func $instance_network (result i32)))
    (import "host" "create-tcp-socket" (func $create_tcp (param i32 i32)))
    (import "host" "start-connect" (func $start_connect
      (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32)))
    {data}
    {consts}

    (func $alloc (param $n i32) (result i32)
      (call $realloc (i32.const 0) (i32.const 0) (i32.const 4) (local.get $n)))
    ;; result<string, string> in the return area at 16
    (func $ok (param $p i32) (param $n i32) (result i32)
      (i32.store8 (i32.const 16) (i32.const 0))
      (i32.store (i32.const 20) (local.get $p))
      (i32.store (i32.const 24) (local.get $n))
      (i32.const 16))
    (func $err (param $p i32) (param $n i32) (result i32)
      (i32.store8 (i32.const 16) (i32.const 1))
      (i32.store (i32.const 20) (local.get $p))
      (i32.store (i32.const 24) (local.get $n))
      (i32.const 16))
    ;; err(message ++ decimal(code))
    (func $err_code (param $p i32) (param $n i32) (param $code i32) (result i32)
      (local $buf i32) (local $i i32) (local $digits i32) (local $v i32)
      (local.set $buf (call $alloc (i32.add (local.get $n) (i32.const 12))))
      (memory.copy (local.get $buf) (local.get $p) (local.get $n))
      (local.set $v (local.get $code))
      (local.set $digits (i32.const 1))
      (block $done (loop $count
        (br_if $done (i32.lt_u (local.get $v) (i32.const 10)))
        (local.set $v (i32.div_u (local.get $v) (i32.const 10)))
        (local.set $digits (i32.add (local.get $digits) (i32.const 1)))
        (br $count)))
      (local.set $v (local.get $code))
      (local.set $i (local.get $digits))
      (loop $emit
        (local.set $i (i32.sub (local.get $i) (i32.const 1)))
        (i32.store8 (i32.add (i32.add (local.get $buf) (local.get $n)) (local.get $i))
          (i32.add (i32.const 48) (i32.rem_u (local.get $v) (i32.const 10))))
        (local.set $v (i32.div_u (local.get $v) (i32.const 10)))
        (br_if $emit (local.get $i)))
      (call $err (local.get $buf) (i32.add (local.get $n) (local.get $digits))))
    (func $ok_number (param $v i32) (result i32)
      (drop (call $err_code (i32.const 0) (i32.const 0) (local.get $v)))
      (i32.store8 (i32.const 16) (i32.const 0))
      (i32.const 16))

    (func $echo (param $args i32) (param $n i32) (result i32)
      (if (result i32) (i32.eqz (local.get $n))
        (then (call $ok (i32.const 0) (i32.const 0)))
        (else (call $ok (i32.load offset=8 (local.get $args))
                        (i32.load offset=12 (local.get $args))))))

    ;; name=value lines for a list of (string, string) records at $list
    (func $lines (param $list i32) (param $n i32) (result i32)
      (local $i i32) (local $total i32) (local $buf i32) (local $p i32) (local $a i32)
      (local.set $i (i32.const 0))
      (block $d (loop $l
        (br_if $d (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $a (i32.add (local.get $list) (i32.shl (local.get $i) (i32.const 4))))
        (local.set $total (i32.add (local.get $total) (i32.add (i32.const 2)
          (i32.add (i32.load offset=4 (local.get $a)) (i32.load offset=12 (local.get $a))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
      (local.set $buf (call $alloc (local.get $total)))
      (local.set $p (local.get $buf))
      (local.set $i (i32.const 0))
      (block $d (loop $l
        (br_if $d (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $a (i32.add (local.get $list) (i32.shl (local.get $i) (i32.const 4))))
        (memory.copy (local.get $p) (i32.load (local.get $a)) (i32.load offset=4 (local.get $a)))
        (local.set $p (i32.add (local.get $p) (i32.load offset=4 (local.get $a))))
        (i32.store8 (local.get $p) (i32.const 61))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (memory.copy (local.get $p) (i32.load offset=8 (local.get $a))
          (i32.load offset=12 (local.get $a)))
        (local.set $p (i32.add (local.get $p) (i32.load offset=12 (local.get $a))))
        (i32.store8 (local.get $p) (i32.const 10))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
      (call $ok (local.get $buf) (local.get $total)))

    (func $join (param $args i32) (param $n i32) (result i32)
      (call $lines (local.get $args) (local.get $n)))

    ;; write (p, n) to an output stream; returns 0 when the host accepted it
    (func $emit (param $stream i32) (param $p i32) (param $n i32) (result i32)
      (call $write (local.get $stream) (local.get $p) (local.get $n) (i32.const 64))
      (i32.load8_u (i32.const 64)))

    (func $first_dir (result i32)
      (call $get_dirs (i32.const 64))
      (if (i32.eqz (i32.load (i32.const 68))) (then (return (i32.const -1))))
      (i32.load (i32.load (i32.const 64))))

    (func $dispatch (param $args i32) (param $n i32) (result i32)
      (local $mode i32) (local $ap i32) (local $an i32) (local $h i32) (local $i i32)
      (local $buf i32) (local $fd i32)
      (if (i32.eqz (local.get $n)) (then (return (call $ok (i32.const 0) (i32.const 0)))))
      (if (i32.eqz (i32.load offset=12 (local.get $args)))
        (then (return (call $err (global.get $s_unknown_mode) (global.get $n_unknown_mode)))))
      (local.set $mode (i32.load8_u (i32.load offset=8 (local.get $args))))
      (if (i32.ge_u (local.get $n) (i32.const 2))
        (then
          (local.set $ap (i32.load offset=24 (local.get $args)))
          (local.set $an (i32.load offset=28 (local.get $args)))))
      ;; e: echo
      (if (i32.eq (local.get $mode) (i32.const 101))
        (then (return (call $ok (local.get $ap) (local.get $an)))))
      ;; E: the tool's own error
      (if (i32.eq (local.get $mode) (i32.const 69))
        (then (return (call $err (local.get $ap) (local.get $an)))))
      ;; l: spin forever
      (if (i32.eq (local.get $mode) (i32.const 108))
        (then (loop $spin (br $spin))))
      ;; t: trap
      (if (i32.eq (local.get $mode) (i32.const 116)) (then unreachable))
      ;; m: memory bomb that aborts like a Rust guest
      (if (i32.eq (local.get $mode) (i32.const 109))
        (then
          (block $refused (loop $grow
            (br_if $refused (i32.eq (memory.grow (i32.const 16)) (i32.const -1)))
            (br $grow)))
          (local.set $h (call $get_stderr))
          (drop (call $emit (local.get $h) (global.get $s_oom) (global.get $n_oom)))
          unreachable))
      ;; a: memory bomb that handles the refusal and returns its own error
      (if (i32.eq (local.get $mode) (i32.const 97))
        (then
          (block $refused (loop $grow
            (br_if $refused (i32.eq (memory.grow (i32.const 16)) (i32.const -1)))
            (br $grow)))
          (return (call $err (global.get $s_oom_err) (global.get $n_oom_err)))))
      ;; A: an allocation the allocator cannot satisfy (it traps, saying nothing)
      (if (i32.eq (local.get $mode) (i32.const 65))
        (then (drop (call $alloc (i32.const 67108864))) unreachable))
      ;; M: memory bomb that reports how many pages it got
      (if (i32.eq (local.get $mode) (i32.const 77))
        (then
          (block $refused (loop $grow
            (br_if $refused (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))
            (br $grow)))
          (return (call $ok_number (memory.size)))))
      ;; f: flood stdout
      (if (i32.eq (local.get $mode) (i32.const 102))
        (then
          (local.set $buf (call $alloc (i32.const 4096)))
          (memory.fill (local.get $buf) (i32.const 65) (i32.const 4096))
          (local.set $h (call $get_stdout))
          (local.set $i (i32.const 4096))
          (block $d (loop $l
            (br_if $d (i32.eqz (local.get $i)))
            (if (call $emit (local.get $h) (local.get $buf) (i32.const 4096))
              (then (return
                (call $err (global.get $s_stdout_closed) (global.get $n_stdout_closed)))))
            (local.set $i (i32.sub (local.get $i) (i32.const 1)))
            (br $l)))
          (call $drop_os (local.get $h))
          (return (call $ok (global.get $s_flooded) (global.get $n_flooded)))))
      ;; o: a 2 MiB result
      (if (i32.eq (local.get $mode) (i32.const 111))
        (then
          (local.set $buf (call $alloc (i32.const 2097152)))
          (memory.fill (local.get $buf) (i32.const 66) (i32.const 2097152))
          (return (call $ok (local.get $buf) (i32.const 2097152)))))
      ;; v: environment
      (if (i32.eq (local.get $mode) (i32.const 118))
        (then
          (call $get_env (i32.const 64))
          (return (call $lines (i32.load (i32.const 64)) (i32.load (i32.const 68))))))
      ;; d: preopened directories, one guest path per line
      (if (i32.eq (local.get $mode) (i32.const 100))
        (then
          (call $get_dirs (i32.const 64))
          ;; reuse $lines on (handle, name) tuples: 12-byte elements, so copy names out
          (local.set $an (i32.load (i32.const 68)))
          (local.set $buf (call $alloc (i32.shl (local.get $an) (i32.const 4))))
          (local.set $i (i32.const 0))
          (block $d (loop $l
            (br_if $d (i32.ge_u (local.get $i) (local.get $an)))
            (local.set $ap
              (i32.add (i32.load (i32.const 64)) (i32.mul (local.get $i) (i32.const 12))))
            (local.set $fd (i32.add (local.get $buf) (i32.shl (local.get $i) (i32.const 4))))
            (i32.store (local.get $fd) (i32.load offset=4 (local.get $ap)))
            (i32.store offset=4 (local.get $fd) (i32.load offset=8 (local.get $ap)))
            (i32.store offset=8 (local.get $fd) (i32.const 0))
            (i32.store offset=12 (local.get $fd) (i32.const 0))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $l)))
          (return (call $lines (local.get $buf) (local.get $an)))))
      ;; r: read a file under the first preopen
      (if (i32.eq (local.get $mode) (i32.const 114))
        (then
          (local.set $h (call $first_dir))
          (if (i32.eq (local.get $h) (i32.const -1))
            (then (return (call $err (global.get $s_no_dirs) (global.get $n_no_dirs)))))
          (call $open_at (local.get $h) (i32.const 0) (local.get $ap) (local.get $an)
            (i32.const 0) (i32.const 1) (i32.const 80))
          (if (i32.load8_u (i32.const 80))
            (then (return (call $err_code (global.get $s_open_failed) (global.get $n_open_failed)
              (i32.load8_u (i32.const 84))))))
          (local.set $fd (i32.load (i32.const 84)))
          (call $fd_read (local.get $fd) (i64.const 65536) (i64.const 0) (i32.const 96))
          (if (i32.load8_u (i32.const 96))
            (then (return (call $err_code (global.get $s_read_failed) (global.get $n_read_failed)
              (i32.load8_u (i32.const 100))))))
          (call $drop_fd (local.get $fd))
          (return (call $ok (i32.load (i32.const 100)) (i32.load (i32.const 104))))))
      ;; w: create/truncate a file under the first preopen and write to it
      (if (i32.eq (local.get $mode) (i32.const 119))
        (then
          (local.set $h (call $first_dir))
          (if (i32.eq (local.get $h) (i32.const -1))
            (then (return (call $err (global.get $s_no_dirs) (global.get $n_no_dirs)))))
          (call $open_at (local.get $h) (i32.const 0) (local.get $ap) (local.get $an)
            (i32.const 9) (i32.const 2) (i32.const 80))
          (if (i32.load8_u (i32.const 80))
            (then (return (call $err_code (global.get $s_open_failed) (global.get $n_open_failed)
              (i32.load8_u (i32.const 84))))))
          (local.set $fd (i32.load (i32.const 84)))
          (call $fd_write (local.get $fd) (global.get $s_pwned) (global.get $n_pwned)
            (i64.const 0) (i32.const 112))
          (if (i32.load8_u (i32.const 112))
            (then (return (call $err_code (global.get $s_write_failed)
              (global.get $n_write_failed) (i32.load8_u (i32.const 120))))))
          (call $drop_fd (local.get $fd))
          (return (call $ok (global.get $s_written) (global.get $n_written)))))
      ;; x: exit(err)
      (if (i32.eq (local.get $mode) (i32.const 120))
        (then (call $exit (i32.const 1)) unreachable))
      ;; g: host log
      (if (i32.eq (local.get $mode) (i32.const 103))
        (then
          (call $log (local.get $ap) (local.get $an))
          (return (call $ok (global.get $s_logged) (global.get $n_logged)))))
      ;; p: print to stdout and stderr
      (if (i32.eq (local.get $mode) (i32.const 112))
        (then
          (local.set $h (call $get_stdout))
          (drop (call $emit (local.get $h) (local.get $ap) (local.get $an)))
          (call $drop_os (local.get $h))
          (local.set $h (call $get_stderr))
          (drop (call $emit (local.get $h) (local.get $ap) (local.get $an)))
          (call $drop_os (local.get $h))
          (return (call $ok (local.get $ap) (local.get $an)))))
      ;; h: http-get through the host; ok(body) or err(message)
      (if (i32.eq (local.get $mode) (i32.const 104))
        (then
          (call $http_get (local.get $ap) (local.get $an) (i32.const 128))
          (if (i32.load8_u (i32.const 128))
            (then (return (call $err (i32.load (i32.const 132)) (i32.load (i32.const 136))))))
          (return (call $ok (i32.load (i32.const 144)) (i32.load (i32.const 148))))))
      ;; n: TCP connect to 127.0.0.1:<decimal port in arg>
      (if (i32.eq (local.get $mode) (i32.const 110))
        (then
          (local.set $i (i32.const 0))
          (local.set $fd (i32.const 0))
          (block $d (loop $l
            (br_if $d (i32.ge_u (local.get $i) (local.get $an)))
            (local.set $fd (i32.add (i32.mul (local.get $fd) (i32.const 10))
              (i32.sub (i32.load8_u (i32.add (local.get $ap) (local.get $i))) (i32.const 48))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $l)))
          (call $create_tcp (i32.const 0) (i32.const 160))
          (if (i32.load8_u (i32.const 160))
            (then (return (call $err_code (global.get $s_socket_failed)
              (global.get $n_socket_failed) (i32.load8_u (i32.const 164))))))
          (call $start_connect (i32.load (i32.const 164)) (call $instance_network)
            (i32.const 0) (local.get $fd) (i32.const 127) (i32.const 0) (i32.const 0)
            (i32.const 1) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)
            (i32.const 0) (i32.const 176))
          (if (i32.load8_u (i32.const 176))
            (then (return (call $err_code (global.get $s_connect_failed)
              (global.get $n_connect_failed) (i32.load8_u (i32.const 177))))))
          (return (call $ok (global.get $s_connecting) (global.get $n_connecting)))))
      (call $err (global.get $s_unknown_mode) (global.get $n_unknown_mode)))

    (func (export "get-metadata") (result i32) (i32.const {meta}))
    (func (export "execute") (param $args i32) (param $n i32) (result i32)
      (call ${behaviour} (local.get $args) (local.get $n)))
    ;; the seed world's execute: the same behaviour, reported as a tool-result record at 32
    (func (export "seed-execute") (param $args i32) (param $n i32) (result i32)
      (drop (call ${behaviour} (local.get $args) (local.get $n)))
      (if (i32.load8_u (i32.const 16))
        (then
          (i32.store8 (i32.const 32) (i32.const 0))
          (i32.store (i32.const 36) (i32.const 0))
          (i32.store (i32.const 40) (i32.const 0))
          (i32.store8 (i32.const 44) (i32.const 1))
          (i32.store (i32.const 48) (i32.load (i32.const 20)))
          (i32.store (i32.const 52) (i32.load (i32.const 24))))
        (else
          (i32.store8 (i32.const 32) (i32.const 1))
          (i32.store (i32.const 36) (i32.load (i32.const 20)))
          (i32.store (i32.const 40) (i32.load (i32.const 24)))
          (i32.store8 (i32.const 44) (i32.const 0))))
      (i32.const 32))
    (func (export "run") (result i32) (i32.const 0))
  )
"""

_IMPORTS = """
  (import "wasi:cli/environment@0.2.0" (instance $env
    (export "get-environment" (func (result (list (tuple string string)))))))
  (import "wasi:io/error@0.2.0" (instance $io-error (export "error" (type (sub resource)))))
  (alias export $io-error "error" (type $error))
  (import "wasi:io/streams@0.2.0" (instance $streams
    (export "output-stream" (type $os (sub resource)))
    (alias outer 1 $error (type $e0))
    (export "error" (type $e (eq $e0)))
    (type $se0 (variant (case "last-operation-failed" (own $e)) (case "closed")))
    (export "stream-error" (type $se (eq $se0)))
    (export "[method]output-stream.blocking-write-and-flush"
      (func (param "self" (borrow $os)) (param "contents" (list u8))
        (result (result (error $se)))))))
  (alias export $streams "output-stream" (type $output-stream))
  (import "wasi:cli/stdout@0.2.0" (instance $stdout
    (alias outer 1 $output-stream (type $os0))
    (export "output-stream" (type $os (eq $os0)))
    (export "get-stdout" (func (result (own $os))))))
  (import "wasi:cli/stderr@0.2.0" (instance $stderr
    (alias outer 1 $output-stream (type $os0))
    (export "output-stream" (type $os (eq $os0)))
    (export "get-stderr" (func (result (own $os))))))
  (import "wasi:cli/exit@0.2.0" (instance $exit (export "exit" (func (param "status" (result))))))
  (import "wasi:filesystem/types@0.2.0" (instance $fs
    (export "descriptor" (type $d (sub resource)))
    (type $fsz0 u64)
    (export "filesize" (type $fsz (eq $fsz0)))
    (type $ec0 (enum "access" "would-block" "already" "bad-descriptor" "busy" "deadlock" "quota"
      "exist" "file-too-large" "illegal-byte-sequence" "in-progress" "interrupted" "invalid" "io"
      "is-directory" "loop" "too-many-links" "message-size" "name-too-long" "no-device" "no-entry"
      "no-lock" "insufficient-memory" "insufficient-space" "not-directory" "not-empty"
      "not-recoverable" "unsupported" "no-tty" "no-such-device" "overflow" "not-permitted" "pipe"
      "read-only" "invalid-seek" "text-file-busy" "cross-device"))
    (export "error-code" (type $ec (eq $ec0)))
    (type $df0 (flags "read" "write" "file-integrity-sync" "data-integrity-sync"
      "requested-write-sync" "mutate-directory"))
    (export "descriptor-flags" (type $df (eq $df0)))
    (type $pf0 (flags "symlink-follow"))
    (export "path-flags" (type $pf (eq $pf0)))
    (type $of0 (flags "create" "directory" "exclusive" "truncate"))
    (export "open-flags" (type $of (eq $of0)))
    (export "[method]descriptor.open-at" (func (param "self" (borrow $d)) (param "path-flags" $pf)
      (param "path" string) (param "open-flags" $of) (param "flags" $df)
      (result (result (own $d) (error $ec)))))
    (export "[method]descriptor.read" (func (param "self" (borrow $d)) (param "length" $fsz)
      (param "offset" $fsz) (result (result (tuple (list u8) bool) (error $ec)))))
    (export "[method]descriptor.write" (func (param "self" (borrow $d)) (param "buffer" (list u8))
      (param "offset" $fsz) (result (result $fsz (error $ec)))))))
  (alias export $fs "descriptor" (type $descriptor))
  (import "wasi:filesystem/preopens@0.2.0" (instance $preopens
    (alias outer 1 $descriptor (type $d0))
    (export "descriptor" (type $d (eq $d0)))
    (export "get-directories" (func (result (list (tuple (own $d) string)))))))
  (import "wasi:sockets/network@0.2.0" (instance $network
    (export "network" (type $n (sub resource)))
    (type $ec0 (enum "unknown" "access-denied" "not-supported" "invalid-argument" "out-of-memory"
      "timeout" "concurrency-conflict" "not-in-progress" "would-block" "invalid-state"
      "new-socket-limit" "address-not-bindable" "address-in-use" "remote-unreachable"
      "connection-refused" "connection-reset" "connection-aborted" "datagram-too-large"
      "name-unresolvable" "temporary-resolver-failure" "permanent-resolver-failure"))
    (export "error-code" (type $ec (eq $ec0)))
    (type $fam0 (enum "ipv4" "ipv6"))
    (export "ip-address-family" (type $fam (eq $fam0)))
    (type $v4a0 (tuple u8 u8 u8 u8))
    (export "ipv4-address" (type $v4a (eq $v4a0)))
    (type $v4s0 (record (field "port" u16) (field "address" $v4a)))
    (export "ipv4-socket-address" (type $v4s (eq $v4s0)))
    (type $v6a0 (tuple u16 u16 u16 u16 u16 u16 u16 u16))
    (export "ipv6-address" (type $v6a (eq $v6a0)))
    (type $v6s0 (record (field "port" u16) (field "flow-info" u32) (field "address" $v6a)
      (field "scope-id" u32)))
    (export "ipv6-socket-address" (type $v6s (eq $v6s0)))
    (type $sa0 (variant (case "ipv4" $v4s) (case "ipv6" $v6s)))
    (export "ip-socket-address" (type $sa (eq $sa0)))))
  (alias export $network "network" (type $network-res))
  (alias export $network "error-code" (type $net-error-code))
  (alias export $network "ip-address-family" (type $ip-address-family))
  (alias export $network "ip-socket-address" (type $ip-socket-address))
  (import "wasi:sockets/instance-network@0.2.0" (instance $instance-network
    (alias outer 1 $network-res (type $n0))
    (export "network" (type $n (eq $n0)))
    (export "instance-network" (func (result (own $n))))))
  (import "wasi:sockets/tcp@0.2.0" (instance $tcp
    (export "tcp-socket" (type $s (sub resource)))
    (alias outer 1 $network-res (type $n0))
    (export "network" (type $n (eq $n0)))
    (alias outer 1 $ip-socket-address (type $sa0))
    (export "ip-socket-address" (type $sa (eq $sa0)))
    (alias outer 1 $net-error-code (type $ec0))
    (export "error-code" (type $ec (eq $ec0)))
    (export "[method]tcp-socket.start-connect" (func (param "self" (borrow $s))
      (param "network" (borrow $n)) (param "remote-address" $sa) (result (result (error $ec)))))))
  (alias export $tcp "tcp-socket" (type $tcp-socket))
  (import "wasi:sockets/tcp-create-socket@0.2.0" (instance $tcp-create
    (alias outer 1 $ip-address-family (type $fam0))
    (export "ip-address-family" (type $fam (eq $fam0)))
    (alias outer 1 $tcp-socket (type $s0))
    (export "tcp-socket" (type $s (eq $s0)))
    (alias outer 1 $net-error-code (type $ec0))
    (export "error-code" (type $ec (eq $ec0)))
    (export "create-tcp-socket" (func (param "address-family" $fam)
      (result (result (own $s) (error $ec)))))))
  (import "llm-agent:tool/host@0.1.0" (instance $host
    (type $resp0 (record (field "status" u16) (field "headers" (list (tuple string string)))
      (field "body" (list u8))))
    (export "http-response" (type $resp (eq $resp0)))
    (export "log" (func (param "message" string)))
    (export "http-get" (func (param "url" string) (result (result $resp (error string)))))))
"""

_LOWER = """
  (core func $get_env (canon lower (func $env "get-environment") (memory $mem) (realloc $realloc)))
  (core func $get_stdout (canon lower (func $stdout "get-stdout")))
  (core func $get_stderr (canon lower (func $stderr "get-stderr")))
  (core func $write (canon lower
    (func $streams "[method]output-stream.blocking-write-and-flush") (memory $mem)))
  (core func $drop_os (canon resource.drop $output-stream))
  (core func $exit (canon lower (func $exit "exit")))
  (core func $get_dirs
    (canon lower (func $preopens "get-directories") (memory $mem) (realloc $realloc)))
  (core func $open_at (canon lower (func $fs "[method]descriptor.open-at") (memory $mem)))
  (core func $fd_read
    (canon lower (func $fs "[method]descriptor.read") (memory $mem) (realloc $realloc)))
  (core func $fd_write (canon lower (func $fs "[method]descriptor.write") (memory $mem)))
  (core func $drop_fd (canon resource.drop $descriptor))
  (core func $log (canon lower (func $host "log") (memory $mem)))
  (core func $http_get
    (canon lower (func $host "http-get") (memory $mem) (realloc $realloc)))
  (core func $instance_network (canon lower (func $instance-network "instance-network")))
  (core func $create_tcp (canon lower (func $tcp-create "create-tcp-socket") (memory $mem)))
  (core func $start_connect
    (canon lower (func $tcp "[method]tcp-socket.start-connect") (memory $mem)))
  (core instance $host_funcs
    (export "get-environment" (func $get_env))
    (export "get-stdout" (func $get_stdout))
    (export "get-stderr" (func $get_stderr))
    (export "write" (func $write))
    (export "drop-output-stream" (func $drop_os))
    (export "exit" (func $exit))
    (export "get-directories" (func $get_dirs))
    (export "open-at" (func $open_at))
    (export "read" (func $fd_read))
    (export "write-file" (func $fd_write))
    (export "drop-descriptor" (func $drop_fd))
    (export "log" (func $log))
    (export "http-get" (func $http_get))
    (export "instance-network" (func $instance_network))
    (export "create-tcp-socket" (func $create_tcp))
    (export "start-connect" (func $start_connect)))
"""

_INSTANTIATE = """
  (core instance $main (instantiate $main
    (with "libc" (instance $libc))
    (with "host" (instance $host_funcs))))
"""

_EXPORT_LLM_AGENT = """
  (import "llm-agent:tool/types@0.1.0" (instance $types
    (type $p0 (record (field "name" string) (field "description" string) (field "type" string)
      (field "required" bool)))
    (export "param" (type $p (eq $p0)))
    (type $u0 (record (field "user" string) (field "assistant" string)))
    (export "usage" (type $u (eq $u0)))
    (type $m0 (record (field "name" string) (field "description" string)
      (field "version" string) (field "params" (list $p)) (field "usage" (list $u))))
    (export "metadata" (type $m (eq $m0)))
    (type $a0 (record (field "name" string) (field "value" string)))
    (export "arg" (type $a (eq $a0)))))
  (alias export $types "param" (type $param))
  (alias export $types "usage" (type $usage))
  (alias export $types "metadata" (type $metadata))
  (alias export $types "arg" (type $arg))
  (func $get-metadata (result $metadata)
    (canon lift (core func $main "get-metadata") (memory $mem)))
  (func $execute (param "args" (list $arg)) (result (result string (error string)))
    (canon lift (core func $main "execute") (memory $mem) (realloc $realloc)))
  (component $shim
    (type $p0 (record (field "name" string) (field "description" string) (field "type" string)
      (field "required" bool)))
    (import "import-type-param" (type $p (eq $p0)))
    (type $u0 (record (field "user" string) (field "assistant" string)))
    (import "import-type-usage" (type $u (eq $u0)))
    (type $m0 (record (field "name" string) (field "description" string)
      (field "version" string) (field "params" (list $p)) (field "usage" (list $u))))
    (import "import-type-metadata" (type $m (eq $m0)))
    (type $a0 (record (field "name" string) (field "value" string)))
    (import "import-type-arg" (type $a (eq $a0)))
    (import "import-func-get-metadata" (func $gm (result $m)))
    (import "import-func-execute"
      (func $ex (param "args" (list $a)) (result (result string (error string)))))
    (export $me "metadata" (type $m))
    (export $ae "arg" (type $a))
    (export "get-metadata" (func $gm) (func (result $me)))
    (export "execute" (func $ex)
      (func (param "args" (list $ae)) (result (result string (error string))))))
  (instance $tool (instantiate $shim
    (with "import-func-get-metadata" (func $get-metadata))
    (with "import-func-execute" (func $execute))
    (with "import-type-param" (type $param))
    (with "import-type-usage" (type $usage))
    (with "import-type-metadata" (type $metadata))
    (with "import-type-arg" (type $arg))))
  (export "llm-agent:tool/tool@0.1.0" (instance $tool))
"""

_EXPORT_SEED = """
  (import "llama-cpp:tool/types" (instance $types
    (type $p0 (record (field "name" string) (field "description" string) (field "type" string)
      (field "required" bool)))
    (export "tool-params" (type $p (eq $p0)))
    (type $u0 (record (field "user" string) (field "assistent" string)))
    (export "tool-usage" (type $u (eq $u0)))
    (type $m0 (record (field "name" string) (field "description" string)
      (field "version" string) (field "params" (list $p)) (field "usage" (list $u))))
    (export "tool-metadata" (type $m (eq $m0)))
    (type $r0 (record (field "success" bool) (field "data" string) (field "error" (option string))))
    (export "tool-result" (type $r (eq $r0)))))
  (alias export $types "tool-metadata" (type $tm0))
  (import "tool-metadata" (type $tool-metadata (eq $tm0)))
  (alias export $types "tool-params" (type $tp0))
  (import "tool-params" (type $tool-params (eq $tp0)))
  (alias export $types "tool-result" (type $tr0))
  (import "tool-result" (type $tool-result (eq $tr0)))
  (func $get-metadata (result $tool-metadata)
    (canon lift (core func $main "get-metadata") (memory $mem)))
  (export "get-metadata" (func $get-metadata))
  (func $execute (param "params" (list (tuple string string))) (result $tool-result)
    (canon lift (core func $main "seed-execute") (memory $mem) (realloc $realloc)))
  (export "execute" (func $execute))
  (func $run (result (result)) (canon lift (core func $main "run")))
  (export "run" (func $run))
"""


def component_wat(spec: Spec) -> str:
    """The component WAT text for `spec`."""
    exports = {"llm-agent": _EXPORT_LLM_AGENT, "seed": _EXPORT_SEED}[spec.world]
    return "\n".join(
        [
            "(component",
            _IMPORTS,
            spec.extra_imports,
            _LIBC,
            _LOWER,
            _core_module(spec),
            _INSTANTIATE,
            exports,
            ")",
        ]
    )
