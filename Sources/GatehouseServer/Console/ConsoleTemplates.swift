/// The console's pages (swift-mustache; `{{ }}` escapes HTML, `{{{ }}}` only inserts a part
/// rendered by these templates). No script: every action is a form with the session's CSRF
/// token; write controls appear only for an operator holding Admin.Write.
enum ConsoleTemplates {
    static let layout = """
        <!DOCTYPE html>
        <html lang="{{language}}">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="referrer" content="no-referrer">
        <title>{{title}} · {{t.console}}</title>
        <style>
        body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;background:#f4f5f7;color:#1b1b1b;margin:0;line-height:1.45}
        header{background:#1f2a44;color:#fff;padding:.6rem 1.2rem;display:flex;flex-wrap:wrap;gap:1rem;align-items:center}
        header a{color:#fff} header .who{margin-left:auto;font-size:.9rem}
        header form{display:inline} header button{background:none;border:1px solid #fff;color:#fff;padding:.2rem .6rem;border-radius:.25rem;cursor:pointer}
        nav.main a{color:#fff;margin-right:.9rem;text-decoration:none;padding:.2rem 0} nav.main a[aria-current=page]{border-bottom:2px solid #fff;font-weight:600}
        main{max-width:72rem;margin:1.2rem auto;background:#fff;padding:1.2rem 1.6rem;border-radius:.5rem;box-shadow:0 1px 4px rgba(0,0,0,.15)}
        h1{font-size:1.4rem;margin-top:0} h2{font-size:1.1rem;margin-top:1.6rem}
        table{border-collapse:collapse;width:100%;font-size:.9rem;margin:.6rem 0} th,td{border-bottom:1px solid #ddd;padding:.35rem .5rem;text-align:left;vertical-align:top}
        th{background:#f0f2f5} td.num{text-align:right;font-variant-numeric:tabular-nums}
        code,.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85rem;word-break:break-all}
        label{display:block;font-weight:600;margin:.7rem 0 .2rem} .inline label{display:inline-block;margin-right:.3rem}
        input[type=text],input[type=password],input[type=search],select,textarea{padding:.4rem;font-size:.95rem;border:1px solid #767676;border-radius:.25rem;box-sizing:border-box}
        textarea{width:100%;min-height:5rem} input[type=search]{width:100%}
        input:focus,button:focus,select:focus,textarea:focus,a:focus{outline:3px solid #005fcc;outline-offset:2px}
        button{padding:.4rem .9rem;font-size:.95rem;border-radius:.25rem;border:1px solid #004b9e;background:#005fcc;color:#fff;cursor:pointer;margin-top:.6rem}
        button.danger{background:#fff;color:#b00020;border-color:#b00020} form.row{display:flex;flex-wrap:wrap;gap:.8rem;align-items:flex-end}
        form.row label{margin:0 0 .2rem} form.inline{display:inline}
        .alert{border-left:4px solid #b00020;background:#fdecee;padding:.6rem .8rem;margin:1rem 0}
        .notice{border-left:4px solid #1a7f37;background:#e9f7ee;padding:.6rem .8rem;margin:1rem 0}
        .secret{font-size:1.05rem;background:#fff8c5;padding:.5rem;border:1px dashed #9a6700}
        .meta{color:#555;font-size:.85rem} .fail{color:#b00020;font-weight:600} .ok{color:#1a7f37}
        dl.record{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem} dl.record dt{font-weight:600} dl.record dd{margin:0}
        .legend span{display:inline-block;margin-right:1rem;font-size:.85rem} .legend i{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;vertical-align:middle}
        svg#chart{width:100%;height:auto;max-height:22rem}
        </style>
        </head>
        <body>
        <header>
        <strong>{{t.console}}</strong>
        <span>{{t.tenant}}: <strong>{{target}}</strong>{{#administrative}} · <a href="{{home}}/tenants">{{t.allTenants}}</a>{{/administrative}}</span>
        <nav class="main" aria-label="{{t.sections}}">{{#sections}}<a href="{{href}}"{{#current}} aria-current="page"{{/current}}>{{label}}</a>{{/sections}}</nav>
        <span class="who">{{signedInAs}} · {{role}}
        <form method="post" action="{{home}}/logout"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" id="sign-out">{{t.signOut}}</button></form></span>
        </header>
        <main>
        <h1>{{title}}</h1>
        {{#notice}}<div class="notice" role="status">{{notice}}</div>{{/notice}}
        {{{body}}}
        </main>
        </body>
        </html>
        """

