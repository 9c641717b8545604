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
            <section aria-labelledby="passkeys-heading"><h2 id="passkeys-heading">{{t_passkeys}}</h2>
            <p class="meta">{{t_passkeysIntro}}</p>
            {{#hasPasskeys}}<table id="passkey-summary"><thead><tr><th>{{t_passkeyName}}</th><th>{{t_passkeyKind}}</th><th>{{t_created}}</th><th>{{t_lastUsed}}</th></tr></thead><tbody>
            {{#passkeys}}<tr class="passkey"><td>{{name}}{{#flagged}} <span class="meta flagged">⚠</span>{{/flagged}}</td><td>{{kind}}</td><td>{{created}}</td><td>{{lastUsed}}</td></tr>{{/passkeys}}
            </tbody></table>
            <p><a class="button" href="{{base}}/passkeys/new" id="add-passkey">{{t_addPasskey}}</a> <a class="button secondary" href="{{base}}/passkeys" id="manage-passkeys">{{t_managePasskeys}}</a></p>{{/hasPasskeys}}
            {{^hasPasskeys}}<p id="no-passkeys">{{t_noPasskeys}}</p><p><a class="button" href="{{base}}/passkeys/new" id="add-passkey">{{t_addPasskey}}</a></p>{{/hasPasskeys}}
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

    /// The user's passkeys: rename each, remove each (after a fresh sign-in), add another.
    static let passkeys =
        SignInTemplates.head + """
            <h1>{{heading}}</h1>
            {{#notice}}<div class="notice" role="status" id="notice"><p>{{notice}}</p></div>{{/notice}}
            \(SignInTemplates.alert)
            <table id="passkeys"><thead><tr><th>{{t_passkeyName}}</th><th>{{t_passkeyKind}}</th><th>{{t_created}}</th><th>{{t_lastUsed}}</th><th></th></tr></thead><tbody>
            {{#passkeys}}<tr class="passkey" data-id="{{id}}"><td><form method="post" action="{{base}}/passkeys/rename" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="id" value="{{id}}">
            <input type="text" name="name" value="{{name}}" maxlength="64" required aria-label="{{t_passkeyName}}" class="passkey-name"> <button type="submit" class="small secondary rename">{{t_rename}}</button></form>
            {{#flagged}}<br><span class="meta flagged">{{t_passkeyFlagged}}</span>{{/flagged}}</td><td>{{kind}}</td><td>{{created}}</td><td>{{lastUsed}}</td>
            <td><form method="post" action="{{base}}/passkeys/remove"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="id" value="{{id}}"><button type="submit" class="small secondary remove-passkey" data-id="{{id}}">{{t_removePasskey}}</button></form></td></tr>{{/passkeys}}
            </tbody></table>
            {{^passkeys}}<p id="no-passkeys">{{t_noPasskeys}}</p>{{/passkeys}}
            <p><a class="button" href="{{base}}/passkeys/new" id="add-passkey">{{t_addPasskey}}</a> <a class="button secondary" href="{{base}}" id="back">{{t_back}}</a></p>
            </main></body></html>
            """

    /// Adding a passkey: its name, then the browser's prompt (`PasskeyScript`, mode `register`).
    static let addPasskey =
        SignInTemplates.head + """
            <h1>{{heading}}</h1>
            \(SignInTemplates.alert)
            <p>{{intro}}</p>
            <form method="post" action="{{action}}" id="passkey-form" data-mode="register" data-challenge="{{challenge}}" data-rp-id="{{rpID}}" data-rp-name="{{rpName}}" data-user-id="{{userID}}" data-user-name="{{userName}}" data-user-display="{{userDisplay}}" data-uv="{{uv}}" data-attestation="{{attestation}}" data-exclude="{{exclude}}" data-fail-text="{{failText}}">
            <input type="hidden" name="csrf" value="{{csrf}}">
            {{#interaction}}<input type="hidden" name="interaction" value="{{interaction}}">{{/interaction}}
            <input type="hidden" name="client_data"><input type="hidden" name="attestation_object"><input type="hidden" name="transports">
            <label for="passkey-name">{{nameLabel}}</label>
            <input type="text" id="passkey-name" name="name" value="{{name}}" maxlength="64" required autofocus>
            <button type="button" id="passkey-button" hidden>{{submit}}</button>
            <p class="meta" id="passkey-status" role="status" aria-live="polite"></p>
            <noscript><p class="meta">{{noScript}}</p></noscript>
            </form>
            {{#back}}<p><a class="button secondary" href="{{back}}" id="back">{{backLabel}}</a></p>{{/back}}
            <script nonce="{{nonce}}">{{{script}}}</script>
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
