import { createHash } from 'node:crypto';
import type { ApprovalEntity } from '../approvals/approval.entity.js';
import type { GrantedApproval } from '../approvals/approvals.service.js';

/** Every character that could end a text node or an attribute value, escaped. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(
    /[&<>"'`]/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' })[c]!,
  );
}

const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d232a;background:#f4f6f8}
header{display:flex;align-items:center;gap:1em;background:#1d232a;color:#fff;padding:.7em 1.4em}
header h1{font-size:1.15em;margin:0;flex:1}header form{margin:0}
main{max-width:1100px;margin:1.2em auto;padding:0 1.2em}
.card{background:#fff;border:1px solid #d5dbe1;border-radius:6px;padding:1em 1.2em;margin:0 0 1em}
.card.expired{opacity:.75;background:#f8f8f8}
.card h2{font-size:1.05em;margin:0 0 .4em;display:flex;gap:.6em;align-items:center;flex-wrap:wrap}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em;margin:.4em 0}dt{color:#5b6670}dd{margin:0}
code,pre{font:12.5px ui-monospace,monospace;background:#eef1f4;border-radius:3px;padding:.1em .3em}
pre{padding:.6em;white-space:pre-wrap;word-break:break-all}
.badge{font-size:.78em;font-weight:600;border-radius:9px;padding:.1em .6em;background:#dde3e9}
.risk-destroy,.risk-exec{background:#fbd5d5;color:#8a1414}.risk-mutate,.risk-power{background:#fde9c6;color:#7a4b00}
.expired-badge{background:#555;color:#fff}
.actions{display:flex;gap:.6em;margin-top:.6em}.actions form{margin:0}
button{font:inherit;border:1px solid #8895a1;border-radius:4px;padding:.35em 1em;background:#fff;cursor:pointer}
button.approve{background:#1f7a3a;border-color:#1f7a3a;color:#fff}button.deny{background:#fff;color:#a11}
.notice{border-left:4px solid #1f7a3a;background:#e8f5ec;padding:.6em 1em;margin:0 0 1em}
.error{border-left:4px solid #a11;background:#fbeaea;padding:.6em 1em;margin:0 0 1em}
.plan table{border-collapse:collapse;width:100%}.plan td,.plan th{border-bottom:1px solid #e3e7eb;text-align:left;padding:.2em .5em;vertical-align:top}
.ok{color:#1f7a3a}.fail{color:#a11}.muted{color:#5b6670}
input[type=password]{font:inherit;padding:.35em;width:22em;max-width:100%}
`;

/** The page's only style, allowed by hash: no inline script, no other source of anything. */
export const STYLE_HASH = `sha256-${createHash('sha256').update(STYLE, 'utf8').digest('base64')}`;
export const PAGE_CSP = [
  "default-src 'none'",
  `style-src '${STYLE_HASH}'`,
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

function layout(title: string, body: string, signedInAs?: { name: string; csrf: string }): string {
  const signOut = signedInAs
    ? `<span>Signed in as <strong>${escapeHtml(signedInAs.name)}</strong></span>` +
      `<form method="post" action="/approvals/sign-out">${csrfField(signedInAs.csrf)}` +
      `<button type="submit" id="sign-out">Sign out</button></form>`
    : '';
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width,initial-scale=1">` +
    `<meta name="referrer" content="same-origin"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>` +
    `<body><header><h1>Proxmox MCP Plus — approvals</h1>${signOut}</header><main>${body}</main></body></html>`
  );
}

const csrfField = (csrf: string) => `<input type="hidden" name="csrf" value="${escapeHtml(csrf)}">`;

export function signInPage(message?: { error: string } | { notice: string }, keysConfigured = true): string {
  const banner = !message
    ? ''
    : 'error' in message
      ? `<p class="error" role="alert">${escapeHtml(message.error)}</p>`
      : `<p class="notice">${escapeHtml(message.notice)}</p>`;
  const form = keysConfigured
    ? `<form method="post" action="/approvals/sign-in" class="card">` +
      `<h2>Sign in with an approver key</h2>` +
      `<p class="muted">An admin API key (security.api_keys). It is checked once; the browser keeps only a signed ` +
      `session cookie, never the key.</p>` +
      `<p><label>API key <input type="password" name="key" id="key" autocomplete="current-password" required ` +
      `maxlength="512"></label></p><p><button type="submit" class="approve" id="sign-in">Sign in</button></p></form>`
    : `<p class="card">No API keys are configured, so nobody can sign in here. Approve on the server host with ` +
      `<code>proxmox-mcp-plus approve &lt;id&gt;</code>.</p>`;
  return layout('Sign in — approvals', banner + form);
}