    /// A page outside the signed-in layout (refusals before there is an operator).
    static let bare = """
        <!DOCTYPE html>
        <html lang="{{language}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}}</title>
        <style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;line-height:1.5}
        .alert{border-left:4px solid #b00020;background:#fdecee;padding:.75rem}.meta{color:#555;font-size:.85rem}</style></head>
        <body><main><h1>{{title}}</h1>{{#error}}<div class="alert" role="alert"><p>{{message}}</p>
        <p class="meta">{{label}}: <a href="{{uri}}">{{code}}</a> · trace_id: {{traceID}}</p></div>{{/error}}
        {{#text}}<p>{{text}}</p>{{/text}}{{#link}}<p><a href="{{href}}">{{label}}</a></p>{{/link}}</main></body></html>
        """

    static let alert = """
        {{#error}}<div class="alert" role="alert"><p>{{message}}</p><p class="meta">{{label}}: <a href="{{uri}}">{{code}}</a> · trace_id: {{traceID}}</p></div>{{/error}}
        """

    static let signIns = """
        <form method="get" action="{{base}}/signins" role="search">
        <label for="q">{{t.searchLabel}}</label>
        <textarea id="q" name="q" rows="3" aria-describedby="q-hint">{{query.q}}</textarea>
        <p class="meta" id="q-hint">{{t.searchHint}}</p>
        <div class="row" style="display:flex;flex-wrap:wrap;gap:.8rem;align-items:flex-end">
        <div><label for="period">{{t.period}}</label><select id="period" name="period">{{#periods}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/periods}}</select></div>
        <div><label for="client">{{t.client}}</label><input type="text" id="client" name="client" value="{{query.client}}"></div>
        <div><label for="user">{{t.user}}</label><input type="text" id="user" name="user" value="{{query.user}}"></div>
        <div><label for="code">{{t.code}}</label><input type="text" id="code" name="code" value="{{query.code}}" inputmode="numeric" size="9"></div>
        <div><label for="result">{{t.result}}</label><select id="result" name="result">{{#results}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/results}}</select></div>
        <div><button type="submit" id="search">{{t.search}}</button></div>
        </div>
        </form>
        {{#found}}<div class="notice" role="status">{{found}}</div>{{/found}}
        {{#entries}}<p><a href="{{uri}}">{{code}} {{name}}</a>: {{message}}</p>{{/entries}}
        <h2 id="chart-heading">{{chartHeading}}</h2>
        {{{chart}}}
        <p class="legend" aria-hidden="true">{{#legend}}<span><i style="background:{{color}}"></i>{{code}} {{name}}</span>{{/legend}}</p>
        <details{{^hasFailures}} open{{/hasFailures}}><summary>{{t.chartTable}}</summary>
        <table id="chart-table"><caption class="meta">{{chartCaption}}</caption>
        <thead><tr><th scope="col">{{t.bucket}}</th>{{#legend}}<th scope="col">{{code}}</th>{{/legend}}<th scope="col">{{t.total}}</th></tr></thead>
        <tbody>{{#rows}}<tr><th scope="row">{{label}}</th>{{#cells}}<td class="num">{{.}}</td>{{/cells}}<td class="num">{{total}}</td></tr>{{/rows}}</tbody></table>
        </details>
        <p class="meta">{{t.pollsLeftOut}}</p>
        <h2>{{t.requests}}</h2>
        <table id="signins"><thead><tr><th scope="col">{{t.time}}</th><th scope="col">{{t.client}}</th><th scope="col">{{t.user}}</th><th scope="col">{{t.step}}</th><th scope="col">{{t.result}}</th><th scope="col">{{t.traceID}}</th></tr></thead>
        <tbody>{{#events}}<tr><td class="mono">{{time}}</td><td>{{client}}</td><td>{{user}}</td><td>{{step}}</td><td>{{#failed}}<span class="fail">{{code}}</span> {{error}}{{/failed}}{{^failed}}<span class="ok">{{t.success}}</span>{{/failed}}</td><td><a class="mono" href="{{href}}">{{traceID}}</a></td></tr>{{/events}}
        {{^events}}<tr><td colspan="6">{{t.noRequests}}</td></tr>{{/events}}</tbody></table>
        {{#older}}<p><a href="{{older}}" id="older">{{t.olderRequests}}</a></p>{{/older}}
        {{#hasAggregates}}<h2>{{t.aggregates}}</h2>{{/hasAggregates}}
        {{#aggregates}}<p class="meta">{{.}}</p>{{/aggregates}}
        """

