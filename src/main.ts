// Entry point compiled by build.ts into the single executable: argv → subcommand. No logic here.
//   nats-bun [server flags]   run the server (flags compatible with nats-server)
//   nats-bun bench …          the bundled load tool
// Each subcommand is loaded with require() only when used, so the server does not pay for
// evaluating the load tool (and the official client it bundles) at startup. (No top-level
// await: the executable is compiled with --bytecode, which needs CommonJS output.)
const argv = process.argv.slice(2);

function fail(e: unknown): void {
  console.error(`nats-bun: ${(e as Error)?.stack ?? String(e)}`);
  process.exit(1);
}

if (argv[0] === "bench") {
  const { runBench } = require("./cli/bench/main.ts") as typeof import("./cli/bench/main.ts");
  runBench(argv.slice(1)).then((code) => {
    process.exitCode = code;
  }, fail);
} else {
  const { runServerCommand } = require("./cli/server_command.ts") as typeof import("./cli/server_command.ts");
  runServerCommand(argv).catch(fail);
}

export {};
