// The one stylesheet of every server-rendered page (html-document.tsx puts
// it in each page's head). Colours are custom properties with a light and a
// dark set (prefers-color-scheme); the operator's accent comes from
// branding.tsx (`--accent`, `--accent-text` on it, `--accent-ink` for links
// and focus rings, readable on either theme's background). Two kinds of
// page share the header and footer: a card (`body.card`: sign-in, password,
// second-factor and account pages; `main.wide` for the account center) and
// the admin console (`body.console`: wide tables).

const colours = {
  light: `--bg:#f6f8fa;--surface:#fff;--text:#1f2328;--muted:#57606a;--border:#d0d7de;--rule:#eaeef2;--field-border:#8c959f;--button:#f6f8fa;--button-hover:#eaeef2;--ok-bg:#dafbe1;--ok-border:#4ac26b;--ok-text:#1a7f37;--bad-bg:#ffebe9;--bad-border:#ff8182;--danger:#cf222e;--warn-bg:#fff8c5;--warn-border:#d4a72c;--warn-text:#9a6700;--info-bg:#ddf4ff;--info-border:#54aeff;--count-bg:#d4a72c;--count-text:#1f2328;color-scheme:light`,
  dark: `--bg:#0d1117;--surface:#161b22;--text:#e6edf3;--muted:#9198a1;--border:#3d444d;--rule:#262c36;--field-border:#768390;--button:#21262d;--button-hover:#30363d;--ok-bg:#0f2d1a;--ok-border:#2ea043;--ok-text:#3fb950;--bad-bg:#3b1219;--bad-border:#f85149;--danger:#ff7b72;--warn-bg:#3b2e0a;--warn-border:#d29922;--warn-text:#e3b341;--info-bg:#0c2d4f;--info-border:#388bfd;--count-bg:#d29922;--count-text:#0d1117;color-scheme:dark`,
};

/** The surfaces links and focus rings sit on, per theme: `--accent-ink` must read on all of them. */
export const themeSurfaces = {
  light: ["#ffffff", "#f6f8fa", "#eaeef2"],
  dark: ["#0d1117", "#161b22", "#21262d"],
} as const;

const base = `
:root{${colours.light}}
@media (prefers-color-scheme:dark){:root{${colours.dark};--accent-ink:var(--accent-ink-dark)}}
*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:grid;grid-template-rows:auto 1fr auto;grid-template-columns:minmax(0,1fr);font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--text);background:var(--bg)}
a{color:var(--accent-ink)}
:focus-visible{outline:3px solid var(--accent-ink);outline-offset:2px}
.site-header{display:flex;gap:.5rem 1.5rem;align-items:center;flex-wrap:wrap;padding:.6rem 1.25rem;background:var(--surface);border-bottom:1px solid var(--border)}
.brand{display:inline-flex;align-items:center;gap:.5rem;font-weight:700;color:inherit;text-decoration:none}.brand img{display:block;height:28px;width:auto;max-width:10rem}.brand-suffix{font-weight:400;color:var(--muted)}
.site-header nav{display:flex;gap:.4rem 1.2rem;flex-wrap:wrap}.site-header nav a{color:inherit;text-decoration:none}.site-header nav a[aria-current]{font-weight:600;text-decoration:underline;text-underline-offset:.3em}
.site-header .account{margin-left:auto;display:flex;gap:.4rem 1rem;align-items:center;flex-wrap:wrap;font-size:.9rem}.site-header .account form{margin:0;display:inline}
.site-header .account button{margin:0;font:inherit;padding:.15rem .7rem;border-radius:6px;border:1px solid var(--border);background:var(--button);color:var(--text);cursor:pointer}.site-header .account button:hover{background:var(--button-hover)}
.count{display:inline-block;min-width:1.4em;padding:0 .4em;margin-left:.3em;border-radius:1em;background:var(--count-bg);color:var(--count-text);font-size:.8rem;text-align:center;font-weight:600}
.site-footer{display:flex;gap:1rem;flex-wrap:wrap;justify-content:center;padding:1rem;font-size:.85rem;color:var(--muted)}.site-footer a{color:inherit}
.notice{background:var(--ok-bg);border:1px solid var(--ok-border);padding:.6rem 1rem;border-radius:6px}
.error{background:var(--bad-bg);border:1px solid var(--bad-border);padding:.6rem 1rem;border-radius:6px}
.muted{color:var(--muted)}[hidden]{display:none!important}code{overflow-wrap:anywhere}
.vh{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%);white-space:nowrap}
.password-box{display:flex;gap:.4rem;align-items:stretch}.password-box input{flex:1;min-width:0}
input,select,textarea{font:inherit;color:var(--text);background:var(--surface);border:1px solid var(--field-border);border-radius:6px}
@media (max-width:640px){.site-header{padding:.6rem 1rem}.site-header .account{margin-left:0}}
`;

