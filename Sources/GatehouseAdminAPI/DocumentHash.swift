// swift-format-ignore-file
// Written by scripts/generate-admin-api: the SHA-256 of openapi/admin.yaml this code was generated from.
public enum AdminAPIDocument {
    public static let sha256 = "1e99f4ab4736344b2773f0cf1e66a59168fc4a810b49cba892d9e4186b1a20b9"
}
