import Foundation

/// Composes the mails Gatehouse sends about an account (a password reset link, a notice that the
/// password changed, an address verification link) from the language files' `mail.*` texts, as
/// plain text and HTML, and queues them sealed (`MailMessage.queued`). A template's body is
/// paragraphs separated by blank lines; a paragraph that is only `{link}` becomes a button in HTML.
public struct AccountMailer: Sendable {
    public let baseURL: String
    public let texts: CatalogueTexts
    public let box: SecretBox

    public init(baseURL: String, texts: CatalogueTexts, box: SecretBox) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.texts = texts
        self.box = box
    }

    /// The kinds of account mails: each has `mail.{kind}.subject` and `mail.{kind}.body`.
    public enum Kind: String, Sendable {
        case passwordReset = "reset"
        case passwordChanged = "changed"
        case verifyEmail = "verify"
        /// A change the user made on the account page (or a recovery code used at sign-in):
        /// `{change}` says which.
        case accountChanged = "notice"
    }

    /// The page a link of `kind` opens, with its token.
    public func link(_ kind: Kind, tenant: TenantName, token: String) -> String {
        switch kind {
        case .passwordReset: "\(baseURL)/\(tenant.value)/password/reset?token=\(token)"
        case .verifyEmail: "\(baseURL)/\(tenant.value)/email/verify?token=\(token)"
        case .passwordChanged: "\(baseURL)/\(tenant.value)/password/forgot"
        case .accountChanged: "\(baseURL)/\(tenant.value)/account"
        }
    }

    public func compose(
        _ kind: Kind, to address: String, user: User, tenantName: String, link: String, language: String, change: String? = nil,
        brand: TenantBranding = TenantBranding()
    ) -> MailMessage {
        let color = brand.primaryColor ?? "#005fcc"
        var values = [
            "name": user.displayName, "username": user.username.value, "tenant": tenantName, "link": link, "email": address,
        ]
        if let change { values["change"] = CatalogueTexts.fill(texts.ui("mail.notice.\(change)", language: language), with: values) }
        let subject = CatalogueTexts.fill(texts.ui("mail.\(kind.rawValue).subject", language: language), with: values)
        let body = texts.ui("mail.\(kind.rawValue).body", language: language)
        let text = CatalogueTexts.fill(body, with: values) + "\n\n-- \n" + tenantName + "\n"
        let paragraphs = body.components(separatedBy: "\n\n").map { paragraph -> String in
            if paragraph.trimmingCharacters(in: .whitespaces) == "{link}" {
                let href = HTMLText.escape(link)
                return
                    "<p><a href=\"\(href)\" style=\"display:inline-block;padding:.6rem 1.2rem;background:\(color);color:\(brand.textOnPrimary);"
                    + "border-radius:.25rem;text-decoration:none\">\(HTMLText.escape(subject))</a></p>"
                    + "<p style=\"color:#555;font-size:.85rem;word-break:break-all\">\(href)</p>"
            }
            return "<p>" + HTMLText.escape(CatalogueTexts.fill(paragraph, with: values)).replacingOccurrences(of: "\n", with: "<br>")
                + "</p>"
        }
        let html = """
            <!DOCTYPE html>
            <html lang="\(HTMLText.escape(language))"><head><meta charset="utf-8"><title>\(HTMLText.escape(subject))</title></head>
            <body style="font-family:system-ui,-apple-system,'Segoe UI',sans-serif;color:#1b1b1b;background:#f4f5f7;margin:0;padding:1rem">
            <div style="max-width:32rem;margin:0 auto;background:#fff;padding:1.5rem;border-radius:.5rem">
            \(logo(brand, tenant: user.tenant))<h1 style="font-size:1.2rem;margin-top:0;border-bottom:3px solid \(color);padding-bottom:.4rem">\(HTMLText.escape(tenantName))</h1>
            \(paragraphs.joined(separator: "\n"))
            </div></body></html>
            """
        return MailMessage(to: address, subject: subject, text: text, html: html)
    }

    /// The tenant's logo at the top of a mail: an image the mail program fetches from this server.
    func logo(_ brand: TenantBranding, tenant: TenantName) -> String {
        guard let digest = brand.logoDigest, !baseURL.isEmpty else { return "" }
        return
            "<img src=\"\(HTMLText.escape("\(baseURL)/\(tenant.value)/branding/logo/\(digest)"))\" alt=\"\" style=\"max-height:40px;max-width:160px\">"
    }

}
