/* global document, window */
// Settings forms: "Add a row" clones the table's blank last row, "Remove" drops a row. Without
// script the blank row is still there for one new entry, and a row emptied by hand is ignored.
'use strict';

document.addEventListener('click', (event) => {
  const target = event.target;
  if (!(target instanceof window.HTMLElement)) return;
  const remove = target.closest('[data-remove-row]');
  if (remove) {
    const row = remove.closest('tr[data-row]');
    const body = row ? row.parentElement : null;
    // The last row stays as the template for new ones: it is emptied instead of removed.
    if (row && body && body.querySelectorAll('tr[data-row]').length > 1) row.remove();
    else if (row) for (const input of row.querySelectorAll('input, textarea')) input.value = '';
    return;
  }
  const add = target.closest('[data-add-row]');
  if (add) {
    const table = document.querySelector(`table[data-rows="${add.getAttribute('data-add-row')}"]`);
    const rows = table ? table.querySelectorAll('tbody tr[data-row]') : [];
    const last = rows[rows.length - 1];
    if (!last) return;
    const copy = last.cloneNode(true);
    for (const input of copy.querySelectorAll('input:not([type="hidden"]), textarea')) input.value = '';
    for (const input of copy.querySelectorAll('input[type="hidden"]')) input.value = '';
    for (const select of copy.querySelectorAll('select')) select.selectedIndex = 0;
    const number = copy.querySelector('td');
    if (number) number.textContent = 'new';
    last.after(copy);
    const first = copy.querySelector('input:not([type="hidden"]), textarea, select');
    if (first) first.focus();
  }
});
