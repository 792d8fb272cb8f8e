import * as pulumi from "@pulumi/pulumi";
import { DYNAMIC } from "../contract";
import { ProjectResource } from "./dynamic";
import { steps } from "./steps";

/** Inputs of a PrevTag. */
export interface PrevTagArgs {
  /** The `repo@sha256:` the service runs now. When it changes, the one it replaces becomes `:prev`. */
  readonly image: pulumi.Input<string>;
  /** The tag to move. Defaults to "prev". */
  readonly tag?: pulumi.Input<string>;
  /** The stack's Docker engine (fleet:dockerHost), whose trust decides plain HTTP (registry/trust.ts). */
  readonly dockerHost: string;
}

interface PrevTagState {
  readonly image: string;
  readonly tag: string;
  readonly dockerHost: string;
  /** The image the tag points at, or "" before any change. */
  readonly previous?: string;
}

/**
 * Moves the tag to the image a service ran before, through the registry module's client
 * (components/steps.ts): the old digest's manifest is put back under the tag with its media type,
 * over plain HTTP when the stack's engine trusts the registry so. A dynamic provider, run from the
 * project's code (components/dynamic.ts) in the provider process all dynamic resources share.
 */
export const prevTagProvider: pulumi.dynamic.ResourceProvider = {
  async diff(_id: string, olds: PrevTagState, news: PrevTagState) {
    return { changes: olds.image !== news.image || olds.tag !== news.tag, replaces: [], deleteBeforeReplace: false };
  },
  async create(inputs: PrevTagState) {
    // A service's first image has nothing before it: the tag is left where it is (or absent).
    return { id: `prev-${inputs.image.slice(inputs.image.lastIndexOf("@") + 8, inputs.image.lastIndexOf("@") + 20)}`, outs: { ...inputs, previous: "" } };
  },
  async update(_id: string, olds: PrevTagState, news: PrevTagState) {
    if (olds.image === news.image) return { outs: { ...news, previous: olds.previous ?? "" } };
    await steps().tag({ image: olds.image, tag: news.tag, dockerHost: news.dockerHost });
    return { outs: { ...news, previous: olds.image } };
  },
  async delete() {
    // The tag stays in the registry: it names an image that ran, which a rollback may want.
  },
};

/**
 * The registry tag `<service>:prev` (the plan's -prev images): a movable tag on the digest that ran
 * before the current one, moved on every deploy that changes the service's image. Make it depend on
 * the container, so that only an image that replaced the running one moves it.
 */
export class PrevTag extends ProjectResource {
  /** The image the tag points at now ("" until the service's image first changes). */
  public readonly previous!: pulumi.Output<string>;

  constructor(name: string, args: PrevTagArgs, opts?: pulumi.CustomResourceOptions) {
    super(DYNAMIC.prevTag, { file: "components/prevTag", exportName: "prevTagProvider" }, name, { image: args.image, tag: args.tag ?? "prev", dockerHost: args.dockerHost, previous: undefined }, opts);
  }
}
