import * as pulumi from "@pulumi/pulumi";

/** The value of an Output in an async test (mocks resolve every Output). */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => resolve(v)));
}
