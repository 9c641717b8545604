import Foundation

/// A user holding an application role of an API (as Entra's app role assignments): delegated
/// tokens for that API carry the role in `roles` (RFC 9068 §2.2.3.1).
public struct RoleAssignment: Sendable, Hashable {
    public let tenant: TenantName
    public let userID: String
    /// The API's application ID.
    public let api: ClientID
    public let role: String

    public init(tenant: TenantName, userID: String, api: ClientID, role: String) {
        self.tenant = tenant
        self.userID = userID
        self.api = api
        self.role = role
    }
}

public protocol RoleAssignmentStore: Sendable {
    /// False if the user holds the role already.
    func assignRole(_ assignment: RoleAssignment) async throws -> Bool
    /// False if the user did not hold it.
    func unassignRole(_ assignment: RoleAssignment) async throws -> Bool
    /// The user's roles, by API, in the order assigned.
    func roleAssignments(tenant: TenantName, userID: String) async throws -> [RoleAssignment]
}