    static let record = """
        <dl class="record">
        {{#fields}}<dt>{{label}}</dt><dd class="{{class}}">{{value}}</dd>{{/fields}}
        </dl>
        {{#entry}}<h2>{{code}} {{name}}</h2>
        <dl class="record"><dt>{{t.whatHappened}}</dt><dd>{{message}}</dd><dt>{{t.why}}</dt><dd>{{cause}}</dd><dt>{{t.howToFix}}</dt><dd>{{remediation}}</dd>
        <dt>{{t.ruleFired}}</dt><dd>{{rule}}</dd></dl>
        <p><a href="{{uri}}" id="troubleshooting">{{t.troubleshootingPage}}</a></p>{{/entry}}
        <p><a href="{{base}}/signins">{{t.backToLog}}</a></p>
        """

    static let clients = """
        <table id="clients"><thead><tr><th scope="col">{{t.clientID}}</th><th scope="col">{{t.name}}</th><th scope="col">{{t.type}}</th><th scope="col">{{t.grants}}</th><th scope="col">{{t.state}}</th></tr></thead>
        <tbody>{{#clients}}<tr><td><a class="mono" href="{{href}}">{{id}}</a></td><td>{{name}}</td><td>{{type}}</td><td>{{grants}}</td><td>{{state}}</td></tr>{{/clients}}</tbody></table>
        {{#canWrite}}<h2>{{t.newClient}}</h2>
        <form method="post" action="{{base}}/clients" id="create-client">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label for="new-name">{{t.name}}</label><input type="text" id="new-name" name="name" required maxlength="200">
        <label for="new-id">{{t.clientIDOptional}}</label><input type="text" id="new-id" name="client_id" maxlength="200">
        <label for="new-type">{{t.type}}</label><select id="new-type" name="type"><option value="confidential">{{t.confidential}}</option><option value="public">{{t.public}}</option></select>
        <label for="new-redirects">{{t.redirectURIsOnePerLine}}</label><textarea id="new-redirects" name="redirect_uris"></textarea>
        <label for="new-scopes">{{t.scopesSpaceSeparated}}</label><input type="text" id="new-scopes" name="scopes" size="50">
        <button type="submit" id="create">{{t.create}}</button>
        </form>{{/canWrite}}
        """

