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

/**
 * Weekly cash-in forecast as vertical bars (expected) with the 80 % band as a whisker per week.
 * weeks: [{week, week_start, expected, low, high}]; `format` prints amounts; `label(week)` names a week.
 */
export function forecastChart(container, weeks, { format = String, width = 1100, height = 260, empty = "", bandText = "" } = {}) {
  container.replaceChildren();
  if (!weeks.length) {
    const note = document.createElement("p");
    note.className = "empty";
    note.textContent = empty;
    container.append(note);
    return;
  }
  const left = 80, bottom = 30, top = 10, right = 8;
  const plotWidth = width - left - right, plotHeight = height - top - bottom;
  const largest = Math.max(...weeks.map((w) => w.high), 1e-12);
  const y = (value) => top + plotHeight - (value / largest) * plotHeight;
  const step = plotWidth / weeks.length;
  const svg = svgElement("svg", { viewBox: `0 0 ${width} ${height}`, width: "100%", role: "img", class: "forecast" });
  svg.append(svgElement("line", { x1: left, x2: width - right, y1: y(0), y2: y(0), class: "axis" }));
  for (const value of [largest / 2, largest]) {
    svg.append(svgElement("line", { x1: left, x2: width - right, y1: y(value), y2: y(value), class: "grid" }));
    svg.append(svgElement("text", { x: left - 6, y: y(value) + 4, "text-anchor": "end", class: "tick" }, format(value)));
  }
  weeks.forEach((w, i) => {
    const x = left + i * step;
    const group = svgElement("g", {
      class: "week", "data-week": w.week, "data-week-start": w.week_start,
      "data-expected": w.expected, "data-low": w.low, "data-high": w.high,
    });
    group.append(svgElement("title", {}, `${w.week_start}: ${format(w.expected)} (${bandText} ${format(w.low)} – ${format(w.high)})`));
    group.append(svgElement("rect", {
      x: (x + step * 0.15).toFixed(1), y: y(w.expected).toFixed(1), width: (step * 0.7).toFixed(1),
      height: Math.max(y(0) - y(w.expected), 0).toFixed(1), rx: 2,
    }));
    const middle = (x + step / 2).toFixed(1);
    group.append(svgElement("line", { x1: middle, x2: middle, y1: y(w.low).toFixed(1), y2: y(w.high).toFixed(1), class: "band" }));
    for (const value of [w.low, w.high]) {
      group.append(svgElement("line", {
        x1: (x + step * 0.35).toFixed(1), x2: (x + step * 0.65).toFixed(1), y1: y(value).toFixed(1), y2: y(value).toFixed(1), class: "band",
      }));
    }
    if (i % 2 === 0) {
      group.append(svgElement("text", { x: middle, y: height - bottom + 16, "text-anchor": "middle", class: "tick" }, w.week_start.slice(5)));
    }
    svg.append(group);
  });
  container.append(svg);
}
