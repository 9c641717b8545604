import Foundation

extension Administration {
    /// Why the administration service refused a change or a query: a field that breaks a rule,
    /// an object that does not exist, or one that conflicts with another. The admin API answers
    /// each with its catalogue entry (400, 404, 409) and the field; the CLI prints `message`,
    /// naming its own option for the field (`gatehouse/Settings.swift`).
    public struct AdministrationError: Error, CustomStringConvertible, Sendable, Equatable {
        public enum Kind: String, Sendable {
            case invalid
            case notFound = "not_found"
            case conflict
        }

        public let kind: Kind
        /// The request field at fault, in the admin API's spelling (`redirect_uris`); nil when the
        /// refusal is about the whole request.
        public let field: String?
        /// A short stable name of the rule (`required`, `format`, `range`, `unknown`, `type`, …).
        public let rule: String
        /// What is wrong, in words an operator reads; names no CLI option and holds no secret.
        public let message: String

        public var description: String { message }

        public init(kind: Kind, field: String?, rule: String, message: String) {
            self.kind = kind
            self.field = field
            self.rule = rule
            self.message = message
        }

        /// A field breaks a rule.
        public static func invalid(_ field: String?, _ rule: String, _ message: String) -> Self {
            Self(kind: .invalid, field: field, rule: rule, message: message)
        }

        /// The object named does not exist (`kind`: tenant, client, API, user, key, …).
        public static func notFound(_ kind: String, _ id: String, tenant: TenantName? = nil) -> Self {
            Self(
                kind: .notFound, field: nil, rule: "exists",
                message: "\(kind) '\(id)' does not exist" + (tenant.map { " in tenant '\($0)'" } ?? ""))
        }

        /// The change collides with what exists (an ID taken, a concurrent change).
        public static func conflict(_ field: String?, _ message: String) -> Self {
            Self(kind: .conflict, field: field, rule: "unique", message: message)
        }

        /// The catalogue entry the admin API answers with.
        public var entry: CatalogueEntry {
            switch kind {
            case .invalid: Catalogue.adminFieldInvalid
            case .notFound: Catalogue.adminObjectNotFound
            case .conflict: Catalogue.adminConflict
            }
        }

        /// The catalogue error (its placeholders filled), with the message as its detail.
        public var catalogueError: CatalogueError {
            var error: CatalogueError
            switch kind {
            case .invalid:
                error = CatalogueError(entry, ["field": field ?? "(request)", "rule": rule, "reason": message], detail: message)
            case .notFound, .conflict: error = CatalogueError(entry, ["reason": message], detail: message)
            }
            if let field { error.fieldErrors = [CatalogueError.FieldError(field: field, rule: rule, message: message)] }
            return error
        }
    }
}
