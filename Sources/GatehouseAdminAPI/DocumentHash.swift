// swift-format-ignore-file
// Written by scripts/generate-admin-api: the SHA-256 of openapi/admin.yaml this code was generated from.
public enum AdminAPIDocument {
    public static let sha256 = "5c2b2d83947275422000b9d4c0db1d5e36af9ee5002fb5baed9f149e3ecd3389"
}
