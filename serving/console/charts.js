// Horizontal bar charts drawn as plain SVG (no libraries).

const SVG = "http://www.w3.org/2000/svg";

function svgElement(name, attributes = {}, text = null) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, value);
  if (text !== null) element.textContent = text;
  return element;
}

/**
 * Draw bars into `container`.
 * items: [{label, value, text, title, kind}] — `value` sets the bar length, `text` is printed beside it,
 * `kind` picks a colour class (e.g. "risk", "grade-7"); `title` becomes the tooltip.
 */
export function barChart(container, items, { labelWidth = 220, width = 560, barHeight = 22, empty = "" } = {}) {
  container.replaceChildren();
  if (!items.length) {
    const note = document.createElement("p");
    note.className = "empty";
    note.textContent = empty;
    container.append(note);
    return;
  }
  const gap = 6;
  const height = items.length * (barHeight + gap) + gap;
  const plot = width - labelWidth - 90;
  const largest = Math.max(...items.map((item) => Math.abs(item.value)), 1e-12);
  const svg = svgElement("svg", {
    viewBox: `0 0 ${width} ${height}`, width: "100%", role: "img", class: "bars",
  });
  items.forEach((item, i) => {
    const y = gap + i * (barHeight + gap);
    const length = Math.max((Math.abs(item.value) / largest) * plot, item.value ? 2 : 0);
    const row = svgElement("g", { class: `bar ${item.kind || ""}`, "data-label": item.label, "data-value": item.value });
    if (item.title) row.append(svgElement("title", {}, item.title));
    row.append(svgElement("text", { x: labelWidth - 8, y: y + barHeight * 0.7, "text-anchor": "end", class: "label" }, item.label));
    row.append(svgElement("rect", { x: labelWidth, y, width: length.toFixed(1), height: barHeight, rx: 3 }));
    row.append(svgElement("text", { x: labelWidth + length + 6, y: y + barHeight * 0.7, class: "value" }, item.text));
    svg.append(row);
  });
  container.append(svg);
}
