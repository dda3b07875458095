//! The small web page at `/`: every stream, live, and each node's state.

/// The page. It polls `/api/streams` and `/api/graph` once a second.
pub const INDEX_HTML: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Ooblex</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 1.5rem; background: #111; color: #eee; }
  h1 { font-size: 1.3rem; margin: 0 0 1rem; }
  #streams { display: flex; flex-wrap: wrap; gap: 1rem; }
  figure { margin: 0; background: #222; padding: .5rem; border-radius: 6px; }
  figure img { display: block; max-width: 640px; width: 100%; background: #000; }
  figcaption { font-size: .85rem; margin-top: .3rem; }
  figcaption a { color: #8cf; }
  table { border-collapse: collapse; margin-top: 1.5rem; font-size: .85rem; }
  th, td { padding: .25rem .7rem; text-align: right; border-bottom: 1px solid #333; }
  th:first-child, td:first-child, .kind, .state { text-align: left; }
  .running { color: #7d7; } .failed, .restarting { color: #f77; } .finished, .stopped { color: #aaa; }
</style>
</head>
<body>
<h1 id="title">Ooblex</h1>
<div id="streams"></div>
<table>
  <thead><tr><th>node</th><th class="kind">kind</th><th class="state">state</th><th>fps</th><th>frames</th><th>drops</th><th>queue</th><th>latency p50 ms</th><th>restarts</th></tr></thead>
  <tbody id="nodes"></tbody>
</table>
<script>
const shown = new Set();
let last = {}, lastAt = 0;
async function refresh() {
  try {
    const streams = (await (await fetch('/api/streams')).json()).streams;
    for (const s of streams) {
      if (shown.has(s.name)) continue;
      shown.add(s.name);
      const fig = document.createElement('figure');
      fig.innerHTML = `<img alt="${s.name}" src="${s.mjpeg}"><figcaption>${s.name} · <a href="${s.mjpeg}">${s.mjpeg}</a> · <a href="${s.snapshot}">snapshot</a></figcaption>`;
      document.getElementById('streams').appendChild(fig);
    }
    const graph = await (await fetch('/api/graph')).json();
    if (graph.name) document.getElementById('title').textContent = 'Ooblex · ' + graph.name;
    const now = performance.now(), dt = (now - lastAt) / 1000;
    const rows = graph.nodes.map(n => {
      const prev = last[n.node], fps = prev && dt > 0 ? ((n.frames_out - prev) / dt).toFixed(1) : '';
      last[n.node] = n.frames_out;
      return `<tr><td>${n.node}</td><td class="kind">${n.kind}</td><td class="state ${n.state}" title="${n.last_error || ''}">${n.state}</td><td>${fps}</td><td>${n.frames_out}</td><td>${n.drops}</td><td>${n.queue_depth}</td><td>${n.latency_p50_ms ?? ''}</td><td>${n.restarts}</td></tr>`;
    });
    lastAt = now;
    document.getElementById('nodes').innerHTML = rows.join('');
  } catch (e) { /* the server restarts; try again */ }
}
refresh();
setInterval(refresh, 1000);
</script>
</body>
</html>
"#;
