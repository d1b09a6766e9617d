// `nats-bun [server flags]`: parse the command line, then run, check, signal, or print.
import { natsBunVersion, referenceVersion } from "../constants.ts";
import type { ServerOptions } from "../config/options.ts";
import { Logger } from "../util/log.ts";
import { parseServerArgs, sendSignal, usageText } from "./args.ts";
import { loggerOptions, ServerRuntime } from "./lifecycle.ts";

export async function runServerCommand(argv: string[]): Promise<void> {
  const action = parseServerArgs(argv);
  switch (action.kind) {
    case "version":
      console.log(`nats-bun: v${natsBunVersion} (nats-server v${referenceVersion} compatible, bun ${Bun.version})`);
      return;
    case "help":
      console.log(usageText);
      return;
    case "error":
      console.error(`nats-bun: ${action.message}`);
      process.exit(1);
    case "signal":
      try {
        sendSignal(action.signal, action.pid);
      } catch (e) {
        console.error(`nats-bun: ${(e as Error).message}`);
        process.exit(1);
      }
      return;
    case "check":
      console.log(`nats-bun: configuration file ${action.opts.configFile} is valid`);
      return;
    case "run":
      break;
  }

  const opts = action.opts;
  const unsupported = notYetImplemented(opts);
  if (unsupported !== null) {
    console.error(`nats-bun: ${unsupported}`);
    process.exit(1);
  }
  const logger = new Logger(loggerOptions(opts));
  for (const w of action.warnings) logger.warn(w);

  const runtime = new ServerRuntime(argv, opts, logger);
  // Handlers first: a signal arriving as soon as the ports file shows the server listening
  // must not meet the default action (SIGHUP would end the process). They run on the event
  // loop, so not before start() has returned.
  runtime.installSignalHandlers();
  try {
    runtime.start();
  } catch (e) {
    logger.fatal((e as Error).message);
    process.exit(1);
  }
}

/**
 * Options the command line and config file accept (they are the reference's) but whose
 * feature has not landed yet: refused at start with a message naming them, never ignored.
 */
function notYetImplemented(opts: ServerOptions): string | null {
  if (opts.syslog || opts.remoteSyslog !== "") return "syslog is not yet supported by nats-bun";
  return null;
}