// The card pages: one column, a form or a few sections.
const card = `
.card main{width:min(26rem,100% - 2rem);margin:1.5rem auto;align-self:start;padding:1.5rem 1.25rem;background:var(--surface);border:1px solid var(--border);border-radius:10px}.card main.wide{width:min(48rem,100% - 2rem)}
.card h1{font-size:1.35rem;margin:0 0 1rem}.card h2{font-size:1.1rem;margin:1.6rem 0 .4rem}.card label{display:block;margin:.8rem 0 .2rem;font-weight:600}
.card input[type=email],.card input[type=password],.card input[type=text],.card input:not([type]),.card select{width:100%;padding:.45rem .6rem}
.card button{margin-top:1.1rem;font:inherit;padding:.45rem 1rem;border-radius:6px;border:1px solid var(--accent);background:var(--accent);color:var(--accent-text);cursor:pointer}.card button:hover{filter:brightness(.92)}
.card a.next{display:inline-block;margin-top:1rem;padding:.45rem 1rem;border-radius:6px;background:var(--accent);color:var(--accent-text);text-decoration:none;font-weight:600}
.card .pending{background:var(--warn-bg);border:1px solid var(--warn-border);padding:.6rem 1rem;border-radius:6px}
.card .badge{display:inline-block;font-size:.75rem;font-weight:600;padding:0 .45rem;border-radius:1rem;border:1px solid}.card .badge.ok{color:var(--ok-text);border-color:var(--ok-border);background:var(--ok-bg)}.card .badge.warn{color:var(--warn-text);border-color:var(--warn-border);background:var(--warn-bg)}
.card ul.rows{list-style:none;padding:0;margin:.6rem 0}.card ul.rows li{display:flex;justify-content:space-between;align-items:center;gap:.8rem;padding:.55rem 0;border-bottom:1px solid var(--rule)}.card ul.rows li>div{min-width:0;overflow-wrap:anywhere}.card ul.rows form button{margin:0;white-space:nowrap}
.card .link-buttons{display:flex;flex-wrap:wrap;gap:.5rem;margin-top:.6rem}.card form>button.secondary{margin:.5rem 0 0}
.card .password-box button,.card button.secondary{margin:0;padding:.15rem .6rem;font-size:.85rem;background:var(--button);border-color:var(--border);color:var(--text)}.card .password-box button{padding:.2rem .6rem}.card button.secondary{margin-left:.4rem}
.card .muted{font-size:.9rem}.card .qr svg{display:block;width:12rem;max-width:100%;height:auto;background:#fff;padding:.4rem;border-radius:6px}
.card button.danger{background:var(--surface);color:var(--danger);border-color:var(--danger)}.card summary{cursor:pointer;margin-top:.8rem}
.card section{border-top:1px solid var(--border);margin-top:1.4rem}.card section>h2{margin-top:1rem}.card li{margin:.3rem 0}
.card main nav{margin-top:1.2rem;display:flex;gap:1rem;flex-wrap:wrap;font-size:.9rem}
.card .methods{display:flex;flex-direction:column;gap:.6rem;margin:1.4rem 0 .6rem}
.card .methods a.button,.card .methods button{display:block;width:100%;margin:0;text-align:center;font:inherit;font-weight:600;padding:.6rem 1rem;border-radius:8px;border:1px solid var(--border);background:var(--button);color:var(--text);text-decoration:none;cursor:pointer}
.card .methods a.button .mark{vertical-align:-3px;margin-right:.5rem}
.card .methods a.button:hover,.card .methods button:hover{background:var(--button-hover);filter:none}
.card button.primary{width:100%;font-weight:600;padding:.6rem 1rem;border-radius:8px}.card .or{text-align:center}.card .links{display:flex;gap:1rem;flex-wrap:wrap;font-size:.9rem;margin-top:1rem}
`;

