// swift-format-ignore-file
// Written by scripts/generate-admin-api: the SHA-256 of openapi/admin.yaml this code was generated from.
public enum AdminAPIDocument {
    public static let sha256 = "ab367102a17a36661daade71cac5436850e01d8ed153f5eb9b9cc7856b6610f6"
}
