// Draws the charts (Vega-Lite through vega-embed, bundled above) and the query tables from
// the JSON of #report-data. Cells are set with textContent: query texts are never markup.
const data = JSON.parse(document.getElementById("report-data").textContent);
const formats = {
  count: (v) => v.toLocaleString("en-US"),
  rate: (v) => (v * 100).toFixed(1) + " %",
  ratio: (v) => v.toFixed(3),
  text: (v) => String(v),
};
function cell(tag, text, numeric) {
  const el = document.createElement(tag);
  el.textContent = text;
  if (numeric) el.className = "num";
  return el;
}
for (const [id, table] of Object.entries(data.tables)) {
  const box = document.getElementById(id);
  if (!table.rows.length) {
    box.appendChild(cell("div", "No query qualifies in this period.", false)).className = "empty";
    continue;
  }
  const el = document.createElement("table");
  const head = el.createTHead().insertRow();
  for (const [, title, kind] of table.columns) head.appendChild(cell("th", title, kind !== "text"));
  const body = el.createTBody();
  for (const row of table.rows) {
    const tr = body.insertRow();
    for (const [field, , kind] of table.columns) {
      const value = row[field];
      const text = value === null ? (field === "query" ? "(no text)" : "-") : formats[kind](value);
      tr.appendChild(cell("td", text, kind !== "text"));
    }
  }
  box.appendChild(el);
}
const options = { actions: false, renderer: "svg", mode: "vega-lite" };
for (const [id, spec] of Object.entries(data.charts)) {
  window.vegaEmbed("#" + id, spec, options).catch((error) => console.error(id, error));
}
