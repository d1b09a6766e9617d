export {};
// Entry point compiled by build.ts into the single executable: argv → subcommand. No logic here.
//   nats-bun [server flags]   run the server (flags compatible with nats-server)
//   nats-bun bench …          the bundled load tool
const argv = process.argv.slice(2);

if (argv[0] === "bench") {
  const { runBench } = await import("./cli/bench/main.ts");
  process.exitCode = await runBench(argv.slice(1));
} else {
  const { runServerCommand } = await import("./cli/server_command.ts");
  await runServerCommand(argv);
}
