// swift-format-ignore-file
// Written by scripts/generate-admin-api: the SHA-256 of openapi/admin.yaml this code was generated from.
public enum AdminAPIDocument {
    public static let sha256 = "b690d26d19c6e25c0b14bede6a3df94f26c8692904361e3cbcc26b532b75e8b2"
}
