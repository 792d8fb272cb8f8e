/**
 * The health probe every fleet container runs: GET /health on HEALTH_PORT must answer exactly
 * {"status":"ok"}. Python is in every fleet image, so no curl is needed (CIS 4.3: minimal packages).
 */
export const HEALTH_PROBE = [
  "CMD",
  "python3",
  "-c",
  "import json,os,sys,urllib.request as u; r=u.urlopen('http://127.0.0.1:%s/health' % os.environ['HEALTH_PORT'], timeout=3); sys.exit(0 if json.load(r) == {'status': 'ok'} else 1)",
];

/** Quotes a word for a POSIX shell. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** What a canary run needs to know. */
export interface CanarySpec {
  /** Service name, for messages. */
  readonly service: string;
  /** Container name prefix of the canary. */
  readonly slug: string;
  /** The `repo@sha256:` reference to try. */
  readonly image: string;
  /** Network the canary joins (no host ports, so it never clashes with the running container). */
  readonly network: string;
  /** Environment, as the real container gets it. */
  readonly env: Readonly<Record<string, string>>;
  /** Memory limit, MiB, as the real container gets it. */
  readonly memoryMiB: number;
  /** How long the image may take to report healthy. */
  readonly timeoutSeconds: number;
}

/**
 * A bash script that starts the image as a throw-away canary with the container's settings but no
 * host ports, waits for it to report healthy, and removes it. It exits non-zero with a message
 * naming the service and image when the image never gets healthy, so the update stops before the
 * running container is touched: a bad image never takes down a healthy service.
 */
export function canaryScript(spec: CanarySpec): string {
  const envArgs = Object.entries(spec.env)
    .map(([k, v]) => `-e ${shellQuote(`${k}=${v}`)}`)
    .join(" ");
  const probe = HEALTH_PROBE.slice(1).map(shellQuote).join(" ");
  return `set -u
name=fleet-canary-${spec.slug}-$$
image=${shellQuote(spec.image)}
cleanup() { docker rm -f "$name" >/dev/null 2>&1 || true; }
trap cleanup EXIT
if ! docker run -d --name "$name" --network ${shellQuote(spec.network)} --user 10001:10001 \\
    --read-only --tmpfs /tmp:rw,noexec,nosuid,size=64m --cap-drop ALL --security-opt no-new-privileges:true \\
    --memory ${spec.memoryMiB}m --health-cmd ${shellQuote(probe)} --health-interval 2s --health-timeout 3s --health-retries 3 \\
    ${envArgs} "$image" >/dev/null; then
  echo "fleet: ${spec.service}: could not start image $image as a canary; the running container was left as it was" >&2
  exit 1
fi
deadline=$(( $(date +%s) + ${spec.timeoutSeconds} ))
while :; do
  state=$(docker inspect -f '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}' "$name" 2>/dev/null || echo "gone")
  case "$state" in
    "running healthy") echo "${spec.service}: $image is healthy"; exit 0 ;;
    running*) ;;
    *)
      echo "fleet: ${spec.service}: image $image stopped before it was healthy (state: $state); the running container was left as it was. Its last output:" >&2
      docker logs --tail 20 "$name" >&2 2>&1 || true
      exit 1 ;;
  esac
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "fleet: ${spec.service}: image $image did not report healthy on /health within ${spec.timeoutSeconds}s; the running container was left as it was. Last health check and output:" >&2
    docker inspect -f '{{range .State.Health.Log}}{{.Output}}{{end}}' "$name" 2>/dev/null | tail -5 >&2 || true
    docker logs --tail 20 "$name" >&2 2>&1 || true
    exit 1
  fi
  sleep 1
done
`;
}
