/// Sign-in, consent, logout and form_post pages (swift-mustache; `{{ }}` escapes HTML). No
/// JavaScript is needed: every step is a plain form; form_post adds one nonce'd script that
/// submits the form, with a button for browsers without JavaScript.
enum SignInTemplates {
    static let head = """
        <!DOCTYPE html>
        <html lang="{{language}}">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="referrer" content="no-referrer">
        <title>{{title}}</title>
        <style>
        body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;background:#f4f5f7;color:#1b1b1b;margin:0}
        main{max-width:24rem;margin:3rem auto;background:#fff;padding:2rem;border-radius:.5rem;box-shadow:0 1px 4px rgba(0,0,0,.15)}
        h1{font-size:1.35rem;margin-top:0} label{display:block;font-weight:600;margin:1rem 0 .3rem}
        input[type=text],input[type=password],input[type=email]{width:100%;box-sizing:border-box;padding:.6rem;font-size:1rem;border:1px solid #767676;border-radius:.25rem}
        input:focus,button:focus{outline:3px solid #005fcc;outline-offset:2px}
        button{margin-top:1.25rem;padding:.6rem 1.2rem;font-size:1rem;border-radius:.25rem;border:1px solid #004b9e;background:#005fcc;color:#fff;cursor:pointer}
        button.secondary{background:#fff;color:#004b9e;margin-left:.5rem}
        .alert{border-left:4px solid #b00020;background:#fdecee;padding:.75rem;margin:1rem 0}
        .meta{color:#555;font-size:.85rem} ul{padding-left:1.2rem}
        h2.api{font-size:1rem;margin:1rem 0 .25rem} h2.api .identifier{display:block;font-weight:400;color:#555;font-size:.85rem;word-break:break-all}
        .notice{border-left:4px solid #1b7f3b;background:#e9f6ee;padding:.75rem;margin:1rem 0}
        section{border-top:1px solid #ddd;margin-top:1.5rem} section h2{font-size:1.1rem}
        table{border-collapse:collapse;width:100%;font-size:.9rem} th,td{text-align:left;padding:.4rem .3rem;border-bottom:1px solid #eee;vertical-align:top}
        a.button{display:inline-block;padding:.5rem 1rem;border-radius:.25rem;border:1px solid #004b9e;background:#005fcc;color:#fff;text-decoration:none}
        a.button.secondary{background:#fff;color:#004b9e} button.small{margin-top:0;padding:.3rem .6rem;font-size:.85rem;margin-left:0}
        form.inline{display:inline-block;margin-right:.5rem} ol.codes{font-size:1.1rem;line-height:1.8}
        .qr svg{display:block;margin:1rem auto;max-width:100%;height:auto}
        input.passkey-name{width:auto;max-width:12rem;padding:.3rem} .flagged{color:#b00020} #passkey-form button{margin-left:0}
        {{#wide}}main{max-width:48rem}{{/wide}}
        header.brand{display:flex;align-items:center;gap:.75rem;margin:-.5rem 0 1rem;font-weight:600;color:#333}
        header.brand img{max-height:40px;max-width:160px}
        {{#brand}}{{#color}}button,a.button{background:{{color}};border-color:{{color}};color:{{textColor}}}
        button.secondary,a.button.secondary{background:#fff;color:{{color}};border-color:{{color}}}
        input:focus,button:focus,a:focus{outline-color:{{color}}} h1{border-bottom:3px solid {{color}};padding-bottom:.4rem}{{/color}}{{/brand}}
        </style>
        </head>
        <body>
        <main>
        {{#brand}}<header class="brand">{{#logo}}<img src="{{logo}}" alt="" id="brand-logo">{{/logo}}<span id="brand-name">{{name}}</span></header>{{/brand}}
        """

    static let alert = """
        {{#error}}<div class="alert" role="alert" id="form-error"><p>{{message}}</p><p class="meta">{{labelCode}}: <a href="{{uri}}">{{code}}</a> · trace_id: {{traceID}}</p>{{#brand}}{{#support}}<p class="meta" id="support">{{supportLabel}} <a href="{{supportLink}}">{{support}}</a></p>{{/support}}{{/brand}}</div>{{/error}}
        """

    /// The passkey form of the sign-in and second-factor pages (`passkey`: its data), its fields
    /// filled by `PasskeyScript` (inlined with the page's nonce); hidden without JavaScript.
    static let passkey = """
        {{#passkey}}<form method="post" action="{{action}}" id="passkey-form" data-mode="{{mode}}" data-challenge="{{challenge}}" data-rp-id="{{rpID}}" data-uv="{{uv}}" data-allow="{{allow}}" data-conditional="{{conditional}}" data-fail-text="{{failText}}">
        <input type="hidden" name="interaction" value="{{interaction}}">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <input type="hidden" name="credential_id"><input type="hidden" name="client_data"><input type="hidden" name="authenticator_data">
        <input type="hidden" name="signature"><input type="hidden" name="user_handle">
        <button type="button" id="passkey-button" class="{{buttonClass}}" hidden>{{label}}</button>
        <p class="meta" id="passkey-status" role="status" aria-live="polite"></p>
        </form>
        <script nonce="{{nonce}}">{{{script}}}</script>{{/passkey}}
        """

