/* global document, window */
// The pipeline review's charts (open pipeline by stage, sources by channel), drawn with Chart.js
// from the JSON block the server rendered. Sized by their box, which the print stylesheet fixes for paper.
'use strict';

const source = document.getElementById('review-data');
const Chart = window.Chart;

if (source && Chart) {
  const data = JSON.parse(source.textContent);
  const palette = ['#3b5bdb', '#12b886', '#f59f00', '#e64980', '#7950f2', '#15aabf'];
  const money = (value) =>
    data.currency
      ? new Intl.NumberFormat('en-US', { style: 'currency', currency: data.currency, maximumFractionDigits: 0 }).format(value)
      : new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 }).format(value);
  Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
  Chart.defaults.color = '#475467';
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;

  const charts = [];
  const draw = (id, config) => {
    const canvas = document.getElementById(id);
    if (canvas) charts.push(new Chart(canvas, config));
  };
  const bars = (labels, series, horizontal) => ({
    type: 'bar',
    data: {
      labels,
      datasets: series.map((s, i) => ({
        label: s.label,
        data: s.data,
        backgroundColor: s.color ?? palette[i % palette.length],
        borderRadius: 4,
        maxBarThickness: 42,
      })),
    },
    options: {
      indexAxis: horizontal ? 'y' : 'x',
      plugins: {
        legend: { display: series.length > 1, position: 'bottom' },
        tooltip: { callbacks: { label: (ctx) => `${ctx.dataset.label}: ${money(ctx.parsed[horizontal ? 'x' : 'y'])}` } },
      },
      scales: horizontal
        ? { x: { beginAtZero: true, ticks: { callback: (v) => money(v) } }, y: { grid: { display: false } } }
        : { x: { grid: { display: false } }, y: { beginAtZero: true, ticks: { callback: (v) => money(v) } } },
    },
  });

  draw(
    'chart-stages',
    bars(
      data.stages.labels,
      [{ label: 'Open pipeline', data: data.stages.amounts, color: palette.slice(0, Math.max(1, data.stages.labels.length)) }],
      true,
    ),
  );
  draw(
    'chart-sources',
    bars(
      data.channels.labels,
      [
        { label: 'Won', data: data.channels.won },
        { label: 'Open pipeline', data: data.channels.open },
      ],
      false,
    ),
  );
  // Printing re-lays the page out at paper width: redraw at the printed size, then back.
  window.addEventListener('beforeprint', () => charts.forEach((chart) => chart.resize()));
  window.addEventListener('afterprint', () => charts.forEach((chart) => chart.resize()));
  document.body.setAttribute('data-charts', String(charts.length));
}
