/// The one script of the passkey pages, inlined with the page's CSP nonce. It reads what it needs
/// from the `passkey-form` element's data attributes (the challenge, the RP ID, the credentials
/// to allow or exclude), calls WebAuthn, writes the answer base64url into the form's hidden fields
/// and submits it: the server verifies everything. Without JavaScript or WebAuthn the passkey
/// button stays hidden and the page works as before.
///
/// `data-mode`: `signin` (the sign-in page: the button and, where the browser offers it,
/// conditional UI on the username field), `second` (the second-factor page: the user's own
/// credentials) or `register` (the account page).
enum PasskeyScript {
    static let source = """
        (function () {
          var form = document.getElementById('passkey-form');
          if (!form) return;
          var button = document.getElementById('passkey-button');
          var status = document.getElementById('passkey-status');
          var d = form.dataset;
          if (!window.PublicKeyCredential || !navigator.credentials) return;
          function b64(buffer) {
            var bytes = new Uint8Array(buffer), text = '';
            for (var i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]);
            return btoa(text).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
          }
          function bytes(text) {
            text = text.replace(/-/g, '+').replace(/_/g, '/');
            while (text.length % 4) text += '=';
            var raw = atob(text), out = new Uint8Array(raw.length);
            for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
            return out;
          }
          function credentials(list) {
            return (list || '').split(' ').filter(Boolean).map(function (id) { return { type: 'public-key', id: bytes(id) }; });
          }
          function set(name, value) { form.elements[name].value = value; }
          function failed(error) {
            if (error && error.name === 'AbortError') return;
            if (status) status.textContent = d.failText || '';
            if (button) button.disabled = false;
          }
          if (d.mode === 'register') {
            button.addEventListener('click', function () {
              button.disabled = true;
              if (status) status.textContent = '';
              navigator.credentials.create({ publicKey: {
                challenge: bytes(d.challenge),
                rp: { id: d.rpId, name: d.rpName },
                user: { id: new TextEncoder().encode(d.userId), name: d.userName, displayName: d.userDisplay },
                pubKeyCredParams: [{ type: 'public-key', alg: -7 }, { type: 'public-key', alg: -8 }, { type: 'public-key', alg: -257 }],
                authenticatorSelection: { residentKey: 'preferred', requireResidentKey: false, userVerification: d.uv },
                excludeCredentials: credentials(d.exclude),
                attestation: d.attestation,
                timeout: 300000
              } }).then(function (credential) {
                set('client_data', b64(credential.response.clientDataJSON));
                set('attestation_object', b64(credential.response.attestationObject));
                var transports = credential.response.getTransports ? credential.response.getTransports() : [];
                set('transports', transports.join(','));
                form.submit();
              }, failed);
            });
            // Enter in the name field starts the prompt instead of posting an empty answer.
            form.addEventListener('submit', function (event) {
              if (!form.elements['attestation_object'].value) { event.preventDefault(); if (!button.disabled) button.click(); }
            });
            button.hidden = false;
            return;
          }
          var conditional = null, modal = false;
          function get(mediation, signal) {
            var options = { publicKey: {
              challenge: bytes(d.challenge), rpId: d.rpId, userVerification: d.uv, timeout: 300000,
              allowCredentials: credentials(d.allow)
            } };
            if (mediation) options.mediation = mediation;
            if (signal) options.signal = signal;
            return navigator.credentials.get(options);
          }
          function send(credential) {
            set('credential_id', b64(credential.rawId));
            set('client_data', b64(credential.response.clientDataJSON));
            set('authenticator_data', b64(credential.response.authenticatorData));
            set('signature', b64(credential.response.signature));
            set('user_handle', credential.response.userHandle ? b64(credential.response.userHandle) : '');
            form.submit();
          }
          // Conditional UI (passkeys offered in the username field's autofill), except on a page
          // that shows a refusal: there the user chooses again with the button.
          if (d.mode === 'signin' && d.conditional === 'on' && PublicKeyCredential.isConditionalMediationAvailable) {
            PublicKeyCredential.isConditionalMediationAvailable().then(function (available) {
              if (!available || modal) return;
              conditional = new AbortController();
              // The user did not ask for this one: if the browser refuses it (headless Chromium
              // does at once), nothing is said; the button still offers the prompt.
              get('conditional', conditional.signal).then(send, function () {});
            }, function () {});
          }
          button.addEventListener('click', function () {
            modal = true;
            button.disabled = true;
            if (status) status.textContent = '';
            var pending = conditional;
            conditional = null;
            if (pending) pending.abort();
            // The aborted conditional request settles first; then the modal one may start.
            setTimeout(function () { get(null, null).then(send, failed); }, pending ? 100 : 0);
          });
          button.hidden = false;
        })();
        """
}