export interface ListedRequest {
  request: ApprovalEntity;
  /** The tool's risk class, when the tool is known. */
  risk?: string;
  expired: boolean;
}

export function listPage(
  items: ListedRequest[],
  session: { name: string; csrf: string },
  message?: { error: string } | { notice: string },
): string {
  const banner = !message
    ? ''
    : 'error' in message
      ? `<p class="error" role="alert">${escapeHtml(message.error)}</p>`
      : `<p class="notice" role="status">${escapeHtml(message.notice)}</p>`;
  const cards = items.length
    ? items.map((item) => requestCard(item, session)).join('')
    : '<p class="card muted" id="empty">No pending approval requests.</p>';
  return layout('Approvals', `${banner}<h2 class="muted">Pending requests</h2>${cards}`, session);
}

function requestCard({ request: r, risk, expired }: ListedRequest, session: { name: string; csrf: string }) {
  const riskBadge = risk ? `<span class="badge risk-${escapeHtml(risk)}">${escapeHtml(risk)}</span>` : '';
  const expiredBadge = expired ? '<span class="badge expired-badge">expired</span>' : '';
  const own = r.requestedBy === session.name;
  const actions = expired
    ? '<p class="muted">This request expired before anyone approved it; the caller repeats the call for a new one.</p>'
    : `<div class="actions">` +
      `<form method="post" action="/approvals/${escapeHtml(r.id)}/approve">${csrfField(session.csrf)}` +
      `<button type="submit" class="approve"${own ? ' disabled title="Your own request: another approver decides"' : ''}>Approve</button></form>` +
      `<form method="post" action="/approvals/${escapeHtml(r.id)}/deny">${csrfField(session.csrf)}` +
      `<button type="submit" class="deny">Deny</button></form></div>`;
  const plan = (r as ApprovalEntity & { plan?: unknown }).plan;
  return (
    `<section class="card${expired ? ' expired' : ''}" data-request-id="${escapeHtml(r.id)}">` +
    `<h2><code>${escapeHtml(r.toolName)}</code> on <code>${escapeHtml(r.target)}</code>${riskBadge}${expiredBadge}</h2>` +
    `<dl><dt>Why</dt><dd>${escapeHtml(r.reason)}</dd>` +
    `<dt>Arguments</dt><dd class="arguments">${argumentsSummary(r.arguments)}</dd>` +
    `<dt>Asked by</dt><dd class="requested-by">${escapeHtml(r.requestedBy)} at ${time(r.createdAt)}</dd>` +
    `<dt>Expires</dt><dd class="expires">${time(r.requestExpiresAt)}${expired ? ' (expired)' : ''}</dd>` +
    `<dt>Request</dt><dd><code>${escapeHtml(r.id)}</code> · digest <code>${escapeHtml(r.digest.slice(0, 16))}…</code></dd></dl>` +
    renderPlan(plan) +
    actions +
    `</section>`
  );
}

const time = (ms: number) =>
  `<time datetime="${new Date(ms).toISOString()}">${escapeHtml(
    new Date(ms)
      .toISOString()
      .replace('T', ' ')
      .replace(/\.\d+Z$/, ' UTC'),
  )}</time>`;

/** The (already redacted) arguments, one line per argument, long values cut. */
export function argumentsSummary(args: unknown): string {
  if (!args || typeof args !== 'object' || Array.isArray(args))
    return `<code>${escapeHtml(short(args))}</code>`;
  const entries = Object.entries(args as Record<string, unknown>);
  if (!entries.length) return '<span class="muted">none</span>';
  const shown = entries
    .slice(0, 30)
    .map(([k, v]) => `<code>${escapeHtml(k)}</code> = <code>${escapeHtml(short(v))}</code>`);
  if (entries.length > 30) shown.push(`<span class="muted">… ${entries.length - 30} more</span>`);
  return shown.join('<br>');
}

