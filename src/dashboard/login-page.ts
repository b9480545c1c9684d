import { escapeHtml } from './html.js';

/** The login form: a plain HTML form (it works before any script loads), posted to /login. */
export function loginPage(app: string, problem: string | undefined): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>cutover · ${escapeHtml(app)} · log in</title>
<link rel="stylesheet" href="/assets/dashboard.css">
</head>
<body class="login">
<main>
<h1>cutover <span class="app-name">${escapeHtml(app)}</span></h1>
<form method="post" action="/login" class="login-form">
<p>Log in with a dashboard password (<code>cutover dashboard-password NAME</code>) or with the
admin token (the <code>admin-token</code> file in the state directory). Your name goes into the
audit log with every action you take.</p>
${problem === undefined ? '' : `<p class="problem" role="alert" id="login-problem">${escapeHtml(problem)}</p>`}
<label for="user">Name</label>
<input id="user" name="user" autocomplete="username" required maxlength="64" pattern="[A-Za-z0-9_.@\\-]+">
<label for="secret">Password or admin token</label>
<input id="secret" name="secret" type="password" autocomplete="current-password" required maxlength="1024">
<button type="submit">Log in</button>
</form>
</main>
</body>
</html>
`;
}
