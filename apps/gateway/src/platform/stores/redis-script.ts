import type { Redis } from "ioredis";

/** A Lua script called as one command: its keys first, then its arguments. */
export type RedisScript<R = unknown> = (...args: (string | number | Buffer)[]) => Promise<R>;

/**
 * A Lua script as a command of this connection: defined once per connection under `name`,
 * sent as EVALSHA with a fallback to EVAL (ioredis's defineCommand).
 * @example const spend = redisScript<number[]>(redis, "cosyvoiceJobSpend", 1, SPEND); await spend(key, 3);
 */
export function redisScript<R = unknown>(redis: Redis, name: string, numberOfKeys: number, lua: string): RedisScript<R> {
  if (!(name in redis)) redis.defineCommand(name, { numberOfKeys, lua });
  const command = (redis as unknown as Record<string, RedisScript<R>>)[name];
  if (!command) throw new Error(`redis script ${name} was not defined`);
  return command.bind(redis);
}
