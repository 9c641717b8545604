// swift-format-ignore-file
// Written by scripts/generate-admin-api: the SHA-256 of openapi/admin.yaml this code was generated from.
public enum AdminAPIDocument {
    public static let sha256 = "6ecb909532a894c258cd36a57aac44a60dea535c972f6c93a023c8b0fb8db1e8"
}