function short(value: unknown, max = 300): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return text.length > max ? `${text.slice(0, max)}… (${text.length} characters)` : text;
}

const record = (v: unknown): Record<string, unknown> | undefined =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

/**
 * A plan attached to an approval request (`{ requests: [{method, path, params}], checks: [{name, ok, detail}],
 * warnings: [], plan_digest }`), shown to the approver. Accepts anything: a missing plan renders nothing, an
 * unexpected shape is shown as escaped JSON rather than trusted.
 */
export function renderPlan(plan: unknown): string {
  if (plan === undefined || plan === null) return '';
  const p = record(plan);
  if (!p) return `<div class="plan"><h3>Plan</h3><pre>${escapeHtml(short(plan, 4000))}</pre></div>`;
  const parts: string[] = [];
  const requests = Array.isArray(p.requests) ? p.requests : [];
  if (requests.length) {
    const rows = requests.map((item) => {
      const r = record(item) ?? {};
      return (
        `<tr><td><code>${escapeHtml(r.method ?? '?')}</code></td><td><code>${escapeHtml(r.path ?? '?')}</code></td>` +
        `<td>${r.params === undefined ? '' : `<code>${escapeHtml(short(r.params))}</code>`}</td></tr>`
      );
    });
    parts.push(
      `<p>PVE requests it would send:</p><table class="plan-requests"><tr><th>Method</th><th>Path</th><th>Parameters</th></tr>${rows.join('')}</table>`,
    );
  }
  const checks = Array.isArray(p.checks) ? p.checks : [];
  if (checks.length) {
    const items = checks.map((item) => {
      const c = record(item) ?? {};
      const ok = c.ok === true;
      return (
        `<li class="${ok ? 'ok' : 'fail'}">${ok ? '✓' : '✗'} ${escapeHtml(c.name ?? 'check')}` +
        `${c.detail === undefined ? '' : ` — <span class="muted">${escapeHtml(short(c.detail))}</span>`}</li>`
      );
    });
    parts.push(`<p>Checks:</p><ul class="plan-checks">${items.join('')}</ul>`);
  }
  const warnings = Array.isArray(p.warnings) ? p.warnings : [];
  if (warnings.length) {
    parts.push(
      `<p>Warnings:</p><ul class="plan-warnings">${warnings.map((w) => `<li>${escapeHtml(short(w))}</li>`).join('')}</ul>`,
    );
  }
  if (p.plan_digest !== undefined)
    parts.push(`<p class="muted">Plan digest <code>${escapeHtml(short(p.plan_digest, 100))}</code></p>`);
  if (!parts.length) parts.push(`<pre>${escapeHtml(short(plan, 4000))}</pre>`);
  return `<div class="plan"><h3>Plan</h3>${parts.join('')}</div>`;
}

/** The one place the approval token is shown: this answer (never stored, never cached). */
export function grantedPage(granted: GrantedApproval, session: { name: string; csrf: string }): string {
  return layout(
    'Approved',
    `<p class="notice" role="status">Approved request <code>${escapeHtml(granted.request_id)}</code>: ` +
      `<code>${escapeHtml(granted.tool)}</code> on <code>${escapeHtml(granted.target)}</code> for ` +
      `${escapeHtml(granted.requested_by)}.</p>` +
      `<section class="card"><h2>Approval token (shown once)</h2>` +
      `<p><code id="approval-token">${escapeHtml(granted.approval_token)}</code></p>` +
      `<p class="muted">Give it to the caller: they repeat the same call with the same arguments plus ` +
      `<code>approval_token</code>. It works once, for ${escapeHtml(granted.requested_by)} only, until ` +
      `${time(Date.parse(granted.expires_at))}.</p><p><a href="/approvals">Back to pending requests</a></p></section>`,
    session,
  );
}

export function errorPage(status: number, message: string, session?: { name: string; csrf: string }): string {
  return layout(
    `Error ${status}`,
    `<p class="error" role="alert">${escapeHtml(message)}</p><p><a href="/approvals">Back to the approvals page</a></p>`,
    session,
  );
}