    static let client = """
        <dl class="record">{{#fields}}<dt>{{label}}</dt><dd>{{value}}</dd>{{/fields}}</dl>
        {{#builtIn}}<p class="meta">{{builtIn}}</p>{{/builtIn}}
        {{#editable}}<h2>{{t.settings}}</h2>
        <form method="post" action="{{href}}" id="edit-client"><input type="hidden" name="csrf" value="{{csrf}}">
        <label for="edit-name">{{t.name}}</label><input type="text" id="edit-name" name="name" value="{{name}}" maxlength="200">
        <label for="edit-redirects">{{t.redirectURIsOnePerLine}}</label><textarea id="edit-redirects" name="redirect_uris">{{redirects}}</textarea>
        <fieldset><legend>{{t.grants}}</legend>{{#grantChoices}}<label><input type="checkbox" name="grant" value="{{value}}"{{#checked}} checked{{/checked}}> <code>{{value}}</code></label>{{/grantChoices}}</fieldset>
        <label><input type="checkbox" name="enabled" value="on"{{#enabled}} checked{{/enabled}}> {{t.enabled}}</label>
        <button type="submit" id="save">{{t.save}}</button></form>{{/editable}}
        <h2>{{t.secrets}}</h2>
        <table id="secrets"><thead><tr><th scope="col">ID</th><th scope="col">{{t.hint}}</th><th scope="col">{{t.created}}</th><th scope="col">{{t.expires}}</th><th scope="col">{{t.lastUsed}}</th>{{#canWrite}}<th scope="col"><span class="meta">{{t.actions}}</span></th>{{/canWrite}}</tr></thead>
        <tbody>{{#secrets}}<tr><td class="mono">{{id}}</td><td class="mono">{{hint}}…</td><td>{{created}}</td><td>{{expires}}</td><td>{{lastUsed}}</td>{{#canWrite}}<td><form class="inline" method="post" action="{{href}}/secrets/{{id}}/remove"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" class="danger" aria-label="{{removeLabel}}">{{t.remove}}</button></form></td>{{/canWrite}}</tr>{{/secrets}}
        {{^secrets}}<tr><td colspan="6">{{t.none}}</td></tr>{{/secrets}}</tbody></table>
        {{#canAddSecret}}<form method="post" action="{{href}}/secrets" id="add-secret"><input type="hidden" name="csrf" value="{{csrf}}">
        <label for="secret-days">{{t.secretLifetimeDays}}</label><input type="text" id="secret-days" name="days" inputmode="numeric" size="5" value="180">
        <button type="submit" id="new-secret">{{t.addSecret}}</button> <span class="meta">{{t.reauthNote}}</span></form>{{/canAddSecret}}
        <h2>{{t.certificates}}</h2>
        <ul>{{#certificates}}<li><code>{{subject}}</code> · SHA-256 <code>{{thumbprint}}</code>{{#canWrite}} <form class="inline" method="post" action="{{href}}/certificates/remove"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="thumbprint" value="{{thumbprint}}"><button type="submit" class="danger">{{t.remove}}</button></form>{{/canWrite}}</li>{{/certificates}}{{^certificates}}<li>{{t.none}}</li>{{/certificates}}</ul>
        {{#editable}}<form method="post" action="{{href}}/certificates" id="add-certificate"><input type="hidden" name="csrf" value="{{csrf}}">
        <label for="certificate">{{t.certificatePEM}}</label><textarea id="certificate" name="certificate"></textarea>
        <button type="submit">{{t.addCertificate}}</button></form>{{/editable}}
        <h2>{{t.apiPermissions}}</h2>
        <ul>{{#access}}<li><code>{{api}}</code>: {{items}}</li>{{/access}}{{^access}}<li>{{t.none}}</li>{{/access}}</ul>
        {{#editable}}<form method="post" action="{{href}}/grants" id="grant" class="row"><input type="hidden" name="csrf" value="{{csrf}}">
        <div><label for="grant-api">{{t.api}}</label><select id="grant-api" name="api">{{#apis}}<option value="{{id}}">{{name}} ({{id}})</option>{{/apis}}</select></div>
        <div><label for="grant-permissions">{{t.permissionsSpaceSeparated}}</label><input type="text" id="grant-permissions" name="permissions"></div>
        <div><label for="grant-roles">{{t.rolesSpaceSeparated}}</label><input type="text" id="grant-roles" name="roles"></div>
        <div><button type="submit">{{t.grant}}</button></div></form>
        <h2>{{t.dangerZone}}</h2>
        <form method="post" action="{{href}}/remove" id="remove-client"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" class="danger">{{t.removeClient}}</button></form>{{/editable}}
        """

    static let secretShown = """
        <p>{{t.secretOnce}}</p>
        <p><label for="secret-value">{{t.secretValue}}</label><input type="text" id="secret-value" readonly value="{{value}}" class="secret mono" size="60"></p>
        <p class="meta">ID <code>{{id}}</code>{{#expires}} · {{t.expires}} {{expires}}{{/expires}}</p>
        <p><a href="{{href}}">{{t.continue}}</a></p>
        """

    static let users = """
        <table id="users"><thead><tr><th scope="col">{{t.username}}</th><th scope="col">{{t.name}}</th><th scope="col">{{t.secondFactor}}</th><th scope="col">{{t.state}}</th></tr></thead>
        <tbody>{{#users}}<tr><td><a href="{{href}}">{{username}}</a></td><td>{{name}}</td><td>{{totp}}</td><td>{{state}}</td></tr>{{/users}}</tbody></table>
        {{#canWrite}}<h2>{{t.newUser}}</h2>
        <form method="post" action="{{base}}/users" id="create-user"><input type="hidden" name="csrf" value="{{csrf}}">
        <label for="new-username">{{t.username}}</label><input type="text" id="new-username" name="username" required autocomplete="off">
        <label for="new-display">{{t.name}}</label><input type="text" id="new-display" name="name">
        <label for="new-email">{{t.email}}</label><input type="text" id="new-email" name="email" autocomplete="off">
        <label for="new-password">{{t.password}}</label><input type="password" id="new-password" name="password" required autocomplete="new-password">
        <button type="submit">{{t.create}}</button></form>{{/canWrite}}
        """

