const mods = process.argv.slice(2);
const rss = () => process.memoryUsage().rss / 1048576;
const base = rss();
let prev = base;
for (const m of mods) {
  await import(m);
  const now = rss();
  console.log(m.padEnd(50), (now - prev).toFixed(1));
  prev = now;
}
console.log("base", base.toFixed(1), "total", rss().toFixed(1));
