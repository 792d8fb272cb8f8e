import { Family } from "./types";

/**
 * The family base images, from the plan's "Base Image Hierarchy". Each service image is built FROM
 * exactly one of these; a family's digest is a build input of every image below it.
 */
export const FAMILIES: readonly Family[] = [
  {
    name: "base-cpu-pydeps",
    parent: null,
    gpu: false,
    description: "Python runtime, tini, appuser 10001:10001 and common pinned deps: the root",
  },
  {
    name: "family-cpu-pydeps",
    parent: "base-cpu-pydeps",
    gpu: false,
    description: "CPU machine-learning deps",
  },
  {
    name: "family-web",
    parent: "base-cpu-pydeps",
    gpu: false,
    description: "web stack: ASGI server",
  },
  {
    name: "family-torch-cu121",
    parent: "base-cpu-pydeps",
    gpu: true,
    description: "torch for CUDA 12.1",
  },
  {
    name: "family-llm-cu121",
    parent: "family-torch-cu121",
    gpu: true,
    description: "LLM serving deps on top of torch",
  },
];
