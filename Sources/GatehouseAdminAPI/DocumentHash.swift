// swift-format-ignore-file
// Written by scripts/generate-admin-api: the SHA-256 of openapi/admin.yaml this code was generated from.
public enum AdminAPIDocument {
    public static let sha256 = "8a9f58e95d2359e5f9f5f026a52ad8629c8601b4ac0d9fb57fbfc26b9db33770"
}
