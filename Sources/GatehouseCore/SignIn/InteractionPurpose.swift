import Foundation

/// What a sign-in interaction is for.
public enum InteractionPurpose: Sendable, Codable, Hashable {
    /// An authorization request (RFC 6749 §4.1): it ends with a code, or an error, sent to the
    /// client's redirect URI.
    case authorize(AuthorizationRequest)
    /// A user code entered on the verification page (RFC 8628 §3.3): it ends with the device
    /// approved or declined, shown on a page; nothing is redirected.
    case device(DeviceApproval)

    public var tenant: TenantName {
        switch self {
        case .authorize(let request): request.tenant
        case .device(let approval): approval.tenant
        }
    }

    public var clientID: ClientID {
        switch self {
        case .authorize(let request): request.clientID
        case .device(let approval): approval.clientID
        }
    }

    public var scope: Scope {
        switch self {
        case .authorize(let request): request.scope
        case .device(let approval): approval.scope
        }
    }

    /// The resources (RFC 8707) the tokens will be for.
    public var audience: [String] {
        switch self {
        case .authorize(let request): request.audience
        case .device(let approval): approval.audience
        }
    }

    public var uiLocales: String? {
        switch self {
        case .authorize(let request): request.uiLocales
        case .device(let approval): approval.uiLocales
        }
    }

    /// The username to fill in on the sign-in page (`login_hint`).
    public var loginHint: String? {
        if case .authorize(let request) = self { return request.loginHint }
        return nil
    }

    /// Where the pages' forms may post besides Gatehouse (the client's redirect URI, for
    /// `form_post`), if anywhere.
    public var formTarget: String? {
        if case .authorize(let request) = self { return request.reply.redirectURI.value }
        return nil
    }
}

/// A device authorization the user is asked to approve (RFC 8628 §3.3).
public struct DeviceApproval: Sendable, Codable, Hashable {
    public let tenant: TenantName
    public let clientID: ClientID
    public let scope: Scope
    public let audience: [String]
    public let uiLocales: String?
    /// The key of the device authorization it approves or declines.
    public let deviceKey: String

    public init(tenant: TenantName, clientID: ClientID, scope: Scope, audience: [String], uiLocales: String?, deviceKey: String) {
        self.tenant = tenant
        self.clientID = clientID
        self.scope = scope
        self.audience = audience
        self.uiLocales = uiLocales
        self.deviceKey = deviceKey
    }
}
