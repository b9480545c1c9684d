import { escapeHtml } from './html.js';

/**
 * The dashboard's HTML shell. The CSRF token rides in a meta element (the page's script reads it
 * and sends it back in a header); no inline script, so the Content-Security-Policy can forbid it.
 */
export function indexPage(app: string, user: string, csrfToken: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="${escapeHtml(csrfToken)}">
<title>cutover · ${escapeHtml(app)}</title>
<link rel="stylesheet" href="/assets/dashboard.css">
<script type="module" src="/assets/app.js"></script>
</head>
<body>
<header class="top">
<h1>cutover <span class="app-name" id="app-name">${escapeHtml(app)}</span></h1>
<p class="connection" id="connection" role="status" aria-live="polite">connecting…</p>
<p class="who">signed in as <strong id="user-name">${escapeHtml(user)}</strong>
<button type="button" id="logout">Log out</button></p>
</header>
<main>
<section aria-labelledby="traffic-title" class="panel">
<h2 id="traffic-title">Traffic</h2>
<div id="split" class="split"></div>
</section>
<section aria-labelledby="slots-title" class="panel">
<h2 id="slots-title">Slots</h2>
<div id="slots" class="slots"></div>
</section>
<section aria-labelledby="deployment-title" class="panel">
<h2 id="deployment-title">Deployment</h2>
<div id="deployment"></div>
<div id="actions" class="actions"></div>
<p id="action-result" role="status" aria-live="polite"></p>
</section>
<section aria-labelledby="shadow-title" class="panel" id="shadow-panel" hidden>
<h2 id="shadow-title">Shadow comparison</h2>
<div id="shadow"></div>
</section>
<section aria-labelledby="metrics-title" class="panel">
<h2 id="metrics-title">Requests</h2>
<div id="metrics"></div>
</section>
<section aria-labelledby="history-title" class="panel">
<h2 id="history-title">History</h2>
<div id="history"></div>
</section>
<section aria-labelledby="logs-title" class="panel">
<h2 id="logs-title">Logs</h2>
<div id="logs" class="logs"></div>
</section>
</main>
<dialog id="confirm" aria-labelledby="confirm-title">
<form method="dialog">
<h2 id="confirm-title">Confirm</h2>
<p id="confirm-text"></p>
<div class="dialog-buttons">
<button value="cancel" id="confirm-cancel">Cancel</button>
<button value="ok" id="confirm-ok" class="primary">Confirm</button>
</div>
</form>
</dialog>
</body>
</html>
`;
}
