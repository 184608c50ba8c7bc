/* global window */
// The admin's bar charts (funnel report, pipeline review), drawn with Chart.js: one look and one
// bar chart builder for both pages. `money` formats the values of a money chart.
'use strict';

window.SmarketingCharts = {
  create(Chart, money) {
    const palette = ['#3b5bdb', '#12b886', '#f59f00', '#e64980', '#7950f2', '#15aabf'];
    Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
    Chart.defaults.color = '#475467';
    Chart.defaults.animation = false;
    Chart.defaults.maintainAspectRatio = false;
    const charts = [];
    const draw = (id, config) => {
      const canvas = window.document.getElementById(id);
      if (canvas) charts.push(new Chart(canvas, config));
    };
    // options: horizontal (bars along x), money (values and their axis in money), stacked.
    const bars = (labels, series, options = {}) => ({
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
        indexAxis: options.horizontal ? 'y' : 'x',
        plugins: {
          legend: { display: series.length > 1, position: 'bottom' },
          tooltip: options.money
            ? { callbacks: { label: (ctx) => `${ctx.dataset.label}: ${money(ctx.parsed[options.horizontal ? 'x' : 'y'])}` } }
            : {},
        },
        scales: {
          x: {
            stacked: Boolean(options.stacked),
            beginAtZero: true,
            grid: { display: Boolean(options.horizontal) },
            ticks: options.horizontal ? (options.money ? { callback: (v) => money(v) } : { precision: 0 }) : {},
          },
          y: {
            stacked: Boolean(options.stacked),
            beginAtZero: true,
            grid: { display: !options.horizontal },
            ticks: !options.horizontal && options.money ? { callback: (v) => money(v) } : { precision: 0 },
          },
        },
      },
    });
    return { palette, charts, draw, bars };
  },
};
