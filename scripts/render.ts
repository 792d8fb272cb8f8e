/**
 * `npm run render -- <stack>`: prints the fleet a stack will run as JSON, without the Pulumi engine,
 * computed by the same resolver as index.ts. Bad input: a clear message on stderr and exit 1.
 */
import * as path from "path";
import { FleetInputError, invalidStackMessage } from "../errors";
import { renderFleet, resolveStack } from "../stack";

function main(argv: string[]): number {
  const stack = argv[0];
  if (!stack || argv.length > 1) {
    process.stderr.write("usage: npm run render -- <stack>   (a stack is a Pulumi.<stack>.yaml file: mainpc, pc2, local; FLEET_PROJECT_DIR: another checkout)\n");
    return 2;
  }
  try {
    process.stdout.write(JSON.stringify(renderFleet(resolveStack(process.env.FLEET_PROJECT_DIR ?? path.resolve(__dirname, ".."), stack)), null, 2) + "\n");
    return 0;
  } catch (e) {
    if (!(e instanceof FleetInputError)) throw e;
    process.stderr.write(`${invalidStackMessage(stack, e)}\n`);
    return 1;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