    static let user = """
        <dl class="record">{{#fields}}<dt>{{label}}</dt><dd>{{value}}</dd>{{/fields}}</dl>
        {{#canWrite}}<h2>{{t.actions}}</h2>
        <form class="inline" method="post" action="{{href}}/{{toggle}}"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" class="danger">{{toggleLabel}}</button></form>
        {{#hasTOTP}}<form class="inline" method="post" action="{{href}}/remove-totp"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" class="danger">{{t.removeSecondFactor}}</button></form>{{/hasTOTP}}
        <form method="post" action="{{href}}/password" id="reset-password"><input type="hidden" name="csrf" value="{{csrf}}">
        <label for="new-user-password">{{t.newPassword}}</label><input type="password" id="new-user-password" name="password" required autocomplete="new-password">
        <button type="submit">{{t.resetPassword}}</button></form>{{/canWrite}}
        <h2>{{t.sessions}}</h2>
        <table><thead><tr><th scope="col">{{t.started}}</th><th scope="col">{{t.lastUsed}}</th><th scope="col">{{t.address}}</th><th scope="col">{{t.device}}</th></tr></thead>
        <tbody>{{#sessions}}<tr><td>{{started}}</td><td>{{lastUsed}}</td><td>{{address}}</td><td>{{agent}}</td></tr>{{/sessions}}{{^sessions}}<tr><td colspan="4">{{t.none}}</td></tr>{{/sessions}}</tbody></table>
        {{#canWrite}}{{#hasSessions}}<form method="post" action="{{href}}/end-sessions"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" class="danger">{{t.endSessions}}</button></form>{{/hasSessions}}{{/canWrite}}
        <h2>{{t.consents}}</h2>
        <table><thead><tr><th scope="col">{{t.client}}</th><th scope="col">{{t.scopes}}</th><th scope="col">{{t.expires}}</th>{{#canWrite}}<th scope="col"><span class="meta">{{t.actions}}</span></th>{{/canWrite}}</tr></thead>
        <tbody>{{#consents}}<tr><td>{{client}}</td><td>{{scopes}}</td><td>{{expires}}</td>{{#canWrite}}<td><form class="inline" method="post" action="{{href}}/consents/remove"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="client" value="{{client}}"><button type="submit" class="danger">{{t.revoke}}</button></form></td>{{/canWrite}}</tr>{{/consents}}
        {{^consents}}<tr><td colspan="4">{{t.none}}</td></tr>{{/consents}}</tbody></table>
        """

    static let keys = """
        <table id="keys"><thead><tr><th scope="col">kid</th><th scope="col">{{t.algorithm}}</th><th scope="col">{{t.status}}</th><th scope="col">{{t.created}}</th></tr></thead>
        <tbody>{{#keys}}<tr><td class="mono">{{kid}}</td><td>{{algorithm}}</td><td>{{status}}</td><td>{{created}}</td></tr>{{/keys}}</tbody></table>
        {{#canWrite}}<form method="post" action="{{base}}/keys/rotate" id="rotate"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit">{{t.rotateKeys}}</button> <span class="meta">{{t.reauthNote}}</span></form>{{/canWrite}}
        """