    static let login =
        head + """
            <h1>{{heading}}</h1>
            \(alert)
            <form method="post" action="{{action}}">
            <input type="hidden" name="interaction" value="{{interaction}}">
            <input type="hidden" name="csrf" value="{{csrf}}">
            <label for="username">{{labelUsername}}</label>
            <input type="text" id="username" name="username" value="{{username}}" autocomplete="username webauthn" autocapitalize="none" spellcheck="false" required {{#focusUsername}}autofocus{{/focusUsername}} {{#error}}aria-describedby="form-error"{{/error}}>
            <label for="password">{{labelPassword}}</label>
            <input type="password" id="password" name="password" autocomplete="current-password" required {{^focusUsername}}autofocus{{/focusUsername}}>
            <button type="submit" id="submit">{{labelSubmit}}</button>
            </form>
            \(passkey)
            {{#forgotURL}}<p class="meta"><a href="{{forgotURL}}" id="forgot">{{labelForgot}}</a></p>{{/forgotURL}}
            {{#registerURL}}<p class="meta"><a href="{{registerURL}}" id="register">{{labelRegister}}</a></p>{{/registerURL}}
            </main></body></html>
            """

    /// "Forgot password?": a username or address; the answer is the same whatever it names.
    static let forgot =
        head + """
            <h1>{{heading}}</h1>
            \(alert)
            <p>{{intro}}</p>
            <form method="post" action="{{action}}">
            <input type="hidden" name="ui_locales" value="{{language}}">
            <label for="username">{{labelUsername}}</label>
            <input type="text" id="username" name="username" autocomplete="username" autocapitalize="none" spellcheck="false" maxlength="256" required autofocus>
            <button type="submit" id="submit">{{labelSubmit}}</button>
            </form>
            </main></body></html>
            """

    /// A reset link's page: the new password twice.
    static let resetPassword =
        head + """
            <h1>{{heading}}</h1>
            \(alert)
            <p>{{intro}}</p>
            <form method="post" action="{{action}}">
            <input type="hidden" name="token" value="{{token}}">
            <input type="hidden" name="ui_locales" value="{{language}}">
            <input type="text" name="username" value="{{username}}" autocomplete="username" hidden>
            <label for="password">{{labelPassword}}</label>
            <input type="password" id="password" name="password" autocomplete="new-password" minlength="8" required autofocus {{#error}}aria-describedby="form-error"{{/error}}>
            <label for="confirm">{{labelConfirm}}</label>
            <input type="password" id="confirm" name="confirm" autocomplete="new-password" minlength="8" required>
            <button type="submit" id="submit">{{labelSubmit}}</button>
            </form>
            </main></body></html>
            """

    static let totp =
        head + """
            <h1>{{heading}}</h1>
            \(alert)
            {{#hasTOTP}}<form method="post" action="{{action}}">
            <input type="hidden" name="interaction" value="{{interaction}}">
            <input type="hidden" name="csrf" value="{{csrf}}">
            <label for="otp">{{labelCode}}</label>
            <input type="text" id="otp" name="otp" autocomplete="one-time-code" autocapitalize="characters" spellcheck="false" maxlength="16" required autofocus aria-describedby="otp-hint{{#error}} form-error{{/error}}">
            <p class="meta" id="otp-hint">{{recoveryHint}}</p>
            <button type="submit" id="submit">{{labelSubmit}}</button>
            </form>{{/hasTOTP}}
            {{^hasTOTP}}<p>{{passkeyOnlyHint}}</p>{{/hasTOTP}}
            \(passkey)
            </main></body></html>
            """

    static let consent =
        head + """
            <h1>{{heading}}</h1>
            {{#unverified}}<p class="meta" id="unverified-name">{{unverified}}</p>{{/unverified}}
            <p>{{intro}}</p>
            <ul>{{#scopes}}<li>{{.}}</li>{{/scopes}}</ul>
            {{#apis}}<h2 class="api">{{heading}} <span class="identifier">{{identifier}}</span></h2>
            <ul>{{#permissions}}<li>{{.}}</li>{{/permissions}}</ul>{{/apis}}
            <form method="post" action="{{action}}">
            <input type="hidden" name="interaction" value="{{interaction}}">
            <input type="hidden" name="csrf" value="{{csrf}}">
            <button type="submit" name="decision" value="allow" id="allow" autofocus>{{labelAllow}}</button>
            <button type="submit" name="decision" value="deny" id="deny" class="secondary">{{labelDeny}}</button>
            </form>
            </main></body></html>
            """

    static let message =
        head + """
            <h1>{{heading}}</h1>
            \(alert)
            {{#text}}<p>{{text}}</p>{{/text}}
            {{#confirm}}<form method="post" action="{{action}}">
            <input type="hidden" name="csrf" value="{{csrf}}">
            {{#fields}}<input type="hidden" name="{{name}}" value="{{value}}">{{/fields}}
            {{#askPassword}}<input type="text" name="username" value="{{username}}" autocomplete="username" hidden>
            <label for="password">{{labelPassword}}</label>
            <input type="password" id="password" name="password" autocomplete="current-password" required autofocus {{#error}}aria-describedby="form-error"{{/error}}>{{/askPassword}}
            <button type="submit" id="submit" {{^askPassword}}autofocus{{/askPassword}}>{{labelSubmit}}</button>
            </form>{{/confirm}}
            </main></body></html>
            """

    static let deviceCode =
        head + """
            <h1>{{heading}}</h1>
            \(alert)
            <form method="post" action="{{action}}">
            <label for="user_code">{{labelCode}}</label>
            <input type="text" id="user_code" name="user_code" value="{{code}}" autocomplete="one-time-code" autocapitalize="characters" spellcheck="false" required autofocus{{#error}} aria-describedby="form-error"{{/error}}>
            <button type="submit" id="submit">{{labelSubmit}}</button>
            </form>
            </main></body></html>
            """

    static let formPost =
        head + """
            <h1>{{heading}}</h1>
            <form method="post" action="{{action}}">
            {{#fields}}<input type="hidden" name="{{name}}" value="{{value}}">{{/fields}}
            <noscript><button type="submit">{{labelSubmit}}</button></noscript>
            </form>
            <script nonce="{{nonce}}">document.forms[0].submit()</script>
            </main></body></html>
            """
}
