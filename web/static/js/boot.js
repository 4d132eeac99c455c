// Runs first, while the application's modules are still downloading: on
// the overview it asks for the flags at once, so that the largest request
// of the page overlaps the module downloads instead of following them.
// main.js picks the answer up (window.vaneEarlyFlags); a 401 just means
// the sign-in form comes first.
const view = location.hash.replace(/^#\/?/, '');
if (view === '' || view === 'flags' || view.startsWith('flags?')) {
  window.vaneEarlyFlags = fetch('/v1/flags?path=/', { credentials: 'same-origin' })
    .then((r) => (r.ok ? r.json() : null))
    .catch(() => null);
}
