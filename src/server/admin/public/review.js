/* global document, window */
// The pipeline review's charts (open pipeline by stage, sources by channel), drawn with Chart.js
// from the JSON block the server rendered. Sized by their box, which the print stylesheet fixes for paper.
'use strict';

const source = document.getElementById('review-data');
const Chart = window.Chart;

if (source && Chart) {
  const data = JSON.parse(source.textContent);
  const money = (value) =>
    data.currency
      ? new Intl.NumberFormat('en-US', { style: 'currency', currency: data.currency, maximumFractionDigits: 0 }).format(value)
      : new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 }).format(value);
  const { palette, charts, draw, bars } = window.SmarketingCharts.create(Chart, money);

  draw(
    'chart-stages',
    bars(
      data.stages.labels,
      [{ label: 'Open pipeline', data: data.stages.amounts, color: palette.slice(0, Math.max(1, data.stages.labels.length)) }],
      { horizontal: true, money: true },
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
      { money: true },
    ),
  );
  // Printing re-lays the page out at paper width: redraw at the printed size, then back.
  window.addEventListener('beforeprint', () => charts.forEach((chart) => chart.resize()));
  window.addEventListener('afterprint', () => charts.forEach((chart) => chart.resize()));
  document.body.setAttribute('data-charts', String(charts.length));
}