// The admin console: a wide main of sections, tables that become cards on a phone.
const consoleCss = `
.console{font-size:15px}
.console main{width:min(1100px,100%);margin:1.5rem auto;padding:0 1.5rem}
.console section{background:var(--surface);border:1px solid var(--border);border-radius:8px;padding:1rem 1.25rem;margin-bottom:1.5rem}
.console h1{font-size:1.4rem;margin:.2rem 0 1rem;overflow-wrap:anywhere}.console h2{font-size:1.1rem;margin:0 0 .8rem}
.console table{width:100%;border-collapse:collapse}.console th,.console td{text-align:left;padding:.45rem .5rem;border-top:1px solid var(--rule);vertical-align:middle}
.console th{font-size:.8rem;text-transform:uppercase;letter-spacing:.03em;color:var(--muted);border-top:none}
.console form.inline{display:inline}
.console main button,.console a.button{display:inline-block;font:inherit;line-height:1.4;padding:.3rem .8rem;border-radius:6px;border:1px solid var(--field-border);background:var(--button);color:var(--text);cursor:pointer;text-decoration:none}
.console main button:hover,.console a.button:hover{background:var(--button-hover)}
.console main button.primary{background:var(--accent);border-color:var(--accent);color:var(--accent-text);font-weight:600}.console main button.primary:hover{filter:brightness(.92)}
.console main button.danger{background:#cf222e;color:#fff;border-color:#a40e26;font-weight:600}.console main button.danger:hover{background:#a40e26}
.console a.button.warn{color:var(--danger);border-color:var(--danger);background:var(--surface)}.console a.button.warn:hover{background:var(--bad-bg)}
.console input,.console select,.console textarea{padding:.3rem .5rem;max-width:100%}
.console label{font-weight:600;font-size:.9rem}.console .field{display:flex;flex-direction:column;gap:.2rem;max-width:100%;min-width:0}
.console .badge{display:inline-block;padding:0 .5rem;border-radius:1rem;font-size:.8rem;border:1px solid var(--border);white-space:nowrap}
.console .active,.console .verified{background:var(--ok-bg);border-color:var(--ok-border)}.console .inactive,.console .deleted{background:var(--rule)}.console .denied,.console .unverified{background:var(--bad-bg);border-color:var(--danger)}.console .locked{background:var(--bad-bg);border-color:var(--bad-border)}
.console .pending{background:var(--warn-bg);border-color:var(--warn-border)}.console .admin{background:var(--info-bg);border-color:var(--info-border)}
.console .notice,.console .error{margin-bottom:1rem}
.console .row{display:flex;gap:.6rem;flex-wrap:wrap;align-items:center}.console .row.end{align-items:flex-end}
.console dl{display:grid;grid-template-columns:12rem 1fr;gap:.3rem 1rem;margin:0}.console dt{color:var(--muted)}.console dd{margin:0;overflow-wrap:anywhere}
.console .scroll{overflow-x:auto;position:relative}
.console details.deny summary{cursor:pointer;color:var(--danger);display:inline-block;padding:.3rem .8rem;border:1px solid var(--danger);border-radius:6px;background:var(--surface)}
.console details.deny[open] summary{margin-bottom:.5rem}.console details.deny form{display:flex;gap:.5rem;flex-wrap:wrap;align-items:flex-end}
.console fieldset{border:1px solid var(--border);border-radius:8px;padding:.6rem 1rem 1rem;margin:1rem 0 0}.console legend{font-weight:600;padding:0 .3rem}
.console .actions{display:flex;gap:.6rem;flex-wrap:wrap;align-items:center;margin-top:.6rem}
.console .context{font-size:.8rem;color:var(--muted);overflow-wrap:anywhere}.console code.event{overflow-wrap:normal;white-space:nowrap}
.console .pager{display:flex;gap:1rem;margin-top:.8rem}
@media (max-width:640px){.console main{padding:0 .75rem}.console section{padding:.75rem}.console dl{grid-template-columns:1fr}.console dt{margin-top:.4rem}
.console table,.console tbody,.console tr,.console td{display:block}.console thead{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%)}.console tr{border-top:1px solid var(--border);padding:.5rem 0}.console tr:first-child{border-top:none}
.console td{border:none;padding:.15rem 0 .15rem 8rem;display:flow-root}.console td::before{content:attr(data-label);float:left;width:7.5rem;margin-left:-8rem;color:var(--muted);font-size:.8rem;text-transform:uppercase;letter-spacing:.03em;padding-top:.15rem}.console td[data-label=Actions]::before{content:none}.console td[data-label=Actions]{padding:.4rem 0 0}}
`;

/** The shared stylesheet (the brand's variables come before it, from branding.tsx). */
export const siteCss = `${base}${card}${consoleCss}`;
