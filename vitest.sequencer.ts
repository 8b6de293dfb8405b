/**
 * The order vitest starts test files in: the project with the longest file first, and in each
 * project the longest files first.
 *
 * vitest's own order runs the projects one after another by name (cli, client, deploy, faults,
 * gateway, ...) and, without a results cache (a fresh clone), the larger files first. With three
 * workers shared by every project that started load-500 (some 100 s of wall on its own) after the
 * CLI's files, 100 s into the run, so the run ended on it. Here: the sequence group first (today every project is in
 * group 1), then the file's duration from vitest's results cache when this
 * checkout has one, else the durations measured below, else the file size as vitest does.
 */
import { relative } from "node:path";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * Seconds each slow file took in a whole run (issue 20 item 14, this branch, 2 cores shared):
 * only their order matters. A file missing here sorts by its size after them.
 */
const MEASURED: Record<string, number> = {
  "tests/fault-suite/test/load-500-mixed-with-failing-backend.test.ts": 130,
  "apps/gateway/test/jobs-resume-after-sigkill-embedded-and-redis.test.ts": 90,
  "apps/gateway/test/jobs-cancel-webhooks-and-interactive-fairness.test.ts": 80,
  "apps/gateway/test/scale-out-identical-requests-at-two-gateways-run-one-job.test.ts": 55,
  "apps/gateway/test/synthesize-in-every-format.test.ts": 45,
  "apps/standin/test/instruct-is-audible-and-recorded.test.ts": 40,
  "packages/cli/test/say-clone-voices-rm-against-a-gateway.test.ts": 40,
  "apps/gateway/test/jobs-narrate-a-chapter-with-captions.test.ts": 40,
  "packages/cli/test/errors-and-exit-codes.test.ts": 38,
  "apps/gateway/test/openai-client-every-format-streams-and-decodes.test.ts": 35,
  "packages/sdk/test/every-mode-every-variant.test.ts": 34,
  "apps/gateway/test/scale-out-breaker-shared-and-failover-to-a-healthy-box.test.ts": 34,
  "apps/gateway/test/fault-queue-full.test.ts": 32,
  "packages/cli/test/narrate-a-chapter-with-a-resumable-wait.test.ts": 31,
  "apps/gateway/test/backend-pool-balance-and-health.test.ts": 30,
  "packages/sdk/test/packed-sdk-installs-and-runs.test.ts": 30,
  "packages/sdk/test/abort-and-timeout-cancel-the-job.test.ts": 28,
  "packages/sdk/test/ten-concurrent-three-aborted.test.ts": 28,
  "packages/sdk/test/slow-reader-bounded-memory.test.ts": 27,
  "apps/gateway/test/openai-clients-open-webui-home-assistant-sillytavern-replayed.test.ts": 25,
  "apps/gateway/test/openai-long-input-and-mp3-pieces-concatenate.test.ts": 24,
  "apps/gateway/test/routes-file-hot-reload.test.ts": 24,
  "packages/cli/test/say-straight-at-a-ui.test.ts": 23,
  "apps/gateway/test/passthrough-sessions-stick-to-one-backend.test.ts": 23,
  "tests/fault-suite/test/upstream-failures-and-warnings.test.ts": 21,
};

export default class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root;
    const cache = this.ctx.cache;
    const weight = new Map<TestSpecification, [number, number]>();
    for (const f of files) {
      const rel = relative(root, f.moduleId);
      const cached = cache.getFileTestResults(`${f.project.name}:${rel}`)?.duration;
      const measured = MEASURED[rel];
      const ms = cached ?? (measured === undefined ? undefined : measured * 1000);
      weight.set(f, [ms ?? -1, cache.getFileStats(`${f.project.name}:${rel}`)?.size ?? 0]);
    }
    // A project's files stay together: a worker runs one project's files one after another
    // (isolate: false) and is replaced when the next file is another project's, so interleaving
    // projects would start a worker, and import the gateway again, for almost every file. The
    // projects go in the order of their longest file, so load-500 still starts first.
    const longest = new Map<string, number>();
    for (const [f, [ms]] of weight) longest.set(f.project.name, Math.max(longest.get(f.project.name) ?? -1, ms));
    return [...files].sort((a, b) => {
      const group = a.project.config.sequence.groupOrder - b.project.config.sequence.groupOrder;
      if (group !== 0) return group;
      if (a.project.name !== b.project.name) {
        const byLongest = longest.get(b.project.name)! - longest.get(a.project.name)!;
        return byLongest || (a.project.name < b.project.name ? -1 : 1);
      }
      const [msA, sizeA] = weight.get(a)!;
      const [msB, sizeB] = weight.get(b)!;
      return msB - msA || sizeB - sizeA;
    });
  }
}
