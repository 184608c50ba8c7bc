/* global document, window */
// The funnel report's charts, drawn with Chart.js from the JSON block the server rendered.
'use strict';

const source = document.getElementById('report-data');
const Chart = window.Chart;

if (source && Chart) {
  const data = JSON.parse(source.textContent);
  const money = (value) => new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', maximumFractionDigits: 0 }).format(value);
  const { palette, draw, bars } = window.SmarketingCharts.create(Chart, money);

  draw(
    'chart-funnel',
    bars(data.funnel.labels, [{ label: 'Contacts', data: data.funnel.values, color: palette.slice(0, data.funnel.labels.length) }]),
  );
  draw('chart-channels', bars(data.channels.labels, data.channels.stages));
  draw(
    'chart-revenue',
    bars(
      data.channels.labels,
      [
        { label: 'Pipeline', data: data.channels.pipeline },
        { label: 'Won', data: data.channels.won },
      ],
      { money: true },
    ),
  );
  draw(
    'chart-reasons',
    bars(
      data.reasons.labels,
      [
        { label: 'Rejected', data: data.reasons.rejected, color: '#e64980' },
        { label: 'Recycled', data: data.reasons.recycled, color: '#f59f00' },
        { label: 'Lost', data: data.reasons.lost, color: '#868e96' },
      ],
      { horizontal: true, stacked: true },
    ),
  );
  draw(
    'chart-credit',
    bars(
      data.credit.labels,
      [
        { label: 'First touch', data: data.credit.firstTouch },
        { label: 'Last touch', data: data.credit.lastTouch },
        { label: 'Linear', data: data.credit.linear },
        { label: 'Position based', data: data.credit.positionBased },
      ],
      { money: true },
    ),
  );
  document.body.setAttribute('data-charts', String(Chart.instances ? Object.keys(Chart.instances).length : 0));
}
