#!/usr/bin/env node
// A small command line over jco's JS API for the three wasm-tools steps the build needs.
// The jco 1.35 CLI's `embed` cannot read WIT from a path (its sandboxed filesystem has no
// preopen for it), so WIT is read here and passed as source text.
//
//   node tools/wasm-tools.mjs embed --wit FILE --world NAME -o OUT CORE.wasm
//   node tools/wasm-tools.mjs new [--adapt FILE] -o OUT CORE.wasm
//   node tools/wasm-tools.mjs wit COMPONENT.wasm
//
// Exit status 0 on success; 1 with a one-line message on stderr otherwise.

import { readFile, rename, writeFile } from "node:fs/promises";
import { basename } from "node:path";
import { componentEmbed, componentNew, componentWit } from "@bytecodealliance/jco";

const USAGE =
  "usage: wasm-tools.mjs embed --wit FILE --world NAME -o OUT CORE.wasm\n" +
  "       wasm-tools.mjs new [--adapt FILE] -o OUT CORE.wasm\n" +
  "       wasm-tools.mjs wit COMPONENT.wasm";

function parseArgs(argv) {
  const opts = { positional: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--wit" || arg === "--world" || arg === "--adapt" || arg === "-o") {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
      opts[arg.replace(/^-+/, "")] = argv[++i];
    } else if (arg.startsWith("-")) {
      throw new Error(`unknown option ${arg}`);
    } else {
      opts.positional.push(arg);
    }
  }
  return opts;
}

function oneInput(opts) {
  if (opts.positional.length !== 1) throw new Error("expected exactly one input file");
  return opts.positional[0];
}

// Write next to the target and rename, so that an interrupted build never leaves a half file
// that make would take as up to date.
async function writeAtomically(path, bytes) {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, bytes);
  await rename(tmp, path);
}

async function embed(opts) {
  if (!opts.wit || !opts.world || !opts.o) throw new Error("embed needs --wit, --world and -o");
  const binary = await readFile(oneInput(opts));
  const witSource = await readFile(opts.wit, "utf8");
  const out = await componentEmbed({ binary, witSource, world: opts.world });
  await writeAtomically(opts.o, out);
}

async function create(opts) {
  if (!opts.o) throw new Error("new needs -o");
  const core = await readFile(oneInput(opts));
  const adapters = [];
  if (opts.adapt) {
    // wasm-tools names an adapter after its file: wasi_snapshot_preview1.reactor.wasm
    // adapts imports from the `wasi_snapshot_preview1` module.
    const name = basename(opts.adapt).split(".")[0];
    adapters.push([name, await readFile(opts.adapt)]);
  }
  const out = await componentNew(core, adapters);
  await writeAtomically(opts.o, out);
}

async function wit(opts) {
  const bytes = await readFile(oneInput(opts));
  process.stdout.write(await componentWit(bytes));
}

const COMMANDS = { embed, new: create, wit };

async function main() {
  const [command, ...rest] = process.argv.slice(2);
  const run = COMMANDS[command];
  if (!run) {
    console.error(USAGE);
    process.exit(2);
  }
  await run(parseArgs(rest));
}

main().catch((err) => {
  const message = String(err?.message ?? err).split("\n")[0];
  console.error(`wasm-tools.mjs: ${message}`);
  process.exit(1);
});
