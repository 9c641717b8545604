/// The account page's templates (swift-mustache; `{{ }}` escapes HTML). No JavaScript: every
/// action is a form with the session's CSRF token. The QR code is an inline SVG this server drew
/// (`QRCode.svg`), the only value rendered unescaped (`{{{qr}}}`).
enum AccountTemplates {
    static let account =
        SignInTemplates.head + """
            <h1>{{heading}}</h1>
            {{#notice}}<div class="notice" role="status" id="notice"><p>{{notice}}</p></div>{{/notice}}
            \(SignInTemplates.alert)
            <section aria-labelledby="profile"><h2 id="profile">{{t_profile}}</h2>
            <p><strong id="display-name">{{displayName}}</strong></p>
            <p class="meta">{{t_usernameLabel}}: <span id="username">{{username}}</span>{{#hasEmail}} · {{t_emailLabel}}: {{email}} ({{#emailVerified}}{{t_verified}}{{/emailVerified}}{{^emailVerified}}{{t_unverified}}{{/emailVerified}}){{/hasEmail}}</p>
            </section>
            <section aria-labelledby="password-heading"><h2 id="password-heading">{{t_password}}</h2>
            <form method="post" action="{{base}}/password" id="password-form">
            <input type="hidden" name="csrf" value="{{csrf}}">
            <input type="hidden" name="ui_locales" value="{{language}}">
            <input type="text" name="username" value="{{username}}" autocomplete="username" hidden>
            <label for="current">{{t_currentPassword}}</label>
            <input type="password" id="current" name="current" autocomplete="current-password" required>
            <label for="password">{{t_newPassword}}</label>
            <input type="password" id="password" name="password" autocomplete="new-password" minlength="{{minimum}}" required>
            <label for="confirm">{{t_confirmPassword}}</label>
            <input type="password" id="confirm" name="confirm" autocomplete="new-password" minlength="{{minimum}}" required>
            <button type="submit" id="change-password">{{t_changePassword}}</button>
            </form></section>
            <section aria-labelledby="factor-heading"><h2 id="factor-heading">{{t_secondFactor}}</h2>
            {{#enrolled}}<p id="factor-state">{{t_secondFactorOn}} <span class="meta" id="codes-left">{{codesLeft}}</span></p>
            <p><a class="button" href="{{base}}/security/codes" id="new-codes">{{t_newCodes}}</a> <a class="button secondary" href="{{base}}/security/remove" id="remove-factor">{{t_remove}}</a></p>{{/enrolled}}
            {{^enrolled}}<p id="factor-state">{{t_secondFactorOff}}</p><p><a class="button" href="{{base}}/totp" id="enrol">{{t_enrol}}</a></p>{{/enrolled}}
            </section>
            <section aria-labelledby="sessions-heading"><h2 id="sessions-heading">{{t_sessions}}</h2>
            <table id="sessions"><thead><tr><th>{{t_device}}</th><th>{{t_address}}</th><th>{{t_started}}</th><th>{{t_lastUsed}}</th><th></th></tr></thead><tbody>
            {{#sessions}}<tr class="session"><td>{{device}}{{#current}} <strong class="current">({{t_thisBrowser}})</strong>{{/current}}</td><td>{{address}}</td><td>{{started}}</td><td>{{lastUsed}}</td>
            <td><form method="post" action="{{base}}/sessions/end"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="sid" value="{{sid}}"><button type="submit" class="small secondary end-session" data-sid="{{sid}}">{{t_end}}</button></form></td></tr>{{/sessions}}
            </tbody></table>
            <form method="post" action="{{base}}/sessions/end" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="sid" value="others"><button type="submit" class="secondary" id="end-others">{{t_endOthers}}</button></form>
            <form method="post" action="{{base}}/sessions/end" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="sid" value="all"><button type="submit" class="secondary" id="end-all">{{t_endAll}}</button></form>
            </section>
            <section aria-labelledby="apps-heading"><h2 id="apps-heading">{{t_apps}}</h2>
            {{#hasApps}}<table id="apps"><thead><tr><th>{{t_app}}</th><th>{{t_permissions}}</th><th>{{t_granted}}</th><th></th></tr></thead><tbody>
            {{#apps}}<tr class="app"><td>{{name}}<br><span class="meta">{{clientID}}</span></td><td>{{scope}}</td><td>{{granted}}</td>
            <td><form method="post" action="{{base}}/apps/withdraw"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="client_id" value="{{clientID}}"><button type="submit" class="small secondary withdraw" data-client="{{clientID}}">{{t_withdraw}}</button></form></td></tr>{{/apps}}
            </tbody></table>{{/hasApps}}
            {{^hasApps}}<p class="meta" id="no-apps">{{t_noApps}}</p>{{/hasApps}}
            </section>
            <form method="post" action="{{base}}/logout"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" class="secondary" id="sign-out">{{t_signOut}}</button></form>
            </main></body></html>
            """

