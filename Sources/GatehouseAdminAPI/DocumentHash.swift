// swift-format-ignore-file
// Written by scripts/generate-admin-api: the SHA-256 of openapi/admin.yaml this code was generated from.
public enum AdminAPIDocument {
    public static let sha256 = "0023240cde6076049ded11f902ddbc7bfddc10b88d1681dbc84ba5242db82e44"
}
