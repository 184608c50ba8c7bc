/* global document, window */
// Dashboard behaviour shared by every page: confirmation before destructive posts, a busy state on
// submitted buttons, select-on-click for URLs to copy, and sortable tables.
'use strict';

document.addEventListener('submit', (event) => {
  const form = event.target;
  if (!(form instanceof window.HTMLFormElement)) return;
  const question = form.getAttribute('data-confirm');
  if (question && !window.confirm(question)) {
    event.preventDefault();
    return;
  }
  for (const button of form.querySelectorAll('button[type="submit"]')) {
    window.setTimeout(() => {
      button.disabled = true;
    }, 0);
  }
});

for (const input of document.querySelectorAll('input.copy')) {
  input.addEventListener('focus', () => input.select());
}

/** The value a cell sorts by: data-sort-value, else a number in its text, else its text. */
function sortValue(cell) {
  if (!cell) return '';
  const explicit = cell.getAttribute('data-sort-value');
  if (explicit !== null && explicit !== '' && !Number.isNaN(Number(explicit))) return Number(explicit);
  const text = cell.textContent.trim();
  const number = Number(text.replace(/[$,%\s]|h$/g, ''));
  return text !== '' && text !== '—' && !Number.isNaN(number) ? number : text.toLowerCase();
}

for (const table of document.querySelectorAll('table[data-sortable]')) {
  const headers = [...table.querySelectorAll('thead th')];
  headers.forEach((header, index) => {
    header.setAttribute('tabindex', '0');
    header.setAttribute('title', 'Sort');
    const sort = () => {
      const body = table.tBodies[0];
      if (!body) return;
      const ascending = header.getAttribute('aria-sort') !== 'ascending';
      for (const other of headers) other.removeAttribute('aria-sort');
      header.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
      const rows = [...body.rows];
      rows.sort((a, b) => {
        const x = sortValue(a.cells[index]);
        const y = sortValue(b.cells[index]);
        const order = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
        return ascending ? order : -order;
      });
      for (const row of rows) body.appendChild(row);
    };
    header.addEventListener('click', sort);
    header.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' || event.key === ' ') {
        event.preventDefault();
        sort();
      }
    });
  });
}
