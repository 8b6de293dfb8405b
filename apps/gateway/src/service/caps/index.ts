export { RedisSlots, type RedisSlotsOptions } from "./redis-slots.ts";
export type { JobSlots } from "./job-slots.ts";