    /// TOTP enrolment: the QR code, the setup key and the first code.
    static let enrol =
        SignInTemplates.head + """
            <h1>{{heading}}</h1>
            \(SignInTemplates.alert)
            <p>{{intro}}</p>
            {{#qr}}<div class="qr" id="qr">{{{qr}}}</div>{{/qr}}
            <p>{{setupKeyLabel}}: <code id="setup-key">{{setupKey}}</code></p>
            <form method="post" action="{{action}}">
            <input type="hidden" name="csrf" value="{{csrf}}">
            <input type="hidden" name="ui_locales" value="{{language}}">
            <label for="otp">{{codeLabel}}</label>
            <input type="text" id="otp" name="otp" inputmode="numeric" pattern="[0-9 ]*" autocomplete="one-time-code" maxlength="8" required autofocus {{#error}}aria-describedby="form-error"{{/error}}>
            <button type="submit" id="submit">{{submit}}</button>
            </form>
            <p class="meta"><a href="{{back}}">{{backLabel}}</a></p>
            </main></body></html>
            """

    /// Recovery codes, shown once.
    static let codes =
        SignInTemplates.head + """
            <h1>{{heading}}</h1>
            <p>{{intro}}</p>
            <ol class="codes" id="recovery-codes">{{#codes}}<li><code>{{.}}</code></li>{{/codes}}</ol>
            <p><a class="button" href="{{back}}" id="done">{{backLabel}}</a></p>
            </main></body></html>
            """

    /// Self-registration: what the tenant needs.
    static let register =
        SignInTemplates.head + """
            <h1>{{heading}}</h1>
            \(SignInTemplates.alert)
            {{#domains}}<p class="meta" id="domains">{{domains}}</p>{{/domains}}
            <form method="post" action="{{action}}">
            <input type="hidden" name="ui_locales" value="{{language}}">
            <label for="email">{{labelEmail}}</label>
            <input type="email" id="email" name="email" value="{{email}}" autocomplete="email" maxlength="254" required autofocus {{#error}}aria-describedby="form-error"{{/error}}>
            {{#askUsername}}<label for="username">{{labelUsername}}</label>
            <input type="text" id="username" name="username" value="{{username}}" autocomplete="username" autocapitalize="none" spellcheck="false" maxlength="128" required>{{/askUsername}}
            <label for="display_name">{{labelDisplayName}}</label>
            <input type="text" id="display_name" name="display_name" value="{{displayName}}" autocomplete="name" maxlength="128" required>
            <label for="password">{{labelPassword}}</label>
            <input type="password" id="password" name="password" autocomplete="new-password" minlength="{{minimum}}" required>
            <label for="confirm">{{labelConfirm}}</label>
            <input type="password" id="confirm" name="confirm" autocomplete="new-password" minlength="{{minimum}}" required>
            <button type="submit" id="submit">{{labelSubmit}}</button>
            </form>
            </main></body></html>
            """
}
