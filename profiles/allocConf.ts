/**
 * Checks a TORCH_CUDA_ALLOC_CONF value the way torch 2.3's caching allocator parses it
 * (c10/cuda/CUDAAllocatorConfig.cpp, CUDAAllocatorConfig::parseArgs): comma-separated
 * `option:value` pairs; an unknown option or a bad value makes every CUDA service fail at its
 * first allocation, so the fleet refuses it before anything is deployed. Returns one message per
 * problem, empty when torch would accept the value.
 */
export function allocConfProblems(value: string): string[] {
  const problems: string[] = [];
  for (const pair of splitPairs(value)) {
    const colon = pair.indexOf(":");
    const key = colon < 0 ? pair : pair.slice(0, colon);
    const raw = colon < 0 ? "" : pair.slice(colon + 1);
    const rule = RULES[key];
    if (!rule) {
      problems.push(`torch knows no allocator option "${key}"; known: ${Object.keys(RULES).join(", ")}`);
    } else if (colon < 0 || raw === "") {
      problems.push(`${key} needs a value: ${rule.allowed}`);
    } else if (!rule.accepts(raw)) {
      problems.push(`${key} must be ${rule.allowed}; got "${raw}"`);
    }
  }
  return problems;
}

interface Rule {
  readonly allowed: string;
  accepts(raw: string): boolean;
}

const whole = (raw: string) => (/^\d+$/.test(raw) ? Number(raw) : NaN);
const powerOfTwo = (n: number) => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
const bool: Rule = { allowed: "True or False", accepts: (raw) => raw === "True" || raw === "False" };

// The options torch 2.3 parses, with the checks it makes (the number of MB in max_split_size_mb
// must exceed the allocator's 20 MB large-buffer size; divisions are powers of two).
const RULES: Readonly<Record<string, Rule>> = {
  max_split_size_mb: { allowed: "a whole number of MB above 20", accepts: (raw) => whole(raw) > 20 },
  garbage_collection_threshold: { allowed: "a number between 0 and 1 (exclusive)", accepts: (raw) => /^\d*\.?\d+$/.test(raw) && Number(raw) > 0 && Number(raw) < 1 },
  roundup_power2_divisions: {
    allowed: 'a power of two, or a list like [256:1,512:2,>:4] of sizes in MB (or ">") to powers of two',
    accepts: (raw) =>
      powerOfTwo(whole(raw)) ||
      (/^\[.+\]$/.test(raw) &&
        raw
          .slice(1, -1)
          .split(",")
          .every((entry) => {
            const [size, divisions] = entry.split(":");
            return (size === ">" || powerOfTwo(whole(size))) && (divisions === "0" || powerOfTwo(whole(divisions)));
          })),
  },
  expandable_segments: bool,
  release_lock_on_cudamalloc: bool,
  pinned_use_cuda_host_register: bool,
  pinned_num_register_threads: { allowed: "a power of two from 1 to 128", accepts: (raw) => powerOfTwo(whole(raw)) && whole(raw) <= 128 },
  backend: { allowed: "native or cudaMallocAsync", accepts: (raw) => raw === "native" || raw === "cudaMallocAsync" },
};

/** Splits `a:1,b:[x:1,y:2]` into its option pairs, keeping bracketed lists whole. */
function splitPairs(value: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of value) {
    if (ch === "[") depth++;
    if (ch === "]") depth--;
    if (ch === "," && depth === 0) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out.map((p) => p.trim()).filter((p) => p !== "");
}