    static let apis = """
        {{#apis}}<h2>{{name}} <code>{{id}}</code></h2><p class="meta">{{identifiers}}</p>
        <table><thead><tr><th scope="col">{{t.kind}}</th><th scope="col">{{t.name}}</th><th scope="col">{{t.description}}</th></tr></thead>
        <tbody>{{#entries}}<tr><td>{{kind}}</td><td><code>{{name}}</code></td><td>{{description}}</td></tr>{{/entries}}</tbody></table>
        {{#editable}}<form method="post" action="{{base}}/apis/{{id}}/permissions" class="row"><input type="hidden" name="csrf" value="{{csrf}}">
        <div><label for="perm-{{id}}">{{t.permissionName}}</label><input type="text" id="perm-{{id}}" name="name" required></div>
        <div><label for="perm-desc-{{id}}">{{t.description}}</label><input type="text" id="perm-desc-{{id}}" name="description" size="40"></div>
        <div><label for="perm-kind-{{id}}">{{t.kind}}</label><select id="perm-kind-{{id}}" name="kind"><option value="permission">{{t.permission}}</option><option value="role">{{t.role}}</option></select></div>
        <div><button type="submit">{{t.add}}</button></div></form>{{/editable}}{{/apis}}
        {{#canWrite}}<h2>{{t.newAPI}}</h2>
        <form method="post" action="{{base}}/apis" id="create-api"><input type="hidden" name="csrf" value="{{csrf}}">
        <label for="api-name">{{t.name}}</label><input type="text" id="api-name" name="name" required>
        <label for="api-identifier">{{t.apiIdentifier}}</label><input type="text" id="api-identifier" name="identifier" required placeholder="api://orders" size="40">
        <button type="submit">{{t.create}}</button></form>{{/canWrite}}
        """

    static let audit = """
        <table id="audit"><thead><tr><th scope="col">{{t.time}}</th><th scope="col">{{t.actor}}</th><th scope="col">{{t.action}}</th><th scope="col">{{t.target}}</th><th scope="col">{{t.traceID}}</th></tr></thead>
        <tbody>{{#entries}}<tr><td class="mono">{{time}}</td><td>{{actor}}</td><td><code>{{action}}</code></td><td class="mono">{{target}}</td><td class="mono">{{traceID}}</td></tr>{{/entries}}
        {{^entries}}<tr><td colspan="5">{{t.none}}</td></tr>{{/entries}}</tbody></table>
        {{#next}}<p><a href="{{base}}/audit?before={{next}}">{{t.older}}</a></p>{{/next}}
        """

    /// The outbox: what waits to be delivered and why it failed; never a payload.
    static let outbox = """
        <p>{{t.outboxIntro}}</p>
        <table id="outbox"><thead><tr><th scope="col">{{t.queuedAt}}</th><th scope="col">{{t.kind}}</th><th scope="col">{{t.attempts}}</th><th scope="col">{{t.nextAttempt}}</th><th scope="col">{{t.lastError}}</th></tr></thead>
        <tbody>{{#rows}}<tr><td class="mono">{{created}}</td><td><code>{{kind}}</code></td><td>{{attempts}}</td><td class="mono">{{next}}</td><td>{{lastError}}</td></tr>{{/rows}}
        {{^rows}}<tr><td colspan="5">{{t.outboxEmpty}}</td></tr>{{/rows}}</tbody></table>
        """

    static let preview = """
        <p>{{t.previewIntro}}</p>
        <form method="get" action="{{base}}/preview" class="row">
        <div><label for="preview-client">{{t.client}}</label><select id="preview-client" name="client">{{#clients}}<option value="{{id}}"{{#selected}} selected{{/selected}}>{{name}} ({{id}})</option>{{/clients}}</select></div>
        <div><label for="preview-user">{{t.userOptional}}</label><input type="text" id="preview-user" name="user" value="{{user}}"></div>
        <div><label for="preview-scope">{{t.scopesSpaceSeparated}}</label><input type="text" id="preview-scope" name="scope" value="{{scope}}" size="40"></div>
        <div><button type="submit" id="evaluate">{{t.evaluate}}</button></div></form>
        {{#accessToken}}<h2>{{t.accessToken}}</h2><pre class="mono" id="access-claims">{{accessToken}}</pre>{{/accessToken}}
        {{#idToken}}<h2>{{t.idToken}}</h2><pre class="mono" id="id-claims">{{idToken}}</pre>{{/idToken}}
        """

    static let tenants = """
        <table><thead><tr><th scope="col">{{t.tenant}}</th><th scope="col">{{t.name}}</th></tr></thead>
        <tbody>{{#tenants}}<tr><td><a href="{{href}}">{{name}}</a></td><td>{{display}}</td></tr>{{/tenants}}</tbody></table>
        """

    static let message = """
        {{#text}}<p>{{text}}</p>{{/text}}
        \(alert)
        {{#link}}<p><a href="{{href}}">{{label}}</a></p>{{/link}}
        """
}
